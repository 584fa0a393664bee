"""Raw field text → typed values, for every format alike. Never guesses: what cannot be
read becomes an Issue with a stable code, and the value is left empty."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from .codes import Code, issue
from .fields import ATTENDANCE
from .models import Grade, Issue

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
#: What people write for "none" in a count cell.
NONE_WORDS = frozenset(
    {"", "无", "没有", "暂无", "/", "／", "\\", "—", "——", "-", "－", "–", "一一", "×"}
)
#: Units and filler around a number.
_UNITS = re.compile(r"(次|天|日|个工作日|工作日|个|d)$")
_SIGNATURE_LINE = re.compile(r"^\s*(签\s*字|签\s*名|本人签字)\s*[:：]?")
_DATE_ONLY_LINE = re.compile(
    r"^[\s\u3000]*(\d{4}|[〇零一二三四五六七八九]{4})?[\s\u3000]*年[\s\u3000\d一二三四五六七八九十〇零]*月[\s\u3000\d一二三四五六七八九十〇零]*日[\s\u3000]*$"
)
_GRADE_LINE = re.compile(r"^\s*(考核)?等\s*次\s*[:：]?.*(好|一般|差)")
_DATE = re.compile(
    r"(?P<y>\d{4}|[〇零一二三四五六七八九]{4})\s*(?:年|\.|-|/|．)\s*"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*(?:月|\.|-|/|．)\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日?"
)
TICKS = "☑☒■√✓✔▣◼●▪✅"
BOXES = "□☐▢◻"
_GRADE_WORDS = ("较好", "一般", "好", "差")  # longest first: 较好 must not be read as 好
_SENTENCE = re.compile(
    r"(?:考核)?等\s*次\s*(?:为|是|定为|评定为)?\s*[:：]?\s*[“\"「]?(较好|一般|好|差)"
    r"|(?:评定|评鉴|评|确定|定|拟定)为\s*[“\"「]?(较好|一般|好|差)(?:等次)?"
)


#: The leadership team setting or changing a grade: 调整为一般等次, 同意，定为较好等次, 改为好.
_COMMITTEE = re.compile(
    r"(?:调整|改定|更改|变更|改|定|评定|确定|审定|评|认定)\s*为\s*[“\"「]?(较好|一般|好|差)"
    r"|(?:考核)?等\s*次\s*(?:为|定为|调整为)?\s*[:：]\s*[“\"「]?(较好|一般|好|差)"
)
#: A grade proposed rather than given: 建议评为好, 拟评为较好.
TENTATIVE = re.compile(r"(?:建议|拟)\s*(?:评|定|评定|确定)?\s*为\s*[“\"「]?(较好|一般|好|差)")


def committee_grades(text: str) -> list[Grade]:
    """Grades the leadership team's opinion sets: 经班子研究，调整为一般等次 → 一般."""
    return [Grade(m.group(1) or m.group(2)) for m in _COMMITTEE.finditer(text)]


