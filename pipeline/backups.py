"""Automatic backups of the ledger, and going back to one.

A copy is taken (SQLite's online backup, consistent while others read) before every ingest
and before a schema migration, into ``台账备份/`` in the workspace; the newest few are kept.
No copy is taken when the ledger has not changed since the newest one. ``restore`` puts the
newest sound copy (or a named one) back and keeps the damaged file beside the backups.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import KaoheError
from .ledger import check_file, copy_database
from .writers.atomic import FILE_MODE, private_dir, temp_sibling

BACKUP_DIR = "台账备份"
KEEP = 5
#: At most one copy in this many seconds.
MIN_INTERVAL = 300.0
_PREFIX = "kaohe-"
_COMPANIONS = ("-wal", "-shm")


def listed(folder: Path) -> list[Path]:
    """Backups in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{_PREFIX}*.sqlite"), key=lambda p: p.name, reverse=True)


def _changed_at(ledger: Path) -> float:
    times = [ledger.stat().st_mtime]
    for suffix in _COMPANIONS[:1]:
        companion = ledger.with_name(ledger.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            times.append(companion.stat().st_mtime)
    return max(times)


def back_up(
    ledger: Path, folder: Path, *, keep: int = KEEP, every: float | None = None
) -> Path | None:
    """Copy ``ledger`` into ``folder`` unless the newest copy is as recent, or younger than
    ``every`` seconds (the workbench ingests once per uploaded file; what came in since the
    last copy is still in the inbox and is registered again after a restore); prune to
    ``keep``. Returns the copy that now stands for the ledger (None if there is no ledger)."""
    if not ledger.is_file():
        return None
    found = listed(folder)
    every = MIN_INTERVAL if every is None else every
    if found:
        newest = found[0].stat().st_mtime
        if newest >= _changed_at(ledger) or time.time() - newest < every:
            return found[0]
    private_dir(folder)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{_PREFIX}{stamp}.sqlite"
    tmp = temp_sibling(target)
    try:
        copy_database(ledger, tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except sqlite3.Error as exc:
        raise KaoheError(
            f"台账 {ledger} 无法备份（{exc}），可能已损坏：请运行 kaohe ledger check 查看，"
            "必要时运行 kaohe ledger restore 从上一次备份恢复"
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    for old in listed(folder)[keep:]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return target


@dataclass(frozen=True)
class Restored:
    backup: Path
    damaged: Path | None  # where the replaced ledger was kept, if there was one
    skipped: list[Path]  # newer backups that were themselves damaged


def restore(ledger: Path, folder: Path, name: str | None = None) -> Restored:
    """Put a sound backup back in place of ``ledger`` (the newest, or the one named)."""
    candidates = listed(folder)
    if name:
        candidates = [p for p in candidates if p.name == name or p.stem == name]
        if not candidates:
            known = "、".join(p.name for p in listed(folder)) or "（没有）"
            raise KaoheError(f"“{BACKUP_DIR}”里没有备份 {name}。现有备份：{known}")
    skipped: list[Path] = []
    for backup in candidates:
        if check_file(backup):
            skipped.append(backup)
            continue
        damaged = None
        if ledger.exists():
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            damaged = folder / f"换下的台账-{stamp}.sqlite"
            os.replace(ledger, damaged)
        for suffix in _COMPANIONS:  # a stale journal must not be replayed onto the backup
            with contextlib.suppress(FileNotFoundError):
                ledger.with_name(ledger.name + suffix).unlink()
        tmp = temp_sibling(ledger)
        copy_database(backup, tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, ledger)
        return Restored(backup, damaged, skipped)
    if not candidates:
        raise KaoheError(
            f"“{BACKUP_DIR}”里还没有台账备份，无法恢复。可以把损坏的 {ledger.name} 改名移走，"
            "再运行 kaohe ingest 重新登记 inbox 中的全部文件（收到时间取文件的修改时间）。"
        )
    raise KaoheError(f"“{BACKUP_DIR}”里的 {len(candidates)} 份备份都无法通过完整性检查，无法恢复")
