"""Export each person's record for a period as the quarter's result has it (appeals and
rules applied, the same as every other output): JSON (the contract), CSV, XLSX."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..fields import FIELDS
from ..ledger import Appeal
from ..models import Period, SheetRecord
from ..quarter import accepted_records, evaluate
from ..rules import PersonResult
from ..workspace import Workspace
from ..writers import atomic
from ..writers.xlsx import FORMULA_STARTS, Table, workbook_bytes

__all__ = ["FORMATS", "accepted_records", "export", "render"]

FORMATS = ("json", "csv", "xlsx")


#: Flat columns for CSV and XLSX: (Chinese header, how to get the value).
def _columns() -> tuple[tuple[str, str], ...]:
    columns: list[tuple[str, str]] = []
    for f in FIELDS:
        if f.record:
            columns.append((f.header, f.record))
        if f.key == "grade":
            columns += [("表上等次", "grade_on_sheet"), ("复核", "appeal")]
    return (*columns, ("状态", "status"), ("问题", "issues"), ("原文件", "source.path"),
            ("收到时间", "source.received_at"), ("SHA-256", "source.sha256"))  # fmt: skip


COLUMNS = _columns()


def _value(data: dict[str, object], dotted: str) -> object:
    value: object = data
    for part in dotted.split("."):
        if isinstance(value, list):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
    if dotted == "issues" and isinstance(value, list):
        return "；".join(f"{i['code']} {i['message']}" for i in value)
    if dotted == "appeal" and isinstance(value, dict):
        decided = value["decision"]
        return f"{decided}“{value['grade']}”：{value['note']}" if decided else "已申请，待决定"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Results = Mapping[str, PersonResult]


def _dumped(records: Sequence[SheetRecord], results: Results | None) -> list[dict[str, object]]:
    """Records as exported: ``grade`` and ``status`` are the effective ones (after appeals
    and the rules); ``grade_on_sheet`` is what the sheet itself says, ``appeal`` the appeal."""
    dumped = []
    for record in records:
        result = (results or {}).get(record.person_id)
        sheet_grade = result.grade_on_sheet if result else record.grade
        appeal = result.appeal if result else None
        data: dict[str, object] = {}
        for key, value in record.model_dump(mode="json").items():
            data[key] = value
            if key == "grade":
                data["grade_on_sheet"] = sheet_grade.value if sheet_grade else None
                data["appeal"] = _appeal(appeal) if appeal else None
        dumped.append(data)
    return dumped


def _appeal(appeal: Appeal) -> dict[str, object]:
    return {
        "reason": appeal.reason,
        "filed_at": appeal.filed_at,
        "decision": appeal.decision,
        "grade": appeal.effective_grade if appeal.decision else None,
        "note": appeal.note,
        "decided_at": appeal.decided_at,
    }


def flat_rows(records: Sequence[SheetRecord], results: Results | None = None) -> list[list[object]]:
    return [[_value(d, key) for _, key in COLUMNS] for d in _dumped(records, results)]


def render(
    records: Sequence[SheetRecord], fmt: str, period: Period, results: Results | None = None
) -> bytes:
    """The export file's bytes in ``fmt``; ``results`` (from ``evaluate``) adds each person's
    grade on the sheet and appeal."""
    if fmt == "json":
        data = _dumped(records, results)
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    headers = [h for h, _ in COLUMNS]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(headers)
        for row in flat_rows(records, results):
            writer.writerow(["" if v is None else _csv_safe(v) for v in row])
        return buffer.getvalue().encode("utf-8-sig")  # BOM: Excel then reads Chinese right
    table = Table(f"{period.code}记实表", headers, flat_rows(records, results))  # type: ignore[arg-type]
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
    result = evaluate(workspace, period)
    records = sorted(result.records.values(), key=lambda r: r.person_id)
    data = render(records, fmt, period, result.results)
    if output is None and fmt == "xlsx":
        output = default_output(workspace, period, fmt)
    if output is not None:
        atomic.write_bytes(output, data)
    return data, output
