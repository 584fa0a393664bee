"""Scanned and photographed sheets (PDF pages without a text layer, images) → RawSheets,
offline, with every value's evidence: what was read, how sure the recogniser was, where.

Per page: a blank back page is skipped (and said); the form's table is found and the page
registered to it (rotation, skew and perspective undone by the table's outline); the QR
code in the footer gives the form code; each typing cell of the form is read by OCR, line
by line, with a score per line; the grade is read by optical mark reading on the four
printed boxes, with a confidence; signatures are ink (present or not), never text.

This reader decides nothing: it measures. Which readings are certain enough to accept is
decided once, in ``pipeline.scanned``, with the thresholds of kaohe.toml ``[scan]``.
The one surprise: a QR shows through a thin page, mirrored, onto the blank back, and
decoders read it; a QR is trusted only on a page whose table matched the form.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import identity
from ..fields import NUMBER_KEYS
from . import ocr, optics
from .layout import MIN_LABELS, find_fields, is_label
from .optics import Box, Gray
from .raw import RawField, RawProblem, RawSheet, ReadFailure
from .wordml import GridCell

if TYPE_CHECKING:
    import zxingcpp

#: Pages of one file read at most (a unit's stack of sheets, with blank backs).
MAX_PAGES = 80
#: Scans are read at this resolution (PDF pages are rendered at it; photos are registered
#: to the same table width whatever their own resolution).
DPI = 200
#: Largest image accepted, in pixels, checked before decoding (a 60 MP photo is larger
#: than any phone's).
MAX_PIXELS = 60_000_000
#: Crops of lines read with less than this score are kept for the reviewer (the accept
#: threshold itself is a setting, and is never above this).
KEEP_CROP_BELOW = 0.995
#: Width of the table picture kept for the reviewer, in pixels.
PAGE_WIDTH = 760
_GRADE_LINE = re.compile(r"等\s*次")
_SIGN_LINE = re.compile(r"签\s*[字名]")
_DATE_LINE = re.compile(r"^\s*(?:\d{2,4}\s*)?年")
#: On a printed 签字 or date line, characters read below this are handwriting, not text.
SIGNATURE_LINE_FLOOR = 0.9
_GRADES = ("好", "较好", "一般", "差")
#: A space the recogniser reads beside a Chinese character: the word processor's spacing
#: between Chinese and Latin text (typed Chinese has no space there).
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef]) +| +(?=[\u3000-\u9fff\uff00-\uffef])")
NO_TABLE = "找不到记实表的表格（可能不是记实表，或拍得太斜、太暗、不完整）"
_BOXLIKE = frozenset("口□囗☐☑☒■√✓✔回日目冂")


@dataclass
class Page:
    """One page as read: its number, and what was found on it."""

    number: int
    blank: bool = False
    sheet: RawSheet | None = None
    #: Why a page that is neither blank nor a sheet could not be read.
    failure: str = ""


# ---------------------------------------------------------------- the form's grid


@dataclass(frozen=True)
class FormCell:
    """A cell of the blank form: its place on the grid and, for a label, its printed text."""

    row: int
    col: int
    span: int
    label: str
    field: str  # the raw field whose value this cell holds, if a typing cell


@lru_cache(maxsize=1)
def form_cells() -> tuple[FormCell, ...]:
    """The blank form's cells, from the template kaohe ships (one source of the layout):
    labels keep their printed text; typing cells are named by the label that leads to
    them (the same label finder every reader uses)."""
    import zipfile

    from lxml import etree

    from ..paths import shipped_template
    from .wordml import table_grid, w

    with zipfile.ZipFile(shipped_template()) as package:
        root = etree.fromstring(
            package.read("word/document.xml"),
            etree.XMLParser(resolve_entities=False, no_network=True),
        )
    table = root.find(f".//{w('tbl')}")
    assert table is not None
    grid = [c for c in table_grid(table) if not c.continued]

    def printed(text: str) -> str:  # a label as printed: tags stood in for (第一月（10月）)
        return re.sub(r"\{\{[^}]*\}\}", "", re.sub(r"\{\{\s*month\d\s*\}\}", "10", text))

    stripped = [
        GridCell(c.row, c.col, c.span, printed(c.text) if is_label(
            GridCell(c.row, c.col, c.span, printed(c.text))) else "X")
        for c in grid
    ]  # fmt: skip
    found = find_fields(stripped)
    owner = {
        (int(m.group(1)) - 1, int(m.group(2)) - 1): name
        for name, raw in found.fields.items()
        for m in [re.search(r"第(\d+)行第(\d+)列", raw.where)]
        if m and "栏目" not in raw.where
    }
    return tuple(
        FormCell(
            c.row, c.col, c.span, s.text if s.text != "X" else "", owner.get((c.row, c.col), "")
        )
        for c, s in zip(grid, stripped, strict=True)
    )


def _grid_of(boxes: list[Box]) -> dict[tuple[int, int, int], Box]:
    """Cell boxes placed on their table's grid: (row, col, span) → box, as the PDF reader
    places its cells."""
    tolerance = optics.SETTINGS.snap + 2

    def level(values: list[int]) -> list[int]:
        levels: list[int] = []
        for value in sorted(values):
            if not levels or value - levels[-1] > tolerance:
                levels.append(value)
        return levels

    xs = level([b[0] for b in boxes] + [b[2] for b in boxes])
    ys = level([b[1] for b in boxes] + [b[3] for b in boxes])

    def index(levels: list[int], value: int) -> int:
        return min(range(len(levels)), key=lambda i: abs(levels[i] - value))

    placed: dict[tuple[int, int, int], Box] = {}
    for box in boxes:
        col = index(xs, box[0])
        placed[(index(ys, box[1]), col, max(index(xs, box[2]) - col, 1))] = box
    return placed


# ---------------------------------------------------------------- one page


def _qr_codes(gray: Gray) -> list[tuple[str, int, tuple[float, float]]]:
    """Form codes in QR codes on the page: text, orientation (degrees), centre."""
    import zxingcpp

    found = []
    for result in zxingcpp.read_barcodes(gray, formats=_QR_FORMAT()):
        position = result.position
        points = [position.top_left, position.top_right, position.bottom_right,
                  position.bottom_left]  # fmt: skip
        centre = (sum(p.x for p in points) / 4, sum(p.y for p in points) / 4)
        found.append((result.text, int(result.orientation), centre))
    return found


def _QR_FORMAT() -> zxingcpp.BarcodeFormats:
    import zxingcpp

    return zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def _rotated(gray: Gray, degrees: int) -> Gray:
    turns = (degrees // 90) % 4
    rotated: Gray = np.ascontiguousarray(np.rot90(gray, k=turns)) if turns else gray
    return rotated


def _orientations(qr: list[tuple[str, int, tuple[float, float]]]) -> list[int]:
    """Turns (counter-clockwise, degrees) to try, the QR's own first."""
    order = [0, 180, 90, 270]
    if qr:
        # zxing: the symbol is rotated clockwise by this much (any angle): the nearest turn
        first = (round(-qr[0][1] / 90) * 90) % 360
        order.remove(first)
        order.insert(0, first)
    return order


