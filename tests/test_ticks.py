"""Ticks in every form Word and PDF produce, and bullets that are not ticks."""

from __future__ import annotations

import dataclasses
import io
import zipfile
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


def _with_part(package: bytes, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, data if item.filename == name else source.read(item))
    return out.getvalue()


@pytest.mark.parametrize(
    ("written", "encoding"),
    [
        ("Wingdings 2", "UTF-8"),
        ("WINGDINGS 2", "UTF-8"),
        ("&#87;ingdings 2", "UTF-8"),  # a character reference spells the name
        ("&#x57;&#x49;NGDINGS 2", "UTF-8"),
        ("Wingdings 2", "UTF-16"),  # the letters are not the bytes searched for
    ],
)
def test_a_tick_typed_in_a_symbol_font_is_read_however_the_font_name_is_written(
    workspace: Workspace, written: str, encoding: str
) -> None:
    """The letter R in Wingdings 2 shows a ticked box. The reader looks at every run's font
    only when the part's bytes may name a symbol font (``Package.may_hold``): that shortcut
    must not miss a name in capitals, behind a character reference, or in a UTF-16 part."""
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    sheet = fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick=""))
    with zipfile.ZipFile(io.BytesIO(sheet)) as package:
        xml = package.read("word/document.xml").decode()
    run = (
        f'</w:t></w:r><w:r><w:rPr><w:rFonts w:ascii="{written}" w:hAnsi="{written}"/>'
        '</w:rPr><w:t>R</w:t></w:r><w:r><w:t xml:space="preserve">较好'
    )
    assert xml.count("□较好") == 1
    xml = xml.replace("□较好", run).replace("encoding='UTF-8'", f"encoding='{encoding}'")
    assert f"encoding='{encoding}'" in xml
    data = xml.encode("utf-16" if encoding == "UTF-16" else "utf-8")
    [read] = read_docx(_with_part(sheet, "word/document.xml", data))
    assert read_leader_cell(read.fields["leader_opinion"].text).grades == ["较好"]


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
