"""The sheet disagrees with the roster: a changed name, position, unit or gender; a name that
differs only invisibly or by a dropped middle dot. Accepted by the form code, and said."""

from __future__ import annotations

import io
from datetime import datetime

import docx
import pytest

from pipeline.models import Period
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .docs import original_attachment
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


def _edited(workspace: Workspace, person_id: str, *, name: str = "", unit_position: str = "",
            gender: str = "") -> bytes:  # fmt: skip
    [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
    document = docx.Document(io.BytesIO(fill(blank.read_bytes(), MODEST)))
    table = document.tables[0]
    for column, text in ((1, name), (3, gender), (5, unit_position)):
        if text:
            table.cell(0, column).paragraphs[0].runs[0].text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _issues(workspace: Workspace, person_id: str) -> list[tuple[str, str, str]]:
    [record] = [r for r in accepted_records(workspace, Q4) if r.person_id == person_id]
    return [(i.code, i.field, i.message) for i in record.issues]


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    return workspace


def test_a_changed_name_with_a_valid_code_is_accepted_and_said(quarter: Workspace) -> None:
    """Today the roster's 王芳 wrote 王方 (or changed her name): not UNKNOWN_PERSON."""
    (quarter.inbox / "a.docx").write_bytes(_edited(quarter, "0003", name="王方"))
    result = ingest(quarter, received_at=AT)
    assert [(f.outcome, f.person_id) for f in result.files] == [("accepted", "0003")]
    assert _issues(quarter, "0003") == [
        (
            "SHEET_DIFFERS_FROM_ROSTER",
            "name",
            "表上姓名“王方”与名单中的“王芳”不同；已按表码认定为 0003 王芳（城区分局）。"
            "如本人改过名，请更新名单",
        )
    ]


@pytest.mark.parametrize(
    "written", ["王\u200b芳", "王芳\ufe0f", "\ufeff王芳", "王\u00ad芳", "王 芳"]
)
def test_names_differing_only_invisibly_are_the_same(quarter: Workspace, written: str) -> None:
    (quarter.inbox / "a.docx").write_bytes(_edited(quarter, "0003", name=written))
    ingest(quarter, received_at=AT)
    assert _issues(quarter, "0003") == []


def test_a_name_without_its_middle_dot_and_without_a_code(quarter: Workspace) -> None:
    sheet = original_attachment(
        name="迪丽努尔买买提", gender="女", unit_position="泽州分局 一级科员"
    )
    (quarter.inbox / "原附件.docx").write_bytes(sheet)
    result = ingest(quarter, period=Q4, received_at=AT)
    assert [(f.outcome, f.person_id) for f in result.files] == [("accepted", "0006")]


def test_a_changed_position_unit_or_gender_is_shown_with_both_values(quarter: Workspace) -> None:
    edited = _edited(quarter, "0003", unit_position="泽州分局 三级主任科员", gender="男")
    (quarter.inbox / "a.docx").write_bytes(edited)
    ingest(quarter, received_at=AT)
    assert _issues(quarter, "0003") == [
        ("SHEET_DIFFERS_FROM_ROSTER", "unit",
         "表上单位为“泽州分局 三级主任科员”，名单中为“城区分局”；记录按名单"),
        ("SHEET_DIFFERS_FROM_ROSTER", "position",
         "表上职务为“泽州分局 三级主任科员”，名单中为“四级主任科员”；记录按名单"),
        ("SHEET_DIFFERS_FROM_ROSTER", "gender", "表上性别为“男”，名单中为“女”；记录按名单"),
    ]  # fmt: skip
    [record] = accepted_records(quarter, Q4)
    assert (record.unit, record.position, record.gender) == ("城区分局", "四级主任科员", "女")
