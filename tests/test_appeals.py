"""Appeals (复核): a decision changes the effective grade everywhere; the original stays visible."""

from __future__ import annotations

import dataclasses
import json
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from pipeline.flows import archive_quarter
from pipeline.models import Period
from pipeline.stages.annual import annual
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.report import findings
from pipeline.stages.summary import HEADERS, write_summary
from pipeline.workspace import Workspace

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.fixture
def graded(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    for person_id, tick in (("0007", "☑一般"), ("0001", "☑好")):
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(
            fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick=tick))
        )
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    return workspace


def test_an_appeal_that_changes_yiban_to_jiaohao(
    graded: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(graded.root)
    assert kaohe(
        capsys,
        "-w",
        ws,
        "appeal",
        "file",
        "-p",
        "2026Q4",
        "--person",
        "0007",
        "--reason",
        "工作量统计有误",
    )[1] == ("已登记复核申请：2026年第4季度 0007，原等次“一般”\n")
    pending = {f.code for f in findings(graded, Q4) if f.person_id == "0007"}
    assert pending == {"NEEDS_FOLLOW_UP", "APPEAL_PENDING"}
    code, out, _ = kaohe(
        capsys,
        "-w",
        ws,
        "appeal",
        "decide",
        "-p",
        "2026Q4",
        "--person",
        "0007",
        "--grade",
        "较好",
        "--note",
        "局领导班子集体研究，改定为较好",
    )
    assert (code, out) == (0, "已记录复核决定：2026年第4季度 0007 改定，现等次“较好”\n")
    # report: no follow-up any more, the decision is listed with the original grade
    rows = {f.code: f for f in findings(graded, Q4) if f.person_id == "0007"}
    assert set(rows) == {"APPEAL_DECIDED"}
    assert (
        rows["APPEAL_DECIDED"].message
        == "复核改定为“较好”（原等次“一般”）：局领导班子集体研究，改定为较好"
    )
    # summary: effective grade, original beside it in 问题
    sheet = load_workbook(write_summary(graded, Q4))["全部人员"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == "0007")
    assert row[HEADERS.index("等次")] == "较好"
    assert "原等次“一般”" in row[HEADERS.index("问题")]
    # annual and archive
    zhang = next(r for r in annual(graded, 2026).rows if r.person_id == "0007")
    assert zhang.quarters["2026Q4"] == "较好" and zhang.needs_review == []
    with zipfile.ZipFile(archive_quarter(graded, Q4).path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    [appeal] = manifest["appeals"]
    assert (
        appeal["person_id"],
        appeal["original_grade"],
        appeal["decision"],
        appeal["new_grade"],
    ) == ("0007", "一般", "改定", "较好")
    code, out, _ = kaohe(capsys, "-w", ws, "appeal", "list", "--json")
    assert json.loads(out)[0]["reason"] == "工作量统计有误"


def test_upheld_appeal_keeps_the_grade(
    graded: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(graded.root)
    kaohe(
        capsys, "-w", ws, "appeal", "file", "-p", "2026Q4", "--person", "0001", "--reason", "理由"
    )
    assert kaohe(
        capsys, "-w", ws, "appeal", "decide", "-p", "2026Q4", "--person", "0001", "--upheld"
    )[1] == ("已记录复核决定：2026年第4季度 0001 维持，现等次“好”\n")
    assert kaohe(capsys, "-w", ws, "appeal", "list")[1].splitlines() == [
        "2026Q4 0001 原等次“好” 维持“好”  理由：理由",
        "共 1 件",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("decide", "-p", "2026Q4", "--person", "0001", "--grade", "好"),
            "错误：2026年第4季度 0001 没有申请复核，不能作出复核决定\n",
        ),
        (
            ("file", "-p", "2026Q4", "--person", "0002", "--reason", "x"),
            "错误：2026年第4季度 0002 没有评定等次的记实表，无法申请复核\n",
        ),
        (
            ("decide", "-p", "2026Q4", "--person", "0001"),
            "错误：请二选一：--grade 改定的等次，或 --upheld 维持原等次\n",
        ),
    ],
)
def test_appeal_errors_are_clear(
    graded: Workspace, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert kaohe(capsys, "-w", str(graded.root), "appeal", *args)[::2] == (1, message)


def test_deciding_twice_or_filing_twice(
    graded: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(graded.root)
    kaohe(capsys, "-w", ws, "appeal", "file", "-p", "2026Q4", "--person", "0001", "--reason", "x")
    assert (
        kaohe(
            capsys, "-w", ws, "appeal", "file", "-p", "2026Q4", "--person", "0001", "--reason", "x"
        )[2]
        == "错误：2026年第4季度 0001 张伟 已申请过复核\n"
    )
    kaohe(capsys, "-w", ws, "appeal", "decide", "-p", "2026Q4", "--person", "0001", "--upheld")
    assert kaohe(
        capsys, "-w", ws, "appeal", "decide", "-p", "2026Q4", "--person", "0001", "--grade", "较好"
    )[2] == ("错误：2026年第4季度 0001 的复核已经作出决定（维持），不能再次决定\n")
