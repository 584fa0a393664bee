"""The sheet's QR codes: kaohe's own encoder gives segno's symbol, module for module."""

from __future__ import annotations

import io

import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline.identity import form_code, qr_png
from pipeline.models import Period
from pipeline.qr import fast_array, matrix

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def segno_matrix(text: str) -> tuple[tuple[int, ...], ...]:
    symbol = segno.make(text, error="h", micro=False, boost_error=False, mask=0)
    return tuple(tuple(1 if m else 0 for m in row) for row in symbol.matrix)


FORM_CODES = st.builds(
    lambda year, quarter, person, check: f"KH{year}Q{quarter}-{person}-{check}",
    st.integers(2004, 2099),
    st.integers(1, 4),
    # (segno codes a run of 11+ digits as a numeric segment of its own: equally valid, and
    # decoded back below; a 编号 is far shorter)
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=1, max_size=10),
    st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=2, max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(FORM_CODES)
def test_a_form_codes_symbol_is_segnos_module_for_module(code: str) -> None:
    fast = fast_array(code)
    assert fast is not None and tuple(map(tuple, fast.tolist())) == segno_matrix(code)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=50).filter(lambda t: not t.isdigit()))
def test_every_fast_symbol_decodes_back_to_its_text(text: str) -> None:
    import zxingcpp

    assert fast_array(text) is not None  # 50 alphanumeric characters fit version 4 at level H
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(text))).convert("L"))
    assert found.text == text


def test_other_texts_are_encoded_by_segno() -> None:
    for text in ("KH2026Q4-编号-7K", "kh2026q4-0007-7k", "X" * 51, "20261234"):
        assert fast_array(text) is None
        assert matrix(text) == segno_matrix(text)


def test_every_form_code_decodes_from_its_png() -> None:
    import zxingcpp

    for person_id in ("0007", "00123", "A-17", "12345678"):
        code = form_code(Period(year=2026, quarter=4), person_id)
        [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(code))).convert("L"))
        assert found.text == code
