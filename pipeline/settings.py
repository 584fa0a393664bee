"""kaohe.toml as typed settings: each setting is declared here once, with its default and
its bounds, and every module reads it from here. No I/O but reading the one file."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError

MB = 1024 * 1024
DEFAULT_ROSTER = "roster.xlsx"
TEMPLATE_NAME = "平时考核记实表.docx"
DEFAULT_TEMPLATE = f"templates/{TEMPLATE_NAME}"
#: The bureau's clock: deadlines are days in this zone, whatever the PC's own zone is.
DEFAULT_TIMEZONE = "Asia/Shanghai"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RosterSettings(_Section):
    path: str = DEFAULT_ROSTER


class TemplateSettings(_Section):
    path: str = DEFAULT_TEMPLATE


class CalendarSettings(_Section):
    """[calendar]: corrections to the official working-day calendar, and the bureau's zone."""

    holidays: list[date] = []
    workdays: list[date] = []
    confirmed_years: list[int] = []
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"不认识的时区“{value}”，请写成 Asia/Shanghai 这样的名称") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RulesSettings(_Section):
    """[rules]: the notice's numbers, kept adjustable."""

    deadline_working_days: int = Field(default=3, ge=0, le=30)
    leave_threshold_days: float = Field(default=30, gt=0)
    repeated_missing: int = Field(default=2, ge=1, le=4)
    #: Share of 好 allowed (0–1); 0 means no cap.
    hao_quota: float = Field(default=0, ge=0, le=1)
    hao_quota_scope: Literal["unit", "overall"] = "unit"


class AnnualSettings(_Section):
    """[annual]: who may be proposed for the annual 优秀."""

    excellent_rule: Literal["all_hao", "at_least"] = "all_hao"
    excellent_min_hao: int = Field(default=3, ge=1, le=4)


class LimitsSettings(_Section):
    """[limits]: how much one untrusted return may make kaohe read or spend time on.

    Written in MB in kaohe.toml; readers use the byte properties. Checked before inflating
    and again while inflating, because sizes declared inside a zip can lie.
    """

    file_mb: float = Field(default=50, gt=0)  # a returned file on disk
    docx_part_mb: float = Field(default=20, gt=0)  # one part of a .docx, inflated
    docx_total_mb: float = Field(default=60, gt=0)  # all parts of a .docx read, inflated
    zip_total_mb: float = Field(default=500, gt=0)  # all members of a zip bundle, inflated
    zip_members: int = Field(default=2000, gt=0)
    parse_seconds: float = Field(default=60, gt=0)  # reading one file, in a worker process
    #: A PDF or an image (a scan is read by OCR, page by page); unset: ten times parse_seconds.
    scan_seconds: float | None = Field(default=None, gt=0)
    lock_wait_seconds: float = Field(default=600, ge=0)  # waiting for another writer to finish

    @property
    def scan_limit(self) -> float:
        return self.scan_seconds or 10 * self.parse_seconds

    @property
    def file_bytes(self) -> int:
        return int(self.file_mb * MB)

    @property
    def part_bytes(self) -> int:
        return int(self.docx_part_mb * MB)

    @property
    def package_bytes(self) -> int:
        return int(self.docx_total_mb * MB)

    @property
    def bundle_bytes(self) -> int:
        return int(self.zip_total_mb * MB)

    @property
    def bundle_members(self) -> int:
        return self.zip_members


class ScanSettings(_Section):
    """[scan]: how sure the reading of a scanned or photographed sheet must be for a value to
    be accepted without a person looking. Below a threshold the value still goes to the
    review queue prefilled, with the crop of the page it came from. Chosen on this project's
    own scans (README "扫描件", ``bench/scan.py``): typed text lines read at 0.93–1.00 and
    were all right; counts at 0.81–1.00, all 192 right; pen ticks give a grade confidence
    of 1.0 when one box is marked, 0 when two are."""

    #: Every typed line of a text field (the recogniser's mean character probability).
    line_score: float = Field(default=0.90, ge=0, le=1)
    #: A count or a number of days (read over digits and number words only).
    number_score: float = Field(default=0.80, ge=0, le=1)
    #: The grade's mark: 1 for one box clearly marked and the others clearly blank.
    grade_confidence: float = Field(default=0.80, ge=0, le=1)
    #: Share of ink after the printed 签字： that counts as signed.
    signature_ink: float = Field(default=0.012, ge=0, le=1)


class Settings(BaseModel):
    """kaohe.toml. Unknown sections are kept for later versions; unknown keys in known
    sections are refused, so a typo does not silently fall back to a default."""

    model_config = ConfigDict(extra="allow", frozen=True)
    roster: RosterSettings = RosterSettings()
    template: TemplateSettings = TemplateSettings()
    calendar: CalendarSettings = CalendarSettings()
    rules: RulesSettings = RulesSettings()
    limits: LimitsSettings = LimitsSettings()
    annual: AnnualSettings = AnnualSettings()
    scan: ScanSettings = ScanSettings()


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
