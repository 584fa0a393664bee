"""Ticks in every form Word and PDF produce, and bullets that are not ticks."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.normalize import read_leader_cell
from pipeline.quarter import accepted_records
from pipeline.readers.docx import read_docx
from pipeline.readers.pdf import read_pdf
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .docs import with_symbol_tick
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"


def test_a_symbol_font_tick_in_a_pdf_is_read() -> None:
    """Word's Insert ▸ Symbol (Wingdings 2 F052) exported to PDF by LibreOffice 7.4: the
    text layer has U+F052 in a substitute font. It used to be lost ("没有勾选")."""
    [sheet] = read_pdf((FIXTURES / "symbol_tick_0007_by_lo74.pdf").read_bytes())
    assert read_leader_cell(sheet.fields["leader_opinion"].text).grades == ["较好"]


@pytest.mark.parametrize(
    ("font", "char", "grade"),
    [("Wingdings 2", "F052", "较好"), ("Wingdings", "F0FE", "较好"), ("Wingdings", "F0FC", "较好")],
)
def test_a_symbol_font_tick_in_word_is_read(
    workspace: Workspace, font: str, char: str, grade: str
) -> None:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    sheet = fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick=""))
    [read] = read_docx(with_symbol_tick(sheet, "较好", font=font, char=char))
    assert read_leader_cell(read.fields["leader_opinion"].text).grades == [grade]


def test_bullets_at_the_start_of_opinion_lines_are_not_ticks(workspace: Workspace) -> None:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    entries = dataclasses.replace(
        MODEST, leader_opinion="■ 较好地完成了执法检查任务；\n√ 一般性事务处理及时。",
        grade_tick="☑好",
    )  # fmt: skip
    (workspace.inbox / "a.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=AT)
    [record] = accepted_records(workspace, Q4)
    assert record.grade == "好"
    assert [i.code for i in record.issues] == []
    assert record.leader_opinion == "■ 较好地完成了执法检查任务；\n√ 一般性事务处理及时。"


def test_an_enclosed_character_tick_is_read(workspace: Workspace) -> None:
    """带圈字符: the tick is drawn by a field; its instruction text is not shown text."""
    from .docs import with_enclosed_tick

    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    sheet = fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick=""))
    [read] = read_docx(with_enclosed_tick(sheet, "一般"))
    text = read.fields["leader_opinion"].text
    assert "eq" not in text
    assert read_leader_cell(text).grades == ["一般"]
