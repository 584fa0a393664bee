"""A returned .docx/.docm (Word, WPS, LibreOffice) → RawSheet, reading the package XML directly.

python-docx's ``Document()`` costs ~20 ms a file; lxml on the three or four parts
needed costs a few. Macros in .docm are never run: only XML parts are read.
"""

from __future__ import annotations

import re

from lxml import etree

from .layout import MIN_LABELS, find_fields, read_loose_lines
from .limits import DEFAULT_LIMITS, Limits
from .numbering import Numbering
from .package import Package, open_package
from .raw import RawField, RawSheet, ReadFailure
from .wordml import W_NS, block_text, body_blocks, paragraph_text, table_grid, w

_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEADER_FOOTER = re.compile(r"/relationships/(header|footer)$")
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_CP_NS = "http://schemas.openxmlformats.org/package/2006/metadata/core-properties"


def _main_part(package: Package) -> str:
    """The main document part's name, from the package relationships (usually word/document.xml)."""
    if package.has("_rels/.rels"):
        for rel in package.xml("_rels/.rels"):
            if str(rel.get("Type", "")).endswith("/officeDocument"):
                return str(rel.get("Target", "")).lstrip("/")
    return "word/document.xml"


def _related_texts(package: Package, main: str) -> list[RawField]:
    """Header and footer texts (where the printed form code lives)."""
    folder, _, name = main.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels"
    texts: list[RawField] = []
    if not package.has(rels):
        return texts
    for rel in package.xml(rels).iter(f"{{{_REL_NS}}}Relationship"):
        kind = _HEADER_FOOTER.search(str(rel.get("Type", "")))
        target = f"{folder}/{rel.get('Target', '')}".replace("/./", "/")
        if kind and package.has(target):
            where = "页眉" if kind.group(1) == "header" else "页脚"
            texts.append(RawField(block_text(package.xml(target)), where))
    return texts


def _list_part_names(package: Package, main: str) -> dict[str, str]:
    folder, _, name = main.rpartition("/")
    rels = f"{folder}/_rels/{name}.rels"
    found: dict[str, str] = {}
    if package.has(rels):
        for rel in package.xml(rels).iter(f"{{{_REL_NS}}}Relationship"):
            kind = str(rel.get("Type", "")).rsplit("/", 1)[-1]
            target = f"{folder}/{rel.get('Target', '')}"
            if kind in ("numbering", "styles") and package.has(target):
                found[kind] = target
    return found


#: Parsed list definitions by the parts' (CRC-32, size): sheets made from one template
#: share them, and styles.xml of a python-docx-born document is ~350 KB to parse.
_LIST_CACHE: dict[tuple[int, ...], Numbering] = {}
_LIST_CACHE_SIZE = 64


def _lists(package: Package, main: str) -> Numbering:
    names = _list_part_names(package, main)
    key = tuple(
        value
        for kind in ("numbering", "styles")
        for value in (
            (
                package.archive.getinfo(names[kind]).CRC,
                package.archive.getinfo(names[kind]).file_size,
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


def read_docx(data: bytes, limits: Limits = DEFAULT_LIMITS) -> RawSheet:
    """Read a filled record sheet; raise ReadFailure when it is no readable Word document."""
    package = open_package(data, limits=limits)
    main = _main_part(package)
    if not package.has(main):
        raise ReadFailure("UNREADABLE_FILE", "压缩包中没有 Word 正文，不是有效的 .docx 文件")
    document = package.xml(main)
    body = document.find(f"{{{W_NS}}}body")
    if body is None:
        raise ReadFailure("UNREADABLE_FILE", "Word 文档没有正文")

    lists = _lists(package, main)
    sheet = RawSheet(format="docx")
    paragraphs: list[tuple[int, str]] = []
    tables = 0
    for index, block in enumerate(body_blocks(body)):
        if block.tag == w("p"):
            paragraphs.append((index, paragraph_text(block, lists)))
            continue
        # A sheet may be split into several tables (page breaks, the notice's own layout
        # with the 签字 line between rows): every table's fields count, the first wins.
        tables += 1
        fields, labels = find_fields(
            table_grid(block, lists), "表格" if tables == 1 else f"第{tables}个表格"
        )
        sheet.labels_found += labels
        for name, value in fields.items():
            sheet.fields.setdefault(name, value)
    if sheet.labels_found < MIN_LABELS:
        raise ReadFailure(
            "NOT_A_RECORD_SHEET",
            "文档中找不到记实表的表格（姓名、工作纪实、出勤记录等栏目），可能交错了文件",
        )
    read_loose_lines(sheet, ((text, f"正文第{index + 1}段") for index, text in paragraphs))
    sheet.code_texts.extend(_related_texts(package, main))
    sheet.property_code = _property_code(package)
    return sheet


def document_text(data: bytes) -> str:
    """All body text of a .docx (tracked changes accepted); for tests and the explain view."""
    package = open_package(data)
    root: etree._Element = package.xml(_main_part(package))
    return block_text(root.find(f"{{{W_NS}}}body"))  # type: ignore[arg-type]
