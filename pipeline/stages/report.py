"""The period's exception report: every finding of the rules and every file that could not
be attributed, as JSON, a workbook (``异常报告.xlsx``) and a printable page (``异常报告.html``)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NamedTuple

from ..codes import CODES, FIELD_NAMES, Code
from ..ledger import REJECTED, FileRow
from ..models import Finding, Period
from ..quarter import evaluate
from ..rules import PeriodResult
from ..spool import scratch_database
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.html import SEVERITY_WORDS, Section, report_page
from ..writers.xlsx import Table, write_workbook

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
DETAIL_HEADERS = ("编号", "姓名", "单位", "文件", "栏目", "情况")
DETAIL_COLUMNS = ("代码", "问题", "级别", "编号", "姓名", "单位", "文件", "栏目", "情况", "怎么办")


def _unattributed(workspace: Workspace, period: Period) -> list[Finding]:
    """Rejected files of this period (or of no known period): nobody's sheet yet. A folder
    that could not be listed is one until a file in it has been read since."""
    if not workspace.has_ledger():
        return []
    found: list[Finding] = []
    with workspace.ledger() as ledger:
        latest: dict[str, FileRow] = {}
        for row in ledger.versions_of_rejected_paths():
            latest[row.path] = row  # later versions of a path replace earlier ones
        shown = [
            row
            for row in latest.values()
            if row.outcome == REJECTED
            and row.period in (None, period.code)
            and row.issues
            and not ledger.read_under(row.path, row.id)
        ]
    for row in shown:
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


class _Sorted:
    """The period's findings in the report's order, in a private temporary SQLite database
    that spills to disk past a small cache: a 10,000-person quarter's findings are sorted
    and read back by code without being held in memory. Ties keep the order they came in."""

    #: What the report sorts on, most significant first (``seq``: the order they came in).
    ORDER = "sev, code, unit, person_id, file, seq"
    #: The same order within one code (an index the page's sections are read through).
    BY_CODE = "code, " + ORDER.replace("code, ", "")
    CHUNK = 500

    def __init__(self, found: Iterable[Finding]) -> None:
        self._db = scratch_database()
        self._db.execute(
            "CREATE TABLE finding (seq INTEGER PRIMARY KEY, sev INTEGER, code TEXT, unit TEXT,"
            " person_id TEXT, file TEXT, severity TEXT, name TEXT, field TEXT, message TEXT)"
        )
        found = iter(found)
        while chunk := list(itertools.islice(found, self.CHUNK)):
            self._db.executemany(
                "INSERT INTO finding (sev, code, unit, person_id, file, severity, name, field,"
                " message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((SEVERITY_ORDER[f.severity], f.code, f.unit, f.person_id, f.file, f.severity,
                  f.name, f.field, f.message) for f in chunk),
            )  # fmt: skip
        # read in order many times (the page, each pass of the workbook): sorted once here
        self._db.execute(f"CREATE INDEX in_order ON finding ({self.ORDER})")
        self._db.execute(f"CREATE INDEX by_code ON finding ({self.BY_CODE})")

    def __enter__(self) -> _Sorted:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def codes(self) -> list[tuple[str, str, int]]:
        """(code, severity of its first finding, how many) in the order codes first appear."""
        rows = self._db.execute(
            "SELECT code, min(sev), count(*) FROM finding GROUP BY code ORDER BY min(sev), code"
        )
        return [(code, _SEVERITY_AT[sev], count) for code, sev, count in rows]

    def severities(self) -> dict[str, int]:
        """How many findings of each severity."""
        rows = self._db.execute("SELECT severity, count(*) FROM finding GROUP BY severity")
        return dict(rows.fetchall())

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM finding").fetchone()[0])

    def __iter__(self) -> Iterator[_Found]:
        return self._rows("", ())

    def of(self, code: str) -> Iterator[_Found]:
        return self._rows("WHERE code = ?", (code,))

    def _rows(self, where: str, values: tuple[str, ...]) -> Iterator[_Found]:
        cursor = self._db.execute(
            f"SELECT {', '.join(_Found._fields)} FROM finding {where} ORDER BY {self.ORDER}",
            values,
        )
        return map(_Found._make, cursor)


class _Found(NamedTuple):
    """A finding read back for the report (checked when it was made: not validated again)."""

    code: str
    severity: str
    person_id: str
    name: str
    unit: str
    file: str
    field: str
    message: str


_SEVERITY_AT = {order: severity for severity, order in SEVERITY_ORDER.items()}


def _all_found(workspace: Workspace, period: Period, result: PeriodResult) -> Iterator[Finding]:
    yield from result.findings()
    yield from _unattributed(workspace, period)


def findings(
    workspace: Workspace,
    period: Period,
    *,
    today: date | None = None,
    result: PeriodResult | None = None,
) -> list[Finding]:
    """All findings of the period, most serious first, then by code, unit, person and file."""
    result = result or evaluate(workspace, period, today=today)
    with _Sorted(_all_found(workspace, period, result)) as rows:
        return [Finding(**row._asdict()) for row in rows]


class _Mapped:
    """Rows made from the sorted findings each time they are read (for the workbook)."""

    def __init__(self, rows: _Sorted, make: Callable[[_Found], tuple[str, ...]]) -> None:
        self._rows, self._make, self._count = rows, make, len(rows)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return map(self._make, self._rows)


@dataclass
class ReportFiles:
    xlsx: Path
    html: Path
    #: How many findings of each severity ("error", "warning", "info") the report has.
    severities: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.severities.values())


@functools.cache
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
    result = result or evaluate(workspace, period, today=today)
    deadline = workspace.deadline(period)
    folder = workspace.period_dir(period) / "report"
    html_path, xlsx_path = folder / "异常报告.html", folder / "异常报告.xlsx"
    with _Sorted(_all_found(workspace, period, result)) as rows:
        codes = rows.codes()
        counts = [
            (code, _title(code)[0], SEVERITY_WORDS.get(severity, severity), count)
            for code, severity, count in codes
        ]
        summary = [(*c[:3], str(c[3])) for c in counts]  # the page's summary table
        note = "（暂定）" if deadline.provisional else ""
        total = sum(count for *_, count in codes)
        subtitle = f"截止日期 {deadline.day.isoformat()}{note}；共 {total} 项"
        sections = (
            Section(code, _title(code)[0], severity, _title(code)[1], DETAIL_HEADERS, count,
                    map(_shown, rows.of(code)))
            for code, severity, count in codes
        )  # fmt: skip
        page = report_page(f"{period.title}平时考核异常报告", subtitle, summary, sections)
        atomic.write_pieces(html_path, (piece.encode("utf-8") for piece in page))
        write_workbook(
            xlsx_path,
            [
                Table("明细", DETAIL_COLUMNS, _Mapped(rows, _detail)),
                Table("汇总", ("代码", "问题", "级别", "数量"), counts),
            ],
        )
        return ReportFiles(xlsx_path, html_path, rows.severities())


def _shown(f: _Found) -> tuple[str, ...]:
    """A finding's row on the page (its code is the section's)."""
    return (f.person_id, f.name, f.unit, f.file, FIELD_NAMES.get(f.field, f.field), f.message)


def _detail(f: _Found) -> tuple[str, ...]:
    """A finding's row in the workbook."""
    return (
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
