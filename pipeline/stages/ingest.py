"""Stage 2: read returned sheets into the ledger, and decide what each file is.

The inbox is read-only to kaohe: files are opened for reading and nothing else.
Every file found ends as accepted, superseded, rejected (with the reason), or
skipped (Word lock files, .DS_Store and the like).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..codes import CODES, Code, issue
from ..ledger import ACCEPTED, LEDGER_NAME, REJECTED, SUPERSEDED, FileRow, Ledger, NewFile, Outcome
from ..models import Period, Source
from ..progress import NoProgress, Progress
from ..readers.docx import read_docx
from ..readers.raw import ReadFailure, raw_from_json, raw_to_json
from ..records import Interpretation, RosterIndex, interpret
from ..roster import read_roster
from ..workspace import Workspace

#: Temporary and system files that are not submissions.
SKIP = re.compile(
    r"^(~\$|\.~lock\.|\._|~WRL)|^(\.DS_Store|Thumbs\.db|desktop\.ini|\.gitkeep)$|\.(tmp|crdownload|part|swp)$",
    re.IGNORECASE,
)
READERS = {".docx": "docx", ".docm": "docx"}
#: Bump when a reader reads something differently: stored readings of older versions are
#: read again on the next ingest (their received time is kept).
READER_VERSION = 2
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Below this many new files, parsing in this process is faster than starting workers.
POOL_FROM = 24
BATCH = 50


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file of this run."""

    path: str
    outcome: str
    person_id: str | None
    name: str
    unit: str
    period: str | None
    reason: str
    new: bool


@dataclass
class IngestResult:
    files: list[FileOutcome]
    skipped: list[str]
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {key: 0 for key in (ACCEPTED, SUPERSEDED, REJECTED)}
        for item in self.files:
            self.counts[item.outcome] = self.counts.get(item.outcome, 0) + 1
        self.counts["skipped"] = len(self.skipped)