def plain(text: str) -> str:
    """NFKC (full-width digits and letters to half-width) and trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


_TENS = re.compile(r"([一二两三四五六七八九])?十([一二三四五六七八九])?")


def _cn_number(text: str) -> float | None:
    """Small Chinese numbers as people write counts: 三, 十二, 二十, 两, 一天半, 半."""
    half = 0.0
    if text.endswith("半"):
        half, text = 0.5, text[:-1]
    if text == "":
        return half if half else None
    if all(c in _CN_DIGITS for c in text) and len(text) == 1:
        return _CN_DIGITS[text] + half
    match = _TENS.fullmatch(text)
    if match:
        tens = _CN_DIGITS[match.group(1)] if match.group(1) else 1
        ones = _CN_DIGITS[match.group(2)] if match.group(2) else 0
        return tens * 10 + ones + half
    return None


@dataclass(frozen=True)
class Number:
    value: float | None  # None: could not be read
    empty: bool = False
    negative: bool = False
    #: How the value was worked out when it was not written as one number (for a note).
    note: str = ""


#: A remark in brackets after a count: 1次（10月8日）.
_REMARK = re.compile(r"[（(][^）)]*[）)]")
#: Kinds of leave people list one by one: 事假1天、病假2天.
_LEAVE_PART = re.compile(
    r"(?:事假|病假|年假|年休假|休假|婚假|产假|陪产假|丧假|探亲假|育儿假|护理假|调休|公休|工伤假)"
    r"\s*[:：]?\s*(\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)\s*(?:个工作日|工作日|天|日)?(半)?"
)


_SPACES = re.compile(r"\s+")
#: Spaces of any width (the ideographic one too), as one run.
BLANKS = re.compile(r"[\s\u3000]+")
_BLANKS_AND_BRACKETS = re.compile(r"[\s\u3000（()）]+")
_NEGATIVE = re.compile(r"[-－—–]\d+(?:\.\d+)?")
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_AND_A_HALF = re.compile(r"\d+半")


def parse_number(text: str) -> Number:
    """A count or a number of days as typed: ２, 3次, 三次, 两, 无, /, 半天, 1.5天, 一天半;
    a remark in brackets is not part of it (1次（10月8日）→ 1); kinds of leave listed one by
    one are added up (事假1天、病假2天 → 3, with a note)."""
    parts = _LEAVE_PART.findall(plain(text))
    if len(parts) >= 2:
        values = [parse_number(amount + ("半" if half else "")).value for amount, half in parts]
        if all(v is not None for v in values):
            total = sum(v for v in values if v is not None)
            shown = _SPACES.sub(" ", text.strip())
            return Number(total, note=f"“{shown}”按合计 {total:g} 天计")
    cleaned = BLANKS.sub("", plain(_REMARK.sub("", text)))
    if not cleaned and text.strip() and _REMARK.search(text):
        inner = _BLANKS_AND_BRACKETS.sub("", plain(text))
        return Number(0) if inner in NONE_WORDS else Number(None)  # only a remark: no count
    if cleaned in NONE_WORDS:
        return Number(0, empty=cleaned == "" and not text.strip())
    cleaned = _UNITS.sub("", cleaned)
    if _NEGATIVE.fullmatch(cleaned):
        return Number(None, negative=True)
    cleaned = cleaned.replace("天半", "半").replace("日半", "半")
    if _DECIMAL.fullmatch(cleaned):
        return Number(float(cleaned))
    if _AND_A_HALF.fullmatch(cleaned):
        return Number(float(cleaned[:-1]) + 0.5)
    cn = _cn_number(cleaned)
    if cn is not None:
        return Number(cn)
    return Number(None)


def _cn_year(text: str) -> int:
    return int("".join(str(_CN_DIGITS[c]) for c in text)) if not text.isdigit() else int(text)


def _cn_small(text: str) -> int:
    if text.isdigit():
        return int(text)
    value = _cn_number(text)
    return int(value) if value is not None else 0


#: A date without its year (1月4日, or the printed 年 left blank): the year comes from the
#: quarter. Also a two-digit year (27.1.4).
_SHORT_DATE = re.compile(
    r"(?:(?P<y>\d{2})\s*[.．/-]\s*)?(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*(?:月|[.．/-])\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日?"
)


def find_date(text: str, near: date | None = None) -> tuple[date | None, bool]:
    """The first date in ``text`` (2027年1月4日, 2027.1.4, 2027-01-04, 二〇二七年一月四日,
    27.1.4; 1月4日 or "　年1月4日" with the year taken as the one that puts the day nearest
    ``near``); the flag says a date-like text was there but cannot be read as a day."""
    cleaned = plain(text)
    match = _DATE.search(cleaned)
    if match:
        try:
            return date(_cn_year(match["y"]), _cn_small(match["m"]), _cn_small(match["d"])), False
        except ValueError:
            return None, True
    short = _SHORT_DATE.search(cleaned)
    if short is None:
        return None, _looks_written(cleaned)
    month, day = _cn_small(short["m"]), _cn_small(short["d"])
    years = [2000 + int(short["y"])] if short["y"] else []
    if not years and near is not None:
        years = sorted(
            (near.year - 1, near.year, near.year + 1),
            key=lambda y: abs(((_safe_date(y, month, day) or near) - near).days),
        )
    for year in years[:1]:
        found = _safe_date(year, month, day)
        return found, found is None
    return None, True  # a month and day, but no way to tell the year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


_PRINTED_SIGNATURE = re.compile(r"签\s*[字名]|本人|[:：年月日\s\u3000]")
_NUMERAL = re.compile(r"[\d〇零一二三四五六七八九十]")


def _looks_written(text: str) -> bool:
    """Something was written where a date goes (digits or Chinese numerals), not just the
    printed 签字 / 年 月 日."""
    rest = _PRINTED_SIGNATURE.sub("", text)
    return bool(_NUMERAL.search(rest))


def split_signature(text: str) -> tuple[str, str]:
    """Separate the printed ``签字：… 年 月 日`` lines (and bare date lines) from the text."""
    body: list[str] = []
    signature: list[str] = []
    for line in text.split("\n"):
        if (
            _SIGNATURE_LINE.match(line)
            or _DATE_ONLY_LINE.match(line)
            or (signature and _DATE.search(plain(line)) and len(plain(line)) <= 16)
        ):
            signature.append(line.strip())
        else:
            body.append(line)
    return tidy("\n".join(body)), " ".join(signature)


def tidy(text: str) -> str:
    """Trim trailing spaces on lines and blank lines at both ends; keep inner line breaks."""
    lines = [line.rstrip() for line in text.replace("\r", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _word_at_start(text: str) -> str | None:
    return next((g for g in _GRADE_WORDS if text.startswith(g)), None)


def _word_at_end(text: str) -> str | None:
    word = next((g for g in _GRADE_WORDS if text.endswith(g)), None)
    return "较好" if word == "好" and text.endswith("较好") else word


def _in_prose(after: str, word: str) -> bool:
    """The word runs on into a longer word (较好地完成, 一般性事务): prose, not a grade."""
    rest = after.lstrip(" \u3000" + BOXES)[len(word) :]
    return bool(rest) and "\u4e00" <= rest[0] <= "\u9fff" and rest[0] not in "等次"


def ticked_grades(text: str, *, prose: bool = False) -> list[Grade]:
    """Grades marked with a tick before or after the word.

    A tick touching a word belongs to it (``☑较好``, ``□好√ □较好`` → 好); only a tick
    touching neither looks past spaces and boxes, forward first. In ``prose`` (the opinion
    text, not the printed grade line) a bullet before a word that runs on — ``■ 较好地完成``,
    ``√ 一般性事务`` — is a bullet, not a tick.
    """
    found: list[Grade] = []
    for position, char in enumerate(text):
        if char not in TICKS:
            continue
        before, after = text[:position], text[position + 1 :]
        word = _word_at_start(after.lstrip(BOXES))
        if word is not None and prose and _in_prose(after.lstrip(BOXES), word):
            word = None
        if word is None:
            word = _word_at_end(before.rstrip(BOXES))
        if word is None:
            word = _word_at_start(after.lstrip(" \u3000" + BOXES))
            if word is not None and prose and _in_prose(after, word):
                word = None
        if word is None:
            word = _word_at_end(before.rstrip(" \u3000" + BOXES))
        if word is not None:
            found.append(Grade(word))
    return found


def stated_grades(text: str) -> list[Grade]:
    """Grades stated in words: 考核等次：较好, 评定为一般."""
    return [Grade(m.group(1) or m.group(2)) for m in _SENTENCE.finditer(text)]


@dataclass(frozen=True)
class LeaderPart:
    opinion: str
    grades: list[Grade]
    signature: str
    #: A grade was marked by a tick (not only written in words).
    ticked: bool = False


def read_leader_cell(text: str) -> LeaderPart:
    """Split the 分管领导意见 cell: the opinion, the grade(s) marked, the signature line."""
    opinion_lines: list[str] = []
    grade_lines: list[str] = []
    for line in text.split("\n"):
        if _GRADE_LINE.match(line) or sum(line.count(b) for b in BOXES + TICKS) >= 2:
            grade_lines.append(line)
        else:
            opinion_lines.append(line)
    opinion, signature = split_signature("\n".join(opinion_lines))
    grades = ticked_grades("\n".join(grade_lines)) + ticked_grades(opinion, prose=True)
    ticked = bool(grades)
    grades += stated_grades("\n".join(grade_lines).replace("□", " □")) if not grades else []
    grades += stated_grades(opinion) + [Grade(m.group(1)) for m in TENTATIVE.finditer(opinion)]
    return LeaderPart(opinion, grades, signature, ticked)


def read_attendance(
    texts: dict[str, str], *, doubtful: frozenset[str] = frozenset(), stray: str = ""
) -> tuple[dict[str, float], list[Issue]]:
    """Attendance numbers; an empty cell is 0, and only a wholly empty block is warned about —
    as an error when numbers were found outside the cells (``stray``: values moved a row).
    ``doubtful`` fields (a cell two labels share) get no value; the reader reported them."""
    values: dict[str, float] = {}
    issues: list[Issue] = []
    empty = 0
    for field, label in ((f.key, f.header) for f in ATTENDANCE):
        if field in doubtful:
            continue
        raw = texts.get(field, "")
        number = parse_number(raw)
        empty += number.empty
        if number.note:
            issues.append(issue(Code.NUMBER_WORKED_OUT, f"{label}：{number.note}", field=field))
        if number.negative:
            issues.append(
                issue(
                    Code.INVALID_NUMBER, f"{label}不能为负数（填的是“{raw.strip()}”）", field=field
                )
            )
            continue
        if number.value is None:
            issues.append(
                issue(
                    Code.INVALID_NUMBER,
                    f"{label}填的是“{raw.strip()}”，无法识别为数字",
                    field=field,
                )
            )
            continue
        if field != "leave_days" and not float(number.value).is_integer():
            issues.append(
                issue(
                    Code.INVALID_NUMBER, f"{label}应为整数次数，填的是“{raw.strip()}”", field=field
                )
            )
            continue
        values[field] = number.value
    if empty == 4 and stray:
        issues.append(
            issue(Code.MISSING_FIELD, f"出勤记录整栏为空，但表格中有不在栏目里的数字（{stray}），"
                  "可能是数值错位了一行；出勤未计，请核对原表", field="attendance")
        )  # fmt: skip
    elif empty == 4:
        issues.append(
            issue(Code.MISSING_FIELD, "出勤记录整栏为空，已按 0 记录，请核实", field="attendance",
                  severity="warning")
        )  # fmt: skip
    return values, issues
