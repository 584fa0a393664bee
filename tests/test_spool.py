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
from pipeline.ledger import Appeal
from pipeline.models import (
    Attendance,
    Finding,
    Grade,
    Issue,
    Outcome,
    Period,
    Person,
    SheetRecord,
    Source,
    Status,
)
from pipeline.quarter import Spooled, SpooledResults, Spooling, evaluate
from pipeline.rules import Held, InMemory, PeriodResult, PersonResult, RosterResults
from pipeline.spool import Spool, SpooledRows
from pipeline.stages import appeal
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
RECORD_JSON = SheetRecord(
    person_id="0001", name="张伟", gender="男", unit="一科", position="科员", duties="",
    period="2026Q4", monthly_records=["一", "二", "三"],
    attendance=Attendance(late=0, early_leave=0, absent=0, leave_days=0), self_evaluation="",
    signature_date=None, leader_opinion="", grade=None, review_opinion="",
    status=Status.PENDING,
    source=Source(path="inbox/a.docx", sha256="0" * 64, format="docx",
                  received_at="2027-01-05T10:00:00+08:00"),
    issues=[],
).model_dump_json()  # fmt: skip
TEXT_CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
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


CELLS = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | TEXT_CELL | st.floats()
ROWS = st.lists(st.lists(CELLS, max_size=6), max_size=30)


@settings(max_examples=150, deadline=None)
@given(rows=ROWS, flush_at=st.integers(1, 64), read_at=st.integers(1, 64))
def test_spooled_rows_read_back_whole_and_in_order_every_time(
    rows: list[list[object]], flush_at: int, read_at: int
) -> None:
    """A sheet's rows: counted, read through twice (windows smaller and larger than a row),
    every cell the same value and type (NaN as NaN, big integers, text of any kind)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spool_module, "ROWS_FLUSH_AT", flush_at)
        patch.setattr(spool_module, "FLUSH_AT", read_at)
        parked = SpooledRows()
        for row in rows:
            parked.append(row)
        assert len(parked) == len(rows)
        for _ in range(2):
            back = list(parked)
            assert [repr(list(r)) for r in back] == [repr(r) for r in rows]
        parked.close()


def test_spooled_rows_refuse_what_they_cannot_keep() -> None:
    with pytest.raises(ValueError):
        SpooledRows().append(["2027-01-05", date(2027, 1, 5)])


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
        kept = [Spooled.park(spool, r) for r in records]
        for record, spooled in zip(records, kept, strict=True):
            assert spooled.load() == record
            assert (spooled.grade, spooled.status, spooled.path) == (
                record.grade,
                record.status,
                record.source.path,
            )


PEOPLE = st.lists(
    st.builds(Person, person_id=st.text("0123456789", min_size=1, max_size=4), name=st.just("张伟"),
              gender=st.just("男"), unit=st.just("一科"), position=st.just("科员")),
    min_size=1, max_size=6, unique_by=lambda p: p.person_id,
)  # fmt: skip
FINDINGS = st.builds(
    Finding, code=TEXT, severity=st.sampled_from(["error", "warning", "info"]), person_id=TEXT,
    name=TEXT, unit=TEXT, file=TEXT, field=TEXT, message=TEXT,
)  # fmt: skip
OPTIONAL = st.none() | TEXT
APPEALS = st.builds(
    Appeal, period=TEXT, person_id=TEXT, reason=TEXT, filed_at=TEXT, original_grade=OPTIONAL,
    decision=OPTIONAL, new_grade=OPTIONAL, note=TEXT, decided_at=OPTIONAL,
)  # fmt: skip
GRADES = st.none() | st.sampled_from(list(Grade))


@settings(max_examples=200, deadline=None)
@given(people=PEOPLE, data=st.data())
def test_spooled_results_are_the_results_in_roster_order(
    people: list[Person], data: st.DataObject
) -> None:
    """Results set in any order, some twice, some never: read back equal, in roster order,
    with their records, appeals and findings (control and astral characters included)."""
    with Spool() as spool:
        stored, held = Spooling(spool).results(people), InMemory().results(people)
        for person in data.draw(st.lists(st.sampled_from(people), max_size=10)):
            record = data.draw(st.none() | RECORDS)
            result = PersonResult(
                person,
                Spooled.park(spool, record) if record else None,
                data.draw(GRADES),
                data.draw(st.sampled_from(list(Outcome))),
                data.draw(st.booleans()),
                data.draw(st.none() | APPEALS),
                tuple(data.draw(st.lists(FINDINGS, max_size=3))),
            )
            stored[person.person_id] = held[person.person_id] = result

        def seen(results: RosterResults) -> list[object]:
            return [
                (pid, r.person, r.record, r.grade, r.status, r.grade_on_sheet, r.outcome, r.late,
                 r.appeal, r.findings)
                for pid, r in results.items()
            ]  # fmt: skip

        assert seen(stored) == seen(held)
        assert len(stored) == len(held) == len(set(stored) & {p.person_id for p in people})
        assert list(stored) == [p.person_id for p in people if p.person_id in held]
        for person in people:
            assert (person.person_id in stored) == (person.person_id in held)
        with pytest.raises(KeyError):
            stored["不在名单"] = next(iter(held.values()), None)  # type: ignore[assignment]


def test_a_spooled_result_keeps_its_record_in_its_own_spool() -> None:
    """A record held in memory, or parked in another spool, cannot be written as a place."""
    person = Person(person_id="0001", name="张伟", gender="男", unit="一科", position="科员")
    record = SheetRecord.model_validate_json(RECORD_JSON)
    with Spool() as spool, Spool() as other:
        results = SpooledResults(spool, [person])
        for kept in (Held(record), Spooled.park(other, record)):
            result = PersonResult(person, kept, None, Outcome.PENDING)
            with pytest.raises(TypeError):
                results["0001"] = result
        results["0001"] = PersonResult(person, Spooled.park(spool, record), None, Outcome.PENDING)
        assert results["0001"].record == record


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
    ] + [list(result.findings()), result.records]  # fmt: skip


def test_evaluate_with_spooled_records_is_evaluate_in_memory(
    quarter: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    spooled = evaluate(quarter, Q4)
    assert isinstance(spooled.results, SpooledResults)
    assert all(isinstance(r.kept, Spooled) for r in spooled.results.values() if r.returned)
    monkeypatch.setattr(quarter_module, "Spooling", lambda spool: InMemory())
    held = evaluate(quarter, Q4)
    assert not isinstance(held.results, SpooledResults)
    assert all(isinstance(r.kept, Held) for r in held.results.values() if r.returned)
    assert _seen(spooled) == _seen(held)
    outcomes = {p: r.outcome.value for p, r in spooled.results.items() if r.returned}
    assert outcomes == {"0001": "不定等次", "0002": "较好", "0004": "好", "0007": "较好"}
    assert spooled.results["0007"].grade_on_sheet is Grade.YIBAN
    assert spooled.results["0002"].late
    codes = {f.code for f in spooled.results["0004"].findings}
    assert "DUPLICATE_SUBMISSION" in codes  # the fixture's repeated return is one
