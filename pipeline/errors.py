"""Exceptions the CLI turns into one clear Chinese message (never a traceback)."""

from __future__ import annotations

from dataclasses import dataclass


class KaoheError(Exception):
    """A problem the user can fix; ``str(err)`` is the Chinese message to show."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: which file, row and column, and what to do."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f"「{self.column}」列"
        return f"{where}：{self.message}"


class InputError(KaoheError):
    """One or more located problems in an input file; nothing was produced."""

    def __init__(self, summary: str, problems: list[Problem]) -> None:
        self.summary = summary
        self.problems = problems
        lines = [summary, *(f"  - {p}" for p in problems)]
        super().__init__("\n".join(lines))


class RosterError(InputError):
    """The roster cannot be used; every problem found is listed."""


class TemplateError(KaoheError):
    """The record-sheet template cannot be used (unknown tag, broken Jinja, not a .docx)."""


class ConfigError(KaoheError):
    """kaohe.toml is missing a value or holds a wrong one."""
