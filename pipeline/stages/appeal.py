"""Appeals (复核) on a workspace: file one, record the leadership team's decision, list them.
The rules of an appeal are in ``pipeline.appeals``; this step finds the record, holds the
writer lock and stores the result, the same for the command line and the workbench."""

from __future__ import annotations

from ..appeals import Appeal, appeals, decide_appeal, file_appeal
from ..models import Grade, Period
from ..quarter import accepted_records
from ..workspace import Workspace, writes


@writes("登记复核申请")
def file(workspace: Workspace, period: Period, person_id: str, reason: str) -> Appeal:
    record = next(
        (r for r in accepted_records(workspace, period) if r.person_id == person_id), None
    )
    with workspace.existing_ledger() as ledger:
        return file_appeal(ledger, period, record, person_id, reason)


@writes("记录复核决定")
def decide(
    workspace: Workspace, period: Period, person_id: str, grade: Grade | None, note: str
) -> Appeal:
    with workspace.existing_ledger() as ledger:
        return decide_appeal(ledger, period, person_id, grade, note)


def listed(workspace: Workspace, period: Period | None = None) -> list[Appeal]:
    with workspace.existing_ledger() as ledger:
        return list(appeals(ledger, period).values())
