"""One answer per person per quarter: export, status, the summary workbook and the annual
roll-up agree on each person's grade and result — after an appeal, on long leave, and for
a missing return."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from openpyxl import load_workbook

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.summary import HEADERS
from pipeline.workspace import Workspace

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    sheets = {
        "0007": dataclasses.replace(MODEST, grade_tick="☑一般"),  # appealed to 较好
        "0001": dataclasses.replace(MODEST, leave_days="40", grade_tick=""),  # long leave
        "0002": MODEST,
    }
    for person_id, entries in sheets.items():
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    return workspace


def test_every_output_gives_the_same_result(
    quarter: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(quarter.root)
    base = ("-w", ws)
    kaohe(capsys, *base, "appeal", "file", "-p", "2026Q4", "--person", "0007", "--reason", "有误")
    kaohe(capsys, *base, "appeal", "decide", "-p", "2026Q4", "--person", "0007", "--grade", "较好")

    code, out, _ = kaohe(capsys, *base, "export", "-p", "2026Q4")
    assert code == 0
    exported = {r["person_id"]: r for r in json.loads(out)}
    from_export = {p: (r["grade"], r["status"]) for p, r in exported.items()}

    kaohe(capsys, *base, "report", "-p", "2026Q4")
    book = load_workbook(quarter.period_dir(Q4) / "汇总表.xlsx", read_only=True)
    rows = list(book["全部人员"].iter_rows(values_only=True))
    column = {h: i for i, h in enumerate(HEADERS)}
    from_summary = {
        r[column["编号"]]: (r[column["等次"]] or None, r[column["状态"]]) for r in rows[1:]
    }

    code, out, _ = kaohe(capsys, *base, "annual", "--year", "2026", "--json")
    from_annual = {r["person_id"]: r["quarters"]["2026Q4"] for r in json.loads(out)}

    people = sorted(from_summary)
    assert people == sorted(from_annual)
    for person in people:
        grade, status = from_summary[person]
        word = grade or status
        assert from_annual[person] == word, person
        if person in from_export:
            assert from_export[person] == (grade, status), person
        else:
            assert status == "未交", person

    # the cases the issue names, pinned
    assert from_export["0007"] == ("较好", "已审定")
    assert exported["0007"]["grade_on_sheet"] == "一般"
    assert from_export["0001"] == (None, "不定等次")
    assert "MISSING_GRADE" not in {i["code"] for i in exported["0001"]["issues"]}
    assert from_annual["0003"] == "未交"
