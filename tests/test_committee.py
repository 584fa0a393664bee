"""The committee's word (班子审定意见) is final; the leader's grade stays visible; a grade
written as a proposal (建议评为好) without a tick is read, with a note."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from pipeline.models import Period
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


def _read(workspace: Workspace, **changes: str) -> tuple[str | None, str, list[tuple[str, str]]]:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0003_*.docx")
    entries = dataclasses.replace(MODEST, **changes)  # type: ignore[arg-type]
    (workspace.inbox / "a.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=AT)
    [record] = accepted_records(workspace, Q4)
    grade = record.grade.value if record.grade else None
    return grade, record.status.value, [(i.code, i.message) for i in record.issues]


@pytest.mark.parametrize(
    ("review", "tick", "grade", "said"),
    [
        ("经班子研究，调整为一般等次。", "☑较好", "一般",
         "分管领导评为“较好”，班子审定调整为“一般”；以班子审定为准"),
        ("同意，定为较好等次。", "", "较好", "分管领导未定等次，班子审定为“较好”；以班子审定为准"),
        ("同意，定为较好等次。", "☑较好", "较好", None),
        ("同意分管领导意见。", "☑较好", "较好", None),
    ],
)  # fmt: skip
def test_the_committee_sets_or_changes_the_grade(
    workspace: Workspace, review: str, tick: str, grade: str, said: str | None
) -> None:
    found, status, issues = _read(workspace, review_opinion=review, grade_tick=tick)
    assert found == grade and status == "已审定"
    changed = [m for c, m in issues if c == "GRADE_CHANGED_BY_COMMITTEE"]
    assert changed == ([said] if said else [])
    assert "MISSING_GRADE" not in {c for c, _ in issues}


def test_two_grades_in_the_committee_opinion_are_an_error(workspace: Workspace) -> None:
    _, status, issues = _read(workspace, review_opinion="初定为好，后调整为一般。")
    assert status == "异常"
    assert ("MULTIPLE_GRADES", "班子审定意见中同时写了 好、一般") in issues


def test_a_proposed_grade_without_a_tick_is_read_with_a_note(workspace: Workspace) -> None:
    opinion = "该同志工作认真，建议评为好。"
    found, status, issues = _read(
        workspace, leader_opinion=opinion, grade_tick="", review_opinion=""
    )
    assert (found, status) == ("好", "已评鉴")
    assert issues == [
        ("GRADE_FROM_WORDS", "表上没有勾选等次，等次“好”取自分管领导意见中的“建议评为好”")
    ]
