"""Load and check the docxtpl record-sheet template; render it once per period, stamp per person.

Rendering a docxtpl template costs ~40 ms; stamping a prepared one costs well
under 1 ms. The fast path is kept only when (1) every person tag in the template
is a bare ``{{ tag }}`` output, and (2) rendering with stand-in values (two
distinct sets of markers, and empty values) and substituting into the first
rendering reproduces the other two exactly. A template whose text depends on
a person's values (``{% if host_unit %}``, ``{{ name|upper }}``) fails that
check and is rendered per person: slower, and still correct.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from . import identity
from .errors import TemplateError
from .models import Period, Person
from .writers.package import Member, assemble

#: Tags HR may use in the template, with what they print (README lists these).
PERIOD_TAGS: dict[str, str] = {
    "period_title": "考核期间，如“2026年第4季度”",
    "year": "年份，如 2026",
    "quarter": "季度序号 1–4",
    "month1": "季度第一个月，如 10",
    "month2": "季度第二个月，如 11",
    "month3": "季度第三个月，如 12",
}
PERSON_TAGS: dict[str, str] = {
    "person_id": "编号",
    "name": "姓名",
    "gender": "性别",
    "unit": "单位（本单位）",
    "position": "职务",
    "unit_and_position": "单位及职务；挂职人员注明“（挂职××）”",
    "duties": "从事或分管工作",
    "leader": "分管领导",
    "host_unit": "挂职单位（未挂职为空）",
    "assessing_unit": "考核单位（挂职人员为挂职单位）",
    "form_code": "表码，如 KH2026Q4-0007-7K（机器识别用）",
}
ALL_TAGS = {**PERIOD_TAGS, **PERSON_TAGS}
#: Tags whose absence makes sheets hard to match; their absence is warned about.
IDENTITY_TAGS = ("name", "form_code")

MAX_TEMPLATE_BYTES = 20 * 1024 * 1024
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_CUSTOM_REL = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_CUSTOM_PART = "docProps/custom.xml"

# Stand-in markers: the two sets differ in every character position, so slicing
# or filtering a value in the template cannot make them agree by accident.
_PERSON_ORDER = tuple(PERSON_TAGS)


def _marker(variant: str, index: int) -> str:
    if variant == "A":
        return f"KQ{chr(65 + index)}qk"
    return f"WX{chr(97 + index)}xw"


_MARKERS_A = {tag: _marker("A", i) for i, tag in enumerate(_PERSON_ORDER)}
_MARKERS_B = {tag: _marker("B", i) for i, tag in enumerate(_PERSON_ORDER)}
_TAG_OF_A = {m: t for t, m in _MARKERS_A.items()}
_MARKER_RE = re.compile("|".join(re.escape(m) for m in _MARKERS_A.values()))


def period_values(period: Period) -> dict[str, str | int]:
    m1, m2, m3 = period.months
    return {
        "period_title": period.title,
        "year": period.year,
        "quarter": period.quarter,
        "month1": m1,
        "month2": m2,
        "month3": m3,
    }


def _one_line(text: str) -> str:
    # A value cell in Excel may hold Alt+Enter line breaks; on the sheet they would
    # be lost by Word anyway, so print them as one line.
    return " ".join(text.split())


def person_values(period: Period, person: Person) -> dict[str, str]:
    unit_and_position = f"{person.unit} {person.position}"
    if person.seconded:
        unit_and_position += f"（挂职{person.host_unit}）"
    values = {
        "person_id": person.person_id,
        "name": person.name,
        "gender": person.gender.value,
        "unit": person.unit,
        "position": person.position,
        "unit_and_position": unit_and_position,
        "duties": person.duties,
        "leader": person.leader,
        "host_unit": person.host_unit if person.seconded else "",
        "assessing_unit": person.assessing_unit,
        "form_code": identity.form_code(period, person.person_id),
    }
    return {key: _one_line(value) for key, value in values.items()}


@dataclass(frozen=True)
class SheetTemplate:
    """A checked record-sheet template: its bytes, hash and the tags it uses."""

    path: Path
    data: bytes
    sha256: str
    tags: frozenset[str]
    warnings: tuple[str, ...] = ()
    #: Every person tag is printed as is (no filter, test or condition on it).
    simple: bool = True

    @classmethod
    def load(cls, path: Path) -> SheetTemplate:
        """Read and check a template; raise TemplateError with what to fix."""
        path = Path(path)
        if not path.is_file():
            raise TemplateError(f"找不到记实表模板：{path}（可运行 kaohe init 恢复自带模板）")
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise TemplateError(f"模板文件过大：{path.name}（超过 20 MB）")
        data = path.read_bytes()
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                if "word/document.xml" not in package.namelist():
                    raise TemplateError(
                        f"模板不是 Word 文档：{path.name}（缺少 word/document.xml）"
                    )
        except zipfile.BadZipFile as exc:
            raise TemplateError(
                f"模板不是 .docx 文件：{path.name}。请在 Word/WPS 中“另存为 Word 文档(*.docx)”"
            ) from exc
        tags, simple = _parse_template(path.name, data)
        unknown = sorted(tags - ALL_TAGS.keys())
        if unknown:
            known = "、".join(f"{{{{ {t} }}}}" for t in ALL_TAGS)
            raise TemplateError(
                f"模板 {path.name} 中有未知的标签："
                + "、".join(f"{{{{ {t} }}}}" for t in unknown)
                + f"。可用的标签有：{known}"
            )
        warnings = tuple(
            f"模板中没有 {{{{ {tag} }}}}（{ALL_TAGS[tag]}），回收时将难以准确识别人员"
            for tag in IDENTITY_TAGS
            if tag not in tags
        )
        return cls(path, data, hashlib.sha256(data).hexdigest(), frozenset(tags), warnings, simple)

    def prepare(self, period: Period) -> PreparedSheet:
        """Render the template for ``period``; the result stamps one sheet per person."""
        base = period_values(period)
        rendered_a = self._render({**base, **_MARKERS_A}, period)
        rendered_b = self._render({**base, **_MARKERS_B}, period)
        rendered_empty = self._render({**base, **dict.fromkeys(_MARKERS_A, "")}, period)
        # Structure first (catches {{ person_id|int + 1 }}, which prints the same for any
        # stand-in), then the renderings themselves (catches logic in document properties).
        fast = self.simple and _equivalent(rendered_a, rendered_b, rendered_empty)
        return PreparedSheet(
            period=period,
            template=self,
            fast=fast,
            static=[
                Member.of(name, content)
                for name, content in rendered_a.items()
                if not (_is_xml(name) and _MARKER_RE.search(content.decode("utf-8")))
            ],
            dynamic={
                name: _split(content.decode("utf-8"))
                for name, content in rendered_a.items()
                if _is_xml(name) and _MARKER_RE.search(content.decode("utf-8"))
            },
            order=list(rendered_a),
            qr_parts=qr_parts(rendered_a),
        )

    def _render(self, context: Mapping[str, object], period: Period) -> dict[str, bytes]:
        """Render with docxtpl and add the identity parts; part name → bytes, in package order.
        The footer's QR picture is left as the template has it: ``PreparedSheet.render``
        stamps each person's on both paths."""
        from docxtpl import DocxTemplate
        from jinja2 import TemplateError as JinjaError

        doc = DocxTemplate(io.BytesIO(self.data))
        try:
            doc.render(dict(context), autoescape=True)
        except JinjaError as exc:
            raise TemplateError(_jinja_message(self.path.name, exc)) from exc
        stamp = datetime(period.year, period.months[0], 1, tzinfo=UTC)
        props = doc.docx.core_properties
        props.keywords = identity.keywords_for(str(context["form_code"]))
        props.created = stamp
        props.modified = stamp
        props.last_modified_by = "kaohe"
        props.revision = 1
        buffer = io.BytesIO()
        doc.save(buffer)
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as package:
            parts = {info.filename: package.read(info) for info in package.infolist()}
        parts = _with_custom_properties(parts, str(context["form_code"]), self.sha256)
        return parts


