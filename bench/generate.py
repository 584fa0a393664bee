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
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅"
POSITIONS = ("一级科员", "二级科员", "四级主任科员", "三级主任科员", "科长", "副科长")


def synthetic_rows(people: int, units: int) -> list[list[str]]:
    unit_names = [f"第{i + 1:02d}分局" if i % 3 else f"第{i + 1:02d}科室" for i in range(units)]
    rows = [["编号", "姓名", "性别", "单位", "职务", "从事或分管工作", "分管领导", "挂职单位"]]
    for i in range(people):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)]
        if i % 5 == 0:
            name += GIVEN[(i // 3) % len(GIVEN)]
        unit = unit_names[i % units]
        host = unit_names[(i + 1) % units] if i % 97 == 0 else ""
        rows.append(
            [
                f"{i + 1:05d}",
                name,
                "男" if i % 2 else "女",
                unit,
                POSITIONS[i % len(POSITIONS)],
                "环境监管与执法检查",
                f"领导{i % 7}",
                host,
            ]
        )
    return rows


def write_roster(path: Path, rows: list[list[str]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def run_child(*args: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


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
        fast = run_child("fast", str(work / "ws_big"), str(big))
        fast_small = run_child("fast", str(work / "ws_small"), str(small))
        naive = run_child("naive", str(work / "ws_naive"), str(big), str(args.naive_sample))

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
