"""A returned .docx/.docm (Word, WPS, LibreOffice) → RawSheet, reading the package XML directly.

python-docx's ``Document()`` costs ~20 ms a file; lxml on the three or four parts
needed costs a few. Macros in .docm are never run: only XML parts are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .layout import MIN_LABELS, find_fields, read_loose_lines
from .limits import DEFAULT_LIMITS, Limits
from .numbering import Numbering
from .package import Package, open_package
from .raw import RawField, RawSheet, ReadFailure
from .wordml import (
    SYMBOL_FONT,
    W_NS,
    block_text,
    body_blocks,
    child,
    paragraph_text,
    plain_texts,
    table_grid,
    w,
)

_HEADER_FOOTER = re.compile(r"/relationships/(header|footer)$")
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_CP_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"


def _main_part(package: Package) -> str:
    """The main document part's name, from the package relationships (usually word/document.xml)."""
    if package.has("_rels/.rels"):
        for _, kind, target in package.relationships("_rels/.rels"):
            if kind.endswith("/officeDocument"):
                return target.lstrip("/")
    return "word/document.xml"


#: (id, type, part name) of each part the main document refers to that exists.
Related = list[tuple[str, str, str]]


def _relationships(package: Package, main: str) -> Related:
    """The parts the main document refers to (read once a document: the list definitions,
    the headers and the footers all ask)."""
    folder, _, name = main.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels"
    if not package.has(rels):
        return []
    found: Related = []
    for rel_id, kind, target in package.relationships(rels):
        part = f"{folder}/{target}".replace("/./", "/")
        if package.has(part):
            found.append((rel_id, kind, part))
    return found


def _related_texts(package: Package, related: Related) -> list[RawField]:
    """Header and footer texts (where the printed form code lives)."""
    texts: list[RawField] = []
    for _, kind, target in related:
        found = _HEADER_FOOTER.search(kind)
        if found:
            where = "页眉" if found.group(1) == "header" else "页脚"
            texts.append(RawField(_part_text(package, target), where))
    return texts


def _list_part_names(related: Related) -> dict[str, str]:
    found: dict[str, str] = {}
    for _, kind, target in related:
        short = kind.rsplit("/", 1)[-1]
        if short in ("numbering", "styles"):
            found[short] = target
    return found


#: Parsed list definitions by the parts' (CRC-32, size): sheets made from one template
#: share them, and styles.xml of a python-docx-born document is ~350 KB to parse.
_LIST_CACHE: dict[tuple[int, ...], Numbering] = {}
_LIST_CACHE_SIZE = 64


def _lists(package: Package, related: Related) -> Numbering:
    names = _list_part_names(related)
    key = tuple(
        value
        for kind in ("numbering", "styles")
        for value in (
            (
                package.members[names[kind]].CRC,
                package.members[names[kind]].file_size,
            )
            if kind in names
            else (0, 0)
        )
    )
    cached = _LIST_CACHE.get(key)
    if cached is None:
        numbering = package.xml(names["numbering"]) if "numbering" in names else None
        styles = package.xml(names["styles"]) if "styles" in names else None
        cached = Numbering.parse(numbering, styles)
        if len(_LIST_CACHE) >= _LIST_CACHE_SIZE:
            _LIST_CACHE.clear()
        _LIST_CACHE[key] = cached
    return cached.fresh()


def _property_code(package: Package) -> str:
    if package.has("docProps/custom.xml"):
        for prop in package.xml("docProps/custom.xml").iter(f"{{{_CUSTOM_NS}}}property"):
            if prop.get("name") == "KaoheFormCode":
                return "".join(str(t) for t in prop.itertext()).strip()
    if package.has("docProps/core.xml"):
        keywords = package.xml("docProps/core.xml").find(f"{{{_CP_NS}}}keywords")
        if keywords is not None and keywords.text:
            return keywords.text.strip()
    return ""


_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_P, _PPR, _SECTPR = w("p"), w("pPr"), w("sectPr")
#: A title or period line starts the next sheet when found between two sheets' tables.
_NEXT_SHEET_LINE = re.compile(r"记实表|考核表|\d{4}\s*年\s*第?\s*\S\s*季")


_SYMBOL_FONT = SYMBOL_FONT.encode()


def _part_text(package: Package, name: str) -> str:
    part = package.xml(name)
    return block_text(part, None, plain_texts(part, package.may_hold(name, _SYMBOL_FONT)))


def _footer_texts(package: Package, related: Related) -> dict[str, str]:
    """Footer part text by relationship id (each section names its own footer)."""
    return {
        rel_id: _part_text(package, target)
        for rel_id, kind, target in related
        if kind.endswith("/footer")
    }