def _parse_template(name: str, data: bytes) -> tuple[set[str], bool]:
    """Tags the template uses, and whether every person tag is a bare ``{{ tag }}``.

    Reads the same XML docxtpl renders (body, headers, footers, after its run clean-up).
    """
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate
    from jinja2 import Environment, meta, nodes
    from jinja2 import TemplateError as JinjaError

    try:
        template = DocxTemplate(io.BytesIO(data))
        document = Document(io.BytesIO(data))
        body = document.element.body
        xml = template.patch_xml(template.xml_to_string(body))
        for rel in document.part.rels.values():
            if rel.reltype in (template.HEADER_URI, template.FOOTER_URI):
                part_xml = template.xml_to_string(parse_xml(rel.target_part.blob))
                xml += template.patch_xml(part_xml)
        ast = Environment().parse(xml)
    except JinjaError as exc:
        raise TemplateError(_jinja_message(name, exc)) from exc
    except Exception as exc:  # python-docx on a damaged package
        raise TemplateError(
            f"模板 {name} 无法读取（{type(exc).__name__}），请用 Word 重新保存"
        ) from exc
    tags: set[str] = set(meta.find_undeclared_variables(ast))
    bare = {
        id(node)
        for output in ast.find_all(nodes.Output)
        for node in output.nodes
        if isinstance(node, nodes.Name)
    }
    simple = all(id(node) in bare for node in ast.find_all(nodes.Name) if node.name in PERSON_TAGS)
    return tags, simple


