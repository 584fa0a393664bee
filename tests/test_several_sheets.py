"""Several people's sheets in one file: a Word document with three sheets pasted into the
first person's own file, the same exported to PDF by LibreOffice, three PDFs merged into one.
Each sheet is its own submission; nobody is lost to MISSING_RETURN."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.quarter import evaluate
from pipeline.stages.explain import explain
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .conftest import SOFFICE, convert, kaohe
from .docs import pasted_together
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)
PEOPLE = ("0001", "0002", "0003")


@pytest.fixture
def sheets(workspace: Workspace) -> dict[str, bytes]:
    generate(workspace, Q4)
    return {
        person: fill(next(workspace.blank_dir(Q4).glob(f"*/{person}_*.docx")).read_bytes(), MODEST)
        for person in PEOPLE
    }


def _accepted(workspace: Workspace) -> dict[str, str]:
    result = evaluate(workspace, Q4)
    return {pid: r.source.path for pid, r in result.records.items()}


def test_three_sheets_pasted_into_one_word_file(
    workspace: Workspace, sheets: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace.inbox / "办公室三人.docx"
    path.write_bytes(pasted_together([sheets[p] for p in PEOPLE]))
    result = ingest(workspace, received_at=AT)
    assert [(f.path, f.outcome, f.person_id) for f in result.files] == [
        ("inbox/办公室三人.docx#1", "accepted", "0001"),
        ("inbox/办公室三人.docx#2", "accepted", "0002"),
        ("inbox/办公室三人.docx#3", "accepted", "0003"),
    ]
    assert _accepted(workspace) == {
        p: f"inbox/办公室三人.docx#{i}" for i, p in enumerate(PEOPLE, 1)
    }
    result = evaluate(workspace, Q4)
    codes = {f.code for f in result.findings() if f.person_id in PEOPLE}
    assert "MISSING_RETURN" not in codes and "IDENTITY_MISMATCH" not in codes
    for person in PEOPLE:  # each sheet read as its own: the same values as the lone file
        record = result.records[person]
        assert record.monthly_records == list(MODEST.monthly)
        assert record.grade is not None
    again = ingest(workspace, received_at=AT)  # read once: the second run changes nothing
    assert [f.new for f in again.files] == [False, False, False]
    code, out, _ = kaohe(capsys, "-w", str(workspace.root), "explain", str(path))
    assert code == 0
    assert "这份文件里有 3 张记实表" in out and out.count("认定：") == 3


def test_a_file_read_as_one_sheet_before_is_split_on_the_next_run(
    workspace: Workspace, sheets: dict[str, bytes]
) -> None:
    """A ledger from before multi-sheet reading: its one reading of the file is replaced by
    one per sheet, keeping the received time."""
    import sqlite3

    path = workspace.inbox / "合并.docx"
    path.write_bytes(pasted_together([sheets[p] for p in PEOPLE]))
    ingest(workspace, received_at=AT)
    with sqlite3.connect(workspace.ledger_path) as db:  # as the old reader stored it
        db.execute("DELETE FROM files WHERE path != 'inbox/合并.docx#1'")
        db.execute("UPDATE files SET path = 'inbox/合并.docx', reader_version = 2")
    ingest(workspace, received_at=datetime(2030, 1, 1))
    with workspace.ledger() as ledger:
        paths = sorted((r.path, r.received_at) for r in ledger.iter_rows())
    stamp = AT.astimezone().isoformat(timespec="seconds")
    assert paths == [(f"inbox/合并.docx#{i}", stamp) for i in (1, 2, 3)]


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_the_same_exported_to_one_pdf(
    workspace: Workspace, sheets: dict[str, bytes], tmp_path: Path
) -> None:
    source = tmp_path / "三人.docx"
    source.write_bytes(pasted_together([sheets[p] for p in PEOPLE]))
    pdf = convert(source, "pdf", tmp_path / "pdf")
    (workspace.inbox / "三人.pdf").write_bytes(pdf.read_bytes())
    result = ingest(workspace, received_at=AT)
    assert [(f.path, f.person_id) for f in result.files] == [
        ("inbox/三人.pdf#1", "0001"), ("inbox/三人.pdf#2", "0002"), ("inbox/三人.pdf#3", "0003"),
    ]  # fmt: skip
    assert all(f.outcome == "accepted" for f in result.files)
    records = evaluate(workspace, Q4).records
    assert all(records[p].monthly_records == list(MODEST.monthly) for p in PEOPLE)


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")
def test_three_pdfs_merged_into_one(
    workspace: Workspace, sheets: dict[str, bytes], tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    merged = pdfium.PdfDocument.new()
    for person in PEOPLE:
        source = tmp_path / f"{person}.docx"
        source.write_bytes(sheets[person])
        single = pdfium.PdfDocument(convert(source, "pdf", tmp_path / "pdf").read_bytes())
        merged.import_pages(single)
    out = io.BytesIO()
    merged.save(out)
    (workspace.inbox / "合并.pdf").write_bytes(out.getvalue())
    result = ingest(workspace, received_at=AT)
    assert sorted((f.person_id, f.outcome) for f in result.files) == [
        (p, "accepted") for p in PEOPLE
    ]
    assert [e.sheet for e in explain(workspace, workspace.inbox / "合并.pdf")] == [1, 2, 3]
