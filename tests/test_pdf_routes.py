"""The PDF reader's two routes to characters and ruling lines — pdfium (used) and pdfminer
(the slower one it replaced) — give the same fields for every PDF the tests know: the
committed LibreOffice exports, reportlab-made sheets, several sheets in one file."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("name", sorted(PDFS))
def test_ruling_lines_by_raw_calls_are_the_helpers_lines(name: str) -> None:
    """The reader walks page objects through pdfium's raw calls; pypdfium2's helpers give
    the same boxes, in the same order."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from pipeline.readers.pdf import _path_bounds

    document = pdfium.PdfDocument(PDFS[name])
    try:
        for page in document:
            helpers = [
                obj.get_bounds()
                for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=5)
            ]
            assert list(_path_bounds(page.raw)) == helpers and helpers
            page.close()
    finally:
        document.close()


def _lines_in_forms() -> bytes:
    """A page whose ruling lines are drawn inside form XObjects, one nested in another."""
    import io

    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.beginForm("inner")
    page.line(100, 100, 300, 100)
    page.endForm()
    page.beginForm("outer")
    page.rect(50, 50, 200, 120)
    page.doForm("inner")
    page.endForm()
    page.line(10, 700, 500, 700)
    page.doForm("outer")
    page.showPage()
    page.save()
    return out.getvalue()


def test_ruling_lines_inside_form_xobjects_are_found_as_the_helpers_find_them() -> None:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    from pipeline.readers.pdf import _path_bounds

    document = pdfium.PdfDocument(_lines_in_forms())
    page = document[0]
    helpers = [
        obj.get_bounds()
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=5)
    ]
    assert list(_path_bounds(page.raw)) == helpers and len(helpers) == 3
    page.close()
    document.close()


def _char(text: str, x0: float, top: float, width: float, height: float) -> dict[str, object]:
    return {
        "text": text, "x0": x0, "x1": x0 + width, "top": top, "bottom": top + height,
        "doctop": top, "upright": True, "size": height, "width": width, "height": height,
        "fontname": "", "unmapped": False,
    }  # fmt: skip


#: Positions on a coarse grid with steps near pdfplumber's 3-point tolerances, so lines and
#: words merge and split at the boundaries.
_STEPS = st.sampled_from([0.0, 0.5, 2.5, 2.999, 3.0, 3.001, 3.5, 6.0, 9.0, 12.0])
_CHARS = st.lists(
    st.builds(
        _char,
        st.sampled_from(["姓", "名", "张", "1", "A", " ", "\u3000", "：", "。"]),
        st.lists(_STEPS, min_size=1, max_size=4).map(sum),
        st.sampled_from([0.0, 1.0, 2.999, 3.0, 3.001, 5.5, 6.0, 20.0]),
        st.sampled_from([1.0, 3.0, 10.5]),
        st.sampled_from([8.0, 10.5]),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=600, deadline=None)
@given(_CHARS)
def test_text_lines_are_pdfplumbers_lines(chars: list[dict[str, object]]) -> None:
    """kaohe's own line assembly gives pdfplumber's ``extract_text_lines``: the same text,
    right edge and characters (the same objects, in the same order)."""
    from pipeline.readers.pdf import _plumber_lines, text_lines

    mine = [(line.text, line.x1, [id(c) for c in line.chars]) for line in text_lines(chars)]
    theirs = [(line.text, line.x1, [id(c) for c in line.chars]) for line in _plumber_lines(chars)]
    assert mine == theirs


def test_text_kaohe_does_not_assemble_itself_goes_through_pdfplumber() -> None:
    """Ligatures and rotated characters are pdfplumber's to lay out."""
    from pipeline.readers.pdf import _plumber_lines, text_lines

    ligature = [_char("ﬁ", 0, 0, 5, 10), _char("x", 5, 0, 5, 10)]
    rotated = [{**_char("A", 0, 0, 5, 10), "upright": False}, _char("B", 20, 0, 5, 10)]
    for chars in (ligature, rotated):
        assert [(t.text, t.x1) for t in text_lines(chars)] == [
            (t.text, t.x1) for t in _plumber_lines(chars)
        ]
    assert text_lines(ligature)[0].text == "fix"


def _intersections(edges: list[dict[str, object]]) -> dict[tuple[float, float], object]:
    from pdfplumber.table import edges_to_intersections, merge_edges

    from pipeline.readers.pdf import SETTINGS

    snap, join = SETTINGS.snap_tolerance, SETTINGS.join_tolerance
    merged = merge_edges(edges, snap, snap, join, join)  # type: ignore[arg-type]
    tolerance = SETTINGS.intersection_tolerance
    return edges_to_intersections(merged, tolerance, tolerance)  # type: ignore[return-value]


def _pdfplumbers_cells(intersections: dict[tuple[float, float], object]) -> list[object]:
    from pdfplumber.table import intersections_to_cells as theirs

    return [tuple(c) for c in theirs(intersections)]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(PDFS))
def test_table_cells_are_pdfplumbers_cells(name: str) -> None:
    from pipeline.readers.pdf import intersections_to_cells

    for page in pdfium_pages(PDFS[name]):
        found = _intersections(page.edges)
        cells = intersections_to_cells(found)  # type: ignore[arg-type]
        assert cells == _pdfplumbers_cells(found) and cells


def _edge(orientation: str, at: float, start: float, end: float) -> dict[str, object]:
    if orientation == "h":
        x0, x1, top, bottom = start, end, at, at
    else:
        x0, x1, top, bottom = at, at, start, end
    return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "width": x1 - x0,
            "height": bottom - top, "orientation": orientation, "object_type": "line"}  # fmt: skip


_coordinate = st.sampled_from([10.0, 20.0, 20.5, 35.0, 50.0, 80.0, 81.0, 120.0])
_edges = st.lists(
    st.builds(
        lambda orientation, at, a, b: _edge(orientation, at, min(a, b), max(a, b)),
        st.sampled_from(["h", "v"]),
        _coordinate,
        _coordinate,
        _coordinate,
    ),
    max_size=14,
)


@st.composite
def _rulings(draw: st.DrawFn) -> list[dict[str, object]]:
    """A table's ruling lines with segments left out (merged cells, a border not drawn),
    plus stray lines: gaps, overlaps and near-misses within the tolerances."""
    xs = sorted(draw(st.lists(_coordinate, min_size=2, max_size=5, unique=True)))
    ys = sorted(draw(st.lists(_coordinate, min_size=2, max_size=5, unique=True)))
    edges = [
        _edge("h", y, a, b)
        for y in ys
        for a, b in itertools.pairwise(xs)
        if draw(st.integers(0, 5))  # one segment in six left out
    ] + [
        _edge("v", x, a, b)
        for x in xs
        for a, b in itertools.pairwise(ys)
        if draw(st.integers(0, 5))
    ]
    return edges + draw(_edges.map(lambda stray: stray[:3]))


@settings(max_examples=300, deadline=None)
@given(_rulings())
def test_table_cells_of_any_ruling_are_pdfplumbers_cells(edges: list[dict[str, object]]) -> None:
    from pipeline.readers.pdf import intersections_to_cells

    found = _intersections(edges)
    assert intersections_to_cells(found) == _pdfplumbers_cells(found)  # type: ignore[arg-type]
