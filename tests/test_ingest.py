"""Returned Word sheets → records: every field of the record, each exception code, the ledger."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import shutil
import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.models import Period
from pipeline.stages.export import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import FileOutcome, ingest
from pipeline.workspace import Workspace

from .docs import (
    original_attachment,
    pasted_together,
    with_checkbox_grade,
    with_comment,
    with_line_breaks,
    with_numbered_list,
    with_placeholder_control,
    with_tracked_changes,
)
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    return workspace


def blank(workspace: Workspace, person_id: str) -> bytes:
    [path] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
    return path.read_bytes()


def drop(workspace: Workspace, name: str, data: bytes) -> Path:
    path = workspace.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def records(workspace: Workspace) -> dict[str, dict[str, object]]:
    return {r.person_id: r.model_dump(mode="json") for r in accepted_records(workspace, Q4)}


def codes(record: dict[str, object]) -> list[str]:
    issues = record["issues"]
    assert isinstance(issues, list)
    return [i["code"] for i in issues]


def test_sheet_filled_in_word_reads_every_field(quarter: Workspace) -> None:
    drop(quarter, "执法队/张伟.docx", fill(blank(quarter, "0007"), MODEST))
    result = ingest(quarter, received_at=AT)
    assert result.counts == {"accepted": 1, "superseded": 0, "rejected": 0, "skipped": 0}
    record = records(quarter)["0007"]
    assert record == {
        "person_id": "0007",
        "name": "张伟",
        "gender": "男",
        "unit": "综合行政执法队",
        "position": "执法一科科长",
        "duties": "工业企业执法检查",
        "period": "2026Q4",
        "monthly_records": [
            "1.完成辖区12家重点排污单位现场检查，督促3家企业整改在线监测数据异常问题；\n"
            "2.参与国庆假期环境安全隐患排查，编写排查报告1份。",
            "1.办理群众环境信访件8件，按期办结率100%；\n2.配合开展秋冬季大气污染防治攻坚督查。",
            "1.完成年度排污许可证后管理抽查任务；\n2.整理全年执法案卷并移交归档，参加业务培训2次。",
        ],
        "attendance": {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 1.5},
        "self_evaluation": MODEST.self_evaluation,
        "signature_date": "2027-01-04",
        "leader_opinion": MODEST.leader_opinion,
        "grade": "较好",
        "review_opinion": "同意分管领导意见。",
        "status": "已审定",
        "source": {
            "path": "inbox/执法队/张伟.docx",
            "sha256": hashlib.sha256((quarter.inbox / "执法队/张伟.docx").read_bytes()).hexdigest(),
            "format": "docx",
            "received_at": AT.astimezone().isoformat(timespec="seconds"),
        },
        "issues": [],
    }


def test_sheet_resaved_by_libreoffice_reads_the_same(quarter: Workspace) -> None:
    drop(quarter, "lo.docx", (FIXTURES / "filled_0007_resaved_by_lo74.docx").read_bytes())
    ingest(quarter, received_at=AT)
    record = records(quarter)["0007"]
    assert record["monthly_records"][0].startswith("1.完成辖区12家重点排污单位")  # type: ignore[index]
    assert record["attendance"] == {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 1.5}
    assert (record["grade"], record["signature_date"], record["status"]) == (
        "较好",
        "2027-01-04",
        "已审定",
    )
    assert record["leader_opinion"] == MODEST.leader_opinion
    assert record["issues"] == []


def test_identity_comes_from_content_not_file_name(quarter: Workspace) -> None:
    drop(quarter, "0001_张伟_2026Q4_平时考核记实表.docx", fill(blank(quarter, "0007"), MODEST))
    ingest(quarter, received_at=AT)
    assert list(records(quarter)) == ["0007"]


def test_original_attachment_matched_by_name_and_unit(quarter: Workspace) -> None:
    drop(
        quarter,
        "原表.docx",
        original_attachment(name="张伟", unit_position="综合行政执法队 执法一科科长"),
    )
    ingest(quarter, received_at=AT)
    record = records(quarter)["0007"]
    assert record["monthly_records"] == [
        "十月份完成执法检查5次。",
        "十一月份办理信访3件。",
        "十二月份整理案卷。",
    ]
    assert record["attendance"] == {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 2}
    assert record["self_evaluation"] == "工作认真，按时完成任务。"
    assert record["signature_date"] == "2027-01-04"
    assert (record["grade"], record["leader_opinion"]) == ("较好", "工作完成较好。考核等次：较好")
    assert record["review_opinion"] == "同意。"


def test_same_name_without_unit_is_ambiguous(quarter: Workspace) -> None:
    drop(quarter, "张伟.docx", original_attachment(name="张伟", unit_position=""))
    result = ingest(quarter, received_at=AT)
    [item] = result.files
    assert item.outcome == "rejected"
    assert item.reason == (
        "AMBIGUOUS_PERSON 名单中有 2 位“张伟”（城区分局、综合行政执法队），表上没有写明单位"
    )


def test_unknown_person(quarter: Workspace) -> None:
    drop(quarter, "x.docx", original_attachment(name="欧阳修", unit_position="城区分局 科员"))
    [item] = ingest(quarter, received_at=AT).files
    assert item.reason == "UNKNOWN_PERSON 名单中没有“欧阳修”，请核对姓名或补充名单"


def test_sheet_of_another_quarter(quarter: Workspace) -> None:
    drop(
        quarter,
        "q3.docx",
        original_attachment(name="李娜", unit_position="城区分局", period_line="（2026年第3季度）"),
    )
    [item] = ingest(quarter, period=Q4, received_at=AT).files
    assert item.reason == "WRONG_PERIOD 这是 2026年第3季度 的记实表，本次登记的是 2026年第4季度"


def test_tracked_changes_read_as_accepted_and_comments_ignored(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, monthly=(MODEST.monthly[0], "", ""))
    sheet = fill(blank(quarter, "0002"), entries)
    sheet = with_tracked_changes(
        sheet, "第二月", kept="办理信访件8件", inserted="，全部按期办结", deleted="，1件逾期"
    )
    sheet = with_comment(sheet, "第三月", text="完成抽查任务", comment="请补充数字")
    drop(quarter, "李娜.docx", sheet)
    ingest(quarter, received_at=AT)
    record = records(quarter)["0002"]
    assert record["monthly_records"][1:] == ["办理信访件8件，全部按期办结", "完成抽查任务"]  # type: ignore[index]
    assert "请补充数字" not in str(record)
    assert codes(record) == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            ("２", "三次", "无", "半天"),
            {"late": 2, "early_leave": 3, "absent": 0, "leave_days": 0.5},
        ),
        (
            ("3次", "两", "/", "1.5天"),
            {"late": 3, "early_leave": 2, "absent": 0, "leave_days": 1.5},
        ),
        (("—", "0", "", "一天半"), {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 1.5}),
    ],
)
def test_numbers_as_people_type_them(
    quarter: Workspace, typed: tuple[str, ...], expected: dict[str, float]
) -> None:
    entries = dataclasses.replace(
        MODEST, late=typed[0], early_leave=typed[1], absent=typed[2], leave_days=typed[3]
    )
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert record["attendance"] == expected
    assert codes(record) == []


def test_empty_attendance_block_is_zero_with_a_warning(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, late="", early_leave="", absent="", leave_days="")
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert record["attendance"] == {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 0}
    assert record["issues"] == [
        {"code": "MISSING_FIELD", "severity": "warning", "field": "attendance",
         "message": "出勤记录整栏为空，已按 0 记录，请核实"}
    ]  # fmt: skip
    assert record["status"] == "已审定"


@pytest.mark.parametrize(
    ("late", "message"),
    [
        ("-1", "迟到（次）不能为负数（填的是“-1”）"),
        ("很多", "迟到（次）填的是“很多”，无法识别为数字"),
        ("1.5", "迟到（次）应为整数次数，填的是“1.5”"),
    ],
)
def test_unreadable_number_is_an_error_never_a_guess(
    quarter: Workspace, late: str, message: str
) -> None:
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), dataclasses.replace(MODEST, late=late)))
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert record["issues"] == [
        {"code": "INVALID_NUMBER", "severity": "error", "field": "late", "message": message}
    ]
    assert record["attendance"] == {"late": 0, "early_leave": 0, "absent": 0, "leave_days": 1.5}
    assert record["status"] == "异常"


@pytest.mark.parametrize(
    ("tick", "opinion", "grade"),
    [
        ("☑好", "工作完成较好。", "好"),  # descriptive 较好 is not the grade
        ("■一般", "", "一般"),
        ("√差", "", "差"),
        ("", "考核等次：较好", "较好"),
        ("", "经研究，评定为一般。", "一般"),
    ],
)
def test_grades(quarter: Workspace, tick: str, opinion: str, grade: str) -> None:
    entries = dataclasses.replace(
        MODEST, grade_tick=tick, leader_opinion=opinion or MODEST.leader_opinion
    )
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["grade"] == grade


def test_jiaohao_is_not_hao(quarter: Workspace) -> None:
    drop(
        quarter,
        "a.docx",
        fill(blank(quarter, "0003"), dataclasses.replace(MODEST, grade_tick="☑较好")),
    )
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["grade"] == "较好"


def test_two_grades_is_an_error(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, grade_tick="☑好", leader_opinion="评定为一般。")
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert record["grade"] is None
    assert codes(record) == ["MULTIPLE_GRADES"]
    assert record["issues"][0]["message"] == "分管领导意见中同时标了 好、一般"  # type: ignore[index]


def test_opinion_without_grade(quarter: Workspace) -> None:
    drop(
        quarter, "a.docx", fill(blank(quarter, "0003"), dataclasses.replace(MODEST, grade_tick=""))
    )
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert (record["grade"], record["status"], codes(record)) == (None, "异常", ["MISSING_GRADE"])


def test_self_part_only_is_pending(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, grade_tick="", leader_opinion="", review_opinion="")
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert (record["status"], record["grade"], codes(record)) == ("待评鉴", None, ["MISSING_GRADE"])
    assert record["issues"][0]["severity"] == "warning"  # type: ignore[index]


def test_word_checkbox_controls(quarter: Workspace) -> None:
    sheet = with_checkbox_grade(
        fill(blank(quarter, "0003"), dataclasses.replace(MODEST, grade_tick="")), "一般"
    )
    drop(quarter, "a.docx", sheet)
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["grade"] == "一般"


def test_untouched_hint_text_reads_as_empty(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, monthly=(MODEST.monthly[0], "", MODEST.monthly[2]))
    sheet = with_placeholder_control(
        fill(blank(quarter, "0003"), entries), "第二月", "单击或点击此处输入文字。"
    )
    drop(quarter, "a.docx", sheet)
    ingest(quarter, received_at=AT)
    record = records(quarter)["0003"]
    assert record["monthly_records"][1] == ""  # type: ignore[index]
    assert record["issues"] == [
        {
            "code": "MISSING_FIELD",
            "severity": "error",
            "field": "monthly_records",
            "message": "第二月（11月）工作纪实为空",
        }
    ]


@pytest.mark.parametrize(
    ("signature", "expected"),
    [
        ("签字：王芳 2027.1.4", "2027-01-04"),
        ("签字：王芳　2027-01-06", "2027-01-06"),
        ("签字：王芳 二〇二七年一月五日", "2027-01-05"),
    ],
)
def test_signature_dates(quarter: Workspace, signature: str, expected: str) -> None:
    drop(
        quarter,
        "a.docx",
        fill(blank(quarter, "0003"), dataclasses.replace(MODEST, signature=signature)),
    )
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["signature_date"] == expected


def test_multi_paragraph_text_keeps_its_lines(quarter: Workspace) -> None:
    text = "一、执法检查\n（一）重点企业12家\n（二）一般企业5家\n二、信访办理"
    entries = dataclasses.replace(MODEST, monthly=(text, *MODEST.monthly[1:]))
    drop(quarter, "a.docx", fill(blank(quarter, "0003"), entries))
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["monthly_records"][0] == text  # type: ignore[index]


def test_word_numbered_list_keeps_its_numbers(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, monthly=("", "", MODEST.monthly[2]))
    sheet = with_numbered_list(
        fill(blank(quarter, "0003"), entries), "第一月", ["执法检查12家", "办理信访8件"]
    )
    sheet = with_numbered_list(sheet, "第二月", ["培训", "督查"], style="List Bullet")
    drop(quarter, "a.docx", sheet)
    ingest(quarter, received_at=AT)
    months = records(quarter)["0003"]["monthly_records"]
    assert months[:2] == ["1. 执法检查12家\n2. 办理信访8件", "• 培训\n• 督查"]  # type: ignore[index]


def test_manual_line_breaks(quarter: Workspace) -> None:
    entries = dataclasses.replace(MODEST, monthly=("", *MODEST.monthly[1:]))
    sheet = with_line_breaks(
        fill(blank(quarter, "0003"), entries), "第一月", ["执法检查", "信访办理"]
    )
    drop(quarter, "a.docx", sheet)
    ingest(quarter, received_at=AT)
    assert records(quarter)["0003"]["monthly_records"][0] == "执法检查\n信访办理"  # type: ignore[index]


def test_someone_elses_sheet_is_matched_by_the_name_on_it(quarter: Workspace) -> None:
    import io

    import docx

    document = docx.Document(io.BytesIO(fill(blank(quarter, "0007"), MODEST)))
    name_cell = document.tables[0].cell(0, 1)
    name_cell.paragraphs[0].runs[0].text = "李娜"
    document.tables[0].cell(0, 5).paragraphs[0].runs[0].text = "城区分局 一级科员"
    out = io.BytesIO()
    document.save(out)
    drop(quarter, "a.docx", out.getvalue())
    ingest(quarter, received_at=AT)
    record = records(quarter)["0002"]
    # the sheet still says 男 (张伟's): shown, the record keeps the roster's 女
    assert codes(record) == ["IDENTITY_MISMATCH", "SHEET_DIFFERS_FROM_ROSTER"]
    assert record["issues"][1]["field"] == "gender"  # type: ignore[index]
    assert record["issues"][0]["message"] == (  # type: ignore[index]
        "表码属于 0007 张伟，但表上姓名是“李娜”；已按姓名认定为 0002 李娜（城区分局），请核对是否用了别人的表"
    )


def test_newer_file_supersedes_and_both_stay_in_the_ledger(quarter: Workspace) -> None:
    drop(quarter, "first.docx", fill(blank(quarter, "0003"), dataclasses.replace(MODEST, late="1")))
    ingest(quarter, received_at=datetime(2027, 1, 4, 9, 0))
    drop(
        quarter, "second.docx", fill(blank(quarter, "0003"), dataclasses.replace(MODEST, late="2"))
    )
    result = ingest(quarter, received_at=datetime(2027, 1, 5, 9, 0))
    outcomes = {f.path: (f.outcome, f.reason) for f in result.files}
    assert outcomes == {
        "inbox/first.docx": ("superseded", "已被较新的 inbox/second.docx 替代"),
        "inbox/second.docx": ("accepted", ""),
    }
    record = records(quarter)["0003"]
    assert record["attendance"]["late"] == 2  # type: ignore[index]
    assert record["issues"] == [
        {"code": "DUPLICATE_SUBMISSION", "severity": "warning", "field": "",
         "message": "本人共交了 2 份，以最新的这份为准；较早的：inbox/first.docx"}
    ]  # fmt: skip


def test_rerun_changes_nothing_and_inbox_is_untouched(quarter: Workspace) -> None:
    drop(quarter, "a/张伟.docx", fill(blank(quarter, "0007"), MODEST))
    drop(quarter, "b/坏文件.docx", b"PK\x03\x04 truncated")
    drop(quarter, "b/~$张伟.docx", b"lock")
    drop(quarter, ".DS_Store", b"mac")
    before = {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in quarter.inbox.rglob("*")
        if p.is_file()
    }
    mtimes = {p: p.stat().st_mtime_ns for p in before}
    first = ingest(quarter, received_at=AT)
    dump = _dump(quarter)
    second = ingest(quarter, received_at=datetime(2030, 1, 1))
    assert _dump(quarter) == dump
    assert [(f.path, f.outcome, f.reason) for f in second.files] == [
        (f.path, f.outcome, f.reason) for f in first.files
    ]
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before} == before
    assert {p: p.stat().st_mtime_ns for p in before} == mtimes
    counts = first.counts
    files_in_inbox = len(
        [p for p in quarter.inbox.rglob("*") if p.is_file() and p.name != ".gitkeep"]
    )
    assert (
        counts["accepted"] + counts["superseded"] + counts["rejected"] + counts["skipped"]
        == files_in_inbox
    )
    assert counts == {"accepted": 1, "superseded": 0, "rejected": 1, "skipped": 2}


def _dump(workspace: Workspace) -> list[tuple[object, ...]]:
    with sqlite3.connect(workspace.root / "kaohe.sqlite") as db:
        return list(
            db.execute(
                "SELECT path, sha256, received_at, outcome, reason, record, issues FROM files ORDER BY path"
            )
        )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "UNREADABLE_FILE 文件是空的（0 字节）"),
        (
            b"%PDF-1.7 ...",
            "UNREADABLE_FILE 文件内容不是Word 文档，而是PDF 文件（可能改错了扩展名）",
        ),
        (
            b"MZ\x90\x00",
            "UNREADABLE_FILE 文件内容不是Word 文档，而是可执行程序（可能改错了扩展名）",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            "ENCRYPTED_FILE 文件设置了打开密码，无法读取",
        ),
    ],
)
def test_broken_files_are_rejected_with_the_reason(
    quarter: Workspace, data: bytes, code: str
) -> None:
    drop(quarter, "x.docx", data)
    [item] = ingest(quarter, received_at=AT).files
    assert (item.outcome, item.reason) == ("rejected", code)


def test_a_truncated_photo_is_unreadable(quarter: Workspace) -> None:
    drop(quarter, "scan.jpg", b"\xff\xd8\xff")
    [item] = ingest(quarter, received_at=AT).files
    assert item.reason == "UNREADABLE_FILE 图片已损坏，或不是能识别的图片格式"


def test_unknown_formats_are_unsupported(quarter: Workspace) -> None:
    drop(quarter, "notes.xyz", b"hello")
    [item] = ingest(quarter, received_at=AT).files
    assert (
        item.reason
        == "UNSUPPORTED_FORMAT 暂不能读取 .xyz 文件，请让本人在 Word/WPS 中另存为 .docx 后重新提交"
    )


def test_a_word_document_that_is_not_a_sheet(quarter: Workspace) -> None:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("关于报送第四季度工作总结的函")
    out = io.BytesIO()
    document.save(out)
    drop(quarter, "函.docx", out.getvalue())
    [item] = ingest(quarter, received_at=AT).files
    assert item.reason.startswith("NOT_A_RECORD_SHEET")


def test_adding_a_person_to_the_roster_fixes_an_unknown_person(
    quarter: Workspace, tmp_path: Path
) -> None:
    from .conftest import sample_rows, write_xlsx

    drop(quarter, "x.docx", original_attachment(name="欧阳修", unit_position="城区分局 科员"))
    assert ingest(quarter, received_at=AT).files[0].outcome == "rejected"
    rows = [*sample_rows(), ["0100", "欧阳修", "男", "城区分局", "科员", "", "", ""]]
    write_xlsx(quarter.roster_path, rows)
    assert ingest(quarter, received_at=AT).files[0].outcome == "accepted"
    assert records(quarter)["0100"]["name"] == "欧阳修"


def test_many_files_use_worker_processes(quarter: Workspace) -> None:
    sheets = {p: fill(blank(quarter, p), MODEST) for p in ("0001", "0002", "0003", "0004")}
    for index in range(30):
        drop(
            quarter,
            f"批量/{index:02d}.docx",
            sheets[("0001", "0002", "0003", "0004")[index % 4]] + b"",
        )
    result = ingest(quarter, received_at=AT, workers=2)
    assert result.counts["accepted"] == 4 and result.counts["superseded"] == 26
    assert sorted(records(quarter)) == ["0001", "0002", "0003", "0004"]


def test_readings_by_an_older_reader_are_read_again_keeping_the_received_time(
    quarter: Workspace,
) -> None:
    import pipeline.stages.ingest as stage

    drop(quarter, "a.docx", fill(blank(quarter, "0003"), MODEST))
    ingest(quarter, received_at=AT)
    with sqlite3.connect(quarter.root / "kaohe.sqlite") as db:
        db.execute("UPDATE files SET raw = replace(raw, '1.5', '9'), reader_version = 1")
    assert records(quarter)["0003"]["attendance"]["leave_days"] == 1.5  # type: ignore[index]
    result = ingest(quarter, received_at=datetime(2030, 1, 1))
    assert result.files[0].new is True
    record = records(quarter)["0003"]
    assert record["attendance"]["leave_days"] == 1.5  # type: ignore[index]
    assert record["source"]["received_at"] == AT.astimezone().isoformat(timespec="seconds")  # type: ignore[index]
    assert stage.READER_VERSION == 4


def _settled_state(workspace: Workspace) -> list[tuple[object, ...]]:
    with sqlite3.connect(workspace.root / "kaohe.sqlite") as db:
        return db.execute(
            "SELECT id, path, person_id, period, outcome, reason, record, issues FROM files"
            " ORDER BY id"
        ).fetchall()


def _mixed_returns(workspace: Workspace) -> None:
    """Accepted, superseded and rejected returns, in more chunks than one."""
    for index, person in enumerate(("0001", "0002", "0003", "0001", "0002")):
        late = dataclasses.replace(MODEST, late=str(index))
        drop(workspace, f"批量/{index:02d}.docx", fill(blank(workspace, person), late))
    drop(workspace, "批量/坏文件.docx", b"PK\x03\x04 truncated")


@pytest.mark.parametrize(
    ("how", "decided"),
    [("here", 500), ("workers", 500), ("a worker fails", 500), ("here", 1), ("here", 2)],
)
def test_a_whole_settle_leaves_the_ledger_a_partial_one_does(
    quarter: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str, decided: int
) -> None:
    """A whole settle builds each record once, writes it, and then only the outcomes (the
    records of duplicates read back and given their issue): the ledger ends as a settle
    of each version with its decision leaves it — here, in worker processes, or with a
    worker that fails and the main process doing its chunk; and deciding ``decided``
    versions at a time (one person's two versions never split between two chunks)."""
    import os

    import pipeline.settle as settle
    from pipeline.records import RosterIndex

    _mixed_returns(quarter)
    ingest(quarter, received_at=AT)  # settled version by version (fewer than PARTIAL_UP_TO)
    expected = _settled_state(quarter)
    assert {row[4] for row in expected} == {"accepted", "superseded", "rejected"}
    assert any("DUPLICATE_SUBMISSION" in str(row[7]) for row in expected)
    with quarter.ledger() as ledger, ledger.transaction():
        ledger.db.execute("UPDATE files SET outcome = 'rejected', record = NULL, issues = '[]'")
    monkeypatch.setattr(settle, "PARALLEL_FROM", 10**9 if how == "here" else 1)
    monkeypatch.setattr(settle, "CHUNK", 2)
    monkeypatch.setattr(settle, "DECIDE_CHUNK", decided)
    monkeypatch.setattr("os.cpu_count", lambda: 2)  # workers on any machine, one core too
    main = os.getpid()
    real = settle._first_chunk
    pids = tmp_path / "pids"  # which processes did a chunk (workers are other processes)

    def chunk(*args: object) -> object:
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        if how == "a worker fails" and os.getpid() != main:
            raise RuntimeError("a worker that cannot settle")
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(settle, "_first_chunk", chunk)
    with quarter.ledger() as ledger:
        settle.settle(ledger, RosterIndex(quarter.people()), None, quarter.settings.scan)
    assert _settled_state(quarter) == expected
    used = {int(pid) for pid in pids.read_text().split()}
    if how == "workers":
        assert used and main not in used  # the work was done by the workers
    elif how == "here":
        assert used == {main}
    else:
        assert main in used and len(used) > 1  # tried in a worker, then done here


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=8), st.integers(1, 4))
def test_versions_to_decide_come_a_chunk_at_a_time_one_persons_together(
    versions: list[int], chunk: int
) -> None:
    """Every version with a record, each once, in period and person order; no chunk holds
    only part of one person's versions, however many they have against the chunk's size;
    versions without a record never come."""
    from pipeline.ledger import Ledger

    with tempfile.TemporaryDirectory() as folder, Ledger(Path(folder) / "l.sqlite") as ledger:
        expected = []
        for person, count in enumerate(versions):
            for copy in range(count):
                path, pid = f"{person}-{copy}.docx", f"{person:04d}"
                ledger.db.execute(
                    "INSERT INTO files (path, sha256, size, received_at, format, raw, person_id,"
                    " period, record) VALUES (?, 'x', 1, 't', 'docx', ?, ?, '2026Q4', ?)",
                    (path, '{"format": "scan"}' if copy else "{}", pid, "{}"),
                )
                expected.append((pid, path, bool(copy)))
            ledger.db.execute(  # somebody's name on a sheet that was rejected: no record
                "INSERT INTO files (path, sha256, size, received_at, format, person_id, period)"
                " VALUES (?, 'x', 1, 't', 'docx', ?, '2026Q4')",
                (f"{person}-rejected.docx", f"{person:04d}"),
            )
        chunks = list(ledger.attributed_chunks(chunk))
    got = [(r.person_id, r.path, r.scan) for c in chunks for r in c]
    assert got == expected
    people_in = [{r.person_id for r in c} for c in chunks]
    for one, other in itertools.combinations(people_in, 2):
        assert not one & other  # nobody's versions in two chunks


