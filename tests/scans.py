"""Scans made the way a bureau makes them: the filled Word file printed (LibreOffice → PDF),
ticked and signed by pen on paper, then scanned or photographed — a flatbed at 150–300 dpi,
a little rotation and skew, noise and JPEG, or a phone at an angle under uneven light.

The pen goes where the printed page has its boxes and signature lines: their places are
taken from the PDF's own text layer (pdfium), as a person's eye finds them on paper.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

GRADES = ("好", "较好", "一般", "差")
PEN = 40  # a blue-black ballpoint, in grey


@dataclass(frozen=True)
class Printed:
    """One printed page: its pixels at ``dpi`` and where its pen targets are (pixels)."""

    image: Image.Image
    dpi: int
    boxes: dict[str, tuple[float, float, float, float]]  # grade → the □ glyph's box
    self_sign: tuple[float, float] | None  # the point right after 签字： (self-evaluation)
    leader_sign: tuple[float, float] | None  # the same below the grade boxes


def print_pdf(pdf: bytes, dpi: int = 200) -> list[Printed]:
    """Each page of a PDF as printed paper, with where the boxes and 签字 lines are."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    document = pdfium.PdfDocument(pdf)
    pages: list[Printed] = []
    for index in range(len(document)):
        page = document[index]
        scale = dpi / 72
        height = page.get_height()
        textpage = page.get_textpage()
        chars = []
        for i in range(textpage.count_chars()):
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            left, bottom, right, top = textpage.get_charbox(i, loose=False)
            chars.append((chr(code), left * scale, (height - top) * scale,
                          right * scale, (height - bottom) * scale))  # fmt: skip
        text = "".join(c[0] for c in chars)
        boxes: dict[str, tuple[float, float, float, float]] = {}
        line = text.find("等次")
        if line >= 0:
            for grade in GRADES:
                at = text.find(grade, line + (1 if grade == "好" else 0))
                if grade == "好":
                    at = text.find("好", line)
                while at > 0 and text[at - 1] == "较" and grade == "好":
                    at = text.find("好", at + 1)
                box = at - 1
                while box > 0 and text[box] in " \u3000":
                    box -= 1
                boxes[grade] = chars[box][1:]
        signs = [i for i in range(len(text)) if text.startswith("签字", i)]

        def after(
            i: int, text: str = text, chars: list[tuple[str, float, float, float, float]] = chars
        ) -> tuple[float, float]:
            colon = text.find("：", i)
            c = chars[colon]
            return (c[3] + 4, (c[2] + c[4]) / 2)

        image = page.render(scale=scale, grayscale=True).to_pil().convert("L")
        pages.append(Printed(image, dpi, boxes,
                             after(signs[0]) if signs else None,
                             after(signs[1]) if len(signs) > 1 else None))  # fmt: skip
        page.close()
    document.close()
    return pages


@dataclass
class Pen:
    """What is done by hand on the printed page."""

    tick: str = ""  # the grade ticked
    cross: bool = False  # an ✗ instead of a √
    also_tick: str = ""  # a second box ticked (a leader who changed their mind)
    self_signature: bool = True
    leader_signature: bool = True
    seed: int = 0
    strokes: list[str] = field(default_factory=list)


def _stroke(pixels: np.ndarray, points: list[tuple[float, float]], width: int) -> None:
    import cv2

    curve = np.array([[int(x), int(y)] for x, y in points], dtype=np.int32)
    cv2.polylines(pixels, [curve], False, PEN, thickness=width, lineType=cv2.LINE_AA)


