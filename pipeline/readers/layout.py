"""Find a record sheet's fields by their printed labels, the way a person reads the form.

Works on a grid of cells, whatever the format (Word table, PDF ruling lines). Labels and
where each field's value sits relative to its label are data (``LABELS``), not branches.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from ..fields import BELOW, FIELDS, RIGHT, name_of
from ..models import PERIOD_TEXT
from .raw import RawField, RawProblem, RawSheet
from .wordml import GridCell

#: A table needs this many recognised labels for the file to be taken for a record sheet.
MIN_LABELS = 4
#: The period line printed above the table: （2026年第4季度）.
PERIOD_LINE = PERIOD_TEXT


@dataclass(frozen=True)
class Label:
    field: str
    pattern: re.Pattern[str]
    #: Where the value is, in order of preference.
    look: tuple[str, ...] = (RIGHT, BELOW)


#: Printed labels of the sheet's fields, from ``fields.FIELDS``.
LABELS: tuple[Label, ...] = tuple(
    Label(f.raw, re.compile(f.labels), f.look) for f in FIELDS if f.labels and f.raw
)
#: Printed words that label something but are not fields themselves.
OTHER_LABELS = re.compile(r"^(?:工作纪实|工作记实|出勤记录|出勤情况|签字|签名)$")
_NORMALISE = re.compile(r"[\s\u3000:：]+")
#: Printed words of the form that sit in cells of their own on some layouts: not filled text.
_PRINTED = re.compile(
    r"^(?:签\s*[字名]|本人签字|(?:考核)?等\s*次|年[\s\u3000]*月[\s\u3000]*日|[\s\u3000年月日]*$"
    r"|.{0,20}(?:记实表|纪实表|考核表)$)"
)


def normalise_label(text: str) -> str:
    return _NORMALISE.sub("", text).replace("(", "（").replace(")", "）")


@lru_cache(maxsize=8192)
def match_label(text: str) -> Label | None:
    """The field label ``text`` is, if any (cached: every sheet prints the same labels)."""
    key = normalise_label(text)
    if not key or len(key) > 24:
        return None
    for label in LABELS:
        if label.pattern.match(key):
            return label
    return None


_INLINE = re.compile(r"^\s*([^:：\n]{1,12})[:：]\s*(.+)$", re.S)


def _inline(text: str) -> tuple[Label, str] | None:
    """A cell holding label and value together, e.g. ``姓名：张伟``."""
    match = _INLINE.match(text)
    if not match:
        return None
    label = match_label(match.group(1))
    return (label, match.group(2).strip()) if label else None


def is_label(cell: GridCell) -> bool:
    return _is_label_text(cell.text)


@lru_cache(maxsize=8192)
def _is_label_text(text: str) -> bool:
    key = normalise_label(text)
    return bool(key) and (match_label(text) is not None or bool(OTHER_LABELS.match(key)))


def _column(cell: GridCell) -> int:
    return cell.col


class _Grid:
    """A table's cells with each row's cells at hand (in the table's order)."""

    def __init__(self, cells: Sequence[GridCell]) -> None:
        self.rows: dict[int, list[GridCell]] = {}
        for cell in cells:
            self.rows.setdefault(cell.row, []).append(cell)
        self.numbers = sorted(self.rows)
        #: Each row's cells left to right (a stable sort: cells at one column keep their order).
        self.by_column = {n: sorted(row, key=_column) for n, row in self.rows.items()}

    def right_of(self, cell: GridCell) -> GridCell | None:
        for candidate in self.by_column[cell.row]:
            if candidate.col < cell.end:
                continue
            if not is_label(candidate):
                return candidate
            if match_label(candidate.text):
                return None  # the next field's label: this one has no value to its right
        return None

    def below(self, cell: GridCell) -> GridCell | None:
        for row in self.numbers[bisect_right(self.numbers, cell.row) :]:
            for candidate in self.rows[row]:
                if candidate.col <= cell.col < candidate.end:
                    if candidate.continued:
                        break  # still the label's own merged cell; look further down
                    if is_label(candidate) or self._starts_field(candidate):
                        return None
                    return candidate
        return None

    def _starts_field(self, candidate: GridCell) -> bool:
        """The candidate's row begins another field left of it (it is that field's value)."""
        return any(
            c.col < candidate.col and not c.continued and match_label(c.text) is not None
            for c in self.rows[candidate.row]
        )


def _where(cell: GridCell, table: str) -> str:
    return f"{table}第{cell.row + 1}行第{cell.col + 1}列"


class Found(NamedTuple):
    fields: dict[str, RawField]
    labels: int
    problems: list[RawProblem]


def find_fields(cells: Sequence[GridCell], table: str = "表格") -> Found:
    """Field texts by name from a table grid, how many labels were recognised, and what makes
    a value uncertain: a cell two labels point at (a moved border) is nobody's value; text in
    a cell that is no field's (an inserted row, a split cell) is reported with the field
    above it."""
    grid = _Grid(cells)
    found: dict[str, RawField] = {}
    owner: dict[tuple[int, int], str] = {}  # value cell → the field that took it
    problems: list[RawProblem] = []
    labels = 0
    for cell in cells:
        if cell.continued:
            continue
        label = match_label(cell.text)
        if label is None:
            inline = _inline(cell.text)
            if inline and inline[0].field not in found:
                labels += 1
                found[inline[0].field] = RawField(inline[1], _where(cell, table) + "（与栏目同格）")
            continue
        labels += 1
        if label.field in found:
            continue
        for direction in label.look:
            target = grid.right_of(cell) if direction == RIGHT else grid.below(cell)
            if target is None:
                continue
            taken = owner.get((target.row, target.col))
            if taken is not None:  # two labels, one cell: it belongs to neither for sure
                found[label.field] = RawField("", _where(target, table) + "（与其他栏目共用）")
                problems.append(_shared(label.field, taken, target.text))
                break
            owner[(target.row, target.col)] = label.field
            found[label.field] = RawField(target.text, _where(target, table))
            break
        else:
            found[label.field] = RawField("", _where(cell, table) + "（栏目旁无填写格）")
    problems.extend(_unplaced(cells, owner, table))
    return Found(found, labels, problems)


def _shared(field: str, taken: str, text: str) -> RawProblem:
    return RawProblem(
        "CELL_SHARED",
        field,
        f"“{name_of(field)}”和“{name_of(taken)}”指向表格中的同一格（“{text.strip()}”），"
        "表格可能被拖动过边框或拆分过，无法确定各自的内容",
    )


def _unplaced(
    cells: Sequence[GridCell], owner: dict[tuple[int, int], str], table: str
) -> list[RawProblem]:
    """Text in cells no label leads to (an inserted row, a split cell): kept in the report
    with the field above it, never silently dropped."""
    problems = []
    for cell in cells:
        text = cell.text.strip()
        if not text or cell.continued or (cell.row, cell.col) in owner or is_label(cell):
            continue
        if _inline(cell.text) or PERIOD_LINE.search(text) or _PRINTED.match(text):
            continue
        above = [(r, c) for (r, c) in owner if r < cell.row or (r == cell.row and c < cell.col)]
        near = owner[max(above)] if above else ""
        where = _where(cell, table)
        shown = text if len(text) <= 40 else text[:40] + "…"
        problems.append(
            RawProblem(
                "UNPLACED_TEXT",
                near,
                f"{where}的“{shown}”不在任何栏目的填写格里"
                + (f"（上方最近的栏目是“{name_of(near)}”）" if near else "")
                + "，表格可能被插入过行或拆分过格子，请核对",
            )
        )
    return problems


def read_loose_lines(sheet: RawSheet, lines: Iterable[tuple[str, str]]) -> None:
    """Lines outside the tables, with where they are: the period line, a 签字 line (the
    notice's own attachment prints it between the tables), text that may hold a form code."""
    for text, where in lines:
        stripped = text.strip()
        if "period_text" not in sheet.fields and PERIOD_LINE.search(stripped):
            sheet.fields["period_text"] = RawField(stripped, where)
        if stripped.startswith(("签字", "签名")) and "signature" not in sheet.fields:
            sheet.fields["signature"] = RawField(stripped, where)
        if "KH" in stripped.upper():
            sheet.code_texts.append(RawField(stripped, where))
