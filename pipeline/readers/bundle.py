"""A unit's returns zipped into one archive → its members, each its own submission.

Members are read in memory (nothing is extracted to disk), with sizes capped while
inflating. Names made on Chinese Windows without the UTF-8 flag are GBK; paths that
climb out (``..``), absolute paths and symbolic links are refused, not followed.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from .limits import DEFAULT_LIMITS, Limits
from .package import open_zip
from .raw import ReadFailure

#: Bundles inside bundles are opened this many levels deep, no deeper.
MAX_DEPTH = 1
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Member:
    """One file inside a bundle: its path inside (``a.zip!/张伟.docx``), bytes, or why not."""

    name: str
    data: bytes
    failure: ReadFailure | None = None


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: UTF-8 if flagged, else GBK as Chinese Windows writes it."""
    if info.flag_bits & 0x800:
        return info.filename
    raw = info.filename.encode("cp437", errors="replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _unsafe(name: str) -> str | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "压缩包中的文件使用了绝对路径，已拒绝读取"
    if ".." in path.parts:
        return "压缩包中的文件路径含“..”，可能试图写到别处，已拒绝读取"
    if any(ord(c) < 32 for c in name):
        return "压缩包中的文件名含控制字符，已拒绝读取"
    return None


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    if info.file_size > limit:
        raise ReadFailure("UNREADABLE_FILE", f"压缩包中的文件解压后过大（{info.file_size} 字节）")
    out = bytearray()
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            out += chunk
            if len(out) > limit:
                raise ReadFailure("UNREADABLE_FILE", "压缩包中的文件解压后过大，已拒收")
    return bytes(out)


def members(
    data: bytes, prefix: str, depth: int = 0, limits: Limits = DEFAULT_LIMITS
) -> Iterator[Member]:
    """Every file in the bundle ``data``; ``prefix`` is the bundle's own name."""
    archive = open_zip(
        data, not_zip="文件内容不是 zip 压缩包，而是{real}", broken="压缩包已损坏或不完整"
    )
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > limits.bundle_members:
        raise ReadFailure("UNREADABLE_FILE", f"压缩包内文件数异常（{len(infos)} 个），已拒收")
    budget = limits.bundle_bytes
    for info in infos:
        name = member_name(info)
        full = f"{prefix}!/{name}"
        why = _unsafe(name)
        if why is None and stat.S_ISLNK(info.external_attr >> 16):
            why = "压缩包中的文件是符号链接，已拒绝读取"
        if why is not None:
            yield Member(full, b"", ReadFailure("UNREADABLE_FILE", why))
            continue
        if info.flag_bits & 0x1:
            yield Member(
                full, b"", ReadFailure("ENCRYPTED_FILE", "压缩包设置了密码，无法读取其中的文件")
            )
            continue
        try:
            content = _read(archive, info, min(limits.file_bytes, budget))
        except ReadFailure as too_big:
            yield Member(full, b"", too_big)
            continue
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            broken = ReadFailure("UNREADABLE_FILE", f"压缩包中的文件已损坏（{type(exc).__name__}）")
            yield Member(full, b"", broken)
            continue
        budget -= len(content)
        if name.lower().endswith(".zip"):
            if depth >= MAX_DEPTH:
                deep = ReadFailure("UNSUPPORTED_FORMAT", "压缩包嵌套过深，请解开后分别提交")
                yield Member(full, b"", deep)
                continue
            try:
                yield from members(content, full, depth + 1, limits)
            except ReadFailure as inner:
                yield Member(full, b"", inner)
            continue
        yield Member(full, content)
