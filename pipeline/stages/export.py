"""Export each person's record for a period as the quarter's result has it (appeals and
rules applied, the same as every other output): JSON (the contract), CSV, XLSX."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from ..fields import FIELDS
from ..ledger import Appeal
from ..models import Period, SheetRecord
from ..quarter import accepted_records, evaluate
from ..rules import PeriodResult, PersonResult
from ..spool import SpooledRows
from ..workspace import Workspace
from ..writers import atomic
from ..writers.xlsx import FORMULA_STARTS, Table, workbook_bytes, write_workbook

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


def _dumped_one(record: SheetRecord, result: PersonResult | None) -> dict[str, object]:
    """A record as exported: ``grade`` and ``status`` are the effective ones (after appeals
    and the rules); ``grade_on_sheet`` is what the sheet itself says, ``appeal`` the appeal."""
    sheet_grade = result.grade_on_sheet if result else record.grade
    appeal = result.appeal if result else None
    data: dict[str, object] = {}
    for key, value in record.model_dump(mode="json").items():
        data[key] = value
        if key == "grade":
            data["grade_on_sheet"] = sheet_grade.value if sheet_grade else None
            data["appeal"] = _appeal(appeal) if appeal else None
    return data


def _dumped(records: Iterable[SheetRecord], results: Results | None) -> Iterator[dict[str, object]]:
    for record in records:
        yield _dumped_one(record, (results or {}).get(record.person_id))


def _appeal(appeal: Appeal) -> dict[str, object]:
    return {
        "reason": appeal.reason,
        "filed_at": appeal.filed_at,
        "decision": appeal.decision,
        "grade": appeal.effective_grade if appeal.decision else None,
        "note": appeal.note,
        "decided_at": appeal.decided_at,
    }


def _flat(data: dict[str, object]) -> list[object]:
    return [_value(data, key) for _, key in COLUMNS]


def flat_rows(records: Sequence[SheetRecord], results: Results | None = None) -> list[list[object]]:
    return [_flat(d) for d in _dumped(records, results)]


def _json_pieces(dumped: Iterable[dict[str, object]]) -> Iterator[str]:
    """``json.dumps(list(dumped), ensure_ascii=False, indent=2)`` and a newline, a record at
    a time (the same text: each record indented one level, separated by commas)."""
    first = True
    for data in dumped:
        text = json.dumps(data, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        yield ("[\n  " if first else ",\n  ") + text
        first = False
    yield "[]\n" if first else "\n]\n"


def _csv_pieces(dumped: Iterable[dict[str, object]]) -> Iterator[str]:
    """The CSV text (no byte-order mark: the caller adds it for a file), a row at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([h for h, _ in COLUMNS])
    for data in dumped:
        writer.writerow(["" if v is None else _csv_safe(v) for v in _flat(data)])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


#: Text handed on at a time (CSV).
CHUNK = 1 << 16


def _text_pieces(dumped: Iterable[dict[str, object]], fmt: str) -> Iterator[str]:
    return _json_pieces(dumped) if fmt == "json" else _csv_pieces(dumped)


def _file_pieces(dumped: Iterable[dict[str, object]], fmt: str) -> Iterator[str]:
    """The text of a JSON or CSV file: a CSV file starts with a byte-order mark (Excel then
    reads its Chinese right; on a terminal it would show)."""
    if fmt == "csv":
        yield "\ufeff"
    yield from _text_pieces(dumped, fmt)


def _workbook(dumped: Iterable[dict[str, object]], period: Period) -> list[Table]:
    rows = SpooledRows()  # a 10,000-person export's rows are not held
    for data in dumped:
        rows.append(_flat(data))
    return [Table(f"{period.code}记实表", [h for h, _ in COLUMNS], rows)]


def render(
    records: Sequence[SheetRecord], fmt: str, period: Period, results: Results | None = None
) -> bytes:
    """The export file's bytes in ``fmt``; ``results`` (from ``evaluate``) adds each person's
    grade on the sheet and appeal."""
    dumped = _dumped(records, results)
    if fmt == "xlsx":
        return workbook_bytes(_workbook(dumped, period))
    return "".join(_file_pieces(dumped, fmt)).encode("utf-8")


def _csv_safe(value: object) -> object:
    """Text starting with = + - @ would run as a formula when Excel opens the CSV."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def default_output(workspace: Workspace, period: Period, fmt: str) -> Path:
    return workspace.period_dir(period) / "export" / f"记实表数据_{period.code}.{fmt}"


def _in_order(result: PeriodResult) -> Iterator[dict[str, object]]:
    """Each returned person's record as exported, by person id, read back one at a time."""
    for person in sorted(result.people, key=lambda p: p.person_id):
        found = result.result_of(person)
        if found.kept is not None:
            yield _dumped_one(found.kept.load(), found)


def export(
    workspace: Workspace,
    period: Period,
    fmt: str,
    output: Path | None,
    echo: Callable[[str], None] | None = None,
) -> Path | None:
    """Write the export to ``output`` atomically, a record at a time; JSON and CSV without an
    ``output`` go to ``echo`` instead, a piece of text at a time (XLSX always to a file, by
    default ``default_output``). The file written, or None."""
    result = evaluate(workspace, period)
    dumped = _in_order(result)
    if output is None and fmt != "xlsx" and echo is not None:
        for piece in _text_pieces(dumped, fmt):
            echo(piece)
        return None
    output = output or default_output(workspace, period, fmt)
    if fmt == "xlsx":
        write_workbook(output, _workbook(dumped, period))
    else:
        pieces = _file_pieces(dumped, fmt)
        atomic.write_pieces(output, (piece.encode("utf-8") for piece in pieces))
    return output
