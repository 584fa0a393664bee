"""A PDF of filled sheets (Word/WPS/LibreOffice "Save as PDF", print to PDF) → RawSheets.

Characters and ruling lines are read through pdfium (pypdfium2, installed with pdfplumber),
the table is found from the lines by pdfplumber's table-finding steps (done directly in
``rulings``), placed on the same grid the Word reader uses, and read by the same label
finder. A cell's lines are put together by ``text_lines``: pdfplumber's
``extract_text_lines`` rules, done directly. A reader process reads an ordinary PDF without
importing pdfplumber at all. The pdfminer route (``pdfminer_pages``) gives the same fields,
~8× slower. Tests compare each pair.

Text a PDF cannot give back as characters — a scan, or glyphs without a Unicode map
(pdfium flags them; pdfminer writes ``(cid:NN)``) — is not data: such files are sent to
review rather than read wrongly.
"""

from __future__ import annotations

import bisect
import io
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .layout import MIN_LABELS, find_fields, match_label, read_loose_lines
from .raw import NoTextLayer, RawSheet, ReadFailure
from .rulings import Box, cluster_ids, find_tables
from .wordml import GridCell, may_be_symbol, symbol_char

#: A sheet is one or two pages; a unit's stack of sheets in one file is read up to this
#: many pages (pages past it are not read).
MAX_PAGES = 60
#: Share of (cid:NN) tokens in the text above which the text layer is garbage.
CID_SHARE = 0.05
#: Fewer characters than this on all pages: a scan or a photo, not a text PDF.
MIN_CHARS = 20
_CID = re.compile(r"\(cid:\d+\)")
#: Lines printed on the form always start a new line, however close the line above ran
#: to the cell's edge (the grade boxes, 签字, a date line).
PRINTED_LINE = re.compile(r"^\s*(签\s*字|签\s*名|(考核)?等\s*次|\d{4}\s*年|年\s+月)")


@dataclass(frozen=True)
class TableSettings:
    """How tables are found from the ruling lines: tolerances for exporters' rounding."""

    snap_tolerance: float = 3
    join_tolerance: float = 3
    intersection_tolerance: float = 3


SETTINGS = TableSettings()


@dataclass
class PageData:
    """One page as the reader needs it: characters with their boxes (top-down coordinates,
    as pdfplumber gives them) and the ruling lines as edges."""

    chars: list[dict[str, Any]]
    edges: list[dict[str, Any]]


def _check_bytes(data: bytes) -> None:
    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise ReadFailure("UNREADABLE_FILE", "文件内容不是 PDF（可能改错了扩展名）")


def pdfium_pages(data: bytes, limit: int = MAX_PAGES) -> list[PageData]:
    """Characters and ruling lines of the first ``limit`` pages, through pdfium (~8× faster
    than pdfminer for the same characters and the same table cells)."""
    import pypdfium2 as pdfium

    _check_bytes(data)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ReadFailure("ENCRYPTED_FILE", "PDF 设置了打开密码，无法读取") from exc
        raise ReadFailure("UNREADABLE_FILE", "PDF 已损坏或不完整") from exc
    try:
        return [_page_data(document[i]) for i in range(min(len(document), limit))]
    finally:
        document.close()


def _page_data(page: Any) -> PageData:
    import ctypes

    import pypdfium2.raw as pdfium_c

    height = page.get_height()
    textpage = page.get_textpage()
    raw_page = textpage.raw
    chars: list[dict[str, Any]] = []
    box = pdfium_c.FS_RECTF()
    box_at = ctypes.byref(box)
    unicode_of, box_of = pdfium_c.FPDFText_GetUnicode, pdfium_c.FPDFText_GetLooseCharBox
    unmapped = pdfium_c.FPDFText_HasUnicodeMapError
    try:
        for index in range(pdfium_c.FPDFText_CountChars(raw_page)):
            code = unicode_of(raw_page, index)
            if code in (0, 2, 10, 13) or 0xD800 <= code <= 0xDFFF:
                continue  # generated line ends and the halves of a surrogate pair
            text = chr(code)
            box_of(raw_page, index, box_at)
            left, right, top, bottom = box.left, box.right, height - box.top, height - box.bottom
            # symbol fonts give letters (Wingdings 2 "R") or private-use codes for their
            # marks; the font is asked only for a character a symbol font could turn into one
            fontname = _font_name(raw_page, index) if may_be_symbol(code) else ""
            shown = symbol_char(text, fontname) if fontname or code >= 0xE000 else text
            chars.append({
                "text": shown, "x0": left, "x1": right, "top": top, "bottom": bottom,
                "doctop": top, "upright": True, "size": bottom - top, "width": right - left,
                "height": bottom - top, "fontname": fontname,
                "unmapped": unmapped(raw_page, index) == 1,
            })  # fmt: skip
    finally:
        textpage.close()
    edges: list[dict[str, Any]] = []
    for left, bottom, right, top in _path_bounds(page.raw):
        x0, x1, y0, y1 = left, right, height - top, height - bottom
        edges.extend(_edges(x0, x1, y0, y1))
    page.close()
    return PageData(chars, edges)


