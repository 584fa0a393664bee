"""What a scanned sheet's measurements allow: whose sheet it is, which values are certain
enough to accept without a person, and what goes to review.

The scan reader measures (``readers/scan.py``); this module decides, with kaohe.toml
``[scan]``. It never accepts a doubtful identity or grade: a person is taken from the QR
code, or from the printed 表码 only when its check characters agree and the name read on
the same page is that person's; a grade only when one box is clearly marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .codes import Code, issue
from .fields import NUMBER_KEYS, PREFILLED_KEYS, name_of
from .models import Grade, Issue
from .readers.raw import RawSheet
from .settings import ScanSettings

#: The form's own printed lines inside typing cells (签字, 等次, a date) as a scan reads them:
#: their handwriting is a signature or a date, measured and judged apart from typed text.
PRINTED_LINE = re.compile(r"^\s*(?:签\s*[字名]|(?:考核)?等\s*次|(?:\d{2,4}\s*)?年)")


def certain(raw: RawSheet, field: str, settings: ScanSettings) -> bool:
    """Every line of ``field`` read at least as surely as the settings ask (not a scan: True)."""
    if not is_scan(raw):
        return True
    floor = settings.number_score if field in NUMBER_KEYS else settings.line_score
    return all(score >= floor for _, score in raw.lines.get(field, []))


def is_scan(raw: RawSheet) -> bool:
    return raw.format == "scan"


def identity_problem(
    raw: RawSheet, coded_name: str | None, code_from_qr: bool, name_agrees: bool
) -> str:
    """Why the person on a scan cannot be taken as certain, or "" when it can.

    ``coded_name`` is the roster name of the person the form code names (None: no valid
    code, or nobody on the roster has it); ``name_agrees``: the name read on the sheet is
    that person's (as ``records`` compares names)."""
    if coded_name is None:
        return "扫描件上读不到有效的二维码或表码，无法确定是谁的表"
    if code_from_qr or name_agrees:
        return ""
    written = raw.text("name").strip()
    shown = f"表上姓名读作“{written}”" if written else "表上姓名没有读出"
    return f"二维码读不出，页脚表码（OCR）属于“{coded_name}”，但{shown}，两者不能互相印证"


@dataclass(frozen=True)
class ScanJudgement:
    """The grade a scan may be given (None: none certain) and the issues found judging it."""

    grade: Grade | None
    issues: list[Issue]

    @property
    def grade_in_doubt(self) -> bool:
        return any(i.code == Code.GRADE_UNCERTAIN.value for i in self.issues)


def judge(raw: RawSheet, settings: ScanSettings) -> ScanJudgement:
    """Accept a scan's values only where the measurements are certain."""
    issues = _lines(raw, settings)
    grade, grade_issues = _grade(raw, settings)
    issues.extend(grade_issues)
    issues.extend(_signatures(raw, settings, grade is not None))
    return ScanJudgement(grade, issues)


def _lines(raw: RawSheet, settings: ScanSettings) -> list[Issue]:
    found: list[Issue] = []
    for name, lines in raw.lines.items():
        if name in PREFILLED_KEYS:
            continue  # the record takes these from the roster: a doubtful read holds nothing
        floor = settings.number_score if name in NUMBER_KEYS else settings.line_score
        doubtful = [
            (number, text, score)
            for number, (text, score) in enumerate(lines, start=1)
            if score < floor and not PRINTED_LINE.match(text)
        ]
        if not doubtful:
            continue
        shown = "；".join(
            f"第{number}行“{_short(text)}”（把握 {score:.0%}）" for number, text, score in doubtful
        )
        field = "signature_date" if name == "signature" else name
        found.append(
            issue(
                Code.SCAN_UNCERTAIN,
                f"{name_of(name)}有 {len(doubtful)} 行识别不够确定：{shown}。"
                "可能是手写或印得不清，请对照原件核对",
                field=field,
            )
        )
    return found


def _grade(raw: RawSheet, settings: ScanSettings) -> tuple[Grade | None, list[Issue]]:
    mark = raw.marks.get("grade")
    if not isinstance(mark, list) or len(mark) != 3:
        return None, [issue(Code.GRADE_UNCERTAIN, "扫描件上没有找到等次方框", field="grade")]
    word, confidence, how = str(mark[0]), float(mark[1]), str(mark[2])
    if not word:
        if how.startswith("四个方框都没有勾选"):
            return None, []  # no grade given: the usual MISSING_GRADE rules say what that means
        return None, [issue(Code.GRADE_UNCERTAIN, f"等次无法确定：{how}", field="grade")]
    if confidence < settings.grade_confidence:
        return None, [
            issue(
                Code.GRADE_UNCERTAIN,
                f"等次勾选不够清楚：最可能是“{word}”（把握 {confidence:.0%}，"
                f"要求 {settings.grade_confidence:.0%}）；{how}",
                field="grade",
            )
        ]
    return Grade(word), []


def _signatures(raw: RawSheet, settings: ScanSettings, graded: bool) -> list[Issue]:
    found: list[Issue] = []
    own = raw.marks.get("self_signature")
    if isinstance(own, int | float) and own < settings.signature_ink:
        found.append(issue(Code.MISSING_SIGNATURE, "纸质表上本人没有签字", field="signature_date"))
    leader = raw.marks.get("leader_signature")
    if graded and isinstance(leader, int | float) and leader < settings.signature_ink:
        found.append(
            issue(Code.MISSING_SIGNATURE, "纸质表上分管领导定了等次但没有签字", field="grade")
        )
    return found


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:24] + "…"
