"""Benchmark blank-sheet generation against the naive route, measured in the same run.

    python bench/generate.py [--people 10000] [--units 60] [--naive-sample 200]

Each measurement runs in its own child process so its peak memory (max RSS) is its own:
  fast   the real ``generate`` stage (roster read, render once per period, stamp,
         write sheets, unit zips, distribution list) for the whole roster, and
         again for a roster a fifth the size to show memory does not grow with it;
  naive  docxtpl render-and-save per person, on a sample of the roster.
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

from bench.common import peak_rss_mb, run_child, synthetic_rows, write_roster  # noqa: E402


def child_fast(workdir: Path, roster: Path) -> dict[str, float]:
    from pipeline.models import Period
    from pipeline.stages.generate import generate
    from pipeline.workspace import init_workspace

    workspace = init_workspace(workdir).workspace
    started = time.perf_counter()
    result = generate(workspace, Period(year=2026, quarter=4), roster=roster)
    seconds = time.perf_counter() - started
    return {"sheets": len(result.sheets), "seconds": seconds, "peak_mb": peak_rss_mb()}


def child_naive(workdir: Path, roster: Path, sample: int) -> dict[str, float]:
    from docxtpl import DocxTemplate

    from pipeline.models import Period
    from pipeline.roster import read_roster
    from pipeline.template import period_values, person_values
    from pipeline.workspace import shipped_template

    period = Period(year=2026, quarter=4)
    people = read_roster(roster)[:sample]
    out = workdir / "naive"
    out.mkdir(parents=True)
    started = time.perf_counter()
    for person in people:
        document = DocxTemplate(str(shipped_template()))
        document.render({**period_values(period), **person_values(period, person)}, autoescape=True)
        document.save(str(out / f"{person.person_id}.docx"))
    seconds = time.perf_counter() - started
    return {"sheets": len(people), "seconds": seconds, "peak_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, workdir, roster, *rest = args.child
        if kind == "fast":
            result = child_fast(Path(workdir), Path(roster))
        else:
            result = child_naive(Path(workdir), Path(roster), int(rest[0]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="kaohe-bench-") as tmp:
        work = Path(tmp)
        big, small = work / "roster_big.xlsx", work / "roster_small.xlsx"
        write_roster(big, synthetic_rows(args.people, args.units))
        write_roster(small, synthetic_rows(max(args.people // 5, 1), args.units))
        fast = run_child(__file__, "fast", str(work / "ws_big"), str(big))
        fast_small = run_child(__file__, "fast", str(work / "ws_small"), str(small))
        naive = run_child(
            __file__, "naive", str(work / "ws_naive"), str(big), str(args.naive_sample)
        )

    fast_rate = fast["sheets"] / fast["seconds"]
    naive_rate = naive["sheets"] / naive["seconds"]
    lines = [
        f"generate: {int(fast['sheets'])} people in {args.units} units",
        f"  kaohe generate   {fast_rate:8.0f} sheets/s  ({fast['seconds']:.1f} s, "
        f"peak {fast['peak_mb']:.0f} MB)",
        f"  naive docxtpl    {naive_rate:8.1f} sheets/s  (sample of {int(naive['sheets'])}, "
        f"peak {naive['peak_mb']:.0f} MB)",
        f"  speed-up         {fast_rate / naive_rate:8.1f}x",
        f"  memory: {int(fast_small['sheets'])} people peak {fast_small['peak_mb']:.0f} MB, "
        f"{int(fast['sheets'])} people peak {fast['peak_mb']:.0f} MB",
        f"  target >= 500 sheets/s: {'met' if fast_rate >= 500 else 'NOT MET'}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