def _jinja_message(name: str, exc: Exception) -> str:
    context = " ".join(
        "".join(line.split()) for line in getattr(exc, "docx_context", []) if line.strip()
    )
    detail = getattr(exc, "message", None) or str(exc)
    text = f"模板 {name} 中的标签写法有误：{detail}。"
    if context:
        text += f"出错位置附近的文字：“{context[:80]}”。"
    return text + "标签应写成 {{ name }} 这样的双花括号形式。"


def _custom_xml(existing: bytes | None, code: str, template_sha: str) -> bytes:
    """docProps/custom.xml with our identity properties (others in the template are kept)."""
    if existing:
        root = etree.fromstring(existing, _SAFE_XML)
        for prop in list(root):
            if str(prop.get("name", "")).startswith("Kaohe"):
                root.remove(prop)
    else:
        root = etree.Element(
            f"{{{_CUSTOM_NS}}}Properties",
            nsmap={None: _CUSTOM_NS, "vt": _VT_NS},  # type: ignore[dict-item]
        )
    pid = max([int(p.get("pid", "1")) for p in root] + [1])
    for key, value in ((identity.CUSTOM_PROPERTY, code), ("KaoheTemplateSha256", template_sha)):
        pid += 1
        prop = etree.SubElement(
            root, f"{{{_CUSTOM_NS}}}property", fmtid=_FMTID, pid=str(pid), name=key
        )
        etree.SubElement(prop, f"{{{_VT_NS}}}lpwstr").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _with_custom_properties(parts: dict[str, bytes], code: str, sha: str) -> dict[str, bytes]:
    out = dict(parts)
    out[_CUSTOM_PART] = _custom_xml(parts.get(_CUSTOM_PART), code, sha)
    types = etree.fromstring(out["[Content_Types].xml"], _SAFE_XML)
    ct_ns = types.nsmap[None]
    if not any(o.get("PartName") == "/" + _CUSTOM_PART for o in types):
        etree.SubElement(
            types, f"{{{ct_ns}}}Override", PartName="/" + _CUSTOM_PART, ContentType=_CUSTOM_CT
        )
        out["[Content_Types].xml"] = etree.tostring(
            types, xml_declaration=True, encoding="UTF-8", standalone=True
        )
    rels = etree.fromstring(out["_rels/.rels"], _SAFE_XML)
    rel_ns = rels.nsmap[None]
    if not any(r.get("Type") == _CUSTOM_REL for r in rels):
        etree.SubElement(
            rels,
            f"{{{rel_ns}}}Relationship",
            Id="rIdKaoheCustom",
            Type=_CUSTOM_REL,
            Target=_CUSTOM_PART,
        )
        out["_rels/.rels"] = etree.tostring(
            rels, xml_declaration=True, encoding="UTF-8", standalone=True
        )
    return out


