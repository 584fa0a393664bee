"""Read a generated sheet back the way a person sees it: the text in each cell of the table."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx

# (row, column) of each prefilled value in the shipped template's table.
NAME, GENDER, UNIT_POSITION, DUTIES = (0, 1), (0, 3), (0, 5), (1, 1)


def open_sheet(source: Path | bytes) -> docx.document.Document:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return docx.Document(io.BytesIO(data))


def cell(document: docx.document.Document, row: int, column: int) -> str:
    return str(document.tables[0].cell(row, column).text)


def body_text(document: docx.document.Document) -> str:
    parts = [p.text for p in document.paragraphs]
    for row in document.tables[0].rows:
        parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def footer_text(document: docx.document.Document) -> str:
    return "\n".join(p.text for s in document.sections for p in s.footer.paragraphs)


def custom_properties(source: Path | bytes) -> str:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return package.read("docProps/custom.xml").decode()