_path_text = st.text(alphabet=st.sampled_from(list("/\\.a文X ")), max_size=12)


@settings(max_examples=500, deadline=None)
@given(_path_text)
def test_a_files_suffix_is_pathlibs(name: str) -> None:
    """Ingest finds a file's suffix by string operations: exactly what pathlib says."""
    from pathlib import PurePosixPath

    from pipeline.readers.formats import suffix_of

    assert suffix_of(name) == PurePosixPath(name.replace("\\", "/")).suffix.lower()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.sampled_from(["inbox", "a", "..", ".", "b.docx", "", "inbox2"]), max_size=4),
    st.booleans(),
)
def test_a_files_ledger_name_is_its_path_from_the_workspace(
    workspace: Workspace, parts: list[str], absolute: bool
) -> None:
    from pipeline.stages.ingest import _key

    path = Path(*parts) if parts else Path()
    if absolute:
        path = workspace.root / path
    try:
        expected = path.absolute().relative_to(workspace.root).as_posix()
    except ValueError:
        expected = path.absolute().as_posix()
    assert _key(workspace, str(path)) == expected  # the walk gives paths as text


def test_outcomes_passed_one_by_one_are_the_run_in_its_order(
    quarter: Workspace, tmp_path: Path
) -> None:
    """``each`` (what the command line uses) gets every outcome in the order the result's list
    has: a file's place in the run, then its sheets; known files as well as new ones."""
    several = [fill(blank(quarter, p), MODEST) for p in ("0001", "0002", "0003")]
    drop(quarter, "b/三人.docx", pasted_together(several))
    drop(quarter, "a/张伟.docx", fill(blank(quarter, "0007"), MODEST))
    drop(quarter, "a0.docx", b"PK\x03\x04 truncated")
    drop(quarter, "c.docx", fill(blank(quarter, "0004"), MODEST))
    copy = tmp_path / "copy"
    shutil.copytree(quarter.root, copy)
    listed = ingest(quarter, received_at=AT)
    passed: list[FileOutcome] = []
    streamed = ingest(Workspace.open(copy), received_at=AT, each=passed.append)
    expected = [
        ("inbox/a/张伟.docx", "accepted", "0007"),
        ("inbox/a0.docx", "rejected", None),
        ("inbox/b/三人.docx#1", "accepted", "0001"),
        ("inbox/b/三人.docx#2", "accepted", "0002"),
        ("inbox/b/三人.docx#3", "accepted", "0003"),
        ("inbox/c.docx", "accepted", "0004"),
    ]
    assert [(f.path, f.outcome, f.person_id) for f in listed.files] == expected
    assert passed == listed.files and streamed.files == []
    assert streamed.counts == listed.counts == {
        "accepted": 5, "superseded": 0, "rejected": 1, "skipped": 0
    }  # fmt: skip
    assert all(f.new for f in passed)
    drop(quarter, "b/新.docx", fill(blank(quarter, "0005"), MODEST))
    again: list[FileOutcome] = []
    ingest(quarter, received_at=AT, each=again.append)  # the known ones are not read again
    assert (
        [(f.path, f.new) for f in again]
        == [  # 三 (U+4E09) sorts before 新 (U+65B0)
            *((path, False) for path, _, _ in expected[:5]),
            ("inbox/b/新.docx", True),
            ("inbox/c.docx", False),
        ]
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3 << 20), max_size=120))
def test_submissions_are_read_ahead_in_groups_of_bounded_size(sizes: list[int]) -> None:
    from pipeline.stages.ingest import BATCH, GROUP_BYTES, Submission, _groups

    found = [
        (n, Submission(f"{n}.docx", b"x" * size, "", size, "")) for n, size in enumerate(sizes)
    ]
    groups = list(_groups(iter(found)))
    assert [item for group in groups for item in group] == found  # all, once, in order
    for number, group in enumerate(groups, start=1):
        assert 1 <= len(group) <= BATCH
        held = [len(item.data) for _, item in group]
        assert sum(held[:-1]) < GROUP_BYTES  # full only with its last one
        if number < len(groups):  # and full: no group is cut short but the last
            assert len(group) == BATCH or sum(held) >= GROUP_BYTES


