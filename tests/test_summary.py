"""汇总表.xlsx: one row per roster person, a sheet per unit, grade counts with a chart."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from openpyxl import load_workbook

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.summary import HEADERS, write_summary
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


def test_summary_workbook(workspace: Workspace) -> None:
    generate(workspace, Q4)
    for person_id, tick in (("0001", "☑好"), ("0002", "☑一般"), ("0012", "☑较好")):
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(
            fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick=tick))
        )
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    path = write_summary(workspace, Q4)
    assert path == workspace.root / "outbox/2026Q4/汇总表.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == [
        "全部人员",
        "统计",
        "城区分局",
        "泽州分局",
        "综合行政执法队",
        "办公室",
        "大气环境科",
        "说明",
    ]
    about = dict(book["说明"].iter_rows(min_row=2, values_only=True))
    assert about["截止日期"] == "2027-01-06（暂定：官方放假安排未公布，见 kaohe.toml [calendar]）"
    assert (about["名单人数"], about["已交"], about["未交"]) == (16, 3, 13)
    everyone = book["全部人员"]
    rows = list(everyone.iter_rows(values_only=True))
    assert list(rows[0]) == list(HEADERS)
    assert len(rows) == 17
    zhang = rows[1]
    assert zhang[2:4] == ("0001", "张伟") and zhang[9:11] == ("好", "已审定")
    assert zhang[HEADERS.index("第一月工作纪实")] == MODEST.monthly[0]
    missing = next(r for r in rows if r[2] == "0003")
    assert missing[9:11] == (None, "未交")
    feng = next(r for r in rows if r[2] == "0012")
    assert feng[1] == "泽州分局" and feng[5] == "办公室" and feng[8] == "泽州分局"
    assert everyone.freeze_panes == "A2" and everyone.auto_filter.ref == "A1:Z17"
    body = everyone["D5"]  # styled like every body cell: bordered, wrapped, 宋体
    assert (body.border.left.style, body.alignment.wrap_text, body.font.name) == (
        "thin",
        True,
        "宋体",
    )
    assert everyone.print_area == "'全部人员'!$A$1:$R$17"
    assert [r[2] for r in book["泽州分局"].iter_rows(min_row=2, values_only=True)] == [
        "0004",
        "0005",
        "0006",
        "0012",
    ]
    stats = list(book["统计"].iter_rows(values_only=True))
    assert stats[0] == (
        "考核单位",
        "应考核",
        "好",
        "较好",
        "一般",
        "差",
        "不定等次",
        "待评鉴",
        "异常",
        "未交",
    )
    assert stats[1] == ("城区分局", 3, 1, 0, 1, 0, 0, 0, 0, 1)
    assert stats[2] == ("泽州分局", 4, 0, 1, 0, 0, 0, 0, 0, 3)
    assert stats[-1] == ("合计", 16, 1, 1, 1, 0, 0, 0, 0, 13)
    assert len(book["统计"]._charts) == 1


def test_seconded_people_are_reported_back_to_their_home_unit(workspace: Workspace) -> None:
    from pipeline.stages.secondment import write_secondment_feedback
    from pipeline.stages.status import evaluate

    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob(
        "泽州分局/0012_*.docx"
    )  # 冯军, 办公室, seconded to 泽州分局
    (workspace.inbox / "冯军.docx").write_bytes(fill(blank.read_bytes(), MODEST))
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    [path] = write_secondment_feedback(workspace, evaluate(workspace, Q4))
    assert path == workspace.root / "outbox/2026Q4/反馈/办公室_挂职人员考核结果.xlsx"
    rows = list(load_workbook(path).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == (
        "编号",
        "姓名",
        "本单位",
        "职务",
        "挂职单位",
        "等次",
        "状态",
        "分管领导意见",
        "收到时间",
    )
    assert rows[1][:7] == ("0012", "冯军", "办公室", "一级主任科员", "泽州分局", "较好", "已审定")
    assert len(rows) == 2  # only the home unit's own seconded people
