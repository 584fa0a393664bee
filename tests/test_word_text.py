"""The Word reader's two routes to a paragraph's text give the same text.

A *plain* part (no tracked deletions, fields, content controls, symbols, text boxes, symbol
fonts) is read by one pass of lxml's iterator; every other part by the walk that knows all
those. The plain route exists for speed only, so it must never read anything differently:
paragraph by paragraph on generated paragraphs, and sheet by sheet on real documents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.models import Period
from pipeline.readers import docx as docx_reader
from pipeline.readers import wordml
from pipeline.readers.package import SAFE_PARSER
from pipeline.readers.raw import raw_to_json
from pipeline.readers.wordml import W_NS, paragraph_text, plain_texts, table_grid, w
from pipeline.stages.generate import generate
from pipeline.workspace import Workspace

from . import docs
from .filling import MODEST, fill

ROOT = Path(__file__).resolve().parent.parent
NS = f'xmlns:w="{W_NS}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'

_text = st.text(alphabet="张伟 完成检查0123.，；：（）ab\u3000", max_size=8)


def _t(text: str) -> str:
    return f'<w:t xml:space="preserve">{text}</w:t>'


_FONTS = st.sampled_from(["宋体", "Times New Roman", "Symbol", "Wingdings", "WINGDINGS 2"])
_run_content = st.lists(
    st.one_of(
        _text.map(_t),
        st.just("<w:tab/>"),
        st.just("<w:br/>"),
        st.just("<w:cr/>"),
        st.just("<w:lastRenderedPageBreak/>"),
        st.just('<w:sym w:font="Wingdings 2" w:char="F052"/>'),  # special: the walk only
        st.just("<w:noBreakHyphen/>"),  # special
        st.just('<w:fldChar w:fldCharType="begin"/>'),  # special
        st.just("<w:instrText> PAGE </w:instrText>"),  # special
    ),
    max_size=4,
)
_run_props = st.one_of(
    st.just(""),
    st.just("<w:rPr><w:b/></w:rPr>"),
    _FONTS.map(lambda f: f'<w:rPr><w:rFonts w:ascii="{f}" w:hAnsi="{f}"/></w:rPr>'),
)
_run = st.builds(
    lambda props, content: f"<w:r>{props}{''.join(content)}</w:r>", _run_props, _run_content
)


def _inline(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    wrap = st.sampled_from(
        [
            "<w:hyperlink>{}</w:hyperlink>",
            '<w:ins w:id="1" w:author="a">{}</w:ins>',
            '<w:del w:id="2" w:author="a">{}</w:del>',  # special
            "<w:smartTag>{}</w:smartTag>",
            '<w:fldSimple w:instr=" PAGE ">{}</w:fldSimple>',
            "<w:customXml>{}</w:customXml>",
            "<w:sdt><w:sdtPr/><w:sdtContent>{}</w:sdtContent></w:sdt>",  # special
            '<w:bookmarkStart w:id="0" w:name="x"/>{}<w:bookmarkEnd w:id="0"/>',
            "<w:proofErr/>{}",
        ]
    )
    return st.builds(
        lambda form, inner: form.format("".join(inner)), wrap, st.lists(children, max_size=3)
    )


_content = st.recursive(_run, _inline, max_leaves=8)
_paragraph_props = st.sampled_from(
    [
        "",
        '<w:pPr><w:jc w:val="center"/></w:pPr>',
        '<w:pPr><w:tabs><w:tab w:val="left" w:pos="420"/></w:tabs></w:pPr>',
        "<w:pPr><w:rPr><w:b/></w:rPr></w:pPr>",
    ]
)
_paragraph = st.builds(
    lambda props, content: f"<w:p>{props}{''.join(content)}</w:p>",
    _paragraph_props,
    st.lists(_content, max_size=4),
)


def _walked(paragraph: etree._Element) -> str:
    return paragraph_text(paragraph, None, None)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_paragraph, min_size=1, max_size=4), st.booleans())
def test_plain_route_gives_the_walks_text_for_any_paragraph(
    paragraphs: list[str], in_cell: bool
) -> None:
    inner = "".join(paragraphs)
    if in_cell:
        inner = f"<w:tbl><w:tr><w:tc>{inner}</w:tc></w:tr></w:tbl><w:p/>"
    body = etree.fromstring(f"<w:body {NS}>{inner}</w:body>".encode(), SAFE_PARSER)
    plain = plain_texts(body)
    for paragraph in body.iter(w("p")):
        assert paragraph_text(paragraph, None, plain) == _walked(paragraph)


def test_special_content_is_left_to_the_walk() -> None:
    for inner in (
        '<w:r><w:sym w:font="Wingdings 2" w:char="F052"/></w:r>',
        '<w:r><w:rPr><w:rFonts w:ascii="Wingdings 2"/></w:rPr><w:t>R</w:t></w:r>',
        '<w:del w:id="1" w:author="a"><w:r><w:delText>旧</w:delText></w:r></w:del>',
        "<w:sdt><w:sdtPr/><w:sdtContent><w:r><w:t>x</w:t></w:r></w:sdtContent></w:sdt>",
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
        "<w:r><w:drawing><w:txbxContent><w:p/></w:txbxContent></w:drawing></w:r>",
    ):
        body = etree.fromstring(f"<w:body {NS}><w:p>{inner}</w:p></w:body>".encode(), SAFE_PARSER)
        assert plain_texts(body) is None, inner


def _sheets(data: bytes, monkeypatch: pytest.MonkeyPatch, *, plain: bool) -> list[object]:
    with monkeypatch.context() as patch:
        if not plain:
            patch.setattr(docx_reader, "plain_texts", lambda root, *_: None)
        return [raw_to_json(s) for s in docx_reader.read_docx(data)]


def _corpus(workspace: Workspace) -> dict[str, bytes]:
    generate(workspace, Period(year=2026, quarter=4))
    blank = sorted(workspace.blank_dir(Period(year=2026, quarter=4)).glob("*/*.docx"))[
        0
    ].read_bytes()
    filled = fill(blank, MODEST)
    variants: dict[str, Callable[[bytes], bytes]] = {
        "filled": lambda b: filled,
        "blank": lambda b: b,
        "tracked": lambda b: docs.with_tracked_changes(
            b, "第一月", kept="完成", inserted="新增", deleted="删去"
        ),
        "checkbox": lambda b: docs.with_checkbox_grade(b, "较好"),
        "line_breaks": lambda b: docs.with_line_breaks(b, "第一月", ["一", "二", "三"]),
        "numbered": lambda b: docs.with_numbered_list(b, "第一月", ["一", "二"]),
        "pasted": lambda b: docs.pasted_together([filled, filled]),
        "symbol": lambda b: docs.with_symbol_tick(b, "较好", font="Wingdings 2", char="F052"),
        "framed": lambda b: docs.framed(filled, how="frame"),
        "textbox": lambda b: docs.framed(filled, how="textbox"),
        "enclosed": lambda b: docs.with_enclosed_tick(b, "较好"),
        "comment": lambda b: docs.with_comment(b, "第二月", text="完成", comment="请补充"),
        "placeholder": lambda b: docs.with_placeholder_control(b, "第三月", "请填写"),
        "original": lambda b: docs.original_attachment(name="张伟"),
    }
    corpus = {name: make(blank) for name, make in variants.items()}
    for path in sorted((ROOT / "tests" / "fixtures" / "libreoffice").glob("*.docx")):
        corpus[path.name] = path.read_bytes()
    return corpus


def test_plain_route_reads_every_sheet_as_the_walk_does(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus(workspace)
    plain_used = 0
    for name, data in corpus.items():
        try:
            fast = _sheets(data, monkeypatch, plain=True)
        except Exception as exc:
            with pytest.raises(type(exc)):
                _sheets(data, monkeypatch, plain=False)
            continue
        assert fast == _sheets(data, monkeypatch, plain=False), name
        package = docx_reader.open_package(data)
        body = package.xml(docx_reader._main_part(package)).find(w("body"))
        plain_used += plain_texts(body) is not None
    assert plain_used >= 3  # the test is not vacuous: ordinary sheets do take the plain route


_plain_paragraph = st.lists(_text, max_size=2).map(
    lambda texts: "<w:p>" + "".join(f"<w:r>{_t(t)}</w:r>" for t in texts) + "</w:p>"
)
#: Wrappers the walk looks through, and one it does not (a stray w:smartTag around a block).
_wrapper = st.sampled_from(["{}", "{}", '<w:ins w:id="3" w:author="a">{}</w:ins>',
                            "<w:customXml>{}</w:customXml>", "<w:moveTo>{}</w:moveTo>",
                            "<w:smartTag>{}</w:smartTag>"])  # fmt: skip


def _properties(tag: str, settings: list[str]) -> st.SearchStrategy[str]:
    """A w:tcPr or w:trPr holding up to three of ``settings`` (or none at all)."""
    return st.lists(st.sampled_from(settings), max_size=3).map(
        lambda chosen: f"<w:{tag}>{''.join(chosen)}</w:{tag}>" if chosen else ""
    )


_cell_properties = _properties(
    "tcPr",
    [
        '<w:gridSpan w:val="2"/>',
        '<w:gridSpan w:val="0"/>',
        '<w:vMerge w:val="restart"/>',
        "<w:vMerge/>",
        '<w:tcW w:w="100" w:type="dxa"/>',
        '<w:tcPrChange w:id="4" w:author="a"><w:tcPr><w:gridSpan w:val="3"/>'
        "<w:vMerge/></w:tcPr></w:tcPrChange>",
    ],
)
_cell_content = st.lists(
    st.one_of(
        st.builds(lambda form, p: form.format(p), _wrapper, _plain_paragraph),
        st.just("<w:tbl><w:tr><w:tc><w:p><w:r><w:t>内</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"),
        st.just('<w:bookmarkStart w:id="0" w:name="x"/>'),
    ),
    max_size=3,
)
_cell = st.builds(
    lambda form, props, content: form.format(f"<w:tc>{props}{''.join(content)}</w:tc>"),
    _wrapper,
    _cell_properties,
    _cell_content,
)
_row_properties = _properties(
    "trPr",
    [
        '<w:gridBefore w:val="1"/>',
        '<w:gridBefore w:val="0"/>',
        '<w:trHeight w:val="300"/>',
        '<w:trPrChange w:id="5" w:author="a"><w:trPr><w:gridBefore w:val="2"/></w:trPr>'
        "</w:trPrChange>",
    ],
)
_row = st.builds(
    lambda form, props, cells, late: form.format(f"<w:tr>{props}{''.join(cells)}{late}</w:tr>"),
    _wrapper,
    _row_properties,
    st.lists(_cell, max_size=4),
    st.sampled_from(  # misplaced: the row's settings or a paragraph after its cells
        [
            "",
            "",
            "",
            '<w:trPr><w:gridBefore w:val="1"/></w:trPr>',
            "<w:p><w:r><w:t>外</w:t></w:r></w:p>",
        ]
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row, max_size=4))
@example(  # a revision's old settings before the cell's own, and a row's after its cells
    [
        '<w:tr><w:tc><w:tcPr><w:tcPrChange w:id="4" w:author="a"><w:tcPr><w:gridSpan w:val="3"/>'
        '<w:vMerge/></w:tcPr></w:tcPrChange><w:gridSpan w:val="2"/></w:tcPr><w:p/></w:tc></w:tr>',
        '<w:tr><w:tc><w:p/></w:tc><w:tc><w:p/></w:tc><w:trPr><w:gridBefore w:val="1"/></w:trPr>'
        "</w:tr>",
    ]
)
def test_plain_table_route_gives_the_walks_grid_for_any_table(rows: list[str]) -> None:
    body = etree.fromstring(
        f"<w:body {NS}><w:tbl><w:tblPr/>{''.join(rows)}</w:tbl></w:body>".encode(), SAFE_PARSER
    )
    plain = plain_texts(body)
    assert plain is not None  # the generated tables are plain: the fast route is tried
    table = body[0]
    walked = table_grid(table, None, None)
    fast = wordml._plain_grid(table, None, plain)
    assert fast is None or fast == walked
    assert table_grid(table, None, plain) == walked


def test_plain_table_route_reads_ordinary_sheets(workspace: Workspace) -> None:
    corpus = _corpus(workspace)
    for name in ("filled", "blank", "numbered", "line_breaks"):
        package = docx_reader.open_package(corpus[name])
        body = package.xml(docx_reader._main_part(package)).find(w("body"))
        plain = plain_texts(body)
        assert plain is not None, name
        for table in body.iter(w("tbl")):
            assert wordml._plain_grid(table, None, plain) is not None, name
