"""Reliability round 2: one writer at a time, one bad file costs one file, nothing left
behind, a damaged ledger comes back from its backup. Each case as it was reproduced."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.flows import archive_quarter
from pipeline.models import Period
from pipeline.quarter import evaluate
from pipeline.stages.export import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace, init_workspace
from pipeline.writers import atomic

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10)
ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _returns(workspace: Workspace, ids: list[str] | None = None) -> list[Path]:
    generate(workspace, Q4)
    written = []
    for blank in sorted(workspace.blank_dir(Q4).glob("*/*.docx")):
        if ids is not None and blank.name[:4] not in ids:
            continue
        path = workspace.inbox / f"{blank.name[:4]}.docx"
        path.write_bytes(fill(blank.read_bytes(), MODEST))
        written.append(path)
    return written


@pytest.fixture
def returned(workspace: Workspace) -> Workspace:
    _returns(workspace)
    return workspace


@pytest.fixture
def no_hang() -> Iterator[None]:
    """Fail instead of hanging forever (a FIFO used to block ingest)."""

    def stop(*_: object) -> None:
        raise TimeoutError("took too long: blocked?")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(60)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_archive_and_export_during_a_slow_settle_see_a_whole_state(
    returned: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An 8-second pause inside settle once let an archive file 800 accepted returns as
    rejected/pending. Now export reads the state before the settle, and archive waits."""
    import pipeline.settle as settle

    inside = threading.Event()
    real = settle._decide

    def slow(*args: object) -> object:
        inside.set()
        time.sleep(1.5)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(settle, "_decide", slow)
    runner = threading.Thread(target=ingest, args=(returned,), kwargs={"received_at": AT})
    runner.start()
    assert inside.wait(30)
    during = evaluate(returned, Q4)  # a reader: no lock, one snapshot
    archived = archive_quarter(returned, Q4)  # a writer: waits for the ingest
    runner.join()
    assert during.records == {}  # the state before the settle, not half of it
    with zipfile.ZipFile(archived.path) as opened:
        manifest = json.loads(opened.read("manifest.json"))
    outcomes = {m["outcome"] for m in manifest["members"] if "outcome" in m}
    assert outcomes == {"accepted"}
    assert sum(r["outcome"] != "未交" for r in manifest["results"]) == 16


def _cli(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "-w", str(root), *args],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_two_generates_and_two_ingests_at_once(tmp_path: Path) -> None:
    """Two generates once made one fail on the other's staging folder; now the second waits."""
    workspace = init_workspace(tmp_path / "ws").workspace
    both = [_cli(workspace.root, "generate", "-p", "2026Q4") for _ in range(2)]
    for process in both:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert len(list(workspace.blank_dir(Q4).glob("*/*.docx"))) == 16
    assert not [p for p in workspace.outbox.rglob("*") if atomic.TEMP_MARK in p.name]

    for blank in sorted(workspace.blank_dir(Q4).glob("*/*.docx")):
        (workspace.inbox / blank.name).write_bytes(fill(blank.read_bytes(), MODEST))
    runs = [_cli(workspace.root, "ingest", "--received-at", "2027-01-05") for _ in range(2)]
    for process in runs:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert len(accepted_records(workspace, Q4)) == 16
    with workspace.ledger() as ledger:
        assert ledger.counts() == {"accepted": 16}


def test_one_bad_file_costs_one_file(returned: Workspace, no_hang: None) -> None:
    """A FIFO, a symlinked folder, a file removed mid-run: each gets its own outcome and the
    run goes on (a FIFO used to hang ingest; a vanished file ended it with exit 1)."""
    inbox = returned.inbox
    os.mkfifo(inbox / "管道.docx")
    elsewhere = returned.root / "别处"
    elsewhere.mkdir()
    (elsewhere / "x.docx").write_bytes(b"x")
    (inbox / "链接的文件夹").symlink_to(elsewhere, target_is_directory=True)
    gone = inbox / "已删除.docx"  # listed, then deleted before it is read
    files = [*sorted(inbox.iterdir()), gone]
    result = ingest(returned, files, received_at=AT)
    by_path = {f.path: f for f in result.files}
    assert by_path["inbox/管道.docx"].outcome == "rejected"
    assert "命名管道" in by_path["inbox/管道.docx"].reason
    assert "快捷方式" in by_path["inbox/链接的文件夹"].reason
    assert "已被移走或删除" in by_path["inbox/已删除.docx"].reason
    assert result.counts["accepted"] == 16
    walked = ingest(returned, received_at=AT)  # the whole inbox: the symlinked folder counts
    assert "inbox/链接的文件夹" in {f.path for f in walked.files}


