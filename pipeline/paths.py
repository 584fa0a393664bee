"""File and folder names HR sees: made safe for Windows, macOS and Linux alike."""

from __future__ import annotations

import re
import unicodedata

from .models import Period, Person

_ILLEGAL = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
MAX_COMPONENT = 80


def safe_component(text: str) -> str:
    """One path component: no separators or control characters, no trailing dot or space."""
    cleaned = _ILLEGAL.sub("_", unicodedata.normalize("NFC", text).strip()).rstrip(". ")
    if not cleaned or cleaned in {".", ".."}:
        cleaned = "_"
    if cleaned.split(".")[0].upper() in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned[:MAX_COMPONENT]


def blank_sheet_name(person: Person, period: Period) -> str:
    """``<编号>_<姓名>_2026Q4_平时考核记实表.docx``."""
    return (
        f"{safe_component(person.person_id)}_{safe_component(person.name)}"
        f"_{period.code}_平时考核记实表.docx"
    )