def _section_footers(section: etree._Element | None) -> list[str]:
    if section is None:
        return []
    return [
        str(ref.get(f"{{{_R_NS}}}id", "")) for ref in section.iter(f"{{{W_NS}}}footerReference")
    ]


@dataclass
class _Part:
    """One sheet of a document being read: its tables' fields and the lines around them."""

    sheet: RawSheet
    lines: list[tuple[int, str]] = field(default_factory=list)
    section: int = 0
    tables: int = 0
    after_tables: int = 0  # lines before this index came before its last table


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> list[RawSheet]:
    """Read the filled record sheet(s) of a Word document, one RawSheet per sheet; raise
    ReadFailure when it is no readable Word document or holds no sheet.

    A unit clerk may paste several people's sheets into one document: a table that names a
    person again starts the next sheet. Each sheet keeps the lines around it (its period
    line, its 签字 line) and the footer of its own section; document properties and a footer
    shared by several sheets identify nobody when the document holds more than one sheet.
    """
    package = open_package(data, limits=limits)
    main = _main_part(package)
    if not package.has(main):
        raise ReadFailure("UNREADABLE_FILE", "压缩包中没有 Word 正文，不是有效的 .docx 文件")
    document = package.xml(main)
    body = document.find(f"{{{W_NS}}}body")
    if body is None:
        raise ReadFailure("UNREADABLE_FILE", "Word 文档没有正文")

    related = _relationships(package, main)
    numbering = _lists(package, related)
    lists = numbering if numbering.applies_to(body) else None
    plain = plain_texts(body, package.may_hold(main, _SYMBOL_FONT))
    parts = [_Part(RawSheet(format="docx"))]
    sections: list[list[str]] = []  # footer ids of each section, in order
    tables = 0
    for index, block in enumerate(body_blocks(body)):
        part = parts[-1]
        if block.tag == _P:
            part.lines.append((index, paragraph_text(block, lists, plain)))
            properties = child(block, _PPR)
            section = child(properties, _SECTPR) if properties is not None else None
            if section is not None:
                sections.append(_section_footers(section))
            continue
        tables += 1
        fields, labels, problems = find_fields(
            table_grid(block, lists, plain), "表格" if tables == 1 else f"第{tables}个表格"
        )
        if "name" in fields and "name" in part.sheet.fields:  # another person's sheet
            moved = _lines_of_next(part.lines[part.after_tables :])
            part.lines = part.lines[: len(part.lines) - len(moved)]
            part = _Part(RawSheet(format="docx"), moved, len(sections))
            parts.append(part)
        if part.tables == 0:
            part.section = len(sections)
        part.tables += 1
        part.after_tables = len(part.lines)
        # A sheet may be split into several tables (page breaks, the notice's own layout
        # with the 签字 line between rows): every table's fields count, the first wins.
        part.sheet.labels_found += labels
        part.sheet.problems.extend(problems)
        for name, value in fields.items():
            part.sheet.fields.setdefault(name, value)
    sections.append(_section_footers(body.find(f"{{{W_NS}}}sectPr")))
    sheets = [p for p in parts if p.sheet.labels_found >= MIN_LABELS]
    if not sheets:
        raise ReadFailure(
            "NOT_A_RECORD_SHEET",
            "文档中找不到记实表的表格（姓名、工作纪实、出勤记录等栏目），可能交错了文件",
        )
    footers = _footer_texts(package, related) if len(sheets) > 1 else {}
    own_sections = len({p.section for p in sheets}) == len(sheets)
    for part in sheets:
        read_loose_lines(part.sheet, ((t, f"正文第{i + 1}段") for i, t in part.lines))
        if len(sheets) == 1:
            part.sheet.code_texts.extend(_related_texts(package, related))
            part.sheet.property_code = _property_code(package)
        elif own_sections:  # each sheet in its own section: its own footer is its own code
            ids = sections[part.section] if part.section < len(sections) else []
            part.sheet.code_texts.extend(
                RawField(footers[i], f"第{part.section + 1}节页脚") for i in ids if i in footers
            )
        part.sheet.sheets_in_file = len(sheets)
    return [p.sheet for p in sheets]


def _lines_of_next(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The trailing lines that belong to the next sheet: from its title or period line on."""
    for position, (_, text) in enumerate(lines):
        if _NEXT_SHEET_LINE.search(text) and not text.strip().startswith(("签字", "签名")):
            return lines[position:]
    return []


def document_text(data: bytes) -> str:
    """All body text of a .docx (tracked changes accepted); for tests and the explain view."""
    package = open_package(data)
    root: etree._Element = package.xml(_main_part(package))
    return block_text(root.find(f"{{{W_NS}}}body"))  # type: ignore[arg-type]
