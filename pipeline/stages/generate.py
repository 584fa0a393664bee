"""Stage 1 of the quarter: one blank record sheet per person, bundled per assessing unit.

Output under ``outbox/<period>/blank/``:
``<单位>/<编号>_<姓名>_<period>_平时考核记实表.docx``, ``<单位>.zip`` and ``分发清单.xlsx``.
The folder is built aside and swapped in whole, so a re-run leaves no stale sheet
for someone who left the roster, and an interrupted run leaves the old folder intact.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from .. import workers
from ..errors import KaoheError
from ..models import Period, Person
from ..paths import blank_sheet_name, safe_component
from ..progress import NoProgress, Progress
from ..spool import SpooledRows
from ..template import SheetTemplate
from ..workers import TimedPool
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.xlsx import Table, write_workbook
from ..writers.zipstream import ZipWriter

DISTRIBUTION_LIST = "分发清单.xlsx"


@dataclass(frozen=True)
class GeneratedSheet:
    """One blank sheet written: who it is for and where it is (relative to the workspace)."""

    person: Person
    unit: str
    file: str

    def as_json(self) -> dict[str, str]:
        return {
            "person_id": self.person.person_id,
            "name": self.person.name,
            "unit": self.unit,
            "file": self.file,
        }


class Sheets(Sequence[GeneratedSheet]):
    """The sheets written, in order, made from the roster as they are read: each file's name
    is the person's ``blank_sheet_name`` in the unit's folder, so 10,000 paths are not held."""

    def __init__(self, period: Period, units: list[tuple[str, Sequence[Person], str]]) -> None:
        self._period = period
        self._units = units  # (assessing unit, its people, its folder from the workspace)

    def __len__(self) -> int:
        return sum(len(people) for _, people, _ in self._units)

    def __iter__(self) -> Iterator[GeneratedSheet]:
        for unit, people, folder in self._units:
            for person in people:
                yield self._sheet(unit, person, folder)

    def _sheet(self, unit: str, person: Person, folder: str) -> GeneratedSheet:
        return GeneratedSheet(person, unit, f"{folder}/{blank_sheet_name(person, self._period)}")

    @overload
    def __getitem__(self, index: int) -> GeneratedSheet: ...
    @overload
    def __getitem__(self, index: slice) -> list[GeneratedSheet]: ...

    def __getitem__(self, index: int | slice) -> GeneratedSheet | list[GeneratedSheet]:
        if isinstance(index, slice):
            return list(self)[index]
        at = index + len(self) if index < 0 else index
        for unit, people, folder in self._units:
            if 0 <= at < len(people):
                return self._sheet(unit, people[at], folder)
            at -= len(people)
        raise IndexError(index)


@dataclass
class GenerateResult:
    period: Period
    roster: Path
    template: Path
    sheets: Sheets
    bundles: dict[str, str]
    distribution_list: str
    seconds: float
    fast_path: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def units(self) -> list[str]:
        return list(self.bundles)


def _group_by_unit(people: Sequence[Person]) -> dict[str, list[Person]]:
    groups: dict[str, list[Person]] = {}
    for person in people:
        groups.setdefault(person.assessing_unit, []).append(person)
    return groups


def _check_folder_names(units: Sequence[str]) -> None:
    seen: dict[str, str] = {}
    for unit in units:
        folder = safe_component(unit)
        if folder in seen and seen[folder] != unit:
            raise KaoheError(
                f"单位“{seen[folder]}”和“{unit}”在文件夹名中无法区分，请在名单中改用不同的单位名称"
            )
        seen[folder] = unit


@writes("生成空白表")
def generate(
    workspace: Workspace,
    period: Period,
    *,
    roster: Path | None = None,
    unit: str | None = None,
    progress: Progress | None = None,
) -> GenerateResult:
    """Generate the blank sheets of ``period`` for the roster (or one assessing unit of it)."""
    started = time.perf_counter()
    roster_path = Path(roster) if roster else workspace.roster_path
    people = workspace.people(roster_path)
    template = SheetTemplate.load(workspace.template_path)
    groups = _group_by_unit(people)
    if unit is not None:
        if unit not in groups:
            known = "、".join(groups)
            raise KaoheError(f"名单中没有考核单位“{unit}”。名单中的单位有：{known}")
        groups = {unit: groups[unit]}
    _check_folder_names(list(groups))
    prepared = template.prepare(period)
    progress = progress or NoProgress()
    progress.start(sum(len(members) for members in groups.values()))
    write = functools.partial(_write_unit, prepared.render, period)
    blank = workspace.blank_dir(period)
    bundles: dict[str, str] = {}
    if unit is None:
        folders = {name: safe_component(name) for name in groups}
        with atomic.staged_dir(blank) as staging:
            for folder_name in folders.values():
                (staging / folder_name).mkdir(mode=atomic.DIR_MODE)
            tasks = [
                (staging / folders[name], staging / f"{folders[name]}.zip", members)
                for name, members in groups.items()
            ]
            # the workers stop before the staging folder is swapped in or thrown away
            with _Units(write, len(people), progress) as units:
                for name, _ in zip(groups, units.map(tasks), strict=True):
                    bundles[name] = f"{folders[name]}.zip"
            list_name = DISTRIBUTION_LIST
            listed = Sheets(period, [(n, m, folders[n]) for n, m in groups.items()])
            _write_distribution_list(staging / list_name, listed, bundles)
        # the paths at their final place (the folder resolved once: the files and folders in
        # it are kaohe's own)
        under = workspace.relative(blank)
        sheets = Sheets(period, [(n, m, f"{under}/{folders[n]}") for n, m in groups.items()])
        bundles = {u: workspace.relative(blank / f) for u, f in bundles.items()}
    else:
        atomic.private_dir(blank)
        folder = blank / safe_component(unit)
        zip_path = blank / f"{safe_component(unit)}.zip"
        with atomic.staged_dir(folder) as staging, atomic.atomic_path(zip_path) as tmp:
            write(staging, tmp, groups[unit], progress.advance)
        sheets = Sheets(period, [(unit, groups[unit], workspace.relative(folder))])
        bundles[unit] = workspace.relative(zip_path)
        list_name = f"分发清单_{safe_component(unit)}.xlsx"
        _write_distribution_list(blank / list_name, sheets, bundles)
    return GenerateResult(
        period=period,
        roster=roster_path,
        template=template.path,
        sheets=sheets,
        bundles=bundles,
        distribution_list=workspace.relative(blank / list_name),
        seconds=time.perf_counter() - started,
        fast_path=prepared.fast,
        warnings=list(template.warnings)
        + ([] if prepared.fast else ["模板内容随人员信息变化（如条件判断），已逐人渲染，速度较慢"]),
    )


#: From this many sheets on, the units are written by a process per core (starting them
#: costs ~50 ms each).
PARALLEL_FROM = 400


@dataclass(frozen=True)
class _Failed:
    """A unit a worker process could not write: why."""

    message: str


class _Units:
    """Each unit written whole — its sheets rendered, written to its folder and zipped — by
    ``write(folder, bundle, people)``: by forked worker processes, a unit each, when there
    are many sheets (they inherit the prepared template; no sheet crosses a pipe), else
    here. Each unit's number of sheets in the order of the tasks; the files are the same either
    way. Closing stops the workers (leaving the ``with`` does)."""

    def __init__(self, write: Callable[..., int], sheets: int, progress: Progress) -> None:
        self.write = write
        self.progress = progress
        self.pool: TimedPool[int | _Failed] | None = workers.shared_pool(
            self._in_worker, sheets, PARALLEL_FROM, UNIT_SECONDS, _overran,
            lambda arguments: UNIT_SECONDS + SHEET_SECONDS * len(arguments[2]),
        )  # fmt: skip

    def _in_worker(self, folder: Path, bundle: Path, people: list[Person]) -> int | _Failed:
        try:
            return self.write(folder, bundle, people)
        except Exception as exc:  # told to the main process, which stops the run
            return _Failed(f"出错（{type(exc).__name__}：{exc}）")

    def map(self, tasks: Sequence[tuple[Path, Path, list[Person]]]) -> Iterator[int]:
        if self.pool is None:
            for folder, bundle, people in tasks:
                yield self.write(folder, bundle, people, self.progress.advance)
            return
        for (folder, _, people), written in zip(tasks, self.pool.map(tasks), strict=True):
            if isinstance(written, _Failed):
                raise KaoheError(
                    f"生成“{folder.name}”的空白表时{written.message}，没有写出任何文件；"
                    "请重新运行 generate"
                )
            self.progress.advance(len(people))
            yield written

    def __enter__(self) -> _Units:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.close()


def _overran(reason: str, seconds: float) -> _Failed:
    return _Failed("渲染进程异常退出" if reason == "crash" else f"超过 {seconds:g} 秒仍未完成")


#: A unit's time limit in a worker process: this, and this much more a sheet.
UNIT_SECONDS = 120.0
SHEET_SECONDS = 0.1


def _write_unit(
    render: Callable[[Person], bytes],
    period: Period,
    folder: Path,
    bundle: Path,
    people: Sequence[Person],
    advance: Callable[[], None] | None = None,
) -> int:
    """Write one unit's sheets into ``folder`` and the zip ``bundle`` at once (rendered once,
    never read back), each named ``blank_sheet_name`` as ``Sheets`` names it; how many."""
    with open(bundle, "wb") as out, ZipWriter(out) as archive:
        for person in people:
            name = blank_sheet_name(person, period)
            data = render(person)
            _write_private(folder / name, data)
            archive.write(name, data, compress=False)  # a .docx is compressed already
            if advance is not None:
                advance()
    os.chmod(bundle, atomic.FILE_MODE)
    return len(people)


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only (sheets hold personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


DISTRIBUTION_HEADERS = (
    "序号",
    "考核单位",
    "编号",
    "姓名",
    "性别",
    "单位",
    "职务",
    "分管领导",
    "挂职单位",
    "记实表文件",
    "分发包",
)


def _write_distribution_list(
    path: Path, sheets: Iterable[GeneratedSheet], bundles: dict[str, str]
) -> None:
    """One row a sheet (spooled: 10,000 rows are not held), and one a unit."""
    rows = SpooledRows()
    units: dict[str, tuple[list[int], dict[str, None]]] = {}  # people, seconded; leaders
    for index, s in enumerate(sheets, start=1):
        person = s.person
        host = person.host_unit if person.seconded else ""
        rows.append((index, s.unit, person.person_id, person.name, person.gender.value,
                     person.unit, person.position, person.leader, host, Path(s.file).name,
                     Path(bundles[s.unit]).name))  # fmt: skip
        counts, leaders = units.setdefault(s.unit, ([0, 0], {}))
        counts[0] += 1
        counts[1] += person.seconded
        if person.leader:
            leaders[person.leader] = None
    summary = [
        (unit, counts[0], "、".join(leaders), counts[1], Path(bundles[unit]).name)
        for unit, (counts, leaders) in units.items()
    ]
    write_workbook(
        path,
        [
            Table("分发清单", DISTRIBUTION_HEADERS, rows),
            Table("按单位", ("考核单位", "人数", "分管领导", "其中挂职人员", "分发包"), summary),
        ],
    )
