"""The period's summary workbook ``汇总表.xlsx``: one row per roster person with every record
field, grade and status; a sheet per unit; grade counts per unit with a chart."""

from __future__ import annotations

from pathlib import Path

from ..fields import header
from ..models import Outcome, Period
from ..paths import safe_component
from ..quarter import evaluate
from ..rules import PeriodResult, PersonResult
from ..spool import SpooledRows
from ..workspace import Workspace, writes
from ..writers.xlsx import CellValue, Table, write_workbook

_h = header  # every field's header comes from fields.FIELDS
HEADERS = (
    "序号", "考核单位", _h("person_id"), _h("name"), _h("gender"), _h("unit"), _h("position"),
    "分管领导", "挂职单位", _h("grade"), "状态", _h("late"), _h("early_leave"), _h("absent"),
    _h("leave_days"), _h("signature_date"), "收到时间", "逾期", "问题", "原文件",
    _h("month1"), _h("month2"), _h("month3"), _h("self_evaluation"), _h("leader_opinion"),
    _h("review_opinion"),
)  # fmt: skip
#: Printed columns: everything up to 逾期; the long texts are for reading on screen.
PRINTED = HEADERS.index("逾期") + 1
#: The outcome words counted per unit, in the order of the statistics columns.
COUNTED = tuple(Outcome)
STAT_HEADERS = ("考核单位", "应考核", *(o.value for o in COUNTED))
NOT_RETURNED = Outcome.MISSING.value
WIDE = 36.0


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _row(index: int, found: PersonResult) -> list[CellValue]:
    person, record = found.person, found.record
    base: list[CellValue] = [
        index, person.assessing_unit, person.person_id, person.name, person.gender.value,
        person.unit, person.position, person.leader, person.host_unit if person.seconded else "",
    ]  # fmt: skip
    if record is None:
        return [*base, "", NOT_RETURNED, *([None] * (len(HEADERS) - len(base) - 2))]
    issues = "；".join(f"{i.code} {i.message}" for i in record.issues)
    return [
        *base,
        record.grade.value if record.grade else "",
        record.status.value,
        record.attendance.late,
        record.attendance.early_leave,
        record.attendance.absent,
        _number(record.attendance.leave_days),
        record.signature_date.isoformat() if record.signature_date else "",
        record.source.received_at.replace("T", " ")[:16],
        "是" if found.late else "",
        issues,
        record.source.path,
        *record.monthly_records,
        record.self_evaluation,
        record.leader_opinion,
        record.review_opinion,
    ]


def _statistics(counts: dict[str, list[int]]) -> list[list[CellValue]]:
    totals = (
        [sum(column) for column in zip(*counts.values(), strict=True)]
        if counts
        else [0] * (1 + len(COUNTED))
    )
    return [[unit, *numbers] for unit, numbers in counts.items()] + [["合计", *totals]]


def summary_tables(result: PeriodResult) -> list[Table]:
    """The workbook's sheets. One pass over the roster: each person's row is parked in the
    spooled rows of 全部人员 and of their unit, so a 10,000-person summary is not held."""
    everyone = SpooledRows()
    by_unit: dict[str, SpooledRows] = {}
    counts: dict[str, list[int]] = {}  # per unit: everyone, then each outcome word
    returned = 0
    for index, person in enumerate(result.people, start=1):
        found = result.result_of(person)
        row = _row(index, found)
        everyone.append(row)
        unit_rows = by_unit.get(person.assessing_unit)
        if unit_rows is None:  # a spool is a file: one a unit, made when its first row comes
            unit_rows = by_unit[person.assessing_unit] = SpooledRows()
        unit_rows.append(row)
        tally = counts.setdefault(person.assessing_unit, [0] * (1 + len(COUNTED)))
        tally[0] += 1
        tally[1 + COUNTED.index(found.outcome)] += 1
        returned += found.returned
    widths = {HEADERS.index(h): WIDE for h in (*HEADERS[PRINTED + 2 :], "问题")}
    tables = [Table("全部人员", HEADERS, everyone, widths=widths, print_columns=PRINTED)]
    used: set[str] = {"全部人员", "统计"}
    for unit, unit_rows in by_unit.items():
        title = safe_component(unit)[:31]
        while title in used:
            title = title[:29] + "_" + str(len(used))
        used.add(title)
        tables.append(Table(title, HEADERS, unit_rows, widths=widths, print_columns=PRINTED))
    stats = _statistics(counts)
    deadline = result.deadline
    about: list[list[CellValue]] = [
        ["季度", result.period.title],
        [
            "截止日期",
            deadline.day.isoformat()
            + (
                "（暂定：官方放假安排未公布，见 kaohe.toml [calendar]）"
                if deadline.provisional
                else ""
            ),
        ],
        ["名单人数", len(result.people)],
        ["已交", returned],
        ["未交", len(result.people) - returned],
    ]
    tables.insert(
        1,
        Table(
            "统计",
            STAT_HEADERS,
            stats,
            chart_title=f"{result.period.title}各单位考核等次",
            chart_columns=(3, 7),
            chart_rows=len(stats) - 1,
        ),
    )
    tables.append(Table("说明", ("项目", "内容"), about, landscape=False))
    return tables


def summary_path(workspace: Workspace, period: Period) -> Path:
    return workspace.period_dir(period) / "汇总表.xlsx"


@writes("写汇总表")
def write_summary(
    workspace: Workspace, period: Period, *, result: PeriodResult | None = None
) -> Path:
    """Write ``outbox/<period>/汇总表.xlsx`` for the period as it stands."""
    path = summary_path(workspace, period)
    write_workbook(path, summary_tables(result or evaluate(workspace, period)))
    return path
