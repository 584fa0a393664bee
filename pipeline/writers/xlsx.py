"""Workbooks HR opens in Excel/WPS: styled header, frozen and filtered, widths that fit
Chinese text, A4 print set-up; written atomically and byte-identical for the same data.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.utils.exceptions import IllegalCharacterError

from . import atomic
from .limits import CELL_LIMIT
from .package import Member, assemble, write_package


@dataclass(frozen=True)
class Link:
    """A cell showing ``text`` that opens ``target`` (a relative path or URL) when clicked."""

    text: str
    target: str


CellValue = str | int | float | date | datetime | Link | None

HEADER_FONT = Font(name="宋体", bold=True, size=11)
BODY_FONT = Font(name="宋体", size=11)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
LINK_FONT = Font(name="宋体", size=11, color="0563C1", underline="single")
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
#: Text starting with these would be taken as a formula by Excel (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
V = TypeVar("V")
#: Data rows written by ``_RowWriter`` (False: every row through openpyxl, for comparison).
FAST_ROWS = True
CUT_NOTE = "……（超出 Excel 单元格上限，以下从略；全文见 JSON/CSV 导出）"


def fit(value: V) -> V:
    """``value`` as a cell can hold it: text over the cell limit is cut, and says so."""
    if isinstance(value, str) and len(value) > CELL_LIMIT:
        return value[: CELL_LIMIT - len(CUT_NOTE)] + CUT_NOTE  # type: ignore[return-value]
    return value


def _as_text(value: str) -> bool:
    """Text Excel would take for something else: a formula ("=…"), or an error ("#N/A")."""
    return value.startswith(FORMULA_STARTS) or value in ERROR_CODES


MIN_WIDTH, MAX_WIDTH = 6, 60
PAPER_A4 = "9"
#: Fixed document time, so re-running with the same data gives the same bytes.
FIXED_TIME = "2000-01-01T00:00:00Z"


class Rows(Protocol):
    """A table's data rows: counted, and read through as often as the writer needs (a list,
    or rows kept elsewhere and read back each time)."""

    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Sequence[CellValue]]: ...


@dataclass
class Table:
    """One worksheet: a header row and data rows."""

    title: str
    headers: Sequence[str]
    rows: Rows
    #: Optional fixed widths (in Excel character units) by column index.
    widths: dict[int, float] = field(default_factory=dict)
    landscape: bool = True
    #: Data validations (drop-downs, number ranges) to attach to the sheet.
    validations: list[Any] = field(default_factory=list)
    #: A clustered bar chart of columns ``chart_columns`` (1-based, inclusive) by the first
    #: column's categories, titled ``chart_title``; placed right of the table.
    chart_title: str = ""
    chart_columns: tuple[int, int] = (0, 0)
    #: How many data rows the chart shows (0: all; a totals row is usually left out).
    chart_rows: int = 0
    #: Print only the first N columns (0: all); wide text columns stay for the screen.
    print_columns: int = 0
    #: Pictures placed over cells (a scan's crops beside its review row).
    pictures: list[Picture] = field(default_factory=list)


@dataclass(frozen=True)
class Picture:
    """A PNG shown over the cell at data row ``row`` (1-based, below the header) and column
    ``column`` (0-based); the row is made tall enough to hold it."""

    row: int
    column: int
    png: bytes
    height_px: int


@functools.lru_cache(maxsize=4096)
def display_width(text: str) -> float:
    """Width of ``text`` in Excel character units: CJK and full-width characters count 2.
    Remembered for the last few thousand texts: a summary measures the same units, dates
    and codes on every row (161,530 texts, 29,864 different, at 10,000 people)."""
    width = 0.0
    for char in text:
        width += 2.0 if unicodedata.east_asian_width(char) in ("W", "F") else 1.1
    return width


@dataclass
class _Survey:
    """What the writer must know of a table's rows before writing them, from one pass over
    them (rows kept in a spool are read back on each pass): column widths, the kinds of date
    among the cells (each needs its number format registered), and whether any is a link."""

    widths: list[float]
    dates: set[type]
    links: bool
    #: The most cells in a row.
    columns: int


def _survey(table: Table) -> _Survey:
    widths = [display_width(h) + 2 for h in table.headers]
    # A column with a fixed width, or already at the widest, needs no more measuring; nor a
    # text that could not be wider than the column even if every character were wide.
    done = [i in table.widths for i in range(len(widths))]
    dates: set[type] = set()
    links = False
    measured = len(widths)
    columns = 0
    for values in table.rows:
        columns = max(columns, len(values))
        for column, value in enumerate(values):
            if value is None:
                continue
            if type(value) is not str:
                if isinstance(value, date):
                    dates.add(type(value))
                elif isinstance(value, Link):
                    links = True
            if column >= measured or done[column]:
                continue
            text = value.text if isinstance(value, Link) else str(value)
            if 2 * len(text) + 2 <= widths[column]:
                continue
            longest = max(display_width(line) for line in text.splitlines() or [""])
            if longest + 2 > widths[column]:
                widths[column] = longest + 2
                done[column] = widths[column] >= MAX_WIDTH
    fitted = [table.widths.get(i, min(max(w, MIN_WIDTH), MAX_WIDTH)) for i, w in enumerate(widths)]
    return _Survey(fitted, dates, links, columns)


class _Styles:
    """One styled prototype cell per kind; every other cell copies its style array.

    Assigning Font/Border/Alignment objects per cell makes openpyxl hash them each
    time (~50 µs a cell); copying the prototype's array costs next to nothing.
    """

    def __init__(self, sheet: Any) -> None:
        header: Any = WriteOnlyCell(sheet)
        header.font, header.fill, header.border = HEADER_FONT, HEADER_FILL, BORDER
        header.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        body: Any = WriteOnlyCell(sheet)
        body.font, body.border = BODY_FONT, BORDER
        body.alignment = Alignment(vertical="center", wrap_text=True)
        self.header, self.body = header._style, body._style

    def cell(self, sheet: Any, value: CellValue, style: Any) -> Any:
        shown = fit(value.text if isinstance(value, Link) else value)
        cell: Any = WriteOnlyCell(sheet, value=shown)  # type: ignore[arg-type]
        if isinstance(shown, str) and _as_text(shown):
            cell.data_type = "s"  # keep it text: never let a typed "=..." run as a formula
        cell._style = copy(style)
        if isinstance(value, Link):
            cell.hyperlink = value.target
            cell.font = LINK_FONT
        return cell


def _styled_rows(sheet: Any, style: Any) -> Any:
    """A row converter for write-only sheets giving every cell ``style`` (and keeping text
    that looks like a formula as text)."""

    def convert(values: Sequence[CellValue], row_index: int) -> Any:
        cell: Any = WriteOnlyCell(sheet)
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            # a style of its own per cell: a date sets its number format, which must not
            # carry over to the next cell (nor to the style already registered for this one)
            cell._style = copy(style)
            value = fit(value)
            cell.value = value
            if isinstance(value, str) and _as_text(value):
                cell.data_type = "s"
            cell.column = column
            cell.row = row_index
            yield cell

    return convert


#: What a cell's text must escape in XML (``\r`` too: a parser would turn it into ``\n``).
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
#: Characters lxml refuses in XML text, or that cannot be encoded: such a cell is written
#: the way openpyxl writes it, so it fails the same way.
_ODD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _RowWriter:
    """The data rows of a sheet as SpreadsheetML, written directly: the same cells openpyxl
    writes (inline strings, numbers, booleans, dates as serial numbers with a date format,
    every cell in the body style), at a twentieth of its cost. openpyxl still writes
    everything else (layout, styles, print set-up, charts); these rows go into its
    ``<sheetData>`` after it has saved, compressed as they are written."""

    #: Rows written per chunk of XML.
    CHUNK = 200

    def __init__(self, sheet: Any, style: Any, rows: Rows, survey: _Survey) -> None:
        self.sheet, self.style, self.rows, self.columns = sheet, style, rows, survey.columns
        self.styles: dict[type, str] = {}
        self.letters: list[str] = []
        # every style the rows need is registered now: styles.xml is written when the
        # workbook is saved, before these rows are
        self._style_of("")
        for kind in sorted(survey.dates, key=lambda k: k.__name__):
            self._style_of(kind(2000, 1, 1))

    def _style_of(self, value: CellValue) -> str:
        kind = type(value) if isinstance(value, date) else str
        found = self.styles.get(kind)
        if found is None:
            cell: Any = WriteOnlyCell(self.sheet)
            cell._style = copy(self.style)
            if kind is not str:
                cell.value = value  # sets the date format, as openpyxl does per cell
            found = self.styles[kind] = str(cell.style_id)
        return found

    def _letter(self, column: int) -> str:
        while len(self.letters) <= column:
            self.letters.append(get_column_letter(len(self.letters) + 1))
        return self.letters[column]

    def cell(self, ref: str, value: CellValue) -> str:
        value = fit(value)
        if isinstance(value, str):
            if not value:  # openpyxl writes an empty text cell without its <is>
                return f'<c r="{ref}" s="{self.styles[str]}" t="inlineStr"></c>'
            if _ODD.search(value):
                _check_odd(value)
            return _text_cell(ref, self.styles[str], value)
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{self.styles[str]}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{ref}" s="{self.styles[str]}" t="n"><v>{_number(value)}</v></c>'
        if isinstance(value, date):
            serial = _number(to_excel(value))  # type: ignore[no-untyped-call]
            return f'<c r="{ref}" s="{self.styles[type(value)]}" t="n"><v>{serial}</v></c>'
        raise ValueError(f"Cannot convert {value!r} to Excel")

    def chunks(self, first: int = 2) -> Iterator[bytes]:
        """The rows' XML, numbered from ``first``, a chunk at a time. Ordinary text (nearly
        every cell) is written straight away; anything else goes through ``cell``."""
        body = self.styles[str]
        self._letter(max(self.columns, 1))
        letters, odd, limit = self.letters, _ODD.search, CELL_LIMIT
        out: list[str] = []
        for number, values in enumerate(self.rows, start=first):
            row = str(number)
            out.append(f'<row r="{row}">')
            for column, value in enumerate(values):
                if value is None:
                    continue
                ref = letters[column] + row
                if isinstance(value, str) and value and len(value) <= limit and not odd(value):
                    out.append(_text_cell(ref, body, value))
                else:
                    out.append(self.cell(ref, value))
            out.append("</row>")
            if (number - first) % self.CHUNK == self.CHUNK - 1:
                yield "".join(out).encode("utf-8")
                out.clear()
        if out:
            yield "".join(out).encode("utf-8")


def _text_cell(ref: str, style: str, text: str) -> str:
    """An inline-string cell as openpyxl writes it (``text`` checked, not empty)."""
    space = ' xml:space="preserve">' if text != text.strip() else ">"
    escaped = text.translate(_ESCAPE)
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}{escaped}</t></is></c>'


def _number(value: float) -> str:
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return ""
    return f"{value:.16g}"  # openpyxl's own format


def _check_odd(value: str) -> None:
    """Fail as openpyxl would on text a worksheet cannot hold."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    from lxml import etree

    etree.Element("t").text = value  # ValueError: not XML-compatible
    value.encode("utf-8")  # UnicodeEncodeError: a lone surrogate


