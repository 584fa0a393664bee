"""Generated sheets in a real second word processor (LibreOffice): print layout and round trip."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pdfplumber
import pytest

from pipeline.identity import form_code
from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.workspace import Workspace

from .conftest import convert, needs_soffice
from .filling import MODEST, fill
from .sheets import DUTIES, GENDER, NAME, UNIT_POSITION, cell, footer_text, open_sheet

Q4 = Period(year=2026, quarter=4)
FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"
A4_POINTS = (595, 842)


def page_sizes(pdf: Path) -> list[tuple[int, int]]:
    with pdfplumber.open(pdf) as document:
        return [(round(p.width), round(p.height)) for p in document.pages]


def pdf_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as document:
        return "\n".join(p.extract_text() or "" for p in document.pages)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from pipeline.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("lo") / "ws").workspace
    generate(workspace, Q4)
    return workspace


def sheet(workspace: Workspace, person_id: str) -> Path:
    [path] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
    return path


@needs_soffice
def test_blank_sheet_prints_on_one_a4_page(generated: Workspace, tmp_path: Path) -> None:
    pdf = convert(sheet(generated, "0006"), "pdf", tmp_path)
    assert page_sizes(pdf) == [A4_POINTS]
    text = pdf_text(pdf)
    assert "公务员平时考核工作记实表" in text
    assert "（2026年第4季度）" in text
    assert "迪丽努尔·买买提" in text
    assert form_code(Q4, "0006") in text


@needs_soffice
def test_modestly_filled_sheet_still_prints_on_one_page(
    generated: Workspace, tmp_path: Path
) -> None:
    filled = tmp_path / "filled.docx"
    filled.write_bytes(fill(sheet(generated, "0007").read_bytes(), MODEST))
    pdf = convert(filled, "pdf", tmp_path / "out")
    assert page_sizes(pdf) == [A4_POINTS]
    assert "同意分管领导意见。" in pdf_text(pdf)


@needs_soffice
def test_libreoffice_resave_keeps_values_once_and_identity(
    generated: Workspace, tmp_path: Path
) -> None:
    source = sheet(generated, "0012")
    resaved = convert(source, "docx", tmp_path)
    document = open_sheet(resaved)
    assert cell(document, *NAME) == "冯军"  # once, not 冯军冯军冯军冯军 as with content controls
    assert cell(document, *GENDER) == "男"
    assert cell(document, *UNIT_POSITION) == "办公室 一级主任科员（挂职泽州分局）"
    assert cell(document, *DUTIES) == "公文、督查督办"
    assert [cell(document, r, 2) for r in (2, 3, 4)] == ["", "", ""]
    assert_identity(resaved, form_code(Q4, "0012"))


def assert_identity(path: Path, code: str) -> None:
    assert f"表码：{code}" in footer_text(open_sheet(path))
    with zipfile.ZipFile(path) as package:
        assert f"<vt:lpwstr>{code}</vt:lpwstr>" in package.read("docProps/custom.xml").decode()
        assert (
            f"<cp:keywords>kaohe {code}</cp:keywords>" in package.read("docProps/core.xml").decode()
        )


def test_committed_libreoffice_files_keep_identity() -> None:
    """Files re-saved by LibreOffice 7.4 (Debian 12), committed so this runs without it."""
    blank = FIXTURES / "blank_0012_resaved_by_lo74.docx"
    assert_identity(blank, form_code(Q4, "0012"))
    assert cell(open_sheet(blank), *NAME) == "冯军"
    filled = FIXTURES / "filled_0007_resaved_by_lo74.docx"
    assert_identity(filled, form_code(Q4, "0007"))
    document = open_sheet(filled)
    assert cell(document, *NAME) == "张伟"
    assert cell(document, 2, 2).startswith("1.完成辖区12家重点排污单位现场检查")


@needs_soffice
def test_template_resaved_by_another_word_processor_still_works(tmp_path: Path) -> None:
    from pipeline.template import SheetTemplate
    from pipeline.workspace import shipped_template

    source = tmp_path / "模板.docx"
    source.write_bytes(shipped_template().read_bytes())
    template = SheetTemplate.load(convert(source, "docx", tmp_path / "out"))
    assert {"name", "form_code", "unit_and_position", "month1"} <= template.tags
    prepared = template.prepare(Q4)
    assert prepared.fast is True
    from pipeline.sample import sample_people

    sheet = prepared.render(sample_people()[5])
    document = open_sheet(sheet)
    assert cell(document, *NAME) == "迪丽努尔·买买提"
    assert f"表码：{form_code(Q4, '0006')}" in footer_text(document)
    from .test_generate import _footer_qr

    assert _footer_qr(sheet) == form_code(Q4, "0006")  # the QR picture kept its name


@needs_soffice
def test_edited_sheet_resaved_by_libreoffice_reads_the_same(
    generated: Workspace, tmp_path: Path
) -> None:
    """Tracked changes, a checkbox control and a numbered list, then a LibreOffice re-save."""
    import dataclasses

    from pipeline.readers.docx import read_docx

    from .docs import with_checkbox_grade, with_numbered_list, with_tracked_changes

    entries = dataclasses.replace(MODEST, monthly=("", "", MODEST.monthly[2]), grade_tick="")
    sheet = fill(sheet_bytes(generated, "0007"), entries)
    sheet = with_numbered_list(sheet, "第一月", ["执法检查12家", "办理信访8件"])
    sheet = with_tracked_changes(
        sheet, "第二月", kept="培训2次", inserted="，考试合格", deleted="，缺考1次"
    )
    sheet = with_checkbox_grade(sheet, "一般")
    source = tmp_path / "edited.docx"
    source.write_bytes(sheet)
    [read] = read_docx(sheet)
    [resaved] = read_docx(convert(source, "docx", tmp_path / "lo").read_bytes())
    before, after = read.fields, resaved.fields
    for name in (
        "name",
        "month1",
        "month2",
        "month3",
        "late",
        "leave_days",
        "self_evaluation",
        "review_opinion",
    ):
        assert after[name].text == before[name].text, name
    assert before["month1"].text == "1. 执法检查12家\n2. 办理信访8件"
    assert before["month2"].text == "培训2次，考试合格"
    assert "☑一般" in after["leader_opinion"].text.replace(" ", "")


def sheet_bytes(workspace: Workspace, person_id: str) -> bytes:
    return sheet(workspace, person_id).read_bytes()
