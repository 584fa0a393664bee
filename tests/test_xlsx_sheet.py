"""A sheet re-typed in Excel with the same labels: read with the same label table."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook

from pipeline.models import Period
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


def retyped() -> bytes:
    """As a clerk lays it out in Excel: merged value cells, a two-row attendance block."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "记实表"
    rows = [
        ["公务员平时考核工作记实表"],
        ["（2026年第4季度）"],
        ["姓名", "王芳", "性别", "女", "单位及职务", "城区分局 四级主任科员"],
        ["从事或分管工作", "固体废物与化学品管理"],
        ["第一月工作纪实", "完成危险废物规范化检查12家。"],
        ["第二月工作纪实", "办理信访3件。"],
        ["第三月工作纪实", "整理案卷。"],
        ["出勤记录", "迟到（次）", "早退（次）", "旷工（次）", "请假（天）"],
        [None, 0, 0, 1, "2"],
        ["本季度自我评价", "认真履职。\n签字：王芳 2027年1月4日"],
        ["分管领导意见", "工作扎实。\n等次：□好 ☑较好 □一般 □差"],
        ["班子审定意见", "同意。"],
    ]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:F1")
    sheet.merge_cells("A2:F2")
    for row in (4, 5, 6, 7, 10, 11, 12):
        sheet.merge_cells(f"B{row}:F{row}")
    sheet.merge_cells("A8:A9")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_sheet_retyped_in_excel(workspace: Workspace) -> None:
    generate(workspace, Q4)
    (workspace.inbox / "王芳.xlsx").write_bytes(retyped())
    result = ingest(workspace, received_at=AT)
    assert [(f.outcome, f.person_id) for f in result.files] == [("accepted", "0003")]
    [record] = accepted_records(workspace, Q4)
    assert record.monthly_records == ["完成危险废物规范化检查12家。", "办理信访3件。", "整理案卷。"]
    assert record.attendance.model_dump() == {
        "late": 0,
        "early_leave": 0,
        "absent": 1,
        "leave_days": 2,
    }
    assert (record.grade, str(record.signature_date), record.review_opinion) == (
        "较好",
        "2027-01-04",
        "同意。",
    )
    assert record.source.format == "xlsx"
    assert [i.code for i in record.issues] == []