def _write_sheet(sheet: Any, table: Table) -> _RowWriter | None:
    """Fill a write-only sheet: layout first (it precedes the rows in the file), then rows.
    Plain rows (no links, no pictures) are left to the returned ``_RowWriter``."""
    sheet.title = table.title[:31]
    survey = _survey(table)
    for index, width in enumerate(survey.widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    last = get_column_letter(max(len(table.headers), 1))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    sheet.print_title_rows = "1:1"
    if table.print_columns:
        sheet.print_area = f"A1:{get_column_letter(table.print_columns)}{len(table.rows) + 1}"
    sheet.page_setup.paperSize = PAPER_A4
    sheet.page_setup.orientation = "landscape" if table.landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is not None:
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    if sheet.oddFooter is not None:
        sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    for validation in table.validations:
        sheet.data_validations.append(validation)
    for picture in table.pictures:
        from openpyxl.drawing.image import Image as SheetImage

        image = SheetImage(io.BytesIO(picture.png))
        image.anchor = f"{get_column_letter(picture.column + 1)}{picture.row + 1}"
        sheet.add_image(image)
        # points are 4/3 pixels; a little margin under the picture
        sheet.row_dimensions[picture.row + 1].height = picture.height_px * 0.75 + 6
    styles = _Styles(sheet)
    sheet.append([styles.cell(sheet, h, styles.header) for h in table.headers])
    rows = None
    if FAST_ROWS and not survey.links and not table.pictures and table.rows:
        rows = _RowWriter(sheet, styles.body, table.rows, survey)
    elif not survey.links:
        # Plain rows of text and numbers: one styled cell, rebound per value. openpyxl
        # would otherwise try each cell object as a value, fail, and fall back.
        sheet._values_to_row = _styled_rows(sheet, styles.body)
        for values in table.rows:
            sheet.append(list(values))
    else:
        for values in table.rows:
            sheet.append([styles.cell(sheet, v, styles.body) for v in values])
    if table.chart_title and table.rows:
        _add_chart(sheet, table)
    return rows


def _add_chart(sheet: Any, table: Table) -> None:
    from openpyxl.chart import BarChart, Reference

    first, last = table.chart_columns
    chart = BarChart()
    chart.title = table.chart_title
    chart.y_axis.title = "人数"
    chart.height, chart.width = 9, 18
    rows = (table.chart_rows or len(table.rows)) + 1
    data = Reference(sheet, min_col=first, max_col=last, min_row=1, max_row=rows)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows))
    sheet.add_chart(chart, f"{get_column_letter(len(table.headers) + 2)}2")


