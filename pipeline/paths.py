"""File and folder names HR sees: made safe for Windows, macOS and Linux alike."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from .errors import ConfigError
from .models import Period, Person
from .settings import TEMPLATE_NAME

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


def shipped_template() -> Path:
    """The record-sheet template shipped with kaohe (inside the wheel, or the repo's templates/)."""
    here = Path(__file__).resolve().parent
    for candidate in (
        here / "_templates" / TEMPLATE_NAME,
        here.parent / "templates" / TEMPLATE_NAME,
    ):
        if candidate.is_file():
            return candidate
    raise ConfigError("安装不完整：找不到自带的记实表模板，请重新安装 kaohe")
