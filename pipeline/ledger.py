"""The submission ledger (SQLite, ``kaohe.sqlite`` in the workspace): every file version
seen, what was read from it, and what became of it.

A file version is (path, sha256): the same bytes at the same path are one submission,
however often ingest runs. Reading (the costly part) is stored once per version;
attributing and superseding are recomputed from the stored readings in one
transaction, so an interrupted run followed by a clean one ends in the same state
as one clean run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from .errors import KaoheError

LEDGER_NAME = "kaohe.sqlite"
#: How a version entered by hand in the review workbook is named: ``<original>#人工核对``.
REVIEW_SUFFIX = "#人工核对"
#: The n-th of several sheets in one file is stored as ``<file>#n``.
_SHEET = re.compile(r"#(\d+)$")
#: Values in one ``IN (…)`` list (SQLite allows 999 parameters in older builds).
_IN_LIST = 500


def sheet_key(path: str, number: int) -> str:
    return f"{path}#{number}"


def original_path(key: str) -> str:
    """The file a stored version came from: without ``#n`` (its sheet) or ``#人工核对``."""
    return _SHEET.sub("", key.removesuffix(REVIEW_SUFFIX))


def sheet_number(key: str) -> int | None:
    """Which sheet of its file a stored version is (``a.docx#2`` → 2), or None."""
    match = _SHEET.search(key)
    return int(match.group(1)) if match else None


SCHEMA_VERSION = 5
_APPEALS = """
CREATE TABLE IF NOT EXISTS appeals (
    period TEXT NOT NULL,
    person_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    original_grade TEXT,
    decision TEXT,
    new_grade TEXT,
    note TEXT NOT NULL DEFAULT '',
    decided_at TEXT,
    PRIMARY KEY (period, person_id)
)"""
#: Steps that bring an older ledger up to date: version reached → statements.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: ("ALTER TABLE files ADD COLUMN reader_version INTEGER NOT NULL DEFAULT 0",),
    3: (_APPEALS,),  # appeals were created on first use before; now with the schema
    4: (
        "CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at TEXT NOT NULL,"
        " actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')",
    ),
    # looking up a file version's readings by content: without it every lookup scanned the
    # whole table, and ingest slowed with the ledger's size (294 files/s at 3,000, 203 at 6,000)
    5: ("CREATE INDEX IF NOT EXISTS files_by_sha ON files (sha256)",),
}

_SCHEMA = (
    """
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
CREATE INDEX IF NOT EXISTS files_by_sha ON files (sha256);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
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
    + _APPEALS
    + ";\n"
)

ACCEPTED, SUPERSEDED, REJECTED, PENDING = "accepted", "superseded", "rejected", "pending"
#: An appeal's decision: the grade changed, or upheld.
CHANGED, UPHELD = "改定", "维持"


@dataclass(frozen=True)
class NewFile:
    """A file version as read for the first time."""

    path: str
    sha256: str
    size: int
    received_at: str
    format: str
    expected_period: str | None
    #: The reading: decoded, or as the JSON text a reader process made (stored as it is).
    raw: dict[str, object] | str | None
    read_code: str | None
    read_message: str | None
    reader_version: int


class FiledRow(NamedTuple):
    """A stored version as the archive's manifest gives it (``Ledger.filed``)."""

    path: str
    sha256: str
    received_at: str
    outcome: str
    reason: str
    record: str | None


class AttributedRow(NamedTuple):
    """What deciding who counts needs of a version with a record."""

    id: int
    period: str
    person_id: str
    received_at: str
    path: str
    sha256: str
    scan: bool  # a scanned or photographed sheet: its reading's format is "scan" (settle._is_scan)


@dataclass(frozen=True)
class Settled:
    """What settling decided for one stored version."""

    id: int
    person_id: str | None
    period: str | None
    outcome: str
    reason: str
    record: dict[str, object] | None
    issues: list[dict[str, str]]


@dataclass(frozen=True)
class FileRow(Settled, NewFile):
    """A stored file version (as first read) and what became of it (as last settled)."""

    raw: dict[str, object] | None  # decoded


@dataclass(frozen=True)
class ArchivedRow:
    """A stored version as the archive files it (see ``Ledger.archived_rows``)."""

    id: int
    path: str
    sha256: str
    received_at: str
    outcome: str | None
    reason: str
    period: str | None
    unit: str | None
    person_id: str | None
    name: str | None
    raw: dict[str, object] | None


@dataclass(frozen=True)
class Appeal:
    """An appeal (复核) as stored: filed, and perhaps decided."""

    period: str
    person_id: str
    reason: str
    filed_at: str
    original_grade: str | None
    decision: str | None
    new_grade: str | None
    note: str
    decided_at: str | None

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)

    @property
    def effective_grade(self) -> str | None:
        """The grade in force: the new one if changed, else the original."""
        return self.new_grade if self.decision == CHANGED else self.original_grade


