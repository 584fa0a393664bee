"""A record sheet re-typed in Excel or WPS Spreadsheets (.xlsx) with the same labels → RawSheet.

Read from the package XML with the same safe unzip and entity-free parser as Word files
(openpyxl would parse untrusted XML with the standard library's expat), placed on the same
grid and read by the same label table as every other format.
"""

from __future__ import annotations

import re

from lxml import etree

from .layout import MIN_LABELS, find_fields, read_loose_lines
from .limits import DEFAULT_LIMITS, Limits
from .package import Package, open_package
from .raw import RawSheet, ReadFailure
from .wordml import GridCell
from .workbook import column_number

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _x(tag: str) -> str:
    return f"{{{_NS}}}{tag}"


def _position(ref: str) -> tuple[int, int]:
    """``B3`` → (row 2, column 1), zero-based."""
    match = _REF.match(ref.upper())
    if not match:
        raise ReadFailure("UNREADABLE_FILE", f"工作表中的单元格地址“{ref}”无效，文件可能已损坏")
    return int(match.group(2)) - 1, column_number(match.group(1)) - 1


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(t.text or "" for t in element.iter(_x("t")))


def _first_sheet(package: Package) -> str:
    workbook = package.xml("xl/workbook.xml")
    sheet = workbook.find(f"{_x('sheets')}/{_x('sheet')}")
    if sheet is None:
        raise ReadFailure("NOT_A_RECORD_SHEET", "工作簿中没有工作表")
    rel_id = sheet.get(f"{{{_R_NS}}}id", "")
    if package.has("xl/_rels/workbook.xml.rels"):
        for found, _, written in package.relationships("xl/_rels/workbook.xml.rels"):
            if found == rel_id:
                target = written.lstrip("/")
                return target if target.startswith("xl/") else f"xl/{target}"
    return "xl/worksheets/sheet1.xml"


def read_xlsx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[RawSheet]:
    """Read the first worksheet of a workbook as a record sheet."""
    package = open_package(data, what="Excel 工作簿", limits=limits)
    if not package.has("xl/workbook.xml"):
        raise ReadFailure("UNREADABLE_FILE", "压缩包中没有工作簿内容，不是有效的 .xlsx 文件")
    shared = []
    if package.has("xl/sharedStrings.xml"):
        shared = [_text(si) for si in package.xml("xl/sharedStrings.xml").iter(_x("si"))]
    sheet = package.xml(_first_sheet(package))
    values: dict[tuple[int, int], str] = {}
    for cell in sheet.iter(_x("c")):
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            text = _text(cell.find(_x("is")))
        else:
            raw = cell.findtext(_x("v")) or ""
            if kind == "s":
                text = shared[int(raw)] if raw.isdigit() and int(raw) < len(shared) else ""
            else:
                text = raw[:-2] if kind == "n" and raw.endswith(".0") else raw
        if text.strip():
            values[_position(str(cell.get("r", "A1")))] = text
    spans: dict[tuple[int, int], int] = {}
    covered: set[tuple[int, int]] = set()
    continued: set[tuple[int, int]] = set()
    for merge in sheet.iter(_x("mergeCell")):
        first, _, last = str(merge.get("ref", "")).partition(":")
        if not last:
            continue
        (r0, c0), (r1, c1) = _position(first), _position(last)
        spans[(r0, c0)] = c1 - c0 + 1
        for row in range(r0, r1 + 1):
            for column in range(c0, c1 + 1):
                if (row, column) == (r0, c0):
                    continue
                if column == c0:
                    continued.add((row, column))  # the merge seen from the rows below
                    spans[(row, column)] = c1 - c0 + 1
                else:
                    covered.add((row, column))
    places = sorted(set(values) | set(spans) | continued)
    cells = [
        GridCell(
            row,
            column,
            spans.get((row, column), 1),
            values.get((row, column), ""),
            (row, column) in continued,
        )
        for row, column in places
        if (row, column) not in covered
    ]
    taken = set(places) | covered
    width = max((c + spans.get((r, c), 1) for r, c in places), default=0)
    cells += [  # empty cells are where a value would be
        GridCell(row, column, 1, "")
        for row in sorted({r for r, _ in places})
        for column in range(width)
        if (row, column) not in taken
    ]
    cells.sort(key=lambda c: (c.row, c.col))
    fields, labels, problems = find_fields(cells, "工作表")
    if labels < MIN_LABELS:
        raise ReadFailure(
            "NOT_A_RECORD_SHEET",
            "工作表中找不到记实表的栏目（姓名、工作纪实、出勤记录等），可能交错了文件",
        )
    raw_sheet = RawSheet(format="xlsx", fields=fields, labels_found=labels, problems=problems)
    read_loose_lines(raw_sheet, ((c.text, f"工作表{c.row + 1}行") for c in cells if c.text))
    return [raw_sheet]
