"""Show how one file was read: each field's raw text and where it came from, the identity
found, and what the sheet became. For HR when a result looks wrong, and for developers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..codes import Code, issue
from ..models import Issue, Period, Source
from ..readers.raw import RawSheet, raw_from_json
from ..records import Interpretation, RosterIndex, interpret
from ..roster import read_roster
from ..workspace import Workspace
from .ingest import read_file

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
    result: Interpretation

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
    return Explanation(path, raw, interpret(raw, roster, source, period))
