"""A spool: bytes parked in an unnamed, owner-only temporary file instead of in memory, for
data that grows with the roster but is read back only a piece at a time (a period's records
and results while its outputs are written, a summary sheet's rows, the archive manifest's
lines); and a scratch SQLite database for what must be sorted or looked up instead.

Appending returns where the piece lies; reading it back is a seek and a read under a lock,
so threads of the workbench may share one spool (``os.pread`` would not run on Windows).
The file has no name on Linux and is removed when closed elsewhere; it is closed with the
spool, or when the spool is garbage-collected (a period's result owns its spool).
"""

from __future__ import annotations

import marshal
import sqlite3
import tempfile
import threading
import weakref
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from .writers import atomic

#: Pieces are written out once this much is waiting (one write per ~1 MB, not per piece),
#: and read back this much at a time.
FLUSH_AT = 1 << 20
#: What a sheet's rows keep waiting: a workbook has a sheet per unit, each with its spool.
ROWS_FLUSH_AT = 16 << 10


def scratch_database(cache_kb: int = 512) -> sqlite3.Connection:
    """A private temporary SQLite database, removed when closed, that keeps at most
    ``cache_kb`` of its pages in memory and the rest in SQLite's temporary file: for sorting
    or looking up what grows with the roster (the report's findings, the archive's names)."""
    db = sqlite3.connect("")  # "": a temporary database on disk, not ":memory:"
    db.execute(f"PRAGMA cache_size = -{int(cache_kb)}")
    return db


class Spool:
    """Bytes appended and read back by their place in the file."""

    def __init__(self, folder: Path | None = None, *, flush_at: int | None = None) -> None:
        if folder is not None:
            atomic.private_dir(folder)
        self._flush_at = flush_at
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - closed by close()
        self._waiting: list[bytes] = []
        self._waiting_size = 0
        self._size = 0  # bytes appended, written out or waiting
        self._lock = threading.Lock()
        # a result's spool lives as long as the result: closed with it, without a warning
        self._closed = weakref.finalize(self, self._file.close)

    def append(self, data: bytes) -> tuple[int, int]:
        """Park ``data``; its (offset, length) in the spool."""
        with self._lock:
            offset = self._size
            self._waiting.append(data)
            self._waiting_size += len(data)
            self._size += len(data)
            if self._waiting_size >= (self._flush_at or FLUSH_AT):
                self._write_out()
        return offset, len(data)

    def read(self, offset: int, length: int) -> bytes:
        """The bytes appended at ``offset``."""
        with self._lock:
            self._write_out()
            self._file.seek(offset)
            data = self._file.read(length)
        if len(data) != length:
            raise OSError(f"临时文件被截断：应有 {length} 字节，读到 {len(data)} 字节")
        return data

    def _chunks(self) -> Iterator[bytes]:
        """Everything appended so far, from the start, a megabyte at a time."""
        size, position = self._size, 0
        while position < size:
            chunk = self.read(position, min(FLUSH_AT, size - position))
            position += len(chunk)
            yield chunk

    def lines(self) -> Iterator[bytes]:
        """Everything appended so far, line by line with its newline (for pieces that each
        end with one), read a megabyte at a time."""
        rest = b""
        for chunk in self._chunks():
            *whole, rest = (rest + chunk).split(b"\n")
            yield from (line + b"\n" for line in whole)
        if rest:
            yield rest

    def pieces(self, lengths: Iterable[int]) -> Iterator[bytes]:
        """The pieces appended back to back from the start, given their lengths, read a
        megabyte at a time."""
        chunks = self._chunks()
        buffer, at = b"", 0
        for length in lengths:
            while len(buffer) - at < length:  # a piece may span chunks
                more = next(chunks, b"")
                if not more:
                    raise OSError("临时文件被截断：比记下的长度短")
                buffer, at = buffer[at:] + more, 0
            yield buffer[at : at + length]
            at += length

    def close(self) -> None:
        self._closed()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_out(self) -> None:
        if self._waiting:
            self._file.seek(0, 2)
            self._file.write(b"".join(self._waiting))
            self._waiting.clear()
            self._waiting_size = 0


class SpooledRows:
    """A sheet's rows parked in a spool of their own: counted, and read through in order as
    often as the workbook writer needs (see ``writers.xlsx.Rows``), a megabyte at a time;
    in memory only each row's length. Cells are plain values (text, numbers, booleans,
    None), which ``marshal`` keeps exactly; anything else is refused when appended."""

    def __init__(self, folder: Path | None = None) -> None:
        self._spool = Spool(folder, flush_at=ROWS_FLUSH_AT)
        self._lengths = array("q")

    def append(self, row: Sequence[Any]) -> None:
        _, length = self._spool.append(marshal.dumps(tuple(row)))
        self._lengths.append(length)

    def __len__(self) -> int:
        return len(self._lengths)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return (marshal.loads(piece) for piece in self._spool.pieces(self._lengths))

    def close(self) -> None:
        self._spool.close()
