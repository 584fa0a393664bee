"""What a scanned or photographed page shows, as geometry: the sheet's table, its cells,
the text lines inside a cell, and ink where a mark or a signature may be.

Pure functions on grey images (numpy arrays, ink dark on light), no OCR and no meaning.
The one surprise: thin 0.5-pt rules break up on slightly rotated or blurred pages, so ink
is dilated before the rules are looked for, and the page is registered by the table's own
outline (a perspective warp), which straightens rotation, skew and a phone's perspective
in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .rulings import find_tables

Gray = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels of the registered table


@dataclass(frozen=True)
class OpticsSettings:
    """Thresholds of the page geometry (pixels are of the registered table image)."""

    #: The registered table is warped to this width: 16.6 cm → ~200 dpi.
    table_width: int = 1320
    #: A table must cover this share of the page to be the sheet's (not a stray box).
    min_table_share: float = 0.18
    #: Ink share of a page below which it is a blank (back) page.
    blank_ink_share: float = 0.002
    #: Tolerance when joining ruling segments into cells (pixels).
    snap: int = 7
    #: Cell borders are cut off by this many pixels before reading the inside.
    inset: int = 5
    #: A gap wider than this many line heights splits a text line into pieces.
    split_gap: float = 1.1
    #: Connected ink smaller than this many pixels is noise, not writing.
    speck: int = 6


SETTINGS = OpticsSettings()


def _cv() -> Any:
    import cv2

    return cv2


def ink_of(gray: Gray) -> Gray:
    """Ink as 255 on 0: a local threshold, so shading, a phone's uneven light and the
    grey label fill do not count as ink."""
    cv2 = _cv()
    result: Gray = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    )
    return result


def is_blank(gray: Gray, settings: OpticsSettings = SETTINGS) -> bool:
    """A page with almost no ink (the blank back of a single-sided sheet)."""
    cv2 = _cv()
    # half size keeps a pen stroke; the median takes scanner specks; the local threshold
    # with a margin leaves the faint mirrored show-through of the front side
    small = cv2.resize(gray, (gray.shape[1] // 2 or 1, gray.shape[0] // 2 or 1),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    small = cv2.medianBlur(small, 3)
    ink = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 25
    )
    return bool(float(np.count_nonzero(ink)) / ink.size < settings.blank_ink_share)


def _rules(ink: Gray, across: int, down: int) -> tuple[Gray, Gray]:
    """Horizontal and vertical ruling lines: ink runs at least ``across`` / ``down`` pixels
    long (longer than any stroke of a character: 一 is a horizontal run a glyph wide)."""
    cv2 = _cv()
    horizontal = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (across, 1))
    )
    vertical = cv2.morphologyEx(
        ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, down))
    )
    return horizontal, vertical


def table_outline(
    gray: Gray, settings: OpticsSettings = SETTINGS
) -> npt.NDArray[np.float32] | None:
    """The four corners of the page's largest ruled table (tl, tr, br, bl), or None.

    Looked for on a copy ~1000 px tall (the outline needs no more), with the rules dilated
    so a slightly rotated 0.5-pt line stays one line."""
    cv2 = _cv()
    factor = min(1.0, 1000 / max(gray.shape))
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    ink = cv2.dilate(ink_of(small), np.ones((3, 3), np.uint8))
    side = max(small.shape[1] // 30, 12)
    horizontal, vertical = _rules(ink, side, side)
    mask = cv2.dilate(horizontal | vertical, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(largest)
    if cv2.contourArea(hull) < settings.min_table_share * small.size:
        return None
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) == 4:
            corners = _ordered(approx.reshape(-1, 2).astype(np.float32))
            scaled: npt.NDArray[np.float32] = (corners / factor).astype(np.float32)
            return scaled
    # no clean quadrilateral (a torn corner, a thumb over it): the rotated bounding box
    box = cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)
    rotated: npt.NDArray[np.float32] = (_ordered(box) / factor).astype(np.float32)
    return rotated


def _ordered(points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    total = points.sum(axis=1)
    diff = np.diff(points, axis=1).ravel()
    return np.array(
        [points[np.argmin(total)], points[np.argmin(diff)], points[np.argmax(total)],
         points[np.argmax(diff)]],
        dtype=np.float32,
    )  # fmt: skip


@dataclass(frozen=True)
class Registered:
    """The table warped upright to a fixed width, and how to map page points onto it."""

    image: Gray
    matrix: npt.NDArray[np.float64]
    pad: int


def register(
    gray: Gray, corners: npt.NDArray[np.float32], settings: OpticsSettings = SETTINGS
) -> Registered:
    """Warp the table (and a margin around it) to ``table_width``: the table's own outline
    undoes rotation, skew and a phone's perspective."""
    cv2 = _cv()
    tl, tr, br, bl = corners
    top, bottom = float(np.linalg.norm(tr - tl)), float(np.linalg.norm(br - bl))
    left, right = float(np.linalg.norm(bl - tl)), float(np.linalg.norm(br - tr))
    width = settings.table_width
    height = round(width * (left + right) / max(top + bottom, 1.0))
    pad = 12
    target = np.array(
        [[pad, pad], [width + pad, pad], [width + pad, height + pad], [pad, height + pad]],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(corners, target)
    image = cv2.warpPerspective(
        gray, matrix, (width + 2 * pad, height + 2 * pad),
        flags=cv2.INTER_AREA if top > width * 1.3 else cv2.INTER_LINEAR, borderValue=255,
    )  # fmt: skip
    return Registered(image, matrix, pad)


@dataclass(frozen=True)
class Table:
    """A registered table: its cells (boxes) and its ink with the ruling lines taken out."""

    cells: list[Box]
    text_ink: Gray


def table_cells(image: Gray, settings: OpticsSettings = SETTINGS) -> Table:
    """Cells of the registered table, by pdfplumber's table-finding steps (``rulings``) over
    the ruling segments seen in the image (the same steps the PDF reader uses on vector
    lines)."""
    cv2 = _cv()
    ink, horizontal, vertical = ruling_masks(image)
    snap = settings.snap
    found = find_tables(ruling_edges(horizontal, vertical), snap, snap, snap)
    largest = max(found, key=len) if found else []
    boxes = sorted(
        {(int(c[0]), int(c[1]), int(c[2]), int(c[3])) for c in largest},
        key=lambda b: (b[1], b[0]),
    )
    rules = cv2.dilate(horizontal | vertical, np.ones((5, 5), np.uint8))
    text_ink = cv2.bitwise_and(ink, cv2.bitwise_not(rules))
    return Table(boxes, _despeckle(text_ink, settings.speck))


def ruling_masks(image: Gray) -> tuple[Gray, Gray, Gray]:
    """The image's ink, and its horizontal and vertical ruling lines."""
    cv2 = _cv()
    ink = ink_of(image)
    dilated = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    # the shortest rules of the form: a cell's width across (>= 1.3 cm), an attendance
    # row down (0.8 cm); a character is at most ~0.4 cm either way
    width = image.shape[1]
    horizontal, vertical = _rules(dilated, max(width // 17, 20), max(width // 24, 16))
    return ink, horizontal, vertical


def ruling_edges(horizontal: Gray, vertical: Gray) -> list[dict[str, Any]]:
    """The ruling segments of the two masks, as pdfplumber-shaped edges (pixels)."""
    cv2 = _cv()
    edges: list[dict[str, Any]] = []
    for mask, orientation in ((horizontal, "h"), (vertical, "v")):
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        for index in range(1, count):
            x, y, w, h, _ = (int(v) for v in stats[index])
            if orientation == "h":
                middle = y + h / 2
                edges.append({"x0": float(x), "x1": float(x + w), "top": middle,
                              "bottom": middle, "width": float(w), "height": 0.0,
                              "orientation": "h", "object_type": "line"})  # fmt: skip
            else:
                middle = x + w / 2
                edges.append({"x0": middle, "x1": middle, "top": float(y),
                              "bottom": float(y + h), "width": 0.0, "height": float(h),
                              "orientation": "v", "object_type": "line"})  # fmt: skip
    return edges


def _despeckle(ink: Gray, smallest: int) -> Gray:
    """Ink without isolated specks (scanner noise, JPEG blocks)."""
    cv2 = _cv()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(count, dtype=np.uint8)
    keep[1:] = (stats[1:, cv2.CC_STAT_AREA] >= smallest).astype(np.uint8) * 255
    result: Gray = keep[labels]
    return result


def inside(box: Box, settings: OpticsSettings = SETTINGS) -> Box:
    x0, y0, x1, y1 = box
    cut = settings.inset
    return (x0 + cut, y0 + cut, max(x1 - cut, x0 + cut + 1), max(y1 - cut, y0 + cut + 1))


def ink_count(ink: Gray, box: Box) -> int:
    x0, y0, x1, y1 = box
    return int(np.count_nonzero(ink[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]))


@dataclass(frozen=True)
class Piece:
    """A piece of a text line inside a cell: its box (table pixels) and its line number."""

    box: Box
    line: int


def text_lines(ink: Gray, cell: Box, settings: OpticsSettings = SETTINGS) -> list[Piece]:
    """The text lines of a cell, top to bottom, each cut into pieces at wide gaps (a printed
    “年　　月　　日”, a signature apart from its date): rows of ink found by projection,
    which typed text on a registered page keeps straight."""
    x0, y0, x1, y1 = inside(cell, settings)
    region = ink[y0:y1, x0:x1]
    if region.size == 0:
        return []
    rows = np.count_nonzero(region, axis=1)
    lines: list[tuple[int, int]] = []
    start = None
    for index, value in enumerate(np.append(rows, 0)):
        if value > 0 and start is None:
            start = index
        elif value == 0 and start is not None:
            lines.append((start, index))
            start = None
    lines = _merge_close(lines)
    pieces: list[Piece] = []
    for number, (top, bottom) in enumerate(lines):
        height = bottom - top
        if height < 6:
            continue  # a dot or a stray stroke, not a line of text
        band = region[top:bottom]
        columns = np.count_nonzero(band, axis=0)
        filled = np.flatnonzero(columns)
        gap = max(int(settings.split_gap * height), 8)
        begin = previous = int(filled[0])
        for column in filled[1:]:
            column = int(column)
            if column - previous > gap:
                pieces.append(Piece(_pad((x0 + begin, y0 + top, x0 + previous + 1,
                                          y0 + bottom), cell), number))  # fmt: skip
                begin = column
            previous = column
        pieces.append(Piece(_pad((x0 + begin, y0 + top, x0 + previous + 1, y0 + bottom), cell),
                            number))  # fmt: skip
    return pieces


def _merge_close(lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rows of ink closer than a fifth of a line belong to one line (the dot of a “：”,
    a character's separate top stroke)."""
    merged: list[tuple[int, int]] = []
    for top, bottom in lines:
        if merged:
            last_top, last_bottom = merged[-1]
            height = max(last_bottom - last_top, bottom - top)
            if top - last_bottom <= max(2, height // 5) or bottom - top < height // 4:
                merged[-1] = (last_top, bottom)
                continue
        merged.append((top, bottom))
    return merged


def _pad(box: Box, cell: Box) -> Box:
    """A text piece with a margin of a third of its height (the recogniser wants some white
    around the glyphs), kept inside the cell."""
    x0, y0, x1, y1 = box
    margin = max((y1 - y0) // 3, 4)
    return (max(x0 - margin, cell[0] + 2), max(y0 - margin, cell[1] + 2),
            min(x1 + margin, cell[2] - 2), min(y1 + margin, cell[3] - 2))  # fmt: skip


def crop(image: Gray, box: Box) -> Gray:
    x0, y0, x1, y1 = box
    return image[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
