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
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..codes import CODES, Code, issue
from ..ledger import ACCEPTED, LEDGER_NAME, REJECTED, SUPERSEDED, FileRow, Ledger, NewFile, Outcome
from ..models import Period, Source
from ..progress import NoProgress, Progress
from ..readers.bundle import members
from ..readers.formats import BUNDLES, format_of, read_any, suffix_of
from ..readers.limits import DEFAULT_LIMITS, MB, Limits
from ..readers.raw import ReadFailure, raw_from_json, raw_to_json
from ..records import Interpretation, RosterIndex, attribute, interpret
from ..roster import read_roster
from ..rules import received_instant
from ..workers import TimedPool
from ..workspace import Workspace

#: Temporary and system files that are not submissions.
SKIP = re.compile(
    r"^(~\$|\.~lock\.|\._|~WRL)|^(\.DS_Store|Thumbs\.db|desktop\.ini|\.gitkeep)$|\.(tmp|crdownload|part|swp)$",
    re.IGNORECASE,
)
#: Bump when a reader reads something differently: stored readings of older versions are
#: read again on the next ingest (their received time is kept).
READER_VERSION = 2
#: Below this many files one worker process reads them all (starting more costs more).
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


def _sha256_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass(frozen=True)
class Submission:
    """One thing to read: a file in the inbox, or a member of a bundle (``a.zip!/b.docx``)."""

    key: str
    data: bytes
    sha256: str
    size: int
    received_at: str
    failure: ReadFailure | None = None


def _received(path: Path, received_at: datetime | None) -> str:
    moment = received_at or datetime.fromtimestamp(path.stat().st_mtime)
    return moment.astimezone().isoformat(timespec="seconds")


def submissions(
    workspace: Workspace,
    files: Sequence[Path],
    received_at: datetime | None,
    skipped: list[str],
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Submission]:
    """Every submission in ``files``, bundles opened; skipped temp files go to ``skipped``."""
    for path in files:
        key = _key(workspace, path)
        if path.is_symlink():
            failure = ReadFailure("UNREADABLE_FILE", "这是快捷方式（符号链接），不读取其指向的文件")
            yield Submission(
                key,
                b"",
                hashlib.sha256(key.encode()).hexdigest(),
                0,
                _received(path, received_at),
                failure,
            )
            continue
        received = _received(path, received_at)
        if path.stat().st_size > limits.file_bytes:
            sha, size = _sha256_file(path)
            failure = ReadFailure("UNREADABLE_FILE", _too_big(limits))
            yield Submission(key, b"", sha, size, received, failure)
            continue
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if suffix_of(path.name) not in BUNDLES:
            yield Submission(key, data, sha, len(data), received)
            continue
        try:
            found = list(members(data, key, limits=limits))
        except ReadFailure as failure:
            yield Submission(key, b"", sha, len(data), received, failure)
            continue
        if not found:
            yield Submission(
                key, b"", sha, len(data), received, ReadFailure("UNREADABLE_FILE", "压缩包是空的")
            )
        for member in found:
            if SKIP.search(member.name.rsplit("/", 1)[-1]):
                skipped.append(member.name)
                continue
            member_sha = (
                hashlib.sha256(member.data).hexdigest()
                if member.failure is None
                else hashlib.sha256(f"{sha}!/{member.name}".encode()).hexdigest()
            )
            yield Submission(
                member.name, member.data, member_sha, len(member.data), received, member.failure
            )


def _size(count: int) -> str:
    return f"{count / MB:g} MB" if count >= MB else f"{count // 1024} KB"


def _too_big(limits: Limits) -> str:
    return (
        f"文件超过 {_size(limits.file_bytes)}，一页记实表不会这么大，已拒收"
        "（上限见 kaohe.toml [limits]）"
    )


def read_submission(
    name: str, data: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, object] | None, str | None, str | None]:
    """Read one submission (in a worker process): the raw sheet, or a failure code and message."""
    try:
        return raw_to_json(read_any(name, data, limits)), None, None
    except ReadFailure as failure:
        return None, failure.code, failure.message
    except Exception as exc:  # a reader bug or a file no reader foresaw: record it, go on
        return None, Code.UNREADABLE_FILE.value, f"文件无法解析（{type(exc).__name__}）"


def read_file(
    path: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict[str, object] | None, str | None, str | None]:
    """Read one file from disk (used by explain)."""
    file = Path(path)
    if file.stat().st_size > limits.file_bytes:
        return None, Code.UNREADABLE_FILE.value, _too_big(limits)
    return read_submission(file.name, file.read_bytes(), limits)


