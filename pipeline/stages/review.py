"""The review queue: submissions a person must read (scans, passwords, unknown people,
sheets read with errors) go out as a workbook, and what HR types in comes back as that
person's submission, checked exactly like a parsed sheet.

An entered row becomes a ledger version named ``<original>#人工核对`` with the original's
received time, identified by a form code built from its 编号 and 季度, so it is
attributed, validated and superseded by the same code as any other return. Its hash is
the hash of what was entered: importing the same workbook twice changes nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from openpyxl.worksheet.datavalidation import DataValidation

from .. import identity
from ..errors import KaoheError, Problem
from ..fields import ATTENDANCE, FIELDS
from ..ledger import (
    ACCEPTED,
    REJECTED,
    REVIEW_SUFFIX,
    FileRow,
    Ledger,
    NewFile,
    Review,
    original_path,
)
from ..models import Period
from ..readers.raw import RawField, RawSheet, raw_from_json, raw_to_json
from ..readers.reading import READER_VERSION
from ..records import RosterIndex
from ..settle import settle
from ..workspace import Workspace, writes
from ..writers.xlsx import Link, Picture, Table, write_workbook

__all__ = ["REVIEW_SUFFIX", "export_review", "import_review", "review_path"]
WORKBOOK_NAME = "待人工核对.xlsx"
#: Rejections a person cannot fix by reading the file (another quarter's sheet).
NOT_REVIEWABLE = ("WRONG_PERIOD",)

#: (header, key): the workbook's columns: bookkeeping, then every field HR types in
#: (``fields.FIELDS``), then the reviewer and the original's identity.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("序号", "index"),
    ("原因", "reason"),
    ("原文件", "link"),
    ("文件名（仅供参考）", "hint"),
    *((f.header, f.key) for f in FIELDS if f.entered),
    ("核对人", "reviewer"),
    ("来源路径", "source_path"),
    ("文件指纹", "source_sha"),
    ("扫描件截图（表格；右侧为看不清的栏目）", "picture"),
)
_INDEX = {key: i for i, (_, key) in enumerate(COLUMNS)}
TEXT_FIELDS = tuple(f.key for f in FIELDS if f.entered and f.kind == "text")
COUNT_FIELDS = tuple(f.key for f in ATTENDANCE)


def _column(key: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(_INDEX[key] + 1)


def review_path(workspace: Workspace, period: Period) -> Path:
    return workspace.period_dir(period) / "review" / WORKBOOK_NAME


def outstanding(workspace: Workspace, period: Period) -> list[FileRow]:
    """The submissions of ``period`` waiting for a person to read them."""
    if not workspace.has_ledger():
        return []
    with workspace.ledger() as ledger:
        return _outstanding(ledger, period)


def prefill(row: FileRow, period: Period) -> dict[str, object]:
    """What the reader found, to start the form with."""
    return _prefill(row, period)


def _outstanding(ledger: Ledger, period: Period) -> list[FileRow]:
    reviewed = ledger.reviewed_sources()
    rows = []
    for row in ledger.iter_rows():
        if row.path.endswith(REVIEW_SUFFIX) or (row.path, row.sha256) in reviewed:
            continue
        if row.period not in (None, period.code):
            continue
        if row.outcome == REJECTED:
            codes = [i["code"] for i in row.issues]
            if any(code in NOT_REVIEWABLE for code in codes):
                continue
            rows.append(row)
        elif row.outcome == ACCEPTED and any(i["severity"] == "error" for i in row.issues):
            rows.append(row)
    return rows


def _prefill(row: FileRow, period: Period) -> dict[str, object]:
    values: dict[str, object] = {"period": period.code}
    record = row.record
    if record is not None:
        attendance = record["attendance"]
        months = record["monthly_records"]
        assert isinstance(attendance, dict) and isinstance(months, list)
        values.update(
            person_id=record["person_id"], name=record["name"], unit=record["unit"],
            month1=months[0], month2=months[1], month3=months[2],
            self_evaluation=record["self_evaluation"], signature_date=record["signature_date"],
            leader_opinion=record["leader_opinion"], grade=record["grade"],
            review_opinion=record["review_opinion"], **attendance,
        )  # fmt: skip
    elif row.raw is not None:
        raw = raw_from_json(row.raw)
        for key in ("name", *TEXT_FIELDS, *COUNT_FIELDS):
            values[key] = raw.text(key) or None
        values["unit"] = raw.text("unit_position") or raw.text("unit") or None
    return {k: v for k, v in values.items() if v not in (None, "")}


def _validation(kind: str, formula: str, error: str) -> DataValidation:
    operator = None if kind == "list" else "greaterThanOrEqual"
    return DataValidation(
        type=kind,  # type: ignore[arg-type]
        operator=operator,  # type: ignore[arg-type]
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="输入有误",
        error=error,
    )


#: Height of a scan's picture in its review row, in pixels.
PICTURE_HEIGHT = 420


def scan_picture(row: FileRow) -> tuple[bytes, int] | None:
    """A scanned submission's picture for its review row: the registered table, and beside
    it the crops of the fields its issues name (grade boxes, doubtful lines), as one PNG."""
    if row.raw is None or row.raw.get("format") != "scan":
        return None
    images = raw_from_json(row.raw).images
    if not images:
        return None
    import base64

    from PIL import Image

    def picture(name: str) -> Image.Image:
        return Image.open(io.BytesIO(base64.b64decode(images[name]))).convert("L")

    named = [str(i.get("field", "")) for i in row.issues if i.get("severity") != "info"]
    named = [n for n in dict.fromkeys(named) if n in images and n != "page"]
    parts: list[Image.Image] = []
    if "page" in images:
        page = picture("page")
        parts.append(page.resize((int(page.width * PICTURE_HEIGHT / page.height), PICTURE_HEIGHT)))
    crops = [picture(n) for n in named]
    column_width = 620
    column = Image.new("L", (column_width, PICTURE_HEIGHT), 255)
    top = 0
    for crop in crops:
        scale = min(1.0, column_width / crop.width, (PICTURE_HEIGHT - top) / max(crop.height, 1))
        if scale <= 0.05:
            break
        shrunk = crop.resize((max(int(crop.width * scale), 1), max(int(crop.height * scale), 1)))
        column.paste(shrunk, (0, top))
        top += shrunk.height + 6
    if crops:
        parts.append(column)
    if not parts:
        return None
    width = sum(p.width for p in parts) + 8 * (len(parts) - 1)
    sheet = Image.new("L", (width, PICTURE_HEIGHT), 255)
    left = 0
    for part in parts:
        sheet.paste(part, (left, 0))
        left += part.width + 8
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue(), PICTURE_HEIGHT


@writes("导出待人工核对表")
def export_review(workspace: Workspace, period: Period) -> tuple[Path, int]:
    """Write the period's review workbook; return its path and how many rows it holds."""
    path = review_path(workspace, period)
    rows: list[FileRow] = []
    if workspace.has_ledger():
        with workspace.ledger() as ledger:
            rows = _outstanding(ledger, period)
    table_rows: list[list[object]] = []
    pictures: list[Picture] = []
    for index, row in enumerate(rows, start=1):
        values = _prefill(row, period)
        first = next(
            (i for i in row.issues if i["severity"] == "error"),
            row.issues[0] if row.issues else None,
        )
        values["index"] = index
        values["reason"] = f"{first['code']} {first['message']}" if first else ""
        on_disk = workspace.root / original_path(row.path).split("!/", 1)[0]
        values["link"] = Link(row.path, os.path.relpath(on_disk, path.parent))
        values["hint"] = Path(original_path(row.path).rsplit("/", 1)[-1]).stem
        values["source_path"] = row.path
        values["source_sha"] = row.sha256
        table_rows.append([values.get(key) for _, key in COLUMNS])
        picture = scan_picture(row)
        if picture is not None:
            pictures.append(Picture(index, _INDEX["picture"], picture[0], picture[1]))
    last = max(len(table_rows) + 1, 200)
    grade = _validation("list", '"好,较好,一般,差"', "请在 好 / 较好 / 一般 / 差 中选择")
    grade.add(f"{_column('grade')}2:{_column('grade')}{last}")
    counts = _validation("whole", "0", "请填写 0 或正整数")
    counts.add(f"{_column('late')}2:{_column('absent')}{last}")
    days = _validation("decimal", "0", "请填写 0 或正数（可带 .5）")
    days.add(f"{_column('leave_days')}2:{_column('leave_days')}{last}")
    widths = {_INDEX[k]: 40.0 for k in TEXT_FIELDS}
    if pictures:
        widths[_INDEX["picture"]] = 150.0
    table = Table(
        f"{period.code}待人工核对",
        [header for header, _ in COLUMNS],
        table_rows,  # type: ignore[arg-type]
        widths=widths,
        validations=[grade, counts, days],
        pictures=pictures,
    )
    write_workbook(path, [table])
    return path, len(table_rows)


