"""A RawSheet + the roster → whose sheet it is, for which quarter, and the validated record.

Identity comes from the sheet's content and embedded form code, never from the file name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from . import identity, scanned
from .codes import Code, issue
from .fields import header
from .models import (
    PERSON,
    Attendance,
    Grade,
    Issue,
    Period,
    Person,
    SheetRecord,
    Source,
    Status,
)
from .normalize import (
    BLANKS,
    TENTATIVE,
    committee_grades,
    find_date,
    read_attendance,
    read_leader_cell,
    split_signature,
    tidy,
)
from .readers.raw import RawSheet
from .settings import ScanSettings
from .writers.limits import CELL_LIMIT

_DOTS = re.compile(r"[·•・･‧∙⋅．.]")
_BLANKS_AND_COLONS = re.compile(r"[\s\u3000:：]+")
#: The value quoted in an UNPLACED_TEXT message, when it holds a number.
_QUOTED_NUMBER = re.compile(r"“([^”]*\d[^”]*)”")
MONTH_FIELDS = ("month1", "month2", "month3")
#: Codes that leave a file unattributed: it cannot count as anyone's submission.
REJECTING = frozenset(
    {
        Code.UNKNOWN_PERSON,
        Code.AMBIGUOUS_PERSON,
        Code.WRONG_PERIOD,
        Code.MISSING_PERIOD,
        Code.UNREADABLE_FILE,
        Code.UNSUPPORTED_FORMAT,
        Code.ENCRYPTED_FILE,
        Code.NOT_A_RECORD_SHEET,
        Code.SCANNED_NEEDS_REVIEW,
    }
)


#: Characters that do not show: zero-width spaces and joiners, word joiner, BOM, soft
#: hyphen, variation selectors. A name typed or pasted with one is the same name.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)


def visible(text: str) -> str:
    """``text`` without characters that do not show."""
    return _INVISIBLE.sub("", text)


def name_key(name: str) -> str:
    """A name for matching: nothing invisible, no spaces, one kind of middle dot,
    full-width folded."""
    folded = unicodedata.normalize("NFKC", visible(name))
    return _DOTS.sub("·", BLANKS.sub("", folded))


def loose_key(name: str) -> str:
    """A name with its middle dots dropped too (阿依古丽·买买提 written without the dot)."""
    return name_key(name).replace("·", "")


@dataclass
class RosterIndex:
    """The roster, looked up by id and by name."""

    people: Sequence[Person]
    by_id: dict[str, Person] = field(init=False)
    by_name: dict[str, list[Person]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {p.person_id: p for p in self.people}
        self.by_name = {}
        self.by_loose_name: dict[str, list[Person]] = {}
        for person in self.people:
            self.by_name.setdefault(name_key(person.name), []).append(person)
            self.by_loose_name.setdefault(loose_key(person.name), []).append(person)

    @cached_property
    def fingerprint(self) -> str:
        """The roster as settling sees it (a changed roster settles everything again)."""
        digest = hashlib.sha256(b"[")  # of the people's JSON list, without making it
        for number, person in enumerate(self.people):
            digest.update(b"," + PERSON.dump_json(person) if number else PERSON.dump_json(person))
        digest.update(b"]")
        return digest.hexdigest()


@dataclass
class Interpretation:
    """What a read sheet turned out to be: a record (attributed) or only issues (rejected)."""

    record: SheetRecord | None
    person_id: str | None
    period: str | None
    issues: list[Issue]

    @property
    def rejected(self) -> bool:
        return self.record is None


def _sheet_code(raw: RawSheet) -> identity.FormCode | None:
    texts = [raw.qr_code, raw.property_code, *(f.text for f in raw.code_texts)]
    for text in texts:
        for code in identity.find_form_codes(text):
            if code.valid:
                return code
    return None


def _sheet_period(raw: RawSheet, code: identity.FormCode | None) -> Period | None:
    if code is not None:
        return code.period
    return Period.find(raw.text("period_text"))


def _by_name(raw: RawSheet, roster: RosterIndex) -> tuple[Person | None, list[Issue]]:
    name = raw.text("name").strip()
    if not name:
        return None, [
            issue(Code.UNKNOWN_PERSON, "表上没有填写姓名，也没有可识别的表码", field="name")
        ]
    candidates = roster.by_name.get(name_key(name)) or roster.by_loose_name.get(loose_key(name), [])
    if not candidates:
        return None, [
            issue(Code.UNKNOWN_PERSON, f"名单中没有“{name}”，请核对姓名或补充名单", field="name")
        ]
    if len(candidates) == 1:
        return candidates[0], []
    unit_text = " ".join(raw.text(f) for f in ("unit_position", "unit"))
    matching = [
        p for p in candidates if p.unit in unit_text or (p.host_unit and p.host_unit in unit_text)
    ]
    if len(matching) == 1:
        return matching[0], []
    units = "、".join(p.unit for p in candidates)
    why = "表上没有写明单位" if not unit_text.strip() else f"表上单位“{unit_text.strip()}”无法区分"
    return None, [
        issue(
            Code.AMBIGUOUS_PERSON,
            f"名单中有 {len(candidates)} 位“{name}”（{units}），{why}",
            field="name",
        )
    ]


def _scanned_person(
    raw: RawSheet, roster: RosterIndex, code: identity.FormCode | None
) -> tuple[Person | None, list[Issue]]:
    """A scan's person: certain, or nobody (review). An OCR'd name is never enough alone,
    and a name that is another person's against the QR code is a conflict, not a guess."""
    coded = roster.by_id.get(code.person_id) if code else None
    from_qr = bool(raw.qr_code) and code is not None and code.text in raw.qr_code
    written = raw.text("name").strip()
    agrees = coded is not None and bool(written) and loose_key(written) == loose_key(coded.name)
    why = scanned.identity_problem(raw, coded.name if coded else None, from_qr, agrees)
    if why:
        return None, [issue(Code.SCANNED_NEEDS_REVIEW, why + "，已列入待人工核对", field="name")]
    assert coded is not None
    person, notes = _person(raw, roster, code)
    if person is not None and person.person_id != coded.person_id:
        return None, [
            issue(
                Code.SCANNED_NEEDS_REVIEW,
                f"二维码属于 {coded.person_id} {coded.name}，表上姓名却读作“{raw.text('name')}”"
                f"（名单中的 {person.person_id} {person.name}），已列入待人工核对",
                field="name",
            )
        ]
    return person, notes