#: Form XObjects (a drawing placed as a unit) are looked into this many levels deep.
_FORM_DEPTH = 5


def _path_bounds(
    raw_page: Any, form: Any = None, level: int = 0
) -> Iterator[tuple[float, float, float, float]]:
    """(left, bottom, right, top) of each path object on the page, also inside form
    XObjects: what ``PdfPage.get_objects(filter=[PATH])`` and ``get_bounds()`` give, through
    the raw calls (no helper object a page object: ~4x faster)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    parent = form if form is not None else raw_page
    count = (
        pdfium_c.FPDFFormObj_CountObjects if form is not None else pdfium_c.FPDFPage_CountObjects
    )
    get = pdfium_c.FPDFFormObj_GetObject if form is not None else pdfium_c.FPDFPage_GetObject
    total = count(parent)
    if total < 0:
        raise pdfium.PdfiumError("Failed to get number of pageobjects.")
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for index in range(total):
        obj = get(parent, index)
        if not obj:
            raise pdfium.PdfiumError("Failed to get pageobject.")
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind == pdfium_c.FPDF_PAGEOBJ_PATH:
            found = pdfium_c.FPDFPageObj_GetBounds(
                obj,
                ctypes.byref(left),
                ctypes.byref(bottom),
                ctypes.byref(right),
                ctypes.byref(top),
            )
            if not found:
                raise pdfium.PdfiumError("Failed to locate pageobject.")
            yield left.value, bottom.value, right.value, top.value
        elif kind == pdfium_c.FPDF_PAGEOBJ_FORM and level < _FORM_DEPTH - 1:
            yield from _path_bounds(raw_page, obj, level + 1)


_BUFFER_SIZE = 128


def _font_name(raw_page: Any, index: int) -> str:
    import ctypes

    import pypdfium2.raw as pdfium_c

    buffer = ctypes.create_string_buffer(_BUFFER_SIZE)
    size = pdfium_c.FPDFText_GetFontInfo(raw_page, index, buffer, _BUFFER_SIZE, None)
    if size <= 0 or size > _BUFFER_SIZE:
        return ""
    return buffer.value.decode("utf-8", "replace")


def _edges(x0: float, x1: float, top: float, bottom: float) -> list[dict[str, Any]]:
    """A path's box as ruling edges: a thin one is a line, a larger one a rectangle's sides."""
    width, height = x1 - x0, bottom - top

    def h(y: float) -> dict[str, Any]:
        return {"x0": x0, "x1": x1, "top": y, "bottom": y, "width": width, "height": 0,
                "orientation": "h", "object_type": "line"}  # fmt: skip

    def v(x: float) -> dict[str, Any]:
        return {"x0": x, "x1": x, "top": top, "bottom": bottom, "width": 0, "height": height,
                "orientation": "v", "object_type": "line"}  # fmt: skip

    if height <= 3 and width > 3:
        return [h((top + bottom) / 2)]
    if width <= 3 and height > 3:
        return [v((x0 + x1) / 2)]
    if width > 3 and height > 3:
        return [h(top), h(bottom), v(x0), v(x1)]
    return []


def _cell_text(chars: list[dict[str, Any]], bbox: Box) -> str:
    """Text in a cell, wrapped lines rejoined: a visual line that stops well short of the
    cell's right edge ends a paragraph; one that runs to the edge was wrapped by the layout."""
    if not chars:
        return ""
    right = bbox[2]
    lines = text_lines(chars)
    text = ""
    for index, line in enumerate(lines):
        if index:
            previous = lines[index - 1]
            width = max((c["x1"] - c["x0"] for c in previous.chars), default=10.0)
            wrapped = previous.x1 >= right - 2.5 * width
            text += "" if wrapped and not PRINTED_LINE.match(line.text) else "\n"
        text += line.text
    return text