_NAMES = ["a", "a b", "a-b", "a.b", "a0", "ab", "张", "三", "~$a"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3), max_size=12),
    st.lists(st.integers(min_value=0, max_value=20), max_size=4),
)
def test_the_inbox_is_walked_in_sorted_order_without_listing_it(
    tmp_path_factory: pytest.TempPathFactory, tree: list[list[str]], roots: list[int]
) -> None:
    """``walk`` gives what sorting every path found would (the order files are read and
    reported in), each once even under two of the paths given, a symlinked folder as a file."""
    from pipeline.stages.ingest import collect, walk

    base = tmp_path_factory.mktemp("inbox")
    for parts in tree:
        folder = base.joinpath(*parts[:-1])
        if any(p.is_file() for p in [folder, *folder.parents] if p != base and p.exists()):
            continue
        if not (folder / parts[-1]).is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            (folder / parts[-1]).write_bytes(b"x")
    (base / "link").symlink_to(base, target_is_directory=True)
    everything = sorted(
        [os.path.join(r, name) for r, _, names in os.walk(base) for name in names]
        + [str(base / "link")]
    )
    folders = sorted(r for r, _, _ in os.walk(base))  # base, and each folder in it
    candidates = [*everything, *folders]
    given = [Path(candidates[i]) for i in roots if i < len(candidates)] + [base]
    assert list(walk(given)) == everything
    count, skipped = collect(given)
    assert skipped == [p for p in everything if os.path.basename(p).startswith("~$")]
    assert count == len(everything) - len(skipped)


