"""Benchmark Word ingest against the naive route, measured in the same run.

    python bench/ingest.py [--sheets 10000] [--units 60] [--naive-sample 300]

Builds a roster and ``--sheets`` filled returns (generated sheets with typed content, a
different text per person so every file is its own version), then, each in its own child
process so its peak memory is its own:
  kaohe   the real ``ingest`` stage: hash, read (both cores), attribute, settle, ledger;
          also on a fifth of the files, to show memory does not grow with their number;
  naive   python-docx ``Document()`` per return plus walking its tables for the text.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    children_peak_rss_mb,
    peak_rss_mb,
    run_child,
    synthetic_rows,
    write_roster,
)


def fill_quickly(sheet: bytes, index: int) -> bytes:
    """A filled return with text that differs per person (tests fill with python-docx;
    10,000 of those would dominate the benchmark's set-up)."""
    from pipeline.demo import type_into_blank

    typed = [
        f"1.完成第{index}号企业现场检查；2.办理信访{index % 9}件。",
        "参加业务培训，整理执法案卷。",
        "完成季度总结。",
        "0", "0", "0", str(index % 3),
        "本季度认真履行职责，按时完成任务。",
        "该同志工作认真，完成较好。",
        "同意。",
    ]  # fmt: skip
    return type_into_blank(sheet, typed, grade="较好")


def prepare(work: Path, sheets: int, units: int) -> tuple[Path, Path]:
    from pipeline.models import Period
    from pipeline.stages.generate import generate
    from pipeline.workspace import init_workspace

    roster = work / "roster.xlsx"
    write_roster(roster, synthetic_rows(sheets, units))
    workspace = init_workspace(work / "seed").workspace
    period = Period(year=2026, quarter=4)
    generate(workspace, period, roster=roster)
    inbox = work / "returns"
    for index, path in enumerate(sorted(workspace.blank_dir(period).glob("*/*.docx"))):
        target = inbox / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(fill_quickly(path.read_bytes(), index))
    return roster, inbox


def child_kaohe(work: Path, roster: Path, inbox: Path, limit: int) -> dict[str, float]:
    import shutil
    from datetime import datetime

    from pipeline.stages.ingest import ingest
    from pipeline.workspace import init_workspace

    workspace = init_workspace(work).workspace
    files = sorted(inbox.rglob("*.docx"))[:limit]
    for path in files:
        target = workspace.inbox / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    started = time.perf_counter()
    result = ingest(workspace, roster=roster, received_at=datetime(2027, 1, 5, 10))
    seconds = time.perf_counter() - started
    return {
        "sheets": len(result.files),
        "accepted": result.counts["accepted"],
        "seconds": seconds,
        "peak_mb": peak_rss_mb(),
        "worker_peak_mb": children_peak_rss_mb(),
    }


def child_naive(inbox: Path, sample: int) -> dict[str, float]:
    import docx

    files = sorted(inbox.rglob("*.docx"))[:sample]
    started = time.perf_counter()
    for path in files:
        document = docx.Document(str(path))
        for table in document.tables:
            for row in table.rows:
                for cell in row.cells:
                    _ = cell.text
    seconds = time.perf_counter() - started
    return {"sheets": len(files), "seconds": seconds, "peak_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sheets", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "kaohe":
            result = child_kaohe(Path(rest[0]), Path(rest[1]), Path(rest[2]), int(rest[3]))
        else:
            result = child_naive(Path(rest[0]), int(rest[1]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="kaohe-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        roster, inbox = prepare(work, args.sheets, args.units)
        setup = time.perf_counter() - started
        common = (str(roster), str(inbox))
        full = run_child(__file__, "kaohe", str(work / "ws_full"), *common, str(args.sheets))
        small = run_child(__file__, "kaohe", str(work / "ws_small"), *common, str(args.sheets // 5))
        naive = run_child(__file__, "naive", str(inbox), str(args.naive_sample))

    rate = full["sheets"] / full["seconds"]
    naive_rate = naive["sheets"] / naive["seconds"]
    print(
        "\n".join(
            [
                f"ingest: {int(full['sheets'])} filled .docx returns (set-up {setup:.0f} s)",
                f"  kaohe ingest        {rate:8.0f} sheets/s  ({full['seconds']:.1f} s, "
                f"{int(full['accepted'])} accepted, peak {full['peak_mb']:.0f} MB "
                f"+ {full['worker_peak_mb']:.0f} MB per reader process)",
                f"  naive python-docx   {naive_rate:8.1f} sheets/s  "
                f"(sample of {int(naive['sheets'])}, peak {naive['peak_mb']:.0f} MB)",
                f"  speed-up            {rate / naive_rate:8.1f}x",
                f"  memory: {int(small['sheets'])} files peak {small['peak_mb']:.0f} MB, "
                f"{int(full['sheets'])} files peak {full['peak_mb']:.0f} MB",
                f"  target >= 800 sheets/s and >= 12x: "
                f"{'met' if rate >= 800 and rate / naive_rate >= 12 else 'NOT MET'}",
            ]
        )
    )


if __name__ == "__main__":
    main()
