"""The notice's rules over one period: appeals, deadline, long leave, missing and repeated
missing returns, follow-up of 一般/差, the optional cap on 好. Pure functions: records in,
one ``PersonResult`` per roster person and the findings out.

``judge`` is the one place that decides a person's outcome word (好 … 未交); every output
reads it from the ``PersonResult`` instead of re-deciding grade-versus-status.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from .appeals import apply_appeal
from .codes import CODES, Code
from .ledger import Appeal
from .models import Finding, Grade, Issue, Outcome, Period, Person, SheetRecord, Status
from .settings import DEFAULT_TIMEZONE, RulesSettings
from .workdays import Deadline

BUREAU_ZONE = ZoneInfo(DEFAULT_TIMEZONE)

#: The [rules] section of kaohe.toml, declared once in ``settings``.
RuleSettings = RulesSettings


class Kept(Protocol):
    """A person's record in effect as a result keeps it: what the light questions need at
    hand (the grade, the state, the file), the whole record when an output asks for it."""

    @property
    def grade(self) -> Grade | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def path(self) -> str: ...
    def load(self) -> SheetRecord: ...


class Held:
    """A record kept as it is, in memory."""

    __slots__ = ("record",)

    def __init__(self, record: SheetRecord) -> None:
        self.record = record

    @property
    def grade(self) -> Grade | None:
        return self.record.grade

    @property
    def status(self) -> Status:
        return self.record.status

    @property
    def path(self) -> str:
        return self.record.source.path

    def load(self) -> SheetRecord:
        return self.record


@dataclass(frozen=True, slots=True)
class PersonResult:
    """One roster person's quarter: what every output says about them."""

    person: Person
    #: The record in effect (after an appeal decision and the rules), or None if not returned.
    kept: Kept | None
    #: The grade as ticked or written on the sheet, before any appeal decision.
    grade_on_sheet: Grade | None
    outcome: Outcome
    late: bool = False
    appeal: Appeal | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def record(self) -> SheetRecord | None:
        """The record in effect (read back from where it is kept: bind it once per use)."""
        return self.kept.load() if self.kept is not None else None

    @property
    def grade(self) -> Grade | None:
        """The grade in effect."""
        return self.kept.grade if self.kept is not None else None

    @property
    def status(self) -> Status | None:
        """The state of the record in effect, None if not returned."""
        return self.kept.status if self.kept is not None else None

    @property
    def returned(self) -> bool:
        return self.kept is not None


class Keeping(Protocol):
    """Where ``apply_rules`` keeps what it decides: each record in effect, and the results.
    ``InMemory`` keeps them as they are; ``quarter.evaluate`` parks both in a spool, so that
    a period's result does not grow with the roster beyond a few bytes a person."""

    def record(self, record: SheetRecord) -> Kept: ...
    def results(self, people: Sequence[Person]) -> RosterResults: ...


class RosterResults(MutableMapping[str, "PersonResult"]):
    """A period's results by person id, in roster order whatever order they were decided
    in; only people of the roster have one. Subclasses say where a result is kept."""

    def __init__(self, people: Sequence[Person]) -> None:
        self._people = people
        self._position = {person.person_id: i for i, person in enumerate(people)}

    def person(self, person_id: str) -> Person | None:
        """The roster's person with this id, or None."""
        position = self._position.get(person_id)
        return None if position is None else self._people[position]

    @abstractmethod
    def _holds(self, position: int) -> bool: ...
    @abstractmethod
    def _get(self, position: int) -> PersonResult | None: ...
    @abstractmethod
    def _set(self, position: int, result: PersonResult | None) -> None: ...

    def __contains__(self, person_id: object) -> bool:
        position = self._position.get(person_id)  # type: ignore[call-overload]
        return position is not None and self._holds(position)

    def __getitem__(self, person_id: str) -> PersonResult:
        found = self._get(self._position[person_id])
        if found is None:
            raise KeyError(person_id)
        return found

    def __setitem__(self, person_id: str, result: PersonResult) -> None:
        position = self._position.get(person_id)
        if position is None:
            raise KeyError(f"{person_id} 不在名单中")
        self._set(position, result)

    def __delitem__(self, person_id: str) -> None:
        if person_id not in self:
            raise KeyError(person_id)
        self._set(self._position[person_id], None)

    def __iter__(self) -> Iterator[str]:
        return (pid for pid, position in self._position.items() if self._holds(position))

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _HeldResults(RosterResults):
    def __init__(self, people: Sequence[Person]) -> None:
        super().__init__(people)
        self._results: list[PersonResult | None] = [None] * len(people)

    def _holds(self, position: int) -> bool:
        return self._results[position] is not None

    def _get(self, position: int) -> PersonResult | None:
        return self._results[position]

    def _set(self, position: int, result: PersonResult | None) -> None:
        self._results[position] = result


