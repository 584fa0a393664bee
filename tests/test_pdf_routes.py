"""The PDF reader's two routes to characters and ruling lines — pdfium (used) and pdfminer
(the slower one it replaced) — give the same fields for every PDF the tests know: the
committed LibreOffice exports, reportlab-made sheets, several sheets in one file."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

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


def _pdfplumbers_tables(
    edges: list[dict[str, object]], snap: float, join: float, cross: float
) -> list[list[tuple[float, float, float, float]]]:
    """pdfplumber's own table-finding steps, start to end."""
    from pdfplumber.table import (
        cells_to_tables,
        edges_to_intersections,
        intersections_to_cells,
        merge_edges,
    )

    merged = merge_edges(edges, snap, snap, join, join)  # type: ignore[arg-type]
    cells = intersections_to_cells(edges_to_intersections(merged, cross, cross))
    return [[tuple(c) for c in table] for table in cells_to_tables(cells)]  # type: ignore[misc]


def _kaohes_tables(
    edges: list[dict[str, object]], snap: float, join: float, cross: float
) -> list[list[tuple[float, float, float, float]]]:
    from pipeline.readers.rulings import find_tables

    return find_tables(edges, snap, join, cross)


@pytest.mark.parametrize("name", sorted(PDFS))
def test_table_cells_are_pdfplumbers_cells(name: str) -> None:
    from pipeline.readers.pdf import SETTINGS

    tolerances = (SETTINGS.snap_tolerance, SETTINGS.join_tolerance, SETTINGS.intersection_tolerance)
    for page in pdfium_pages(PDFS[name]):
        mine = _kaohes_tables(page.edges, *tolerances)
        assert mine == _pdfplumbers_tables(page.edges, *tolerances) and mine


def _edge(orientation: str, at: float, start: float, end: float) -> dict[str, object]:
    if orientation == "h":
        x0, x1, top, bottom = start, end, at, at
    else:
        x0, x1, top, bottom = at, at, start, end
    return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "width": x1 - x0,
            "height": bottom - top, "orientation": orientation, "object_type": "line"}  # fmt: skip


#: 23 and 53 lie exactly one tolerance (3) past 20 and 50: lines that just meet or just join.
_coordinate = st.sampled_from([10.0, 20.0, 20.5, 23.0, 35.0, 50.0, 53.0, 80.0, 81.0, 120.0])
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


def _moved(edges: list[dict[str, object]], dx: float, dy: float) -> list[dict[str, object]]:
    moved: list[dict[str, Any]] = [dict(e) for e in edges]
    for edge in moved:
        edge["x0"] += dx
        edge["x1"] += dx
        edge["top"] += dy
        edge["bottom"] += dy
    return moved


@st.composite
def _several(draw: st.DrawFn) -> list[dict[str, object]]:
    """Two or three rulings side by side, one above another, overlapping or touching at a
    corner: which cells make one table, and the tables' order."""
    offsets = st.sampled_from([0.0, 35.0, 110.0, 113.0, 200.0])
    found = draw(_rulings())
    for _ in range(draw(st.integers(1, 2))):
        found += _moved(draw(_rulings()), draw(offsets), draw(offsets))
    return found


#: Positions off the coarse grid by a fraction, so snapping averages unlike numbers (the
#: moved lines must be the same floats pdfplumber computes).
_jitter = st.sampled_from([0.0, 0.1, 0.3333, 1.7, 2.9, 3.05])


@st.composite
def _jittered(draw: st.DrawFn) -> list[dict[str, object]]:
    edges = draw(_rulings())
    moved = []
    for edge in edges:
        shift, along = draw(_jitter), draw(_jitter)
        if edge["orientation"] == "h":
            moved.append({**edge, "top": edge["top"] + shift, "bottom": edge["bottom"] + shift,
                          "x1": edge["x1"] + along})  # fmt: skip
        else:
            moved.append({**edge, "x0": edge["x0"] + shift, "x1": edge["x1"] + shift,
                          "bottom": edge["bottom"] + along})  # fmt: skip
    return moved


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(_rulings(), _jittered(), _several()),
    st.sampled_from([(3.0, 3.0, 3.0), (4.0, 4.0, 4.0), (1.0, 3.0, 2.0), (0.0, 3.0, 3.0)]),
)
def test_tables_of_any_ruling_are_pdfplumbers_tables(
    edges: list[dict[str, object]], tolerances: tuple[float, float, float]
) -> None:
    """Snapping, joining, crossings, cells and tables, with the PDF reader's tolerances, the
    scan reader's (one for all) and others; lines on a grid and off it by fractions."""
    assert _kaohes_tables(edges, *tolerances) == _pdfplumbers_tables(edges, *tolerances)


