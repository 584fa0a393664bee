"""The period's archive for HR's records (存档): every original as received, renamed by unit
and person; superseded and rejected ones under 其他/ with their reason; the summary workbook,
the exception report, and ``manifest.json`` with every member's hash.

The archive is rebuilt from the ledger and the inbox each time, with fixed timestamps and
member order: a second run with no new input gives the same bytes. ``verify`` recomputes
every hash against the manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import ijson  # type: ignore[import-untyped]

from .. import __version__
from ..appeals import appeals
from ..errors import KaoheError
from ..ledger import (
    ACCEPTED,
    REVIEW_SUFFIX,
    SUPERSEDED,
    ArchivedRow,
    original_path,
    sheet_number,
)
from ..models import Period
from ..paths import safe_component
from ..quarter import evaluate
from ..readers.bundle import members
from ..rules import PeriodResult, PersonResult
from ..spool import Spool, scratch_database
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.zipstream import ZipWriter

MANIFEST = "manifest.json"
OTHER = "其他"


def archive_path(workspace: Workspace, period_code: str) -> Path:
    return workspace.root / "outbox" / period_code / "archive" / f"{period_code}_平时考核归档.zip"


class _Originals:
    """Reads ledger paths back from the inbox: files, or members of bundles (``a.zip!/b``).
    The last bundle opened is kept, so its members are not searched again one by one."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.bundle: tuple[str, dict[str, bytes]] = ("", {})

    def _path(self, outer: str) -> str:
        """As text: a Path per member would put every name part of 10,000 paths into
        Python's table of interned strings (pathlib interns them), which stays grown."""
        if outer.startswith("/"):  # absolute (outside the workspace)
            return outer
        return os.path.join(self.workspace.root, outer)

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(original_path(key).partition("!/")[0]))

    def read(self, key: str) -> bytes | None:
        key = original_path(key)  # the n-th sheet of a file: the file itself
        outer, _, inner = key.partition("!/")
        path = self._path(outer)
        if not os.path.isfile(path):
            return None
        if not inner:
            return _read_bytes(path)
        if self.bundle[0] != outer:
            found = {m.name: m.data for m in members(_read_bytes(path), outer) if m.failure is None}
            self.bundle = (outer, found)
        return self.bundle[1].get(key)


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def original_bytes(workspace: Workspace, key: str) -> bytes | None:
    """The bytes of a stored version's original (a file in the workspace, or a member of a
    bundle there), or None if it is gone or lies outside the workspace."""
    outer = original_path(key).partition("!/")[0]
    path = Path(outer) if PurePosixPath(outer).is_absolute() else workspace.root / outer
    try:
        path.resolve().relative_to(workspace.root.resolve())
    except ValueError:
        return None
    return _Originals(workspace).read(key)


@dataclass(frozen=True, slots=True)
class _Entry:
    """An archive member to write: its name, and where its bytes and its manifest line come
    from — a ledger version (``row_id``: what the manifest says of it, and the original, are
    read back when its turn comes, so 10,000 planned members hold little more than their
    names) or an output written for the period (``file``, of ``kind``)."""

    name: str
    row_id: int = 0
    data: bytes | None = None  # made here (a reviewed row's entry)
    file: Path | None = None
    kind: str = ""

    @property
    def original(self) -> bool:
        """A ledger version whose bytes are its original's (checked against its hash)."""
        return self.data is None and self.file is None


#: Formats that are compressed already: deflating them again costs time and saves nothing.
_STORED = (".docx", ".docm", ".xlsx", ".pdf", ".zip", ".jpg", ".jpeg", ".png")


def _compressed(name: str) -> bool:
    return not name.lower().endswith(_STORED)


def posix_name(path: str) -> tuple[str, str]:
    """``PurePosixPath(path)``'s (stem, suffix), by string operations: pathlib would intern
    every part of every archived path (a table that stays grown)."""
    parts = [part for part in path.split("/") if part and part != "."]
    name = parts[-1] if parts else ""
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def _suffix(key: str) -> str:
    return posix_name(original_path(key).split("!/")[-1])[1].lower() or ".bin"


class _Plan:
    """The archive's members, planned in a private temporary SQLite database that spills to
    disk past a small cache, and read back in name order (SQLite compares UTF-8 bytes: the
    order of Python's ``sorted``; equal names keep the order they came in): 10,000 members'
    names are not held. Every name a ledger row took is kept, written or not, so a later
    row never takes it again."""

    def __init__(self) -> None:
        self._db = scratch_database()
        self._db.execute(
            "CREATE TABLE entry (seq INTEGER PRIMARY KEY, name TEXT NOT NULL, row_id INTEGER,"
            " data BLOB, file TEXT, kind TEXT, written INTEGER NOT NULL)"
        )
        self._db.execute("CREATE INDEX by_name ON entry (name, seq)")

    def __enter__(self) -> _Plan:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def __contains__(self, name: object) -> bool:
        found = self._db.execute("SELECT 1 FROM entry WHERE name = ? LIMIT 1", (name,))
        return found.fetchone() is not None

    def add(self, entry: _Entry, *, written: bool = True) -> None:
        file = None if entry.file is None else os.fspath(entry.file)
        self._db.execute(
            "INSERT INTO entry (name, row_id, data, file, kind, written) VALUES (?, ?, ?, ?, ?, ?)",
            (entry.name, entry.row_id, entry.data, file, entry.kind, written),
        )

    def __iter__(self) -> Iterator[_Entry]:
        for name, row_id, data, file, kind in self._db.execute(
            "SELECT name, row_id, data, file, kind FROM entry WHERE written ORDER BY name, seq"
        ):
            yield _Entry(name, row_id, data, None if file is None else Path(file), kind)


