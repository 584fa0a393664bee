"""Regenerate tests/fixtures/hostile/: a small corpus of broken and hostile returns.

Everything here is tiny; bombs are built inside the tests, never committed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "hostile"
SHEET = (OUT.parent / "libreoffice" / "filled_0007_resaved_by_lo74.docx").read_bytes()


def zipped(members: dict[str, bytes], flags: int = 0) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = flags << 16 if flags else 0
            archive.writestr(info, data)
    return out.getvalue()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = {
        "empty.docx": b"",
        "pdf_named_docx.docx": b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n",
        "program_named_docx.docx": b"MZ\x90\x00\x03\x00 This program cannot be run in DOS mode.",
        "truncated.docx": SHEET[: len(SHEET) // 2],
        "not_a_sheet.docx": zipped(
            {
                "[Content_Types].xml": b"<Types/>",
                "word/document.xml": b"<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'><w:body><w:p><w:r><w:t>hello</w:t></w:r></w:p></w:body></w:document>",
            }
        ),
        "climbing.zip": zipped({"../../etc/cron.d/evil.docx": SHEET}),
        "symlink.zip": zipped({"link.docx": b"/etc/passwd"}, flags=0o120777),
        "truncated.pdf": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R",
        "garbage.zip": b"PK\x03\x04" + b"\xff" * 64,
    }
    for name, data in corpus.items():
        (OUT / name).write_bytes(data)
        print(OUT / name)


if __name__ == "__main__":
    main()
