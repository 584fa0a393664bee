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
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from ..codes import Code
from ..ledger import (
    ACCEPTED,
    REJECTED,
    SUPERSEDED,
    NewFile,
    original_path,
    sheet_key,
    sheet_number,
)
from ..models import Period
from ..progress import NoProgress, Progress
from ..readers.bundle import members
from ..readers.formats import BUNDLES, format_of, suffix_of
from ..readers.limits import DEFAULT_LIMITS, Limits
from ..readers.raw import ReadFailure
from ..readers.reading import (
    READER_VERSION,
    ReadResult,
    StoredReading,
    read_task,
    read_task_encoded,
    too_big,
)
from ..records import RosterIndex
from ..settle import PARTIAL_UP_TO, settle
from ..workers import reader_pool
from ..workspace import Workspace, writes

#: Temporary and system files that are not submissions.
SKIP = re.compile(
    r"^(~\$|\.~lock\.|\._|~WRL)|^(\.DS_Store|Thumbs\.db|desktop\.ini|\.gitkeep)$|\.(tmp|crdownload|part|swp)$",
    re.IGNORECASE,
)
#: Below this many files one worker process reads them all (starting more costs more).
POOL_FROM = 24
BATCH = 50


@dataclass(frozen=True, slots=True)
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
    """Every file under ``paths``. A symlinked folder is not followed but yielded itself, so it
    gets an outcome (rejected, with the reason) instead of vanishing from the count."""
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs.sort()
                linked = [d for d in dirs if (Path(root) / d).is_symlink()]
                dirs[:] = [d for d in dirs if d not in linked]
                for name in sorted([*files, *linked]):
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
    text, root = str(path), str(workspace.root)
    if os.sep == "/" and path.is_absolute() and root != "/" and text.startswith(root + "/"):
        return text[len(root) + 1 :]  # what relative_to gives, without pathlib's parsing
    absolute = path.absolute()
    try:
        return absolute.relative_to(workspace.root).as_posix()
    except ValueError:
        return absolute.as_posix()


@dataclass(frozen=True, slots=True)
class Submission:
    """One thing to read: a file in the inbox, or a member of a bundle (``a.zip!/b.docx``)."""

    key: str
    data: bytes
    sha256: str
    size: int
    received_at: str
    failure: ReadFailure | None = None


def _received(path: Path, given: str | None) -> str:
    """When a file was received: the time given for the whole run, or the file's own."""
    if given is not None:
        return given
    moment = datetime.fromtimestamp(os.lstat(path).st_mtime)
    return moment.astimezone().isoformat(timespec="seconds")


def _received_now(received_at: datetime | None) -> str:
    return (received_at or datetime.now()).astimezone().isoformat(timespec="seconds")


def _failed(key: str, received: str, message: str) -> Submission:
    """A file that could not be read from disk: its outcome, under a hash of its name and
    reason (so the same failure is one version, and a readable file later is a new one)."""
    sha = hashlib.sha256(f"{key}\0{message}".encode()).hexdigest()
    return Submission(key, b"", sha, 0, received, ReadFailure(Code.UNREADABLE_FILE.value, message))


_KINDS = {
    stat.S_IFIFO: "命名管道（FIFO）",
    stat.S_IFSOCK: "套接字",
    stat.S_IFCHR: "字符设备",
    stat.S_IFBLK: "块设备",
}


@dataclass(frozen=True)
class _Opened:
    data: bytes | None  # None: not read (why says so)
    sha256: str
    size: int
    why: str


