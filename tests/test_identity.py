from hypothesis import given
from hypothesis import strategies as st

from pipeline.identity import find_form_codes, form_code, keywords_for
from pipeline.models import Period

Q4 = Period(year=2026, quarter=4)


def test_form_code_shape() -> None:
    code = form_code(Q4, "0007")
    assert code.startswith("KH2026Q4-0007-")
    assert len(code) == len("KH2026Q4-0007-") + 2


def test_keywords_have_no_colons_because_libreoffice_rewrites_them() -> None:
    assert ":" not in keywords_for(form_code(Q4, "0007"))


def test_code_found_in_footer_text_is_valid() -> None:
    [found] = find_form_codes(f"请勿删改表码。\t表码：{form_code(Q4, '0007')}")
    assert (found.period, found.person_id, found.valid) == (Q4, "0007", True)


def test_mistyped_code_is_found_but_marked_invalid() -> None:
    good = form_code(Q4, "0007")
    typo = good.replace("0007", "0008")
    [found] = find_form_codes(typo)
    assert found.person_id == "0008"
    assert found.valid is False


ids = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Lo")), min_size=1, max_size=12
)


@given(ids, st.integers(2000, 2100), st.integers(1, 4))
def test_every_code_is_found_back_exactly(person_id: str, year: int, quarter: int) -> None:
    period = Period(year=year, quarter=quarter)
    [found] = find_form_codes(f"表码：{form_code(period, person_id)} 第1页")
    assert (found.period, found.person_id, found.valid) == (period, person_id, True)
