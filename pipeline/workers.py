"""Worker processes for reading untrusted files, each read under a time limit.

A file that makes a parser loop or crash (pdfminer on a malformed PDF, a C library on a
corrupt image) must not stop the run. ``concurrent.futures`` cannot kill one stuck task,
so each worker here is its own process on its own pipe: one that overruns its time limit
or dies is killed, replaced, and its file gets a failure result; the run goes on.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

#: How worker processes start. The command line forks (fast; nothing else runs then). A
#: process with other threads running (the workbench's server) must not fork — a child can
#: inherit a lock another thread held and hang — so it switches to "forkserver".
START_METHOD: str | None = None


T = TypeVar("T")
_PR_SET_PDEATHSIG = 1
R = TypeVar("R")


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this worker when its parent dies (Linux), so a killed run
    leaves no reader behind; elsewhere the closed pipe ends the loop."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent and os.getppid() != parent:  # the parent died before the request took effect
        os._exit(0)


def _serve(function: Callable[..., Any], connection: Connection, parent: int) -> None:
    """A worker's loop: receive (sequence, arguments), send (sequence, result) back."""
    _die_with_parent(parent)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        sequence, arguments = task
        connection.send((sequence, function(*arguments)))


@dataclass
class _Worker:
    process: Any
    connection: Connection
    task: int | None = None
    started: float = 0.0
    limit: float = 0.0


class TimedPool(Generic[R]):
    """Runs ``function(*arguments)`` in ``processes`` worker processes, results in input order.

    ``on_failure(reason, seconds)`` builds the result for a task whose worker overran its
    time limit (reason ``"timeout"``) or died (reason ``"crash"``). A task's limit is
    ``timeout``, or ``limit_of(arguments)`` when given (a scanned stack takes longer than a
    Word file).
    """

    def __init__(
        self,
        function: Callable[..., R],
        processes: int,
        timeout: float,
        on_failure: Callable[[str, float], R],
        limit_of: Callable[[tuple[Any, ...]], float] | None = None,
    ) -> None:
        self.function = function
        self.timeout = timeout
        self.limit_of = limit_of
        self.on_failure = on_failure
        self.context: Any = multiprocessing.get_context(START_METHOD)
        self.workers = [self._start() for _ in range(max(processes, 1))]

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve,
            # a forked worker's parent is this process; a forkserver's child's is the server
            args=(
                self.function,
                child,
                os.getpid() if self.context.get_start_method() == "fork" else 0,
            ),
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def _replace(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.join()
        worker.connection.close()
        self.workers[self.workers.index(worker)] = self._start()

    def map(self, tasks: Iterable[tuple[Any, ...]]) -> Iterator[R]:
        """Results of ``tasks`` in order; few tasks are in flight at once (flat memory)."""
        pending = iter(enumerate(tasks))
        done: dict[int, R] = {}
        next_out = 0
        exhausted = False
        while True:
            for worker in self.workers:
                if worker.task is None and not exhausted:
                    item = next(pending, None)
                    if item is None:
                        exhausted = True
                        break
                    sequence, arguments = item
                    worker.connection.send((sequence, arguments))
                    worker.task, worker.started = sequence, time.monotonic()
                    worker.limit = self.limit_of(arguments) if self.limit_of else self.timeout
            busy = [w for w in self.workers if w.task is not None]
            if not busy:
                break
            deadline = min(w.started + w.limit for w in busy)
            ready = wait([w.connection for w in busy], timeout=max(deadline - time.monotonic(), 0))
            for worker in busy:
                if worker.connection in ready:
                    try:
                        sequence, result = worker.connection.recv()
                    except (EOFError, OSError):
                        assert worker.task is not None
                        done[worker.task] = self.on_failure("crash", worker.limit)
                        self._replace(worker)
                        continue
                    done[sequence] = result
                    worker.task = None
                elif time.monotonic() - worker.started >= worker.limit:
                    assert worker.task is not None
                    done[worker.task] = self.on_failure("timeout", worker.limit)
                    self._replace(worker)
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
        while next_out in done:
            yield done.pop(next_out)
            next_out += 1

    def close(self) -> None:
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self.workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
            worker.connection.close()

    def __enter__(self) -> TimedPool[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Pools kept between runs by a long-lived process (the workbench ingests once per upload:
#: starting readers each time would cost more than reading). Runs are one at a time (the
#: workspace's writer lock), so one pool serves them all.
_WARM: dict[tuple[Any, int, float], TimedPool[Any]] = {}
KEEP_WARM = False


@contextlib.contextmanager
def reader_pool(
    function: Callable[..., R],
    processes: int,
    timeout: float,
    on_failure: Callable[[str, float], R],
    limit_of: Callable[[tuple[Any, ...]], float] | None = None,
) -> Iterator[TimedPool[R]]:
    """A pool for one run: fresh (and closed after), or kept warm when ``KEEP_WARM``."""
    if not KEEP_WARM:
        with TimedPool(function, processes, timeout, on_failure, limit_of) as pool:
            yield pool
        return
    key = (function, processes, timeout)
    warm: TimedPool[Any] | None = _WARM.get(key)
    if warm is None:
        warm = _WARM[key] = TimedPool(function, processes, timeout, on_failure, limit_of)
    warm.on_failure = on_failure
    warm.limit_of = limit_of
    yield warm


def use_start_method(method: str, *, keep_warm: bool = False) -> None:
    """How worker processes start from now on, and whether pools outlive a run."""
    global START_METHOD, KEEP_WARM
    START_METHOD, KEEP_WARM = method, keep_warm


def reset() -> None:
    """Back to the command line's way (fork, a pool per run), closing any warm pools."""
    global START_METHOD, KEEP_WARM
    for pool in _WARM.values():
        pool.close()
    _WARM.clear()
    START_METHOD, KEEP_WARM = None, False
