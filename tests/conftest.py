"""Shared fixtures: rosters made the way HR makes them (Excel workbooks, GBK CSV), workspaces."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.sample import SAMPLE_HEADER, SAMPLE_ROWS
from pipeline.workspace import Workspace, init_workspace

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) not installed")


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], *, id_format: str | None = None
) -> Path:
    """A roster workbook as Excel writes it.

    ``id_format`` mimics a numeric 编号 column displayed with zeros (0007).
    """
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    if id_format:
        for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
            cell.number_format = id_format
    workbook.save(path)
    return path


def write_csv(path: Path, rows: Sequence[Sequence[str]], encoding: str) -> Path:
    text = "\r\n".join(",".join(row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def sample_rows() -> list[list[str]]:
    return [list(SAMPLE_HEADER), *[list(r) for r in SAMPLE_ROWS]]


def convert(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert with LibreOffice in a private profile (as a second, real word processor)."""
    assert SOFFICE is not None
    profile = outdir / ".lo-profile"
    outdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    return outdir / (source.stem + "." + fmt.split(":")[0])


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace made by ``init`` (sample roster, shipped template)."""
    return init_workspace(tmp_path / "ws").workspace


def kaohe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the kaohe command line; its exit code, stdout and stderr."""
    from pipeline.cli import run

    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def _readers_as_the_command_line_starts_them() -> Iterator[None]:
    """A workbench test switches reader processes to forkserver and keeps them warm; the
    tests after it must get the command line's fork-per-run again."""
    yield
    from pipeline import workers

    workers.reset()
