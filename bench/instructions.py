"""Instructions per Word return read, counted by callgrind.

    python bench/instructions.py [--sheets 300]

This machine's speed moves by a quarter or more from one minute to the next, so timings
cannot tell a 5% change from noise; the number of instructions the reader executes can.
Builds ``--sheets`` + 100 filled returns (as ``bench/ingest.py`` does), then reads them with
the reader ingest's workers run (``read_task_encoded``) in two child processes under
``valgrind --tool=callgrind``: one reads the 100 warm-up returns only, one the warm-up and
the sheets. The difference per sheet is the reading's own cost (imports, start-up and the
first parse of a template's list definitions fall out). Needs valgrind (``apt install
valgrind``); about a minute and a half.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WARM_UP = 100
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def child(inbox: Path, count: int) -> None:
    from pipeline.readers.limits import DEFAULT_LIMITS
    from pipeline.readers.reading import read_task_encoded

    files = sorted(inbox.rglob("*.docx"))
    returns = [(str(p), p.read_bytes()) for p in files[: WARM_UP + count]]
    for name, data in returns:
        read_task_encoded(name, data, None, None, DEFAULT_LIMITS)


def instructions(inbox: Path, count: int) -> int:
    done = subprocess.run(
        [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            sys.executable, __file__, "--child", str(inbox), str(count),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = _COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheets", type=int, default=300)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(Path(options.child[0]), int(options.child[1]))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("需要 valgrind（apt install valgrind）")
    from bench.ingest import prepare

    with tempfile.TemporaryDirectory() as folder:
        _, inbox = prepare(Path(folder), options.sheets + WARM_UP, 4)
        base = instructions(inbox, 0)
        total = instructions(inbox, options.sheets)
    per_sheet = (total - base) / options.sheets
    print(
        f"Word reader: {per_sheet / 1e6:.2f} M instructions per return ({options.sheets} returns)"
    )


if __name__ == "__main__":
    main()
