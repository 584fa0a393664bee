"""What the benchmarks share: a synthetic roster, and measuring in child processes."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from openpyxl import Workbook

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
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def peak_rss_mb() -> float:
    """This process's peak resident memory."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of this process's finished children."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_child(script: str, *args: str) -> dict[str, float]:
    """Run ``script --child args`` in a fresh process; it prints its measurements as JSON."""
    output = subprocess.run(
        [sys.executable, script, "--child", *args], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result
