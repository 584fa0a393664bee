"""Seconded staff (挂职) are assessed by the host unit and the result goes back to their own
unit (notice 四(六)): one feedback list per home unit, ``反馈/<本单位>_挂职人员考核结果.xlsx``."""

from __future__ import annotations

from pathlib import Path

from ..paths import safe_component
from ..rules import PeriodResult
from ..workspace import Workspace, writes
from ..writers.xlsx import CellValue, Table, write_workbook

HEADERS = ("编号", "姓名", "本单位", "职务", "挂职单位", "等次", "状态", "分管领导意见", "收到时间")


def feedback_dir(workspace: Workspace, result: PeriodResult) -> Path:
    return workspace.period_dir(result.period) / "反馈"


@writes("写挂职人员名单")
def write_secondment_feedback(workspace: Workspace, result: PeriodResult) -> list[Path]:
    """Write one list per home unit that has seconded people; return the files written."""
    by_home: dict[str, list[list[CellValue]]] = {}
    for person in result.people:
        if not person.seconded:
            continue
        found = result.result_of(person)
        record = found.record
        by_home.setdefault(person.unit, []).append(
            [
                person.person_id, person.name, person.unit, person.position, person.host_unit,
                found.grade.value if found.grade else "",
                record.status.value if record else found.outcome.value,
                record.leader_opinion if record else "",
                record.source.received_at.replace("T", " ")[:16] if record else "",
            ]
        )  # fmt: skip
    folder = feedback_dir(workspace, result)
    written = []
    for home, rows in by_home.items():
        path = folder / f"{safe_component(home)}_挂职人员考核结果.xlsx"
        title = f"{result.period.title}挂职人员"
        write_workbook(path, [Table(title, HEADERS, rows, widths={7: 40.0})])
        written.append(path)
    return written
