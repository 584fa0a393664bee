"""The spool gives back exactly what was parked, and a period's result whose records wait in
one is the result the rules give with the records in memory."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import quarter as quarter_module
from pipeline import spool as spool_module
from pipeline.models import Attendance, Grade, Issue, Period, SheetRecord, Source, Status
from pipeline.quarter import Spooled, evaluate
from pipeline.rules import Held, PeriodResult
from pipeline.spool import Spool
from pipeline.stages import appeal
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
PIECES = st.lists(st.binary(max_size=40) | st.just(b"\n") | st.just(b""), max_size=40)


@settings(max_examples=150, deadline=None)
@given(pieces=PIECES, flush_at=st.integers(1, 64), reads=st.lists(st.integers(0, 39)))
def test_every_piece_reads_back_between_and_after_appends(
    pieces: list[bytes], flush_at: int, reads: list[int]
) -> None:
    """Pieces written out early or still waiting, read in any order while more arrive."""
    original = spool_module.FLUSH_AT
    spool_module.FLUSH_AT = flush_at
    try:
        with Spool() as spool:
            spans = []
            for index, piece in enumerate(pieces):
                spans.append(spool.append(piece))
                for wanted in reads[: index % 3]:  # reads between appends flush what waits
                    earlier = wanted % (index + 1)
                    assert spool.read(*spans[earlier]) == pieces[earlier]
            assert [spool.read(*span) for span in spans] == pieces
            joined = b"".join(pieces)
            assert b"".join(spool.lines()) == joined
            *whole, last = joined.split(b"\n")
            assert list(spool.lines()) == [line + b"\n" for line in whole] + (
                [last] if last else []
            )
    finally:
        spool_module.FLUSH_AT = original


def test_threads_share_one_spool(tmp_path: Path) -> None:
    """The workbench's threads may read one result's records while others are parked."""
    with Spool(tmp_path / "new" / "folder") as spool:
        assert not list((tmp_path / "new" / "folder").iterdir())  # never named on Linux
        parked = {i: spool.append(f"第{i}条记录".encode() * (i % 7 + 1)) for i in range(300)}
        wrong: list[int] = []

        def work(start: int) -> None:
            for i in range(start, 300, 4):
                spool.append(b"x" * i)
                if spool.read(*parked[i]) != f"第{i}条记录".encode() * (i % 7 + 1):
                    wrong.append(i)

        threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == []


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
RECORDS = st.builds(
    SheetRecord,
    person_id=TEXT, name=TEXT, gender=st.sampled_from(["男", "女"]), unit=TEXT, position=TEXT,
    duties=TEXT, period=st.just("2026Q4"), monthly_records=st.lists(TEXT, min_size=3, max_size=3),
    attendance=st.builds(
        Attendance, late=st.integers(0, 99), early_leave=st.integers(0, 99),
        absent=st.integers(0, 99),
        leave_days=st.floats(0, 400, allow_nan=False) | st.sampled_from([0.5, 30.0, 30.5]),
    ),
    self_evaluation=TEXT, signature_date=st.none() | st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    leader_opinion=TEXT, grade=st.none() | st.sampled_from(list(Grade)), review_opinion=TEXT,
    status=st.sampled_from(list(Status)),
    source=st.builds(Source, path=TEXT, sha256=st.just("0" * 64), format=st.just("docx"),
                     received_at=st.just("2027-01-05T10:00:00+08:00")),
    issues=st.lists(st.builds(Issue, code=TEXT, severity=st.sampled_from(["error", "warning"]),
                              field=TEXT, message=TEXT), max_size=3),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(records=st.lists(RECORDS, min_size=1, max_size=5))
def test_a_spooled_record_is_the_record(records: list[SheetRecord]) -> None:
    """Astral characters, control characters, fractional leave, no date: all come back."""
    with Spool() as spool:
        kept = [Spooled(spool, r) for r in records]
        for record, spooled in zip(records, kept, strict=True):
            assert spooled.load() == record
            assert (spooled.grade, spooled.status, spooled.path) == (
                record.grade,
                record.status,
                record.source.path,
            )


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    """Every kind of result: an appeal decided, long leave, a late return, a missing one, a
    record sent twice."""
    generate(workspace, Q4)
    sheets = {
        "0007": dataclasses.replace(MODEST, grade_tick="☑一般"),
        "0001": dataclasses.replace(MODEST, leave_days="40", grade_tick=""),
        "0002": MODEST,
        "0004": dataclasses.replace(MODEST, grade_tick="☑好"),
    }
    for person_id, entries in sheets.items():
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    again = workspace.inbox / "0004-again.docx"
    again.write_bytes((workspace.inbox / "0004.docx").read_bytes())
    [blank] = workspace.blank_dir(Q4).glob("*/0002_*.docx")
    late = workspace.inbox / "0002-late.docx"
    late.write_bytes(fill(blank.read_bytes(), dataclasses.replace(MODEST, self_evaluation="补充")))
    ingest(workspace, [late, again], received_at=datetime(2027, 1, 12, 9))
    appeal.file(workspace, Q4, "0007", "等次有误")
    appeal.decide(workspace, Q4, "0007", Grade.JIAOHAO, "复核改定")
    return workspace


def _seen(result: PeriodResult) -> list[object]:
    return [
        (r.person, r.record, r.grade, r.status, r.returned, r.grade_on_sheet, r.outcome, r.late,
         r.appeal, r.findings)
        for r in (result.result_of(p) for p in result.people)
    ] + [result.findings, result.records]  # fmt: skip


def test_evaluate_with_spooled_records_is_evaluate_in_memory(
    quarter: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    spooled = evaluate(quarter, Q4)
    assert all(isinstance(r.kept, Spooled) for r in spooled.results.values() if r.returned)
    monkeypatch.setattr(quarter_module, "Spooled", lambda spool, record: Held(record))
    held = evaluate(quarter, Q4)
    assert all(isinstance(r.kept, Held) for r in held.results.values() if r.returned)
    assert _seen(spooled) == _seen(held)
    outcomes = {p: r.outcome.value for p, r in spooled.results.items() if r.returned}
    assert outcomes == {"0001": "不定等次", "0002": "较好", "0004": "好", "0007": "较好"}
    assert spooled.results["0007"].grade_on_sheet is Grade.YIBAN
    assert spooled.results["0002"].late
    codes = {f.code for f in spooled.results["0004"].findings}
    assert "DUPLICATE_SUBMISSION" in codes  # the fixture's repeated return is one
