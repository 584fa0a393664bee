"""ingest and export through the command line, and an ingest killed part-way then re-run."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.workspace import Workspace, init_workspace

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.fixture
def returned(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    for person_id, name in (("0007", "执法队/张伟.docx"), ("0002", "李娜.docx")):
        [path] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        target = workspace.inbox / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fill(path.read_bytes(), MODEST))
    (workspace.inbox / "扫描件.jpg").write_bytes(b"\xff\xd8\xff\xe0 photo of a sheet")
    (workspace.inbox / "~$李娜.docx").write_bytes(b"lock")
    return workspace


def test_ingest_prints_one_line_per_file_and_the_four_numbers(
    returned: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = kaohe(
        capsys, "-w", str(returned.root), "ingest", "--received-at", "2027-01-05T10:00"
    )
    assert code == 0, err
    assert out.splitlines() == [
        "接收  inbox/执法队/张伟.docx → 0007 张伟（综合行政执法队）2026Q4",
        "拒收  inbox/扫描件.jpg：UNREADABLE_FILE 图片已损坏，或不是能识别的图片格式",
        "接收  inbox/李娜.docx → 0002 李娜（城区分局）2026Q4",
        "共 4 个文件：接收 2，被替代 0，拒收 1，跳过 1",
    ]


def test_export_json_is_only_the_array(
    returned: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    kaohe(capsys, "-w", str(returned.root), "ingest", "--received-at", "2027-01-05T10:00")
    code, out, _ = kaohe(
        capsys, "-w", str(returned.root), "export", "--period", "2026Q4", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert [r["person_id"] for r in data] == ["0002", "0007"]
    assert list(data[0]) == [
        "person_id", "name", "gender", "unit", "position", "duties", "period", "monthly_records",
        "attendance", "self_evaluation", "signature_date", "leader_opinion", "grade",
        "grade_on_sheet", "appeal", "review_opinion", "status", "source", "issues",
    ]  # fmt: skip
    assert list(data[0]["attendance"]) == ["late", "early_leave", "absent", "leave_days"]
    assert list(data[0]["source"]) == ["path", "sha256", "format", "received_at"]


def test_export_csv_and_xlsx(
    returned: Workspace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    kaohe(capsys, "-w", str(returned.root), "ingest", "--received-at", "2027-01-05T10:00")
    target = tmp_path / "out.csv"
    code, _, _ = kaohe(
        capsys,
        "-w",
        str(returned.root),
        "export",
        "-p",
        "2026Q4",
        "--format",
        "csv",
        "-o",
        str(target),
    )
    assert code == 0
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Chinese
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "姓名", "性别", "单位"]
    assert rows[2][:2] == ["0007", "张伟"] and rows[2][17] == "较好"
    code, out, _ = kaohe(
        capsys, "-w", str(returned.root), "export", "-p", "2026Q4", "--format", "xlsx"
    )
    book = load_workbook(returned.root / "outbox/2026Q4/export/记实表数据_2026Q4.xlsx")
    sheet = book.active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["编号", "姓名", "性别"]
    assert sheet["A3"].value == "0007" and sheet["R3"].value == "较好"
    assert out.strip() == f"已导出：{returned.root / 'outbox/2026Q4/export/记实表数据_2026Q4.xlsx'}"


def _state(root: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(root / "kaohe.sqlite") as db:
        return list(
            db.execute(
                "SELECT path, sha256, received_at, outcome, reason, record FROM files ORDER BY path, sha256"
            )
        )


def _inbox(root: Path, sheets: dict[str, bytes], count: int) -> None:
    ids = sorted(sheets)
    for index in range(count):
        path = root / "inbox" / f"单位{index % 5}" / f"{index:03d}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = sheets[ids[index % len(ids)]]
        # vary the content so each file is its own version, as real returns are
        path.write_bytes(data if index < len(ids) else data + b"\0" * (index % 7))
        os.utime(path, (1_800_000_000 + index, 1_800_000_000 + index))


def test_ingest_killed_at_random_points_then_rerun_equals_one_clean_run(tmp_path: Path) -> None:
    """20 SIGKILLs at random moments over a 200-file inbox, then one clean run: the ledger,
    the export and the archive equal those of a single uninterrupted run, byte for byte."""
    from pipeline.flows import archive_quarter
    from pipeline.stages.export import accepted_records, render

    template_ws = init_workspace(tmp_path / "seed").workspace
    generate(template_ws, Q4)
    sheets = {
        p.name[:4]: fill(p.read_bytes(), MODEST)
        for p in sorted(template_ws.blank_dir(Q4).glob("*/*.docx"))
    }
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def command(root: Path) -> list[str]:
        return [sys.executable, "-m", "pipeline.cli", "-w", str(root), "ingest", "-p", "2026Q4"]

    def outputs(workspace: Workspace) -> tuple[object, ...]:
        exported = render(accepted_records(workspace, Q4), "json", Q4)
        archive = archive_quarter(workspace, Q4).path.read_bytes()
        return _state(workspace.root), exported, archive

    clean = init_workspace(tmp_path / "clean").workspace
    generate(clean, Q4)
    _inbox(clean.root, sheets, 200)
    subprocess.run(command(clean.root), check=True, env=env, capture_output=True)
    expected = outputs(clean)
    assert len(expected[0]) == 200  # type: ignore[arg-type]

    killed = init_workspace(tmp_path / "killed").workspace
    generate(killed, Q4)
    _inbox(killed.root, sheets, 200)
    rng = random.Random(7)
    for _ in range(20):
        process = subprocess.Popen(
            command(killed.root), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.05, 1.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    if Path("/proc").is_dir():  # a killed ingest's reader processes die with it
        deadline = time.monotonic() + 5
        while _left_behind(killed.root) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _left_behind(killed.root) == []
    subprocess.run(command(killed.root), check=True, env=env, capture_output=True)
    assert outputs(killed) == expected


def _left_behind(root: Path) -> list[str]:
    """Processes still running with ``root`` on their command line (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(root) in line:
            found.append(f"{entry.name}: {line.strip()}")
    return found
