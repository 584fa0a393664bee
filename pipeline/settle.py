"""Settling: which stored version of each person's sheet counts, and what became of every
other. Recomputed from the stored readings with the current roster, wholly inside one write
transaction, so a reader of the ledger never sees a half-settled state and an interrupted
run followed by a clean one ends where one clean run would."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import workers
from .codes import CODES, Code, issue
from .fields import FIELDS
from .ledger import (
    ACCEPTED,
    REJECTED,
    SUPERSEDED,
    AttributedRow,
    FileRow,
    Ledger,
    OutcomeValues,
    Settled,
    StoredRow,
    file_row,
    outcome_values,
)
from .models import Period, SheetRecord, Source, Status
from .readers.raw import raw_from_json
from .records import Interpretation, RosterIndex, attribute, interpret
from .rules import received_instant
from .settings import ScanSettings
from .workers import TimedPool


def _interpret_row(row: FileRow, roster: RosterIndex, scan: ScanSettings) -> Interpretation:
    if row.raw is None:
        code = Code(row.read_code or Code.UNREADABLE_FILE.value)
        failure = issue(code, row.read_message or CODES[code].title)
        return Interpretation(None, None, None, [failure])
    source = Source(
        path=row.path, sha256=row.sha256, format=row.format, received_at=row.received_at
    )
    return interpret(raw_from_json(row.raw), roster, source, _expected(row), scan)


def _expected(row: FileRow) -> Period | None:
    return Period.parse(row.expected_period) if row.expected_period else None


@dataclass(frozen=True, slots=True)
class _Decision:
    outcome: str
    reason: str
    duplicate: str  # DUPLICATE_SUBMISSION message, or ""
    differs: str = ""  # SIGNED_COPY_DIFFERS message, or ""


#: Above this many changed versions a whole settle is as quick as a partial one.
PARTIAL_UP_TO = 200
#: A whole settle of this many versions or more shares the per-version work (reading the
#: stored JSON, attributing, interpreting, encoding the record) among a process per core.
PARALLEL_FROM = 2000
#: Versions per task sent to a worker (each a few KB of stored JSON).
CHUNK = 100


def settle(
    ledger: Ledger,
    roster: RosterIndex,
    changed: Sequence[tuple[str, str]] | None = None,
    scan: ScanSettings = ScanSettings(),  # noqa: B008 - frozen settings
) -> None:
    """Attribute the stored readings with the current roster, then pick the latest per person.

    With ``changed`` (the (path, sha256) versions this run added or read again) and the same
    roster as the last settle, only those versions and the people they concern are settled
    again — what the workbench does once per uploaded file. Otherwise every version is.

    A whole settle streams the versions once (memory stays flat in the number of files):
    each is attributed and its record built and written as if it counted; then, with every
    version's person and time known, who counts is decided and the outcomes written (see
    ``_settle_all``). Either way it runs inside one write transaction: another writer waits,
    a reader sees the state before or after, never between.
    """
    fingerprint = roster.fingerprint
    with ledger.transaction():
        partial = (
            changed is not None
            and len(changed) <= PARTIAL_UP_TO
            and ledger.meta("settled_roster") == fingerprint
        )
        if partial:
            assert changed is not None
            _settle_some(ledger, roster, _concerned(ledger, roster, changed), scan)
        else:
            _settle_all(ledger, roster, scan)
        ledger.set_meta("settled_roster", fingerprint)


def _settle_all(ledger: Ledger, roster: RosterIndex, scan: ScanSettings) -> None:
    """Every version settled, inside the caller's transaction.

    One pass (in worker processes when there are many) builds each version's record once and
    writes it as it would stand if it counted; a version attributed to nobody (it has no
    record) is rejected there for good. Every version with a record is then somebody's, with
    its person and period written: the ledger hands them back a few hundred at a time, one
    person's versions never split (``Ledger.attributed_chunks``), ``_decide`` picks who
    counts among them and only the outcomes are written — except for the few versions a
    decision adds an issue to (a duplicate, a signed copy that differs): their written
    record is read back and given the issue. Memory stays flat in the number of versions.
    The ledger ends as ``_settled`` of each version with its decision leaves it (tested)."""
    with _Shared(roster, scan, sum(ledger.counts().values())) as work:
        for results in work.map(ledger):
            ledger.write_outcomes(results)
    for chunk in ledger.attributed_chunks(DECIDE_CHUNK):
        _write_decisions(ledger, _decide(chunk, roster, ledger, scan))


#: Versions with a record decided at a time (each person's versions together).
DECIDE_CHUNK = 500


def _write_decisions(ledger: Ledger, decisions: dict[int, _Decision]) -> None:
    """The outcomes of versions whose record is written as if they counted."""
    plain: list[tuple[str, str, int]] = []
    for row_id in sorted(decisions):
        decision = decisions[row_id]
        if not decision.duplicate and not decision.differs:
            plain.append((decision.outcome, decision.reason, row_id))
            continue
        text = ledger.record_text(row_id)
        assert text is not None  # written above
        record = SheetRecord.model_validate_json(text)
        ledger.write_outcomes([outcome_values(_decided(row_id, record, decision))])
    ledger.set_outcomes(plain)


#: A version that counts, with nothing to add to its record (also how every version with a
#: record is first written, before who counts is decided).
_ACCEPTED = _Decision(ACCEPTED, "", "")


def _first_chunk(
    rows: list[StoredRow], roster: RosterIndex, scan: ScanSettings
) -> list[OutcomeValues]:
    """Each version's row as written before the decision (final when it is nobody's:
    rejected)."""
    results: list[OutcomeValues] = []
    for stored in rows:
        row = file_row(stored)
        found = _interpret_row(row, roster, scan)
        results.append(outcome_values(_settled(row, found, _ACCEPTED)))
    return results


class _Shared:
    """A whole settle's per-version work (``_first_chunk``), chunk by chunk in id order: in a
    process per core when there are many versions and workers can be forked (they inherit
    the roster), else here. A chunk a worker could not do (it died, or raised) is done here
    instead, so an error surfaces the way it would without workers."""

    def __init__(self, roster: RosterIndex, scan: ScanSettings, versions: int) -> None:
        self.roster, self.scan = roster, scan
        self.pool: TimedPool[list[Any] | None] | None = workers.shared_pool(
            self._task, versions, PARALLEL_FROM, 600.0, lambda *_: None
        )

    def _task(self, rows: list[StoredRow]) -> list[Any] | None:
        try:
            return _first_chunk(rows, self.roster, self.scan)
        except Exception:  # done again in the main process, which reports it
            return None

    def map(self, ledger: Ledger) -> Iterator[list[OutcomeValues]]:
        chunks = ledger.stored_chunks(CHUNK)
        if self.pool is None:
            yield from (_first_chunk(rows, self.roster, self.scan) for rows in chunks)
            return
        for rows, result in self.pool.map_items(chunks, lambda rows: (rows,)):
            yield result if result is not None else _first_chunk(rows, self.roster, self.scan)

    def __enter__(self) -> _Shared:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()


def _concerned(
    ledger: Ledger, roster: RosterIndex, changed: Sequence[tuple[str, str]]
) -> list[int]:
    """The ids of the changed versions, and of every version of the people they were or now
    are read as, in id order (each version read and let go of in turn)."""
    keys: set[tuple[str, str]] = set()
    ids: set[int] = set()
    for row in itertools.chain(ledger.versions(changed), ledger.unsettled()):
        ids.add(row.id)
        if row.period and row.person_id:  # who it was settled as before (it may move)
            keys.add((row.period, row.person_id))
        if row.raw is not None:
            found = attribute(raw_from_json(row.raw), roster, _expected(row))
            if found.person is not None and found.period is not None:
                keys.add((found.period.code, found.person.person_id))
    return sorted(ids | ledger.ids_of_people(sorted(keys)))


def _settle_some(
    ledger: Ledger, roster: RosterIndex, ids: Sequence[int], scan: ScanSettings
) -> None:
    """The versions ``ids`` (every version of the people they concern) settled the way a
    whole settle does (``_settle_all``), a chunk at a time: each written as if it counted,
    then who counts decided among those with a record, as the ledger gives them back."""
    for start in range(0, len(ids), SOME_CHUNK):
        rows = ledger.stored_rows(ids[start : start + SOME_CHUNK])
        ledger.write_outcomes(_first_chunk(rows, roster, scan))
    _write_decisions(ledger, _decide(ledger.attributed(ids), roster, ledger, scan))


#: Versions of a partial settle read and written at a time.
SOME_CHUNK = 50


def _decide(
    found: Iterable[AttributedRow], roster: RosterIndex, ledger: Ledger, scan: ScanSettings
) -> dict[int, _Decision]:
    versions: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    by_id: dict[int, AttributedRow] = {}
    for item in found:
        key = (item.period, item.person_id)
        versions.setdefault(key, []).append((item.received_at, item.path, item.id))
        by_id[item.id] = item
    decisions: dict[int, _Decision] = {}
    for group in versions.values():
        group.sort(key=lambda v: (received_instant(v[0]), v[1], v[2]))  # instants, not text
        latest_path, latest_id = group[-1][1], group[-1][2]
        paper = [v for v in group if by_id[v[2]].scan]
        digital = [v for v in group if not by_id[v[2]].scan]
        # a scan of the signed paper beside a Word/PDF file: the other kind's latest is the
        # person's signed (or digital) copy, compared, not a duplicate
        pair = (digital if by_id[latest_id].scan else paper)[-1:] if paper and digital else []
        for _, _path, row_id in group[:-1]:
            if pair and row_id == pair[0][2]:
                kind = "电子版" if by_id[latest_id].scan else "签字的纸质件（扫描）"
                message = f"本人的{kind}，已与 {latest_path} 核对等次和出勤，以后者为准"
            else:
                message = f"已被较新的 {latest_path} 替代"
            decisions[row_id] = _Decision(SUPERSEDED, message, message)
        others = [v for v in group[:-1] if not pair or v[2] != pair[0][2]]
        duplicate = ""
        if others:
            earlier = "、".join(path for _, path, _ in others)
            duplicate = f"本人共交了 {len(others) + 1} 份，以最新的这份为准；较早的：{earlier}"
        differs = ""
        if pair:
            mine, theirs = by_id[latest_id], by_id[pair[0][2]]
            [latest_row] = ledger.versions([(mine.path, mine.sha256)])
            [copy_row] = ledger.versions([(theirs.path, theirs.sha256)])
            differs = _compare(latest_row, copy_row, roster, scan)
        plain = not duplicate and not differs  # nearly everyone: one shared decision
        decisions[latest_id] = _ACCEPTED if plain else _Decision(ACCEPTED, "", duplicate, differs)
    return decisions


def _is_scan(row: FileRow) -> bool:
    """A scanned or photographed sheet (``Ledger.attributed_chunks`` asks the same of the
    stored reading in SQL)."""
    return row.raw is not None and row.raw.get("format") == "scan"


def _compare(latest: FileRow, copy: FileRow, roster: RosterIndex, scan: ScanSettings) -> str:
    """Grade and attendance of the record in effect against the person's other copy (the
    signed paper, or the Word/PDF file): what differs, or ""."""
    mine = _interpret_row(latest, roster, scan).record
    theirs = _interpret_row(copy, roster, scan).record
    if mine is None or theirs is None:
        return ""
    paper, digital = (mine, theirs) if _is_scan(latest) else (theirs, mine)
    found: list[str] = []
    if paper.grade is not None and paper.grade != digital.grade:
        shown = digital.grade.value if digital.grade else "未定等次"
        found.append(f"等次：纸质件“{paper.grade.value}”，电子版“{shown}”")
    for field in FIELDS:
        if field.kind not in ("count", "days") or not field.record:
            continue
        key = field.record.split(".")[1]
        on_paper, in_file = getattr(paper.attendance, key), getattr(digital.attendance, key)
        if on_paper != in_file:
            found.append(f"{field.header}：纸质件 {on_paper:g}，电子版 {in_file:g}")
    if not found:
        return ""
    return (
        f"签字的纸质件（{paper.source.path}）与电子版（{digital.source.path}）不一致："
        + "；".join(found)
        + "。请以签字的纸质件为准核对"
    )


def _settled(row: FileRow, found: Interpretation, decision: _Decision | None) -> Settled:
    if found.record is None or decision is None:
        errors = [i for i in found.issues if i.severity == "error"] or found.issues
        reason = f"{errors[0].code} {errors[0].message}" if errors else ""
        issues = [i.model_dump() for i in found.issues]
        return Settled(row.id, found.person_id, found.period, REJECTED, reason, None, issues)
    return _decided(row.id, found.record, decision)


def _decided(row_id: int, record: SheetRecord, decision: _Decision) -> Settled:
    """A version with a record, as its decision leaves it (a duplicate or a differing signed
    copy adds its issue to the record)."""
    extra = [issue(Code.DUPLICATE_SUBMISSION, decision.duplicate)] if decision.duplicate else []
    if decision.differs:
        extra.append(issue(Code.SIGNED_COPY_DIFFERS, decision.differs, field="grade"))
    if extra:
        combined = [*record.issues, *extra]
        status = Status.FAULTY if any(i.severity == "error" for i in extra) else record.status
        record = record.model_copy(update={"issues": combined, "status": status})
    return Settled(
        row_id, record.person_id, record.period, decision.outcome, decision.reason,
        record.model_dump(mode="json"), [i.model_dump() for i in record.issues],
    )  # fmt: skip
