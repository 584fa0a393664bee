"""A sheet inside a container: a one-cell table used as a frame, a text box."""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.models import Period
from pipeline.quarter import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .docs import framed
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


@pytest.mark.parametrize("how", ["frame", "textbox"])
def test_a_sheet_inside_a_container_reads_like_the_plain_sheet(
    workspace: Workspace, how: str
) -> None:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    plain = fill(blank.read_bytes(), MODEST)
    (workspace.inbox / "plain.docx").write_bytes(plain)
    ingest(workspace, received_at=AT)
    [expected] = accepted_records(workspace, Q4)
    (workspace.inbox / "plain.docx").unlink()
    (workspace.inbox / f"{how}.docx").write_bytes(framed(plain, how=how))
    ingest(workspace, received_at=datetime(2027, 1, 6, 10))
    [record] = accepted_records(workspace, Q4)
    assert record.source.path == f"inbox/{how}.docx"
    keep = {"source", "issues"}
    assert record.model_dump(exclude=keep) == expected.model_dump(exclude=keep)
    codes = [i.code for i in record.issues if i.code != "DUPLICATE_SUBMISSION"]  # the plain one
    assert codes == [i.code for i in expected.issues]
