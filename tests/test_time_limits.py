"""A file that makes a reader hang or crash is stopped; the run goes on and records it."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import datetime

import pytest

from pipeline.models import Period
from pipeline.readers.limits import Limits
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="needs forked workers to inherit the patch"
)
def test_hanging_and_crashing_readers_are_stopped(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.readers.reading as stage

    real = stage.read_any

    def reader(name: str, data: bytes, limits: Limits):  # type: ignore[no-untyped-def]
        if "hang" in name:
            time.sleep(3600)
        if "crash" in name:
            os._exit(139)  # as a segfault in a C library would end the process
        return real(name, data, limits)

    monkeypatch.setattr(stage, "read_any", reader)
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0001_*.docx")
    good = fill(blank.read_bytes(), MODEST)
    for name in ("a_hang.docx", "b_crash.docx", "c_good.docx", "d_hang.pdf"):
        (workspace.inbox / name).write_bytes(good)
    started = time.monotonic()
    result = ingest(workspace, received_at=datetime(2027, 1, 5), limits=Limits(parse_seconds=1.0))
    assert time.monotonic() - started < 20
    outcomes = {f.path: (f.outcome, f.reason) for f in result.files}
    hung = "UNREADABLE_FILE 文件解析超过 1 秒仍未完成，已中止（文件可能已损坏或被构造得无法解析）"
    # a PDF may be a scanned stack read by OCR: its limit is scan_seconds (10x by default)
    hung_pdf = hung.replace("1 秒", "10 秒")
    assert outcomes == {
        "inbox/a_hang.docx": ("rejected", hung),
        "inbox/b_crash.docx": (
            "rejected",
            "UNREADABLE_FILE 解析时读取程序异常退出（文件可能已损坏）",
        ),
        "inbox/c_good.docx": ("accepted", ""),
        "inbox/d_hang.pdf": ("rejected", hung_pdf),
    }