@pytest.mark.parametrize("gap", [2.999, 3.0, 3.001])
@pytest.mark.parametrize("reach", [1.999, 2.0, 2.001])
def test_lines_just_joined_and_just_crossing_are_pdfplumbers(gap: float, reach: float) -> None:
    """A border drawn in two pieces with a gap of about the join tolerance (3), and a line
    stopping about the crossing tolerance (2) short of another: joined, crossed or not,
    as pdfplumber has them."""
    edges = [
        _edge("h", 10.0, 10.0, 20.0), _edge("h", 10.0, 20.0 + gap, 40.0),
        _edge("h", 30.0, 10.0, 40.0), _edge("h", 50.0, 10.0, 40.0 - reach),
        _edge("v", 10.0, 10.0, 50.0), _edge("v", 40.0, 10.0, 50.0),
    ]  # fmt: skip
    mine = _kaohes_tables(edges, 1.0, 3.0, 2.0)
    assert mine == _pdfplumbers_tables(edges, 1.0, 3.0, 2.0)
    joined, crossed = gap <= 3.0, reach <= 2.0
    # a table of one cell is no table: both cells are found, or neither
    assert [len(table) for table in mine] == ([2] if joined and crossed else [])


def test_rulings_seen_in_a_picture_give_pdfplumbers_tables() -> None:
    """The scan reader's rulings (pixel runs, not vector lines) through the same steps."""
    pytest.importorskip("cv2")
    import numpy as np
    import pypdfium2 as pdfium

    from pipeline.readers import optics

    document = pdfium.PdfDocument(PDFS["reportlab.pdf"])
    try:
        for page in document:
            picture = page.render(scale=200 / 72, grayscale=True).to_pil()
            _, horizontal, vertical = optics.ruling_masks(np.asarray(picture))
            edges = optics.ruling_edges(horizontal, vertical)
            snap = optics.SETTINGS.snap
            mine = _kaohes_tables(edges, snap, snap, snap)
            assert mine == _pdfplumbers_tables(edges, snap, snap, snap)
            assert max(len(table) for table in mine) > 20
            page.close()
    finally:
        document.close()


def test_a_table_whose_cells_join_it_over_several_passes_is_one_table() -> None:
    """A border left out low in the first column: that column's lower cells touch the table
    only through the next column, so grouping reaches them in a second pass over the cells
    (after 31 cells in the first) — still one table of 35, as pdfplumber has it."""
    steps = [float(v) for v in range(0, 61, 10)]
    edges = [_edge("h", y, 0.0, 60.0) for y in steps]
    edges += [_edge("v", x, 0.0, 60.0) for x in steps[1:]]
    edges += [_edge("v", 0.0, 0.0, 10.0), _edge("v", 0.0, 20.0, 60.0)]
    mine = _kaohes_tables(edges, 3, 3, 3)
    assert mine == _pdfplumbers_tables(edges, 3, 3, 3)
    assert [len(table) for table in mine] == [35]


def test_lines_that_are_not_numbers_go_through_pdfplumber() -> None:
    """A NaN or infinite coordinate (a broken path) is pdfplumber's to handle, as it was."""
    grid = [
        _edge("h", 10.0, 10.0, 50.0), _edge("h", 30.0, 10.0, 50.0),
        _edge("v", 10.0, 10.0, 30.0), _edge("v", 50.0, 10.0, 30.0), _edge("v", 30.0, 10.0, 30.0),
    ]  # fmt: skip
    for odd in (float("nan"), float("inf")):
        edges = [*grid, _edge("v", odd, 10.0, 30.0), _edge("h", 20.0, odd, 50.0)]
        assert _kaohes_tables(edges, 3, 3, 3) == _pdfplumbers_tables(edges, 3, 3, 3)
    assert len(_kaohes_tables(grid, 3, 3, 3)[0]) == 2
    assert _kaohes_tables([], 3, 3, 3) == _pdfplumbers_tables([], 3, 3, 3) == []


def test_ligatures_are_pdfplumbers() -> None:
    from pdfplumber.utils.text import LIGATURES as THEIRS

    from pipeline.readers.pdf import LIGATURES

    assert set(THEIRS) == LIGATURES


