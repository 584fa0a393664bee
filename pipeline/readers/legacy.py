"""Old and other word-processor formats (.doc, .wps, .rtf, .odt) → .docx via LibreOffice,
then read as .docx.

Each conversion runs in a private temporary folder with its own LibreOffice profile (so
conversions never share state or meet a running LibreOffice), under a time limit;
macros are never run by a headless conversion.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .docx import read_docx
from .limits import DEFAULT_LIMITS, Limits
from .raw import RawSheet, ReadFailure

LEGACY = (".doc", ".wps", ".rtf", ".odt", ".wpt", ".dot")
CONVERT_SECONDS = 120


def soffice() -> str | None:
    """The LibreOffice command on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(data: bytes, suffix: str) -> bytes:
    command = soffice()
    if command is None:
        raise ReadFailure(
            "UNSUPPORTED_FORMAT",
            f"本机未安装 LibreOffice，无法读取 {suffix} 文件；"
            "请让本人在 Word/WPS 中另存为 .docx 后重新提交",
        )
    with tempfile.TemporaryDirectory(prefix="kaohe-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"sheet{suffix}"
        source.write_bytes(data)
        out = folder / "out"
        try:
            subprocess.run(
                [
                    command,
                    f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "docx:MS Word 2007 XML",
                    "--outdir",
                    str(out),
                    str(source),
                ],
                check=False,
                capture_output=True,
                timeout=CONVERT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise ReadFailure(
                "UNREADABLE_FILE", f"{suffix} 文件转换超过 {CONVERT_SECONDS} 秒仍未完成，已放弃"
            ) from exc
        result = out / "sheet.docx"
        if not result.is_file():
            raise ReadFailure("UNREADABLE_FILE", f"{suffix} 文件已损坏，LibreOffice 无法打开")
        return result.read_bytes()


def read_legacy(data: bytes, suffix: str, limits: Limits = DEFAULT_LIMITS) -> list[RawSheet]:
    sheets = read_docx(convert_to_docx(data, suffix), limits)
    for sheet in sheets:
        sheet.format = suffix.lstrip(".")
    return sheets