def test_a_folder_that_cannot_be_listed_gets_an_outcome_not_silence(
    quarter: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.walk passes over a folder it may not list, and every file in it with it; here the
    folder is named, rejected with the reason, and the rest of the inbox is read."""
    from pipeline.stages import ingest as ingest_module
    from pipeline.stages.report import findings

    locked = quarter.inbox / "城区分局"
    locked.mkdir()
    drop(quarter, "城区分局/0001.docx", fill(blank(quarter, "0001"), MODEST))
    drop(quarter, "0002.docx", fill(blank(quarter, "0002"), MODEST))
    listing = os.scandir

    def scandir(path: str) -> object:
        if os.path.abspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", path)
        return listing(path)

    monkeypatch.setattr(ingest_module.os, "scandir", scandir)
    found = {f.path: f for f in ingest(quarter, received_at=datetime(2027, 1, 5, 10)).files}
    assert found["inbox/0002.docx"].outcome == "accepted"
    folder = found["inbox/城区分局"]
    assert folder.outcome == "rejected"
    assert folder.reason == (
        "UNREADABLE_FILE 这个文件夹打不开（没有权限），里面的文件都没有读取；改好权限后重新运行 ingest"
    )
    assert "inbox/城区分局/0001.docx" not in found
    reported = {f.file for f in findings(quarter, Q4) if f.code == "UNREADABLE_FILE"}
    assert "inbox/城区分局" in reported  # HR sees it until its files have been read
    monkeypatch.setattr(ingest_module.os, "scandir", listing)  # the permission fixed
    again = {f.path: f for f in ingest(quarter, received_at=datetime(2027, 1, 5, 11)).files}
    assert again["inbox/城区分局/0001.docx"].outcome == "accepted"
    reported = {f.file for f in findings(quarter, Q4) if f.code == "UNREADABLE_FILE"}
    assert "inbox/城区分局" not in reported
