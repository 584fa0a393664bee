"""The PDF reader's two routes to characters and ruling lines — pdfium (used) and pdfminer
(the slower one it replaced) — give the same fields for every PDF the tests know: the
committed LibreOffice exports, reportlab-made sheets, several sheets in one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.readers.pdf import pdfium_pages, pdfminer_pages, read_pdf
from pipeline.readers.raw import raw_to_json

from .pdfs import reportlab_sheet

FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"
PDFS = {
    **{p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.pdf"))},
    "reportlab.pdf": reportlab_sheet(),
    "reportlab_欧阳修.pdf": reportlab_sheet(name="欧阳修"),
}


@pytest.mark.parametrize("name", sorted(PDFS))
def test_both_routes_read_the_same_fields(name: str) -> None:
    data = PDFS[name]
    fast = [raw_to_json(s) for s in read_pdf(data, pdfium_pages)]
    slow = [raw_to_json(s) for s in read_pdf(data, pdfminer_pages)]
    assert fast == slow
    assert fast and all(len(s["fields"]) >= 10 for s in fast)  # type: ignore[arg-type]
