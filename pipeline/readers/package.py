"""Open an OOXML package (a ZIP) from untrusted bytes: sizes capped before inflating,
XML parsed without entities or network, encrypted and mislabelled files recognised."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from .limits import DEFAULT_LIMITS, Limits
from .raw import ReadFailure

MAX_MEMBERS = 2000

#: No entities, no network, no DTD, no huge trees; no ID table either (kaohe never looks an
#: element up by xml:id, and building it costs a tenth of parsing a sheet).
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    remove_comments=True, collect_ids=False,
)  # fmt: skip

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


@dataclass
class Package:
    """Members of a ZIP package, read on demand with size caps."""

    archive: zipfile.ZipFile
    limits: Limits = DEFAULT_LIMITS
    budget: int = -1
    #: Parts already parsed (the relationships and the footer are asked for several times).
    _trees: dict[str, etree._Element] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.budget < 0:
            self.budget = self.limits.package_bytes

    def has(self, name: str) -> bool:
        try:
            self.archive.getinfo(name)
        except KeyError:
            return False
        return True

    def read(self, name: str) -> bytes:
        """The inflated member, refusing to inflate past the caps (declared sizes can lie)."""
        info = self.archive.getinfo(name)
        limit = min(self.limits.part_bytes, self.budget)
        if info.file_size > limit:
            raise ReadFailure(
                "UNREADABLE_FILE", f"文件中的 {name} 解压后过大（{info.file_size} 字节），已拒收"
            )
        try:
            with self.archive.open(info) as stream:
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
            try:
                tree = etree.fromstring(self.read(name), SAFE_PARSER)
            except etree.XMLSyntaxError as exc:
                raise ReadFailure(
                    "UNREADABLE_FILE", f"文件已损坏（{name} 不是有效的 XML）"
                ) from exc
            self._trees[name] = tree
        return tree


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


def open_package(
    data: bytes, *, what: str = "Word 文档", limits: Limits = DEFAULT_LIMITS
) -> Package:
    """Open ``data`` as a ZIP package, or raise ReadFailure with the right code."""
    if not data:
        raise ReadFailure("UNREADABLE_FILE", "文件是空的（0 字节）")
    if is_encrypted_ooxml(data):
        raise ReadFailure("ENCRYPTED_FILE", "文件设置了打开密码，无法读取")
    archive = open_zip(
        data,
        not_zip=f"文件内容不是{what}，而是{{real}}（可能改错了扩展名）",
        broken=f"文件已损坏或不完整，不是有效的{what}",
    )
    if len(archive.infolist()) > MAX_MEMBERS:
        raise ReadFailure("UNREADABLE_FILE", "文件内部部件数量异常，已拒收")
    return Package(archive, limits)
