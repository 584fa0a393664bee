"""Settling: which stored version of each person's sheet counts, and what became of every
other. Recomputed from the stored readings with the current roster, wholly inside one write
transaction, so a reader of the ledger never sees a half-settled state and an interrupted
run followed by a clean one ends where one clean run would."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .codes import CODES, Code, issue
from .ledger import ACCEPTED, REJECTED, SUPERSEDED, FileRow, Ledger, Settled
from .models import Period, Source
from .readers.raw import raw_from_json
from .records import Interpretation, RosterIndex, attribute, interpret
from .rules import received_instant
from .settings import ScanSettings


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


@dataclass(frozen=True)
class _Decision:
    outcome: str
    reason: str
    duplicate: str  # DUPLICATE_SUBMISSION message, or ""


#: Above this many changed versions a whole settle is as quick as a partial one.
PARTIAL_UP_TO = 200


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

    A whole settle makes two streaming passes to keep memory flat in the number of files: the
    first only attributes each reading (who, which quarter, when), the second builds each
    record and writes it. Either way it runs inside one write transaction: another writer
    waits, a reader sees the state before or after, never between.
    """
    fingerprint = _fingerprint(roster)
    with ledger.transaction():
        partial = (
            changed is not None
            and len(changed) <= PARTIAL_UP_TO
            and ledger.meta("settled_roster") == fingerprint
        )
        if partial:
            assert changed is not None
            rows = _concerned(ledger, roster, changed)
            decisions = _decisions(rows, roster)
            ledger.update_outcomes(
                [_settled(r, _interpret_row(r, roster, scan), decisions.get(r.id)) for r in rows]
            )
        else:
            decisions = _decisions(ledger.iter_rows(), roster)
            batch: list[Settled] = []
            for row in ledger.iter_rows():
                batch.append(
                    _settled(row, _interpret_row(row, roster, scan), decisions.get(row.id))
                )
                if len(batch) >= 500:
                    ledger.update_outcomes(batch)
                    batch = []
            ledger.update_outcomes(batch)
        ledger.set_meta("settled_roster", fingerprint)


def _fingerprint(roster: RosterIndex) -> str:
    """The roster as settling sees it: a changed roster settles everything again."""
    text = json.dumps([p.model_dump(mode="json") for p in roster.people], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _concerned(
    ledger: Ledger, roster: RosterIndex, changed: Sequence[tuple[str, str]]
) -> list[FileRow]:
    """The changed versions, and every version of the people they were or now are read as."""
    rows = ledger.versions(changed) + ledger.unsettled()
    keys: set[tuple[str, str]] = set()
    for row in rows:
        if row.period and row.person_id:  # who it was settled as before (it may move)
            keys.add((row.period, row.person_id))
        if row.raw is not None:
            found = attribute(raw_from_json(row.raw), roster, _expected(row))
            if found.person is not None and found.period is not None:
                keys.add((found.period.code, found.person.person_id))
    concerned = {r.id: r for r in rows}
    for row in ledger.versions_of_people(sorted(keys)):
        concerned.setdefault(row.id, row)
    return sorted(concerned.values(), key=lambda r: r.id)


def _decisions(rows: Iterable[FileRow], roster: RosterIndex) -> dict[int, _Decision]:
    versions: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for row in rows:
        if row.raw is None:
            continue
        found = attribute(raw_from_json(row.raw), roster, _expected(row))
        if found.attributed:
            assert found.person is not None and found.period is not None
            key = (found.period.code, found.person.person_id)
            versions.setdefault(key, []).append((row.received_at, row.path, row.id))
    decisions: dict[int, _Decision] = {}
    for group in versions.values():
        group.sort(key=lambda v: (received_instant(v[0]), v[1], v[2]))  # instants, not text
        latest_path, latest_id = group[-1][1], group[-1][2]
        for _, _path, row_id in group[:-1]:
            message = f"已被较新的 {latest_path} 替代"
            decisions[row_id] = _Decision(SUPERSEDED, message, message)
        duplicate = ""
        if len(group) > 1:
            earlier = "、".join(path for _, path, _ in group[:-1])
            duplicate = f"本人共交了 {len(group)} 份，以最新的这份为准；较早的：{earlier}"
        decisions[latest_id] = _Decision(ACCEPTED, "", duplicate)
    return decisions


def _settled(row: FileRow, found: Interpretation, decision: _Decision | None) -> Settled:
    if found.record is None or decision is None:
        errors = [i for i in found.issues if i.severity == "error"] or found.issues
        reason = f"{errors[0].code} {errors[0].message}" if errors else ""
        issues = [i.model_dump() for i in found.issues]
        return Settled(row.id, found.person_id, found.period, REJECTED, reason, None, issues)
    record = found.record
    if decision.duplicate:
        extra = issue(Code.DUPLICATE_SUBMISSION, decision.duplicate)
        record = record.model_copy(update={"issues": [*record.issues, extra]})
    return Settled(
        row.id, record.person_id, record.period, decision.outcome, decision.reason,
        record.model_dump(mode="json"), [i.model_dump() for i in record.issues],
    )  # fmt: skip