@dataclass
class _Registered:
    image: Gray
    table: optics.Table
    grid: dict[tuple[int, int, int], Box]
    matches_form: bool
    turn: int
    matrix: Any
    #: The page turned upright (the footer's printed code is read from it).
    page: Gray


def _register(gray: Gray, turns: list[int]) -> _Registered | None:
    """The page turned upright and registered to the form's table; the first turn whose
    cells match the form wins, else the first whose table was found at all."""
    form = {(c.row, c.col, c.span) for c in form_cells()}
    fallback: _Registered | None = None
    for turn in turns:
        page = _rotated(gray, turn)
        corners = optics.table_outline(page)
        if corners is None:
            continue
        registered = optics.register(page, corners)
        table = optics.table_cells(registered.image)
        if len(table.cells) < MIN_LABELS:
            continue
        refined = _refine(page, registered, table)
        if refined is not None:
            registered, table = refined
        grid = _grid_of(table.cells)
        result = _Registered(registered.image, table, grid, set(grid) == form, turn,
                             registered.matrix, page)  # fmt: skip
        if result.matches_form:
            return result
        tall = registered.image.shape[0] > registered.image.shape[1] * 0.9
        if fallback is None and tall:
            fallback = result
    return fallback


def _refine(
    page: Gray, registered: optics.Registered, table: optics.Table
) -> tuple[optics.Registered, optics.Table] | None:
    """Register again on the cells' own outer box when the outline found first was larger
    than the table (a photo's page edge against a dark desk is also a big rectangle)."""
    import cv2

    x0 = min(b[0] for b in table.cells)
    y0 = min(b[1] for b in table.cells)
    x1 = max(b[2] for b in table.cells)
    y1 = max(b[3] for b in table.cells)
    height, width = registered.image.shape[:2]
    margin = registered.pad + 0.02 * width
    if x0 <= margin and y0 <= margin and x1 >= width - margin and y1 >= height - margin:
        return None
    inverse = np.linalg.inv(registered.matrix)
    box = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], dtype=np.float64)
    corners = cv2.perspectiveTransform(box, inverse)[0].astype(np.float32)
    again = optics.register(page, corners)
    cells = optics.table_cells(again.image)
    return (again, cells) if len(cells.cells) >= len(table.cells) else None


