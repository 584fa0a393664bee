"""The period's archive for HR's records (存档): every original as received, renamed by unit
and person; superseded and rejected ones under 其他/ with their reason; the summary workbook,
the exception report, and ``manifest.json`` with every member's hash.

The archive is rebuilt from the ledger and the inbox each time, with fixed timestamps and
member order: a second run with no new input gives the same bytes. ``verify`` recomputes
every hash against the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .. import __version__
from ..errors import KaoheError
from ..ledger import ACCEPTED, LEDGER_NAME, SUPERSEDED, FileRow, Ledger
from ..paths import safe_component
from ..readers.bundle import members
from ..workspace import Workspace
from ..writers import atomic
from .report import write_report
from .review import REVIEW_SUFFIX
from .summary import write_summary

MANIFEST = "manifest.json"
_TIME = (1980, 1, 1, 0, 0, 0)
OTHER = "其他"


def archive_path(workspace: Workspace, period_code: str) -> Path:
    return workspace.root / "outbox" / period_code / "archive" / f"{period_code}_平时考核归档.zip"


def _original_bytes(workspace: Workspace, key: str) -> bytes | None:
    """The bytes of a ledger path: a file, or a member inside a bundle (``a.zip!/b.docx``)."""
    outer, _, inner = key.partition("!/")
    path = workspace.root / outer if not PurePosixPath(outer).is_absolute() else Path(outer)
    if not path.is_file():
        return None
    data = path.read_bytes()
    if not inner:
        return data
    for member in members(data, outer):
        if member.name == key:
            return member.data
    return None


@dataclass(frozen=True)
class _Entry:
    name: str
    data: bytes
    info: dict[str, object]


def _suffix(key: str) -> str:
    return PurePosixPath(key.split("!/")[-1]).suffix.lower() or ".bin"


def build_archive(workspace: Workspace, period_code: str) -> ArchiveResult:
    """Write the archive of ``period_code`` atomically; raise KaoheError if originals changed."""
    from ..models import Period

    period = Period.parse(period_code)
    ledger_path = workspace.root / LEDGER_NAME
    if not ledger_path.exists():
        raise KaoheError("还没有登记过任何交回的表（先运行 kaohe ingest）")
    summary = write_summary(workspace, period)
    report = write_report(workspace, period)
    with Ledger(ledger_path) as ledger:
        rows = [r for r in ledger.iter_rows() if r.period in (period.code, None)]
    entries: list[_Entry] = []
    problems: list[str] = []
    absent: list[dict[str, object]] = []
    used: set[str] = set()
    for row in rows:
        entry = _entry_for(workspace, row, used, problems if row.outcome == ACCEPTED else None)
        if entry is not None:
            entries.append(entry)
        elif row.outcome != ACCEPTED:
            absent.append({"source_path": row.path, "outcome": row.outcome, "reason": row.reason})
    if problems:
        shown = "；".join(problems[:5]) + ("……" if len(problems) > 5 else "")
        raise KaoheError(
            f"有 {len(problems)} 个原文件已被移动或修改，无法归档：{shown}。请放回原处后重试。"
        )
    template = workspace.template_path
    entries.append(_Entry("汇总表.xlsx", summary.read_bytes(), {"kind": "summary"}))
    entries.append(_Entry("异常报告.xlsx", report.xlsx.read_bytes(), {"kind": "report"}))
    entries.append(_Entry("异常报告.html", report.html.read_bytes(), {"kind": "report"}))
    entries.sort(key=lambda e: e.name)
    deadline = workspace.deadline(period)
    manifest = {
        "period": period.code,
        "deadline": {"day": deadline.day.isoformat(), "provisional": deadline.provisional},
        "tool": f"kaohe {__version__}",
        "template_sha256": (
            hashlib.sha256(template.read_bytes()).hexdigest() if template.is_file() else None
        ),
        "members": [
            {
                "name": e.name,
                "sha256": hashlib.sha256(e.data).hexdigest(),
                "size": len(e.data),
                **e.info,
            }
            for e in entries
        ],
        "missing_originals": absent,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            archive.writestr(_info(entry.name), entry.data)
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        archive.writestr(_info(MANIFEST), text.encode("utf-8"))
    target = archive_path(workspace, period.code)
    atomic.write_bytes(target, buffer.getvalue())
    return ArchiveResult(target, len(entries), [str(a["source_path"]) for a in absent])


@dataclass(frozen=True)
class ArchiveResult:
    path: Path
    members: int
    missing: list[str]


#: Formats that are compressed already: deflating them again costs time and saves nothing.
_STORED = (".docx", ".docm", ".xlsx", ".pdf", ".zip", ".jpg", ".jpeg", ".png")


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_TIME)
    stored = name.lower().endswith(_STORED)
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o600 << 16
    return info


def _entry_for(
    workspace: Workspace, row: FileRow, used: set[str], problems: list[str] | None
) -> _Entry | None:
    """The archive member for a ledger row; None when its original is gone (an accepted
    row's absence is added to ``problems``)."""
    reviewed = row.path.endswith(REVIEW_SUFFIX)
    source_key = row.path.removesuffix(REVIEW_SUFFIX)
    info: dict[str, object] = {
        "source_path": row.path,
        "received_at": row.received_at,
        "outcome": row.outcome,
        "reason": row.reason,
        "record": row.record,
    }
    if reviewed:
        data = json.dumps(row.raw, ensure_ascii=False, indent=2).encode("utf-8")
        suffix = ".人工核对.json"
    else:
        original = _original_bytes(workspace, row.path)
        if original is None or hashlib.sha256(original).hexdigest() != row.sha256:
            if problems is not None:
                problems.append(row.path)
            return None
        data, suffix = original, _suffix(row.path)
    record = row.record or {}
    if row.outcome == ACCEPTED:
        unit = safe_component(str(record.get("unit", "")))
        person = safe_component(str(record.get("person_id", "")))
        name_part = safe_component(str(record.get("name", "")))
        base = f"{unit}/{person}_{name_part}_{row.period}"
    else:
        kind = "被替代" if row.outcome == SUPERSEDED else "拒收"
        base = f"{OTHER}/{kind}_{safe_component(PurePosixPath(source_key.split('!/')[-1]).stem)}"
    name = f"{base}{suffix}"
    counter = 2
    while name in used:
        name = f"{base}_{counter}{suffix}"
        counter += 1
    used.add(name)
    return _Entry(name, data, info)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str


def verify(path: Path) -> Verification:
    """Check every member of an archive against its manifest."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise KaoheError(f"{path} 不是有效的归档 zip 文件") from exc
    with archive:
        try:
            manifest = json.loads(archive.read(MANIFEST))
        except KeyError:
            return Verification(False, 0, f"缺少 {MANIFEST}")
        except json.JSONDecodeError:
            return Verification(False, 0, f"{MANIFEST} 已损坏")
        listed = {m["name"] for m in manifest["members"]}
        present = set(archive.namelist()) - {MANIFEST}
        checked = 0
        for member in manifest["members"]:
            name = member["name"]
            if name not in present:
                return Verification(False, checked, f"缺少文件：{name}")
            data = archive.read(name)
            if hashlib.sha256(data).hexdigest() != member["sha256"] or len(data) != member["size"]:
                return Verification(False, checked, f"文件内容与清单不符：{name}")
            checked += 1
        extra = sorted(present - listed)
        if extra:
            return Verification(False, checked, f"清单中没有的文件：{extra[0]}")
    return Verification(True, checked, "")
