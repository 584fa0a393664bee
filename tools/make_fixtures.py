"""Regenerate tests/fixtures/libreoffice/: sheets re-saved by a real LibreOffice.

Run by developers where ``soffice`` exists: ``python tools/make_fixtures.py``.
The files are committed so tests check real-client output without LibreOffice.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.models import Period  # noqa: E402
from pipeline.stages.generate import generate  # noqa: E402
from pipeline.workspace import init_workspace  # noqa: E402
from tests.conftest import convert  # noqa: E402
from tests.docs import with_symbol_tick  # noqa: E402
from tests.filling import MODEST, fill  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "libreoffice"


def main() -> None:
    period = Period(year=2026, quarter=4)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        workspace = init_workspace(work / "ws").workspace
        generate(workspace, period)
        [blank] = workspace.blank_dir(period).glob("*/0012_*.docx")
        [zhang] = workspace.blank_dir(period).glob("*/0007_*.docx")
        filled = work / "filled_0007.docx"
        filled.write_bytes(fill(zhang.read_bytes(), MODEST))
        shutil.copyfile(blank, work / "blank_0012.docx")
        OUT.mkdir(parents=True, exist_ok=True)
        for name in ("blank_0012", "filled_0007"):
            resaved = convert(work / f"{name}.docx", "docx", work / "lo")
            shutil.copyfile(resaved, OUT / f"{name}_resaved_by_lo74.docx")
            print(OUT / f"{name}_resaved_by_lo74.docx")
        long_text = (
            "本月重点开展固体废物规范化管理检查，督促企业建立管理台账并落实贮存场所标识。" * 40
        )
        spill = dataclasses.replace(
            MODEST, monthly=(MODEST.monthly[0], MODEST.monthly[1], long_text)
        )
        (work / "spill_0007.docx").write_bytes(fill(zhang.read_bytes(), spill))
        exported = convert(work / "spill_0007.docx", "pdf", work / "spill")
        shutil.copyfile(exported, OUT / "spill_0007_two_pages_by_lo74.pdf")
        print(OUT / "spill_0007_two_pages_by_lo74.pdf")
        ticked = with_symbol_tick(
            fill(zhang.read_bytes(), dataclasses.replace(MODEST, grade_tick="")), "较好"
        )
        (work / "symbol_tick_0007.docx").write_bytes(ticked)
        exported = convert(work / "symbol_tick_0007.docx", "pdf", work / "symbol")
        shutil.copyfile(exported, OUT / "symbol_tick_0007_by_lo74.pdf")
        print(OUT / "symbol_tick_0007_by_lo74.pdf")
        for fmt in ("pdf", "doc"):
            exported = convert(work / "filled_0007.docx", fmt, work / fmt)
            target = OUT / f"filled_0007_by_lo74.{fmt}"
            shutil.copyfile(exported, target)
            print(target)


if __name__ == "__main__":
    main()