def read_page(gray: Gray, number: int) -> Page:
    """Read one page image (grey, any orientation)."""
    if optics.is_blank(gray):
        return Page(number, blank=True)
    qr = _qr_codes(gray)
    registered = _register(gray, _orientations(qr))
    if registered is None:
        return Page(number, failure=NO_TABLE)
    sheet = _read_registered(registered, number)
    page_qr = _trusted_qr(qr, registered, gray.shape)
    strip = _footer_strip(registered) if not page_qr and registered.matches_form else None
    if strip is not None:
        page_qr = _footer_qr(strip)
    if page_qr:
        sheet.qr_code = page_qr
        sheet.code_texts.append(RawField(page_qr, f"第{number}页二维码"))
    elif strip is not None:
        printed = _footer_code(strip, number)
        if printed is not None:
            sheet.code_texts.append(printed)
    return Page(number, sheet=sheet)


def _trusted_qr(
    qr: list[tuple[str, int, tuple[float, float]]], registered: _Registered, shape: tuple[int, ...]
) -> str:
    """The QR's form code, trusted only on a page whose table matched the form, and only
    a QR below the table (the footer's: not show-through, not a QR from something else)."""
    if not registered.matches_form:
        return ""
    import cv2

    height, width = shape[:2]
    for text, _, (x, y) in qr:
        if not any(c.valid for c in identity.find_form_codes(text)):
            continue
        # the QR's centre in the rotated page, then in the registered table's pixels
        px, py = _turn_point(x, y, width, height, registered.turn)
        point = cv2.perspectiveTransform(np.array([[[px, py]]], dtype=np.float64),
                                         registered.matrix)[0][0]  # fmt: skip
        table_bottom = registered.image.shape[0] - 12
        if point[1] > table_bottom:
            return text.strip()
    return ""


