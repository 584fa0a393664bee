"""Written feedback (反馈结果): one Word notice per assessed person, from a docxtpl template
HR can edit (``templates/考核结果反馈通知.docx``), bundled per unit like the blank sheets —
each unit's bundle holds only its own people."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import KaoheError
from ..models import Grade, Outcome, Period
from ..paths import safe_component, shipped_template
from ..quarter import evaluate
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.notice import render_notice

TEMPLATE_NAME = "考核结果反馈通知.docx"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def feedback_template(workspace: Workspace) -> Path:
    """The workspace's notice template (HR's edited copy), else the shipped one."""
    own = workspace.templates / TEMPLATE_NAME
    return own if own.is_file() else shipped_template().with_name(TEMPLATE_NAME)


def _render(template: bytes, context: dict[str, object]) -> bytes:
    return render_notice(template, context, "反馈通知")


@dataclass
class FeedbackResult:
    notices: list[str]
    bundles: dict[str, str]


@writes("写反馈通知")
def write_feedback(
    workspace: Workspace, period: Period, *, unit: str | None = None
) -> FeedbackResult:
    """Write the period's notices under ``outbox/<period>/feedback/`` (replaced as a whole)."""
    result = evaluate(workspace, period)
    template = feedback_template(workspace).read_bytes()
    by_unit: dict[str, list[tuple[str, bytes]]] = {}
    for person in result.people:
        found = result.result_of(person)
        record = found.record
        assessed = found.outcome.grade is not None or found.outcome is Outcome.UNGRADED
        if record is None or not assessed:
            continue  # not assessed yet: nothing to feed back
        if unit is not None and person.assessing_unit != unit:
            continue
        grade_text = record.grade.value if record.grade else "不定等次（请假超过规定天数）"
        context: dict[str, object] = {
            "period_title": period.title,
            "name": person.name,
            "unit": person.unit,
            "assessing_unit": person.assessing_unit,
            "leader": person.leader,
            "grade_text": f"“{grade_text}”" if record.grade else grade_text,
            "leader_opinion": record.leader_opinion or "（无）",
            "needs_rectification": record.grade in (Grade.YIBAN, Grade.CHA),
        }
        who = f"{safe_component(person.person_id)}_{safe_component(person.name)}"
        name = f"{who}_{period.code}_考核结果反馈.docx"
        by_unit.setdefault(person.assessing_unit, []).append((name, _render(template, context)))
    if unit is not None and unit not in by_unit:
        raise KaoheError(f"考核单位“{unit}”在{period.title}没有已评定的人员")
    base = workspace.period_dir(period) / "feedback"
    notices: list[str] = []
    bundles: dict[str, str] = {}
    targets = {name: base / safe_component(name) for name in by_unit}
    for name, items in by_unit.items():
        with atomic.staged_dir(targets[name]) as staging:
            for file_name, data in items:
                atomic.write_bytes(staging / file_name, data, durable=False)
        zip_path = base / f"{safe_component(name)}.zip"
        with atomic.atomic_path(zip_path) as tmp, zipfile.ZipFile(tmp, "w") as archive:
            for file_name, data in items:
                info = zipfile.ZipInfo(file_name, date_time=_ZIP_TIME)
                archive.writestr(info, data)
        bundles[name] = workspace.relative(zip_path)
        notices.extend(workspace.relative(targets[name] / f) for f, _ in items)
    return FeedbackResult(notices, bundles)