def _person(
    raw: RawSheet, roster: RosterIndex, code: identity.FormCode | None
) -> tuple[Person | None, list[Issue]]:
    coded = roster.by_id.get(code.person_id) if code else None
    if coded is None:
        return _by_name(raw, roster)
    sheet_name = raw.text("name").strip()
    if not sheet_name or loose_key(sheet_name) == loose_key(coded.name):
        return coded, []
    person, _ = _by_name(raw, roster)
    if person is None:  # the name is nobody else's: the sheet's own code decides, with a word
        return coded, [
            issue(
                Code.SHEET_DIFFERS_FROM_ROSTER,
                f"表上姓名“{sheet_name}”与名单中的“{coded.name}”不同；已按表码认定为 "
                f"{coded.person_id} {coded.name}（{coded.unit}）。如本人改过名，请更新名单",
                field="name",
            )
        ]
    if person.person_id == coded.person_id:
        return coded, []
    note = issue(
        Code.IDENTITY_MISMATCH,
        f"表码属于 {coded.person_id} {coded.name}，但表上姓名是“{sheet_name}”；"
        f"已按姓名认定为 {person.person_id} {person.name}（{person.unit}），请核对是否用了别人的表",
        field="name",
    )
    return person, [note]


@dataclass(frozen=True)
class Attribution:
    """Whose sheet it is and for which quarter, with the problems found deciding that."""

    person: Person | None
    period: Period | None
    issues: list[Issue]

    @property
    def attributed(self) -> bool:
        return self.person is not None and not any(i.code in REJECTING for i in self.issues)


def attribute(raw: RawSheet, roster: RosterIndex, expected: Period | None) -> Attribution:
    """Decide person and period only (cheap: no record is built)."""
    code = _sheet_code(raw)
    sheet_period = _sheet_period(raw, code)
    issues: list[Issue] = []
    if expected is not None and sheet_period is not None and sheet_period != expected:
        issues.append(
            issue(
                Code.WRONG_PERIOD,
                f"这是 {sheet_period.title} 的记实表，本次登记的是 {expected.title}",
                field="period",
            )
        )
    period = expected or sheet_period
    if period is None and not (scanned.is_scan(raw) and code is None):
        # (a scan without a code is nobody's for sure: its identity issue says so instead)
        issues.append(
            issue(Code.MISSING_PERIOD, "表上看不出是哪个季度，请用 --period 指定", field="period")
        )
    # a page the reader could not read at all (in a stack of scans) is nobody's: its reason
    unreadable = [
        issue(Code(p.code), p.message, field=p.field) for p in raw.problems if p.code in REJECTING
    ]
    if unreadable:
        return Attribution(None, period, unreadable)
    if scanned.is_scan(raw):
        person, who = _scanned_person(raw, roster, code)
    else:
        person, who = _person(raw, roster, code)
    return Attribution(person, period, [*issues, *who])


