"""One period's result for every roster person (``rules.PersonResult``): the accepted
sheets, the committee's appeal decisions and the notice's rules, put together once. Every
output (export, explain, status, report, summary, annual, feedback, secondment lists,
archive) reads this, so they cannot disagree.

I/O is limited to gathering the inputs (roster, ledger) and parking the records in effect
and the results in a spool (``Spooling``); the rules themselves are pure
(``rules.apply_rules``, ``rules.judge``).
"""

from __future__ import annotations

import dataclasses
import marshal
from array import array
from collections.abc import Iterable, Sequence
from datetime import date
from operator import attrgetter

from .appeals import appeals
from .ledger import Appeal, Ledger
from .models import Finding, Grade, Outcome, Period, Person, SheetRecord, Status
from .rules import Keeping, PeriodResult, PersonResult, RosterResults, apply_rules
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

    The records stream from the ledger into the rules, and each record in effect and each
    person's result is parked in a spool (``Spooling``): the result keeps twelve bytes per
    person besides the roster, and an output reads a person's result (and record) back when
    it writes it."""
    people = workspace.people()
    if not workspace.has_ledger():
        return _apply(workspace, period, people, [], {}, {}, today)
    with workspace.ledger() as ledger, ledger.snapshot():  # every read from one state
        returned = ledger.returned_by_period(period.year, before=period.code)
        records = (SheetRecord.model_validate_json(r) for r in ledger.accepted_records(period.code))
        # the system's temporary folder: nothing appears in the workspace
        return _apply(workspace, period, people, records, returned, appeals(ledger, period),
                      today, Spooling(Spool()))  # fmt: skip


def _apply(
    workspace: Workspace,
    period: Period,
    people: list[Person],
    records: Iterable[SheetRecord],
    returned: dict[str, set[str]],
    decided: dict[str, Appeal],
    today: date | None,
    keeping: Keeping | None = None,
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
        keeping=keeping,
    )


class Spooled:
    """A record in effect parked in a spool as JSON, read back (and parsed) on each ``load``;
    the grade, state and file are kept at hand for the outputs that only need those."""

    __slots__ = ("grade", "length", "offset", "path", "spool", "status")

    def __init__(self, spool: Spool, offset: int, length: int, grade: Grade | None,
                 status: Status, path: str) -> None:  # fmt: skip
        self.spool, self.offset, self.length = spool, offset, length
        self.grade, self.status, self.path = grade, status, path

    @classmethod
    def park(cls, spool: Spool, record: SheetRecord) -> Spooled:
        offset, length = spool.append(record.model_dump_json().encode("utf-8"))
        return cls(spool, offset, length, record.grade, record.status, record.source.path)

    def load(self) -> SheetRecord:
        return SheetRecord.model_validate_json(self.spool.read(self.offset, self.length))


class Spooling:
    """Records in effect and results parked in one spool (see ``rules.Keeping``)."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool

    def record(self, record: SheetRecord) -> Spooled:
        return Spooled.park(self.spool, record)

    def results(self, people: Sequence[Person]) -> RosterResults:
        return SpooledResults(self.spool, people)


#: A finding's (an appeal's) fields in the order a spooled result lists them.
_FINDING = tuple(f.name for f in dataclasses.fields(Finding))
_APPEAL = tuple(f.name for f in dataclasses.fields(Appeal))
_finding_values, _appeal_values = attrgetter(*_FINDING), attrgetter(*_APPEAL)


class SpooledResults(RosterResults):
    """Each result parked in the spool (``marshal`` of plain values: the spool is this
    process's own unnamed file), read back on each access; in memory only where each lies,
    twelve bytes a person."""

    def __init__(self, spool: Spool, people: Sequence[Person]) -> None:
        super().__init__(people)
        self._spool = spool
        self._offsets = array("q", [-1]) * len(people)
        self._lengths = array("i", [0]) * len(people)  # four bytes on every system

    def _holds(self, position: int) -> bool:
        return self._offsets[position] >= 0

    def _set(self, position: int, result: PersonResult | None) -> None:
        if result is None:
            self._offsets[position] = -1
            return
        piece = _dumped(result, self._spool)
        self._offsets[position], self._lengths[position] = self._spool.append(piece)

    def _get(self, position: int) -> PersonResult | None:
        offset = self._offsets[position]
        if offset < 0:
            return None
        data = self._spool.read(offset, self._lengths[position])
        return _loaded(self._spool, self._people[position], data)


def _word(grade: Grade | None) -> str | None:
    return None if grade is None else grade.value


def _dumped(result: PersonResult, spool: Spool) -> bytes:
    kept = result.kept
    if kept is not None and not (isinstance(kept, Spooled) and kept.spool is spool):
        raise TypeError("a spooled result keeps its record in the same spool")
    appeal = result.appeal
    return marshal.dumps((
        None if kept is None else
        (kept.offset, kept.length, _word(kept.grade), kept.status.value, kept.path),
        _word(result.grade_on_sheet),
        result.outcome.value,
        result.late,
        None if appeal is None else _appeal_values(appeal),
        tuple(map(_finding_values, result.findings)),
    ))  # fmt: skip


#: Words back to their enum members (a dict lookup, not the enum's call, per result read).
_GRADES: dict[str | None, Grade | None] = {None: None, **{g.value: g for g in Grade}}
_STATUSES = {s.value: s for s in Status}
_OUTCOMES = {o.value: o for o in Outcome}


def _loaded(spool: Spool, person: Person, data: bytes) -> PersonResult:
    kept, on_sheet, outcome, late, appeal, findings = marshal.loads(data)
    if kept is not None:
        offset, length, grade, status, path = kept
        kept = Spooled(spool, offset, length, _GRADES[grade], _STATUSES[status], path)
    return PersonResult(
        person,
        kept,
        _GRADES[on_sheet],
        _OUTCOMES[outcome],
        late,
        None if appeal is None else Appeal(*appeal),
        tuple(map(_finding, findings)),
    )


def _finding(values: tuple[str, ...]) -> Finding:
    """A finding from its values in ``_FINDING`` order (named: faster than a dict of them)."""
    code, severity, person_id, name, unit, file, field, message = values
    return Finding(
        code=code,
        severity=severity,  # type: ignore[arg-type]  # validated again here
        person_id=person_id,
        name=name,
        unit=unit,
        file=file,
        field=field,
        message=message,
    )