def test_a_file_name_with_a_newline_is_one_line(
    returned: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    (returned.inbox / "张\n伟.docx").write_bytes(b"not a sheet")
    code, out, _ = kaohe(capsys, "-w", str(returned.root), "ingest", "--received-at", "2027-01-05")
    assert code == 0
    [line] = [line for line in out.splitlines() if "伟.docx" in line]
    assert "张\\n伟.docx" in line


def _dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_leftovers_of_a_killed_run_go_with_the_next_command(
    returned: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = returned.period_dir(Q4) / "archive"
    folder.mkdir(parents=True)
    dead = folder / f".2026Q4_平时考核归档.zip{atomic.TEMP_MARK}{_dead_pid()}-0a1b2c3d"
    dead.write_bytes(b"\0" * 1000)
    alive = folder / f".other.zip{atomic.TEMP_MARK}{os.getppid()}-0a1b2c3d"  # a live process
    alive.write_bytes(b"\0")
    code, _, _ = kaohe(capsys, "-w", str(returned.root), "status", "-p", "2026Q4")
    assert code == 0
    assert not dead.exists() and alive.exists()


def test_temporary_output_is_private_while_written(tmp_path: Path) -> None:
    with atomic.atomic_path(tmp_path / "out.zip") as tmp, zipfile.ZipFile(tmp, "w") as archive:
        archive.writestr("a", b"a")
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "out.zip").stat().st_mode) == 0o600


def test_init_keeps_records_owner_only(tmp_path: Path) -> None:
    workspace = init_workspace(tmp_path / "ws").workspace
    assert stat.S_IMODE(workspace.inbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(workspace.outbox.stat().st_mode) == 0o700


def test_killed_archive_leaves_nothing_behind(returned: Workspace) -> None:
    """SIGKILL mid-archive, then any command: the temp file is gone."""
    ingest(returned, received_at=AT)
    for index in range(60):  # enough bytes that the archive takes a moment
        (returned.inbox / f"附件{index}.docx").write_bytes(os.urandom(200_000))
    ingest(returned, received_at=AT)
    process = _cli(returned.root, "archive", "-p", "2026Q4")
    folder = returned.period_dir(Q4) / "archive"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if folder.is_dir() and any(atomic.TEMP_MARK in p.name for p in folder.iterdir()):
            break
        time.sleep(0.005)
    process.kill()
    process.communicate()
    status = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "-w", str(returned.root), "status", "-p", "2026Q4"],
        env=ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert not [p for p in folder.iterdir() if atomic.TEMP_MARK in p.name]


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_ledger_comes_back_from_its_backup(
    workspace: Workspace, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = ("-w", str(workspace.root))
    _returns(workspace, ["0001", "0002"])
    assert kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")[0] == 0
    _returns(workspace, ["0001", "0002", "0003"])
    assert kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")[0] == 0  # backs up first
    before = kaohe(capsys, *ws, "export", "-p", "2026Q4")[1]
    ledger = workspace.ledger_path
    data = ledger.read_bytes()
    ledger.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"\x07" * len(data))

    code, out, err = kaohe(capsys, *ws, "status", "-p", "2026Q4")
    assert code == 1
    assert "kaohe ledger restore" in err and "程序内部错误" not in err
    assert kaohe(capsys, *ws, "ledger", "check")[0] == 1

    code, out, err = kaohe(capsys, *ws, "ledger", "restore")
    assert code == 0, err
    assert "已从备份" in out
    assert kaohe(capsys, *ws, "ledger", "check")[0] == 0
    assert kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")[0] == 0
    assert kaohe(capsys, *ws, "export", "-p", "2026Q4")[1] == before


