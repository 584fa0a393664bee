"""Stage 1 of the quarter: one blank record sheet per person, bundled per assessing unit.

Output under ``outbox/<period>/blank/``:
``<单位>/<编号>_<姓名>_<period>_平时考核记实表.docx``, ``<单位>.zip`` and ``分发清单.xlsx``.
The folder is built aside and swapped in whole, so a re-run leaves no stale sheet
for someone who left the roster, and an interrupted run leaves the old folder intact.
"""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import workers
from ..errors import KaoheError
from ..models import Period, Person
from ..paths import blank_sheet_name, safe_component
from ..progress import NoProgress, Progress
from ..template import SheetTemplate
from ..workers import TimedPool
from ..workspace import Workspace, writes
from ..writers import atomic
from ..writers.xlsx import Table, write_workbook

DISTRIBUTION_LIST = "分发清单.xlsx"
#: Zip members get a fixed time so a re-run gives byte-identical bundles.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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


@dataclass
class GenerateResult:
    period: Period
    roster: Path
    template: Path
    sheets: list[GeneratedSheet]
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
    render = _InOrder(prepared.render, [p for members in groups.values() for p in members])

    try:
        blank = workspace.blank_dir(period)
        sheets: list[GeneratedSheet] = []
        bundles: dict[str, str] = {}
        if unit is None:
            with atomic.staged_dir(blank) as staging:
                for name, members in groups.items():
                    folder_name = safe_component(name)
                    bundle = staging / f"{folder_name}.zip"
                    (staging / folder_name).mkdir(mode=atomic.DIR_MODE)
                    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_STORED) as archive:
                        _write_unit(staging / folder_name, archive, name, members, render,
                                    sheets, period, progress)  # fmt: skip
                    os.chmod(bundle, atomic.FILE_MODE)
                    bundles[name] = bundle.name
                list_name = DISTRIBUTION_LIST
                _write_distribution_list(staging / list_name, sheets, bundles)
            # paths were recorded inside the staging folder; report them at their final place
            # (the folder resolved once: the files and folders in it are kaohe's own)
            under = workspace.relative(blank)
            sheets = [
                GeneratedSheet(s.person, s.unit, f"{under}/{safe_component(s.unit)}/{s.file}")
                for s in sheets
            ]
            bundles = {u: workspace.relative(blank / f) for u, f in bundles.items()}
        else:
            atomic.private_dir(blank)
            folder = blank / safe_component(unit)
            zip_path = blank / f"{safe_component(unit)}.zip"
            with (
                atomic.staged_dir(folder) as staging,
                atomic.atomic_path(zip_path) as tmp,
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive,
            ):
                _write_unit(staging, archive, unit, groups[unit], render, sheets, period, progress)
            under = workspace.relative(folder)
            sheets = [GeneratedSheet(s.person, s.unit, f"{under}/{s.file}") for s in sheets]
            bundles[unit] = workspace.relative(zip_path)
            list_name = f"分发清单_{safe_component(unit)}.xlsx"
            _write_distribution_list(blank / list_name, sheets, bundles)
    finally:
        render.close()  # the render processes, whatever happened
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


#: From this many sheets on, rendering is shared by a process per core (starting them costs
#: ~50 ms each; the sheets are written here, in roster order, as before).
PARALLEL_FROM = 400


class _InOrder:
    """``render(person)`` for the people of ``order``, asked in that order: computed ahead by
    worker processes when there are many (rendering and the QR code are ~80% of a sheet's
    cost), else here. The bytes are the same either way."""

    def __init__(self, render: Callable[[Person], bytes], order: Sequence[Person]) -> None:
        self.render = render
        self.expected = iter(order)
        self.stream: Iterator[bytes | None] | None = None
        self.pool: TimedPool[bytes | None] | None = None
        processes = os.cpu_count() or 1
        # only forked workers: they inherit the prepared sheet
        if workers.forks() and processes > 1 and len(order) >= PARALLEL_FROM:
            self.pool = TimedPool(render, min(processes, 4), 120.0, lambda reason, seconds: None)
            self.stream = self.pool.map((person,) for person in order)

    def __call__(self, person: Person) -> bytes:
        assert next(self.expected) is person  # the units are written in the order rendered
        if self.stream is None:
            return self.render(person)
        data = next(self.stream)
        if data is None:  # (generate's finally closes the pool)
            raise KaoheError("生成空白表时渲染进程异常退出，没有写出任何文件；请重新运行 generate")
        return data

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = self.stream = None


def _write_unit(
    folder: Path,
    bundle: zipfile.ZipFile,
    unit: str,
    people: Sequence[Person],
    render: Callable[[Person], bytes],
    sheets: list[GeneratedSheet],
    period: Period,
    progress: Progress,
) -> None:
    """Write one unit's sheets into ``folder`` and ``bundle`` at once (rendered once, never
    read back); ``sheets`` gets each sheet with its file name."""
    for person in people:
        name = blank_sheet_name(person, period)
        data = render(person)
        _write_private(folder / name, data)
        bundle.writestr(_zip_info(name), data)
        sheets.append(GeneratedSheet(person, unit, name))
        progress.advance()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = 0o600 << 16
    info.flag_bits |= 0x800  # names are UTF-8 (zipfile sets it too for non-ASCII names)
    return info


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
    path: Path, sheets: Sequence[GeneratedSheet], bundles: dict[str, str]
) -> None:
    rows = [
        (
            index,
            s.unit,
            s.person.person_id,
            s.person.name,
            s.person.gender.value,
            s.person.unit,
            s.person.position,
            s.person.leader,
            s.person.host_unit if s.person.seconded else "",
            Path(s.file).name,
            Path(bundles[s.unit]).name,
        )
        for index, s in enumerate(sheets, start=1)
    ]
    by_unit: dict[str, list[GeneratedSheet]] = {}
    for s in sheets:
        by_unit.setdefault(s.unit, []).append(s)
    summary = [
        (
            unit,
            len(members),
            "、".join(dict.fromkeys(m.person.leader for m in members if m.person.leader)),
            sum(1 for m in members if m.person.seconded),
            Path(bundles[unit]).name,
        )
        for unit, members in by_unit.items()
    ]
    write_workbook(
        path,
        [
            Table("分发清单", DISTRIBUTION_HEADERS, rows),
            Table("按单位", ("考核单位", "人数", "分管领导", "其中挂职人员", "分发包"), summary),
        ],
    )
