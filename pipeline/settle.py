"""Settling: which stored version of each person's sheet counts, and what became of every
other. Recomputed from the stored readings with the current roster, wholly inside one write
transaction, so a reader of the ledger never sees a half-settled state and an interrupted
run followed by a clean one ends where one clean run would."""

from __future__ import annotations

from dataclasses import dataclass

from .codes import CODES, Code, issue
from .ledger import ACCEPTED, REJECTED, SUPERSEDED, FileRow, Ledger, Settled
from .models import Period, Source
from .readers.raw import raw_from_json
from .records import Interpretation, RosterIndex, attribute, interpret
from .rules import received_instant


def _interpret_row(row: FileRow, roster: RosterIndex) -> Interpretation:
    if row.raw is None:
        code = Code(row.read_code or Code.UNREADABLE_FILE.value)
        failure = issue(code, row.read_message or CODES[code].title)
        return Interpretation(None, None, None, [failure])
    source = Source(
        path=row.path, sha256=row.sha256, format=row.format, received_at=row.received_at
    )
    return interpret(raw_from_json(row.raw), roster, source, _expected(row))


def _expected(row: FileRow) -> Period | None:
    return Period.parse(row.expected_period) if row.expected_period else None


@dataclass(frozen=True)
class _Decision:
    outcome: str
    reason: str
    duplicate: str  # DUPLICATE_SUBMISSION message, or ""


def settle(ledger: Ledger, roster: RosterIndex) -> None:
    """Attribute every stored reading with the current roster, then pick the latest per person.

    Two streaming passes keep memory flat in the number of files: the first only attributes
    each reading (who, which quarter, when), the second builds each record and writes it.
    Both run inside one write transaction: another writer waits, a reader sees the state
    before or after, never between.
    """
    with ledger.transaction():
        decisions = _decide(ledger, roster)
        batch: list[Settled] = []
        for row in ledger.iter_rows():
            batch.append(_settled(row, _interpret_row(row, roster), decisions.get(row.id)))
            if len(batch) >= 500:
                ledger.update_outcomes(batch)
                batch = []
        ledger.update_outcomes(batch)


def _decide(ledger: Ledger, roster: RosterIndex) -> dict[int, _Decision]:
    versions: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for row in ledger.iter_rows():
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