def interpret(
    raw: RawSheet,
    roster: RosterIndex,
    source: Source,
    expected: Period | None,
    scan: ScanSettings = ScanSettings(),  # noqa: B008 - frozen settings
) -> Interpretation:
    """Attribute ``raw`` to a person and period and build the validated record (``scan``:
    how sure a scanned sheet's readings must be)."""
    found = attribute(raw, roster, expected)
    person, period = found.person, found.period
    if not found.attributed:
        return Interpretation(
            None,
            person.person_id if person else None,
            period.code if period else None,
            found.issues,
        )
    assert person is not None and period is not None
    issues = list(found.issues)  # _record adds the record's own problems to this list
    record = _record(raw, person, period, source, issues, scan)
    return Interpretation(record, person.person_id, period.code, issues)


def _record(
    raw: RawSheet,
    person: Person,
    period: Period,
    source: Source,
    issues: list[Issue],
    scan: ScanSettings,
) -> SheetRecord:
    judged = scanned.judge(raw, scan) if scanned.is_scan(raw) else None
    if judged is not None:
        issues.extend(judged.issues)
    issues.extend(_differences(raw, person, scan))
    monthly = [tidy(raw.text(f)) for f in MONTH_FIELDS]
    for label, text in zip(period.month_labels, monthly, strict=True):
        if not text:
            issues.append(
                issue(Code.MISSING_FIELD, f"{label}工作纪实为空", field="monthly_records")
            )
    for problem in raw.problems:
        if problem.code not in REJECTING:
            issues.append(issue(Code(problem.code), problem.message, field=problem.field))
    doubtful = frozenset(p.field for p in raw.problems if p.code == Code.CELL_SHARED.value)
    stray = "、".join(
        f"“{m.group(1)}”"
        for p in raw.problems
        if p.code == Code.UNPLACED_TEXT.value
        for m in [_QUOTED_NUMBER.search(p.message)]
        if m
    )
    values, attendance_issues = read_attendance(
        {k: raw.text(k) for k in ("late", "early_leave", "absent", "leave_days")},
        doubtful=doubtful,
        stray=stray,
    )
    issues.extend(attendance_issues)
    self_text, signature = split_signature(raw.text("self_evaluation"))
    signature = " ".join(s for s in (signature, raw.text("signature")) if s)
    if not self_text:
        issues.append(issue(Code.MISSING_FIELD, "本季度自我评价为空", field="self_evaluation"))
    signed, bad_date = find_date(signature, near=period.last_day)
    if bad_date:
        issues.append(
            issue(
                Code.INVALID_DATE,
                f"签字日期“{signature.strip()}”无法识别为日期，请核对",
                field="signature_date",
            )
        )
    elif signed is None:
        issues.append(
            issue(
                Code.MISSING_FIELD, "本人签字日期未填写", field="signature_date", severity="warning"
            )
        )
    leader = read_leader_cell(raw.text("leader_opinion"))
    if judged is not None:  # a scan's grade is its marks' (or none), never the OCR'd text's
        grades, stated = ([judged.grade] if judged.grade else []), ""
    else:
        grades, stated = _grades(raw, leader.grades)
    grade = grades[0] if len(grades) == 1 else None
    if stated and not grades:
        issues.append(
            issue(Code.MISSING_GRADE, f"等次“{stated}”不是好、较好、一般、差之一", field="grade")
        )
    elif len(grades) > 1:
        issues.append(
            issue(
                Code.MULTIPLE_GRADES,
                f"分管领导意见中同时标了 {'、'.join(g.value for g in grades)}",
                field="grade",
            )
        )
    elif not grades and judged is not None and judged.grade_in_doubt:
        pass  # GRADE_UNCERTAIN says it: a grade was marked but not clearly enough
    elif not grades:
        pending = not leader.opinion
        issues.append(
            issue(
                Code.MISSING_GRADE,
                "分管领导尚未评鉴（意见和等次均为空）"
                if pending
                else "分管领导写了意见，但没有勾选或写明等次",
                field="grade",
                severity="warning" if pending else None,
            )
        )
    review, _ = split_signature(raw.text("review_opinion"))
    tentative = TENTATIVE.search(leader.opinion)
    marked = leader.ticked or judged is not None
    if grade is not None and tentative and not marked and not chosen_grade(raw):
        issues.append(
            issue(
                Code.GRADE_FROM_WORDS,
                f"表上没有勾选等次，等次“{grade.value}”取自分管领导意见中的“{tentative.group(0)}”",
                field="grade",
            )
        )
    grade = _committee(review, grade, issues)
    texts = {"month1": monthly[0], "month2": monthly[1], "month3": monthly[2],
             "self_evaluation": self_text, "leader_opinion": leader.opinion,
             "review_opinion": review}  # fmt: skip
    for key, text in texts.items():
        if len(text) > CELL_LIMIT:
            issues.append(
                issue(
                    Code.TEXT_TOO_LONG,
                    f"{header(key)}有 {len(text)} 字，超过 Excel 单元格上限 {CELL_LIMIT} 字："
                    "汇总表等 Excel 文件中只显示前一部分，JSON/CSV 导出保留全文",
                    field=key,
                )
            )
    status = _status(issues, grade, leader.opinion, review)
    return SheetRecord(
        person_id=person.person_id,
        name=person.name,
        gender=person.gender.value,
        unit=person.unit,
        position=person.position,
        duties=tidy(raw.text("duties")) or person.duties,
        period=period.code,
        monthly_records=monthly,
        attendance=Attendance.model_validate(values),
        self_evaluation=self_text,
        signature_date=signed,
        leader_opinion=leader.opinion,
        grade=grade,
        review_opinion=review,
        status=status,
        source=source,
        issues=list(issues),
    )