def _turn_point(x: float, y: float, width: int, height: int, turn: int) -> tuple[float, float]:
    """A point of the page as it is after ``turn`` degrees counter-clockwise (np.rot90)."""
    turns = (turn // 90) % 4
    for _ in range(turns):
        x, y, width, height = y, width - 1 - x, height, width
    return x, y


def _footer_strip(registered: _Registered) -> Gray:
    """The page below the table, warped like the table (rectified): the footer's QR code
    and printed 表码 are there, up to ~0.55 table widths under the table."""
    import cv2

    width = registered.image.shape[1]
    height = registered.image.shape[0] + int(width * 0.55)
    warped = cv2.warpPerspective(
        registered.page, registered.matrix, (width, height), borderValue=255
    )
    strip: Gray = np.asarray(warped, dtype=np.uint8)[registered.image.shape[0] :]
    return strip


def _footer_qr(strip: Gray) -> str:
    """The QR code read again from the rectified footer (a phone photo's perspective or blur
    can hide it on the page as taken)."""
    import cv2
    import zxingcpp

    for image in (strip, cv2.GaussianBlur(strip, (3, 3), 0)):
        for result in zxingcpp.read_barcodes(image, formats=_QR_FORMAT()):
            if any(c.valid for c in identity.find_form_codes(result.text)):
                return str(result.text).strip()
    return ""


def _footer_code(strip: Gray, number: int) -> RawField | None:
    """The footer's printed 表码 read by OCR (when no QR could be read): the strip of the
    page below the table, warped like the table."""
    ink = optics.ink_of(strip)
    lines = optics.text_lines(ink, (0, 0, strip.shape[1], strip.shape[0]))
    if not lines:
        return None
    readings = ocr.recognize([optics.crop(strip, p.box) for p in lines])
    for line in sorted({p.line for p in lines}):
        text = "".join(r.text for p, r in zip(lines, readings, strict=True) if p.line == line)
        if "KH" in text.upper().replace(" ", ""):
            score = min(r.score for p, r in zip(lines, readings, strict=True) if p.line == line)
            return RawField(text, f"第{number}页页脚表码文字（OCR 把握 {score:.0%}）")
    return None


# ---------------------------------------------------------------- reading the cells


@dataclass
class _CellReading:
    text: str
    lines: list[tuple[str, float]]
    pieces: list[tuple[optics.Piece, ocr.Reading]] = field(default_factory=list)


def _read_registered(registered: _Registered, number: int) -> RawSheet:
    image, ink = registered.image, registered.table.text_ink
    form = {(c.row, c.col, c.span): c for c in form_cells()}
    cells: list[GridCell] = []
    to_read: list[tuple[tuple[int, int, int], Box, str]] = []
    for key, box in sorted(registered.grid.items()):
        known = form.get(key) if registered.matches_form else None
        if known is not None and known.label:
            cells.append(GridCell(key[0], key[1], key[2], known.label))
            continue
        to_read.append((key, box, known.field if known is not None else ""))
    # every line piece of every cell, recognised in one batch
    jobs: list[tuple[int, optics.Piece]] = []
    for index, (_, box, _field_name) in enumerate(to_read):
        for piece in optics.text_lines(ink, box):
            jobs.append((index, piece))
    crops = [optics.crop(image, piece.box) for _, piece in jobs]
    numbers = [to_read[i][2] in NUMBER_KEYS for i, _ in jobs]
    readings = ocr.recognize(crops, numbers) if crops else []
    by_cell: dict[int, list[tuple[optics.Piece, ocr.Reading]]] = {}
    for (index, piece), reading in zip(jobs, readings, strict=True):
        by_cell.setdefault(index, []).append((piece, reading))
    results: dict[tuple[int, int, int], _CellReading] = {}
    for index, (key, box, _) in enumerate(to_read):
        cell_reading = _cell_text(by_cell.get(index, []), box)
        results[key] = cell_reading
        cells.append(GridCell(key[0], key[1], key[2], cell_reading.text))
    cells.sort(key=lambda c: (c.row, c.col))
    table = f"第{number}页表格"
    fields, labels, problems = find_fields(cells, table)
    sheet = RawSheet(format="scan", fields=fields, labels_found=labels, problems=problems)
    sheet.page = number
    sheet.form_matched = registered.matches_form
    where = {raw.where: name for name, raw in fields.items()}
    for key, read in results.items():
        name = where.get(f"{table}第{key[0] + 1}行第{key[1] + 1}列")
        if name is None:
            continue
        sheet.lines[name] = read.lines
        box = registered.grid[key]
        if name == "leader_opinion":
            _leader_marks(sheet, read, box, image, ink)
        elif name == "self_evaluation":
            sheet.marks["self_signature"] = _signature_ink(read, box, ink)
        if read.lines and min(s for _, s in read.lines) < KEEP_CROP_BELOW:
            sheet.images[name] = _jpeg(optics.crop(image, optics.inside(box)))
    # the table as seen, for the reviewer (~40 KB): kept for every scanned sheet, since
    # which readings go to review is decided later, with kaohe.toml's thresholds
    sheet.images["page"] = _jpeg(image, width=PAGE_WIDTH)
    return sheet


def _cell_text(pieces: list[tuple[optics.Piece, ocr.Reading]], box: Box) -> _CellReading:
    """A cell's text from its recognised pieces: pieces of a line joined with a space, a
    line running to the cell's right edge joined to the next (a wrap, as in the PDF
    reader), printed lines (签字, 等次, a date) always on a line of their own."""
    from .pdf import PRINTED_LINE

    lines: dict[int, list[tuple[optics.Piece, ocr.Reading]]] = {}
    for piece, reading in pieces:
        if reading.text.strip():
            lines.setdefault(piece.line, []).append((piece, reading))
    for number, parts in lines.items():
        first = min(parts, key=lambda p: p[0].box[0])[1].text
        if _SIGN_LINE.match(first) or _DATE_LINE.match(first):
            # a printed 签字/date line: the handwriting on it is a signature (ink, measured
            # apart), not text; what stays is what was read surely (printed words, a date)
            lines[number] = [(p, ocr.confident_part(r, SIGNATURE_LINE_FLOOR)) for p, r in parts]
    text = ""
    scored: list[tuple[str, float]] = []
    previous_end = 0
    previous_height = 0
    for index, number in enumerate(sorted(lines)):
        parts = sorted(lines[number], key=lambda p: p[0].box[0])
        content = " ".join(_CJK_SPACE.sub("", r.text.strip()) for _, r in parts)
        score = min(r.score for _, r in parts)
        if index:
            wrapped = previous_end >= box[2] - 2.5 * previous_height
            text += "" if wrapped and not PRINTED_LINE.match(content) else "\n"
        text += content
        scored.append((content, round(score, 4)))
        previous_end = max(p.box[2] for p, _ in parts)
        previous_height = max(p.box[3] - p.box[1] for p, _ in parts)
    return _CellReading(text, scored, [(p, r) for p, r in pieces if r.text.strip()])


def _leader_marks(sheet: RawSheet, reading: _CellReading, box: Box, image: Gray, ink: Gray) -> None:
    """The grade boxes on the printed 等次 line, by ink the blank form does not have, and
    the leader's signature below them."""
    grade_line = [(piece, r) for piece, r in reading.pieces if _GRADE_LINE.search(r.text)]
    if not grade_line:
        sheet.marks["grade"] = ["", 0.0, "等次一行没有读到"]
        return
    piece, line_reading = grade_line[0]
    sheet.marks["grade"] = _grade_marks(piece, line_reading, ink)
    x0, y0, x1, y1 = piece.box
    height = y1 - y0
    sheet.images["grade"] = _jpeg(
        optics.crop(
            image, (x0, max(y0 - height, box[1]), min(x1 + height, box[2]), y1 + height // 2)
        )
    )
    below = [(p, r) for p, r in reading.pieces if p.box[1] > y1 - 2]
    sheet.marks["leader_signature"] = _signature_ink(_CellReading("", [], below), box, ink)


def _grade_marks(piece: optics.Piece, reading: ocr.Reading, ink: Gray) -> list[object]:
    """[best grade, confidence 0–1, how it was decided] from the four boxes' ink.

    Each box lies between the grade word it precedes and the character before it (a box
    the recogniser read as 口 or dropped altogether). All four boxes print the same
    outline, so the least-inked box is the blank baseline; a mark is ink well above it."""
    text = reading.text
    start = _GRADE_LINE.search(text)
    assert start is not None
    positions: list[int] = []
    cursor = start.end()
    for word in _GRADES:
        found = text.find(word, cursor)
        if word == "好" and found >= 0 and text[found - 1 : found] == "较":
            found = -1
        if found < 0:
            return ["", 0.0, f"等次一行读成“{text}”，找不到“{word}”"]
        positions.append(found)
        cursor = found + len(word)
    x0, y0, _x1, y1 = piece.box
    centres = [(a + b) / 2 for a, b in reading.spans]
    # the recogniser marks each character near its centre: the em is the step between the
    # two characters of 较好 and of 一般
    em = float(np.median([centres[positions[1] + 1] - centres[positions[1]],
                          centres[positions[2] + 1] - centres[positions[2]]]))  # fmt: skip
    words = [x0 + centres[p] for p in positions]
    outlines = _box_outlines(ink, piece.box, em)
    # each grade's box is the last outline left of its word (and right of the word before)
    boxes: list[Box | None] = []
    for index, word_x in enumerate(words):
        floor = words[index - 1] if index else -1.0
        candidates = [b for b in outlines if floor < (b[0] + b[2]) / 2 < word_x]
        boxes.append(candidates[-1] if candidates else None)
    outlined = [b for b in boxes if b is not None]
    if outlined:
        side = float(np.median([max(b[2] - b[0], b[3] - b[1]) for b in outlined]))
        level = float(np.median([(b[1] + b[3]) / 2 for b in outlined]))
        offset = float(np.median([w - (b[0] + b[2]) / 2 for b, w in zip(boxes, words, strict=True)
                                  if b is not None]))  # fmt: skip
    else:
        side, level, offset = 0.84 * em, (y0 + y1) / 2, em
    placed: list[Box] = []
    for glyph, word_x in zip(boxes, words, strict=True):
        # a box joined to a pen stroke has no clean outline: it sits where the others do
        centre = (glyph[0] + glyph[2]) / 2 if glyph is not None else word_x - offset
        half = side / 2
        placed.append(
            (int(centre - half), int(level - half), int(centre + half), int(level + half))
        )
    decision = _grade_decision([_mark_ink(ink, square, side) for square in placed])
    if len(outlined) < 3 and decision[0]:
        # fewer than three clean outlines: the places are guessed, not seen
        decision[1] = round(float(str(decision[1])) * 0.5, 4)
        decision[2] = f"{decision[2]}；只找到 {len(outlined)} 个完整方框"
    return decision


def _box_outlines(ink: Gray, line: Box, em: float) -> list[Box]:
    """The printed □ glyphs on a line: squares about an em wide whose four edges are all
    inked (a character's box-like part, 口 in 舟, lacks a full edge), left to right."""
    import cv2

    x0, y0, x1, y1 = line
    region = ink[y0:y1, x0:x1]
    if not region.size:
        return []
    found: list[Box] = []
    # as printed, and with small breaks closed (a faint scan); closing may also join a box
    # to the word beside it, so both are looked at
    closed = cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    for image in (region, closed):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(image)
        for index in range(1, count):
            x, y, w, h, _ = (int(v) for v in stats[index])
            if not (0.55 * em <= w <= 1.1 * em and 0.55 * em <= h <= 1.1 * em):
                continue
            if abs(w - h) > 0.18 * max(w, h):
                continue
            mask = labels[y : y + h, x : x + w] == index
            band = max(round(0.18 * h), 2)
            edges = (mask[:band].any(axis=0), mask[-band:].any(axis=0),
                     mask[:, :band].any(axis=1), mask[:, -band:].any(axis=1))  # fmt: skip
            box = (x0 + x, y0 + y, x0 + x + w, y0 + y + h)
            overlapping = any(abs(box[0] - b[0]) < w / 2 and abs(box[1] - b[1]) < h / 2
                              for b in found)  # fmt: skip
            if not overlapping and all(float(edge.mean()) >= 0.85 for edge in edges):
                found.append(box)
    return sorted(found)


def _mark_ink(ink: Gray, box: Box, side: float) -> float:
    """Ink a blank box does not have, as a share of the box: inside its outline, and in the
    band just above it where a pen tick rises (the form leaves that band empty)."""
    em = side / 0.84
    x0, y0, x1, y1 = box
    cut_x, cut_y = max(int((x1 - x0) * 0.2), 2), max(int((y1 - y0) * 0.2), 2)
    inner = optics.ink_count(ink, (x0 + cut_x, y0 + cut_y, x1 - cut_x, y1 - cut_y))
    above = optics.ink_count(ink, (x0 - int(0.2 * em), int(y0 - 0.75 * em), x1 + int(0.3 * em),
                                   y0 - 2))  # fmt: skip
    area = max((x1 - x0) * (y1 - y0), 1)
    return (inner + above) / area


#: A box with this share of extra ink is marked; a box below ``_FAINT`` is blank.
_MARKED = 0.10
_FAINT = 0.035


def _grade_decision(scores: list[float]) -> list[object]:
    """[grade, confidence, how] from the four boxes' extra ink. Confidence is 1 for one box
    clearly marked and the others clearly blank, falling as the marked box gets fainter or
    a second box gets inked."""
    order = sorted(range(4), key=lambda i: scores[i], reverse=True)
    best, second = scores[order[0]], scores[order[1]]
    shown = "，".join(f"{g} {v:.2f}" for g, v in zip(_GRADES, scores, strict=True))
    if best < _FAINT:
        return ["", 0.0, f"四个方框都没有勾选（{shown}）"]
    if second >= _MARKED:
        marked = "、".join(_GRADES[i] for i in order[:2])
        return ["", 0.0, f"不止一个方框有笔迹（{marked}；{shown}）"]
    strength = min(best / _MARKED, 1.0)
    clean = 1.0 - min(second / _MARKED, 1.0)
    return [_GRADES[order[0]], round(strength * clean, 4), f"方框勾选（{shown}）"]


def _signature_ink(reading: _CellReading, box: Box, ink: Gray) -> float:
    """Ink share after the printed 签字： on its line, up to the date (or the cell's edge):
    a signature is there or not; it is never read as text."""
    for piece, line_reading in reading.pieces:
        match = _SIGN_LINE.search(line_reading.text)
        if not match:
            continue
        colon = line_reading.text.find("：", match.end() - 1)
        end_char = colon if colon >= 0 else match.end() - 1
        centres = [(a + b) / 2 for a, b in line_reading.spans]
        height = piece.box[3] - piece.box[1]
        em = 0.75 * height  # a glyph's width, in the padded piece's pixels
        left = piece.box[0] + (centres[end_char] + 0.5 * em if end_char < len(centres) else 0)
        date = re.search(r"\d|年", line_reading.text[end_char + 1 :])
        right: float = box[2] - 6
        same_line = [
            p for p, r in reading.pieces if p.line == piece.line and p.box[0] > piece.box[2]
        ]
        if date is not None and date.start() > 0:
            right = piece.box[0] + centres[end_char + 1 + date.start()] - 0.5 * em
        elif date is not None:
            right = int(left + 0.3 * height)  # the date follows at once: nothing signed
        elif same_line:
            right = min(right, same_line[0].box[0] - 2)
        region = (int(left), int(piece.box[1] - 0.5 * height), int(right),
                  int(piece.box[3] + 0.3 * height))  # fmt: skip
        area = max((region[2] - region[0]) * (region[3] - region[1]), 1)
        return round(optics.ink_count(ink, region) / area, 4)
    return 0.0


def _jpeg(image: Gray, width: int = 0) -> str:
    """A crop for the reviewer: grey JPEG, base64 (kept in the reading, shown in review)."""
    from PIL import Image

    picture = Image.fromarray(image)
    if width and picture.width > width:
        picture = picture.resize((width, int(picture.height * width / picture.width)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=55, optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


# ---------------------------------------------------------------- files


def read_pages(pages: Iterator[Gray]) -> list[RawSheet]:
    """Read a stack of page images: one sheet per page that holds one; blank backs are
    skipped and said on the sheet before them; a page that is neither is its own sheet
    with the reason (so every page has an outcome)."""
    sheets: list[RawSheet] = []
    blanks: list[int] = []
    unreadable: list[Page] = []
    for number, gray in enumerate(pages, start=1):
        page = read_page(gray, number)
        if page.blank:
            blanks.append(number)
        elif page.sheet is not None:
            sheets.append(page.sheet)
        else:
            unreadable.append(page)
    if not sheets:
        if unreadable:
            raise ReadFailure("SCANNED_NEEDS_REVIEW", unreadable[0].failure + "，已列入待人工核对")
        raise ReadFailure("SCANNED_NEEDS_REVIEW", "文件中都是空白页，没有记实表")
    for page in unreadable:
        failed = RawSheet(format="scan", labels_found=0)
        failed.page = page.number
        failed.problems.append(
            RawProblem("SCANNED_NEEDS_REVIEW", "", f"第{page.number}页：{page.failure}")
        )
        sheets.append(failed)
    sheets.sort(key=lambda s: s.page)
    if blanks:
        shown = "、".join(str(n) for n in blanks)
        sheets[0].problems.append(
            RawProblem("BLANK_PAGE_SKIPPED", "", f"第{shown}页是空白页（背面），已跳过")
        )
    for sheet in sheets:
        sheet.sheets_in_file = len(sheets)
    return sheets


def pdf_page_images(data: bytes, dpi: int = DPI) -> Iterator[Gray]:
    """The pages of a PDF rendered grey at ``dpi``, one at a time."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for index in range(min(len(document), MAX_PAGES)):
            page = document[index]
            scale = dpi / 72
            width, height = page.get_width() * scale, page.get_height() * scale
            if width * height > MAX_PIXELS:
                scale *= (MAX_PIXELS / (width * height)) ** 0.5
            bitmap = page.render(scale=scale, grayscale=True)
            yield np.ascontiguousarray(
                bitmap.to_numpy()[:, :, 0] if bitmap.to_numpy().ndim == 3 else bitmap.to_numpy()
            )
            page.close()
    finally:
        document.close()


def image_pages(data: bytes) -> Iterator[Gray]:
    """The frames of an image file (a multi-page TIFF is a stack), upright by its EXIF
    orientation, grey; the pixel count is checked before anything is decoded."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    try:
        picture = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError) as exc:
        raise ReadFailure("UNREADABLE_FILE", "图片已损坏，或不是能识别的图片格式") from exc
    width, height = picture.size
    if width * height > MAX_PIXELS:
        raise ReadFailure(
            "UNREADABLE_FILE",
            f"图片 {width}×{height} 像素，超过上限（{MAX_PIXELS // 1_000_000} 百万像素），"
            "请缩小后重交",
        )
    for number, frame in enumerate(ImageSequence.Iterator(picture)):
        if number >= MAX_PAGES:
            break
        try:
            upright = ImageOps.exif_transpose(frame.copy())
            yield np.asarray(upright.convert("L"))
        except (OSError, ValueError) as exc:
            raise ReadFailure("UNREADABLE_FILE", "图片数据不完整或已损坏") from exc


def read_scanned_pdf(data: bytes) -> list[RawSheet]:
    return read_pages(pdf_page_images(data))


def read_image(data: bytes) -> list[RawSheet]:
    return read_pages(image_pages(data))