def _walk(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        else:
            yield path


def collect(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Files to ingest and files skipped, each sorted."""
    files: list[Path] = []
    skipped: list[Path] = []
    for path in _walk(paths):
        (skipped if SKIP.search(path.name) else files).append(path)
    return sorted(set(files)), sorted(set(skipped))


def _key(workspace: Workspace, path: Path) -> str:
    """How a file is named in the ledger: relative to the workspace when inside it."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(workspace.root).as_posix()
    except ValueError:
        return absolute.as_posix()


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def read_file(path: str) -> tuple[dict[str, object] | None, str | None, str | None]:
    """Read one file (in a worker process): the raw sheet, or a failure code and message."""
    file = Path(path)
    kind = READERS.get(file.suffix.lower())
    if kind is None:
        suffix = file.suffix or "（无扩展名）"
        return (
            None,
            Code.UNSUPPORTED_FORMAT.value,
            (f"暂不能读取 {suffix} 文件，请让本人在 Word/WPS 中另存为 .docx 后重新提交"),
        )
    if file.is_symlink():
        return None, Code.UNREADABLE_FILE.value, "这是快捷方式（符号链接），不读取其指向的文件"
    if file.stat().st_size > MAX_FILE_BYTES:
        return None, Code.UNREADABLE_FILE.value, "文件超过 50 MB，一页记实表不会这么大，已拒收"
    try:
        return raw_to_json(read_docx(file.read_bytes())), None, None
    except ReadFailure as failure:
        return None, failure.code, failure.message
    except Exception as exc:  # a reader bug or a file no reader foresaw: record it, go on
        return None, Code.UNREADABLE_FILE.value, f"文件无法解析（{type(exc).__name__}）"


def _received(path: Path, received_at: datetime | None) -> str:
    moment = received_at or datetime.fromtimestamp(path.stat().st_mtime)
    return moment.astimezone().isoformat(timespec="seconds")


def _format(path: Path) -> str:
    return READERS.get(path.suffix.lower(), path.suffix.lower().lstrip(".") or "unknown")


def ingest(
    workspace: Workspace,
    paths: Sequence[Path] | None = None,
    *,
    period: Period | None = None,
    received_at: datetime | None = None,
    roster: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestResult:
    """Ingest files (default: the whole inbox) and settle every file's outcome."""
    people = read_roster(roster or workspace.roster_path)
    files, skipped = collect(list(paths) if paths else [workspace.inbox])
    progress = progress or NoProgress()
    progress.start(len(files))
    with Ledger(workspace.root / LEDGER_NAME) as ledger:
        fresh: list[tuple[Path, str, str, int]] = []
        keys: list[str] = []
        for path in files:
            key = _key(workspace, path)
            keys.append(key)
            sha, size = _sha256(path)
            version = ledger.reader_version(key, sha)
            if version is not None and version >= READER_VERSION:
                progress.advance()
            else:
                fresh.append((path, key, sha, size))
        new_keys = {key for _, key, _, _ in fresh}
        batch: list[NewFile] = []
        for (path, key, sha, size), (raw, code, message) in zip(
            fresh, _read_all([str(p) for p, _, _, _ in fresh], workers), strict=True
        ):
            batch.append(
                NewFile(
                    key, sha, size, _received(path, received_at), _format(path),
                    period.code if period else None, raw, code, message, READER_VERSION,
                )
            )  # fmt: skip
            progress.advance()
            if len(batch) >= BATCH:
                ledger.add(batch)
                batch = []
        ledger.add(batch)
        settle(ledger, RosterIndex(people))
        latest = ledger.outcomes_for(keys)  # the newest version of each path
    outcomes = [_outcome(latest[key], key in new_keys) for key in keys]
    return IngestResult(outcomes, [_key(workspace, p) for p in skipped])


def _read_all(
    paths: list[str], workers: int | None
) -> Iterator[tuple[dict[str, object] | None, str | None, str | None]]:
    if len(paths) < POOL_FROM or workers == 1:
        yield from map(read_file, paths)
        return
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        yield from pool.map(read_file, paths, chunksize=16)


def _outcome(row: sqlite3.Row, new: bool) -> FileOutcome:
    return FileOutcome(
        path=row["path"],
        outcome=row["outcome"],
        person_id=row["person_id"],
        name=row["name"] or "",
        unit=row["unit"] or "",
        period=row["period"],
        reason=row["reason"],
        new=new,
    )


def _interpret_row(row: FileRow, roster: RosterIndex) -> Interpretation:
    if row.raw is None:
        code = Code(row.read_code or Code.UNREADABLE_FILE.value)
        return Interpretation(
            None, None, None, [issue(code, row.read_message or CODES[code].title)]
        )
    source = Source(
        path=row.path, sha256=row.sha256, format=row.format, received_at=row.received_at
    )
    expected = Period.parse(row.expected_period) if row.expected_period else None
    return interpret(raw_from_json(row.raw), roster, source, expected)


@dataclass(frozen=True)
class _Decision:
    outcome: str
    reason: str
    duplicate: str  # DUPLICATE_SUBMISSION message, or ""


def settle(ledger: Ledger, roster: RosterIndex) -> None:
    """Attribute every stored reading with the current roster, then pick the latest per person.

    Two streaming passes keep memory flat in the number of files: the first keeps only
    who/when of each row, the second rebuilds each record and writes it.
    """
    versions: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for row in ledger.iter_rows():
        found = _interpret_row(row, roster)
        if not found.rejected and found.period and found.person_id:
            key = (found.period, found.person_id)
            versions.setdefault(key, []).append((row.received_at, row.path, row.id))
    decisions: dict[int, _Decision] = {}
    for group in versions.values():
        group.sort()
        latest_path, latest_id = group[-1][1], group[-1][2]
        for _, _path, row_id in group[:-1]:
            message = f"已被较新的 {latest_path} 替代"
            decisions[row_id] = _Decision(SUPERSEDED, message, message)
        duplicate = ""
        if len(group) > 1:
            earlier = "、".join(path for _, path, _ in group[:-1])
            duplicate = f"本人共交了 {len(group)} 份，以最新的这份为准；较早的：{earlier}"
        decisions[latest_id] = _Decision(ACCEPTED, "", duplicate)
    with ledger.transaction():
        batch: list[Outcome] = []
        for row in ledger.iter_rows():
            batch.append(_settled(row, _interpret_row(row, roster), decisions.get(row.id)))
            if len(batch) >= 500:
                ledger.update_outcomes(batch)
                batch = []
        ledger.update_outcomes(batch)


def _settled(row: FileRow, found: Interpretation, decision: _Decision | None) -> Outcome:
    if found.record is None or decision is None:
        errors = [i for i in found.issues if i.severity == "error"] or found.issues
        reason = f"{errors[0].code} {errors[0].message}" if errors else ""
        issues = [i.model_dump() for i in found.issues]
        return (row.id, found.person_id, found.period, REJECTED, reason, None, issues)
    record = found.record
    if decision.duplicate:
        extra = issue(Code.DUPLICATE_SUBMISSION, decision.duplicate)
        record = record.model_copy(update={"issues": [*record.issues, extra]})
    return (
        row.id, record.person_id, record.period, decision.outcome, decision.reason,
        record.model_dump(mode="json"), [i.model_dump() for i in record.issues],
    )  # fmt: skip