class InMemory:
    """Records and results kept as they are."""

    def record(self, record: SheetRecord) -> Kept:
        return Held(record)

    def results(self, people: Sequence[Person]) -> RosterResults:
        return _HeldResults(people)


@dataclass
class PeriodResult:
    """A period after the rules: one result per roster person, and the findings."""

    period: Period
    deadline: Deadline
    people: list[Person]
    results: RosterResults
    #: Findings about a unit rather than a person (the cap on 好), after everyone's.
    unit_findings: list[Finding] = field(default_factory=list)

    def result_of(self, person: Person) -> PersonResult:
        return self.results[person.person_id]

    def record_of(self, person: Person) -> SheetRecord | None:
        return self.results[person.person_id].record

    def findings(self) -> Iterator[Finding]:
        """Every finding: each person's in roster order, then the units'."""
        for result in self.results.values():
            yield from result.findings
        yield from self.unit_findings

    @property
    def records(self) -> dict[str, SheetRecord]:
        """The returned records in effect, by person id, every one read back and held at
        once (for a few people, and tests); the outputs read them one person at a time."""
        return {pid: r.kept.load() for pid, r in self.results.items() if r.kept is not None}


def _finding(code: Code, message: str, person: Person | None = None, *, file: str = "",
             field: str = "", unit: str = "", severity: str | None = None) -> Finding:  # fmt: skip
    return Finding(
        code=code.value,
        severity=severity or CODES[code].severity,  # type: ignore[arg-type]
        person_id=person.person_id if person else "",
        name=person.name if person else "",
        unit=unit or (person.assessing_unit if person else ""),
        file=file,
        field=field,
        message=message,
    )


def received_instant(received_at: str) -> datetime:
    """A stored received time as an instant; one stored without an offset (older ledgers)
    is taken as the bureau's own time."""
    moment = datetime.fromisoformat(received_at)
    return moment if moment.tzinfo else moment.replace(tzinfo=BUREAU_ZONE)


def _received_day(record: SheetRecord, zone: tzinfo) -> date:
    """The day the return came in on the bureau's calendar, whatever the PC's zone was."""
    return received_instant(record.source.received_at).astimezone(zone).date()


def _with_long_leave(record: SheetRecord, threshold: float) -> SheetRecord:
    """Over ``threshold`` days of leave: no grade is given (不定等次); a grade is an error."""
    if record.attendance.leave_days <= threshold:
        return record
    if record.grade is not None:
        return record  # reported as GRADE_WITH_LONG_LEAVE by apply_rules
    issues = [i for i in record.issues if i.code != Code.MISSING_GRADE.value]
    faulty = any(i.severity == "error" for i in issues)
    status = Status.FAULTY if faulty else Status.UNGRADED
    return record.model_copy(update={"issues": issues, "status": status})


def judge(
    record: SheetRecord | None, settings: RuleSettings, appeal: Appeal | None = None
) -> tuple[SheetRecord | None, Outcome]:
    """The record in effect and the outcome word of one person: the one place this is decided.

    An appeal's decision replaces the sheet's grade; over the leave threshold with no grade is
    不定等次 (not a missing grade); a grade wins over the sheet's state; without one the
    sheet's state speaks (待评鉴 or 异常).
    """
    if record is None:
        return None, Outcome.MISSING
    if appeal is not None:
        record = apply_appeal(record, appeal)
    record = _with_long_leave(record, settings.leave_threshold_days)
    if record.grade is not None:
        return record, Outcome(record.grade.value)
    if record.status is Status.UNGRADED:
        return record, Outcome.UNGRADED
    if record.status is Status.FAULTY:
        return record, Outcome.FAULTY
    return record, Outcome.PENDING


