"""催报: per unit, only that unit's non-returners and their leaders."""

from __future__ import annotations

from datetime import date, datetime

import docx
import pytest

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.remind import write_reminders
from pipeline.workspace import Workspace

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


def test_reminders_list_only_each_units_missing_people(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(workspace, Q4)
    for blank in workspace.blank_dir(Q4).glob("*/*.docx"):
        if blank.name[:4] not in ("0003", "0008"):
            (workspace.inbox / blank.name).write_bytes(fill(blank.read_bytes(), MODEST))
    ingest(workspace, received_at=datetime(2027, 1, 5))
    found = write_reminders(workspace, Q4, today=date(2027, 1, 7))
    assert [(r.unit, [p.person_id for p in r.people]) for r in found] == [
        ("城区分局", ["0003"]), ("综合行政执法队", ["0008"]),
    ]  # fmt: skip
    text = "\n".join(p.text for p in docx.Document(str(found[0].notice)).paragraphs)
    assert "王芳（编号 0003，分管领导 王建国）" in text and "孙浩" not in text
    assert "2027年1月7日" in text
    assert found[1].text.endswith("以下 1 位同志尚未交：孙浩（分管领导 刘志强）。请督促尽快交回。")
    code, out, _ = kaohe(capsys, "-w", str(workspace.root), "remind", "-p", "2026Q4")
    assert code == 0 and "城区分局：未交 1 人" in out
