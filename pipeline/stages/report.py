"""The period's exception report: every finding of the rules and every file that could not
be attributed, as JSON, a workbook (``异常报告.xlsx``) and a printable page (``异常报告.html``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..codes import CODES, FIELD_NAMES, Code
from ..ledger import REJECTED, FileRow
from ..models import Finding, Period
from ..quarter import evaluate
from ..rules import PeriodResult
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.html import SEVERITY_WORDS, Section, report_page
from ..writers.xlsx import Table, write_workbook

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
DETAIL_HEADERS = ("编号", "姓名", "单位", "文件", "栏目", "情况")
DETAIL_COLUMNS = ("代码", "问题", "级别", "编号", "姓名", "单位", "文件", "栏目", "情况", "怎么办")


def _unattributed(workspace: Workspace, period: Period) -> list[Finding]:
    """Rejected files of this period (or of no known period): nobody's sheet yet."""
    if not workspace.has_ledger():
        return []
    found: list[Finding] = []
    with workspace.ledger() as ledger:
        latest: dict[str, FileRow] = {}
        for row in ledger.versions_of_rejected_paths():
            latest[row.path] = row  # later versions of a path replace earlier ones
    for row in latest.values():
        if row.outcome != REJECTED or row.period not in (None, period.code) or not row.issues:
            continue
        first = row.issues[0]
        found.append(
            Finding(
                code=first["code"],
                severity=first["severity"],  # type: ignore[arg-type]  # validated here
                file=row.path,
                field=first.get("field", ""),
                message=first["message"],
            )
        )
    return found


def findings(
    workspace: Workspace,
    period: Period,
    *,
    today: date | None = None,
    result: PeriodResult | None = None,
) -> list[Finding]:
    """All findings of the period, most serious first, then by code, unit, person and file."""
    result = result or evaluate(workspace, period, today=today)
    rows = [*result.findings, *_unattributed(workspace, period)]
    return sorted(
        rows, key=lambda f: (SEVERITY_ORDER[f.severity], f.code, f.unit, f.person_id, f.file)
    )


@dataclass
class ReportFiles:
    xlsx: Path
    html: Path
    findings: list[Finding]


def _title(code: str) -> tuple[str, str]:
    try:
        info = CODES[Code(code)]
    except ValueError:
        return code, ""
    return info.title, info.action


@writes("写异常报告")
def write_report(
    workspace: Workspace,
    period: Period,
    *,
    today: date | None = None,
    result: PeriodResult | None = None,
) -> ReportFiles:
    rows = findings(workspace, period, today=today, result=result)
    deadline = workspace.deadline(period)
    folder = workspace.period_dir(period) / "report"
    by_code: dict[str, list[Finding]] = {}
    for item in rows:
        by_code.setdefault(item.code, []).append(item)
    summary = [
        (
            code,
            _title(code)[0],
            SEVERITY_WORDS.get(items[0].severity, items[0].severity),
            str(len(items)),
        )
        for code, items in by_code.items()
    ]
    note = "（暂定）" if deadline.provisional else ""
    subtitle = f"截止日期 {deadline.day.isoformat()}{note}；共 {len(rows)} 项"
    sections = [
        Section(
            code,
            _title(code)[0],
            items[0].severity,
            _title(code)[1],
            DETAIL_HEADERS,
            [
                (f.person_id, f.name, f.unit, f.file, FIELD_NAMES.get(f.field, f.field), f.message)
                for f in items
            ],
        )
        for code, items in by_code.items()
    ]
    html = report_page(f"{period.title}平时考核异常报告", subtitle, summary, sections)
    html_path = folder / "异常报告.html"
    atomic.write_bytes(html_path, html.encode("utf-8"))
    xlsx_path = folder / "异常报告.xlsx"
    detail = [
        (
            f.code,
            _title(f.code)[0],
            SEVERITY_WORDS.get(f.severity, f.severity),
            f.person_id,
            f.name,
            f.unit,
            f.file,
            FIELD_NAMES.get(f.field, f.field),
            f.message,
            _title(f.code)[1],
        )
        for f in rows
    ]
    write_workbook(
        xlsx_path,
        [
            Table(
                "明细",
                ("代码", "问题", "级别", "编号", "姓名", "单位", "文件", "栏目", "情况", "怎么办"),
                detail,
            ),
            Table("汇总", ("代码", "问题", "级别", "数量"), [(*s[:3], int(s[3])) for s in summary]),
        ],
    )
    return ReportFiles(xlsx_path, html_path, rows)
