"""催报: for the people still missing, a reminder per unit — a Word notice from an editable
template (``templates/催报通知.docx``) and a short text to paste into a message — listing
only that unit's non-returners and their leaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import KaoheError
from ..models import Outcome, Period
from ..paths import safe_component, shipped_template
from ..quarter import evaluate
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.notice import render_notice

TEMPLATE_NAME = "催报通知.docx"


@dataclass(frozen=True)
class Missing:
    person_id: str
    name: str
    leader: str


@dataclass(frozen=True)
class Reminder:
    unit: str
    people: list[Missing]
    text: str  # to paste into a message
    notice: Path | None = None


def remind_template(workspace: Workspace) -> Path:
    own = workspace.templates / TEMPLATE_NAME
    return own if own.is_file() else shipped_template().with_name(TEMPLATE_NAME)


def reminders(
    workspace: Workspace, period: Period, *, unit: str | None = None, today: date | None = None
) -> list[Reminder]:
    """Who is still missing, per unit (only units with someone missing)."""
    today = today or date.today()
    result = evaluate(workspace, period, today=today)
    deadline = result.deadline
    by_unit: dict[str, list[Missing]] = {}
    for person in result.people:
        if unit is not None and person.assessing_unit != unit:
            continue
        if result.result_of(person).outcome is Outcome.MISSING:
            by_unit.setdefault(person.assessing_unit, []).append(
                Missing(person.person_id, person.name, person.leader)
            )
    if unit is not None and unit not in {p.assessing_unit for p in result.people}:
        known = "、".join(dict.fromkeys(p.assessing_unit for p in result.people))
        raise KaoheError(f"名单中没有考核单位“{unit}”。名单中的单位有：{known}")
    due = deadline.day.isoformat() + ("（暂定）" if deadline.provisional else "")
    found = []
    for name, people in by_unit.items():
        listed = "、".join(
            f"{p.name}（分管领导 {p.leader}）" if p.leader else p.name for p in people
        )
        text = (
            f"{name}：{period.title}平时考核记实表应于 {due} 前交回人事科，"
            f"以下 {len(people)} 位同志尚未交：{listed}。请督促尽快交回。"
        )
        found.append(Reminder(name, people, text))
    return found


@writes("写催报通知")
def write_reminders(
    workspace: Workspace, period: Period, *, unit: str | None = None, today: date | None = None
) -> list[Reminder]:
    """The reminders, each with its notice written under ``outbox/<period>/催报/``."""
    today = today or date.today()
    deadline = workspace.deadline(period)
    template = remind_template(workspace).read_bytes()
    written = []
    for reminder in reminders(workspace, period, unit=unit, today=today):
        context: dict[str, object] = {
            "unit": reminder.unit,
            "period_title": period.title,
            "deadline": f"{deadline.day.year}年{deadline.day.month}月{deadline.day.day}日",
            "today": f"{today.year}年{today.month}月{today.day}日",
            "count": len(reminder.people),
            "people": [p.__dict__ for p in reminder.people],
        }
        path = (
            workspace.period_dir(period) / "催报" / f"{safe_component(reminder.unit)}_催报通知.docx"
        )
        atomic.write_bytes(path, render_notice(template, context, "催报通知"))
        written.append(Reminder(reminder.unit, reminder.people, reminder.text, path))
    return written
