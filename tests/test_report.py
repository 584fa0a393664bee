"""The exception report: JSON keys, workbook, a self-contained page that escapes everything."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.cli import run
from pipeline.models import Finding, Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.report import SEVERITY_ORDER, _Found, _Sorted, write_report
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)

    def send(person_id: str, entries: object, received: datetime) -> None:
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        path = workspace.inbox / f"{person_id}.docx"
        path.write_bytes(fill(blank.read_bytes(), entries))  # type: ignore[arg-type]
        ingest(workspace, [path], received_at=received)

    on_time = datetime(2027, 1, 5, 10)
    send("0001", MODEST, on_time)
    send("0002", dataclasses.replace(MODEST, grade_tick="☑一般"), on_time)
    send("0003", dataclasses.replace(MODEST, late="很多"), on_time)
    send("0004", MODEST, datetime(2027, 1, 8, 9))
    send("0005", dataclasses.replace(MODEST, leave_days="35"), on_time)
    (workspace.inbox / "<img src=x onerror=alert(1)>.docx").write_bytes(b"junk")
    ingest(workspace, received_at=on_time)
    return workspace


def test_report_json_rows_and_keys(quarter: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-w", str(quarter.root), "report", "--period", "2026Q4", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(
        list(r) == ["code", "severity", "person_id", "name", "unit", "file", "field", "message"]
        for r in rows
    )
    found = {(r["code"], r["person_id"]) for r in rows}
    assert ("LATE_RETURN", "0004") in found
    assert ("NEEDS_FOLLOW_UP", "0002") in found
    assert ("INVALID_NUMBER", "0003") in found
    assert ("GRADE_WITH_LONG_LEAVE", "0005") in found
    assert ("MISSING_RETURN", "0006") in found
    assert ("UNREADABLE_FILE", "") in found
    assert [r["severity"] for r in rows] == sorted(
        (r["severity"] for r in rows), key=["error", "warning", "info"].index
    )


def test_report_workbook_and_page(quarter: Workspace) -> None:
    written = write_report(quarter, Q4, today=date(2027, 1, 7))
    assert written.xlsx == quarter.root / "outbox/2026Q4/report/异常报告.xlsx"
    book = load_workbook(written.xlsx)
    assert book.sheetnames == ["明细", "汇总"]
    detail = list(book["明细"].iter_rows(values_only=True))
    assert detail[0] == (
        "代码",
        "问题",
        "级别",
        "编号",
        "姓名",
        "单位",
        "文件",
        "栏目",
        "情况",
        "怎么办",
    )
    late = next(r for r in detail if r[0] == "LATE_RETURN")
    assert (
        late[3:6] == ("0004", "赵磊", "泽州分局")
        and late[8] == "2027-01-08 收到，晚于截止日期 2027-01-06（暂定）"
    )
    html = written.html.read_text(encoding="utf-8")
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<link" not in html and "<script" not in html  # self-contained, nothing runs
    for code in (
        "LATE_RETURN",
        "MISSING_RETURN",
        "NEEDS_FOLLOW_UP",
        "GRADE_WITH_LONG_LEAVE",
        "INVALID_NUMBER",
    ):
        assert f'<h2 id="{code}">' in html


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
def test_report_page_renders_in_chromium(quarter: Workspace, tmp_path: Path) -> None:
    written = write_report(quarter, Q4)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "异常报告.png"
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'c'}",
         "--dump-dom", written.html.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert '<h2 id="summary">汇总</h2>' in dom and '<h2 id="LATE_RETURN">' in dom
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'c2'}",
         f"--screenshot={shot}", "--window-size=1200,1600", written.html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000


ODD_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
FINDINGS = st.lists(
    st.builds(
        Finding, code=st.sampled_from(["B", "A", "Ä", "𝔸", ""]) | ODD_TEXT,
        severity=st.sampled_from(["error", "warning", "info"]), person_id=ODD_TEXT,
        name=ODD_TEXT, unit=st.sampled_from(["", "一科", "二科", "a"]) | ODD_TEXT,
        file=ODD_TEXT, field=ODD_TEXT, message=ODD_TEXT,
    ),
    max_size=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(found=FINDINGS)
def test_findings_sorted_on_disk_are_in_the_order_python_sorts_them(found: list[Finding]) -> None:
    """The report sorts in a temporary database: the same order as sorting by severity, code,
    unit, person and file in Python, ties kept as they came (NUL, astral, combining text)."""
    by_python = sorted(
        found, key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.unit, f.person_id, f.file)
    )
    in_python = [_Found(*(getattr(f, name) for name in _Found._fields)) for f in by_python]
    with _Sorted(iter(found)) as rows:
        assert len(rows) == len(found)
        assert list(rows) == in_python
        assert list(rows) == in_python  # read again, as the workbook writer does
        codes = list(dict.fromkeys(f.code for f in in_python))
        assert [code for code, _, _ in rows.codes()] == codes
        for code, severity, count in rows.codes():
            mine = [f for f in in_python if f.code == code]
            assert (severity, count) == (mine[0].severity, len(mine))
            assert list(rows.of(code)) == mine
        assert rows.severities() == Counter(f.severity for f in found)
