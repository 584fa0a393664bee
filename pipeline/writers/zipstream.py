"""kaohe's one ZIP writer: the quarter's archive, and every .docx/.xlsx it writes (through
``package``, whose members come compressed already).

Python's ``zipfile`` keeps a ``ZipInfo`` per member until the archive is closed (~500 bytes
with its name): 10,000 members hold ~5 MB, a province's archive hundreds. Here each
member's central-directory record goes to a temporary file (in memory up to 1 MB, then on
disk) as the member is written, and is copied after the last one. Members are written
whole (their bytes known) or streamed through a temporary file (the manifest, tens of
megabytes); ZIP64 records are written exactly where the sizes, offsets or the count need
them, as ``zipfile`` does, so a ZIP of any size opens in Windows, WPS, 7-Zip and
``zipfile``.

Every member has the same fixed time (and, in the archive, owner-only Unix permissions):
the same members give the same bytes on any machine.
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
#: Copied this much at a time (a streamed member, the central directory), and kept in
#: memory up to this much before a temporary file is written.
CHUNK = 1 << 20

#: The two ways a member is kept (deflated, or stored as it is).
DEFLATED, STORED = 8, 0
_UTF8 = 0x800
_UNIX = 3 << 8
_VERSION, _VERSION64 = 20, 45
_MODE = 0o600 << 16
#: 1980-01-01 00:00, the DOS epoch.
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0


def deflater(level: int = 6) -> zlib._Compress:
    """A compressor giving a deflated member's bytes as a ZIP holds them (raw deflate, no
    zlib header): the archive's members, and the parts of every package (``package``)."""
    return zlib.compressobj(level, zlib.DEFLATED, -15)


class ZipWriter:
    """Members written in the order given; ``close`` (or the ``with`` block's end) writes the
    central directory. Names must be unique: the caller chooses them. ``owner_only`` marks
    every member as a Unix file readable by its owner only (the archive holds personal
    data); without it the records say nothing of the system, as Office's own packages."""

    def __init__(self, out: BinaryIO, *, owner_only: bool = True) -> None:
        self._out = out
        self._made_by, self._mode = (_UNIX, _MODE) if owner_only else (0, 0)
        # the central directory: in memory while small (a package's few parts), then in an
        # unnamed temporary file (an archive's thousands of members)
        self._central = bytearray()
        self._spilled: IO[bytes] | None = None
        self._central_size = 0
        self._count = 0
        self._offset = 0  # bytes written to ``out``

    def __enter__(self) -> ZipWriter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is None:
            self.close()
        elif self._spilled is not None:
            self._spilled.close()

    def write(self, name: str, data: bytes, *, compress: bool) -> None:
        """One member from its bytes, deflated if ``compress``."""
        crc, size = zlib.crc32(data), len(data)
        if compress:
            deflate = deflater()
            data = deflate.compress(data) + deflate.flush()
        self.write_packed(name, DEFLATED if compress else STORED, crc, size, data)

    def write_packed(self, name: str, method: int, crc: int, size: int, packed: bytes) -> None:
        """One member already compressed by ``method`` (``size`` and ``crc`` of its content)."""
        self._header(name, method, crc, len(packed), size)
        self._out.write(packed)
        self._offset += len(packed)

    @contextmanager
    def open(self, name: str) -> Iterator[_Streamed]:
        """A deflated member written a piece at a time (``.write(bytes)``): compressed into a
        temporary file, then copied in behind its header."""
        with tempfile.SpooledTemporaryFile(CHUNK) as spill:
            streamed = _Streamed(spill)
            yield streamed
            streamed.finish()
            self._header(name, DEFLATED, streamed.crc, streamed.packed, streamed.size)
            spill.seek(0)
            shutil.copyfileobj(spill, self._out, CHUNK)
            self._offset += streamed.packed

    def _header(self, name: str, method: int, crc: int, packed: int, size: int) -> None:
        """The member's local header, and its record in the central directory."""
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8
        limit, offset = ZIP64_LIMIT, self._offset
        big = packed > limit or size > limit
        extra = struct.pack("<HHQQ", 1, 16, size, packed) if big else b""
        header = struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, _VERSION64 if big else _VERSION, flags, method,
            _DOS_TIME, _DOS_DATE, crc, _WIDE if big else packed, _WIDE if big else size,
            len(encoded), len(extra),
        )  # fmt: skip
        self._out.write(header + encoded + extra)
        self._offset += len(header) + len(encoded) + len(extra)
        if big or offset > limit:
            wide = [v for v in (size, packed, offset) if v > limit]
            extra, version = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide), _VERSION64
            packed, size, offset = _narrow(packed), _narrow(size), _narrow(offset)
        else:
            version = _VERSION
        record = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, self._made_by | version, version, flags,
            method, _DOS_TIME, _DOS_DATE, crc, packed, size, len(encoded), len(extra), 0, 0, 0,
            self._mode, offset,
        )  # fmt: skip
        central = self._central
        central += record + encoded + extra
        self._central_size += len(record) + len(encoded) + len(extra)
        self._count += 1
        if len(central) >= CHUNK:
            if self._spilled is None:
                self._spilled = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
            self._spilled.write(central)
            central.clear()

    def close(self) -> None:
        """The central directory, then its end records (ZIP64 ones where needed)."""
        start, size, count = self._offset, self._central_size, self._count
        if self._spilled is not None:
            with self._spilled as spilled:
                spilled.seek(0)
                shutil.copyfileobj(spilled, self._out, CHUNK)
        self._out.write(self._central)
        self._offset += size
        many = count >= COUNT_LIMIT
        if many or start > ZIP64_LIMIT or size > ZIP64_LIMIT:
            end64 = self._offset
            record = struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, self._made_by | _VERSION64, _VERSION64, 0, 0,
                count, count, size, start,
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
        self._deflate = deflater()
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
