"""Show how one file was read: each field's raw text and where it came from, the identity
found, and what the sheet became. For HR when a result looks wrong, and for developers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..codes import Code, issue
from ..models import Issue, Outcome, Period, Source
from ..readers.raw import RawSheet, raw_from_json
from ..readers.reading import read_file
from ..records import Interpretation, RosterIndex, interpret
from ..roster import read_roster
from ..rules import judge
from ..workspace import Workspace

#: Field names as printed on the sheet, in reading order.
FIELD_LABELS = (
    ("period_text", "期间行"),
    ("name", "姓名"),
    ("gender", "性别"),
    ("unit_position", "单位及职务"),
    ("unit", "单位"),
    ("position", "职务"),
    ("duties", "从事或分管工作"),
    ("month1", "第一月工作纪实"),
    ("month2", "第二月工作纪实"),
    ("month3", "第三月工作纪实"),
    ("late", "迟到（次）"),
    ("early_leave", "早退（次）"),
    ("absent", "旷工（次）"),
    ("leave_days", "请假情况（天）"),
    ("self_evaluation", "本季度自我评价"),
    ("signature", "签字"),
    ("leader_opinion", "分管领导意见"),
    ("review_opinion", "班子审定意见"),
)


@dataclass
class Explanation:
    path: Path
    raw: RawSheet | None
    #: The reading, with the record as the quarter's rules have it (``rules.judge``).
    result: Interpretation
    #: The outcome word the quarter's outputs would show for this sheet alone.
    outcome: Outcome | None = None

    @property
    def issues(self) -> list[Issue]:
        return self.result.issues if self.result.record is None else self.result.record.issues


def explain(workspace: Workspace, path: Path, period: Period | None = None) -> Explanation:
    raw_json, code, message = read_file(str(path), workspace.limits())
    if raw_json is None:
        failure = issue(Code(code or Code.UNREADABLE_FILE.value), message or "")
        return Explanation(path, None, Interpretation(None, None, None, [failure]))
    raw = raw_from_json(raw_json)
    source = Source(
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        format=raw.format,
        received_at=datetime.fromtimestamp(path.stat().st_mtime)
        .astimezone()
        .isoformat(timespec="seconds"),
    )
    roster = RosterIndex(read_roster(workspace.roster_path))
    found = interpret(raw, roster, source, period)
    if found.record is None:
        return Explanation(path, raw, found)
    record, outcome = judge(found.record, workspace.settings.rules)
    assert record is not None
    judged = Interpretation(record, found.person_id, found.period, found.issues)
    return Explanation(path, raw, judged, outcome)
