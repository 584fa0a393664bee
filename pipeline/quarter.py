"""One period's result for every roster person (``rules.PersonResult``): the accepted
sheets, the committee's appeal decisions and the notice's rules, put together once. Every
output (export, explain, status, report, summary, annual, feedback, secondment lists,
archive) reads this, so they cannot disagree.

I/O is limited to gathering the inputs (roster, ledger) and parking the records in effect
(``Spooled``); the rules themselves are pure (``rules.apply_rules``, ``rules.judge``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import partial

from .appeals import appeals
from .ledger import Appeal, Ledger
from .models import Grade, Period, Person, SheetRecord, Status
from .rules import Held, Keeper, PeriodResult, apply_rules
from .spool import Spool
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
    """The period after appeals and the notice's rules, for the workspace's current roster.

    The records stream from the ledger into the rules, and each record in effect is parked in
    a spool (``Spooled``): the result keeps a few hundred bytes per person however long the
    records are, and an output reads a record back when it writes it."""
    people = workspace.people()
    if not workspace.has_ledger():
        return _apply(workspace, period, people, [], {}, {}, today)
    with workspace.ledger() as ledger, ledger.snapshot():  # every read from one state
        returned = ledger.returned_by_period(period.year)
        records = (SheetRecord.model_validate_json(r) for r in ledger.accepted_records(period.code))
        spool = Spool()  # the system's temporary folder: nothing appears in the workspace
        return _apply(workspace, period, people, records, returned, appeals(ledger, period),
                      today, partial(Spooled, spool))  # fmt: skip


def _apply(
    workspace: Workspace,
    period: Period,
    people: list[Person],
    records: Iterable[SheetRecord],
    returned: dict[str, set[str]],
    decided: dict[str, Appeal],
    today: date | None,
    keep: Keeper = Held,
) -> PeriodResult:
    """The rules over ``records``, with who was missing in the year's earlier quarters."""
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
        keep=keep,
    )


class Spooled:
    """A record in effect parked in a spool as JSON, read back (and parsed) on each ``load``;
    the grade, state and file are kept at hand for the outputs that only need those."""

    __slots__ = ("_length", "_offset", "_spool", "grade", "path", "status")

    def __init__(self, spool: Spool, record: SheetRecord) -> None:
        self._spool = spool
        self._offset, self._length = spool.append(record.model_dump_json().encode("utf-8"))
        self.grade: Grade | None = record.grade
        self.status: Status = record.status
        self.path: str = record.source.path

    def load(self) -> SheetRecord:
        return SheetRecord.model_validate_json(self._spool.read(self._offset, self._length))
