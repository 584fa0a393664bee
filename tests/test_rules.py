"""Each rule of the notice fires on the case built for it and not on its near miss."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline.ledger import Ledger
from pipeline.models import Attendance, Grade, Issue, Period, SheetRecord, Source, Status
from pipeline.rules import RuleSettings, apply_rules
from pipeline.sample import sample_people
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.status import status
from pipeline.workdays import Deadline
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
DEADLINE = Deadline(Q4, date(2027, 1, 6), provisional=True)
PEOPLE = sample_people()[:4]  # 0001 张伟, 0002 李娜, 0003 王芳 (城区分局), 0004 赵磊 (泽州分局)


def record(
    person_id: str,
    *,
    grade: Grade | None = Grade.JIAOHAO,
    leave: float = 0,
    received: str = "2027-01-05T10:00:00+08:00",
    issues: list[Issue] | None = None,
) -> SheetRecord:
    person = next(p for p in PEOPLE if p.person_id == person_id)
    return SheetRecord(
        person_id=person.person_id, name=person.name, gender=person.gender.value, unit=person.unit,
        position=person.position, duties="", period="2026Q4", monthly_records=["a", "b", "c"],
        attendance=Attendance(leave_days=leave), self_evaluation="s", signature_date=date(2027, 1, 4),
        leader_opinion="o" if grade else "", grade=grade, review_opinion="", status=Status.GRADED if grade else Status.PENDING,
        source=Source(path=f"inbox/{person_id}.docx", sha256="0" * 64, format="docx", received_at=received),
        issues=issues or [],
    )  # fmt: skip


def codes(
    records: list[SheetRecord], settings: RuleSettings | None = None, **kwargs: object
) -> list[tuple[str, str]]:
    result = apply_rules(Q4, DEADLINE, PEOPLE, records, settings or RuleSettings(), **kwargs)  # type: ignore[arg-type]
    return [(f.code, f.person_id or f.unit) for f in result.findings()]


def all_four(**overrides: object) -> list[SheetRecord]:
    return [record(pid, **overrides) for pid in ("0001", "0002", "0003", "0004")]  # type: ignore[arg-type]


def test_on_time_good_sheets_give_no_findings() -> None:
    assert codes(all_four()) == []


def test_late_return_fires_after_the_deadline_day_only() -> None:
    records = [*all_four()[:3], record("0004", received="2027-01-07T08:30:00+08:00")]
    assert codes(records) == [("LATE_RETURN", "0004")]
    records = [*all_four()[:3], record("0004", received="2027-01-06T23:59:00+08:00")]
    assert codes(records) == []


def test_leave_over_30_days_means_no_grade() -> None:
    missing_grade = Issue(code="MISSING_GRADE", severity="error", field="grade", message="x")
    ungraded = record("0001", grade=None, leave=31, issues=[missing_grade])
    result = apply_rules(Q4, DEADLINE, PEOPLE, [ungraded, *all_four()[1:]], RuleSettings())
    assert list(result.findings()) == []
    assert result.records["0001"].status is Status.UNGRADED
    assert result.records["0001"].issues == []


def test_grade_with_long_leave_is_an_error_but_30_days_is_fine() -> None:
    assert codes([record("0001", leave=31), *all_four()[1:]]) == [("GRADE_WITH_LONG_LEAVE", "0001")]
    assert codes([record("0001", leave=30), *all_four()[1:]]) == []


def test_threshold_comes_from_settings() -> None:
    assert codes(
        [record("0001", leave=21), *all_four()[1:]], RuleSettings(leave_threshold_days=20)
    ) == [("GRADE_WITH_LONG_LEAVE", "0001")]


def test_missing_return_names_unit_and_leader() -> None:
    result = apply_rules(
        Q4, DEADLINE, PEOPLE, all_four()[:3], RuleSettings(), today=date(2027, 1, 7)
    )
    [finding] = result.findings()
    assert (finding.code, finding.severity, finding.person_id, finding.unit) == (
        "MISSING_RETURN",
        "warning",
        "0004",
        "泽州分局",
    )
    assert finding.message == "2026年第4季度记实表未交（截止 2027-01-06（暂定）），分管领导 王建国"


def test_repeated_non_submission_needs_two_missing_quarters() -> None:
    assert codes(all_four()[:3], missing_before={"0004": ["2026Q2"]}) == [
        ("MISSING_RETURN", "0004"), ("REPEATED_NON_SUBMISSION", "0004"),
    ]  # fmt: skip
    assert codes(all_four()[:3], missing_before={}) == [("MISSING_RETURN", "0004")]


@pytest.mark.parametrize(
    ("grade", "fires"),
    [(Grade.YIBAN, True), (Grade.CHA, True), (Grade.JIAOHAO, False), (Grade.HAO, False)],
)
def test_yiban_and_cha_are_listed_for_follow_up(grade: Grade, fires: bool) -> None:
    found = codes([record("0001", grade=grade), *all_four()[1:]])
    assert (("NEEDS_FOLLOW_UP", "0001") in found) is fires
    if fires:
        assert found == [("NEEDS_FOLLOW_UP", "0001")]


def test_hao_quota_off_by_default_and_per_unit_when_set() -> None:
    records = [record(pid, grade=Grade.HAO) for pid in ("0001", "0002")] + [
        record("0003"),
        record("0004", grade=Grade.HAO),
    ]
    assert codes(records) == []
    assert codes(records, RuleSettings(hao_quota=0.5)) == [
        ("GRADE_QUOTA_EXCEEDED", "城区分局"),
        ("GRADE_QUOTA_EXCEEDED", "泽州分局"),
    ]
    assert codes(records, RuleSettings(hao_quota=0.7)) == [("GRADE_QUOTA_EXCEEDED", "泽州分局")]
    assert codes(records, RuleSettings(hao_quota=0.75, hao_quota_scope="overall")) == []
    assert codes(records, RuleSettings(hao_quota=0.7, hao_quota_scope="overall")) == [
        ("GRADE_QUOTA_EXCEEDED", "")
    ]


def test_status_counts_per_unit_and_lists_the_missing(workspace: Workspace) -> None:
    generate(workspace, Q4)
    for person_id, entries in (
        ("0001", MODEST),
        ("0002", dataclasses.replace(MODEST, review_opinion="")),
        ("0008", dataclasses.replace(MODEST, grade_tick="", leader_opinion="", review_opinion="")),
    ):
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    late = workspace.inbox / "late.docx"
    [blank] = workspace.blank_dir(Q4).glob("*/0003_*.docx")
    late.write_bytes(fill(blank.read_bytes(), MODEST))
    ingest(workspace, [late], received_at=datetime(2027, 1, 8, 9))
    report = status(workspace, Q4, today=date(2027, 1, 7))
    data = report.as_json()
    assert (data["deadline"], data["provisional"], data["days_left"]) == ("2027-01-06", True, -1)
    units = {u["unit"]: u for u in data["units"]}  # type: ignore[attr-defined]
    assert units["城区分局"] == {
        "unit": "城区分局",
        "expected": 3,
        "returned": 3,
        "graded": 3,
        "reviewed": 2,
        "missing": 0,
        "late": 1,
    }
    assert units["综合行政执法队"] == {
        "unit": "综合行政执法队",
        "expected": 4,
        "returned": 1,
        "graded": 0,
        "reviewed": 0,
        "missing": 3,
        "late": 0,
    }
    assert units["泽州分局"]["expected"] == 4  # includes 冯军, seconded from 办公室
    assert {"person_id": "0012", "name": "冯军", "unit": "泽州分局", "leader": "刘志强"} in data[
        "missing"
    ]  # type: ignore[operator]
    assert len(data["missing"]) == 12  # type: ignore[arg-type]


def test_old_ledger_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "kaohe.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
            " received_at TEXT NOT NULL, format TEXT NOT NULL, expected_period TEXT, raw TEXT, read_code TEXT,"
            " read_message TEXT, person_id TEXT, period TEXT, outcome TEXT NOT NULL DEFAULT 'pending',"
            " reason TEXT NOT NULL DEFAULT '', record TEXT, issues TEXT NOT NULL DEFAULT '[]', UNIQUE (path, sha256));"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "INSERT INTO files (path, sha256, size, received_at, format) VALUES ('inbox/a.docx', 'x', 1, '2027-01-05', 'docx');"
        )
    with Ledger(path) as ledger:
        [row] = list(ledger.iter_rows())
        assert row.reader_version == 0
        assert (
            ledger.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
            == "5"
        )
        assert ledger.appeals() == []  # the appeals table comes with the schema
        plan = ledger.db.execute(
            "EXPLAIN QUERY PLAN SELECT path FROM files WHERE sha256 = 'x'"
        ).fetchall()
        assert "files_by_sha" in str([tuple(r) for r in plan])  # readings found by content
