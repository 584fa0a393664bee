"""PDF returns from two producers, scans, passwords, garbage text; .doc through LibreOffice."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.readers.pdf import read_pdf
from pipeline.stages.export import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .conftest import convert, needs_soffice
from .filling import MODEST, fill
from .pdfs import reportlab_sheet, scanned, without_unicode_map

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"


def records(workspace: Workspace) -> dict[str, dict[str, object]]:
    return {r.person_id: r.model_dump(mode="json") for r in accepted_records(workspace, Q4)}


def only_outcome(workspace: Workspace, name: str, data: bytes) -> tuple[str, str]:
    (workspace.inbox / name).write_bytes(data)
    [item] = ingest(workspace, received_at=AT).files
    return item.outcome, item.reason


def test_libreoffice_pdf_reads_like_the_word_file(workspace: Workspace) -> None:
    (workspace.inbox / "张伟.pdf").write_bytes((FIXTURES / "filled_0007_by_lo74.pdf").read_bytes())
    (workspace.inbox / "同一人.docx").write_bytes(
        (FIXTURES / "filled_0007_resaved_by_lo74.docx").read_bytes()
    )
    ingest(workspace, received_at=AT)
    from pipeline.ledger import Ledger

    with Ledger(workspace.root / "kaohe.sqlite") as ledger:
        by_format = {row.format: row.record for row in ledger.iter_rows() if row.record}
    pdf, word = by_format["pdf"], by_format["docx"]
    assert pdf is not None and word is not None
    for key in (
        "person_id",
        "monthly_records",
        "attendance",
        "self_evaluation",
        "signature_date",
        "leader_opinion",
        "grade",
        "review_opinion",
        "status",
    ):
        assert pdf[key] == word[key], key
    assert pdf["grade"] == "较好"
    assert pdf["monthly_records"][0] == MODEST.monthly[0]  # type: ignore[index]


def test_reportlab_pdf_with_another_layout(workspace: Workspace) -> None:
    outcome, reason = only_outcome(workspace, "陈静.pdf", reportlab_sheet())
    assert (outcome, reason) == ("accepted", "")
    record = records(workspace)["0005"]
    assert record["monthly_records"] == [
        "开展大气污染源排查，检查企业9家。",
        "配合秋冬季攻坚督查。",
        "完成季度统计报表。",
    ]
    assert record["attendance"] == {"late": 1, "early_leave": 0, "absent": 0, "leave_days": 3}
    assert (record["grade"], record["signature_date"], record["leader_opinion"]) == (
        "好",
        "2027-01-03",
        "工作扎实。",
    )
    assert record["self_evaluation"] == "按时完成各项任务。"
    assert record["source"]["format"] == "pdf"  # type: ignore[index]


def test_a_scan_of_a_sheet_without_qr_or_form_code_needs_review(workspace: Workspace) -> None:
    # another producer's sheet (no QR code, no 表码), scanned at 100 dpi: read, but nobody's
    outcome, reason = only_outcome(workspace, "扫描.pdf", scanned(reportlab_sheet()))
    assert (outcome, reason) == (
        "rejected",
        "SCANNED_NEEDS_REVIEW 扫描件上读不到有效的二维码或表码，无法确定是谁的表，已列入待人工核对",
    )


def test_text_without_unicode_map_is_not_read_as_data(workspace: Workspace) -> None:
    outcome, reason = only_outcome(workspace, "乱码.pdf", without_unicode_map(reportlab_sheet()))
    assert (outcome, reason) == (
        "rejected",
        "SCANNED_NEEDS_REVIEW PDF 中的文字无法还原（缺少字符映射），为免读错，已列入待人工核对",
    )


def test_encrypted_pdf(workspace: Workspace) -> None:
    outcome, reason = only_outcome(workspace, "加密.pdf", reportlab_sheet(password="secret"))
    assert (outcome, reason) == ("rejected", "ENCRYPTED_FILE PDF 设置了打开密码，无法读取")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4\n%%EOF", "UNREADABLE_FILE PDF 已损坏或不完整"),
        (b"PK\x03\x04 a docx named pdf", "UNREADABLE_FILE 文件内容不是 PDF（可能改错了扩展名）"),
    ],
)
def test_broken_pdfs(workspace: Workspace, data: bytes, reason: str) -> None:
    assert only_outcome(workspace, "x.pdf", data) == ("rejected", reason)


def test_pdf_reader_keeps_paragraphs_and_joins_wrapped_lines() -> None:
    [sheet] = read_pdf((FIXTURES / "filled_0007_by_lo74.pdf").read_bytes())
    assert sheet.fields["month1"].text == MODEST.monthly[0]
    assert sheet.fields["leader_opinion"].text.split("\n")[:2] == [
        MODEST.leader_opinion,
        "等次：□好 ☑较好 □一般 □差",
    ]
    assert [c.text for c in sheet.code_texts][-1].endswith("表码：KH2026Q4-0007-RW")


@needs_soffice
def test_a_record_spilling_onto_page_two(workspace: Workspace, tmp_path: Path) -> None:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0003_*.docx")
    long_text = "本月重点开展固体废物规范化管理检查，督促企业建立管理台账并落实贮存场所标识。" * 40
    entries = dataclasses.replace(MODEST, monthly=(MODEST.monthly[0], MODEST.monthly[1], long_text))
    source = tmp_path / "long.docx"
    source.write_bytes(fill(blank.read_bytes(), entries))
    pdf = convert(source, "pdf", tmp_path / "out")
    import pdfplumber

    with pdfplumber.open(pdf) as document:
        assert len(document.pages) >= 2
    [sheet] = read_pdf(pdf.read_bytes())
    assert sheet.fields["month3"].text == long_text
    assert sheet.fields["self_evaluation"].text.startswith(MODEST.self_evaluation)


@needs_soffice
def test_old_word_doc_is_converted_and_read(workspace: Workspace) -> None:
    assert (
        only_outcome(workspace, "张伟.doc", (FIXTURES / "filled_0007_by_lo74.doc").read_bytes())[0]
        == "accepted"
    )
    record = records(workspace)["0007"]
    assert record["grade"] == "较好"
    assert record["monthly_records"][0] == MODEST.monthly[0]  # type: ignore[index]
    assert record["source"]["format"] == "doc"  # type: ignore[index]


def test_without_libreoffice_old_formats_say_what_to_do(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pipeline.readers.legacy.soffice", lambda: None)
    outcome, reason = only_outcome(workspace, "张伟.wps", b"\xd0\xcf\x11\xe0 wps")
    assert (outcome, reason) == (
        "rejected",
        "UNSUPPORTED_FORMAT 本机未安装 LibreOffice，无法读取 .wps 文件；请让本人在 Word/WPS 中另存为 .docx 后重新提交",
    )


def test_committed_two_page_pdf_joins_the_spilled_record() -> None:
    """A LibreOffice 7.4 export where the third month's record runs onto page 2."""
    import pdfplumber

    path = FIXTURES / "spill_0007_two_pages_by_lo74.pdf"
    with pdfplumber.open(path) as document:
        assert len(document.pages) == 2
    [sheet] = read_pdf(path.read_bytes())
    assert (
        sheet.fields["month3"].text
        == "本月重点开展固体废物规范化管理检查，督促企业建立管理台账并落实贮存场所标识。" * 40
    )
    assert sheet.fields["leave_days"].text == "1.5"
    assert sheet.fields["review_opinion"].text.startswith("同意分管领导意见。")
