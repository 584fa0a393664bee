"""Where a period stands: the rules applied to the roster and the accepted sheets, and
per-unit counts of expected, returned, graded, reviewed, missing and late sheets."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ..models import Outcome, Period, Status
from ..quarter import evaluate
from ..workspace import Workspace


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
    units: dict[str, list[int]] = {}
    missing: list[MissingPerson] = []
    for person in result.people:
        if unit is not None and person.assessing_unit != unit:
            continue
        counts = units.setdefault(person.assessing_unit, [0] * 6)
        counts[0] += 1
        found = result.result_of(person)
        if not found.returned:
            counts[4] += 1
            missing.append(
                MissingPerson(person.person_id, person.name, person.assessing_unit, person.leader)
            )
            continue
        counts[1] += 1
        counts[2] += found.outcome.grade is not None or found.outcome is Outcome.UNGRADED
        counts[3] += found.status is Status.REVIEWED
        counts[5] += found.late
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
