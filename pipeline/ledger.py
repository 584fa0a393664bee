"""The submission ledger (SQLite, ``kaohe.sqlite`` in the workspace): every file version
seen, what was read from it, and what became of it.

A file version is (path, sha256): the same bytes at the same path are one submission,
however often ingest runs. Reading (the costly part) is stored once per version;
attributing and superseding are recomputed from the stored readings in one
transaction, so an interrupted run followed by a clean one ends in the same state
as one clean run.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LEDGER_NAME = "kaohe.sqlite"
SCHEMA_VERSION = 2
#: Steps that bring an older ledger up to date: version reached → statements.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE files ADD COLUMN reader_version INTEGER NOT NULL DEFAULT 0",),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    format TEXT NOT NULL,
    expected_period TEXT,
    raw TEXT,
    read_code TEXT,
    read_message TEXT,
    reader_version INTEGER NOT NULL DEFAULT 0,
    person_id TEXT,
    period TEXT,
    outcome TEXT NOT NULL DEFAULT 'pending',
    reason TEXT NOT NULL DEFAULT '',
    record TEXT,
    issues TEXT NOT NULL DEFAULT '[]',
    UNIQUE (path, sha256)
);
CREATE INDEX IF NOT EXISTS files_by_person ON files (period, person_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (
    source_path TEXT NOT NULL,
    source_sha TEXT NOT NULL,
    review_path TEXT NOT NULL,
    review_sha TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (review_path, review_sha)
);
"""

ACCEPTED, SUPERSEDED, REJECTED, PENDING = "accepted", "superseded", "rejected", "pending"


@dataclass(frozen=True)
class NewFile:
    """A file version as read for the first time."""

    path: str
    sha256: str
    size: int
    received_at: str
    format: str
    expected_period: str | None
    raw: dict[str, object] | None
    read_code: str | None
    read_message: str | None
    reader_version: int


@dataclass(frozen=True)
class FileRow(NewFile):
    """A stored file version and what became of it."""

    id: int
    person_id: str | None
    period: str | None
    outcome: str
    reason: str
    record: dict[str, object] | None
    issues: list[dict[str, str]]


#: (id, person_id, period, outcome, reason, record, issues) of one row.
Outcome = tuple[
    int, str | None, str | None, str, str, dict[str, object] | None, list[dict[str, str]]
]


class Ledger:
    """The workspace's ledger database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        if os.name == "posix":
            os.chmod(path, 0o600)  # every return's content is in here
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        with self.transaction():
            fresh = (
                self.db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'"
                ).fetchone()
                is None
            )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if fresh:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            else:
                self._migrate()

    def _migrate(self) -> None:
        """Bring a ledger written by an older kaohe up to this version (inside a transaction)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 1
        for target in sorted(MIGRATIONS):
            if version < target:
                for statement in MIGRATIONS[target]:
                    self.db.execute(statement)
                version = target
        self.db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(version),)
        )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def reader_version(self, path: str, sha256: str) -> int | None:
        """The reader version that read this file version, or None if never seen."""
        row = self.db.execute(
            "SELECT reader_version FROM files WHERE path = ? AND sha256 = ?", (path, sha256)
        ).fetchone()
        return None if row is None else int(row[0])

    def add(self, files: Sequence[NewFile]) -> None:
        """Record newly read file versions (one transaction for the batch).

        A version read again by a newer reader keeps its received time and expected
        period; only what was read is replaced.
        """
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO files (path, sha256, size, received_at, format,"
                " expected_period, raw, read_code, read_message, reader_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (path, sha256) DO UPDATE SET raw = excluded.raw,"
                " read_code = excluded.read_code, read_message = excluded.read_message,"
                " format = excluded.format, reader_version = excluded.reader_version",
                [
                    (
                        f.path,
                        f.sha256,
                        f.size,
                        f.received_at,
                        f.format,
                        f.expected_period,
                        json.dumps(f.raw, ensure_ascii=False) if f.raw is not None else None,
                        f.read_code,
                        f.read_message,
                        f.reader_version,
                    )
                    for f in files
                ],
            )

    def rows(self, where: str = "", params: Sequence[object] = ()) -> list[FileRow]:
        query = "SELECT * FROM files" + (f" WHERE {where}" if where else "") + " ORDER BY id"
        return [_row(r) for r in self.db.execute(query, tuple(params))]

    def iter_rows(self, chunk: int = 500) -> Iterator[FileRow]:
        """Every row in id order, fetched a chunk at a time (memory stays flat)."""
        last = 0
        while True:
            batch = [
                _row(r)
                for r in self.db.execute(
                    "SELECT * FROM files WHERE id > ? ORDER BY id LIMIT ?", (last, chunk)
                )
            ]
            if not batch:
                return
            yield from batch
            last = batch[-1].id

    def update_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Write (id, person_id, period, outcome, reason, record, issues) rows; call inside
        ``transaction()`` so a whole settlement lands at once."""
        self.db.executemany(
            "UPDATE files SET person_id = ?, period = ?, outcome = ?, reason = ?,"
            " record = ?, issues = ? WHERE id = ?",
            [
                (
                    person_id,
                    period,
                    outcome,
                    reason,
                    json.dumps(record, ensure_ascii=False) if record is not None else None,
                    json.dumps(issues, ensure_ascii=False),
                    row_id,
                )
                for row_id, person_id, period, outcome, reason, record, issues in outcomes
            ],
        )

    def returned_by_period(self, year: int) -> dict[str, set[str]]:
        """Who has an accepted sheet in each quarter of ``year`` that has any (nothing parsed)."""
        found: dict[str, set[str]] = {}
        for period, person_id in self.db.execute(
            "SELECT period, person_id FROM files WHERE outcome = ? AND period LIKE ?",
            (ACCEPTED, f"{year}Q%"),
        ):
            found.setdefault(str(period), set()).add(str(person_id))
        return found

    def outcomes_for(self, paths: Sequence[str]) -> dict[str, sqlite3.Row]:
        """The latest version's outcome of each path (for reporting a run)."""
        found: dict[str, sqlite3.Row] = {}
        for start in range(0, len(paths), 500):
            chunk = list(paths[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                "SELECT path, outcome, person_id, period, reason,"
                " json_extract(record, '$.name') AS name, json_extract(record, '$.unit') AS unit"
                f" FROM files WHERE path IN ({marks}) ORDER BY id",
                chunk,
            ):
                found[row["path"]] = row
        return found


def _row(r: sqlite3.Row) -> FileRow:
    values = {key: r[key] for key in r.keys()}  # noqa: SIM118 - sqlite3.Row has no __iter__ of keys
    for key in ("raw", "record"):
        values[key] = json.loads(values[key]) if values[key] else None
    values["issues"] = json.loads(values["issues"])
    return FileRow(**values)
