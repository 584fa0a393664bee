"""Open an OOXML package (a ZIP) from untrusted bytes: sizes capped before inflating,
XML parsed without entities or network, encrypted and mislabelled files recognised."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

from .limits import DEFAULT_LIMITS, Limits
from .raw import ReadFailure

MAX_MEMBERS = 2000
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

#: A relationship: (id, type, target as written).
Relationship = tuple[str, str, str]
#: Relationship parts by their exact inflated bytes: sheets made from one template carry the
#: same ``_rels/.rels`` and ``document.xml.rels``, so each distinct one is parsed once.
_RELATIONSHIPS: dict[bytes, tuple[Relationship, ...]] = {}
_RELATIONSHIPS_KEPT = 64
#: Only parts this small are kept (a template's are 1–3 KB; a file made to be large must not
#: make the cache hold 64 of it).
_RELATIONSHIPS_KEPT_BYTES = 64 * 1024

#: No entities, no network, no DTD, no huge trees; no ID table either (kaohe never looks an
#: element up by xml:id, and building it costs a tenth of parsing a sheet).
SAFE_SETTINGS: dict[str, bool] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_comments": True, "collect_ids": False,
}  # fmt: skip
SAFE_PARSER = etree.XMLParser(**SAFE_SETTINGS)  # type: ignore[arg-type]

_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SIGNATURES = (
    (b"%PDF", "PDF 文件"),
    (b"MZ", "可执行程序"),
    (b"{\\rtf", "RTF 文档"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
)


def identify_bytes(data: bytes) -> str | None:
    """A Chinese name for what ``data`` really is, if it is a known non-ZIP kind."""
    if data.startswith(_CFB):
        return "加密文档或旧版 Office 文档"
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def is_encrypted_ooxml(data: bytes) -> bool:
    """An encrypted .docx/.xlsx is a CFB container holding an EncryptionInfo stream."""
    return data.startswith(_CFB) and "EncryptionInfo".encode("utf-16-le") in data


class Member(NamedTuple):
    """A central directory entry: the ``zipfile.ZipInfo`` attributes the reader uses."""

    orig_filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


@dataclass
class Package:
    """Members of a ZIP package, read on demand with size caps."""

    data: bytes
    #: Each member by name (the last of a repeated name, as zipfile has it), and how many.
    members: Mapping[str, Member | zipfile.ZipInfo]
    count: int
    limits: Limits = DEFAULT_LIMITS
    budget: int = -1
    #: zipfile's view of ``data``: made when a member is not an ordinary one (see ``read``).
    _archive: zipfile.ZipFile | None = field(default=None, repr=False)
    #: Parts already parsed, and relationship parts already read (asked for several times).
    _trees: dict[str, etree._Element] = field(default_factory=dict, repr=False)
    _sources: dict[str, bytes] = field(default_factory=dict, repr=False)  # their bytes
    _relations: dict[str, tuple[Relationship, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.budget < 0:
            self.budget = self.limits.package_bytes

    def has(self, name: str) -> bool:
        return name in self.members

    def read(self, name: str) -> bytes:
        """The inflated member, refusing to inflate past the caps (declared sizes can lie)."""
        info = self.members[name]
        limit = min(self.limits.part_bytes, self.budget)
        if info.file_size > limit:
            raise ReadFailure(
                "UNREADABLE_FILE", f"文件中的 {name} 解压后过大（{info.file_size} 字节），已拒收"
            )
        out = _inflated(self.data, info)  # within the caps: file_size <= limit
        if out is None:
            try:
                if self._archive is None:
                    self._archive = zipfile.ZipFile(io.BytesIO(self.data))
                with self._archive.open(name) as stream:
                    # inflating stops at limit + 1 bytes whatever the entry claims (zlib's
                    # max_length), so a bomb costs at most that much memory
                    out = stream.read(limit + 1)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
                raise ReadFailure("UNREADABLE_FILE", f"文件已损坏（{name}：{exc}）") from exc
        if len(out) > limit:
            raise ReadFailure("UNREADABLE_FILE", f"文件中的 {name} 解压后过大，已拒收")
        self.budget -= len(out)
        return out

    def xml(self, name: str) -> etree._Element:
        """The member parsed, once per package: callers only read the tree."""
        tree = self._trees.get(name)
        if tree is None:
            data = self._sources[name] = self.read(name)
            tree = self._trees[name] = _parse(data, name)
        return tree

    def may_hold(self, name: str, word: bytes) -> bool:
        """Whether the parsed part ``name`` may hold ``word`` (ASCII letters, in any case) in
        a text or an attribute value: False only when its bytes are UTF-8 or ASCII and show
        it nowhere, neither written out nor behind a character reference (``&#87;``). Bytes
        in another encoding may spell it otherwise; no entity can (none is declared)."""
        data, tree = self._sources.get(name), self._trees.get(name)
        if data is None or tree is None:
            return True
        encoding = (tree.getroottree().docinfo.encoding or "").upper()
        if encoding not in ("UTF-8", "US-ASCII", "ASCII"):
            return True
        if b"&" in data and b"&#" in data:  # one byte is found at memchr's speed, two are not
            return True
        return word.lower() in data.lower()

    def relationships(self, name: str) -> tuple[Relationship, ...]:
        """The relationships a ``.rels`` part declares, in order (read once per package)."""
        found = self._relations.get(name)
        if found is not None:
            return found
        data = self.read(name)
        found = _RELATIONSHIPS.get(data)
        if found is None:
            found = tuple(
                (str(rel.get("Id", "")), str(rel.get("Type", "")), str(rel.get("Target", "")))
                for rel in _parse(data, name).iter(f"{{{REL_NS}}}Relationship")
            )
            if len(data) <= _RELATIONSHIPS_KEPT_BYTES:
                if len(_RELATIONSHIPS) >= _RELATIONSHIPS_KEPT:
                    _RELATIONSHIPS.clear()
                _RELATIONSHIPS[data] = found
        self._relations[name] = found
        return found


#: A local file header: signature, flags, name and extra-field lengths.
_LOCAL_HEADER = struct.Struct("<4s2xH18xHH")
#: Encrypted, compressed-patched or strongly encrypted entries (zipfile's own checks).
_UNUSUAL_FLAGS = 0x1 | 0x20 | 0x40
_UTF8_NAME = 0x800


def _inflated(data: bytes, info: Member | zipfile.ZipInfo) -> bytes | None:
    """An ordinary member (stored or deflated, not encrypted, its local header naming it, its
    sizes and CRC-32 as declared) inflated straight from ``data``: what ``zipfile`` gives,
    without its file objects (a sixth of reading a sheet's parts). None for anything else,
    which ``zipfile`` then reads or rejects with its own reason."""
    if info.flag_bits & _UNUSUAL_FLAGS or info.compress_type not in (0, 8):
        return None
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(data):
        return None
    magic, flags, name_length, extra_length = _LOCAL_HEADER.unpack_from(data, offset)
    name_at = offset + _LOCAL_HEADER.size
    start = name_at + name_length + extra_length
    end = start + info.compress_size
    if magic != b"PK\x03\x04" or end > len(data):
        return None
    if _name(data, name_at, name_length, flags) != info.orig_filename:
        return None
    if info.compress_type == 0:
        out = data[start:end]
    else:  # at most one byte more than declared is inflated: more is no ordinary member
        try:
            out = zlib.decompressobj(-15).decompress(data[start:end], info.file_size + 1)
        except zlib.error:
            return None
    if len(out) != info.file_size or zlib.crc32(out) != info.CRC:
        return None
    return out


def _name(data: bytes, at: int, length: int, flags: int) -> str | None:
    """A member's name as zipfile decodes it (UTF-8 when flagged, else CP437), or None.
    Plain ASCII (every name Word and WPS write) is the same in either, and decodes at a
    seventh of CP437's cost (Python's charmap codec)."""
    raw = data[at : at + length]
    try:
        if flags & _UTF8_NAME:
            return raw.decode("utf-8")
        return raw.decode("ascii") if raw.isascii() else raw.decode("cp437")
    except UnicodeDecodeError:
        return None


def _parse(data: bytes, name: str) -> etree._Element:
    try:
        return etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ReadFailure("UNREADABLE_FILE", f"文件已损坏（{name} 不是有效的 XML）") from exc


def open_zip(data: bytes, *, not_zip: str, broken: str) -> zipfile.ZipFile:
    """``data`` opened as a ZIP, or ReadFailure: ``not_zip`` (with ``{real}``, what the
    bytes really are) when it is another known kind, ``broken`` when it is a damaged ZIP."""
    real = identify_bytes(data)
    if real is not None:
        raise ReadFailure("UNREADABLE_FILE", not_zip.format(real=real))
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReadFailure("UNREADABLE_FILE", broken) from exc


_END = struct.Struct("<4s4H2LH")
_END_SIZE = _END.size
_ZIP64_LOCATOR = b"PK\x06\x07"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")
#: The newest "version needed to extract" zipfile reads.
_MAX_EXTRACT_VERSION = 63
#: What zipfile turns into "/" in a member's name (on Windows).
_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


def directory(data: bytes) -> tuple[dict[str, Member], int] | None:
    """The central directory of an ordinary ZIP — no archive comment, no ZIP64, no extra
    fields, names zipfile keeps as written — as ``zipfile.ZipFile`` reads it (each member by
    name, the last of a repeated one, and how many entries), found without building its
    ZipInfo objects (a tenth of reading a sheet). None for anything else: zipfile then opens
    it, or refuses it with its own reason."""
    end = len(data) - _END_SIZE
    if end < 0 or data[end : end + 4] != b"PK\x05\x06" or data[-2:] != b"\0\0":
        return None
    if end >= 20 and data[end - 20 : end - 16] == _ZIP64_LOCATOR:
        return None
    size, offset = _END.unpack_from(data, end)[5:7]
    start = end - size  # where the directory is, also behind bytes put before the ZIP
    if start < 0:
        return None
    members: dict[str, Member] = {}
    count, at = 0, start
    while at < end:
        if at + _ENTRY.size > end:
            return None
        entry = _ENTRY.unpack_from(data, at)
        (magic, _, _, extract, _, flags, method, _, _, crc, packed, size_, name_length,
         extra_length, comment_length, _, _, _, local) = entry  # fmt: skip
        name_at = at + _ENTRY.size
        at = name_at + name_length + extra_length + comment_length
        if magic != b"PK\x01\x02" or extra_length or extract > _MAX_EXTRACT_VERSION or at > end:
            return None
        name = _name(data, name_at, name_length, flags)
        if name is None or "\0" in name or any(s != "/" and s in name for s in _SEPARATORS):
            return None  # unreadable, or zipfile would change the name it is known by
        members[name] = Member(name, flags, method, crc, packed, size_, local + start - offset)
        count += 1
    return members, count


def open_package(
    data: bytes, *, what: str = "Word 文档", limits: Limits = DEFAULT_LIMITS
) -> Package:
    """Open ``data`` as a ZIP package, or raise ReadFailure with the right code."""
    if not data:
        raise ReadFailure("UNREADABLE_FILE", "文件是空的（0 字节）")
    if is_encrypted_ooxml(data):
        raise ReadFailure("ENCRYPTED_FILE", "文件设置了打开密码，无法读取")
    found = directory(data) if identify_bytes(data) is None else None
    members: Mapping[str, Member | zipfile.ZipInfo]
    if found is not None:
        members, count = found
        archive = None
    else:
        archive = open_zip(
            data,
            not_zip=f"文件内容不是{what}，而是{{real}}（可能改错了扩展名）",
            broken=f"文件已损坏或不完整，不是有效的{what}",
        )
        members, count = archive.NameToInfo, len(archive.filelist)
    if count > MAX_MEMBERS:
        raise ReadFailure("UNREADABLE_FILE", "文件内部部件数量异常，已拒收")
    return Package(data, members, count, limits, _archive=archive)
