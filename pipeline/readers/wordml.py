"""WordprocessingML as a person reads it: text with all tracked changes accepted, ticked
boxes as ☑ and empty ones as □, tables as a grid of cells.

python-docx's ``Paragraph.text`` skips runs inside ``w:ins`` (tracked insertions), and
shows neither content-control checkboxes nor legacy form checkboxes; this walker does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple, Protocol

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def child(element: etree._Element, tag: str) -> etree._Element | None:
    """The first child with ``tag``: ``element.find(tag)`` for one plain tag, at a third of
    its cost (find goes through ElementPath; the reader asks this ~200 times a sheet)."""
    for candidate in element:
        if candidate.tag == tag:
            return candidate
    return None


TICKED, UNTICKED = "☑", "□"

#: Deleted text, field instructions, properties and placeholders are not what a reader sees.
_SKIP = frozenset(
    {
        w("del"),
        w("moveFrom"),
        w("delInstrText"),
        w("delText"),
        w("rPr"),
        w("pPr"),
        w("tblPr"),
        w("trPr"),
        w("tcPr"),
        w("sdtPr"),
        w("sdtEndPr"),
        w("fldData"),
        w("footnoteReference"),
        w("endnoteReference"),
        f"{{{MC_NS}}}Fallback",  # the VML copy of a text box already read from mc:Choice
    }
)

#: Symbol-font glyphs people insert for boxes and ticks: (font, code point) → character.
SYMBOLS: dict[tuple[str, int], str] = {
    ("wingdings", 0xF0FE): "☑",
    ("wingdings", 0xF0FD): "☒",
    ("wingdings", 0xF0FC): "✓",
    ("wingdings", 0xF0FB): "✗",
    ("wingdings", 0xF0A8): "□",
    ("wingdings", 0xF06F): "□",
    ("wingdings", 0xF071): "□",
    ("wingdings", 0xF06E): "■",
    ("wingdings 2", 0xF052): "☑",
    ("wingdings 2", 0xF053): "☒",
    ("wingdings 2", 0xF054): "☒",
    ("wingdings 2", 0xF050): "✓",
    ("wingdings 2", 0xF0A3): "□",
    ("wingdings 2", 0xF02A): "□",
    ("wingdings 2", 0xF0A2): "■",
}


def _symbol(font: str, code: int) -> str:
    return SYMBOLS.get((font.lower(), 0xF000 | (code & 0xFF)), "")


#: The low bytes of the symbol codes: only a character with one of them can show a mark
#: in a symbol font (the font maps ``0xF000 | code & 0xFF``).
_SYMBOL_BYTES = frozenset(code & 0xFF for _, code in SYMBOLS)


def may_be_symbol(code: int) -> bool:
    """Whether a PDF character with this code point could show as a tick or box depending
    on its font: a private-use code, or one a symbol font maps to a mark (Wingdings 2 "R").
    For any other character ``symbol_char`` gives the character whatever the font is."""
    return code >= 0xE000 or (code < 0x3000 and (code & 0xFF) in _SYMBOL_BYTES)


#: The same glyphs by private-use code point alone: the two fonts' tick and box codes do not
#: overlap, so a PDF that lost the font name (a substitute font) still gives the right mark.
_BY_CODE: dict[int, str] = {code: mark for (_, code), mark in SYMBOLS.items()}
_SUBSET = re.compile(r"^[A-Z]{6}\+")


def symbol_char(text: str, fontname: str) -> str:
    """A PDF character as the mark it shows: a Wingdings / Wingdings 2 tick or box (by its
    private-use code, or by the font's name for a plain letter such as Wingdings 2 "R")."""
    if len(text) != 1:
        return text
    code = ord(text)
    family = re.sub(r"[-,].*$", "", _SUBSET.sub("", fontname)).replace(" ", "").lower()
    font = {"wingdings": "wingdings", "wingdng": "wingdings",
            "wingdings2": "wingdings 2", "wingdng2": "wingdings 2"}.get(family)  # fmt: skip
    if font is not None:
        return _symbol(font, code) or text
    if 0xF000 <= code <= 0xF0FF:
        return _BY_CODE.get(code, text)
    return text


_T, _R, _TAB, _P, _SDT, _FLDCHAR, _INSTRTEXT, _SYM = (
    w("t"), w("r"), w("tab"), w("p"), w("sdt"), w("fldChar"), w("instrText"), w("sym")
)  # fmt: skip
_BREAKS = frozenset({w("br"), w("cr")})
_HYPHEN, _RPR, _RFONTS, _SDTPR, _SDTCONTENT = (
    w("noBreakHyphen"), w("rPr"), w("rFonts"), w("sdtPr"), w("sdtContent")
)  # fmt: skip
_ASCII, _HANSI, _FONT, _CHAR = w("ascii"), w("hAnsi"), w("font"), w("char")
_PLACEHOLDER = w("showingPlcHdr")


#: What the name of every symbol font read here starts with (in any case).
SYMBOL_FONT = "wingdings"


def _symbol_font(fonts: etree._Element) -> str:
    """The symbol font (Wingdings, Wingdings 2) a w:rFonts names, or ""."""
    name = fonts.get(_ASCII) or fonts.get(_HANSI) or ""
    return name if name.lower().startswith(SYMBOL_FONT) else ""


def _run_symbol_font(run: etree._Element) -> str:
    properties = child(run, _RPR)
    fonts = child(properties, _RFONTS) if properties is not None else None
    return _symbol_font(fonts) if fonts is not None else ""


def _checkbox_state(sdt_pr: etree._Element) -> bool | None:
    box = sdt_pr.find(f"{{{W14_NS}}}checkbox")
    if box is None:
        return None
    checked = box.find(f"{{{W14_NS}}}checked")
    value = checked.get(f"{{{W14_NS}}}val", "1") if checked is not None else "0"
    return value in ("1", "true", "on")


def _legacy_checkbox(fld_char: etree._Element) -> str:
    box = fld_char.find(f"{w('ffData')}/{w('checkBox')}")
    if box is None:
        return ""
    state = box.find(w("checked"))
    if state is None:
        state = box.find(w("default"))
    if state is None:
        return UNTICKED
    return TICKED if state.get(w("val"), "1") in ("1", "true", "on") else UNTICKED


def _text(element: etree._Element, out: list[str], symbol_font: str = "") -> None:
    for node in element:
        tag = node.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == _T:
            text = node.text or ""
            if symbol_font:
                text = "".join(_symbol(symbol_font, ord(c)) or c for c in text)
            out.append(text)
        elif tag == _R:
            _text(node, out, _run_symbol_font(node))
        elif tag == _TAB:
            out.append("\t")
        elif tag in _BREAKS:
            out.append("\n")
        elif tag == _HYPHEN:
            out.append("-")
        elif tag == _SYM:
            out.append(_symbol(node.get(_FONT, ""), int(node.get(_CHAR, "0"), 16)))
        elif tag == _FLDCHAR:
            out.append(_legacy_checkbox(node))
        elif tag == _INSTRTEXT:  # field instructions: kept aside, see _fields
            out.append(f"{_INSTR}{node.text or ''}{_END}")
        elif tag == _P:
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            _text(node, out)
            out.append("\n")
        elif tag == _SDT:
            properties = child(node, _SDTPR)
            content = child(node, _SDTCONTENT)
            if properties is not None:
                state = _checkbox_state(properties)
                if state is not None:
                    out.append(TICKED if state else UNTICKED)
                    continue
                if properties.find(_PLACEHOLDER) is not None:
                    continue  # hint text of an untouched control is not data
            if content is not None:
                _text(content, out, symbol_font)
        else:
            _text(node, out, symbol_font)


class ListLabels(Protocol):
    """Gives the automatic list label of a paragraph (see readers/numbering.py)."""

    def label(self, paragraph: etree._Element) -> str: ...


_INSTR, _END = "\x01", "\x02"
_INSTRUCTIONS = re.compile(f"(?:{_INSTR}[^{_END}]*{_END})+")
#: Word's 带圈字符 (enclose characters): ``eq \o\ac(□,√)`` shows a box with a tick in it.
_ENCLOSED_TICK = re.compile(
    r"^\s*eq\s*\\o\s*\\ac\s*\(\s*(?:[□☐○◯][^,]*,\s*[√✓✔]|[√✓✔][^,]*,\s*[□☐○◯])"
)


def _fields(text: str) -> str:
    """Field instructions are not shown text, except a field that draws a tick (带圈字符)."""

    def shown(match: re.Match[str]) -> str:
        instruction = match.group(0).replace(_INSTR, "").replace(_END, "")
        return TICKED if _ENCLOSED_TICK.match(instruction) else ""

    return _INSTRUCTIONS.sub(shown, text) if _INSTR in text else text


#: What the walk in ``_text`` treats specially. A part with none of them (and no symbol font)
#: is *plain*: each paragraph's text is its w:t, w:tab and w:br in document order, which one
#: pass of lxml's C iterator finds for the whole part — 4× faster than the walk, and the
#: same text (a test compares both on every fixture and on generated paragraphs).
_SPECIAL = (
    *sorted(_SKIP - {_RPR, w("pPr"), w("tblPr"), w("trPr"), w("tcPr")}),
    _SDT, _SYM, _FLDCHAR, _INSTRTEXT, _HYPHEN, w("txbxContent"), f"{{{MC_NS}}}AlternateContent",
)  # fmt: skip
_TABS = w("tabs")
_SHOWN = (_P, _T, _TAB, *_BREAKS)

#: Each paragraph's text in a plain part (before its list label), by paragraph element.
PlainTexts = dict[etree._Element, str]


def plain_texts(root: etree._Element, symbol_fonts: bool = True) -> PlainTexts | None:
    """The text of every paragraph under ``root`` when the part is plain, else None (the
    caller reads it with the walk). ``symbol_fonts=False``: the part's bytes name no symbol
    font (``Package.may_hold``), so its w:rFonts need not be looked at one by one."""
    if next(root.iter(*_SPECIAL), None) is not None:
        return None
    if symbol_fonts and any(_symbol_font(fonts) for fonts in root.iter(_RFONTS)):
        return None
    pieces: dict[etree._Element, list[str]] = {}
    current: list[str] = []
    for element in root.iter(*_SHOWN):
        tag = element.tag
        if tag == _T:
            current.append(element.text or "")
        elif tag == _P:  # no paragraph holds another in a plain part (no text boxes)
            current = pieces[element] = []
        elif tag != _TAB:
            current.append("\n")
        else:
            parent = element.getparent()
            if parent is None or parent.tag != _TABS:  # a tab stop (w:pPr/w:tabs) shows nothing
                current.append("\t")
    return {paragraph: "".join(found) for paragraph, found in pieces.items()}


def paragraph_text(
    paragraph: etree._Element, lists: ListLabels | None = None, plain: PlainTexts | None = None
) -> str:
    """A paragraph's text as shown with all tracked changes accepted (and its list number).
    ``plain``: its part's texts from ``plain_texts`` (the same text, found faster)."""
    found = plain.get(paragraph) if plain is not None else None
    if found is not None:
        text = found.rstrip("\n")
    else:
        out: list[str] = []
        _text(paragraph, out)
        text = _fields("".join(out)).rstrip("\n")
    return (lists.label(paragraph) if lists is not None else "") + text


_THROUGH = frozenset({w("customXml"), w("ins"), w("moveTo")})
_DROPPED = frozenset({w("del"), w("moveFrom")})
_TBL, _TR, _TC = w("tbl"), w("tr"), w("tc")


def _content_children(element: etree._Element) -> Iterator[etree._Element]:
    """Children, looking through content controls and custom XML that wrap them."""
    for node in element:
        tag = node.tag
        if tag == _SDT:
            content = child(node, _SDTCONTENT)
            if content is not None:
                yield from _content_children(content)
        elif tag in _THROUGH:
            yield from _content_children(node)
        elif tag not in _DROPPED:
            yield node


def block_text(
    element: etree._Element, lists: ListLabels | None = None, plain: PlainTexts | None = None
) -> str:
    """Text of a block container (cell, body, header): its paragraphs joined by newlines."""
    lines: list[str] = []
    for node in _content_children(element):
        if node.tag == _P:
            lines.append(paragraph_text(node, lists, plain))
        elif node.tag == _TBL:
            for row in _content_children(node):
                if row.tag == _TR:
                    for cell in _content_children(row):
                        if cell.tag == _TC:
                            lines.append(block_text(cell, lists, plain))
    return "\n".join(lines)


class GridCell(NamedTuple):
    """One table cell placed on the table's column grid (a tuple: a sheet's reader makes
    ~35 of them, at a quarter of a frozen dataclass's cost)."""

    row: int
    col: int
    span: int
    text: str
    #: A vertically merged continuation of the cell above (its text belongs to that cell).
    continued: bool = False

    @property
    def end(self) -> int:
        return self.col + self.span


_TRPR, _BEFORE = w("trPr"), w("gridBefore")
_TCPR, _GRID_SPAN, _VMERGE, _VAL = w("tcPr"), w("gridSpan"), w("vMerge"), w("val")


def table_grid(
    table: etree._Element, lists: ListLabels | None = None, plain: PlainTexts | None = None
) -> list[GridCell]:
    """The table's cells on its column grid, row by row (a nested table's cells are part of
    the text of the cell holding it)."""
    if plain is not None:
        found = _plain_grid(table, lists, plain)
        if found is not None:
            return found
    cells: list[GridCell] = []
    row_index = 0
    for row in _content_children(table):
        if row.tag != _TR:
            continue
        col = _first_column(row)
        for cell in _content_children(row):
            if cell.tag != _TC:
                continue
            span, continued = _span(cell)
            text = block_text(cell, lists, plain)
            cells.append(GridCell(row_index, col, span, text, continued))
            col += span
        row_index += 1
    return cells


def _first_column(row: etree._Element) -> int:
    """The grid column a row's first cell is in (``w:trPr/w:gridBefore``: columns skipped)."""
    before = next((b for p in row if p.tag == _TRPR for b in p if b.tag == _BEFORE), None)
    return int(before.get(_VAL, "0")) if before is not None else 0


def _span(cell: etree._Element) -> tuple[int, bool]:
    """How many grid columns a cell spans, and whether it continues the merged cell above."""
    props = child(cell, _TCPR)
    if props is None:
        return 1, False
    grid_span = merge = None
    for setting in props:  # the first of each, as find() would
        if setting.tag == _GRID_SPAN and grid_span is None:
            grid_span = setting
        elif setting.tag == _VMERGE and merge is None:
            merge = setting
    span = max(int(grid_span.get(_VAL, "1")), 1) if grid_span is not None else 1
    return span, merge is not None and merge.get(_VAL, "continue") == "continue"


_TXBX = w("txbxContent")


def body_blocks(body: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables of the body in reading order — also a sheet placed inside a text
    box, or inside a one-cell table used as a frame (their tables come out as blocks)."""
    # one pass of lxml's C iterator says whether any paragraph can hold a text box, instead
    # of a search under each paragraph (a sheet has ~50 of them and nearly never a box)
    return _blocks(body, next(body.iter(_TXBX), None) is not None)


def _blocks(container: etree._Element, boxes: bool) -> Iterator[etree._Element]:
    for child in _content_children(container):
        tag = child.tag
        if tag == _TBL and _is_frame(child):
            for cell in child.iter(_TC):
                yield from _blocks(cell, boxes)
                break
            continue
        if tag == _P and boxes:
            found = [
                b
                for b in child.iter(_TXBX)
                if next(b.iter(_TBL), None) is not None and not _inside_fallback(b)
            ]
            if found:
                for box in found:
                    yield from _blocks(box, boxes)
                continue
        if tag in (_P, _TBL):
            yield child


def _is_frame(table: etree._Element) -> bool:
    """A table of one cell holding another table: a frame around the real sheet (the one
    w:tc of its w:tr children has a w:tbl child)."""
    only: etree._Element | None = None
    for row in table:
        if row.tag == _TR:
            for cell in row:
                if cell.tag == _TC:
                    if only is not None:
                        return False
                    only = cell
    return only is not None and child(only, _TBL) is not None


def _inside_fallback(element: etree._Element) -> bool:
    """Part of the VML copy Word writes after the DrawingML one (read once, not twice)."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag == f"{{{MC_NS}}}Fallback":
            return True
        parent = parent.getparent()
    return False


def _within(element: etree._Element, container: etree._Element | None) -> bool:
    """``element`` is a child of ``container``, directly or through the wrappers
    ``_content_children`` looks through (in a plain part there is no content control)."""
    parent = element.getparent()
    while parent is not container:
        if parent is None or parent.tag not in _THROUGH:
            return False
        parent = parent.getparent()
    return True


_GRID_TAGS = (_TR, _TC, _P, _TBL, _BEFORE, _GRID_SPAN, _VMERGE)


def _plain_grid(
    table: etree._Element, lists: ListLabels | None, plain: PlainTexts
) -> list[GridCell] | None:
    """``table_grid`` of a table in a plain part, its rows, cells, paragraphs and grid
    settings found by one pass of lxml's C iterator — or None when the table is not one this
    pass reads exactly as the walk does (a nested table, a row's settings after its cells, a
    row, cell or paragraph in an unusual place)."""
    cells: list[GridCell] = []
    row: etree._Element | None = None
    cell: etree._Element | None = None
    properties: etree._Element | None = None  # the cell's first w:tcPr
    row_index, col, span, continued = -1, 0, 1, False
    spanned = merged = False  # the cell's first w:gridSpan, w:vMerge seen
    lines: list[str] = []
    for element in table.iter(*_GRID_TAGS):
        tag = element.tag
        if tag == _P:
            if cell is None or (element.getparent() is not cell and not _within(element, cell)):
                return None
            found = plain.get(element) if lists is None else None
            # paragraph_text's answer without its call (a sheet's table has ~45 paragraphs)
            lines.append(
                found.rstrip("\n") if found is not None else paragraph_text(element, lists, plain)
            )
        elif tag == _TBL:
            if element is not table:
                return None  # a nested table: its cells are the walk's business
        elif tag == _BEFORE:
            parent = element.getparent()
            owner = parent.getparent() if parent is not None else None
            if row is None or parent is None or parent.tag != _TRPR or owner is not row:
                continue  # an earlier setting (w:trPrChange), not the row's own
            if cell is not None:
                return None  # the row's settings after a cell of it
            col = _first_column(row)  # the walk's own answer
        elif tag in (_TC, _TR):  # either ends the cell before it
            if cell is not None:
                cells.append(GridCell(row_index, col, span, "\n".join(lines), continued))
                col += span
                cell = None
            parent = element.getparent()
            if tag == _TR:
                if parent is not table and not _within(element, table):
                    return None
                row, row_index, col = element, row_index + 1, 0
            elif row is None or (parent is not row and not _within(element, row)):
                return None
            else:
                cell, properties, lines = element, child(element, _TCPR), []
                span, continued, spanned, merged = 1, False, False, False
        elif cell is not None and element.getparent() is properties:
            if tag == _GRID_SPAN and not spanned:
                span, spanned = max(int(element.get(_VAL, "1")), 1), True
            elif tag == _VMERGE and not merged:
                continued, merged = element.get(_VAL, "continue") == "continue", True
    if cell is not None:
        cells.append(GridCell(row_index, col, span, "\n".join(lines), continued))
    return cells