def apply_rules(
    period: Period,
    deadline: Deadline,
    people: Sequence[Person],
    records: Iterable[SheetRecord],
    settings: RuleSettings,
    *,
    missing_before: dict[str, list[str]] | None = None,
    today: date | None = None,
    zone: tzinfo = BUREAU_ZONE,
    appeals: Mapping[str, Appeal] | None = None,
    keeping: Keeping | None = None,
) -> PeriodResult:
    """Apply the rules to ``records`` as read from the sheets. ``missing_before`` maps
    person_id → earlier periods of the year in which that person had no accepted sheet (for
    REPEATED_NON_SUBMISSION); ``appeals`` maps person_id → their appeal this period.
    ``records`` are taken one at a time, and ``keeping`` decides where each record in effect
    and each result is kept (see ``Keeping``; in memory by default)."""
    keeping = keeping or InMemory()

    def result_of(person: Person, sheet: SheetRecord | None) -> PersonResult:
        appeal = (appeals or {}).get(person.person_id)
        record, outcome = judge(sheet, settings, appeal)
        found = _person_findings(
            period, deadline, person, record, settings, missing_before, today, zone
        )
        late = any(f.code == Code.LATE_RETURN.value for f in found)
        kept = keeping.record(record) if record is not None else None
        grade = sheet.grade if sheet else None
        return PersonResult(person, kept, grade, outcome, late, appeal, tuple(found))

    results = keeping.results(people)
    for sheet in records:  # one at a time: only what each result keeps stays in memory
        person = results.person(sheet.person_id)
        if person is not None:  # a later record of the same person wins
            results[person.person_id] = result_of(person, sheet)
    for person in people:
        if person.person_id not in results:
            results[person.person_id] = result_of(person, None)
    result = PeriodResult(period, deadline, list(people), results)
    result.unit_findings.extend(_quota(result, settings))
    return result


def _person_findings(
    period: Period,
    deadline: Deadline,
    person: Person,
    record: SheetRecord | None,
    settings: RuleSettings,
    missing_before: dict[str, list[str]] | None,
    today: date | None,
    zone: tzinfo,
) -> list[Finding]:
    """What the rules say about one person (missing, late, long leave, follow-up)."""
    found: list[Finding] = []
    after_deadline = today is None or today > deadline.day
    note = "（暂定）" if deadline.provisional else ""
    if record is None:
        leader = f"，分管领导 {person.leader}" if person.leader else ""
        found.append(
            _finding(
                Code.MISSING_RETURN,
                f"{period.title}记实表未交（截止 {deadline.day.isoformat()}{note}）{leader}",
                person,
                severity="warning" if not after_deadline else None,
            )
        )
        earlier = (missing_before or {}).get(person.person_id, [])
        if len(earlier) + 1 >= settings.repeated_missing:
            quarters = "、".join([*earlier, period.code])
            found.append(
                _finding(
                    Code.REPEATED_NON_SUBMISSION,
                    f"{period.year}年已有 {len(earlier) + 1} 个季度未交（{quarters}）："
                    "应批评教育；经教育仍拒不参加的，年度考核可定为不定等次或不称职",
                    person,
                )
            )
        return found
    file = record.source.path
    for item in record.issues:
        found.append(_from_issue(item, person, file))
    received = _received_day(record, zone)
    if received > deadline.day:
        found.append(
            _finding(
                Code.LATE_RETURN,
                f"{received.isoformat()} 收到，晚于截止日期 {deadline.day.isoformat()}{note}",
                person,
                file=file,
            )
        )
    leave = record.attendance.leave_days
    if leave > settings.leave_threshold_days and record.grade is not None:
        found.append(
            _finding(
                Code.GRADE_WITH_LONG_LEAVE,
                f"请假 {leave:g} 天，超过 {settings.leave_threshold_days:g} 个工作日"
                f"应不定等次，但评了“{record.grade.value}”",
                person,
                file=file,
                field="grade",
            )
        )
    if record.grade in (Grade.YIBAN, Grade.CHA):
        found.append(
            _finding(
                Code.NEEDS_FOLLOW_UP,
                f"等次为“{record.grade.value}”：分管领导应及时反馈、谈话，责成限期改正",
                person,
                file=file,
                field="grade",
            )
        )
    return found


def _from_issue(item: Issue, person: Person, file: str) -> Finding:
    return Finding(
        code=item.code, severity=item.severity, person_id=person.person_id, name=person.name,
        unit=person.assessing_unit, file=file, field=item.field, message=item.message,
    )  # fmt: skip


def _quota(result: PeriodResult, settings: RuleSettings) -> list[Finding]:
    if settings.hao_quota <= 0:
        return []
    groups: dict[str, list[Grade]] = {}
    for person in result.people:
        grade = result.result_of(person).grade
        if grade is None:
            continue
        key = person.assessing_unit if settings.hao_quota_scope == "unit" else "全局"
        groups.setdefault(key, []).append(grade)
    findings = []
    for unit, graded in groups.items():
        hao = sum(1 for g in graded if g is Grade.HAO)
        if hao > settings.hao_quota * len(graded):
            findings.append(
                _finding(
                    Code.GRADE_QUOTA_EXCEEDED,
                    f"{unit}评“好” {hao} 人，占已评 {len(graded)} 人的 {hao / len(graded):.0%}，"
                    f"超过上限 {settings.hao_quota:.0%}",
                    unit="" if unit == "全局" else unit,
                )
            )
    return findings
