"""Atomic output: write under a temporary name in the same folder, then rename.

A crash never leaves a half-written file under its final name; a reader sees
the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

TEMP_MARK = ".kaohe-tmp-"
#: Outputs hold personal data: readable by their owner only (POSIX; Windows ignores modes).
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> None:
    """Create ``path`` and any missing parents as owner-only folders."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)


def temp_sibling(path: Path, *, kind: str = "") -> Path:
    """A hidden, unique temporary path next to ``path`` (same file system, so rename is atomic)."""
    return path.with_name(f".{path.name}{TEMP_MARK}{kind}{os.getpid()}-{secrets.token_hex(4)}")


def write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` atomically; ``durable`` also fsyncs before the rename."""
    private_dir(path.parent)
    tmp = temp_sibling(path)
    try:
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_pieces(path: Path, pieces: Iterable[bytes]) -> None:
    """Write ``pieces`` to ``path`` atomically as they come (a big page is never whole in
    memory); if making a piece fails, ``path`` is left as it was."""
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        for piece in pieces:
            out.write(piece)


@contextlib.contextmanager
def atomic_path(path: Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` only if the block succeeds.
    The temporary file exists already, owner-only, so it is never readable by others even
    while half written (writers that reopen it keep its mode). ``durable`` fsyncs it before
    the rename (a cache, only ever a copy, need not wait for the disk)."""
    private_dir(path.parent)
    tmp = temp_sibling(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def staged_dir(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder that replaces the folder ``final`` as a whole on success.

    Used so a regenerated output folder never mixes old and new files (people who
    left the roster do not keep a stale sheet). Leftovers of a crashed run are
    removed the next time.
    """
    private_dir(final.parent)
    remove_leftovers(final)
    staging = temp_sibling(final, kind="new-")
    staging.mkdir(mode=DIR_MODE)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = temp_sibling(final, kind="old-")
    if final.exists():
        os.replace(final, retired)
    os.replace(staging, final)
    shutil.rmtree(retired, ignore_errors=True)


_OWNER = re.compile(re.escape(TEMP_MARK) + r"(?:new-|old-)?(\d+)-[0-9a-f]+$")


def _abandoned(name: str) -> bool:
    """A temporary name whose process is gone (a killed or crashed run); one of a live
    process, this one included, is still being written."""
    match = _OWNER.search(name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # alive (another user's), or cannot tell: leave it
    return False


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()


def remove_leftovers(final: Path) -> None:
    """Delete temporary siblings of ``final`` left by an interrupted run."""
    prefix = f".{final.name}{TEMP_MARK}"
    if not final.parent.is_dir():
        return
    for entry in final.parent.iterdir():
        if entry.name.startswith(prefix) and _abandoned(entry.name):
            _remove(entry)


def sweep(folders: list[Path], *, deep: list[Path]) -> list[Path]:
    """Remove abandoned temporary files and folders in ``folders`` (their top level) and
    anywhere under ``deep``; return what was removed. Run at the start of every command."""
    removed: list[Path] = []

    def visit(folder: Path) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if TEMP_MARK in entry.name and _abandoned(entry.name):
                _remove(Path(entry.path))
                removed.append(Path(entry.path))

    for folder in folders:
        visit(folder)
    for top in deep:
        for root, dirs, _files in os.walk(top):
            visit(Path(root))
            dirs[:] = [d for d in dirs if TEMP_MARK not in d]
    return removed