def _compact(text: str) -> str:
    return _BLANKS_AND_COLONS.sub("", unicodedata.normalize("NFKC", visible(text)))


def _differences(raw: RawSheet, person: Person, scan: ScanSettings) -> list[Issue]:
    """The prefilled identity as changed on the sheet (unit, position, gender): the roster
    stays the record's source, and the difference is shown with both values (on a scan,
    only what was read surely: a misread is no change)."""
    found: list[Issue] = []
    combined = raw.text("unit_position")
    sure = scanned.certain(raw, "unit_position", scan)
    checks = [
        ("unit", "单位", raw.text("unit") or combined, person.unit),
        ("position", "职务", raw.text("position") or combined, person.position),
    ]
    for key, label, written, expected in checks:
        if not sure:
            continue
        if written.strip() and expected and _compact(expected) not in _compact(written):
            found.append(
                issue(
                    Code.SHEET_DIFFERS_FROM_ROSTER,
                    f"表上{label}为“{written.strip()}”，名单中为“{expected}”；记录按名单",
                    field=key,
                )
            )
    gender = _compact(raw.text("gender"))
    if gender and gender != person.gender.value and scanned.certain(raw, "gender", scan):
        found.append(
            issue(
                Code.SHEET_DIFFERS_FROM_ROSTER,
                f"表上性别为“{gender}”，名单中为“{person.gender.value}”；记录按名单",
                field="gender",
            )
        )
    return found


def chosen_grade(raw: RawSheet) -> str:
    """The text of a grade given as such (review workbook, a mark read on paper), or ""."""
    chosen = raw.fields.get("grade")
    return chosen.text.strip() if chosen is not None else ""


def _committee(review: str, leader_grade: Grade | None, issues: list[Issue]) -> Grade | None:
    """The leadership team's word is final: a grade set in 班子审定意见 replaces the
    leader's, and the change (or a grade given over an empty leader box) is reported."""
    decided = sorted(set(committee_grades(review)), key=list(Grade).index)
    if not decided:
        return leader_grade
    if len(decided) > 1:
        issues.append(
            issue(
                Code.MULTIPLE_GRADES,
                f"班子审定意见中同时写了 {'、'.join(g.value for g in decided)}",
                field="grade",
            )
        )
        return leader_grade
    final = decided[0]
    if final is leader_grade:
        return final
    if leader_grade is None:
        issues[:] = [i for i in issues if i.code != Code.MISSING_GRADE.value]
        said = f"分管领导未定等次，班子审定为“{final.value}”"
    else:
        said = f"分管领导评为“{leader_grade.value}”，班子审定调整为“{final.value}”"
    issues.append(issue(Code.GRADE_CHANGED_BY_COMMITTEE, f"{said}；以班子审定为准", field="grade"))
    return final


def _grades(raw: RawSheet, marked: list[Grade]) -> tuple[list[Grade], str]:
    """The grades given: a grade field chosen as such (the review workbook, a mark read on
    paper) wins over marks found in the leader's cell. Also the chosen text, if any."""
    word = chosen_grade(raw)
    if word:
        return ([Grade(word)] if word in {g.value for g in Grade} else []), word
    return sorted(set(marked), key=list(Grade).index), ""


def _status(issues: Sequence[Issue], grade: object, opinion: str, review: str) -> Status:
    if any(i.severity == "error" for i in issues):
        return Status.FAULTY
    if grade is None:
        return Status.PENDING
    return Status.REVIEWED if review else Status.GRADED
