"""A minimal, deterministic ZIP writer for OOXML packages assembled from pre-compressed parts.

Generating 10,000 sheets means writing 10,000 .docx packages that differ only in
a few small parts. Python's ``zipfile`` would re-deflate every static part
(styles, theme, fonts …) each time; here each static part is compressed once and
copied as bytes. Timestamps are fixed, so the same input gives the same bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

_DEFLATED = 8
_STORED = 0
_UTF8_FLAG = 0x800
#: 1980-01-01 00:00, the DOS epoch: a fixed time keeps packages byte-identical across runs.
DOS_DATE = (0 << 9) | (1 << 5) | 1
DOS_TIME = 0


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
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = compressor.compress(content) + compressor.flush()
        return cls(name, zlib.crc32(content), len(content), data, _DEFLATED)

    @classmethod
    def streamed(cls, name: str, chunks: Iterable[bytes], *, level: int = 6) -> Member:
        """A part compressed as it is produced: only its compressed bytes are ever held."""
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        out: list[bytes] = []
        crc = size = 0
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            out.append(compressor.compress(chunk))
        out.append(compressor.flush())
        return cls(name, crc, size, b"".join(out), _DEFLATED)

    @classmethod
    def stored(cls, name: str, content: bytes) -> Member:
        return cls(name, zlib.crc32(content), len(content), content, _STORED)


def assemble(members: Iterable[Member]) -> bytes:
    """The bytes of a ZIP archive holding ``members`` in the given order."""
    out = io.BytesIO()
    write_package(out, members)
    return out.getvalue()


def write_package(out: BinaryIO, members: Iterable[Member]) -> None:
    """Write the ZIP archive holding ``members`` (in the given order) to ``out``: each member
    is written and let go as it comes (a workbook's sheets need not all be held at once)."""
    central = bytearray()
    count = written = 0
    for member in members:
        name = member.name.encode("utf-8")
        flags = 0 if name.isascii() else _UTF8_FLAG
        offset = written
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            flags,
            member.method,
            DOS_TIME,
            DOS_DATE,
            member.crc,
            len(member.data),
            member.size,
            len(name),
            0,
        )
        out.write(header)
        out.write(name)
        out.write(member.data)
        written += len(header) + len(name) + len(member.data)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            flags,
            member.method,
            DOS_TIME,
            DOS_DATE,
            member.crc,
            len(member.data),
            member.size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
        count += 1
    if count > 0xFFFF or written > 0xFFFFFFFF:
        raise ValueError("package too large for a plain ZIP")
    out.write(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), written, 0))