def test_the_backup_an_ingest_takes_is_the_ledger_before_it(
    returned: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy is taken beside reading the roster, and is whole before the run writes."""
    import sqlite3

    import pipeline.backups as backups

    monkeypatch.setattr(backups, "MIN_INTERVAL", 0.0)
    first = ingest(returned, received_at=AT)
    with sqlite3.connect(returned.ledger_path) as db:
        before = sorted(db.execute("SELECT path, sha256, outcome FROM files"))
    (returned.inbox / "新来的.docx").write_bytes(b"new")
    ingest(returned, received_at=AT)
    newest = backups.listed(returned.backup_dir)[0]
    with sqlite3.connect(newest) as db:
        copied = sorted(db.execute("SELECT path, sha256, outcome FROM files"))
    assert copied == before and len(before) == len(first.files)
    assert "新来的.docx" not in {path for path, _, _ in copied}


def test_backups_are_kept_few_and_only_when_changed(
    returned: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.backups as backups

    ingest(returned, received_at=AT)
    (returned.inbox / "变化.txt").write_text("x")
    ingest(returned, received_at=AT)
    ingest(returned, received_at=AT)  # changed, but within five minutes of the last copy
    assert len(list(returned.backup_dir.glob("*.sqlite"))) == 1
    monkeypatch.setattr(backups, "MIN_INTERVAL", 0.0)
    for _ in range(8):
        (returned.inbox / f"变化{_}.txt").write_text(str(_))
        ingest(returned, received_at=AT)
    ingest(returned, received_at=AT)  # nothing new after the last backup: no new copy
    copies = sorted(returned.backup_dir.glob("*.sqlite"))
    assert len(copies) == 5
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in copies)


def test_a_full_disk_during_ingest_is_one_line_and_loses_nothing(
    returned: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ("-w", str(returned.root))
    assert kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")[0] == 0
    before = kaohe(capsys, *ws, "export", "-p", "2026Q4")[1]
    (returned.inbox / "新的.docx").write_bytes(b"new")
    from pipeline.ledger import Ledger

    def full(self: Ledger, files: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ledger, "add", full)
    code, _, err = kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "磁盘已满" in err
    monkeypatch.undo()
    assert kaohe(capsys, *ws, "export", "-p", "2026Q4")[1] == before


def test_a_read_only_ledger_still_serves_readers(
    returned: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = ("-w", str(returned.root))
    assert kaohe(capsys, *ws, "ingest", "--received-at", "2027-01-05")[0] == 0
    import pipeline.ledger as ledger_module

    real = os.access
    ledger = str(returned.ledger_path)
    monkeypatch.setattr(
        ledger_module.os, "access", lambda p, m: False if str(p) == ledger else real(p, m)
    )
    code, out, err = kaohe(capsys, *ws, "status", "-p", "2026Q4", "--json")
    assert code == 0, err
    assert json.loads(out)["units"]


def test_text_too_long_for_a_cell_is_cut_in_xlsx_with_a_warning(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    long_text = "认真履职。" * 8000  # 40,000 characters
    entries = dataclasses.replace(MODEST, self_evaluation=long_text)
    (workspace.inbox / "0007.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=AT)
    [record] = accepted_records(workspace, Q4)
    assert len(record.self_evaluation) >= 40_000
    assert [i.field for i in record.issues if i.code == "TEXT_TOO_LONG"] == ["self_evaluation"]
    code, _, _ = kaohe(
        capsys, "-w", str(workspace.root), "export", "-p", "2026Q4", "--format", "xlsx"
    )
    assert code == 0
    [xlsx] = (workspace.period_dir(Q4) / "export").glob("*.xlsx")
    rows = list(load_workbook(xlsx).active.iter_rows(values_only=True))
    cell = rows[1][rows[0].index("本季度自我评价")]
    assert len(cell) == 32767 and cell.endswith("全文见 JSON/CSV 导出）")


def test_settling_only_what_changed_gives_what_settling_everything_gives(
    tmp_path: Path,
) -> None:
    """The workbench settles once per uploaded file, only the people concerned: the same
    outcomes and records as one run over all the files (duplicates, a changed person, junk)."""
    import dataclasses

    one_by_one = init_workspace(tmp_path / "one").workspace
    all_at_once = init_workspace(tmp_path / "all").workspace
    generate(one_by_one, Q4)
    blanks = {p.name[:4]: p.read_bytes() for p in one_by_one.blank_dir(Q4).glob("*/*.docx")}
    files = [
        ("a/0001.docx", fill(blanks["0001"], MODEST), datetime(2027, 1, 4, 9)),
        ("a/0002.docx", fill(blanks["0002"], MODEST), datetime(2027, 1, 4, 10)),
        ("b/0001-again.docx", fill(blanks["0001"], dataclasses.replace(MODEST, late="1")),
         datetime(2027, 1, 5, 9)),
        ("b/junk.docx", b"junk", datetime(2027, 1, 5, 10)),
        ("c/0003.docx", fill(blanks["0003"], MODEST), datetime(2027, 1, 6, 9)),
        ("c/0001-older.docx", fill(blanks["0001"], MODEST), datetime(2027, 1, 3, 9)),
    ]  # fmt: skip
    for name, data, moment in files:
        path = one_by_one.inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        ingest(one_by_one, [path], received_at=moment)
        target = all_at_once.inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        os.utime(target, (moment.timestamp(), moment.timestamp()))
    ingest(all_at_once)

    def state(workspace: Workspace) -> list[tuple[object, ...]]:
        with workspace.ledger() as ledger:
            return [
                (r.path, r.outcome, r.person_id, r.reason, r.issues,
                 {k: v for k, v in (r.record or {}).items() if k != "source"})
                for r in sorted(ledger.iter_rows(), key=lambda r: r.path)
            ]  # fmt: skip

    assert state(one_by_one) == state(all_at_once)
    outcomes = {row[0]: row[1] for row in state(one_by_one)}
    assert outcomes["inbox/b/0001-again.docx"] == "accepted"
    assert outcomes["inbox/a/0001.docx"] == outcomes["inbox/c/0001-older.docx"] == "superseded"
