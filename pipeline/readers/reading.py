"""Reading one submission into a raw sheet, the way ingest's workers and ``explain`` both
do it: one entry point, one failure convention, one reader version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from .formats import read_any
from .limits import DEFAULT_LIMITS, MB, Limits
from .raw import ReadFailure, raw_to_json

#: Bump when a reader reads something differently: stored readings of older versions are
#: read again on the next ingest (their received time is kept).
#: 3: several sheets in one file are read as several submissions (``file#1``, ``file#2``).
#: 4: scans and photos are read (OCR, QR codes, grade marks) instead of sent to review.
READER_VERSION = 4
UNREADABLE = "UNREADABLE_FILE"


class ReadResult(NamedTuple):
    """What reading one submission gave: its raw sheets as JSON (one per sheet in the file),
    or a failure code and message."""

    raws: list[dict[str, object]] | None
    code: str | None
    message: str | None


def _size(count: int) -> str:
    return f"{count / MB:g} MB" if count >= MB else f"{count // 1024} KB"


def too_big(limits: Limits) -> str:
    return (
        f"文件超过 {_size(limits.file_bytes)}，一页记实表不会这么大，已拒收"
        "（上限见 kaohe.toml [limits]）"
    )


def read_submission(name: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> ReadResult:
    """Read one submission: the raw sheet, or a failure code and message."""
    try:
        return ReadResult([raw_to_json(s) for s in read_any(name, data, limits)], None, None)
    except ReadFailure as failure:
        return ReadResult(None, failure.code, failure.message)
    except Exception as exc:  # a reader bug or a file no reader foresaw: record it, go on
        return ReadResult(None, UNREADABLE, f"文件无法解析（{type(exc).__name__}）")


def read_file(path: str, limits: Limits = DEFAULT_LIMITS) -> ReadResult:
    """Read one file from disk (used by explain)."""
    file = Path(path)
    if file.stat().st_size > limits.file_bytes:
        return ReadResult(None, UNREADABLE, too_big(limits))
    return read_submission(file.name, file.read_bytes(), limits)


def read_task(
    key: str, data: bytes, code: str | None, message: str | None, limits: Limits
) -> ReadResult:
    """A worker's task: a submission already known to fail is answered without reading."""
    if code is not None:
        return ReadResult(None, code, message)
    return read_submission(key, data, limits)


class StoredReading(NamedTuple):
    """A ReadResult with each sheet encoded as the ledger stores it (JSON text), made in the
    reader process: the main process then neither decodes nor encodes the sheets."""

    raws: list[str] | None
    code: str | None
    message: str | None


def read_task_encoded(
    key: str, data: bytes, code: str | None, message: str | None, limits: Limits
) -> StoredReading:
    """``read_task`` for ingest's stream into the ledger."""
    raws, code, message = read_task(key, data, code, message, limits)
    texts = [json.dumps(raw, ensure_ascii=False) for raw in raws] if raws is not None else None
    return StoredReading(texts, code, message)
