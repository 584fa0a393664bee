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
from pathlib import Path
from typing import Any

from ..codes import Code
from ..ledger import (
    ACCEPTED,
    REJECTED,
    SUPERSEDED,
    NewFile,
    sheet_key,
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
#: A group of submissions read ahead holds at most about this much of their data.
GROUP_BYTES = 1 << 20


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
    #: Every file's outcome in the run's order (empty when they went to ``ingest``'s ``each``).
    files: list[FileOutcome]
    skipped: list[str]
    #: Files by outcome (accepted, superseded, rejected), and ``skipped``.
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.counts = {key: 0 for key in (ACCEPTED, SUPERSEDED, REJECTED)}
        for item in self.files:
            self.count(item)
        self.counts["skipped"] = len(self.skipped)

    def count(self, item: FileOutcome) -> None:
        self.counts[item.outcome] = self.counts.get(item.outcome, 0) + 1


def _walk(path: Path) -> Iterator[str]:
    """Every file under ``path`` (or ``path`` itself), as text, in the order ``sorted`` puts
    their paths in: one folder at a time, its entries by name, a folder's as if its name ended
    in "/" (every path under it starts so). A symlinked folder is not followed but yielded
    itself, so it gets an outcome (rejected, with the reason) instead of vanishing from the
    count; so is a folder that cannot be listed (``os.walk`` would pass over it and every
    file in it without a word)."""
    if not path.is_dir() or path.is_symlink():
        yield str(path)
        return
    yield from _walk_folder(str(path))


def _walk_folder(folder: str) -> Iterator[str]:
    try:
        with os.scandir(folder) as found:
            entries = sorted(
                (entry.name + "/", entry.name) if entry.is_dir(follow_symlinks=False)
                else (entry.name, "")
                for entry in found
            )  # fmt: skip
    except OSError:
        yield folder  # its outcome says why none of its files was read
        return
    for key, name in entries:
        if name:
            yield from _walk_folder(os.path.join(folder, name))
        else:
            yield os.path.join(folder, key)


def walk(paths: Sequence[Path]) -> Iterator[str]:
    """Every file under ``paths`` once, in sorted order (a file under two of them once), as
    text. Nothing is kept but the folder being listed: a ``Path`` for each of 10,000 files
    would cost ~5 MB, a list of their names ~2.5 MB, and pathlib keeps every part it parses.

    Each path is walked in turn, in the order of its text (a folder's as if it ended in "/"),
    one inside a folder walked already passed over: every path under a folder starts with
    its text and "/", so the walks never interleave and one after another is sorted."""
    keyed = sorted(
        {(f"{p}/" if p.is_dir() and not p.is_symlink() else str(p)): p for p in paths}.items()
    )
    folder = None  # the last folder walked
    for key, path in keyed:
        if folder is not None and key.startswith(folder):
            continue  # inside it: walked with it
        if key.endswith("/"):
            folder = key
        yield from _walk(path)


def collect(paths: Sequence[Path]) -> tuple[int, list[str]]:
    """How many files ``walk`` finds to ingest, and the files it skips (sorted)."""
    count = 0
    skipped: list[str] = []
    for path in walk(paths):
        if _temporary(path):
            skipped.append(path)
        else:
            count += 1
    return count, skipped


def _temporary(path: str) -> bool:
    """A Word lock file, .DS_Store and the like (``SKIP``): skipped, not a submission."""
    return SKIP.search(os.path.basename(path)) is not None


def _key(workspace: Workspace, path: str) -> str:
    """How a file is named in the ledger: relative to the workspace when inside it."""
    root = str(workspace.root)
    if os.sep == "/" and path.startswith("/") and root != "/" and path.startswith(root + "/"):
        return path[len(root) + 1 :]  # what relative_to gives, without pathlib's parsing
    absolute = Path(path).absolute()
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
    #: The last submission of its inbox file (a bundle's members: only its last one).
    ends_file: bool = True


def _received(path: str, given: str | None) -> str:
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


def _open_regular(path: str, limits: Limits) -> _Opened:
    """Read a regular file whole, or say why not. Never blocks on a pipe or device: the type
    is checked on the path, then again on the descriptor opened with O_NONBLOCK."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        return _Opened(None, "", 0, "这是快捷方式（符号链接），不读取其指向的文件或文件夹")
    if stat.S_ISDIR(info.st_mode):  # the walk gives a folder only when it cannot list it
        return _Opened(None, "", 0, _unlisted(path))
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


def _unlisted(folder: str) -> str:
    try:
        with os.scandir(folder):
            pass
    except PermissionError:
        why = "没有权限"
    except OSError as exc:
        why = exc.strerror or str(exc)
    else:
        return "这个文件夹刚才打不开，里面的文件这次都没有读取；重新运行 ingest"
    return f"这个文件夹打不开（{why}），里面的文件都没有读取；改好权限后重新运行 ingest"


def _unreadable(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "读取前文件已被移走或删除；放回 inbox 后重新运行 ingest"
    if isinstance(exc, PermissionError):
        return "没有读取这个文件的权限（可能正被其他程序独占打开）；关闭或改权限后重新运行 ingest"
    return f"无法读取这个文件（{exc.strerror or exc}）；确认文件完好后重新运行 ingest"


def submissions(
    workspace: Workspace,
    files: Iterable[str],
    received_at: datetime | None,
    skipped: list[str],
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Submission]:
    """Every submission in ``files``, bundles opened; skipped temp files go to ``skipped``.
    A file that vanished, cannot be opened, or is not a regular file gets its own outcome
    (UNREADABLE_FILE with the reason); the run goes on."""
    given = _received_now(received_at) if received_at is not None else None
    for path in files:
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
        if suffix_of(os.path.basename(path)) not in BUNDLES:
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
        kept = []
        for member in found:
            if SKIP.search(member.name.rsplit("/", 1)[-1]):
                skipped.append(member.name)
            else:
                kept.append(member)
        for number, member in enumerate(kept, start=1):
            member_sha = (
                hashlib.sha256(member.data).hexdigest()
                if member.failure is None
                else hashlib.sha256(f"{sha}!/{member.name}".encode()).hexdigest()
            )
            yield Submission(
                member.name, member.data, member_sha, len(member.data), received, member.failure,
                ends_file=number == len(kept),
            )  # fmt: skip


class _Files:
    """The run's progress in inbox files, what its total counted: a bundle counts once, when
    its last member is done; a file that arrived after the count does not take it past the
    total, and the run ends at the total whatever it met (a bundle of temporary files only,
    a file gone before it was read)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        progress.start(total)

    def passed(self, item: Submission) -> None:
        if item.ends_file and self.done < self.total:
            self.done += 1
            self.progress.advance()

    def finish(self) -> None:
        if self.done < self.total:
            self.progress.advance(self.total - self.done)
            self.done = self.total


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
    each: Callable[[FileOutcome], object] | None = None,
) -> IngestResult:
    """Ingest files (default: the whole inbox) and settle every file's outcome. With
    ``each``, every outcome goes to it, in the run's order, as it is read back from the
    ledger, and the result keeps only the counts (a run of 10,000 files keeps no list)."""
    # a damaged ledger can go back to its state before this run: the copy (SQLite's own work,
    # which lets go of the interpreter) is taken while this thread reads the roster, and is
    # finished before anything is read or written
    with ThreadPoolExecutor(max_workers=1) as background:
        copied = background.submit(workspace.back_up_ledger)
        people = workspace.people(roster)
        copied.result()
    limits = limits or workspace.limits()
    roots = list(paths) if paths else [workspace.inbox]
    count, skipped_files = collect(roots)  # the files are listed again as they are read
    skipped = [_key(workspace, p) for p in skipped_files]
    files = (p for p in walk(roots) if not _temporary(p))
    counted = _Files(progress or NoProgress(), count)
    processes = workers or (os.cpu_count() or 2)
    if count < POOL_FROM:
        processes = 1
    # every path the run meets goes to the ledger's table of the run (``note_run``) with its
    # file's place in the run, for the outcomes' order: nothing of it is kept here
    places: deque[int] = deque()  # the place of each submission sent to be read, in order
    with workspace.ledger() as ledger:
        ledger.start_run()

        def pending() -> Iterator[Submission]:
            found = enumerate(submissions(workspace, files, received_at, skipped, limits))
            for group in _groups(found):
                known = ledger.readings_of([(item.key, item.sha256) for _, item in group])
                seen: list[tuple[str, int, bool]] = []  # known already: not read again
                for (place, item), stored in zip(group, known, strict=True):
                    if stored and min(stored.values()) >= READER_VERSION:
                        seen += [(key, place, False) for key in stored]
                        counted.passed(item)
                        continue
                    places.append(place)
                    yield item
                ledger.note_run(seen)

        batch: list[tuple[NewFile, int]] = []  # each with its file's place in the run
        # the versions this run added, while few enough to settle only them (None: more)
        changed: list[tuple[str, str]] | None = []
        dropped = False

        def write(batch: list[tuple[NewFile, int]]) -> bool:
            nonlocal changed
            if changed is not None:
                changed += [(f.path, f.sha256) for f, _ in batch]
                if len(changed) > PARTIAL_UP_TO:
                    changed = None
            ledger.note_run([(f.path, place, True) for f, place in batch])
            return ledger.add([f for f, _ in batch])

        for item, (raws, code, message) in _read_stream(pending(), processes, limits):
            place = places.popleft()  # results come in the order the submissions went
            sheets: list[str | None] = list(raws) if raws else [None]
            for number, raw in enumerate(sheets, start=1):
                # several people's sheets in one file: each is its own submission
                key = sheet_key(item.key, number) if len(sheets) > 1 else item.key
                batch.append((
                    NewFile(
                        path=key, sha256=item.sha256, size=item.size,
                        received_at=item.received_at, format=format_of(item.key),
                        expected_period=period.code if period else None, raw=raw,
                        read_code=code, read_message=message, reader_version=READER_VERSION,
                    ),
                    place,
                ))  # fmt: skip
            counted.passed(item)
            if len(batch) >= BATCH:
                dropped = write(batch) or dropped
                batch = []
        dropped = write(batch) or dropped
        counted.finish()
        # only what changed is settled again, unless readings were dropped
        settle(ledger, RosterIndex(people), None if dropped else changed, workspace.settings.scan)
        result = IngestResult([], skipped)
        take = each if each is not None else result.files.append
        for row in ledger.run_outcomes():
            outcome = _outcome(row)
            result.count(outcome)
            take(outcome)
    return result


def _groups(found: Iterable[tuple[int, Submission]]) -> Iterator[list[tuple[int, Submission]]]:
    """``found`` in groups of up to ``BATCH``, each holding at most ``GROUP_BYTES`` of data
    (and at least one submission): a group is held whole while its known versions are
    looked up, so a quarter of large PDFs keeps as little in memory as one of Word files."""
    group: list[tuple[int, Submission]] = []
    size = 0
    for item in found:
        group.append(item)
        size += len(item[1].data)
        if len(group) >= BATCH or size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _outcome(row: sqlite3.Row) -> FileOutcome:
    return FileOutcome(
        path=row["path"],
        outcome=row["outcome"],
        person_id=row["person_id"],
        name=row["name"] or "",
        unit=row["unit"] or "",
        period=row["period"],
        reason=row["reason"],
        new=bool(row["new"]),
    )
