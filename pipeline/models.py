"""Records kaohe works with: people, periods, grades, issues. Pure data; no I/O."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator
from pydantic.dataclasses import dataclass

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

#: Chinese numerals accepted in period names such as 2026年第四季度.
_CN_QUARTER = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_CN_MONTH_ORDINAL = ("第一月", "第二月", "第三月")

#: A period written the Chinese way, as on the sheet's period line: 2026年第4季度, 2026年第四季.
#: The one pattern for it: the readers find the line with it, records and Period.parse read it.
PERIOD_TEXT = re.compile(r"(?P<year>\d{4})\s*年\s*第?\s*(?P<q>[一二三四1-4１-４])\s*季\s*度?")
_PERIOD_CODE = re.compile(r"^(?P<year>\d{4})\s*-?\s*[Qq](?P<q>[1-4])$")


class Gender(StrEnum):
    """性别 as printed on the sheet."""

    MALE = "男"
    FEMALE = "女"


class Grade(StrEnum):
    """The four quarterly grades of the notice, best first. 较好 is not 好."""

    HAO = "好"
    JIAOHAO = "较好"
    YIBAN = "一般"
    CHA = "差"


class Period(BaseModel):
    """One assessment quarter, written ``2026Q4``."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)

    @classmethod
    def parse(cls, text: str) -> Period:
        """Accept ``2026Q4``, ``2026-Q4``, ``2026年第四季度``; raise ValueError otherwise."""
        cleaned = text.strip().replace("－", "-").replace("Ｑ", "Q")
        match = _PERIOD_CODE.match(cleaned) or PERIOD_TEXT.fullmatch(cleaned)
        if match:
            return cls._from(match)
        raise ValueError(f"无法识别的考核期间“{text}”：请写成 2026Q4、2026-Q4 或 2026年第四季度")

    @classmethod
    def find(cls, text: str) -> Period | None:
        """The first period written the Chinese way inside ``text`` (a sheet's period line)."""
        match = PERIOD_TEXT.search(text)
        return cls._from(match) if match else None

    @classmethod
    def _from(cls, match: re.Match[str]) -> Period:
        quarter = _CN_QUARTER[unicodedata.normalize("NFKC", match["q"])]
        return cls(year=int(match["year"]), quarter=quarter)

    @classmethod
    def containing(cls, day: date) -> Period:
        """The quarter that ``day`` falls in."""
        return cls(year=day.year, quarter=(day.month - 1) // 3 + 1)

    @property
    def code(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def last_day(self) -> date:
        """The quarter's last day (sheets are signed around it)."""
        month = self.quarter * 3
        following = date(self.year + (month == 12), month % 12 + 1, 1)
        return following - timedelta(days=1)

    @property
    def title(self) -> str:
        """Period line of the sheet, without brackets: 2026年第4季度."""
        return f"{self.year}年第{self.quarter}季度"

    @property
    def months(self) -> tuple[int, int, int]:
        first = 3 * (self.quarter - 1) + 1
        return (first, first + 1, first + 2)

    @property
    def month_labels(self) -> tuple[str, str, str]:
        """Row labels of the monthly records: 第一月（10月） …"""
        m = self.months
        return (
            f"{_CN_MONTH_ORDINAL[0]}（{m[0]}月）",
            f"{_CN_MONTH_ORDINAL[1]}（{m[1]}月）",
            f"{_CN_MONTH_ORDINAL[2]}（{m[2]}月）",
        )

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Person:
    """One row of the roster: a member of staff to be assessed. Validated as a pydantic
    model is, but stored in slots: a 10,000-person roster takes ~1.5 MB instead of ~12 MB
    (a model keeps a dict and a set of the fields given per instance), and every command
    holds the whole roster. Encode and decode it with ``PERSON``."""

    person_id: NonEmpty
    name: NonEmpty
    gender: Gender
    unit: NonEmpty
    position: NonEmpty
    duties: str = ""
    leader: str = ""
    host_unit: str = ""
    #: Excel/CSV row the person came from, for messages.
    source_row: int = 0

    @field_validator("duties", "leader", "host_unit")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def seconded(self) -> bool:
        """True when the person is seconded (挂职) to another unit."""
        return bool(self.host_unit) and self.host_unit != self.unit

    @property
    def assessing_unit(self) -> str:
        """The unit that assesses the person: the host unit when seconded (notice 四(六))."""
        return self.host_unit if self.seconded else self.unit


#: How a Person is encoded and decoded (JSON): as the pydantic model it was, field for field
#: (the roster cache, a line each; the roster's fingerprint, a person at a time).
PERSON: TypeAdapter[Person] = TypeAdapter(Person)


class Issue(BaseModel):
    """A problem HR must see: a stable code, where it is, and what to do (in Chinese)."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Literal["error", "warning", "info"]
    field: str = ""
    message: str


class Attendance(BaseModel):
    """出勤记录: counts of late arrivals, early leaves, absences, and days of leave."""

    late: int = Field(default=0, ge=0)
    early_leave: int = Field(default=0, ge=0)
    absent: int = Field(default=0, ge=0)
    leave_days: float = Field(default=0, ge=0)


class Source(BaseModel):
    """Where a record came from: the file as received."""

    path: str
    sha256: str
    format: str
    received_at: str


class Status(StrEnum):
    """Where a sheet stands."""

    PENDING = "待评鉴"  # self part only: the leader has not graded yet
    GRADED = "已评鉴"
    REVIEWED = "已审定"  # the leadership team has added its opinion
    UNGRADED = "不定等次"
    FAULTY = "异常"  # has an error HR must resolve


class Outcome(StrEnum):
    """A person's result in one quarter, in one word: what every output shows."""

    HAO = "好"
    JIAOHAO = "较好"
    YIBAN = "一般"
    CHA = "差"
    UNGRADED = "不定等次"  # leave over the threshold, no grade
    PENDING = "待评鉴"  # the leader has not graded yet
    FAULTY = "异常"  # no grade, and an error HR must resolve
    MISSING = "未交"

    @property
    def grade(self) -> Grade | None:
        return Grade(self.value) if self.value in _GRADE_WORDS else None


_GRADE_WORDS = frozenset(g.value for g in Grade)


class SheetRecord(BaseModel):
    """One person's record sheet for one period, as read from a returned file.

    The JSON export uses exactly these keys.
    """

    person_id: str
    name: str
    gender: str
    unit: str
    position: str
    duties: str
    period: str
    monthly_records: list[str] = Field(min_length=3, max_length=3)
    attendance: Attendance
    self_evaluation: str
    signature_date: date | None
    leader_opinion: str
    grade: Grade | None
    review_opinion: str
    status: Status
    source: Source
    issues: list[Issue]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One row of the exception report: a code about a person (or a unit) in a period.
    Validated, and stored in slots (a quarter has one or more for most people)."""

    code: str
    severity: Literal["error", "warning", "info"]
    person_id: str = ""
    name: str = ""
    unit: str = ""
    file: str = ""
    field: str = ""
    message: str
