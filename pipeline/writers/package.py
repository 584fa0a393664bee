"""OOXML packages (.docx, .xlsx) assembled from pre-compressed parts.

Generating 10,000 sheets means writing 10,000 .docx packages that differ only in
a few small parts. Python's ``zipfile`` would re-deflate every static part
(styles, theme, fonts …) each time; here each static part is compressed once and
copied as bytes (``zipstream.ZipWriter.write_packed``). Timestamps are fixed, so the same
input gives the same bytes.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from .zipstream import DEFLATED, STORED, ZipWriter, deflater


@dataclass(frozen=True)
class Member:
    """One package part, already compressed."""

    name: str
    crc: int
    size: int
    data: bytes
    method: int

    @classmethod
    def of(cls, name: str, content: bytes, *, level: int = 6) -> Member:
        compressor = deflater(level)
        data = compressor.compress(content) + compressor.flush()
        return cls(name, zlib.crc32(content), len(content), data, DEFLATED)

    @classmethod
    def streamed(cls, name: str, chunks: Iterable[bytes], *, level: int = 6) -> Member:
        """A part compressed as it is produced: only its compressed bytes are ever held."""
        compressor = deflater(level)
        out: list[bytes] = []
        crc = size = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out.append(compressor.compress(chunk))
        out.append(compressor.flush())
        return cls(name, crc, size, b"".join(out), DEFLATED)

    @classmethod
    def stored(cls, name: str, content: bytes) -> Member:
        return cls(name, zlib.crc32(content), len(content), content, STORED)


def assemble(members: Iterable[Member]) -> bytes:
    """The bytes of a ZIP archive holding ``members`` in the given order."""
    out = io.BytesIO()
    write_package(out, members)
    return out.getvalue()


def write_package(out: BinaryIO, members: Iterable[Member]) -> None:
    """Write the ZIP archive holding ``members`` (in the given order) to ``out``: each member
    is written and let go as it comes (a workbook's sheets need not all be held at once)."""
    with ZipWriter(out, owner_only=False) as package:
        for member in members:
            package.write_packed(member.name, member.method, member.crc, member.size, member.data)