def write_by_hand(printed: Printed, pen: Pen) -> Image.Image:
    """The page after the pen: a tick (or cross) on a grade box, signatures as squiggles."""
    rng = random.Random(pen.seed)
    pixels = np.array(printed.image)
    mm = printed.dpi / 25.4
    width = max(int(0.4 * mm), 2)
    for grade in (pen.tick, pen.also_tick):
        if not grade:
            continue
        x0, y0, x1, y1 = printed.boxes[grade]
        size = x1 - x0
        jitter = [rng.uniform(-0.12, 0.12) * size for _ in range(6)]
        if pen.cross:
            _stroke(
                pixels, [(x0 + jitter[0], y0 + jitter[1]), (x1 + jitter[2], y1 + jitter[3])], width
            )
            _stroke(pixels, [(x1 + jitter[4], y0), (x0, y1 + jitter[5])], width)
        else:
            _stroke(pixels, [(x0 + 0.1 * size + jitter[0], y0 + 0.5 * size + jitter[1]),
                             (x0 + 0.42 * size + jitter[2], y1 - 0.05 * size + jitter[3]),
                             (x1 + 0.45 * size + jitter[4], y0 - 0.55 * size + jitter[5])], width)  # fmt: skip
    for where, wanted in ((printed.self_sign, pen.self_signature),
                          (printed.leader_sign, pen.leader_signature)):  # fmt: skip
        if where is None or not wanted:
            continue
        x, y = where
        length = 16 * mm
        points = [(x + 2 * mm + t * length,
                   y + 2.2 * mm * math.sin(t * rng.uniform(9, 14) + rng.uniform(0, 3)) - 0.5 * mm)
                  for t in np.linspace(0, 1, 40)]  # fmt: skip
        _stroke(pixels, points, max(width - 1, 2))
    return Image.fromarray(pixels)


@dataclass(frozen=True)
class Scanner:
    """How the paper becomes pixels."""

    rotate: float = 0.0  # degrees; 90/180/270 for a page fed sideways or upside down
    noise: float = 0.0  # grey-level standard deviation
    jpeg: int = 0  # JPEG quality, 0 for none
    blur: float = 0.0
    perspective: float = 0.0  # share of the page a corner may move (a phone)
    light: float = 0.0  # uneven light across the page (a phone), 0–1
    desk: bool = False  # the page photographed on a desk (a margin of darker background)
    seed: int = 0


def scan(page: Image.Image, scanner: Scanner) -> Image.Image:
    import cv2

    rng = np.random.default_rng(scanner.seed)
    image = page
    if scanner.desk:
        w, h = image.size
        canvas = Image.new("L", (int(w * 1.2), int(h * 1.15)), 95)
        canvas.paste(image, (int(w * 0.1), int(h * 0.07)))
        image = canvas
    if scanner.perspective:
        pixels = np.array(image)
        h, w = pixels.shape
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        move = scanner.perspective * min(w, h)
        dst = src + rng.uniform(-move, move, size=(4, 2)).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst)
        pixels = cv2.warpPerspective(pixels, matrix, (w, h), borderValue=90)
        image = Image.fromarray(pixels)
    if scanner.rotate:
        image = image.rotate(scanner.rotate, expand=True, fillcolor=250, resample=Image.BICUBIC)
    if scanner.blur:
        image = image.filter(ImageFilter.GaussianBlur(scanner.blur))
    pixels = np.array(image).astype(np.float32)
    if scanner.light:
        h, w = pixels.shape
        ramp = np.linspace(1.0, 1.0 - scanner.light, w)[None, :] * np.linspace(1.0, 0.9, h)[:, None]
        pixels *= ramp
    if scanner.noise:
        pixels += rng.normal(0, scanner.noise, pixels.shape)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if scanner.jpeg:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=scanner.jpeg)
        image = Image.open(io.BytesIO(out.getvalue())).convert("L")
    return image


def to_bytes(image: Image.Image, kind: str = "PNG", **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def scanned_pdf(images: list[Image.Image], dpi: int = 200) -> bytes:
    """A stack of scanned pages as one PDF of images (what a scanner's “scan to PDF” makes)."""
    out = io.BytesIO()
    first, *rest = [i.convert("L") for i in images]
    first.save(out, "PDF", resolution=float(dpi), save_all=True, append_images=rest)
    return out.getvalue()


def blank_back(printed: Printed, show_through: bool = True) -> Image.Image:
    """The blank back of a printed page, with the front showing through, mirrored and faint."""
    base = np.full(np.array(printed.image).shape, 248, dtype=np.float32)
    if show_through:
        mirrored = np.array(printed.image.transpose(Image.FLIP_LEFT_RIGHT)).astype(np.float32)
        base -= (255 - mirrored) * 0.06
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


def save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path
