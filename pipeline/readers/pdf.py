"""A PDF of a filled sheet (Word/WPS/LibreOffice "Save as PDF", print to PDF) → RawSheet.

The table is found by its ruling lines (pdfplumber), placed on the same grid the Word
reader uses, and read by the same label finder. Text a PDF cannot give back as
characters — a scan, or glyphs without a ToUnicode map that come out as ``(cid:NN)``
— is not data: such files are sent to review rather than read wrongly.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

from .layout import MIN_LABELS, find_fields, match_label, read_loose_lines
from .raw import RawSheet, ReadFailure
from .wordml import GridCell, symbol_char

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
    """How tables are found: by ruling lines, with tolerances for exporters' rounding."""

    vertical_strategy: str = "lines"
    horizontal_strategy: str = "lines"
    snap_tolerance: float = 3
    join_tolerance: float = 3
    intersection_tolerance: float = 3

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


SETTINGS = TableSettings()


def _open(data: bytes) -> Any:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
        raise ReadFailure("UNREADABLE_FILE", "文件内容不是 PDF（可能改错了扩展名）")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _ = pdf.pages  # forces the page tree: broken files fail here
    except Exception as exc:  # pdfplumber wraps pdfminer's errors in PdfminerException
        causes = _causes(exc)
        if any(isinstance(c, PDFPasswordIncorrect | PDFEncryptionError) for c in causes):
            raise ReadFailure("ENCRYPTED_FILE", "PDF 设置了打开密码，无法读取") from exc
        if any(isinstance(c, PDFSyntaxError) for c in causes):
            raise ReadFailure("UNREADABLE_FILE", "PDF 已损坏或不完整") from exc
        raise ReadFailure(
            "UNREADABLE_FILE", f"PDF 已损坏或不完整（{type(causes[-1]).__name__}）"
        ) from exc
    return pdf


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (args, cause, context), and so on down."""
    seen: list[BaseException] = []
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(a for a in current.args if isinstance(a, BaseException))
        stack.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return seen


Box = tuple[float, float, float, float]


def _cell_text(chars: list[dict[str, Any]], bbox: Box) -> str:
    """Text in a cell, wrapped lines rejoined: a visual line that stops well short of the
    cell's right edge ends a paragraph; one that runs to the edge was wrapped by the layout."""
    from pdfplumber.utils.text import chars_to_textmap

    if not chars:
        return ""
    right = bbox[2]
    lines = chars_to_textmap(chars).extract_text_lines(return_chars=True)
    text = ""
    for index, line in enumerate(lines):
        content = str(line["text"])
        if index:
            previous = lines[index - 1]
            width = max((c["x1"] - c["x0"] for c in previous.get("chars") or []), default=10.0)
            wrapped = previous["x1"] >= right - 2.5 * width
            text += "" if wrapped and not PRINTED_LINE.match(content) else "\n"
        text += content
    return text


def _chars_by_cell(
    chars: list[dict[str, Any]], boxes: list[Box]
) -> dict[Box, list[dict[str, Any]]]:
    """Each character placed in the cell holding its centre (one pass, not one crop per cell)."""
    placed: dict[Box, list[dict[str, Any]]] = {box: [] for box in boxes}
    for char in chars:
        cx, cy = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
        for box in boxes:
            if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                placed[box].append(char)
                break
    return placed


def _marks(page: Any) -> list[dict[str, Any]]:
    """The page's characters with symbol-font ticks and boxes as the marks they show."""
    chars = []
    for char in page.chars:
        text = symbol_char(str(char["text"]), str(char.get("fontname", "")))
        chars.append(char if text == char["text"] else {**char, "text": text})
    return chars


def _grid(page: Any, row_offset: int) -> tuple[list[GridCell], list[Box]]:
    cells: list[GridCell] = []
    boxes: list[Box] = []
    chars = _marks(page)
    for table in page.find_tables(SETTINGS.as_dict()):
        bboxes: list[Box] = sorted(
            {(c[0], c[1], c[2], c[3]) for row in table.rows for c in row.cells if c is not None},
            key=lambda b: (b[1], b[0]),
        )
        xs = sorted({round(b[0], 1) for b in bboxes} | {round(b[2], 1) for b in bboxes})
        ys = sorted({round(b[1], 1) for b in bboxes} | {round(b[3], 1) for b in bboxes})
        placed = _chars_by_cell(chars, bboxes)
        for bbox in bboxes:
            row = ys.index(round(bbox[1], 1))
            col = xs.index(round(bbox[0], 1))
            span = max(xs.index(round(bbox[2], 1)) - col, 1)
            cells.append(GridCell(row_offset + row, col, span, _cell_text(placed[bbox], bbox)))
        x0, top, x1, bottom = table.bbox
        boxes.append((x0, top, x1, bottom))
        row_offset += len(ys)
    return cells, boxes


def _outside(page: Any, boxes: list[Box]) -> list[str]:
    """Lines of text outside the tables (title, period line, signature line, footer)."""

    def keep(obj: dict[str, Any]) -> bool:
        return not any(
            b[0] <= obj.get("x0", 0) <= b[2] and b[1] <= obj.get("top", 0) <= b[3] for b in boxes
        )

    return [str(line["text"]) for line in page.filter(keep).extract_text_lines()]


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


def read_pdf(data: bytes) -> list[RawSheet]:
    """Read a PDF of one or more filled sheets (a unit may export or merge several people's
    sheets into one file): a page that names a person again starts the next sheet. Raise
    ReadFailure for scans, garbage text, passwords, or no sheet at all."""
    pdf = _open(data)
    try:
        pages = pdf.pages[:MAX_PAGES]
        text = "".join(page.extract_text() or "" for page in pages)
        if len(re.sub(r"\s", "", text)) < MIN_CHARS:
            raise ReadFailure(
                "SCANNED_NEEDS_REVIEW",
                "PDF 没有文字层（扫描件或照片），无法自动读取，已列入待人工核对",
            )
        cids = len(_CID.findall(text))
        if cids and cids * 8 / max(len(text), 1) > CID_SHARE:
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
            shifted = [
                GridCell(c.row + offset, c.col, c.span, c.text, c.continued) for c in page_cells
            ]
            if shifted and group.numbers:
                group.first_of_page.add(min(c.row for c in shifted))
            group.cells.extend(shifted)
            group.numbers.append(number)
            group.outside.extend((number, line) for line in _outside(page, boxes))
    finally:
        pdf.close()
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
