"""Return deadlines against the official calendar, the provisional path, HR's overrides."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.models import Period
from pipeline.workdays import WorkCalendar, deadline_for, qingming, quarter_end


@pytest.mark.parametrize(
    ("period", "deadline"),
    [
        ("2025Q1", date(2025, 4, 3)),
        ("2025Q2", date(2025, 7, 3)),
        ("2025Q3", date(2025, 10, 11)),  # 国庆+中秋 1–8 Oct; Saturday 11 Oct is a 调休 working day
        ("2025Q4", date(2026, 1, 6)),  # 元旦 1–3 Jan; Sunday 4 Jan is a 调休 working day
        ("2026Q1", date(2026, 4, 3)),
        ("2026Q2", date(2026, 7, 3)),
        ("2026Q3", date(2026, 10, 10)),  # 国庆 1–7 Oct; Saturday 10 Oct is a 调休 working day
    ],
)
def test_deadlines_follow_the_official_calendar(period: str, deadline: date) -> None:
    result = deadline_for(Period.parse(period), WorkCalendar())
    assert (result.day, result.provisional) == (deadline, False)


def test_2026q4_deadline_falls_in_2027_and_is_provisional() -> None:
    result = deadline_for(Period.parse("2026Q4"), WorkCalendar())
    assert (result.day, result.provisional) == (
        date(2027, 1, 6),
        True,
    )  # 1 Jan holiday, then Mon–Wed


def test_hr_overrides_and_confirmed_years() -> None:
    calendar = WorkCalendar.with_overrides(holidays=[date(2027, 1, 4)], confirmed_years=[2027])
    result = deadline_for(Period.parse("2026Q4"), calendar)
    assert (result.day, result.provisional) == (date(2027, 1, 7), False)
    calendar = WorkCalendar.with_overrides(workdays=[date(2027, 1, 2)])
    assert deadline_for(Period.parse("2026Q4"), calendar).day == date(2027, 1, 5)


def test_qingming_formula_matches_known_years() -> None:
    assert [qingming(y) for y in (2024, 2025, 2026, 2027)] == [
        date(2024, 4, 4), date(2025, 4, 4), date(2026, 4, 5), date(2027, 4, 5),
    ]  # fmt: skip


def test_provisional_year_skips_fixed_holidays() -> None:
    calendar = WorkCalendar()
    assert (
        not calendar.is_workday(date(2027, 10, 1))
        and calendar.is_workday(date(2027, 5, 3)) is not False
    )
    assert calendar.is_workday(date(2027, 10, 4))
    assert not calendar.is_workday(date(2027, 4, 5))


def test_quarter_ends() -> None:
    assert [quarter_end(Period(year=2026, quarter=q)) for q in (1, 2, 3, 4)] == [
        date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31),
    ]  # fmt: skip