def _planned(row: ArchivedRow, used: _Plan) -> _Entry:
    """The member a ledger row becomes (bytes are read later, one at a time)."""
    reviewed = row.path.endswith(REVIEW_SUFFIX)
    source_key = original_path(row.path)
    suffix = ".人工核对.json" if reviewed else _suffix(row.path)
    if row.outcome == ACCEPTED:
        unit = safe_component(str(row.unit or ""))
        person = safe_component(str(row.person_id or ""))
        name_part = safe_component(str(row.name or ""))
        base = f"{unit}/{person}_{name_part}_{row.period}"
    else:
        kind = "被替代" if row.outcome == SUPERSEDED else "拒收"
        stem = safe_component(posix_name(source_key.split("!/")[-1])[0])
        number = sheet_number(row.path.removesuffix(REVIEW_SUFFIX))
        base = f"{OTHER}/{kind}_{stem}" + (f"_第{number}张" if number else "")
    name = f"{base}{suffix}"
    counter = 2
    while name in used:
        name = f"{base}_{counter}{suffix}"
        counter += 1
    if reviewed:
        data = json.dumps(row.raw, ensure_ascii=False, indent=2).encode("utf-8")
        return _Entry(name, row.id, data=data)
    return _Entry(name, row.id)


@dataclass(frozen=True)
class Output:
    """A file written for the period (summary, report) that goes into the archive."""

    name: str  # its name in the archive
    kind: str  # "summary" or "report"
    path: Path


def _person(found: PersonResult) -> dict[str, object]:
    """One person's result as the manifest records it (the same words as every output)."""
    return {
        "person_id": found.person.person_id,
        "name": found.person.name,
        "unit": found.person.assessing_unit,
        "outcome": found.outcome.value,
        "grade_on_sheet": found.grade_on_sheet.value if found.grade_on_sheet else None,
        "late": found.late,
        "source_path": found.kept.path if found.kept else None,
    }


@writes("归档")
def build_archive(
    workspace: Workspace,
    period_code: str,
    outputs: Sequence[Output],
    *,
    result: PeriodResult | None = None,
) -> ArchiveResult:
    """Write the archive of ``period_code`` atomically; raise KaoheError if originals changed.
    ``outputs`` (the summary and report, written from ``result``) go in beside the originals.

    Two passes keep memory flat: names first (to fix the order), then each original is
    read, checked against its hash, written and let go.
    """
    period = Period.parse(period_code)
    if not workspace.has_ledger():
        raise KaoheError("还没有登记过任何交回的表（先运行 kaohe ingest）")
    result = result or evaluate(workspace, period)
    originals = _Originals(workspace)
    absent: list[dict[str, object]] = []
    target = archive_path(workspace, period.code)
    with workspace.ledger() as ledger, ledger.snapshot(), _Plan() as entries:
        for row in ledger.archived_rows(period.code):
            entry = _planned(row, entries)
            if entry.original and not originals.exists(row.path):
                if row.outcome == ACCEPTED:
                    raise _moved([row.path])
                absent.append(
                    {"source_path": row.path, "outcome": row.outcome, "reason": row.reason}
                )
                entries.add(entry, written=False)  # its name stays taken
                continue
            entries.add(entry)
        for output in outputs:
            entries.add(_Entry(output.name, file=output.path, kind=output.kind))
        period_appeals = [a.as_json() for a in appeals(ledger, period).values()]
        listed = _Lines(target.parent)  # each member's line of the manifest
        with (
            listed,
            atomic.atomic_path(target) as tmp,
            open(tmp, "wb") as out,
            ZipWriter(out) as archive,
        ):
            for entry in entries:
                info: dict[str, object]
                if entry.file is not None:  # an output
                    data: bytes | None = entry.file.read_bytes()
                    info, filed = {"kind": entry.kind}, None
                else:
                    filed = ledger.filed(entry.row_id)
                    info = {
                        "source_path": filed.path,
                        "received_at": filed.received_at,
                        "outcome": filed.outcome,
                        "reason": filed.reason,
                    }
                    data = originals.read(filed.path) if entry.original else entry.data
                digest = hashlib.sha256(data).hexdigest() if data is not None else ""
                if filed is not None and entry.original and digest != filed.sha256:
                    if filed.outcome == ACCEPTED:
                        raise _moved([filed.path])
                    absent.append({k: info[k] for k in ("source_path", "outcome", "reason")})
                    continue
                assert data is not None
                archive.write(entry.name, data, compress=_compressed(entry.name))
                member = {"name": entry.name, "sha256": digest, "size": len(data), **info}
                listed.add(
                    _line(member, filed.record)  # a ledger version: its record, as stored
                    if filed is not None
                    else json.dumps(member, ensure_ascii=False)
                )
            with archive.open(MANIFEST) as manifest:
                _write_manifest(manifest, workspace, period, listed, absent, period_appeals, result)
    return ArchiveResult(target, listed.count, [str(a["source_path"]) for a in absent])


