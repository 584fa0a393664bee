"""One writer at a time per workspace.

Every command that changes the ledger or the outbox (ingest, generate, report, archive,
review import, appeals, feedback, annual, the workbench's writers) holds the workspace's
lock while it runs. A second writer waits, saying which command holds it, and gives up with a
clear message after a time limit. Readers (status, export, explain) take no lock: the
ledger gives them a consistent snapshot.

The lock is an OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) on
``.kaohe.lock`` in the workspace: the OS releases it when its process ends, however it
ends, so a killed run never leaves a stale lock. Within one process it is re-entrant (a
flow that runs several stages takes it once) and it also serialises threads.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import KaoheError

LOCK_NAME = ".kaohe.lock"
POLL_SECONDS = 0.2


@dataclass
class _Held:
    lock: threading.RLock
    depth: int = 0
    descriptor: int | None = None


_HELD: dict[str, _Held] = {}
_GUARD = threading.Lock()


def _forget_in_child() -> None:
    """A forked child (a reader worker) must not keep the parent's lock alive: close its copy
    of each lock descriptor. Never unlock here: that would release the parent's lock."""
    global _GUARD
    _GUARD = threading.Lock()
    for held in _HELD.values():
        if held.descriptor is not None:
            with contextlib.suppress(OSError):
                os.close(held.descriptor)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def _try_lock(descriptor: int) -> bool:
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(descriptor: int) -> None:
    if os.name == "nt":  # pragma: no cover
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(descriptor, 0, os.SEEK_SET)
            msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    import fcntl

    fcntl.flock(descriptor, fcntl.LOCK_UN)


def holder(root: Path) -> str:
    """What the lock's holder wrote about itself (its command, process and start), or ""."""
    try:
        return (root / LOCK_NAME).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


@contextlib.contextmanager
def writing(
    root: Path,
    what: str,
    *,
    wait_seconds: float = 600,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the workspace's writer lock for ``what`` (e.g. "回收"); wait up to
    ``wait_seconds`` for another holder, telling ``on_wait`` once that it waits."""
    key = str(root.resolve())
    with _GUARD:
        held = _HELD.setdefault(key, _Held(threading.RLock()))
    if not held.lock.acquire(timeout=wait_seconds):
        raise KaoheError(_busy(root, wait_seconds))
    try:
        if held.depth == 0:
            held.descriptor = _acquire(root, what, wait_seconds, on_wait)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.descriptor is not None:
                _release(held.descriptor)
                held.descriptor = None
    finally:
        held.lock.release()


def _acquire(
    root: Path, what: str, wait_seconds: float, on_wait: Callable[[str], None] | None
) -> int:
    path = root / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_seconds
    told = False
    while not _try_lock(descriptor):
        if time.monotonic() >= deadline:
            os.close(descriptor)
            raise KaoheError(_busy(root, wait_seconds))
        if not told and on_wait is not None:
            on_wait(f"另一个 kaohe 正在{_doing(root)}，等待它结束……")
            told = True
        time.sleep(POLL_SECONDS)
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    os.ftruncate(descriptor, 0)
    os.lseek(descriptor, 0, os.SEEK_SET)
    os.write(descriptor, f"{what}（进程 {os.getpid()}，{started} 开始）\n".encode())
    return descriptor


def _release(descriptor: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(descriptor, 0)
    _unlock(descriptor)
    os.close(descriptor)


def _doing(root: Path) -> str:
    return holder(root) or "处理这个工作区"


def _busy(root: Path, wait_seconds: float) -> str:
    return (
        f"另一个 kaohe 正在{_doing(root)}，已等待 {wait_seconds:g} 秒仍未结束。"
        "请等它完成后再运行（同一工作区同时只能有一个写入的命令）。"
    )
