from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import Period


@pytest.mark.parametrize(
    "text",
    [
        "2026Q4",
        "2026-Q4",
        "2026q4",
        " 2026 - Q4 ",
        "2026年第四季度",
        "2026年第4季度",
        "2026年4季度",
    ],
)
def test_period_forms_people_write_are_accepted(text: str) -> None:
    assert Period.parse(text) == Period(year=2026, quarter=4)


@pytest.mark.parametrize("text", ["2026Q5", "2026", "Q4", "2026年第五季度", "26Q4", "2026/4"])
def test_other_period_forms_are_refused_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="请写成 2026Q4、2026-Q4 或 2026年第四季度"):
        Period.parse(text)


def test_fourth_quarter_months_and_labels() -> None:
    period = Period.parse("2026Q4")
    assert period.code == "2026Q4"
    assert period.title == "2026年第4季度"
    assert period.months == (10, 11, 12)
    assert period.month_labels == ("第一月（10月）", "第二月（11月）", "第三月（12月）")


def test_period_containing_a_day() -> None:
    assert Period.containing(date(2026, 11, 24)).code == "2026Q4"
    assert Period.containing(date(2027, 1, 1)).code == "2027Q1"
    assert Period.containing(date(2026, 6, 30)).code == "2026Q2"


@given(st.integers(2000, 2100), st.integers(1, 4))
def test_code_parses_back_to_the_same_period(year: int, quarter: int) -> None:
    period = Period(year=year, quarter=quarter)
    assert Period.parse(period.code) == period
    assert Period.parse(f"{year}年第{'一二三四'[quarter - 1]}季度") == period