class _Lines(Spool):
    """The manifest's member lines, spooled beside the archive until the manifest is written
    (each holds a record: 10,000 would be ~40 MB in memory). JSON lines hold no newline."""

    count = 0

    def add(self, line: str) -> None:
        self.append(line.encode("utf-8") + b"\n")
        self.count += 1

    def __iter__(self) -> Iterator[str]:
        return (line[:-1].decode("utf-8") for line in self.lines())


def _line(member: dict[str, object], record: str | None) -> str:
    """A ledger version as one line of the manifest: compact JSON, its record written in as
    the ledger stores it (JSON already), not decoded and encoded again."""
    text = json.dumps(member, ensure_ascii=False)
    return f'{text[:-1]}, "record": {record if record is not None else "null"}}}'


def _write_manifest(
    out: Any,
    workspace: Workspace,
    period: Period,
    listed: Iterable[str],
    absent: list[dict[str, object]],
    period_appeals: list[dict[str, object]],
    result: PeriodResult,
) -> None:
    """``manifest.json``, written a line at a time: its keys at the top level, each member,
    appeal and result on a line of its own (readable, and no 30 MB string in memory)."""
    deadline = workspace.deadline(period)
    template = workspace.template_path
    head = {
        "period": period.code,
        "deadline": {"day": deadline.day.isoformat(), "provisional": deadline.provisional},
        "tool": f"kaohe {__version__}",
        "template_sha256": (
            hashlib.sha256(template.read_bytes()).hexdigest() if template.is_file() else None
        ),
    }

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))

    def items(key: str, lines: Iterable[str], last: bool = False) -> None:
        write(f'  "{key}": [')
        first = True
        for line in lines:
            write(("\n    " if first else ",\n    ") + line)
            first = False
        write(("" if first else "\n  ") + "]" + ("\n" if last else ",\n"))

    write("{\n")
    for key, value in head.items():
        write(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
    items("members", listed)
    items("missing_originals", (json.dumps(a, ensure_ascii=False) for a in absent))
    items("appeals", (json.dumps(a, ensure_ascii=False) for a in period_appeals))
    people = (json.dumps(_person(result.result_of(p)), ensure_ascii=False) for p in result.people)
    items("results", people, last=True)
    write("}\n")


def _moved(paths: list[str]) -> KaoheError:
    shown = "；".join(paths[:5])
    return KaoheError(f"原文件已被移动或修改，无法归档：{shown}。请放回原处后重试。")


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    members: int
    missing: list[str]


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str


def verify(path: Path) -> Verification:
    """Check every member of an archive against its manifest. The manifest is read as a
    stream (``ijson``): a 10,000-person manifest is ~40 MB of JSON, which parsed whole took
    ~150 MB; each member is checked as its entry comes, and the rest of the manifest is
    still read through, so a damaged one is noticed wherever the damage is."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise KaoheError(f"{path} 不是有效的归档 zip 文件") from exc
    with archive:
        present = set(archive.namelist()) - {MANIFEST}
        if MANIFEST not in archive.NameToInfo:
            return Verification(False, 0, f"缺少 {MANIFEST}")
        listed: set[str] = set()
        checked = 0
        try:
            with archive.open(MANIFEST) as manifest:
                for member in ijson.items(manifest, "members.item", use_float=True):
                    name = member["name"]
                    listed.add(name)
                    if name not in present:
                        return Verification(False, checked, f"缺少文件：{name}")
                    try:
                        data = archive.read(name)
                    except (zipfile.BadZipFile, OSError, EOFError):  # its CRC, or cut short
                        return Verification(False, checked, f"文件已损坏：{name}")
                    digest = hashlib.sha256(data).hexdigest()
                    if digest != member["sha256"] or len(data) != member["size"]:
                        return Verification(False, checked, f"文件内容与清单不符：{name}")
                    checked += 1
        except (ijson.JSONError, KeyError, TypeError, zipfile.BadZipFile):
            return Verification(False, checked, f"{MANIFEST} 已损坏")
        extra = sorted(present - listed)
        if extra:
            return Verification(False, checked, f"清单中没有的文件：{extra[0]}")
    return Verification(True, checked, "")
