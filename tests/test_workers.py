"""The reader pool: every task answered once, in order, under its time limit, also with a
second task waiting in each worker's pipe."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from pipeline.workers import TimedPool

pytestmark = pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="workers inherit the test's functions"
)


def _echo(index: int, payload: bytes, how: str, log: str) -> tuple[int, int]:
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(f"{index}\n")
    if how == "hang":
        time.sleep(3600)
    if how == "crash":
        os._exit(139)
    if how == "slow":
        time.sleep(0.02)
    return index, len(payload)


def _failure(reason: str, seconds: float) -> tuple[int, int]:
    return -1, {"timeout": -1, "crash": -2}[reason]


def _runs(log: Path) -> list[int]:
    return sorted(int(line) for line in log.read_text(encoding="utf-8").split())


def test_every_task_is_answered_once_and_in_order(tmp_path: Path) -> None:
    log = tmp_path / "log"
    tasks = [(i, b"x" * (i % 7) * 1000, "slow" if i % 5 == 0 else "", str(log)) for i in range(300)]
    with TimedPool(_echo, 2, 10, _failure) as pool:
        results = list(pool.map(tasks))
    assert results == [(i, (i % 7) * 1000) for i in range(300)]
    assert _runs(log) == list(range(300))


def test_tasks_waiting_behind_a_hung_or_crashed_one_are_run_not_failed(tmp_path: Path) -> None:
    log = tmp_path / "log"
    hows = ["hang", "", "", "crash", "", "hang", ""]
    tasks = [(i, b"x", how, str(log)) for i, how in enumerate(hows)]
    started = time.monotonic()
    with TimedPool(_echo, 1, 0.5, _failure) as pool:
        results = list(pool.map(tasks))
    assert time.monotonic() - started < 10
    assert results == [(-1, -1), (1, 1), (2, 1), (-1, -2), (4, 1), (-1, -1), (6, 1)]
    assert _runs(log) == list(range(7))  # each ran once: none waiting was lost or run twice


def test_a_task_too_large_to_wait_in_a_pipe_is_sent_when_a_worker_is_free(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with TimedPool(_echo, 2, 10, _failure) as pool:
        room = pool.workers[0].room
        big = b"y" * (room + 1 if room else 1 << 20)
        tasks = [(i, big if i % 3 == 0 else b"z", "slow", str(log)) for i in range(30)]
        results = list(pool.map(tasks))
    assert results == [(i, len(big) if i % 3 == 0 else 1) for i in range(30)]
    assert _runs(log) == list(range(30))


def test_a_run_abandoned_midway_leaves_nothing_for_the_next(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with TimedPool(_echo, 2, 10, _failure) as pool:
        first = pool.map([(i, b"a", "slow", str(log)) for i in range(50)])
        assert next(first) == (0, 1)
        first.close()  # the caller stopped reading: tasks are still in the workers' pipes
        again = list(pool.map([(i, b"bb", "", str(log)) for i in range(10)]))
    assert again == [(i, 2) for i in range(10)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="socket pipes")
def test_a_word_return_can_wait_in_a_busy_workers_pipe() -> None:
    """What keeps two readers busy: a ~40 KB return is sent while the worker still reads the
    one before (the pipe's send buffer holds it without blocking)."""
    with TimedPool(_echo, 1, 10, _failure) as pool:
        assert pool.workers[0].room >= 64 * 1024
