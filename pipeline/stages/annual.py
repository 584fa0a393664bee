"""The year: each person's four quarterly results side by side, counts, who may be proposed
for the annual 优秀 (only people whose quarterly results are 好, notice 四(四)), who failed
to submit repeatedly (四(三)), and who had 一般/差 for the annual review and training.

A quarter without any data is "无数据" for everyone, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..models import Grade, Outcome, Period
from ..quarter import evaluate, returned_by_period
from ..workspace import Workspace, writes
from ..writers.xlsx import Table, write_workbook

NO_DATA = "无数据"
NOT_SUBMITTED = Outcome.MISSING.value  # the same word as every other output
RULES = {
    "all_hao": "严格口径：每个有等次的季度都为“好”，且没有未交的季度",
    "at_least": "至少 {n} 个季度为“好”、没有“一般”“差”，且没有未交的季度",
}


@dataclass
class AnnualRow:
    person_id: str
    name: str
    unit: str
    quarters: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    excellent_eligible: bool = False
    excellent_note: str = ""
    repeated_non_submission: list[str] = field(default_factory=list)
    needs_review: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class AnnualResult:
    year: int
    rule: str
    periods_with_data: list[str]
    rows: list[AnnualRow]


def _eligible(row: AnnualRow, rule: str, minimum: int) -> tuple[bool, str]:
    words = [row.quarters[q] for q in row.quarters if row.quarters[q] != NO_DATA]
    graded = [w for w in words if w in {g.value for g in Grade}]
    if NOT_SUBMITTED in words:
        return False, "有未交的季度"
    if not graded:
        return False, "全年没有评定等次的季度"
    if rule == "at_least":
        low = [w for w in graded if w in (Grade.YIBAN.value, Grade.CHA.value)]
        if low:
            return False, f"有“{low[0]}”等次"
        hao = graded.count(Grade.HAO.value)
        if hao < minimum:
            return False, f"只有 {hao} 个季度为“好”，不足 {minimum} 个"
        return True, f"{hao} 个季度为“好”"
    others = [w for w in graded if w != Grade.HAO.value]
    if others:
        return False, f"有“{others[0]}”等次"
    return True, f"有等次的 {len(graded)} 个季度均为“好”"


def annual(workspace: Workspace, year: int) -> AnnualResult:
    settings = workspace.settings.annual
    with_data = set(returned_by_period(workspace, year))
    rows: dict[str, AnnualRow] = {}
    periods = [Period(year=year, quarter=q) for q in (1, 2, 3, 4)]
    for period in periods:
        if period.code not in with_data:
            for row in rows.values():
                row.quarters[period.code] = NO_DATA
            continue
        result = evaluate(workspace, period)
        for person in result.people:
            row = rows.setdefault(
                person.person_id,
                AnnualRow(person.person_id, person.name, person.assessing_unit, {}),
            )
            row.quarters[period.code] = result.result_of(person).outcome.value
    if not rows:  # no quarter of the year has data: list the roster, all without data
        for person in workspace.people():
            rows[person.person_id] = AnnualRow(
                person.person_id, person.name, person.assessing_unit, {}
            )
    minimum = settings.excellent_min_hao
    for row in rows.values():
        row.quarters = {p.code: row.quarters.get(p.code, NO_DATA) for p in periods}
        words = list(row.quarters.values())
        row.counts = {
            w: words.count(w) for w in ("好", "较好", "一般", "差", "不定等次", NOT_SUBMITTED)
        }
        row.excellent_eligible, row.excellent_note = _eligible(
            row, settings.excellent_rule, minimum
        )
        missing = [q for q, w in row.quarters.items() if w == NOT_SUBMITTED]
        if len(missing) >= workspace.settings.rules.repeated_missing:
            row.repeated_non_submission = missing
        row.needs_review = [q for q, w in row.quarters.items() if w in ("一般", "差")]
    rule = RULES[settings.excellent_rule].format(n=minimum)
    return AnnualResult(
        year, rule, sorted(with_data), sorted(rows.values(), key=lambda r: r.person_id)
    )


HEADERS = (
    "编号", "姓名", "考核单位", "第一季度", "第二季度", "第三季度", "第四季度",
    "好", "较好", "一般", "差", "不定等次", "未交",
    "可推荐优秀", "说明", "多次未交（拟不定等次或不称职）", "一般/差的季度（年度复核、培训）",
)  # fmt: skip


def annual_path(workspace: Workspace, year: int) -> Path:
    return workspace.outbox / str(year) / "年度汇总.xlsx"


@writes("年度汇总")
def write_annual(workspace: Workspace, year: int) -> tuple[Path, AnnualResult]:
    result = annual(workspace, year)
    rows = [
        [
            r.person_id,
            r.name,
            r.unit,
            *r.quarters.values(),
            *r.counts.values(),
            "是" if r.excellent_eligible else "否",
            r.excellent_note,
            "、".join(r.repeated_non_submission),
            "、".join(r.needs_review),
        ]
        for r in result.rows
    ]
    about = [
        ["年度", str(year)],
        ["优秀推荐口径", result.rule],
        ["有数据的季度", "、".join(result.periods_with_data) or "（无）"],
        ["说明", "年度考核优秀等次人员应在平时考核结果好的人员中产生；无数据的季度不计为未交"],
    ]
    path = annual_path(workspace, year)
    write_workbook(
        path,
        [
            Table(f"{year}年度汇总", HEADERS, rows),
            Table("说明", ("项目", "内容"), about, landscape=False),
        ],
    )
    return path, result
