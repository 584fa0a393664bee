"""Show how one file was read: each field's raw text and where it came from, the identity
found, and what the sheet became. For HR when a result looks wrong, and for developers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..appeals import appeals
from ..codes import Code, issue
from ..fields import FIELDS
from ..ledger import sheet_key
from ..models import Issue, Outcome, Period, Source
from ..readers.raw import RawSheet, raw_from_json
from ..readers.reading import read_file
from ..records import Interpretation, RosterIndex, interpret
from ..rules import judge
from ..workspace import Workspace

#: (raw key, name) of every field read from a sheet, in reading order.
FIELD_LABELS = tuple((f.raw, f.header) for f in FIELDS if f.raw)


@dataclass
class Explanation:
    path: Path
    raw: RawSheet | None
    #: The reading, with the record as the quarter's rules have it (``rules.judge``).
    result: Interpretation
    #: The outcome word the quarter's outputs would show for this sheet alone.
    outcome: Outcome | None = None
    #: Which sheet of the file this is, of how many.
    sheet: int = 1
    sheets: int = 1
    #: For a scan: what the page showed and how sure each reading is, as lines to show.
    evidence: tuple[str, ...] = ()

    def confidence(self, raw_field: str) -> str:
        """A scanned field's lowest line score, as shown beside it (empty for other files)."""
        if self.raw is None or raw_field not in self.raw.lines or not self.raw.lines[raw_field]:
            return ""
        return f"（识别把握 {min(score for _, score in self.raw.lines[raw_field]):.1%}）"

    @property
    def issues(self) -> list[Issue]:
        return self.result.issues if self.result.record is None else self.result.record.issues


def explain(workspace: Workspace, path: Path, period: Period | None = None) -> list[Explanation]:
    """How ``path`` was read: one explanation per sheet it holds (usually one)."""
    raws, code, message = read_file(str(path), workspace.limits())
    if raws is None:
        failure = issue(Code(code or Code.UNREADABLE_FILE.value), message or "")
        return [Explanation(path, None, Interpretation(None, None, None, [failure]))]
    roster = RosterIndex(workspace.people())
    return [
        _sheet(workspace, path, raw_from_json(raw), roster, period, number, len(raws))
        for number, raw in enumerate(raws, start=1)
    ]


def _sheet(
    workspace: Workspace, path: Path, raw: RawSheet, roster: RosterIndex,
    period: Period | None, number: int, count: int,
) -> Explanation:  # fmt: skip
    source = Source(
        path=str(path) if count == 1 else sheet_key(str(path), number),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        format=raw.format,
        received_at=datetime.fromtimestamp(path.stat().st_mtime)
        .astimezone()
        .isoformat(timespec="seconds"),
    )
    found = interpret(raw, roster, source, period, workspace.settings.scan)
    evidence = scan_evidence(raw)
    if found.record is None:
        return Explanation(path, raw, found, sheet=number, sheets=count, evidence=evidence)
    appeal = None
    if workspace.has_ledger():  # a decided appeal changes the person's grade, whichever file
        with workspace.ledger() as ledger:
            appeal = appeals(ledger, Period.parse(found.record.period)).get(found.record.person_id)
    record, outcome = judge(found.record, workspace.settings.rules, appeal)
    assert record is not None
    judged = Interpretation(record, found.person_id, found.period, found.issues)
    return Explanation(path, raw, judged, outcome, sheet=number, sheets=count, evidence=evidence)


def scan_evidence(raw: RawSheet) -> tuple[str, ...]:
    """What a scanned page showed, measured: the page, the table, the QR code, the grade
    boxes, the signatures (the thresholds that judge them are in kaohe.toml [scan])."""
    if raw.format != "scan":
        return ()
    lines = [
        f"扫描件第 {raw.page} 页：表格"
        + ("与空白表逐格一致，按位置认栏目" if raw.form_matched else "与空白表不同，按栏目名认栏目")
    ]
    lines.append(f"二维码：{raw.qr_code or '未读出（改用页脚表码文字，须与表上姓名互相印证）'}")
    mark = raw.marks.get("grade")
    if isinstance(mark, list) and len(mark) == 3:
        word, confidence, how = mark
        chosen = f"{word}，把握 {float(confidence):.0%}" if word else "未定"
        lines.append(f"等次方框（表格第9行第2列“等次”一行）：{chosen}；{how}")
    for key, who in (("self_signature", "本人"), ("leader_signature", "分管领导")):
        ink = raw.marks.get(key)
        if isinstance(ink, int | float):
            lines.append(f"{who}签字处墨迹：{float(ink):.1%}")
    if raw.images:
        lines.append("留给核对人的截图：" + "、".join(sorted(raw.images)))
    return tuple(lines)
