"""How long-running stages report progress, without knowing who is watching."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Told the total once, then each step done."""

    def start(self, total: int) -> None: ...

    def advance(self, count: int = 1) -> None: ...


class NoProgress:
    """Progress nobody watches."""

    def start(self, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass
