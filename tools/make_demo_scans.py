"""Make the demo's paper returns (pipeline/samples/): two people's sheets filled in Word,
printed (LibreOffice → PDF), ticked and signed by pen, then one photographed by a phone and
one scanned to PDF by a flatbed — the chain tests/scans.py reproduces.

Run once by developers (needs LibreOffice): ``python tools/make_demo_scans.py``. The demo
copies the files into its inbox and, for a quarter other than the one they were made for,
stamps that quarter's QR code over theirs (pipeline/demo.py).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.demo import SAMPLE_SCAN_PERIOD, SAMPLE_SCANS, SampleReturn, fill_blank  # noqa: E402
from pipeline.models import Period  # noqa: E402
from pipeline.stages.generate import generate  # noqa: E402
from pipeline.workspace import init_workspace  # noqa: E402
from tests.scans import Pen, Scanner, print_pdf, scan, scanned_pdf, write_by_hand  # noqa: E402

OUT = ROOT / "pipeline" / "samples"


def main() -> None:
    period = Period.parse(SAMPLE_SCAN_PERIOD)
    with tempfile.TemporaryDirectory() as folder:
        workspace = init_workspace(Path(folder) / "ws").workspace
        generate(workspace, period)
        m1, m2, m3 = period.month_labels
        for sample in SAMPLE_SCANS:
            [blank] = workspace.blank_dir(period).glob(f"*/{sample.person_id}_*.docx")
            filled = fill_blank(
                blank.read_bytes(),
                SampleReturn(
                    sample.person_id,
                    (
                        f"{m1}：{sample.work[0]}",
                        f"{m2}：{sample.work[1]}",
                        f"{m3}：{sample.work[2]}",
                    ),
                    sample.attendance,
                    "",
                    datetime(2027, 1, 5, 10, 0),
                    "",
                    leader=sample.leader,
                ),
                blank.name.split("_")[1],
                signed=False,
            )
            docx = Path(folder) / f"{sample.person_id}.docx"
            docx.write_bytes(filled)
            subprocess.run(
                ["soffice", "--headless", "--convert-to", "pdf", "--outdir", folder, str(docx)],
                check=True, capture_output=True, timeout=180,
            )  # fmt: skip
            dpi = 200 if sample.kind == "pdf" else 220
            [printed] = print_pdf(docx.with_suffix(".pdf").read_bytes(), dpi)
            paper = write_by_hand(printed, Pen(tick=sample.grade, seed=int(sample.person_id)))
            OUT.mkdir(exist_ok=True)
            if sample.kind == "pdf":
                image = scan(paper, Scanner(rotate=0.8, noise=5, seed=3))
                (OUT / sample.file).write_bytes(scanned_pdf([image.convert("L")], dpi))
            else:
                image = scan(paper, Scanner(perspective=0.035, light=0.3, noise=6, blur=0.6,
                                            desk=True, seed=7))  # fmt: skip
                image = image.resize((image.width * 3 // 4, image.height * 3 // 4))
                image.convert("RGB").save(OUT / sample.file, "JPEG", quality=72)
            print(OUT / sample.file, (OUT / sample.file).stat().st_size)


if __name__ == "__main__":
    main()
