"""Load test of the workbench, loopback only and bounded: 20 unit liaisons upload 50 returns
each at the same time (one request per file, as the page does) while HR keeps refreshing the
progress page. Checks every file is accounted for (in the ledger, and in the page's counts)
and reports upload and page times (median, p95), with the same files ingested in one batch
from the command line as the baseline of the same run.

    python bench/workbench.py [--units 20] [--per-unit 50]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import synthetic_rows, write_roster  # noqa: E402
from bench.ingest import fill_quickly  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)] if ordered else 0.0


def main() -> None:
    import httpx

    from pipeline.models import Period
    from pipeline.stages.generate import generate
    from pipeline.stages.ingest import ingest
    from pipeline.web.store import WebStore
    from pipeline.workspace import init_workspace
    from tests.webserver import serving

    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--per-unit", type=int, default=50)
    options = parser.parse_args()
    people = options.units * options.per_unit
    period = Period(year=2026, quarter=4)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        workspace = init_workspace(work / "ws").workspace
        write_roster(workspace.roster_path, synthetic_rows(people, options.units))
        generate(workspace, period)
        returns: dict[str, list[tuple[str, bytes]]] = {}
        for index, blank in enumerate(sorted(workspace.blank_dir(period).glob("*/*.docx"))):
            returns.setdefault(blank.parent.name, []).append(
                (blank.name, fill_quickly(blank.read_bytes(), index))
            )
        # baseline: the same files in one command-line batch, in a second workspace
        batch = init_workspace(work / "batch").workspace
        write_roster(batch.roster_path, synthetic_rows(people, options.units))
        for unit, files in returns.items():
            for name, data in files:
                (batch.inbox / unit).mkdir(exist_ok=True)
                (batch.inbox / unit / name).write_bytes(data)
        started = time.perf_counter()
        ingest(batch)
        batch_seconds = time.perf_counter() - started

        store = WebStore(workspace.root)
        store.set_password("bench-password")
        tokens = {
            unit: store.create_link(unit, period.code, workspace.deadline(period).day)[1]
            for unit in returns
        }
        upload_times: list[float] = []
        page_times: list[float] = []
        failures: list[str] = []
        done = threading.Event()
        with serving(workspace) as base:

            def liaison(unit: str) -> None:
                with httpx.Client(base_url=base, timeout=120) as client:
                    page = client.get(f"/u/{tokens[unit]}")
                    csrf = re.search(r'data-csrf="([^"]+)"', page.text)
                    assert csrf is not None
                    for name, data in returns[unit]:
                        start = time.perf_counter()
                        response = client.post(
                            f"/u/{tokens[unit]}/upload",
                            data={"csrf": csrf.group(1)},
                            files={"file": (name, data)},
                        )
                        upload_times.append(time.perf_counter() - start)
                        lines = response.json().get("lines", [])
                        if response.status_code != 200 or [x["word"] for x in lines] != ["接收"]:
                            failures.append(f"{name}: {response.status_code} {response.text[:400]}")

            def hr() -> None:
                with httpx.Client(base_url=base, timeout=120) as client:
                    client.post("/login", data={"password": "bench-password"})
                    while not done.is_set():
                        start = time.perf_counter()
                        assert client.get(f"/?period={period.code}").status_code == 200
                        page_times.append(time.perf_counter() - start)
                        time.sleep(0.2)

            watcher = threading.Thread(target=hr)
            watcher.start()
            started = time.perf_counter()
            workers = [threading.Thread(target=liaison, args=(u,)) for u in returns]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            wall = time.perf_counter() - started
            done.set()
            watcher.join()
            with httpx.Client(base_url=base) as client:
                client.post("/login", data={"password": "bench-password"})
                final = client.get(f"/?period={period.code}").text
        with workspace.ledger() as ledger:
            counts = ledger.counts()
    progress = final.split("各单位进度")[1].split("</table>")[0]
    returned = sum(
        int(re.findall(r"<td[^>]*>(\d+)</td>", row)[1])
        for row in progress.split("<tr>")[2:]  # header, then one row per unit
    )
    print(
        f"工作台负载：{len(returns)} 个单位同时上传，每单位 {options.per_unit} 份，共 {people} 份"
    )
    print(
        f"  全部用时 {wall:.1f} s（{people / wall:.1f} 份/秒）；同一批文件命令行一次 ingest {batch_seconds:.1f} s"
    )
    print(
        f"  每次上传：中位 {statistics.median(upload_times) * 1000:.0f} ms，p95 {p95(upload_times) * 1000:.0f} ms"
    )
    print(
        f"  进度页（{len(page_times)} 次刷新）：中位 {statistics.median(page_times) * 1000:.0f} ms，p95 {p95(page_times) * 1000:.0f} ms"
    )
    print(f"  台账：{counts}；进度页“已交”合计 {returned}；出错 {len(failures)}")
    assert not failures, failures[:5]
    assert counts == {"accepted": people} and returned == people


if __name__ == "__main__":
    main()