_W_NS = {
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def qr_parts(parts: Mapping[str, bytes]) -> tuple[str, ...]:
    """The image parts of footer or header pictures named ``identity.QR_PICTURE_NAME``
    (found by the picture's name, which Word, WPS and LibreOffice keep; the media file's
    own name changes on every save)."""
    found: list[str] = []
    for name in parts:
        folder, _, base = name.rpartition("/")
        if folder != "word" or not base.startswith(("footer", "header")) or not _is_xml(base):
            continue
        rels_name = f"word/_rels/{base}.rels"
        if rels_name not in parts:
            continue
        root = etree.fromstring(parts[name], _SAFE_XML)
        embeds = [
            blip.get(f"{{{_W_NS['r']}}}embed")
            for doc_pr in root.iterfind(".//wp:docPr", _W_NS)
            if doc_pr.get("name") == identity.QR_PICTURE_NAME
            for parent in [doc_pr.getparent()]
            if parent is not None
            for blip in parent.iterfind(".//a:blip", _W_NS)
        ]
        rels = etree.fromstring(parts[rels_name], _SAFE_XML)
        for rel in rels.iterfind("pr:Relationship", _W_NS):
            target = "word/" + str(rel.get("Target", "")).lstrip("/").removeprefix("word/")
            if rel.get("Id") in embeds and target in parts and target not in found:
                found.append(target)
    return tuple(found)


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels"))


def _canonical(text: bytes) -> bytes:
    # docxtpl re-serialises parts, so <w:t></w:t> and <w:t/> both occur; compare meaning.
    return etree.tostring(etree.fromstring(text, _SAFE_XML), method="c14n")


def _equivalent(a: dict[str, bytes], b: dict[str, bytes], empty: dict[str, bytes]) -> bool:
    """True if substituting values into rendering ``a`` reproduces ``b`` and ``empty``."""
    if list(a) != list(b) or list(a) != list(empty):
        return False
    for name, content in a.items():
        if not _is_xml(name):
            if content != b[name] or content != empty[name]:
                return False
            continue
        text = content.decode("utf-8")
        as_b = _MARKER_RE.sub(lambda m: _MARKERS_B[_TAG_OF_A[m.group()]], text).encode()
        as_empty = _MARKER_RE.sub("", text).encode()
        if as_b != b[name] and _canonical(as_b) != _canonical(b[name]):
            return False
        if as_empty != empty[name] and _canonical(as_empty) != _canonical(empty[name]):
            return False
    return True


def _split(text: str) -> list[str]:
    """Alternating literal text and tag names: [lit, tag, lit, tag, …, lit]."""
    pieces: list[str] = []
    position = 0
    for match in _MARKER_RE.finditer(text):
        pieces.append(text[position : match.start()])
        pieces.append(_TAG_OF_A[match.group()])
        position = match.end()
    pieces.append(text[position:])
    return pieces


_ESCAPES = {'"': "&quot;", "'": "&apos;"}


@dataclass
class PreparedSheet:
    """The template rendered for one period, ready to stamp a sheet per person."""

    period: Period
    template: SheetTemplate
    fast: bool
    static: list[Member]
    dynamic: dict[str, list[str]]
    order: list[str]
    #: The footer pictures that carry the person's QR code (part names).
    qr_parts: tuple[str, ...] = ()
    _static_by_name: dict[str, Member] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._static_by_name = {m.name: m for m in self.static}

    def render(self, person: Person) -> bytes:
        """The .docx bytes of ``person``'s blank sheet (same input, same bytes)."""
        values = person_values(self.period, person)
        if not self.fast:
            return self._render_slow(values)
        escaped = {key: escape(value, _ESCAPES) for key, value in values.items()}
        members: list[Member] = []
        picture = identity.qr_png(values["form_code"]) if self.qr_parts else b""
        for name in self.order:
            if name in self.qr_parts:
                members.append(Member.of(name, picture, level=0))  # PNG: already compressed
                continue
            pieces = self.dynamic.get(name)
            if pieces is None:
                members.append(self._static_by_name[name])
                continue
            text = "".join(
                piece if index % 2 == 0 else escaped[piece] for index, piece in enumerate(pieces)
            )
            members.append(Member.of(name, text.encode("utf-8"), level=_DYNAMIC_LEVEL))
        return assemble(members)

    def _render_slow(self, values: dict[str, str]) -> bytes:
        context: dict[str, object] = {**period_values(self.period), **values}
        parts = self.template._render(context, self.period)
        picture = identity.qr_png(values["form_code"]) if self.qr_parts else b""
        parts.update(dict.fromkeys(self.qr_parts, picture))
        return assemble(Member.of(name, content) for name, content in parts.items())


#: zlib level for per-person parts: level 1 is ~3x faster than 6 and only ~10% larger here.
_DYNAMIC_LEVEL = 1
