"""One period's result for every roster person (``rules.PersonResult``): the accepted
sheets, the committee's appeal decisions and the notice's rules, put together once. Every
output (export, explain, status, report, summary, annual, feedback, secondment lists,
archive) reads this, so they cannot disagree.

I/O is limited to gathering the inputs (roster, ledger); the rules themselves are pure
(``rules.apply_rules``, ``rules.judge``).
"""

from __future__ import annotations

from datetime import date

from .appeals import appeals
from .ledger import Ledger
from .models import Period, SheetRecord
from .rules import PeriodResult, apply_rules
from .workspace import Workspace


def accepted_records(workspace: Workspace, period: Period) -> list[SheetRecord]:
    """The latest accepted record of each person in ``period`` as read from the sheet."""
    if not workspace.has_ledger():
        return []
    with workspace.ledger() as ledger:
        return _accepted(ledger, period)


def _accepted(ledger: Ledger, period: Period) -> list[SheetRecord]:
    records = [SheetRecord.model_validate_json(r) for r in ledger.accepted_records(period.code)]
    return sorted(records, key=lambda r: r.person_id)


def returned_by_period(workspace: Workspace, year: int) -> dict[str, set[str]]:
    """Quarters of ``year`` with data, and who returned a sheet in each."""
    if not workspace.has_ledger():
        return {}
    with workspace.ledger() as ledger:
        return ledger.returned_by_period(year)


def evaluate(workspace: Workspace, period: Period, *, today: date | None = None) -> PeriodResult:
    """The period after appeals and the notice's rules, for the workspace's current roster."""
    people = workspace.people()
    returned: dict[str, set[str]] = {}
    records: list[SheetRecord] = []
    decided = {}
    if workspace.has_ledger():  # every read from one consistent state of the ledger
        with workspace.ledger() as ledger, ledger.snapshot():
            returned = ledger.returned_by_period(period.year)
            records = _accepted(ledger, period)
            decided = appeals(ledger, period)
    missing_before: dict[str, list[str]] = {}
    for quarter in range(1, period.quarter):
        earlier = Period(year=period.year, quarter=quarter).code
        if earlier not in returned:
            continue  # a quarter without any data is "no data", not everyone missing
        for person in people:
            if person.person_id not in returned[earlier]:
                missing_before.setdefault(person.person_id, []).append(earlier)
    return apply_rules(
        period,
        workspace.deadline(period),
        people,
        records,
        workspace.settings.rules,
        missing_before=missing_before,
        today=today,
        zone=workspace.zone,
        appeals=decided,
    )
