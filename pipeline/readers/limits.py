"""How much an untrusted return may make kaohe read, inflate and spend time on.

Defaults are sized for a one-page sheet (~40 KB as .docx) with wide margins; HR can
change them in ``kaohe.toml`` under ``[limits]``. Checked before inflating and again
while inflating, because sizes declared inside a zip can lie.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 50 * MB  # a returned file on disk
    part_bytes: int = 20 * MB  # one part of a .docx, inflated
    package_bytes: int = 60 * MB  # all parts of a .docx read, inflated
    bundle_bytes: int = 500 * MB  # all members of a zip bundle, inflated
    bundle_members: int = 2000
    parse_seconds: float = 60.0  # reading one file, in a worker process


DEFAULT_LIMITS = Limits()