@dataclass(frozen=True)
class Review:
    """A version entered in the review workbook, and the original it stands for."""

    source_path: str
    source_sha: str
    review_path: str
    review_sha: str
    reviewer: str
    imported_at: str


class LedgerError(KaoheError):
    """The ledger cannot be used: damaged, read-only, or the disk is full. ``str()`` is a
    Chinese message for the clerk that names the file and the step to take."""


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite file ``source`` at ``target`` (online backup API; safe
    while another process writes). Raises sqlite3.Error if ``source`` is damaged."""
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        copy.close()
        origin.close()


def check_file(path: Path) -> list[str]:
    """SQLite's integrity check of a ledger file: [] when sound, else what is wrong."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = [str(r[0]) for r in db.execute("PRAGMA integrity_check")]
            db.execute("SELECT count(*) FROM files").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def explain_error(path: Path, exc: sqlite3.Error) -> str:
    """What a SQLite error on the ledger means for the clerk, and what to do."""
    text = str(exc).lower()
    if "full" in text:
        return (
            f"磁盘已满，台账 {path.name} 无法写入。已登记的内容没有丢失（这一批已撤销）；"
            "请腾出磁盘空间后重新运行同一命令。"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return (
            f"台账 {path} 无法写入（文件只读、没有权限或在只读的盘上）。"
            "请检查该文件和所在文件夹的权限；查看进度、导出等只读命令仍可使用。"
        )
    if "locked" in text or "busy" in text:
        return f"台账 {path.name} 正被另一个程序占用，请稍后重试。"
    return (
        f"台账 {path} 已损坏，无法读取（{exc}）。"
        "请运行 kaohe ledger restore 从自动备份恢复（备份在工作区的“台账备份”文件夹），"
        "恢复后再运行一次 kaohe ingest，备份之后交回的文件会重新登记。"
    )


class Ledger:
    """The workspace's ledger database."""

    def __init__(self, path: Path, *, before_migration: Callable[[], object] | None = None) -> None:
        self.path = path
        try:
            self._open(before_migration)
        except sqlite3.Error as exc:
            with contextlib.suppress(Exception):
                self.db.close()
            raise LedgerError(explain_error(path, exc)) from exc

    def _open(self, before_migration: Callable[[], object] | None) -> None:
        path = self.path
        writable = not path.exists() or os.access(path, os.W_OK)
        if writable:
            self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        else:  # a read-only ledger still serves status, export and explain
            uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
            self.db = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        if not writable:
            self.db.execute("SELECT count(*) FROM files").fetchone()  # damaged → error now
            return
        if os.name == "posix":
            os.chmod(path, 0o600)  # every return's content is in here
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        if self.schema_version() == SCHEMA_VERSION:
            return  # up to date: no write lock taken just to open
        if self.schema_version() not in (None, 0) and before_migration is not None:
            before_migration()  # e.g. back the ledger up before changing its schema
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

    def schema_version(self) -> int | None:
        """The stored schema version; 0 for a ledger from before versions, None if empty."""
        has_files = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'"
        ).fetchone()
        if has_files is None:
            return None
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        row = (
            self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if has_meta
            else None
        )
        return int(row[0]) if row else 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read several queries from one consistent state (a read transaction)."""
        self.db.execute("BEGIN")
        try:
            yield
        finally:
            self.db.execute("COMMIT")

    def check(self) -> list[str]:
        """SQLite's own integrity check: [] when the ledger is sound, else its findings."""
        rows = [str(r[0]) for r in self.db.execute("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def counts(self) -> dict[str, int]:
        """How many stored versions have each outcome."""
        query = "SELECT outcome, count(*) FROM files GROUP BY outcome"
        return {str(outcome): int(n) for outcome, n in self.db.execute(query)}

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
        stored = self.readings(path, sha256)
        return min(stored.values()) if stored else None

    def readings(self, path: str, sha256: str) -> dict[str, int]:
        """The stored readings of one file version — ``path`` itself, or its sheets
        ``path#1``, ``path#2`` … — with the reader version of each."""
        return self.readings_of([(path, sha256)])[0]

    def readings_of(self, versions: Sequence[tuple[str, str]]) -> list[dict[str, int]]:
        """``readings`` of each (path, sha256) version, found with one query for all."""
        return [{r.path: r.reader_version for r in found} for found in self._stored(versions)]

    def _stored(self, versions: Sequence[tuple[str, str]]) -> list[list[_Stored]]:
        """The stored readings of each (path, sha256) version — ``path`` itself or its sheets
        ``path#1`` … — in id order, by one query per few hundred distinct contents."""
        hashes = sorted({sha256 for _, sha256 in versions})
        by_hash: dict[str, list[_Stored]] = {}
        for start in range(0, len(hashes), _IN_LIST):
            chunk = hashes[start : start + _IN_LIST]
            for row in self.db.execute(
                "SELECT id, path, sha256, reader_version, received_at, expected_period"
                f" FROM files WHERE sha256 IN ({', '.join('?' * len(chunk))}) ORDER BY id",
                chunk,
            ):
                by_hash.setdefault(row[2], []).append(_Stored(*row))
        return [
            [
                r
                for r in by_hash.get(sha256, [])
                if r.path == path or (original_path(r.path) == path and sheet_number(r.path))
            ]
            for path, sha256 in versions
        ]

    def add(self, files: Sequence[NewFile]) -> bool:
        """Record newly read file versions (one transaction for the batch); True if readings
        of the same bytes were dropped (a file now read as a different number of sheets).

        A version read again by a newer reader keeps its received time and expected
        period; only what was read is replaced.
        """
        with self.transaction() as db:
            # a file read again may now hold a different number of sheets: its old
            # readings that the new ones do not replace go (the bytes are the same)
            # (keeping when it was first received)
            dropped = False
            new = {(f.path, f.sha256) for f in files}
            first_seen: dict[tuple[str, str], tuple[str, str | None]] = {}
            bases = sorted({(original_path(f.path), f.sha256) for f in files})
            earlier = sorted(  # in id order; each stored sheet of one of these files' bytes
                r
                for (base, _), found in zip(bases, self._stored(bases), strict=True)
                for r in found
                if original_path(r.path) == base
            )
            for stale in earlier:
                key = (original_path(stale.path), stale.sha256)
                first_seen.setdefault(key, (stale.received_at, stale.expected_period))
                if (stale.path, stale.sha256) not in new:
                    db.execute("DELETE FROM files WHERE id = ?", (stale.id,))
                    dropped = True
            files = [
                dataclasses.replace(
                    f,
                    received_at=first_seen[(original_path(f.path), f.sha256)][0],
                    expected_period=first_seen[(original_path(f.path), f.sha256)][1],
                )
                if (original_path(f.path), f.sha256) in first_seen
                else f
                for f in files
            ]
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
                        f.raw
                        if isinstance(f.raw, str) or f.raw is None
                        else json.dumps(f.raw, ensure_ascii=False),
                        f.read_code,
                        f.read_message,
                        f.reader_version,
                    )
                    for f in files
                ],
            )
        return dropped

    def accepted_records(self, period: str) -> Iterator[str]:
        """The record (as stored JSON) of each person's accepted version in ``period``, one at
        a time: only the record column is read (not the reading, which for a scan holds its
        pictures), and the caller decodes each straight into its model."""
        for (record,) in self.db.execute(
            "SELECT record FROM files WHERE outcome = ? AND period = ? AND record IS NOT NULL"
            " ORDER BY id",
            (ACCEPTED, period),
        ):
            yield str(record)

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Call inside ``transaction()``."""
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def versions(self, keys: Sequence[tuple[str, str]]) -> Iterator[FileRow]:
        """The stored versions named by (path, sha256), one at a time."""
        for path, sha in keys:
            for r in self.db.execute(
                "SELECT * FROM files WHERE path = ? AND sha256 = ?", (path, sha)
            ):
                yield _row(r)

    def unsettled(self) -> Iterator[FileRow]:
        """Versions stored but never settled (a run stopped between reading and settling),
        one at a time."""
        for r in self.db.execute("SELECT * FROM files WHERE outcome = ? ORDER BY id", (PENDING,)):
            yield _row(r)

    def ids_of_people(self, keys: Sequence[tuple[str, str]]) -> set[int]:
        """The ids of every stored version settled as one of these (period, person_id)."""
        found: set[int] = set()
        for period, person_id in keys:
            found.update(
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM files WHERE person_id = ? AND period = ?", (person_id, period)
                )
            )
        return found

    def stored_rows(self, ids: Sequence[int]) -> list[StoredRow]:
        """The versions with these ids as stored (JSON columns still text), in id order."""
        marks = ",".join("?" * len(ids))
        return [
            {key: r[key] for key in r.keys()}  # noqa: SIM118 - sqlite3.Row
            for r in self.db.execute(f"SELECT * FROM files WHERE id IN ({marks}) ORDER BY id", ids)
        ]

    def versions_of(self, person_id: str, period: str) -> list[FileRow]:
        """Every stored version attributed to a person in a period, oldest first."""
        return [
            _row(r)
            for r in self.db.execute(
                "SELECT * FROM files WHERE person_id = ? AND period = ? ORDER BY received_at, id",
                (person_id, period),
            )
        ]

    def row(self, row_id: int) -> FileRow | None:
        found = self.db.execute("SELECT * FROM files WHERE id = ?", (row_id,)).fetchone()
        return _row(found) if found else None

    def versions_of_rejected_paths(self) -> list[FileRow]:
        """Every version of each path that has a rejected version (for the report)."""
        return [
            _row(r)
            for r in self.db.execute(
                "SELECT * FROM files WHERE path IN (SELECT path FROM files WHERE outcome = ?)"
                " ORDER BY id",
                (REJECTED,),
            )
        ]

    def read_under(self, folder: str, after: int) -> bool:
        """Whether a file under ``folder`` was recorded after version ``after``: a folder that
        could not be listed stops being a problem once its files have been read."""
        found = self.db.execute(
            "SELECT 1 FROM files WHERE id > ? AND substr(path, 1, ?) = ? LIMIT 1",
            (after, len(folder) + 1, folder + "/"),
        ).fetchone()
        return found is not None

    def received_at(self, path: str, sha256: str) -> str | None:
        """When this file version came in, or None if it is not in the ledger."""
        row = self.db.execute(
            "SELECT received_at FROM files WHERE path = ? AND sha256 = ?", (path, sha256)
        ).fetchone()
        return None if row is None else str(row[0])

    def archived_rows(self, period: str) -> Iterator[ArchivedRow]:
        """What the archive needs of each version of ``period`` (or of no period), in id
        order: the record's identity only, not the record or the reading themselves (a
        reviewed entry's reading excepted: it is archived as its own member)."""
        for r in self.db.execute(
            "SELECT id, path, sha256, received_at, outcome, reason, period,"
            " json_extract(record, '$.unit') AS unit,"
            " json_extract(record, '$.person_id') AS person_id,"
            " json_extract(record, '$.name') AS name,"
            " CASE WHEN path LIKE ? THEN raw END AS raw"
            " FROM files WHERE period = ? OR period IS NULL ORDER BY id",
            (f"%{REVIEW_SUFFIX}", period),
        ):
            values = {key: r[key] for key in r.keys()}  # noqa: SIM118 - sqlite3.Row
            values["raw"] = json.loads(values["raw"]) if values["raw"] else None
            yield ArchivedRow(**values)

    def filed(self, row_id: int) -> FiledRow:
        """What the archive's manifest says of a stored version, its record as stored (JSON
        text, written out unchanged) — read when its member is written."""
        found = self.db.execute(
            "SELECT path, sha256, received_at, outcome, reason, record FROM files WHERE id = ?",
            (row_id,),
        ).fetchone()
        if found is None:
            raise LedgerError(f"台账中没有第 {row_id} 条记录（归档途中被改动？请重新运行）")
        return FiledRow(*found)

    def record_text(self, row_id: int) -> str | None:
        """A version's record as stored (JSON text), for writing it out unchanged."""
        found = self.db.execute("SELECT record FROM files WHERE id = ?", (row_id,)).fetchone()
        return None if found is None or found[0] is None else str(found[0])

    def iter_rows(self, chunk: int = 500) -> Iterator[FileRow]:
        """Every row in id order, fetched a chunk at a time (memory stays flat)."""
        for batch in self.stored_chunks(chunk):
            yield from (file_row(values) for values in batch)

    def stored_chunks(self, chunk: int = 500) -> Iterator[list[StoredRow]]:
        """Every row in id order as stored (JSON columns still text), a chunk at a time:
        for work that decodes them elsewhere (settling in worker processes)."""
        last = 0
        while True:
            batch = [
                {key: r[key] for key in r.keys()}  # noqa: SIM118 - sqlite3.Row
                for r in self.db.execute(
                    "SELECT * FROM files WHERE id > ? ORDER BY id LIMIT ?", (last, chunk)
                )
            ]
            if not batch:
                return
            yield batch
            last = int(batch[-1]["id"])

    def attributed_chunks(self, chunk: int = 500) -> Iterator[list[AttributedRow]]:
        """Every version with a record (somebody's sheet, as settled or written so far),
        ordered by period and person, a chunk at a time; one person's versions are never
        split between two chunks (a chunk grows to hold one person's when it must). Each
        chunk is read whole before it is handed over: the caller may write in between."""
        after: tuple[str, str] = ("", "")
        limit = chunk
        while True:
            rows = self._attributed(
                "(period, person_id) > (?, ?) ORDER BY period, person_id, id LIMIT ?",
                (*after, limit),
            )
            if len(rows) < limit:  # the last chunk
                if rows:
                    yield rows
                return
            last = (rows[-1].period, rows[-1].person_id)
            whole = [r for r in rows if (r.period, r.person_id) != last]
            if not whole:  # one person's versions fill the chunk: read more at once
                limit *= 2
                continue
            yield whole
            after, limit = (whole[-1].period, whole[-1].person_id), chunk

    def attributed(self, ids: Sequence[int]) -> list[AttributedRow]:
        """Those of these versions that have a record, as ``attributed_chunks`` gives them
        (asked for a few hundred at a time: a run that stopped may leave thousands unsettled)."""
        found: list[AttributedRow] = []
        for start in range(0, len(ids), _IN_LIST):
            chunk = ids[start : start + _IN_LIST]
            found += self._attributed(f"id IN ({','.join('?' * len(chunk))})", chunk)
        return found

    def _attributed(self, where: str, parameters: Sequence[object]) -> list[AttributedRow]:
        return [
            AttributedRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], bool(r[6]))
            for r in self.db.execute(
                "SELECT id, period, person_id, received_at, path, sha256,"
                " json_extract(raw, '$.format') IS 'scan' FROM files"
                f" WHERE record IS NOT NULL AND {where}",
                parameters,
            )
        ]

    def set_outcomes(self, outcomes: Sequence[tuple[str, str, int]]) -> None:
        """(outcome, reason, id) of versions whose record is already written."""
        self.db.executemany("UPDATE files SET outcome = ?, reason = ? WHERE id = ?", outcomes)

    def write_outcomes(self, values: Sequence[OutcomeValues]) -> None:
        """Write what settling decided, encoded (``outcome_values``); call inside
        ``transaction()`` so a whole settlement lands at once."""
        self.db.executemany(
            "UPDATE files SET person_id = ?, period = ?, outcome = ?, reason = ?,"
            " record = ?, issues = ? WHERE id = ?",
            values,
        )

    # -- reviews: versions typed into the review workbook ------------------------------------

    def reviewed_sources(self) -> set[tuple[str, str]]:
        """(path, sha256) of every original that has a version entered by hand."""
        return {
            (r[0], r[1]) for r in self.db.execute("SELECT source_path, source_sha FROM reviews")
        }

    def add_reviews(self, reviews: Sequence[Review]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO reviews (source_path, source_sha, review_path,"
                " review_sha, reviewer, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (r.source_path, r.source_sha, r.review_path, r.review_sha, r.reviewer,
                     r.imported_at)
                    for r in reviews
                ],
            )  # fmt: skip

    # -- the audit trail (the workbench's uploads, decisions, links) ----------------------------

    def audit(self, actor: str, action: str, detail: str = "") -> None:
        """Record who (HR, or which unit link) did what, when."""
        at = datetime.now().astimezone().isoformat(timespec="seconds")
        with self.transaction() as db:
            db.execute(
                "INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)",
                (at, actor, action, detail),
            )

    def audit_trail(self, limit: int = 200) -> list[tuple[str, str, str, str]]:
        """The latest entries, newest first: (at, actor, action, detail)."""
        return [
            (str(a), str(b), str(c), str(d))
            for a, b, c, d in self.db.execute(
                "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]

    # -- appeals (复核) ------------------------------------------------------------------------

    def appeals(self, period: str | None = None) -> list[Appeal]:
        """Appeals of one period (or of all), in (period, person) order."""
        query = (
            "SELECT period, person_id, reason, filed_at, original_grade, decision, new_grade,"
            " note, decided_at FROM appeals"
            + (" WHERE period = ?" if period else "")
            + " ORDER BY period, person_id"
        )
        return [Appeal(*row) for row in self.db.execute(query, (period,) if period else ())]

    def file_appeal(
        self, period: str, person_id: str, reason: str, filed_at: str, grade: str
    ) -> bool:
        """Store a new appeal; False if this person already appealed this period."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO appeals (period, person_id, reason, filed_at,"
                " original_grade) VALUES (?, ?, ?, ?, ?)",
                (period, person_id, reason, filed_at, grade),
            )
            return cursor.rowcount == 1

    def decide_appeal(
        self, period: str, person_id: str, decision: str, grade: str | None, note: str,
        decided_at: str,
    ) -> str | None:  # fmt: skip
        """Store the decision on an undecided appeal. Returns None when stored, else the
        reason it was not: "none" (no such appeal) or the decision already made."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT decision FROM appeals WHERE period = ? AND person_id = ?",
                (period, person_id),
            ).fetchone()
            if row is None:
                return "none"
            if row[0] is not None:
                return str(row[0])
            db.execute(
                "UPDATE appeals SET decision = ?, new_grade = ?, note = ?, decided_at = ?"
                " WHERE period = ? AND person_id = ?",
                (decision, grade, note, decided_at, period, person_id),
            )
            return None

    def returned_by_period(self, year: int, *, before: str = "") -> dict[str, set[str]]:
        """Who has an accepted sheet in each quarter of ``year`` that has any (nothing parsed);
        with ``before`` (a period code), only the quarters before it."""
        found: dict[str, set[str]] = {}
        for period, person_id in self.db.execute(
            "SELECT period, person_id FROM files WHERE outcome = ? AND period LIKE ?"
            " AND (? = '' OR period < ?)",
            (ACCEPTED, f"{year}Q%", before, before),
        ):
            found.setdefault(str(period), set()).add(str(person_id))
        return found

    def outcome_of(self, path: str) -> sqlite3.Row | None:
        """The outcome of a path's latest version (for reporting one file), or None."""
        found: sqlite3.Row | None = self.db.execute(
            f"SELECT {_OUTCOME} FROM files f WHERE {_latest('?')}", (path,)
        ).fetchone()
        return found

    def start_run(self) -> None:
        """Begin listing the paths a run met (``note_run``), in a table of this connection's
        own (TEMP: no other reader sees it, and it goes with the connection): a run of any
        size keeps none of them in memory."""
        self.db.execute("DROP TABLE IF EXISTS temp.run_files")
        # its pages beyond a few go to SQLite's temporary file, not this process's memory
        self.db.execute("PRAGMA temp.cache_size = -256")
        self.db.execute(_RUN_FILES)
        self.db.execute("CREATE INDEX temp.run_order ON run_files (place, sheet, path)")

    def note_run(self, paths: Iterable[tuple[str, int, bool]]) -> None:
        """Paths the run met: (stored path, the place of its file in the run, read this
        run). A path met twice keeps its first place and is new if either time was."""
        self.db.executemany(
            "INSERT INTO run_files (path, place, sheet, new) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (path) DO UPDATE SET new = max(new, excluded.new)",
            [(path, place, sheet_number(path) or 0, int(new)) for path, place, new in paths],
        )

    def run_outcomes(self) -> Iterator[sqlite3.Row]:
        """The latest version's outcome of each path of the run, in the run's order (a
        file's place, then its sheets in order), with ``new``; streamed as SQLite finds them."""
        return self.db.execute(
            f"SELECT {_OUTCOME}, r.new FROM run_files r JOIN files f ON {_latest('r.path')}"
            " ORDER BY r.place, r.sheet, r.path"
        )


def _latest(path: str) -> str:
    """SQL: ``files f`` is the latest version (the one stored last) of the path ``path``."""
    return f"f.id = (SELECT max(id) FROM files WHERE path = {path})"


#: A file version's outcome as a run reports it (the columns, of ``files f``).
_OUTCOME = (
    "f.path, f.outcome, f.person_id, f.period, f.reason,"
    " json_extract(f.record, '$.name') AS name, json_extract(f.record, '$.unit') AS unit"
)
_RUN_FILES = (
    "CREATE TEMP TABLE run_files (path TEXT PRIMARY KEY, place INTEGER NOT NULL,"
    " sheet INTEGER NOT NULL, new INTEGER NOT NULL) WITHOUT ROWID"
)


class _Stored(NamedTuple):
    """A stored reading of some bytes (what re-reading and skipping known files look at)."""

    id: int
    path: str
    sha256: str
    reader_version: int
    received_at: str
    expected_period: str | None


#: A row of ``files`` as stored: column name → value, JSON columns as text.
StoredRow = dict[str, Any]
#: The UPDATE parameters of one settled version (``outcome_values``).
OutcomeValues = tuple[str | None, str | None, str, str, str | None, str, int]


def file_row(stored: StoredRow) -> FileRow:
    """A stored row with its JSON columns decoded."""
    values = dict(stored)
    for key in ("raw", "record"):
        values[key] = json.loads(values[key]) if values[key] else None
    values["issues"] = json.loads(values["issues"])
    return FileRow(**values)


def _row(r: sqlite3.Row) -> FileRow:
    return file_row({key: r[key] for key in r.keys()})  # noqa: SIM118 - sqlite3.Row


def outcome_values(s: Settled) -> OutcomeValues:
    """What settling decided for one version, encoded as the ledger stores it."""
    record = json.dumps(s.record, ensure_ascii=False) if s.record is not None else None
    issues = json.dumps(s.issues, ensure_ascii=False)
    return (s.person_id, s.period, s.outcome, s.reason, record, issues, s.id)
