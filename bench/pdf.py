"""PDF reading speed: kaohe's reader (pdfium) against the same reader on pdfminer and the
naive route (pdfplumber's extract_tables), in the same run, on LibreOffice exports.

    python bench/pdf.py [--repeat 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "tests" / "fixtures" / "libreoffice"


def main() -> None:
    import io

    import pdfplumber

    from pipeline.readers.pdf import pdfium_pages, pdfminer_pages, read_pdf

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=60)
    options = parser.parse_args()
    files = [p.read_bytes() for p in sorted(FIXTURES.glob("*.pdf"))]
    pages = sum(len(pdfium_pages(data)) for data in files) * options.repeat

    def timed(read: object) -> float:
        started = time.perf_counter()
        for _ in range(options.repeat):
            for data in files:
                read(data)  # type: ignore[operator]
        return time.perf_counter() - started

    def naive(data: bytes) -> None:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                page.extract_tables()

    fast = timed(lambda d: read_pdf(d, pdfium_pages))
    slow = timed(lambda d: read_pdf(d, pdfminer_pages))
    baseline = timed(naive)
    print(f"PDF：{pages} 页（{len(files)} 份 LibreOffice 导出 × {options.repeat}），单进程")
    print(f"  kaohe（pdfium）        {pages / fast:7.1f} 页/秒")
    print(f"  同一读取器走 pdfminer  {pages / slow:7.1f} 页/秒（kaohe 快 {slow / fast:.1f} 倍）")
    print(
        f"  朴素 extract_tables    {pages / baseline:7.1f} 页/秒（kaohe 快 {baseline / fast:.1f} 倍）"
    )


if __name__ == "__main__":
    main()
