"""Where a period stands: the rules applied to the roster and the accepted sheets, and
per-unit counts of expected, returned, graded, reviewed, missing and late sheets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ..appeals import appeals, apply_appeal
from ..codes import Code
from ..ledger import LEDGER_NAME, Ledger
from ..models import Period, Status
from ..roster import read_roster
from ..rules import PeriodResult, RuleSettings, apply_rules
from ..workspace import Workspace
from .export import accepted_records


def rule_settings(workspace: Workspace) -> RuleSettings:
    rules = workspace.settings.rules
    return RuleSettings(
        leave_threshold_days=rules.leave_threshold_days,
        repeated_missing=rules.repeated_missing,
        hao_quota=rules.hao_quota,
        hao_quota_scope=rules.hao_quota_scope,
    )


def returned_by_period(workspace: Workspace, year: int) -> dict[str, set[str]]:
    """Quarters of ``year`` with data, and who returned a sheet in each."""
    path = workspace.root / LEDGER_NAME
    if not path.exists():
        return {}
    with Ledger(path) as ledger:
        return ledger.returned_by_period(year)


def evaluate(workspace: Workspace, period: Period, *, today: date | None = None) -> PeriodResult:
    """The period after the notice's rules, for the workspace's current roster."""
    people = read_roster(workspace.roster_path)
    returned = returned_by_period(workspace, period.year)
    missing_before: dict[str, list[str]] = {}
    for quarter in range(1, period.quarter):
        earlier = Period(year=period.year, quarter=quarter).code
        if earlier not in returned:
            continue  # a quarter without any data is "no data", not everyone missing
        for person in people:
            if person.person_id not in returned[earlier]:
                missing_before.setdefault(person.person_id, []).append(earlier)
    records = accepted_records(workspace, period)
    ledger_path = workspace.root / LEDGER_NAME
    if ledger_path.exists():
        with Ledger(ledger_path) as ledger:
            decided = appeals(ledger, period)
        records = [
            apply_appeal(r, decided[r.person_id]) if r.person_id in decided else r for r in records
        ]
    return apply_rules(
        period,
        workspace.deadline(period),
        people,
        records,
        rule_settings(workspace),
        missing_before=missing_before,
        today=today,
    )


@dataclass(frozen=True)
class UnitStatus:
    unit: str
    expected: int
    returned: int
    graded: int
    reviewed: int
    missing: int
    late: int


@dataclass(frozen=True)
class MissingPerson:
    person_id: str
    name: str
    unit: str
    leader: str


@dataclass
class StatusReport:
    period: str
    deadline: str
    provisional: bool
    days_left: int
    units: list[UnitStatus]
    missing: list[MissingPerson]

    def as_json(self) -> dict[str, object]:
        return {
            "period": self.period,
            "deadline": self.deadline,
            "provisional": self.provisional,
            "days_left": self.days_left,
            "units": [asdict(u) for u in self.units],
            "missing": [asdict(m) for m in self.missing],
        }


def status(
    workspace: Workspace, period: Period, *, unit: str | None = None, today: date | None = None
) -> StatusReport:
    today = today or date.today()
    result = evaluate(workspace, period, today=today)
    late = {f.person_id for f in result.findings if f.code == Code.LATE_RETURN.value}
    units: dict[str, list[int]] = {}
    missing: list[MissingPerson] = []
    for person in result.people:
        if unit is not None and person.assessing_unit != unit:
            continue
        counts = units.setdefault(person.assessing_unit, [0] * 6)
        counts[0] += 1
        record = result.record_of(person)
        if record is None:
            counts[4] += 1
            missing.append(
                MissingPerson(person.person_id, person.name, person.assessing_unit, person.leader)
            )
            continue
        counts[1] += 1
        counts[2] += record.grade is not None or record.status is Status.UNGRADED
        counts[3] += record.status is Status.REVIEWED
        counts[5] += person.person_id in late
    if unit is not None and not units:
        from ..errors import KaoheError

        known = "、".join(dict.fromkeys(p.assessing_unit for p in result.people))
        raise KaoheError(f"名单中没有考核单位“{unit}”。名单中的单位有：{known}")
    return StatusReport(
        period=period.code,
        deadline=result.deadline.day.isoformat(),
        provisional=result.deadline.provisional,
        days_left=result.deadline.days_left(today),
        units=[UnitStatus(name, *counts) for name, counts in units.items()],
        missing=missing,
    )