def _open_regular(path: Path, limits: Limits) -> _Opened:
    """Read a regular file whole, or say why not. Never blocks on a pipe or device: the type
    is checked on the path, then again on the descriptor opened with O_NONBLOCK."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return _Opened(None, "", 0, "这是快捷方式（符号链接），不读取其指向的文件或文件夹")
    if not stat.S_ISREG(info.st_mode):
        kind = _KINDS.get(stat.S_IFMT(info.st_mode), "特殊文件")
        return _Opened(None, "", 0, f"这是{kind}，不是普通文件，没有读取")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(path, flags), "rb") as handle:
        opened = os.fstat(handle.fileno())
        if not stat.S_ISREG(opened.st_mode):  # swapped for something else since the lstat
            return _Opened(None, "", 0, "这不是普通文件，没有读取")
        if opened.st_size > limits.file_bytes:
            digest, size = hashlib.sha256(), 0
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
            return _Opened(None, digest.hexdigest(), size, too_big(limits))
        data = handle.read()
    return _Opened(data, hashlib.sha256(data).hexdigest(), len(data), "")


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "读取前文件已被移走或删除；放回 inbox 后重新运行 ingest"
    if isinstance(exc, PermissionError):
        return "没有读取这个文件的权限（可能正被其他程序独占打开）；关闭或改权限后重新运行 ingest"
    return f"无法读取这个文件（{exc.strerror or exc}）；确认文件完好后重新运行 ingest"


def submissions(
    workspace: Workspace,
    files: Iterable[Path | str],
    received_at: datetime | None,
    skipped: list[str],
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Submission]:
    """Every submission in ``files``, bundles opened; skipped temp files go to ``skipped``.
    A file that vanished, cannot be opened, or is not a regular file gets its own outcome
    (UNREADABLE_FILE with the reason); the run goes on."""
    given = _received_now(received_at) if received_at is not None else None
    for named in files:
        path = Path(named)
        key = _key(workspace, path)
        try:
            received = _received(path, given)
            opened = _open_regular(path, limits)
        except OSError as exc:
            yield _failed(key, given or _received_now(None), _unreadable(exc))
            continue
        if opened.data is None:
            if opened.sha256:  # too big: the version is its content
                failure = ReadFailure(Code.UNREADABLE_FILE.value, opened.why)
                yield Submission(key, b"", opened.sha256, opened.size, received, failure)
            else:
                yield _failed(key, received, opened.why)
            continue
        data, sha = opened.data, opened.sha256
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


def _limit_of(limits: Limits) -> Callable[[tuple[Any, ...]], float]:
    """A task's time limit: a scan or photo is read by OCR, page by page, and may take far
    longer than a Word file (``[limits] scan_seconds``, by default ten times parse_seconds)."""

    def limit(arguments: tuple[Any, ...]) -> float:
        name = str(arguments[0])
        if format_of(name) in ("pdf", "image"):
            return max(limits.parse_seconds, limits.scan_limit)
        return limits.parse_seconds

    return limit


def _overran(reason: str, seconds: float) -> ReadResult:
    """The result of a file whose reader overran its time limit or died."""
    if reason == "timeout":
        text = f"文件解析超过 {seconds:g} 秒仍未完成，已中止（文件可能已损坏或被构造得无法解析）"
    else:
        text = "解析时读取程序异常退出（文件可能已损坏）"
    return ReadResult(None, Code.UNREADABLE_FILE.value, text)


def _overran_encoded(reason: str, seconds: float) -> StoredReading:
    _, code, message = _overran(reason, seconds)
    return StoredReading(None, code, message)  # no sheet to encode


def read_limited(name: str, data: bytes, limits: Limits) -> ReadResult:
    """Read one submission the way ingest does — in a worker process, under the time limit —
    for a caller that must look at it before it goes into the inbox (the workbench)."""
    timeout = limits.parse_seconds
    with reader_pool(read_task, 1, timeout, _overran, _limit_of(limits)) as pool:
        return next(iter(pool.map([(name, data, None, None, limits)])))


def _read_stream(
    pending: Iterable[Submission], workers: int, limits: Limits
) -> Iterator[tuple[Submission, StoredReading]]:
    """Read submissions in order in worker processes, each under the time limit."""

    def task(item: Submission) -> tuple[str, bytes, str | None, str | None, Limits]:
        failure = item.failure
        code = failure.code if failure else None
        return (item.key, item.data, code, failure.message if failure else None, limits)

    timeout = limits.parse_seconds
    with reader_pool(
        read_task_encoded, workers, timeout, _overran_encoded, _limit_of(limits)
    ) as pool:
        yield from pool.map_items(pending, task)


@writes("回收登记")
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
    # a damaged ledger can go back to its state before this run: the copy (SQLite's own work,
    # which lets go of the interpreter) is taken while this thread reads the roster, and is
    # finished before anything is read or written
    with ThreadPoolExecutor(max_workers=1) as background:
        copied = background.submit(workspace.back_up_ledger)
        people = workspace.people(roster)
        copied.result()
    limits = limits or workspace.limits()
    found_files, skipped_files = collect(list(paths) if paths else [workspace.inbox])
    skipped = [_key(workspace, p) for p in skipped_files]
    count = len(found_files)
    # the paths to read, as text, let go of as they are read (a Path is ~500 bytes, and
    # 10,000 of them would stay to the end of the run)
    files = deque(str(p) for p in found_files)
    del found_files
    progress = progress or NoProgress()
    progress.start(count)
    processes = workers or (os.cpu_count() or 2)
    if count < POOL_FROM:
        processes = 1
    keys: list[str] = []
    new_keys: set[str] = set()
    order: dict[str, int] = {}  # each file's place in the run, for the report's order
    with workspace.ledger() as ledger:

        def pending() -> Iterator[Submission]:
            taken = (files.popleft() for _ in range(len(files)))
            found = submissions(workspace, taken, received_at, skipped, limits)
            for group in iter(lambda: list(islice(found, BATCH)), []):
                known = ledger.readings_of([(item.key, item.sha256) for item in group])
                for item, stored in zip(group, known, strict=True):
                    order.setdefault(item.key, len(order))
                    if stored and min(stored.values()) >= READER_VERSION:
                        keys.extend(sorted(stored, key=_sheet_order))
                        progress.advance()
                        continue
                    yield item

        batch: list[NewFile] = []
        # the versions this run added, while few enough to settle only them (None: more)
        changed: list[tuple[str, str]] | None = []
        dropped = False

        def write(files: list[NewFile]) -> bool:
            nonlocal changed
            if changed is not None:
                changed += [(f.path, f.sha256) for f in files]
                if len(changed) > PARTIAL_UP_TO:
                    changed = None
            return ledger.add(files)

        for item, (raws, code, message) in _read_stream(pending(), processes, limits):
            sheets: list[str | None] = list(raws) if raws else [None]
            for number, raw in enumerate(sheets, start=1):
                # several people's sheets in one file: each is its own submission
                key = sheet_key(item.key, number) if len(sheets) > 1 else item.key
                keys.append(key)
                new_keys.add(key)
                batch.append(
                    NewFile(
                        path=key, sha256=item.sha256, size=item.size,
                        received_at=item.received_at, format=format_of(item.key),
                        expected_period=period.code if period else None, raw=raw,
                        read_code=code, read_message=message, reader_version=READER_VERSION,
                    )
                )  # fmt: skip
            progress.advance()
            if len(batch) >= BATCH:
                dropped = write(batch) or dropped
                batch = []
        dropped = write(batch) or dropped
        # only what changed is settled again, unless readings were dropped
        settle(ledger, RosterIndex(people), None if dropped else changed, workspace.settings.scan)
        ordered = sorted(
            dict.fromkeys(keys), key=lambda k: (order[original_path(k)], _sheet_order(k))
        )
        latest: dict[str, FileOutcome] = {}  # the newest version of each path
        for row in ledger.outcome_rows(ordered):
            latest[row["path"]] = _outcome(row, row["path"] in new_keys)
    return IngestResult([latest[key] for key in ordered], skipped)


def _sheet_order(key: str) -> tuple[int, str]:
    return (sheet_number(key) or 0, key)


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
