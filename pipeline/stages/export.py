"""Export the accepted record of each person for a period: JSON (the contract), CSV, XLSX."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from ..ledger import ACCEPTED, LEDGER_NAME, Ledger
from ..models import Period, SheetRecord
from ..workspace import Workspace
from ..writers import atomic
from ..writers.xlsx import FORMULA_STARTS, Table, workbook_bytes

FORMATS = ("json", "csv", "xlsx")

#: Flat columns for CSV and XLSX: (Chinese header, how to get the value).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "person_id"),
    ("姓名", "name"),
    ("性别", "gender"),
    ("单位", "unit"),
    ("职务", "position"),
    ("从事或分管工作", "duties"),
    ("季度", "period"),
    ("第一月工作纪实", "monthly_records.0"),
    ("第二月工作纪实", "monthly_records.1"),
    ("第三月工作纪实", "monthly_records.2"),
    ("迟到（次）", "attendance.late"),
    ("早退（次）", "attendance.early_leave"),
    ("旷工（次）", "attendance.absent"),
    ("请假（天）", "attendance.leave_days"),
    ("自我评价", "self_evaluation"),
    ("签字日期", "signature_date"),
    ("分管领导意见", "leader_opinion"),
    ("等次", "grade"),
    ("班子审定意见", "review_opinion"),
    ("状态", "status"),
    ("问题", "issues"),
    ("原文件", "source.path"),
    ("收到时间", "source.received_at"),
    ("SHA-256", "source.sha256"),
)


def accepted_records(workspace: Workspace, period: Period) -> list[SheetRecord]:
    """The latest accepted record of each person in ``period``, by 编号."""
    path = workspace.root / LEDGER_NAME
    if not path.exists():
        return []
    with Ledger(path) as ledger:
        rows = ledger.rows("outcome = ? AND period = ?", (ACCEPTED, period.code))
    records = [SheetRecord.model_validate(row.record) for row in rows if row.record]
    return sorted(records, key=lambda r: r.person_id)


def _value(data: dict[str, object], dotted: str) -> object:
    value: object = data
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
    if dotted == "issues" and isinstance(value, list):
        return "；".join(f"{i['code']} {i['message']}" for i in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def flat_rows(records: Sequence[SheetRecord]) -> list[list[object]]:
    dumped = [r.model_dump(mode="json") for r in records]
    return [[_value(d, key) for _, key in COLUMNS] for d in dumped]


def render(records: Sequence[SheetRecord], fmt: str, period: Period) -> bytes:
    """The export file's bytes in ``fmt``."""
    if fmt == "json":
        data = [r.model_dump(mode="json") for r in records]
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    headers = [h for h, _ in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        for row in flat_rows(records):
            writer.writerow(["" if v is None else _csv_safe(v) for v in row])
        return buffer.getvalue().encode("utf-8-sig")  # BOM: Excel then reads Chinese right
    table = Table(f"{period.code}记实表", headers, flat_rows(records))  # type: ignore[arg-type]
    return workbook_bytes([table])


def _csv_safe(value: object) -> object:
    """Text starting with = + - @ would run as a formula when Excel opens the CSV."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def default_output(workspace: Workspace, period: Period, fmt: str) -> Path:
    return workspace.period_dir(period) / "export" / f"记实表数据_{period.code}.{fmt}"


def export(
    workspace: Workspace, period: Period, fmt: str, output: Path | None
) -> tuple[bytes, Path | None]:
    """Render the export; write it to ``output`` atomically if given (JSON/CSV may go to stdout)."""
    data = render(accepted_records(workspace, period), fmt, period)
    if output is None and fmt == "xlsx":
        output = default_output(workspace, period, fmt)
    if output is not None:
        atomic.write_bytes(output, data)
    return data, output
