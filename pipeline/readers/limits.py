"""How much an untrusted return may make kaohe read, inflate and spend time on: the
``[limits]`` settings themselves (declared once, in ``pipeline.settings``)."""

from __future__ import annotations

from ..settings import MB, LimitsSettings

Limits = LimitsSettings
DEFAULT_LIMITS = Limits()

__all__ = ["DEFAULT_LIMITS", "MB", "Limits"]
