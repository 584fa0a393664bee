"""A ZIP writer that keeps nothing per member in memory, for the quarter's archive.

Python's ``zipfile`` keeps a ``ZipInfo`` per member until the archive is closed (~500 bytes
with its name): 10,000 members hold ~5 MB, a province's archive hundreds. Here each
member's central-directory record is written to an unnamed temporary file as the member
is written, and copied after the last one. Members are written whole (their bytes known)
or streamed through a temporary file (the manifest, tens of megabytes); ZIP64 records are
written exactly where the sizes, offsets or the count need them, as ``zipfile`` does, so an
archive of any size opens in Windows, WPS, 7-Zip and ``zipfile``.

Every member has the same fixed time and owner-only Unix permissions: the same members
give the same bytes on any machine.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, BinaryIO

#: Past these a field takes its ZIP64 form, as in ``zipfile`` (sizes and offsets past 2 GB,
#: which some readers take as signed; 65,535 members or more). Module constants: the
#: tests lower them to write small archives in every form.
ZIP64_LIMIT = (1 << 31) - 1
COUNT_LIMIT = 0xFFFF
#: What a 32-bit (16-bit) field holds when its value is in the ZIP64 record.
_WIDE, _MANY = 0xFFFFFFFF, 0xFFFF
#: Copied this much at a time (a streamed member, the central directory).
CHUNK = 1 << 20

_DEFLATED, _STORED = 8, 0
_UTF8 = 0x800
_UNIX = 3 << 8
_VERSION, _VERSION64 = 20, 45
_MODE = 0o600 << 16
#: 1980-01-01 00:00, the DOS epoch.
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0


class ZipWriter:
    """Members written in the order given; ``close`` (or the ``with`` block's end) writes the
    central directory. Names must be unique: the caller chooses them."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._central: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._central_size = 0
        self._count = 0
        self._offset = 0  # bytes written to ``out``

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        else:
            self._central.close()

    def write(self, name: str, data: bytes, *, compress: bool) -> None:
        """One member from its bytes, deflated if ``compress``."""
        crc, size = zlib.crc32(data), len(data)
        if compress:
            deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            data = deflate.compress(data) + deflate.flush()
        self._header(name, _DEFLATED if compress else _STORED, crc, len(data), size)
        self._out.write(data)
        self._offset += len(data)

    @contextmanager
    def open(self, name: str) -> Iterator[_Streamed]:
        """A deflated member written a piece at a time (``.write(bytes)``): compressed into a
        temporary file, then copied in behind its header."""
        with tempfile.TemporaryFile() as spill:
            streamed = _Streamed(spill)
            yield streamed
            streamed.finish()
            self._header(name, _DEFLATED, streamed.crc, streamed.packed, streamed.size)
            spill.seek(0)
            shutil.copyfileobj(spill, self._out, CHUNK)
            self._offset += streamed.packed

    def _header(self, name: str, method: int, crc: int, packed: int, size: int) -> None:
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8
        big = packed > ZIP64_LIMIT or size > ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, packed) if big else b""
        version = _VERSION64 if big else _VERSION
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, version, flags, method, _DOS_TIME, _DOS_DATE, crc,
            _WIDE if big else packed, _WIDE if big else size, len(encoded), len(extra),
        )  # fmt: skip
        self._out.write(header)
        self._out.write(encoded + extra)
        self._central_record(encoded, flags, method, crc, packed, size, self._offset)
        self._offset += 30 + len(encoded) + len(extra)

    def _central_record(self, name: bytes, flags: int, method: int, crc: int, packed: int,
                        size: int, offset: int) -> None:  # fmt: skip
        wide = [v for v in (size, packed, offset) if v > ZIP64_LIMIT]
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) if wide else b""
        version = _VERSION64 if wide else _VERSION
        record = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, _UNIX | version, version, flags, method,
            _DOS_TIME, _DOS_DATE, crc, _narrow(packed), _narrow(size), len(name), len(extra),
            0, 0, 0, _MODE, _narrow(offset),
        )  # fmt: skip
        piece = record + name + extra
        self._central.write(piece)
        self._central_size += len(piece)
        self._count += 1

    def close(self) -> None:
        """The central directory, then its end records (ZIP64 ones where needed)."""
        start, size, count = self._offset, self._central_size, self._count
        with self._central as central:
            central.seek(0)
            shutil.copyfileobj(central, self._out, CHUNK)
        self._offset += size
        many = count >= COUNT_LIMIT
        if many or start > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end64 = self._offset
            record = struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, _UNIX | _VERSION64, _VERSION64, 0, 0, count,
                count, size, start,
            )  # fmt: skip
            self._out.write(record + struct.pack("<IIQI", 0x07064B50, 0, end64, 1))
        shown = _MANY if many else count
        end = struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, shown, shown, _narrow(size), _narrow(start), 0
        )
        self._out.write(end)


def _narrow(value: int) -> int:
    """A size or offset as its 32-bit field holds it."""
    return _WIDE if value > ZIP64_LIMIT else value


class _Streamed:
    """A member being written: deflated into ``spill`` as its pieces come."""

    def __init__(self, spill: IO[bytes]) -> None:
        self._spill = spill
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.crc = self.size = self.packed = 0

    def write(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        self._put(self._deflate.compress(data))

    def finish(self) -> None:
        self._put(self._deflate.flush())

    def _put(self, packed: bytes) -> None:
        self._spill.write(packed)
        self.packed += len(packed)
