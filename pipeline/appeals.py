"""Appeals (复核, notice 四(七)): a person who disputes a quarterly grade applies to the
leadership team, whose collective decision either changes the grade or upholds it.

Appeals live in the ledger. A decided change replaces the effective grade in every output
that follows; the original grade stays visible beside it with the decision note.
"""

from __future__ import annotations

from datetime import datetime

from .codes import Code
from .errors import KaoheError
from .ledger import CHANGED, UPHELD, Appeal, Ledger
from .models import Grade, Issue, Period, SheetRecord

__all__ = ["CHANGED", "UPHELD", "Appeal", "appeals", "apply_appeal", "decide_appeal", "file_appeal"]


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
    if not ledger.file_appeal(period.code, person_id, reason.strip(), _now(), record.grade.value):
        raise KaoheError(f"{period.title} {person_id} {record.name} 已申请过复核")
    return appeals(ledger, period)[person_id]


def decide_appeal(
    ledger: Ledger, period: Period, person_id: str, grade: Grade | None, note: str
) -> Appeal:
    """The leadership team's decision: a new grade, or ``None`` to uphold the original."""
    refused = ledger.decide_appeal(
        period.code, person_id, CHANGED if grade else UPHELD,
        grade.value if grade else None, note.strip(), _now(),
    )  # fmt: skip
    if refused == "none":
        raise KaoheError(f"{period.title} {person_id} 没有申请复核，不能作出复核决定")
    if refused is not None:
        raise KaoheError(
            f"{period.title} {person_id} 的复核已经作出决定（{refused}），不能再次决定"
        )
    return appeals(ledger, period)[person_id]


def appeals(ledger: Ledger, period: Period | None = None) -> dict[str, Appeal]:
    """Appeals by person (of one period, or of all periods keyed ``period/person``)."""
    return {
        (a.person_id if period else f"{a.period}/{a.person_id}"): a
        for a in ledger.appeals(period.code if period else None)
    }


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