@dataclass
class ImportResult:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    blank: int = 0
    problems: list[Problem] = field(default_factory=list)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _entered_sheet(values: dict[str, str], name: str, unit: str, period: Period) -> RawSheet:
    where = "人工核对"
    sheet = RawSheet(format="review", labels_found=len(COLUMNS))
    fields = {
        "name": name,
        "unit": unit,
        "period_text": f"（{period.title}）",
        **{key: values.get(key, "") for key in (*TEXT_FIELDS, *COUNT_FIELDS)},
        "signature": values.get("signature_date", ""),
        "grade": values.get("grade", ""),
    }
    sheet.fields = {key: RawField(text, where) for key, text in fields.items()}
    sheet.property_code = identity.form_code(period, values["person_id"])
    return sheet


@writes("导入人工核对结果")
def import_review(workspace: Workspace, file: Path, *, reviewer: str = "") -> ImportResult:
    """Read a filled review workbook back; each completed row becomes a submission."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:
        raise KaoheError(
            f"无法打开核对表 {file}：请确认是 kaohe review export 导出的 .xlsx 文件"
        ) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(h or "").strip() for h in next(rows, ())]
    expected = [h for h, _ in COLUMNS]
    missing = [h for h in expected if h not in header]
    if missing:
        raise KaoheError(f"{file.name} 不是核对表：缺少列 {'、'.join(missing)}")
    position = {key: header.index(head) for head, key in COLUMNS}
    result = ImportResult()
    entries: list[Entry] = []
    for number, cells in enumerate(rows, start=2):
        values = {key: _text(cells[i]) if i < len(cells) else "" for key, i in position.items()}
        if not values["person_id"]:
            result.blank += 1
            continue
        entries.append(Entry(values, f"{file.name} 第{number}行", number))
    book.close()
    entered = enter(workspace, entries, reviewer=reviewer, source=file.name)
    result.imported, result.unchanged = entered.imported, entered.unchanged
    result.problems = entered.problems
    return result


@dataclass(frozen=True)
class Entry:
    """One submission typed in by a person: field values by key (``fields.FIELDS``) plus
    ``source_path``/``source_sha`` (the original it stands for) and ``reviewer``."""

    values: dict[str, str]
    where: str  # for messages: "待人工核对.xlsx 第3行", "工作台"
    row: int = 0


@writes("录入人工核对结果")
def enter(
    workspace: Workspace, entries: list[Entry], *, reviewer: str = "", source: str = "工作台"
) -> ImportResult:
    """Entries typed in (the review workbook, or the workbench's form) become submissions,
    checked exactly like a parsed sheet: the one path both take."""
    roster = RosterIndex(workspace.people())
    result = ImportResult()
    imported_at = datetime.now().astimezone().isoformat(timespec="seconds")
    with workspace.ledger() as ledger:
        batch: list[tuple[NewFile, str, str, str]] = []
        for entry in entries:
            values = entry.values
            number = entry.row
            person = roster.by_id.get(values["person_id"])
            if person is None:
                result.problems.append(
                    Problem(source, number, "编号", f"名单中没有编号 {values['person_id']}")
                )
                continue
            try:
                period = Period.parse(values["period"])
            except ValueError as exc:
                result.problems.append(Problem(source, number, "季度", str(exc)))
                continue
            received = ledger.received_at(values["source_path"], values["source_sha"])
            if received is None:
                result.problems.append(
                    Problem(
                        source,
                        number,
                        "来源路径",
                        "台账中找不到原文件（来源路径或文件指纹被改动），请重新导出核对表",
                    )
                )
                continue
            name, unit = values.get("name") or person.name, values.get("unit") or person.unit
            raw = _entered_sheet(values, name, unit, period)
            payload = raw_to_json(raw)
            sha = hashlib.sha256(
                json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
            ).hexdigest()
            key = values["source_path"] + REVIEW_SUFFIX
            if ledger.reader_version(key, sha) is not None:
                result.unchanged.append(key)
                continue
            new = NewFile(
                path=key, sha256=sha, size=0, received_at=received, format="review",
                expected_period=period.code, raw=payload, read_code=None, read_message=None,
                reader_version=READER_VERSION,
            )  # fmt: skip
            batch.append(
                (
                    new,
                    values["source_path"],
                    values["source_sha"],
                    values.get("reviewer") or reviewer,
                )
            )
            result.imported.append(key)
        if batch:
            ledger.add([item[0] for item in batch])
            ledger.add_reviews(
                [
                    Review(s_path, s_sha, n.path, n.sha256, who, imported_at)
                    for n, s_path, s_sha, who in batch
                ]
            )
            settle(ledger, roster, scan=workspace.settings.scan)
    return result
