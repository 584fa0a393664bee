"""``kaohe demo``: the whole quarter on the bundled sample roster.

Sample returns are made from the generated blank sheets by typing into their empty
cells, with the problems HR meets every quarter: a late return, a number nobody can
read, a 一般 to follow up, long leave without a grade, a second submission, a unit's
zip, a photo, and people who do not return at all. The same run twice gives the same
files, so the demo can be repeated.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from .flows import archive_quarter, write_quarter_files
from .identity import form_code, qr_png
from .models import Period
from .stages.archive import ArchiveResult
from .stages.generate import GenerateResult, generate
from .stages.ingest import IngestResult, ingest
from .stages.report import ReportFiles
from .workspace import Workspace
from .writers.package import Member, assemble

_EMPTY = re.compile(r"(<w:p(?: [^>]*)?>)(<w:pPr>(?:(?!</w:pPr>).)*</w:pPr>)?</w:p>")
_SELF_SIGN = "签字：　　　　　　　　　　　年　　月　　日"
DEMO_FOLDER = "示例回收"


@dataclass(frozen=True)
class SampleReturn:
    person_id: str
    months: tuple[str, str, str]
    attendance: tuple[str, str, str, str]
    grade: str  # the ticked word, or "" for none
    received: datetime
    file: str
    leader: str = "该同志工作认真负责，能按时完成各项任务。"


def _returns(period: Period, deadline: date) -> list[SampleReturn]:
    m1, m2, m3 = period.month_labels
    on_time = datetime.combine(deadline - timedelta(days=1), time(10, 0))
    late = datetime.combine(deadline + timedelta(days=3), time(9, 30))
    work = (
        f"{m1}：完成辖区企业现场检查8家，办理信访件3件。",
        f"{m2}：参与专项执法行动，整理案卷。",
        f"{m3}：完成季度总结和统计报表。",
    )
    return [
        SampleReturn(
            "0001", work, ("0", "0", "0", "1"), "较好", on_time, "城区分局/0001_张伟.docx"
        ),
        SampleReturn(
            "0002", work, ("一次", "0", "0", "0"), "好", on_time, "城区分局/李娜-记实表.docx"
        ),
        SampleReturn("0004", work, ("0", "0", "0", "0"), "好", late, "泽州分局/赵磊.docx"),
        SampleReturn("0005", work, ("很多", "0", "0", "2"), "较好", on_time, "泽州分局/陈静.docx"),
        SampleReturn(
            "0006",
            work,
            ("0", "0", "0", "35"),
            "",
            on_time,
            "泽州分局/迪丽努尔.docx",
            leader="病假超过30个工作日，不定等次。",
        ),
        SampleReturn(
            "0007",
            work,
            ("0", "0", "0", "0"),
            "一般",
            on_time,
            "执法队/张伟.docx",
            leader="工作完成一般，需加强。",
        ),
        SampleReturn("0008", work, ("0", "0", "0", "0"), "较好", on_time, "执法队.zip"),
        SampleReturn("0009", work, ("0", "0", "0", "0.5"), "好", on_time, "执法队.zip"),
        SampleReturn("0011", work, ("0", "0", "0", "0"), "好", on_time, "办公室/郑丽.docx"),
        SampleReturn("0011", work, ("0", "0", "0", "1"), "好", late, "办公室/郑丽（修改后）.docx"),
        SampleReturn("0014", work, ("0", "0", "0", "0"), "较好", on_time, "大气环境科/杨帆.docx"),
    ]


def type_into_blank(
    sheet: bytes, texts: Sequence[str], *, grade: str = "", signature: str = ""
) -> bytes:
    """A blank sheet of the shipped template with ``texts`` typed into its empty cells in
    reading order (months, attendance, self-evaluation, leader, review), ``grade`` ticked
    and the self-evaluation's 签字 line replaced by ``signature``. Edits the XML directly:
    fast enough to fill 10,000 sheets for a benchmark."""
    with zipfile.ZipFile(io.BytesIO(sheet)) as package:
        parts = {info.filename: package.read(info) for info in package.infolist()}
    xml = parts["word/document.xml"].decode("utf-8")
    remaining = iter(texts)

    def typed(match: re.Match[str]) -> str:
        text = next(remaining, "")
        run = f"<w:r><w:t>{text}</w:t></w:r>" if text else ""
        return f"{match.group(1)}{match.group(2) or ''}{run}</w:p>"

    xml = _EMPTY.sub(typed, xml)
    if signature:
        xml = xml.replace(_SELF_SIGN, signature, 1)
    if grade:
        xml = xml.replace(f"□{grade} ", f"☑{grade} ", 1).replace(f"□{grade}<", f"☑{grade}<", 1)
    parts["word/document.xml"] = xml.encode("utf-8")
    return assemble(Member.of(part, data) for part, data in parts.items())


def fill_blank(sheet: bytes, sample: SampleReturn, name: str, *, signed: bool = True) -> bytes:
    """A sample return: the person's work, attendance and self-evaluation, the leader's
    opinion and grade, the review, signed the day before it was received (``signed=False``:
    the date typed, a gap left for a pen signature on the printed page)."""
    day = sample.received - timedelta(days=1)
    texts = [
        *sample.months,
        *sample.attendance,
        "本季度认真履行岗位职责，遵守工作纪律，按时完成各项任务。",
        sample.leader,
        "同意分管领导意见。",
    ]
    who = name if signed else "\u3000" * 8
    signature = f"签字：{who}　{day.year}年{day.month}月{day.day}日"
    return type_into_blank(sheet, texts, grade=sample.grade, signature=signature)


def make_sample_returns(workspace: Workspace, period: Period) -> Path:
    """Write the sample returns into ``inbox/示例回收/`` (same bytes and times every run)."""
    folder = workspace.inbox / DEMO_FOLDER
    samples = _returns(period, workspace.deadline(period).day)
    bundles: dict[str, list[tuple[str, bytes]]] = {}
    for sample in samples:
        [blank] = workspace.blank_dir(period).glob(f"*/{sample.person_id}_*.docx")
        name = blank.name.split("_")[1]
        data = fill_blank(blank.read_bytes(), sample, name)
        if sample.file.endswith(".zip"):
            bundles.setdefault(sample.file, []).append((f"{sample.person_id}_{name}.docx", data))
            continue
        _write(folder / sample.file, data, sample.received)
    for bundle, members in bundles.items():
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
        _write(folder / bundle, out.getvalue(), samples[0].received)
    for paper in SAMPLE_SCANS:
        data = (_SAMPLES / paper.file).read_bytes()
        if period.code != SAMPLE_SCAN_PERIOD:
            data = restamp(data, paper.kind, form_code(period, paper.person_id))
        _write(folder / paper.inbox, data, samples[0].received)
    return folder


@dataclass(frozen=True)
class SampleScan:
    """A paper return of the demo: filled in Word, printed, ticked and signed by pen, then
    scanned or photographed (made by tools/make_demo_scans.py, shipped in pipeline/samples/)."""

    person_id: str
    work: tuple[str, str, str]
    attendance: tuple[str, str, str, str]
    grade: str  # ticked by pen
    leader: str
    kind: str  # "pdf" (a flatbed's scan to PDF) or "jpg" (a phone photo)
    file: str  # in pipeline/samples/
    inbox: str  # where the demo puts it


SAMPLE_SCAN_PERIOD = "2026Q4"
_SAMPLES = Path(__file__).resolve().parent / "samples"
SAMPLE_SCANS = (
    SampleScan(
        "0003",
        (
            "固体废物专项检查12家，督办整改问题5个。",
            "危险废物规范化管理评估，完成台账核查。",
            "化学品环境风险排查，编写季度报告。",
        ),
        ("0", "0", "0", "1"),
        "较好",
        "该同志工作扎实，能按时完成各项任务。",
        "jpg",
        "王芳-拍照.jpg",
        "城区分局/王芳-拍照.jpg",
    ),
    SampleScan(
        "0013",
        (
            "完成政务新媒体发布46条，组织环境日宣传活动。",
            "配合完成信息公开年报，回复依申请公开2件。",
            "完成季度宣传总结。",
        ),
        ("0", "0", "0", "0"),
        "好",
        "该同志宣传工作成效明显。",
        "pdf",
        "韩雪-扫描.pdf",
        "办公室/韩雪-扫描.pdf",
    ),
)


def restamp(data: bytes, kind: str, code: str) -> bytes:
    """A sample scan with another quarter's QR code painted over its own (the demo may be
    run for any quarter; the samples were made for one)."""
    import cv2
    import numpy as np
    import zxingcpp
    from PIL import Image

    if kind == "pdf":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        page = document[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L")
        document.close()
    else:
        page = Image.open(io.BytesIO(data)).convert("L")
    pixels = np.array(page)
    [found] = zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    corners = found.position
    points = (corners.top_left, corners.top_right, corners.bottom_right, corners.bottom_left)
    quad = np.array([[p.x, p.y] for p in points], dtype=np.float32)
    symbol = np.array(Image.open(io.BytesIO(qr_png(code))).convert("L"))
    side = symbol.shape[0]
    quiet = 32  # the PNG's quiet zone: 4 modules of 8 pixels
    inner = np.array(
        [
            [quiet, quiet],
            [side - quiet, quiet],
            [side - quiet, side - quiet],
            [quiet, side - quiet],
        ],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(inner, quad)
    height, width = pixels.shape
    warped = cv2.warpPerspective(symbol, matrix, (width, height), borderValue=255)
    mask = cv2.warpPerspective(np.full_like(symbol, 255), matrix, (width, height))
    pixels = np.where(mask > 0, np.minimum(warped.astype(np.int16) + 30, 255), pixels)
    stamped = Image.fromarray(pixels.astype(np.uint8))
    out = io.BytesIO()
    if kind == "pdf":
        stamped.save(out, "PDF", resolution=200.0)
    else:
        stamped.convert("RGB").save(out, "JPEG", quality=80)
    return out.getvalue()


def _write(path: Path, data: bytes, received: datetime) -> None:
    """Write a sample return with the time it was 'received' as its modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    stamp = received.timestamp()
    os.utime(path, (stamp, stamp))


@dataclass
class DemoResult:
    generated: GenerateResult
    ingested: IngestResult
    report: ReportFiles
    summary: Path
    archive: ArchiveResult


def run_demo(workspace: Workspace, period: Period) -> DemoResult:
    generated = generate(workspace, period)
    make_sample_returns(workspace, period)
    ingested = ingest(workspace)
    files = write_quarter_files(workspace, period)
    archive = archive_quarter(workspace, period, files)
    return DemoResult(generated, ingested, files.report, files.summary, archive)