def workbook_bytes(tables: Sequence[Table]) -> bytes:
    """The .xlsx bytes for ``tables``, with fixed timestamps (same data → same bytes)."""
    return assemble(_members(tables))


def _members(tables: Sequence[Table]) -> Iterator[Member]:
    """The workbook's parts, each made as its turn comes in the package."""
    workbook = Workbook(write_only=True)
    written: list[tuple[Any, _RowWriter]] = []
    for table in tables:
        sheet = workbook.create_sheet()
        rows = _write_sheet(sheet, table)
        if rows:
            written.append((sheet, rows))
    workbook.properties.creator = "kaohe"
    buffer = io.BytesIO()
    workbook.save(buffer)
    yield from _fixed_times(buffer.getvalue(), {s.path.lstrip("/"): rows for s, rows in written})


_CORE_TIME = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _fixed_times(data: bytes, rows: dict[str, _RowWriter]) -> Iterator[Member]:
    """The package's parts with fixed document times and each sheet's directly written
    ``rows`` placed after its header row (the first ``</sheetData>``: cell text has its
    ``<`` escaped), a part at a time."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for info in package.infolist():
            content = package.read(info)
            if info.filename in rows:
                head, end, tail = content.partition(b"</sheetData>")
                chunks = itertools.chain([head], rows[info.filename].chunks(), [end + tail])
                yield Member.streamed(info.filename, chunks)
                continue
            if info.filename == "docProps/core.xml":
                content = _CORE_TIME.sub(
                    lambda m: m.group(1) + FIXED_TIME.encode() + m.group(3), content
                )
            yield Member.of(info.filename, content)


def write_workbook(path: Path, tables: Sequence[Table]) -> Path:
    """Write ``tables`` to ``path`` atomically, each part as it is made (a 10,000-person
    summary is not held whole in memory, nor copied on its way to the disk)."""
    with atomic.atomic_path(path) as tmp, open(tmp, "wb") as out:
        write_package(out, _members(tables))
    return path