def test_the_pdf_fast_path_does_not_import_pdfplumber() -> None:
    """Each reader process reads a PDF without loading pdfplumber and pdfminer (a tenth of a
    second each time a reader starts)."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from pipeline.readers.pdf import read_pdf\n"
        "from tests.pdfs import reportlab_sheet\n"
        "data = reportlab_sheet()\n"
        "before = set(sys.modules)\n"
        "assert read_pdf(data)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith(('pdfplumber', 'pdfminer'))))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


_place = st.sampled_from([0.0, 5.0, 10.0, 10.5, 20.0, 30.0, 30.25, 40.0])
_widths, _heights = st.sampled_from([0.0, 1.0, 3.0]), st.sampled_from([0.0, 2.0, 10.5])


@st.composite
def _cells_and_chars(
    draw: st.DrawFn,
) -> tuple[list[dict[str, object]], list[tuple[float, float, float, float]]]:
    """Cells of a grid (merged ones spanning rows, overlapping and repeated ones too) and
    characters whose centres fall inside, outside and exactly on the cells' edges."""
    xs = sorted(draw(st.lists(_place, min_size=2, max_size=5, unique=True)))
    ys = sorted(draw(st.lists(_place, min_size=2, max_size=5, unique=True)))
    boxes = []
    for _ in range(draw(st.integers(1, 12))):
        left, right = sorted(draw(st.lists(st.sampled_from(xs), min_size=2, max_size=2)))
        top, bottom = sorted(draw(st.lists(st.sampled_from(ys), min_size=2, max_size=2)))
        boxes.append((left, top, right, bottom))
    boxes = list(dict.fromkeys(boxes))  # a cell is placed once (the reader's boxes are a set)
    chars = [
        _char("字", x - w / 2, y - h / 2, w, h)
        for x, y, w, h in draw(
            st.lists(
                st.tuples(_place, _place, _widths, _heights),
                max_size=30,
            )
        )
    ]
    return chars, boxes


@settings(max_examples=400, deadline=None)
@given(_cells_and_chars())
def test_characters_go_to_the_cells_the_plain_scan_puts_them_in(
    found: tuple[list[dict[str, object]], list[tuple[float, float, float, float]]],
) -> None:
    from pipeline.readers.pdf import _chars_by_cell, _chars_by_cell_scan

    chars, boxes = found
    fast = {box: [id(c) for c in placed] for box, placed in _chars_by_cell(chars, boxes).items()}
    plain = _chars_by_cell_scan(chars, boxes)  # type: ignore[arg-type]
    assert fast == {box: [id(c) for c in placed] for box, placed in plain.items()}


def test_cells_with_a_coordinate_that_is_no_number_are_scanned_plainly() -> None:
    from pipeline.readers.pdf import _chars_by_cell, _chars_by_cell_scan

    nan = float("nan")  # a NaN among the edges leaves them unsorted: no bisect
    boxes = [(20.0, 0.0, 30.0, nan), (5.0, 0.0, 30.0, 15.0)]
    chars = [_char("字", x, top, 2, 2) for x, top in [(14, 19), (4, 9), (4, 29), (4, 14), (9, -1)]]
    fast = _chars_by_cell(chars, boxes)  # type: ignore[arg-type]
    assert fast == _chars_by_cell_scan(chars, boxes)  # type: ignore[arg-type]
    assert [len(placed) for placed in fast.values()] == [0, 3]


def test_the_font_is_asked_for_every_character_a_font_could_turn_into_a_mark() -> None:
    """``may_be_symbol`` is exact where the reader asks for fonts (below the CJK blocks and
    in the private-use area): any other character shows as itself whatever its font."""
    from pipeline.readers.wordml import may_be_symbol, symbol_char

    fonts = ["", "Wingdings", "ABCDEF+Wingdings-Regular", "Wingdings 2", "WingdingsTwo",
             "Wingdng2", "SimSun", "Arial,Bold"]  # fmt: skip
    for code in range(0x3000):
        if may_be_symbol(code) or 0xD800 <= code <= 0xDFFF:
            continue
        text = chr(code)
        assert all(symbol_char(text, font) == text for font in fonts), hex(code)
    assert may_be_symbol(ord("R")) and may_be_symbol(0xF052) and not may_be_symbol(ord("1"))
