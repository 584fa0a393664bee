"""A kaohe workspace: kaohe.toml, the roster, templates/, inbox/ and outbox/ in one folder."""

from __future__ import annotations

import contextlib
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from . import backups, lock
from .errors import KaoheError
from .ledger import LEDGER_NAME, Ledger
from .models import Period, Person
from .paths import shipped_template
from .roster import read_roster
from .settings import (
    DEFAULT_ROSTER,
    DEFAULT_TEMPLATE,
    LimitsSettings,
    Settings,
    load_settings,
)
from .workdays import Deadline, WorkCalendar, deadline_for
from .writers import atomic

CONFIG_NAME = "kaohe.toml"
#: The last roster read, as kaohe read it (see ``roster.read_roster``).
ROSTER_CACHE = ".kaohe.roster-cache"
FEEDBACK_TEMPLATE = "考核结果反馈通知.docx"
REMIND_TEMPLATE = "催报通知.docx"

CONFIG_TEXT = f"""# kaohe 工作区配置（UTF-8）。路径相对于本文件所在文件夹。

[roster]
# 人员名单：.xlsx 或 .csv（UTF-8 / GBK）。表头须含 编号、姓名、性别、单位、职务，
# 可选 从事或分管工作、分管领导、挂职单位。
path = "{DEFAULT_ROSTER}"

[template]
# 记实表模板（docxtpl）。可在 Word/WPS 中修改文字和版式后保存，可用标签见 README。
path = "{DEFAULT_TEMPLATE}"

[calendar]
# 工作日以 chinese-calendar 的官方安排（含调休）为准；它还没有某年数据时按周末和法定固定假日暂定。
# 国务院办公厅公布放假安排后，可在此补充放假日期、调休上班日期；
# 某年全部补齐后把年份写入 confirmed_years。
holidays = []        # 例如 ["2027-02-16", "2027-02-17"]
workdays = []        # 例如 ["2027-02-07"]
confirmed_years = [] # 例如 [2027]
timezone = "Asia/Shanghai"  # 按本局所在时区判断是否逾期，与电脑本身的时区设置无关

[rules]
deadline_working_days = 3   # 季度结束后几个工作日内交回
leave_threshold_days = 30   # 请假超过多少个工作日不定等次
repeated_missing = 2        # 一年中几个季度未交算“多次未交”
hao_quota = 0               # “好”等次比例上限（0 表示不限，如 0.3 表示 30%）
hao_quota_scope = "unit"    # "unit" 按单位计，"overall" 按全局计

[annual]
# 年度优秀推荐口径："all_hao" 每个有等次的季度都为“好”（默认，严格）；
# "at_least" 至少 excellent_min_hao 个季度为“好”且没有“一般”“差”。
excellent_rule = "all_hao"
excellent_min_hao = 3

[limits]
# 交回的文件来自许多电脑，一律当作不可信。以下上限按一页记实表（约 40 KB）留足余量。
file_mb = 50          # 单个文件大小
docx_part_mb = 20     # .docx 中单个部件解压后的大小
docx_total_mb = 60    # .docx 解压后总大小
zip_total_mb = 500    # 压缩包解压后总大小
zip_members = 2000    # 压缩包内文件数
parse_seconds = 60    # 读取一份文件的时间上限（秒）
scan_seconds = 600    # PDF 和图片的时间上限（秒）：扫描件逐页识别，约 1.5 秒一页
lock_wait_seconds = 600  # 另一个 kaohe 正在写入同一工作区时，最多等待的秒数

[scan]
# 扫描件和照片：哪些识别结果足够确定、可以不经人工直接采用；不够确定的进入待人工核对，
# 并附原件截图。数值越高越谨慎（进入人工核对的越多）。取值依据见 README“扫描件”。
line_score = 0.90       # 打印文字每一行的识别把握
number_score = 0.80     # 出勤次数、请假天数的识别把握
grade_confidence = 0.80 # 等次勾选的把握（只勾一个且清楚为 1）
signature_ink = 0.012   # “签字：”后墨迹占比达到多少算已签字
"""


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace folder and its settings."""

    root: Path
    settings: Settings = field(default_factory=Settings)
    #: Told once when a writer has to wait for another kaohe (the CLI prints it).
    on_wait: Callable[[str], None] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = Path(root).resolve()
        return cls(root, load_settings(root / CONFIG_NAME))

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def roster_path(self) -> Path:
        return self.root / self.settings.roster.path

    def people(self, roster: Path | None = None) -> list[Person]:
        """The roster's people (``roster``, or the workspace's own), through the workspace's
        roster cache: every command of a quarter reads the roster, and openpyxl is slow."""
        return read_roster(Path(roster) if roster else self.roster_path, self.root / ROSTER_CACHE)

    @property
    def template_path(self) -> Path:
        return self.root / self.settings.template.path

    def calendar(self) -> WorkCalendar:
        c = self.settings.calendar
        return WorkCalendar.with_overrides(c.holidays, c.workdays, c.confirmed_years)

    def limits(self) -> LimitsSettings:
        return self.settings.limits

    @property
    def zone(self) -> ZoneInfo:
        """The bureau's time zone: received times are judged against deadlines in it."""
        return self.settings.calendar.zone

    @property
    def ledger_path(self) -> Path:
        return self.root / LEDGER_NAME

    def has_ledger(self) -> bool:
        return self.ledger_path.exists()

    def ledger(self) -> Ledger:
        """Open the workspace's ledger (created on first use; backed up before a migration)."""
        return Ledger(self.ledger_path, before_migration=self.back_up_ledger)

    @property
    def backup_dir(self) -> Path:
        return self.root / backups.BACKUP_DIR

    def back_up_ledger(self) -> Path | None:
        """Copy the ledger into 台账备份/ if it changed since the newest copy."""
        return backups.back_up(self.ledger_path, self.backup_dir)

    def writing(self, what: str) -> contextlib.AbstractContextManager[None]:
        """Hold the workspace's writer lock while doing ``what`` (one writer at a time)."""
        return lock.writing(
            self.root, what, wait_seconds=self.settings.limits.lock_wait_seconds,
            on_wait=self.on_wait,
        )  # fmt: skip

    def sweep_leftovers(self) -> list[Path]:
        """Remove temporary files that killed or crashed runs left (any command does this)."""
        return atomic.sweep([self.root, self.backup_dir], deep=[self.outbox])

    def existing_ledger(self) -> Ledger:
        """Open the ledger of a workspace that has had returns registered."""
        if not self.has_ledger():
            raise KaoheError("还没有登记过任何交回的表（先运行 kaohe ingest）")
        return self.ledger()

    def deadline(self, period: Period) -> Deadline:
        return deadline_for(period, self.calendar(), self.settings.rules.deadline_working_days)

    def period_dir(self, period: Period) -> Path:
        return self.outbox / period.code

    def blank_dir(self, period: Period) -> Path:
        return self.period_dir(period) / "blank"

    def relative(self, path: Path) -> str:
        """``path`` relative to the workspace, with forward slashes (for JSON and messages)."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass
class InitResult:
    workspace: Workspace
    created: list[Path]
    kept: list[Path]


def init_workspace(root: Path) -> InitResult:
    """Create the workspace folders, kaohe.toml, a sample roster and the template.

    Existing files are never overwritten: HR's roster and edited template are kept.
    """
    from .sample import SAMPLE_HEADER, SAMPLE_ROWS
    from .writers.xlsx import Table, write_workbook

    root = Path(root).resolve()
    created: list[Path] = []
    kept: list[Path] = []
    for folder in ("inbox", "outbox", "templates"):
        path = root / folder
        if path.is_dir():
            kept.append(path)
        else:
            # inbox/ and outbox/ hold people's records: owner-only (POSIX)
            path.mkdir(parents=True, mode=0o755 if folder == "templates" else 0o700)
            created.append(path)
    config = root / CONFIG_NAME
    if config.exists():
        kept.append(config)
    else:
        config.write_text(CONFIG_TEXT, encoding="utf-8")
        created.append(config)
    workspace = Workspace.open(root)
    if workspace.roster_path.exists():
        kept.append(workspace.roster_path)
    else:
        write_workbook(
            workspace.roster_path,
            [Table("名单", SAMPLE_HEADER, SAMPLE_ROWS, landscape=True)],
        )
        created.append(workspace.roster_path)
    if workspace.template_path.exists():
        kept.append(workspace.template_path)
    else:
        workspace.template_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shipped_template(), workspace.template_path)
        created.append(workspace.template_path)
    for name in (FEEDBACK_TEMPLATE, REMIND_TEMPLATE):  # notices HR may edit in Word
        notice = workspace.templates / name
        if notice.exists():
            kept.append(notice)
        else:
            shutil.copyfile(shipped_template().with_name(name), notice)
            created.append(notice)
    return InitResult(workspace, created, kept)


P = ParamSpec("P")
R = TypeVar("R")


def writes(
    what: str,
) -> Callable[[Callable[Concatenate[Workspace, P], R]], Callable[Concatenate[Workspace, P], R]]:
    """Mark a step that writes to the workspace: it runs holding the writer lock."""

    def wrap(
        step: Callable[Concatenate[Workspace, P], R],
    ) -> Callable[Concatenate[Workspace, P], R]:
        @functools.wraps(step)
        def locked(workspace: Workspace, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with workspace.writing(what):
                return step(workspace, *args, **kwargs)

        return locked

    return wrap
