"""WordprocessingML as a person reads it: text with all tracked changes accepted, ticked
boxes as ☑ and empty ones as □, tables as a grid of cells.

python-docx's ``Paragraph.text`` skips runs inside ``w:ins`` (tracked insertions), and
shows neither content-control checkboxes nor legacy form checkboxes; this walker does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


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


def _run_symbol_font(run: etree._Element) -> str:
    properties = run.find(_RPR)
    fonts = properties.find(_RFONTS) if properties is not None else None
    if fonts is None:
        return ""
    name = fonts.get(_ASCII) or fonts.get(_HANSI) or ""
    return name if name.lower().startswith("wingdings") else ""


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
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == _T:
            text = child.text or ""
            if symbol_font:
                text = "".join(_symbol(symbol_font, ord(c)) or c for c in text)
            out.append(text)
        elif tag == _R:
            _text(child, out, _run_symbol_font(child))
        elif tag == _TAB:
            out.append("\t")
        elif tag in _BREAKS:
            out.append("\n")
        elif tag == _HYPHEN:
            out.append("-")
        elif tag == _SYM:
            out.append(_symbol(child.get(_FONT, ""), int(child.get(_CHAR, "0"), 16)))
        elif tag == _FLDCHAR:
            out.append(_legacy_checkbox(child))
        elif tag == _INSTRTEXT:  # field instructions: kept aside, see _fields
            out.append(f"{_INSTR}{child.text or ''}{_END}")
        elif tag == _P:
            if out and not out[-1].endswith("\n"):
                out.append("\n")
            _text(child, out)
            out.append("\n")
        elif tag == _SDT:
            properties = child.find(_SDTPR)
            content = child.find(_SDTCONTENT)
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
            _text(child, out, symbol_font)


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


def paragraph_text(paragraph: etree._Element, lists: ListLabels | None = None) -> str:
    """A paragraph's text as shown with all tracked changes accepted (and its list number)."""
    out: list[str] = []
    _text(paragraph, out)
    text = _fields("".join(out)).rstrip("\n")
    return (lists.label(paragraph) if lists is not None else "") + text


_THROUGH = frozenset({w("customXml"), w("ins"), w("moveTo")})
_DROPPED = frozenset({w("del"), w("moveFrom")})
_TBL, _TR, _TC = w("tbl"), w("tr"), w("tc")


def _content_children(element: etree._Element) -> Iterator[etree._Element]:
    """Children, looking through content controls and custom XML that wrap them."""
    for child in element:
        tag = child.tag
        if tag == _SDT:
            content = child.find(_SDTCONTENT)
            if content is not None:
                yield from _content_children(content)
        elif tag in _THROUGH:
            yield from _content_children(child)
        elif tag not in _DROPPED:
            yield child


def block_text(element: etree._Element, lists: ListLabels | None = None) -> str:
    """Text of a block container (cell, body, header): its paragraphs joined by newlines."""
    lines: list[str] = []
    for child in _content_children(element):
        if child.tag == _P:
            lines.append(paragraph_text(child, lists))
        elif child.tag == _TBL:
            for row in _content_children(child):
                if row.tag == _TR:
                    for cell in _content_children(row):
                        if cell.tag == _TC:
                            lines.append(block_text(cell, lists))
    return "\n".join(lines)


@dataclass(frozen=True)
class GridCell:
    """One table cell placed on the table's column grid."""

    row: int
    col: int
    span: int
    text: str
    #: A vertically merged continuation of the cell above (its text belongs to that cell).
    continued: bool = False

    @property
    def end(self) -> int:
        return self.col + self.span


_GRID_BEFORE = f"{w('trPr')}/{w('gridBefore')}"
_TCPR, _GRID_SPAN, _VMERGE, _VAL = w("tcPr"), w("gridSpan"), w("vMerge"), w("val")


def table_grid(table: etree._Element, lists: ListLabels | None = None) -> list[GridCell]:
    cells: list[GridCell] = []
    row_index = 0
    for row in _content_children(table):
        if row.tag != _TR:
            continue
        before = row.find(_GRID_BEFORE)
        col = int(before.get(_VAL, "0")) if before is not None else 0
        for cell in _content_children(row):
            if cell.tag != _TC:
                continue
            props = cell.find(_TCPR)
            span, continued = 1, False
            if props is not None:
                grid_span = props.find(_GRID_SPAN)
                if grid_span is not None:
                    span = max(int(grid_span.get(_VAL, "1")), 1)
                merge = props.find(_VMERGE)
                continued = merge is not None and merge.get(_VAL, "continue") == "continue"
            cells.append(GridCell(row_index, col, span, block_text(cell, lists), continued))
            col += span
        row_index += 1
    return cells


def body_blocks(body: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables of the body in reading order — also a sheet placed inside a text
    box, or inside a one-cell table used as a frame (their tables come out as blocks)."""
    for child in _content_children(body):
        if child.tag == w("tbl") and _is_frame(child):
            for cell in child.iter(w("tc")):
                yield from body_blocks(cell)
                break
            continue
        if child.tag == w("p"):
            boxes = [
                b
                for b in child.iter(w("txbxContent"))
                if b.find(f".//{w('tbl')}") is not None and not _inside_fallback(b)
            ]
            if boxes:
                for box in boxes:
                    yield from body_blocks(box)
                continue
        if child.tag in (w("p"), w("tbl")):
            yield child


def _is_frame(table: etree._Element) -> bool:
    """A table of one cell holding another table: a frame around the real sheet."""
    cells = table.findall(f"{w('tr')}/{w('tc')}")
    return len(cells) == 1 and cells[0].find(w("tbl")) is not None


def _inside_fallback(element: etree._Element) -> bool:
    """Part of the VML copy Word writes after the DrawingML one (read once, not twice)."""
    parent = element.getparent()
    while parent is not None:
        if parent.tag == f"{{{MC_NS}}}Fallback":
            return True
        parent = parent.getparent()
    return False
