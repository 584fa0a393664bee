"""Numbers and dates as people write them: read them, or say they cannot be read — never
"未填写" for something written, never a wrong value without a word."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import Period
from pipeline.normalize import find_date, parse_number
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


@pytest.mark.parametrize(
    ("text", "value", "noted"),
    [
        ("事假1天、病假2天", 3, True),
        ("事假半天，病假1天", 1.5, True),
        ("病假 2 天；年休假 3 天", 5, True),
        ("1次（10月8日）", 1, False),
        ("2天(病假)", 2, False),
        ("（10月8日）", None, False),  # only a remark: no count to read
        ("（无）", 0, False),
        ("病假", None, False),
    ],
)
def test_numbers(text: str, value: float | None, noted: bool) -> None:
    number = parse_number(text)
    assert (number.value, bool(number.note)) == (value, noted)


@given(st.lists(st.integers(0, 30), min_size=2, max_size=4),
       st.sampled_from(["、", "，", "；", " "]))  # fmt: skip
def test_listed_kinds_of_leave_add_up(days: list[int], separator: str) -> None:
    kinds = ["事假", "病假", "年休假", "婚假"]
    text = separator.join(f"{kind}{n}天" for kind, n in zip(kinds, days, strict=False))
    assert parse_number(text).value == sum(days)


END = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("text", "day", "bad"),
    [
        ("签字：张伟 27.1.4", date(2027, 1, 4), False),
        ("签字：张伟 1月4日", date(2027, 1, 4), False),
        ("签字：张伟　　年　1　月　4　日", date(2027, 1, 4), False),
        ("签字：张伟 12月28日", date(2026, 12, 28), False),
        ("签字：张伟 2027年1月4日", date(2027, 1, 4), False),
        ("签字：张伟　　　　年　　月　　日", None, False),  # nothing written
        ("签字：张伟 2027年2月30日", None, True),
        ("签字：张伟 1月35日", None, True),
    ],
)
def test_dates(text: str, day: date | None, bad: bool) -> None:
    assert find_date(text, near=END) == (day, bad)


def _sheet(workspace: Workspace, **changes: str) -> tuple[object, list[tuple[str, str, str]]]:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    entries = dataclasses.replace(MODEST, **changes)  # type: ignore[arg-type]
    (workspace.inbox / "a.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=AT)
    [record] = accepted_records(workspace, Q4)
    return record, [(i.code, i.severity, i.message) for i in record.issues]


def test_leave_listed_by_kind_on_a_sheet(workspace: Workspace) -> None:
    record, issues = _sheet(workspace, leave_days="事假1天、病假2天")
    assert record.attendance.leave_days == 3  # type: ignore[attr-defined]
    assert issues == [("NUMBER_WORKED_OUT", "info", "请假（天）：“事假1天、病假2天”按合计 3 天计")]
    assert record.status == "已审定"  # type: ignore[attr-defined]


def test_a_date_without_the_year_takes_the_quarters(workspace: Workspace) -> None:
    record, issues = _sheet(workspace, signature="签字：张伟　　　1月4日")
    assert str(record.signature_date) == "2027-01-04"  # type: ignore[attr-defined]
    assert issues == []


def test_a_written_date_that_cannot_be_read_is_not_called_missing(workspace: Workspace) -> None:
    record, issues = _sheet(workspace, signature="签字：张伟　2027年2月30日")
    assert record.signature_date is None  # type: ignore[attr-defined]
    assert [(c, m) for c, _, m in issues] == [
        ("INVALID_DATE", "签字日期“签字：张伟　2027年2月30日”无法识别为日期，请核对")
    ]
