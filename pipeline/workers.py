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
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
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


#: Tasks sent to a worker at once: the one it runs and one waiting in its pipe, so it never
#: waits for this process between two files (see ``_queue_room``).
DEPTH = 2


def _queue_room(connection: Connection) -> int:
    """How large a task may be to wait in a worker's pipe while it is busy: half the socket's
    send buffer. A task that fits is written without blocking, so this process never sits
    in a send while the worker sits in sending its result back. Where the pipe is no socket
    (Windows) nothing waits (0)."""
    try:
        import socket

        with socket.socket(fileno=os.dup(connection.fileno())) as sock:
            return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)) // 2
    except (OSError, ValueError, AttributeError):
        return 0


@dataclass
class _Sent:
    sequence: int
    arguments: tuple[Any, ...]
    limit: float


@dataclass
class _Worker:
    process: Any
    connection: Connection
    room: int = 0
    #: Tasks sent and not answered, oldest first: the first is running.
    sent: deque[_Sent] = field(default_factory=deque)
    started: float = 0.0  # when the running task started

    @property
    def busy(self) -> bool:
        return bool(self.sent)


class TimedPool(Generic[R]):
    """Runs ``function(*arguments)`` in ``processes`` worker processes, results in input order.

    ``on_failure(reason, seconds)`` builds the result for a task whose worker overran its
    time limit (reason ``"timeout"``) or died (reason ``"crash"``). A task's limit is
    ``timeout``, or ``limit_of(arguments)`` when given (a scanned stack takes longer than a
    Word file). A task waiting behind one that killed its worker is sent again to the new
    worker: it was never run.
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
        return _Worker(process, parent, _queue_room(parent))

    def _replace(self, worker: _Worker) -> list[_Sent]:
        """Kill ``worker`` and start another in its place; the tasks that were waiting."""
        worker.process.kill()
        worker.process.join()
        worker.connection.close()
        self.workers[self.workers.index(worker)] = self._start()
        return list(worker.sent)[1:]

    def _send(self, worker: _Worker, task: _Sent, payload: memoryview) -> None:
        if not worker.sent:
            worker.started = time.monotonic()
        worker.connection.send_bytes(payload)
        worker.sent.append(task)

    def map(self, tasks: Iterable[tuple[Any, ...]]) -> Iterator[R]:
        """Results of ``tasks`` in order; few tasks are in flight at once (flat memory)."""
        for worker in list(self.workers):
            if worker.busy:  # left from a run whose caller stopped reading: its results are stale
                self._replace(worker)
        pending = iter(enumerate(tasks))
        again: deque[_Sent] = deque()  # sent to a worker that was killed before running them
        held: tuple[_Sent, memoryview] | None = None  # too large to wait in a busy worker's pipe
        done: dict[int, R] = {}
        next_out = 0
        exhausted = False

        def take() -> tuple[_Sent, memoryview] | None:
            nonlocal exhausted, held
            if held is not None:
                item, held = held, None
                return item
            if again:
                task = again.popleft()
            else:
                if exhausted:
                    return None
                found = next(pending, None)
                if found is None:
                    exhausted = True
                    return None
                sequence, arguments = found
                limit = self.limit_of(arguments) if self.limit_of else self.timeout
                task = _Sent(sequence, arguments, limit)
            return task, ForkingPickler.dumps((task.sequence, task.arguments))

        while True:
            for worker in self.workers:
                while len(worker.sent) < DEPTH:
                    item = take()
                    if item is None:
                        break
                    task, payload = item
                    if worker.busy and len(payload) > worker.room:
                        held = item  # for the next idle worker
                        break
                    self._send(worker, task, payload)
            busy = [w for w in self.workers if w.busy]
            if not busy:
                break
            deadline = min(w.started + w.sent[0].limit for w in busy)
            ready = wait([w.connection for w in busy], timeout=max(deadline - time.monotonic(), 0))
            for worker in busy:
                running = worker.sent[0]
                if worker.connection in ready:
                    try:
                        sequence, result = worker.connection.recv()
                    except (EOFError, OSError):
                        done[running.sequence] = self.on_failure("crash", running.limit)
                        again.extendleft(reversed(self._replace(worker)))
                        continue
                    worker.sent.popleft()
                    worker.started = time.monotonic()
                    done[sequence] = result
                elif time.monotonic() - worker.started >= running.limit:
                    done[running.sequence] = self.on_failure("timeout", running.limit)
                    again.extendleft(reversed(self._replace(worker)))
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
        while next_out in done:
            yield done.pop(next_out)
            next_out += 1

    def map_items(
        self, items: Iterable[T], arguments_of: Callable[[T], tuple[Any, ...]]
    ) -> Iterator[tuple[T, R]]:
        """``map`` over ``arguments_of(item)`` for each item, each result with its item."""
        sent: deque[T] = deque()  # in flight, oldest first (results come in order)

        def tasks() -> Iterator[tuple[Any, ...]]:
            for item in items:
                sent.append(item)
                yield arguments_of(item)

        for result in self.map(tasks()):
            yield sent.popleft(), result

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


#: Shared work (not untrusted reading) goes to worker processes only when a process per core
#: is worth starting: this many cores at the most.
SHARED_PROCESSES = 4


def shared_pool(
    function: Callable[..., R],
    amount: int,
    worth_from: int,
    timeout: float,
    on_failure: Callable[[str, float], R],
    limit_of: Callable[[tuple[Any, ...]], float] | None = None,
) -> TimedPool[R] | None:
    """A pool of forked workers for ``amount`` pieces of work prepared in this process (a
    template, a roster), or None when the work is better done here: fewer pieces than
    ``worth_from``, one core, or workers that would not be forked (they would not inherit
    what this process prepared)."""
    processes = os.cpu_count() or 1
    if not forks() or processes < 2 or amount < worth_from:
        return None
    return TimedPool(function, min(processes, SHARED_PROCESSES), timeout, on_failure, limit_of)


def forks() -> bool:
    """Whether worker processes start by forking this one, inheriting what it has prepared
    (a roster, a rendered template). Elsewhere (the workbench's forkserver, Windows' spawn)
    everything would be pickled to every worker: callers that share much work here instead."""
    return (START_METHOD or multiprocessing.get_start_method()) == "fork"


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
