"""Looking after the ledger: check it, and go back to an automatic backup when it is damaged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import backups
from ..errors import KaoheError
from ..ledger import check_file
from ..workspace import Workspace, writes


@dataclass(frozen=True)
class Health:
    problems: list[str]  # [] when sound
    counts: dict[str, int]
    backups: list[Path]  # newest first


def check(workspace: Workspace) -> Health:
    """SQLite's integrity check of the ledger, what it holds, and the backups there are."""
    if not workspace.has_ledger():
        raise KaoheError("还没有台账（kaohe.sqlite）：先运行 kaohe ingest")
    problems = check_file(workspace.ledger_path)
    counts: dict[str, int] = {}
    if not problems:
        with workspace.ledger() as ledger:
            counts = ledger.counts()
    return Health(problems, counts, backups.listed(workspace.backup_dir))


@writes("恢复台账")
def restore(workspace: Workspace, name: str | None = None) -> backups.Restored:
    return backups.restore(workspace.ledger_path, workspace.backup_dir, name)
