"""Working days and the return deadline of a quarter.

Official days come from ``chinese-calendar`` (holidays and adjusted working days, 调休).
For a year it does not know yet, weekends and the statutory fixed-date holidays are used
(元旦, 劳动节, 国庆, and 清明 from its solar-term formula; the lunar holidays 春节, 端午
and 中秋 need a lunar conversion kaohe does not carry), and every result says it is
provisional. ``[calendar]`` in kaohe.toml adds or corrects days either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from .models import Period

#: Statutory holidays with fixed dates: (month, day).
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
DEADLINE_WORKING_DAYS = 3


def qingming(year: int) -> date:
    """清明 (the solar term) for 2000–2099: day = ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋ in April."""
    y = year % 100
    return date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


@dataclass
class WorkCalendar:
    """Decides working days: the official calendar, then HR's overrides."""

    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)
    #: Years HR has entered completely by hand: treated as official.
    confirmed_years: set[int] = field(default_factory=set)
    #: Years answered without official data (weekends + fixed holidays only).
    provisional_years: set[int] = field(default_factory=set)

    @classmethod
    def with_overrides(
        cls,
        holidays: Iterable[date] = (),
        workdays: Iterable[date] = (),
        confirmed_years: Iterable[int] = (),
    ) -> WorkCalendar:
        return cls(set(holidays), set(workdays), set(confirmed_years))

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        import chinese_calendar

        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.confirmed_years:
                self.provisional_years.add(day.year)
            if day.weekday() >= 5:
                return False
            return (day.month, day.day) not in FIXED_HOLIDAYS and day != qingming(day.year)

    def add_workdays(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
        day = start
        found = 0
        while found < count:
            day += timedelta(days=1)
            if self.is_workday(day):
                found += 1
        return day

    def workdays_between(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included."""
        count = 0
        day = first
        while day <= last:
            count += self.is_workday(day)
            day += timedelta(days=1)
        return count


def quarter_end(period: Period) -> date:
    last_month = period.months[2]
    following = date(period.year + (last_month == 12), last_month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    """The last day sheets are due: ``working_days`` working days after the quarter ends."""

    period: Period
    day: date
    provisional: bool

    def days_left(self, today: date) -> int:
        return (self.day - today).days


def deadline_for(
    period: Period, calendar: WorkCalendar, working_days: int = DEADLINE_WORKING_DAYS
) -> Deadline:
    end = quarter_end(period)
    day = calendar.add_workdays(end, working_days)
    provisional = any(year in calendar.provisional_years for year in range(end.year, day.year + 1))
    return Deadline(period, day, provisional)


PROVISIONAL_HELP = (
    "截止日期按周末和法定固定假日推算（暂定）：chinese-calendar 还没有 {years} 年的官方放假安排。"
    "国务院办公厅公布后，可在 kaohe.toml 的 [calendar] 中加上放假日期和调休上班日期，例如："
    'holidays = ["2027-01-01"]，workdays = ["2027-01-09"]；或升级 chinese-calendar。'
)
