"""What every reader returns: raw strings with where they were found. No meaning yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class RawField(NamedTuple):
    """A field's text exactly as found, and a human description of where (for explain/debug).
    Tuples, as ``RawProblem``: a sheet has ~20 fields, made by the reader and again by every
    settle, at a quarter of a frozen dataclass's cost."""

    text: str
    where: str


class RawProblem(NamedTuple):
    """Something the reader saw that makes a field's value uncertain (code, field, message)."""

    code: str
    field: str
    message: str


@dataclass
class RawSheet:
    """One returned file as read: field texts by name, identity hints, and problems met."""

    format: str
    fields: dict[str, RawField] = field(default_factory=dict)
    #: Text that may hold a printed form code (footer, body), and where.
    code_texts: list[RawField] = field(default_factory=list)
    #: Identity stored in document properties, if any.
    property_code: str = ""
    #: Labels recognised, to tell a record sheet from any other document.
    labels_found: int = 0
    #: How many sheets the file held (a unit clerk's several people in one document).
    sheets_in_file: int = 1
    #: What the reader saw that makes a value uncertain (a cell two labels point at, text
    #: in no field's cell).
    problems: list[RawProblem] = field(default_factory=list)
    #: Scans only — what the page showed, measured, not yet judged (``pipeline.scanned``
    #: decides what is certain): the form code in the page's QR code; the page number in
    #: the file; whether the table matched the blank form cell for cell; each field's
    #: recognised lines with their scores; marks (the grade boxes: [grade, confidence,
    #: how]; signatures: ink share); crops for the reviewer (name → base64 JPEG).
    qr_code: str = ""
    page: int = 0
    form_matched: bool = False
    lines: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    marks: dict[str, object] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        found = self.fields.get(name)
        return found.text if found else ""


class ReadFailure(Exception):
    """The file cannot be read as a record sheet; ``code`` is the exception code to record."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NoTextLayer(ReadFailure):
    """A PDF whose pages are pictures (a scanner's "scan to PDF"): read by the scan reader."""

    def __init__(self) -> None:
        super().__init__(
            "SCANNED_NEEDS_REVIEW", "PDF 没有文字层（扫描件或照片），无法自动读取，已列入待人工核对"
        )


def raw_to_json(sheet: RawSheet) -> dict[str, object]:
    return {
        "format": sheet.format,
        "fields": {k: [v.text, v.where] for k, v in sheet.fields.items()},
        "code_texts": [[f.text, f.where] for f in sheet.code_texts],
        "property_code": sheet.property_code,
        "labels_found": sheet.labels_found,
        "sheets_in_file": sheet.sheets_in_file,
        "problems": [[p.code, p.field, p.message] for p in sheet.problems],
        **(
            {
                "qr_code": sheet.qr_code,
                "page": sheet.page,
                "form_matched": sheet.form_matched,
                "lines": {k: [list(line) for line in v] for k, v in sheet.lines.items()},
                "marks": sheet.marks,
                "images": sheet.images,
            }
            if sheet.format == "scan"
            else {}
        ),
    }


def raw_from_json(data: dict[str, object]) -> RawSheet:
    fields = data.get("fields", {})
    codes = data.get("code_texts", [])
    problems = data.get("problems", [])
    assert isinstance(fields, dict) and isinstance(codes, list) and isinstance(problems, list)
    return RawSheet(
        format=str(data.get("format", "")),
        fields={k: RawField(str(v[0]), str(v[1])) for k, v in fields.items()},
        code_texts=[RawField(str(t), str(w)) for t, w in codes],
        property_code=str(data.get("property_code", "")),
        labels_found=int(str(data.get("labels_found", 0))),
        sheets_in_file=int(str(data.get("sheets_in_file", 1))),
        problems=[RawProblem(str(c), str(f), str(m)) for c, f, m in problems],
        qr_code=str(data.get("qr_code", "")),
        page=int(str(data.get("page", 0))),
        form_matched=bool(data.get("form_matched", False)),
        lines={
            str(k): [(str(t), float(s)) for t, s in v]
            for k, v in dict(data.get("lines", {})).items()  # type: ignore[call-overload]
        },
        marks=dict(data.get("marks", {})),  # type: ignore[call-overload]
        images={str(k): str(v) for k, v in dict(data.get("images", {})).items()},  # type: ignore[call-overload]
    )
