"""The first worksheet of a plain workbook, row by row, exactly as openpyxl's read-only mode
gives it with its dimensions reset (``load_workbook(read_only=True, data_only=True)``, then
``reset_dimensions()``: a stale dimension must not cut rows off): each cell's value and
number format, each row as wide as its last cell.

openpyxl reads a 10,000-person roster in ~1.5 s, most of it building an object per cell and
per shared string (and, when the sheet declares no dimension, reading the whole sheet once
more to look for one, which is then reset anyway). Here the workbook's parts are found, and
its styles read, by openpyxl's own code; only the shared strings and the sheet's cells are
read, with lxml, a row at a time. Anything this reading does not follow exactly as openpyxl
does — a date or other formatted number, a cell or row without its reference, rows out of
order, an unusual string, a damaged part — raises ``NotPlain`` whenever it is met: the caller
then reads the whole workbook again with openpyxl (a test compares both routes on generated
workbooks).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lxml import etree

from .package import SAFE_SETTINGS

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _C, _V, _IS, _T, _R, _SI = (f"{_NS}{t}" for t in ("row", "c", "v", "is", "t", "r", "si"))
_TEXT_PARTS = frozenset(f"{_NS}{t}" for t in ("t", "r", "rPh", "phoneticPr"))
_RUN_PARTS = frozenset(f"{_NS}{t}" for t in ("rPr", "t"))
_REF = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")
#: Number formats a number read here may have: the ones openpyxl gives numbers as they are
#: under (``roster._cell_text`` pads under a "0000" one). No date format is one of them, so
#: no number read here is one openpyxl would have turned into a date.
_PLAIN_FORMAT = re.compile(r"General|0+")

#: A cell as openpyxl's read-only worksheet gives it: (value, number format).
Cell = tuple[object, str]


class NotPlain(Exception):
    """This workbook is for openpyxl to read."""


def first_sheet_rows(path: Path) -> Iterator[list[Cell | None]]:
    """Each row of the first worksheet (None where openpyxl gives an empty cell), as it is
    read; ``NotPlain`` as soon as something is met that this reading does not follow."""
    try:
        archive, sheet, shared, formats = _parts(path)
        try:
            with archive.open(sheet) as source:  # inflated as it is read
                yield from _sheet_rows(source, shared, formats)
        finally:
            archive.close()
    except NotPlain:
        raise
    except Exception as exc:  # a damaged part, or an openpyxl whose internals moved: openpyxl
        raise NotPlain from exc  # reads it (and says what is wrong, if anything is)


def _parts(path: Path) -> tuple[zipfile.ZipFile, str, list[str], list[str]]:
    """The open workbook and its first worksheet's name, the shared strings, each cell
    style's number format — the parts found and the styles read
    by openpyxl itself."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
    from openpyxl.styles.stylesheet import Stylesheet
    from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS
    from openpyxl.xml.functions import fromstring

    reader: Any = ExcelReader(str(path), read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_workbook()
        sheets = [rel for _, rel in reader.parser.find_sheets() if rel.target in reader.valid_files]
        if not sheets or "chartsheet" in str(sheets[0].Type):
            raise NotPlain
        styles: Any = Stylesheet.from_tree(fromstring(reader.archive.read(ARC_STYLE)))
        if not styles.cell_styles:
            raise NotPlain
        formats: list[str] = []
        for style in styles.cell_styles:
            number = style.numFmtId
            if number < BUILTIN_FORMATS_MAX_SIZE:
                formats.append(BUILTIN_FORMATS.get(number, "General"))
            else:
                formats.append(styles.number_formats[number - BUILTIN_FORMATS_MAX_SIZE])
        found = reader.package.find(SHARED_STRINGS)
        shared: list[str] = []
        if found is not None:
            with reader.archive.open(found.PartName[1:]) as source:
                shared = _shared_strings(source)
    except BaseException:
        reader.archive.close()
        raise
    archive: zipfile.ZipFile = reader.archive
    return archive, str(sheets[0].target), shared, formats


def _text(node: etree._Element) -> str:
    """``openpyxl.cell.text.Text.from_tree(node).content``: its last t, then each run's last t."""
    plain: str | None = None
    runs: list[str] = []
    for part in node:
        if part.tag not in _TEXT_PARTS:
            raise NotPlain
        if part.tag == _T:
            plain = part.text
        elif part.tag == _R:
            run: str | None = None
            for piece in part:
                if piece.tag not in _RUN_PARTS:
                    raise NotPlain
                if piece.tag == _T:
                    run = piece.text
            if run is not None:
                runs.append(run)
    return (plain if plain is not None else "") + "".join(runs)


def _shared_strings(source: IO[bytes]) -> list[str]:
    """``openpyxl.reader.strings.read_string_table``, each entry let go of once read."""
    strings: list[str] = []
    for _, item in etree.iterparse(source, events=("end",), tag=_SI, **SAFE_SETTINGS):
        strings.append(_text(item).replace("x005F_", ""))
        _let_go(item)
    return strings


def _let_go(element: etree._Element) -> None:
    """Free a read element and those before it (the tree iterparse builds stays small)."""
    element.clear()
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


def column_number(letters: str) -> int:
    """A column's number from its letters: ``A`` → 1, ``AA`` → 27 (upper case)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


#: Column numbers by their letters, as met (a sheet has a few).
_COLUMNS: dict[str, int] = {}


def _sheet_rows(
    source: IO[bytes], shared: list[str], formats: list[str]
) -> Iterator[list[Cell | None]]:
    """``ReadOnlyWorksheet._cells_by_row`` over the sheet without dimensions, a row at a time
    (each let go of once read): a missing row comes as an empty one."""
    counter = 1
    for _, element in etree.iterparse(source, events=("end",), tag=_ROW, **SAFE_SETTINGS):
        written = element.get("r")
        if written is None or not written.isdigit():
            raise NotPlain
        index = int(written)
        if index < counter:
            raise NotPlain  # out of order: openpyxl passes over such a row
        cells = [_cell(c, written, shared, formats) for c in element]
        while counter < index:
            yield []
            counter += 1
        yield _padded(cells)
        counter += 1
        _let_go(element)


def _cell(
    cell: etree._Element, row: str, shared: list[str], formats: list[str]
) -> tuple[int, Cell]:
    """``WorkSheetParser.parse_cell`` with ``data_only``: (column, (value, number format)).
    A number under a date or other format, or a type openpyxl converts, is not plain."""
    if cell.tag != _C:
        raise NotPlain
    kind = cell.get("t", "n")
    match = _REF.fullmatch(cell.get("r") or "")
    if match is None:
        raise NotPlain
    letters, number = match.group(1, 2)
    if number != row:
        raise NotPlain
    column = _COLUMNS.get(letters)
    if column is None:
        column = _COLUMNS[letters] = column_number(letters)
    written_style = cell.get("s")
    if written_style == "":
        raise NotPlain  # openpyxl keeps "" as the style and fails on it later
    style = int(written_style) if written_style else 0
    number_format = formats[style]
    value: object = None
    if kind == "inlineStr":
        inline = _first(cell, _IS)
        value = _text(inline) if inline is not None else None
    else:
        found = _first(cell, _V)  # findtext(v) or None
        text = (found.text or None) if found is not None else None
        if text is not None:
            if kind == "n":
                if not _PLAIN_FORMAT.fullmatch(number_format):
                    raise NotPlain
                value = float(text) if "." in text or "e" in text.lower() else int(text)
            elif kind == "s":
                value = shared[int(text)]
            elif kind == "b":
                value = bool(int(text))
            elif kind in ("str", "e"):
                value = text
            else:
                raise NotPlain
    return column, (value, number_format)


def _first(element: etree._Element, tag: str) -> etree._Element | None:
    """``element.find(tag)`` for one plain tag, without ElementPath (a third of its cost)."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _padded(cells: list[tuple[int, Cell]]) -> list[Cell | None]:
    """``ReadOnlyWorksheet._get_row`` without dimensions: the row as wide as its last cell's
    column, each cell at its column, a later one at a column winning."""
    if not cells:
        return []
    width = cells[-1][0]
    out: list[Cell | None] = [None] * width
    for column, cell in cells:
        if 1 <= column <= width:
            out[column - 1] = cell
    return out