@dataclass(frozen=True)
class TextLine:
    """One line of text as pdfplumber's ``extract_text_lines`` gives it: its text, right
    edge and characters."""

    text: str
    x1: float
    chars: list[dict[str, Any]]


#: The ligatures pdfplumber spells out ("ﬁ" as "fi"; ``pdfplumber.utils.text.LIGATURES``,
#: tested): lines holding one are pdfplumber's to assemble.
LIGATURES = frozenset("ﬀﬃﬄﬁﬂﬆﬅ")
#: pdfplumber's default tolerances (points): a gap wider than X starts a word, tops further
#: apart than Y start a line.
_X_TOLERANCE = _Y_TOLERANCE = 3


def text_lines(chars: list[dict[str, Any]]) -> list[TextLine]:
    """``chars_to_textmap(chars).extract_text_lines()`` with pdfplumber's defaults, computed
    directly for upright single characters (every character pdfium gives): the same lines,
    the same text, the same characters (a hypothesis test compares them); anything else —
    rotated text, ligatures, multi-letter glyphs — goes through pdfplumber itself."""
    if any(not c["upright"] or len(c["text"]) != 1 or c["text"] in LIGATURES for c in chars):
        return _plumber_lines(chars)
    # characters into lines by their tops (clusters in order), each line into words
    by_top = cluster_ids([c["top"] for c in chars], _Y_TOLERANCE)
    rows: dict[int, list[dict[str, Any]]] = {}
    for char in sorted(chars, key=lambda c: by_top[c["top"]]):
        rows.setdefault(by_top[char["top"]], []).append(char)
    words = [(min(c["top"] for c in w), w) for row in rows.values() for w in _words(row)]
    # words into text lines: consecutive words whose tops cluster together
    by_word_top = cluster_ids([top for top, _ in words], _Y_TOLERANCE)
    lines: list[TextLine] = []
    for _, group in itertools.groupby(words, key=lambda word: by_word_top[word[0]]):
        line = [w for _, w in group]
        line_chars = [c for w in line for c in w]
        text = " ".join("".join(c["text"] for c in w) for w in line)
        lines.append(TextLine(text, max(c["x1"] for c in line_chars), line_chars))
    return lines


