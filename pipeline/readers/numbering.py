"""Word's automatic list numbers (1. 2. / 一、二、 / ①②), which are not in the text itself.

Without them a numbered work record would lose its "1." "2." in every export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from .wordml import child, w

_CN = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    return str(n)


def _roman(n: int) -> str:
    values = (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    )  # fmt: skip
    out = ""
    for value, numeral in values:
        while n >= value:
            out, n = out + numeral, n - value
    return out


def _letter(n: int) -> str:
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(fmt: str, n: int) -> str:
    formats: dict[str, Callable[[int], str]] = {
        "decimal": str,
        "decimalZero": lambda v: f"{v:02d}",
        "chineseCounting": _chinese,
        "chineseCountingThousand": _chinese,
        "ideographTraditional": lambda v: "甲乙丙丁戊己庚辛壬癸"[(v - 1) % 10],
        "decimalEnclosedCircle": lambda v: chr(0x2460 + v - 1) if 1 <= v <= 20 else str(v),
        "decimalEnclosedCircleChinese": lambda v: chr(0x2460 + v - 1) if 1 <= v <= 20 else str(v),
        "upperLetter": _letter,
        "lowerLetter": lambda v: _letter(v).lower(),
        "upperRoman": _roman,
        "lowerRoman": lambda v: _roman(v).lower(),
    }
    return formats.get(fmt, str)(n)


_PPR, _NUMPR, _PSTYLE, _NUMID, _ILVL = w("pPr"), w("numPr"), w("pStyle"), w("numId"), w("ilvl")
_VAL = w("val")


@dataclass(frozen=True)
class _Level:
    fmt: str
    text: str
    start: int


@dataclass
class Numbering:
    """List definitions of a document and the running counters, in reading order."""

    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)
    counters: dict[str, list[int]] = field(default_factory=dict)
    #: Paragraph style id → (numId, ilvl) for list styles such as "List Number".
    styles: dict[str, tuple[str, int]] = field(default_factory=dict)

    @classmethod
    def parse(cls, root: etree._Element | None, styles: etree._Element | None = None) -> Numbering:
        numbering = cls(styles=_style_numbering(styles))
        if root is None:
            return numbering
        abstract: dict[str, dict[int, _Level]] = {}
        for definition in root.iter(w("abstractNum")):
            levels: dict[int, _Level] = {}
            for level in definition.iter(w("lvl")):
                fmt = level.find(w("numFmt"))
                text = level.find(w("lvlText"))
                start = level.find(w("start"))
                levels[int(level.get(w("ilvl"), "0"))] = _Level(
                    fmt.get(w("val"), "decimal") if fmt is not None else "decimal",
                    text.get(w("val"), "") if text is not None else "",
                    int(start.get(w("val"), "1")) if start is not None else 1,
                )
            abstract[definition.get(w("abstractNumId"), "")] = levels
        for num in root.iter(w("num")):
            ref = num.find(w("abstractNumId"))
            if ref is not None:
                numbering.levels[num.get(w("numId"), "")] = abstract.get(ref.get(w("val"), ""), {})
        return numbering

    def applies_to(self, root: etree._Element) -> bool:
        """Whether any paragraph under ``root`` can have a list label: one with its own list
        properties, or of a list style. When none can, reading labels is skipped (``label``
        would give "" for every paragraph and advance no counter)."""
        if not self.levels:
            return False
        if next(root.iter(_NUMPR), None) is not None:
            return True
        return any(style.get(_VAL, "") in self.styles for style in root.iter(_PSTYLE))

    def fresh(self) -> Numbering:
        """The same definitions with counters at zero, for the next document."""
        return Numbering(levels=self.levels, counters={}, styles=self.styles)

    def label(self, paragraph: etree._Element) -> str:
        """The list label of ``paragraph`` ("1." "（一）" "•"), advancing the counters."""
        paragraph_props = child(paragraph, _PPR)
        if paragraph_props is None:
            return ""
        props = child(paragraph_props, _NUMPR)
        style = child(paragraph_props, _PSTYLE)
        inherited = self.styles.get(style.get(w("val"), "")) if style is not None else None
        if props is None and inherited is None:
            return ""
        num = child(props, _NUMID) if props is not None else None
        ilvl = child(props, _ILVL) if props is not None else None
        num_id = num.get(w("val"), "") if num is not None else (inherited or ("", 0))[0]
        level = int(ilvl.get(w("val"), "0")) if ilvl is not None else (inherited or ("", 0))[1]
        levels = self.levels.get(num_id)
        if not levels or level not in levels or num_id == "0":
            return ""
        counters = self.counters.setdefault(num_id, [0] * 9)
        counters[level] = counters[level] + 1 if counters[level] else levels[level].start
        for deeper in range(level + 1, 9):
            counters[deeper] = 0
        spec = levels[level]
        if spec.fmt == "bullet":
            return "• "
        if spec.fmt == "none":
            return ""
        text = spec.text
        for index in range(level + 1):
            spec_index = levels.get(index, spec)
            value = counters[index] or spec_index.start
            text = text.replace(f"%{index + 1}", format_number(spec_index.fmt, value))
        return text + ("" if text.endswith(("、", " ", "\t")) else " ")


def _style_numbering(styles: etree._Element | None) -> dict[str, tuple[str, int]]:
    """Style id → (numId, ilvl), following basedOn chains."""
    if styles is None:
        return {}
    own: dict[str, tuple[str, int] | None] = {}
    based: dict[str, str] = {}
    for style in styles.iter(w("style")):
        style_id = style.get(w("styleId"), "")
        props = style.find(f"{w('pPr')}/{w('numPr')}")
        if props is not None and props.find(w("numId")) is not None:
            num = props.find(w("numId"))
            ilvl = props.find(w("ilvl"))
            own[style_id] = (
                num.get(w("val"), "") if num is not None else "",
                int(ilvl.get(w("val"), "0")) if ilvl is not None else 0,
            )
        parent = style.find(w("basedOn"))
        if parent is not None:
            based[style_id] = parent.get(w("val"), "")
    resolved: dict[str, tuple[str, int]] = {}
    for style_id in set(own) | set(based):
        seen: set[str] = set()
        current: str | None = style_id
        while current and current not in seen:
            seen.add(current)
            if own.get(current):
                resolved[style_id] = own[current]  # type: ignore[assignment]
                break
            current = based.get(current)
    return resolved
