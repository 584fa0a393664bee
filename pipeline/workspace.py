"""A kaohe workspace: kaohe.toml, the roster, templates/, inbox/ and outbox/ in one folder."""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError
from .models import Period

CONFIG_NAME = "kaohe.toml"
DEFAULT_ROSTER = "roster.xlsx"
TEMPLATE_NAME = "平时考核记实表.docx"
DEFAULT_TEMPLATE = f"templates/{TEMPLATE_NAME}"

CONFIG_TEXT = f"""# kaohe 工作区配置（UTF-8）。路径相对于本文件所在文件夹。

[roster]
# 人员名单：.xlsx 或 .csv（UTF-8 / GBK）。表头须含 编号、姓名、性别、单位、职务，
# 可选 从事或分管工作、分管领导、挂职单位。
path = "{DEFAULT_ROSTER}"

[template]
# 记实表模板（docxtpl）。可在 Word/WPS 中修改文字和版式后保存，可用标签见 README。
path = "{DEFAULT_TEMPLATE}"
"""


class RosterSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = DEFAULT_ROSTER


class TemplateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = DEFAULT_TEMPLATE


class Settings(BaseModel):
    """kaohe.toml. Unknown sections are kept for later versions; unknown keys in known
    sections are refused, so a typo does not silently fall back to a default."""

    model_config = ConfigDict(extra="allow")
    roster: RosterSettings = RosterSettings()
    template: TemplateSettings = TemplateSettings()


def load_settings(path: Path) -> Settings:
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} 格式有误：{exc}。请用记事本检查引号和方括号。") from exc
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        details = "；".join(
            f"{'.'.join(str(p) for p in err['loc'])}：{err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{path} 中有无法识别的设置：{details}") from exc


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace folder and its settings."""

    root: Path
    settings: Settings = field(default_factory=Settings)

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

    @property
    def template_path(self) -> Path:
        return self.root / self.settings.template.path

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


def shipped_template() -> Path:
    """The record-sheet template shipped with kaohe (inside the wheel, or the repo's templates/)."""
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "_templates" / TEMPLATE_NAME,
        here.parent / "templates" / TEMPLATE_NAME,
    ):
        if candidate.is_file():
            return candidate
    raise ConfigError("安装不完整：找不到自带的记实表模板，请重新安装 kaohe")


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
            path.mkdir(parents=True)
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
    return InitResult(workspace, created, kept)