def _words(row: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """A line's characters, left to right, as words: a blank ends one, and so does a gap
    wider than the tolerance, a step back, or a jump in height (pdfplumber's rules)."""
    current: list[dict[str, Any]] = []
    for char in sorted(row, key=lambda c: c["x0"]):
        if char["text"].isspace():
            if current:
                yield current
            current = []
        elif current and (
            char["x0"] < current[-1]["x0"]
            or char["x0"] > current[-1]["x1"] + _X_TOLERANCE
            or abs(char["top"] - current[-1]["top"]) > _Y_TOLERANCE
        ):
            yield current
            current = [char]
        else:
            current.append(char)
    if current:
        yield current


def _plumber_lines(chars: list[dict[str, Any]]) -> list[TextLine]:
    from pdfplumber.utils.text import chars_to_textmap

    return [
        TextLine(str(line["text"]), float(line["x1"]), list(line["chars"]))
        for line in chars_to_textmap(chars).extract_text_lines(return_chars=True)
    ]


def _chars_by_cell(
    chars: list[dict[str, Any]], boxes: list[Box]
) -> dict[Box, list[dict[str, Any]]]:
    """Each character placed in the first cell (in ``boxes``' order) holding its centre. The
    cells a centre's height can be in are found by one bisect among the cells' top and
    bottom edges, so each character is tested against its row's few cells, not all of them
    (0.37 ms against 0.59 ms a page). ``_chars_by_cell_scan`` is the plain definition (tested)."""
    edges = sorted({b[1] for b in boxes} | {b[3] for b in boxes})
    if any(y != y for y in edges):  # NaN sorts nowhere: the plain scan
        return _chars_by_cell_scan(chars, boxes)
    # the cells holding a height equal to edges[i] (at 2i), or between it and the next (2i+1)
    spans: list[list[Box]] = []
    for i, y in enumerate(edges):
        spans.append([b for b in boxes if b[1] <= y <= b[3]])
        below = edges[i + 1] if i + 1 < len(edges) else y
        spans.append([b for b in boxes if b[1] <= y and below <= b[3]])
    placed: dict[Box, list[dict[str, Any]]] = {box: [] for box in boxes}
    for char in chars:
        cx, cy = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        i = bisect.bisect_left(edges, cy)
        if i < len(edges) and edges[i] == cy:
            candidates = spans[2 * i]
        elif 0 < i < len(edges):
            candidates = spans[2 * i - 1]
        else:
            continue  # above every cell, below every cell, or no number
        for box in candidates:
            if box[0] <= cx <= box[2]:
                placed[box].append(char)
                break
    return placed


def _chars_by_cell_scan(
    chars: list[dict[str, Any]], boxes: list[Box]
) -> dict[Box, list[dict[str, Any]]]:
    """Each character placed in the first cell holding its centre, every cell tested."""
    placed: dict[Box, list[dict[str, Any]]] = {box: [] for box in boxes}
    for char in chars:
        cx, cy = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        for box in boxes:
            if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                placed[box].append(char)
                break
    return placed


def _tables(page: PageData) -> list[list[Box]]:
    """The page's tables, each as its cells, from the ruling lines read by pdfium
    (pdfplumber's table-finding steps, see ``rulings``)."""
    settings = SETTINGS
    return find_tables(
        page.edges, settings.snap_tolerance, settings.join_tolerance,
        settings.intersection_tolerance,
    )  # fmt: skip


def _grid(page: PageData, row_offset: int) -> tuple[list[GridCell], list[Box]]:
    cells: list[GridCell] = []
    boxes: list[Box] = []
    chars = page.chars
    for table in sorted(_tables(page), key=lambda t: (min(c[1] for c in t), min(c[0] for c in t))):
        bboxes: list[Box] = sorted(set(table), key=lambda b: (b[1], b[0]))
        xs = sorted({round(b[0], 1) for b in bboxes} | {round(b[2], 1) for b in bboxes})
        ys = sorted({round(b[1], 1) for b in bboxes} | {round(b[3], 1) for b in bboxes})
        placed = _chars_by_cell(chars, bboxes)
        for bbox in bboxes:
            row = ys.index(round(bbox[1], 1))
            col = xs.index(round(bbox[0], 1))
            span = max(xs.index(round(bbox[2], 1)) - col, 1)
            cells.append(GridCell(row_offset + row, col, span, _cell_text(placed[bbox], bbox)))
        boxes.append((min(b[0] for b in bboxes), min(b[1] for b in bboxes),
                      max(b[2] for b in bboxes), max(b[3] for b in bboxes)))  # fmt: skip
        row_offset += len(ys)
    return cells, boxes


def _outside(page: PageData, boxes: list[Box]) -> list[str]:
    """Lines of text outside the tables (title, period line, signature line, footer)."""

    def keep(obj: dict[str, Any]) -> bool:
        x, top = obj.get("x0", 0), obj.get("top", 0)
        return not any(b[0] <= x <= b[2] and b[1] <= top <= b[3] for b in boxes)

    outside = [c for c in page.chars if keep(c)]
    if not outside:
        return []
    return [line.text for line in text_lines(outside)]


def _join_spilled(cells: list[GridCell], first_of_page: set[int]) -> list[GridCell]:
    """A row split across pages: its continuation has an empty first cell; append its text to
    the cells of the previous page's last row covering the same columns."""
    merged = list(cells)
    for row in sorted(first_of_page):
        continuation = [c for c in merged if c.row == row]
        before = [c for c in merged if c.row < row]
        if not continuation or not before:
            continue
        leading = min(continuation, key=lambda c: c.col)
        if leading.text.strip():
            continue
        last_row = max(c.row for c in before)
        previous = [c for c in merged if c.row == last_row]
        for part in continuation:
            owner = next((p for p in previous if p.col <= part.col < p.end), None)
            if owner is None or not part.text.strip():
                continue
            joined = GridCell(
                owner.row, owner.col, owner.span, owner.text + part.text, owner.continued
            )
            merged[merged.index(owner)] = joined
            previous[previous.index(owner)] = joined
        merged = [c for c in merged if c.row != row]
    return merged


def pdfminer_pages(data: bytes, limit: int = MAX_PAGES) -> list[PageData]:
    """The same page data through pdfplumber/pdfminer: the slower route the reader used
    before, kept to check both give the same fields (tests) and as the benchmark's baseline."""
    import pdfplumber

    _check_bytes(data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [
            PageData(
                [
                    {
                        **c,
                        "text": symbol_char(str(c["text"]), str(c.get("fontname", ""))),
                        "unmapped": False,
                    }
                    for c in page.chars
                ],
                list(page.edges),
            )
            for page in pdf.pages[:limit]
        ]


def read_pdf(
    data: bytes, pages_of: Callable[[bytes], list[PageData]] | None = None
) -> list[RawSheet]:
    """Read a PDF of one or more filled sheets (a unit may export or merge several people's
    sheets into one file): a page that names a person again starts the next sheet. Raise
    ReadFailure for scans, garbage text, passwords, or no sheet at all."""
    pages = (pages_of or pdfium_pages)(data)
    text = "".join(str(c["text"]) for page in pages for c in page.chars)
    if len(re.sub(r"\s", "", text)) < MIN_CHARS:
        raise NoTextLayer()
    unmapped = sum(1 for p in pages for c in p.chars if c["unmapped"] or _unmapped(c["text"]))
    if unmapped / max(len(text), 1) > CID_SHARE:
        raise ReadFailure(
            "SCANNED_NEEDS_REVIEW",
            "PDF 中的文字无法还原（缺少字符映射），为免读错，已列入待人工核对",
        )
    groups: list[_Pages] = []
    for number, page in enumerate(pages, start=1):
        page_cells, boxes = _grid(page, 0)
        names = any(_is_name(c) for c in page_cells)
        if not groups or (names and groups[-1].names):
            groups.append(_Pages())
        group = groups[-1]
        group.names = group.names or names
        offset = max((c.row for c in group.cells), default=-1) + 1
        shifted = [GridCell(c.row + offset, c.col, c.span, c.text, c.continued) for c in page_cells]
        if shifted and group.numbers:
            group.first_of_page.add(min(c.row for c in shifted))
        group.cells.extend(shifted)
        group.numbers.append(number)
        group.outside.extend((number, line) for line in _outside(page, boxes))
    sheets: list[RawSheet] = []
    for group in groups:
        fields, labels, problems = find_fields(_join_spilled(group.cells, group.first_of_page))
        if labels < MIN_LABELS:
            continue
        sheet = RawSheet(format="pdf", fields=fields, labels_found=labels, problems=problems)
        read_loose_lines(sheet, ((line, f"第{number}页表格外") for number, line in group.outside))
        sheets.append(sheet)
    if not sheets:
        raise ReadFailure(
            "NOT_A_RECORD_SHEET",
            "PDF 中找不到记实表的表格（姓名、工作纪实、出勤记录等栏目），可能交错了文件",
        )
    for sheet in sheets:
        sheet.sheets_in_file = len(sheets)
    return sheets


def _unmapped(char: str) -> bool:
    """A character a PDF cannot give back as text: no Unicode mapping for its glyph."""
    return (
        char == "\ufffd"
        or (char < " " and char not in "\t")
        or ("\ue000" <= char <= "\uf8ff" and symbol_char(char, "") == char)
    )


@dataclass
class _Pages:
    """Consecutive pages holding one sheet."""

    cells: list[GridCell] = field(default_factory=list)
    outside: list[tuple[int, str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    first_of_page: set[int] = field(default_factory=set)
    names: bool = False


def _is_name(cell: GridCell) -> bool:
    label = match_label(cell.text) if not cell.continued else None
    return label is not None and label.field == "name"
