"""A year of four quarters: counts, 优秀 eligibility under both rules, repeated non-submission,
一般/差 for review, and quarters without data."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from openpyxl import load_workbook

from pipeline.cli import run
from pipeline.models import Period
from pipeline.stages.annual import annual, write_annual
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

#: person → grade ticked in Q1..Q4; "" = returned without a grade, None = not returned.
YEAR: dict[str, list[str | None]] = {
    "0001": ["好", "好", "好", "好"],
    "0002": ["好", "较好", "好", "好"],
    "0003": [None, "好", None, "好"],  # missing Q1 and Q3
    "0004": ["好", "", "好", "好"],  # 35 days of leave in Q2: 不定等次
    "0007": ["好", "好", "好", "一般"],  # Q4 appealed: changed to 较好
    "0012": ["较好", "较好", "好", "好"],  # 冯军, seconded from 办公室 to 泽州分局
}


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    from pipeline.workspace import init_workspace

    workspace = init_workspace(tmp_path_factory.mktemp("year") / "ws").workspace
    for quarter in (1, 2, 3, 4):
        period = Period(year=2026, quarter=quarter)
        generate(workspace, period)
        folder = workspace.inbox / period.code
        folder.mkdir(parents=True, exist_ok=True)
        for person_id, grades in YEAR.items():
            grade = grades[quarter - 1]
            if grade is None:
                continue
            [blank] = workspace.blank_dir(period).glob(f"*/{person_id}_*.docx")
            entries = dataclasses.replace(MODEST, grade_tick=f"☑{grade}" if grade else "")
            if grade == "":
                entries = dataclasses.replace(
                    entries, leave_days="35", leader_opinion="病假超过30个工作日。"
                )
            (folder / f"{person_id}.docx").write_bytes(fill(blank.read_bytes(), entries))
        ingest(workspace, [folder], period=period, received_at=datetime(2026, 3 * quarter, 28))
    from pipeline.appeals import decide_appeal, file_appeal
    from pipeline.ledger import Ledger
    from pipeline.models import Grade
    from pipeline.stages.export import accepted_records

    q4 = Period(year=2026, quarter=4)
    [zhang] = [r for r in accepted_records(workspace, q4) if r.person_id == "0007"]
    with Ledger(workspace.root / "kaohe.sqlite") as ledger:
        file_appeal(ledger, q4, zhang, "0007", "工作量统计有误")
        decide_appeal(ledger, q4, "0007", Grade.JIAOHAO, "局领导班子集体研究")
    return workspace


def rows(workspace: Workspace) -> dict[str, dict[str, object]]:
    return {r.person_id: r.as_json() for r in annual(workspace, 2026).rows}


def test_quarters_and_counts(year: Workspace) -> None:
    result = rows(year)
    assert result["0004"]["quarters"] == {
        "2026Q1": "好",
        "2026Q2": "不定等次",
        "2026Q3": "好",
        "2026Q4": "好",
    }
    assert result["0003"]["quarters"] == {
        "2026Q1": "未交",
        "2026Q2": "好",
        "2026Q3": "未交",
        "2026Q4": "好",
    }
    assert result["0002"]["counts"] == {
        "好": 3,
        "较好": 1,
        "一般": 0,
        "差": 0,
        "不定等次": 0,
        "未交": 0,
    }
    assert result["0005"]["counts"]["未交"] == 4  # type: ignore[index]


def test_excellent_strict_rule_by_default(year: Workspace) -> None:
    result = rows(year)
    assert (result["0001"]["excellent_eligible"], result["0001"]["excellent_note"]) == (
        True,
        "有等次的 4 个季度均为“好”",
    )
    assert (result["0002"]["excellent_eligible"], result["0002"]["excellent_note"]) == (
        False,
        "有“较好”等次",
    )
    assert (result["0003"]["excellent_eligible"], result["0003"]["excellent_note"]) == (
        False,
        "有未交的季度",
    )
    assert (result["0004"]["excellent_eligible"], result["0004"]["excellent_note"]) == (
        True,
        "有等次的 3 个季度均为“好”",
    )
    # 一般 became 较好 on appeal; still not every graded quarter is 好
    assert (result["0007"]["excellent_eligible"], result["0007"]["excellent_note"]) == (
        False,
        "有“较好”等次",
    )


def test_excellent_at_least_rule(year: Workspace) -> None:
    config = year.config_path.read_text(encoding="utf-8")
    year.config_path.write_text(
        config.replace('excellent_rule = "all_hao"', 'excellent_rule = "at_least"'),
        encoding="utf-8",
    )
    try:
        relaxed = {r.person_id: r for r in annual(Workspace.open(year.root), 2026).rows}
        assert (
            relaxed["0002"].excellent_eligible is True
            and relaxed["0002"].excellent_note == "3 个季度为“好”"
        )
        assert relaxed["0007"].excellent_eligible is True  # after the appeal: 好, 好, 好, 较好
    finally:
        year.config_path.write_text(config, encoding="utf-8")


def test_repeated_non_submission_and_review(year: Workspace) -> None:
    result = rows(year)
    assert result["0003"]["repeated_non_submission"] == ["2026Q1", "2026Q3"]
    assert result["0001"]["repeated_non_submission"] == []


def test_the_appeal_changes_the_year(year: Workspace) -> None:
    zhang = rows(year)["0007"]
    assert zhang["quarters"] == {"2026Q1": "好", "2026Q2": "好", "2026Q3": "好", "2026Q4": "较好"}
    assert zhang["needs_review"] == []  # 一般 was changed to 较好 on appeal
    assert (zhang["excellent_eligible"], zhang["excellent_note"]) == (False, "有“较好”等次")


def test_seconded_person_in_the_year_and_home_unit_feedback(year: Workspace) -> None:
    from pipeline.stages.secondment import write_secondment_feedback
    from pipeline.stages.status import evaluate

    feng = rows(year)["0012"]
    assert feng["unit"] == "泽州分局" and feng["counts"]["较好"] == 2  # type: ignore[index]
    [path] = write_secondment_feedback(year, evaluate(year, Period(year=2026, quarter=4)))
    assert path.name == "办公室_挂职人员考核结果.xlsx"
    [_header, row] = list(load_workbook(path).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert row[:6] == ("0012", "冯军", "办公室", "一级主任科员", "泽州分局", "好")


def test_annual_workbook_and_cli(year: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = write_annual(year, 2026)
    assert path == year.root / "outbox/2026/年度汇总.xlsx"
    book = load_workbook(path)
    sheet = book["2026年度汇总"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:7] == (
        "编号",
        "姓名",
        "考核单位",
        "第一季度",
        "第二季度",
        "第三季度",
        "第四季度",
    )
    first = next(r for r in table if r[0] == "0001")
    assert first[13:15] == ("是", "有等次的 4 个季度均为“好”")
    about = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert about["优秀推荐口径"] == "严格口径：每个有等次的季度都为“好”，且没有未交的季度"
    assert run(["-w", str(year.root), "annual", "--year", "2026", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["person_id"] for d in data} >= {"0001", "0016"}


def test_a_year_without_data_is_no_data_not_failure(workspace: Workspace) -> None:
    result = annual(workspace, 2025)
    assert result.periods_with_data == []
    assert all(set(r.quarters.values()) == {"无数据"} for r in result.rows)
    assert not any(r.repeated_non_submission for r in result.rows)
