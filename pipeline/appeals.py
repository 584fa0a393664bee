"""Appeals (复核, notice 四(七)): a person who disputes a quarterly grade applies to the
leadership team, whose collective decision either changes the grade or upholds it.

Appeals live in the ledger. A decided change replaces the effective grade in every output
that follows; the original grade stays visible beside it with the decision note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .codes import Code
from .errors import KaoheError
from .ledger import Ledger
from .models import Grade, Issue, Period, SheetRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS appeals (
    period TEXT NOT NULL,
    person_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    original_grade TEXT,
    decision TEXT,
    new_grade TEXT,
    note TEXT NOT NULL DEFAULT '',
    decided_at TEXT,
    PRIMARY KEY (period, person_id)
)
"""
CHANGED, UPHELD = "改定", "维持"


@dataclass(frozen=True)
class Appeal:
    period: str
    person_id: str
    reason: str
    filed_at: str
    original_grade: str | None
    decision: str | None
    new_grade: str | None
    note: str
    decided_at: str | None

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)

    @property
    def effective_grade(self) -> str | None:
        return self.new_grade if self.decision == CHANGED else self.original_grade


def _table(ledger: Ledger) -> None:
    ledger.db.execute(_SCHEMA)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def file_appeal(
    ledger: Ledger, period: Period, record: SheetRecord | None, person_id: str, reason: str
) -> Appeal:
    """Record an appeal; only a person with a graded sheet in the period can appeal."""
    if record is None or record.grade is None:
        raise KaoheError(f"{period.title} {person_id} 没有评定等次的记实表，无法申请复核")
    if not reason.strip():
        raise KaoheError("请用 --reason 写明复核理由")
    with ledger.transaction() as db:
        _table(ledger)
        if db.execute(
            "SELECT 1 FROM appeals WHERE period = ? AND person_id = ?", (period.code, person_id)
        ).fetchone():
            raise KaoheError(f"{period.title} {person_id} {record.name} 已申请过复核")
        db.execute(
            "INSERT INTO appeals (period, person_id, reason, filed_at, original_grade)"
            " VALUES (?, ?, ?, ?, ?)",
            (period.code, person_id, reason.strip(), _now(), record.grade.value),
        )
    return appeals(ledger, period)[person_id]


def decide_appeal(
    ledger: Ledger, period: Period, person_id: str, grade: Grade | None, note: str
) -> Appeal:
    """The leadership team's decision: a new grade, or ``None`` to uphold the original."""
    with ledger.transaction() as db:
        _table(ledger)
        row = db.execute(
            "SELECT decision FROM appeals WHERE period = ? AND person_id = ?",
            (period.code, person_id),
        ).fetchone()
        if row is None:
            raise KaoheError(f"{period.title} {person_id} 没有申请复核，不能作出复核决定")
        if row[0] is not None:
            raise KaoheError(
                f"{period.title} {person_id} 的复核已经作出决定（{row[0]}），不能再次决定"
            )
        db.execute(
            "UPDATE appeals SET decision = ?, new_grade = ?, note = ?, decided_at = ?"
            " WHERE period = ? AND person_id = ?",
            (
                CHANGED if grade else UPHELD,
                grade.value if grade else None,
                note.strip(),
                _now(),
                period.code,
                person_id,
            ),
        )
    return appeals(ledger, period)[person_id]


def appeals(ledger: Ledger, period: Period | None = None) -> dict[str, Appeal]:
    """Appeals by person (of one period, or of all periods keyed ``period/person``)."""
    _table(ledger)
    query = (
        "SELECT * FROM appeals"
        + (" WHERE period = ?" if period else "")
        + " ORDER BY period, person_id"
    )
    rows = ledger.db.execute(query, (period.code,) if period else ())
    found = {}
    for row in rows:
        appeal = Appeal(*row)
        found[appeal.person_id if period else f"{appeal.period}/{appeal.person_id}"] = appeal
    return found


def apply_appeal(record: SheetRecord, appeal: Appeal) -> SheetRecord:
    """The record with the decided grade in effect and the appeal noted among its issues."""
    if appeal.decision == CHANGED and appeal.new_grade:
        note = f"复核改定为“{appeal.new_grade}”（原等次“{appeal.original_grade}”）：{appeal.note}"
        issue = Issue(
            code=Code.APPEAL_DECIDED.value, severity="warning", field="grade", message=note
        )
        return record.model_copy(
            update={"grade": Grade(appeal.new_grade), "issues": [*record.issues, issue]}
        )
    if appeal.decision == UPHELD:
        note = f"复核维持原等次“{appeal.original_grade}”：{appeal.note}"
    else:
        note = f"已申请复核（{appeal.reason}），待局领导班子研究"
    issue = Issue(code=Code.APPEAL_DECIDED.value if appeal.decision else Code.APPEAL_PENDING.value,
                  severity="warning", field="grade", message=note)  # fmt: skip
    return record.model_copy(update={"issues": [*record.issues, issue]})