ReadResult = tuple[dict[str, object] | None, str | None, str | None]


def read_task(
    key: str, data: bytes, code: str | None, message: str | None, limits: Limits
) -> ReadResult:
    """A worker's task: a submission already known to fail is answered without reading."""
    if code is not None:
        return None, code, message
    return read_submission(key, data, limits)


def _overran(seconds: float) -> Callable[[str], ReadResult]:
    def failure(reason: str) -> ReadResult:
        if reason == "timeout":
            text = (
                f"文件解析超过 {seconds:g} 秒仍未完成，已中止（文件可能已损坏或被构造得无法解析）"
            )
        else:
            text = "解析时读取程序异常退出（文件可能已损坏）"
        return None, Code.UNREADABLE_FILE.value, text

    return failure


def _read_stream(
    pending: Iterable[Submission], workers: int, limits: Limits
) -> Iterator[tuple[Submission, ReadResult]]:
    """Read submissions in order in worker processes, each under the time limit."""
    queued: deque[Submission] = deque()

    def tasks() -> Iterator[tuple[str, bytes, str | None, str | None, Limits]]:
        for item in pending:
            queued.append(item)
            failure = item.failure
            code = failure.code if failure else None
            yield (item.key, item.data, code, failure.message if failure else None, limits)

    timeout = limits.parse_seconds
    with TimedPool(read_task, workers, timeout, _overran(timeout)) as pool:
        for result in pool.map(tasks()):
            yield queued.popleft(), result


def ingest(
    workspace: Workspace,
    paths: Sequence[Path] | None = None,
    *,
    period: Period | None = None,
    received_at: datetime | None = None,
    roster: Path | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    limits: Limits | None = None,
) -> IngestResult:
    """Ingest files (default: the whole inbox) and settle every file's outcome."""
    people = read_roster(roster or workspace.roster_path)
    limits = limits or workspace.limits()
    files, skipped_files = collect(list(paths) if paths else [workspace.inbox])
    skipped = [_key(workspace, p) for p in skipped_files]
    progress = progress or NoProgress()
    progress.start(len(files))
    processes = workers or (os.cpu_count() or 2)
    if len(files) < POOL_FROM:
        processes = 1
    keys: list[str] = []
    new_keys: set[str] = set()
    with Ledger(workspace.root / LEDGER_NAME) as ledger:

        def pending() -> Iterator[Submission]:
            for item in submissions(workspace, files, received_at, skipped, limits):
                keys.append(item.key)
                version = ledger.reader_version(item.key, item.sha256)
                if version is not None and version >= READER_VERSION:
                    progress.advance()
                    continue
                new_keys.add(item.key)
                yield item

        batch: list[NewFile] = []
        for item, (raw, code, message) in _read_stream(pending(), processes, limits):
            batch.append(
                NewFile(
                    item.key, item.sha256, item.size, item.received_at, format_of(item.key),
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
    outcomes = [_outcome(latest[key], key in new_keys) for key in dict.fromkeys(keys)]
    return IngestResult(outcomes, skipped)


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
        failure = issue(code, row.read_message or CODES[code].title)
        return Interpretation(None, None, None, [failure])
    source = Source(
        path=row.path, sha256=row.sha256, format=row.format, received_at=row.received_at
    )
    return interpret(raw_from_json(row.raw), roster, source, _expected(row))


def _expected(row: FileRow) -> Period | None:
    return Period.parse(row.expected_period) if row.expected_period else None


@dataclass(frozen=True)
class _Decision:
    outcome: str
    reason: str
    duplicate: str  # DUPLICATE_SUBMISSION message, or ""


def settle(ledger: Ledger, roster: RosterIndex) -> None:
    """Attribute every stored reading with the current roster, then pick the latest per person.

    Two streaming passes keep memory flat in the number of files: the first only attributes
    each reading (who, which quarter, when), the second builds each record and writes it.
    """
    versions: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for row in ledger.iter_rows():
        if row.raw is None:
            continue
        found = attribute(raw_from_json(row.raw), roster, _expected(row))
        if found.attributed:
            assert found.person is not None and found.period is not None
            key = (found.period.code, found.person.person_id)
            versions.setdefault(key, []).append((row.received_at, row.path, row.id))
    decisions: dict[int, _Decision] = {}
    for group in versions.values():
        group.sort(key=lambda v: (received_instant(v[0]), v[1], v[2]))  # instants, not text
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
