"""Tables people edited: a moved border, an inserted row, text typed in a row of its own.
Never two fields read from one cell; nothing dropped without a word; hidden leave days never
become zeros quietly."""

from __future__ import annotations

import copy
import dataclasses
import io
from collections.abc import Callable
from datetime import datetime

import docx
from docx.table import Table

from pipeline.models import Period, SheetRecord
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
ENTRIES = dataclasses.replace(MODEST, late="2", early_leave="0", absent="0", leave_days="3")


def _row_of(table: Table, text: str) -> int:
    return next(i for i, row in enumerate(table.rows) if any(text in c.text for c in row.cells))


def _read(workspace: Workspace, edit: Callable[[Table], None]) -> SheetRecord:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0003_*.docx")
    document = docx.Document(io.BytesIO(fill(blank.read_bytes(), ENTRIES)))
    edit(document.tables[0])
    out = io.BytesIO()
    document.save(out)
    (workspace.inbox / "a.docx").write_bytes(out.getvalue())
    ingest(workspace, received_at=AT)
    [record] = accepted_records(workspace, Q4)
    return record


def test_a_moved_border_never_gives_one_cell_to_two_fields(workspace: Workspace) -> None:
    """The border between the 迟到 and 早退 values dragged away: one cell under both labels.
    It used to give 早退 the 迟到 value silently."""

    def merge(table: Table) -> None:
        values = _row_of(table, "迟到（次）") + 1
        merged = table.cell(values, 1).merge(table.cell(values, 2))
        merged.text = "2"

    record = _read(workspace, merge)
    codes = [(i.code, i.field) for i in record.issues]
    assert ("CELL_SHARED", "early_leave") in codes
    assert record.attendance.late == 2  # the first label's cell, as printed
    assert record.status == "异常"  # HR must look: 早退 is not known


def test_an_inserted_empty_row_hides_no_leave_days(workspace: Workspace) -> None:
    """An empty row between the attendance labels and their values: the values moved down.
    Not zeros with a warning: an error naming the numbers found outside the cells."""

    def insert(table: Table) -> None:
        values = table.rows[_row_of(table, "迟到（次）") + 1]._tr
        empty = copy.deepcopy(values)
        for text in empty.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"):
            text.text = ""
        values.addprevious(empty)

    record = _read(workspace, insert)
    attendance = [i for i in record.issues if i.field == "attendance"]
    assert [(i.code, i.severity) for i in attendance] == [("MISSING_FIELD", "error")]
    assert "“3”" in attendance[0].message and "“2”" in attendance[0].message
    assert record.status == "异常"
    assert {i.code for i in record.issues} >= {"UNPLACED_TEXT"}


def test_text_typed_in_a_row_of_its_own_is_reported(workspace: Workspace) -> None:
    def overflow(table: Table) -> None:
        third = table.rows[_row_of(table, "第三月")]._tr
        extra = copy.deepcopy(third)
        texts = list(extra.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"))
        for text in texts:
            text.text = ""
        texts[-1].text = "补充：12月还参加了应急演练。"
        third.addnext(extra)

    record = _read(workspace, overflow)
    unplaced = [(i.field, i.message) for i in record.issues if i.code == "UNPLACED_TEXT"]
    assert len(unplaced) == 1
    field, message = unplaced[0]
    assert field == "month3" and "补充：12月还参加了应急演练。" in message
    assert "第三月工作纪实" in message
