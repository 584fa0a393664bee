"""The review queue round trip: export, a person fills rows in Excel, import, and again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.cli import run
from pipeline.models import Period
from pipeline.stages.export import accepted_records
from pipeline.stages.ingest import ingest
from pipeline.stages.review import COLUMNS, export_review, import_review
from pipeline.workspace import Workspace

from .pdfs import reportlab_sheet, scanned

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
HEADERS = [h for h, _ in COLUMNS]


@pytest.fixture
def queued(workspace: Workspace) -> Workspace:
    (workspace.inbox / "扫描_陈静.pdf").write_bytes(scanned(reportlab_sheet()))
    (workspace.inbox / "照片.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (workspace.inbox / "欧阳.pdf").write_bytes(reportlab_sheet(name="欧阳修"))
    ingest(workspace, period=Q4, received_at=AT)
    return workspace


def fill_rows(path: Path, entries: dict[str, dict[str, object]]) -> None:
    """A person opens the workbook in Excel and types into the rows of the given files."""
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    column = {h: i + 1 for i, h in enumerate(HEADERS)}
    for row in range(2, sheet.max_row + 1):
        source = sheet.cell(row, column["来源路径"]).value
        for header, value in entries.get(str(source), {}).items():
            sheet.cell(row, column[header]).value = value  # type: ignore[arg-type]
    book.save(path)


def test_export_lists_what_needs_a_person_with_validation(queued: Workspace) -> None:
    path, count = export_review(queued, Q4)
    assert path == queued.root / "outbox/2026Q4/review/待人工核对.xlsx"
    assert count == 3
    book = load_workbook(path)
    sheet = book.active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    by_source = {r[HEADERS.index("来源路径")]: r for r in rows[1:]}
    unknown = by_source["inbox/欧阳.pdf"]
    assert (
        unknown[HEADERS.index("原因")] == "UNKNOWN_PERSON 名单中没有“欧阳修”，请核对姓名或补充名单"
    )
    assert unknown[HEADERS.index("姓名")] == "欧阳修"  # what the parser found is pre-filled
    assert unknown[HEADERS.index("第一月工作纪实")] == "开展大气污染源排查，检查企业9家。"
    scan = by_source["inbox/扫描_陈静.pdf"]
    assert scan[HEADERS.index("文件名（仅供参考）")] == "扫描_陈静"
    assert scan[HEADERS.index("姓名")] is None  # a file name is a hint, never data
    link = sheet.cell(2, HEADERS.index("原文件") + 1).hyperlink
    assert link is not None and link.target.startswith("../../../inbox/")
    rules = {str(dv.sqref): (dv.type, dv.formula1) for dv in sheet.data_validations.dataValidation}
    assert ("list", '"好,较好,一般,差"') in rules.values()
    assert ("whole", "0") in rules.values() and ("decimal", "0") in rules.values()


def test_review_round_trip_and_second_import_is_a_no_op(queued: Workspace) -> None:
    path, _ = export_review(queued, Q4)
    fill_rows(path, {
        "inbox/扫描_陈静.pdf": {
            "编号": "0005", "第一月工作纪实": "开展大气污染源排查。", "第二月工作纪实": "攻坚督查。",
            "第三月工作纪实": "统计报表。", "迟到（次）": 1, "早退（次）": 0, "旷工（次）": 0, "请假（天）": 3,
            "本季度自我评价": "按时完成任务。", "签字日期": "2027年1月3日", "分管领导意见": "工作扎实。",
            "等次": "好", "班子审定意见": "同意。", "核对人": "人事科 王敏",
        },
        "inbox/照片.jpg": {
            "编号": "0009", "第一月工作纪实": "执法检查。", "第二月工作纪实": "案件办理。", "第三月工作纪实": "培训。",
            "迟到（次）": "两次", "本季度自我评价": "认真。", "等次": "较好",
            "分管领导意见": "较好完成任务，原建议评为一般。",  # the chosen grade is the grade
        },
    })  # fmt: skip
    result = import_review(queued, path)
    assert sorted(result.imported) == ["inbox/扫描_陈静.pdf#人工核对", "inbox/照片.jpg#人工核对"]
    assert result.problems == [] and result.blank == 1
    records = {r.person_id: r for r in accepted_records(queued, Q4)}
    chen = records["0005"]
    assert chen.monthly_records == ["开展大气污染源排查。", "攻坚督查。", "统计报表。"]
    assert (
        chen.attendance.late,
        chen.attendance.leave_days,
        chen.grade,
        str(chen.signature_date),
    ) == (1, 3, "好", "2027-01-03")
    assert chen.leader_opinion == "工作扎实。"
    assert chen.status == "已审定"
    assert chen.source.format == "review"
    assert chen.source.received_at == AT.astimezone().isoformat(
        timespec="seconds"
    )  # the original's
    zhou = records["0009"]
    assert zhou.attendance.late == 2 and zhou.grade == "较好"
    assert (
        zhou.leader_opinion == "较好完成任务，原建议评为一般。"
    )  # no "考核等次：" written into it
    assert [i.code for i in zhou.issues] == ["MISSING_FIELD"]  # no signature date: the same rules
    again = import_review(queued, path)
    assert again.imported == [] and sorted(again.unchanged) == sorted(result.imported)
    assert export_review(queued, Q4)[1] == 1  # only the unknown person is left


def test_entered_values_are_checked_like_a_sheet(queued: Workspace) -> None:
    path, _ = export_review(queued, Q4)
    fill_rows(path, {
        "inbox/照片.jpg": {"编号": "0009", "第一月工作纪实": "a", "第二月工作纪实": "b", "第三月工作纪实": "c",
                           "迟到（次）": "很多", "本季度自我评价": "d", "等次": "优"},
        "inbox/欧阳.pdf": {"编号": "9999"},
    })  # fmt: skip
    result = import_review(queued, path)
    assert [str(p) for p in result.problems] == [
        "待人工核对.xlsx 第3行「编号」列：名单中没有编号 9999"
    ]
    [record] = [r for r in accepted_records(queued, Q4) if r.person_id == "0009"]
    assert sorted(i.code for i in record.issues) == [
        "INVALID_NUMBER",
        "MISSING_FIELD",
        "MISSING_GRADE",
    ]
    assert record.status == "异常"


def test_review_cli(queued: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-w", str(queued.root), "review", "export", "--period", "2026Q4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"待人工核对 3 份：{queued.root / 'outbox/2026Q4/review/待人工核对.xlsx'}"
    )
    path = queued.root / "outbox/2026Q4/review/待人工核对.xlsx"
    fill_rows(path, {"inbox/欧阳.pdf": {"编号": "9999"}})
    assert run(["-w", str(queued.root), "review", "import", str(path)]) == 1
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "未录入  待人工核对.xlsx 第3行「编号」列：名单中没有编号 9999",
        "录入 0 行，未变化 0 行，有问题 1 行，空行 2 行",
    ]
