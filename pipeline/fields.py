"""Every field of the record sheet, declared once: its key, the header and name people see,
the printed labels that find it on a returned sheet, where its value sits beside the label,
where it lands in a ``SheetRecord``, and its kind.

Column lists (export, review workbook, summary), label lookup (the readers), field names in
messages and reports, and ``explain``'s listing are all derived from ``FIELDS``, so a header
cannot drift between outputs (请假（天） everywhere, 本季度自我评价 everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RIGHT, BELOW = "right", "below"

Kind = Literal["identity", "text", "count", "days", "date", "grade", "period"]


@dataclass(frozen=True)
class Field:
    key: str
    #: The column header, and the field's name in every message.
    header: str
    kind: Kind
    #: The raw sheet's key for this field (what the readers fill), if it is read from a sheet.
    raw: str | None = None
    #: Dotted path in the exported record (``attendance.late``), if the record has it.
    record: str | None = None
    #: Printed labels (normalised: no spaces, colons or line breaks; full-width brackets).
    labels: str | None = None
    #: Where the value is relative to its label, in order of preference.
    look: tuple[str, ...] = (RIGHT, BELOW)
    #: HR types it in the review workbook.
    entered: bool = False


_MONTH = r"(?:（\d{1,2}月(?:份)?）)?(?:工作纪实|工作记实)?"
_ATTENDANCE = (BELOW, RIGHT)

#: The sheet's fields in reading order.
FIELDS: tuple[Field, ...] = (
    Field("person_id", "编号", "identity", record="person_id", entered=True),
    Field("name", "姓名", "identity", raw="name", record="name", labels=r"^姓名$", entered=True),
    Field("gender", "性别", "identity", raw="gender", record="gender", labels=r"^性别$"),
    Field("unit_position", "单位及职务", "identity", raw="unit_position",
          labels=r"^单位及职务$|^单位和职务$|^工作单位及职务$"),
    Field("unit", "单位", "identity", raw="unit", record="unit", labels=r"^(?:工作)?单位$",
          entered=True),
    Field("position", "职务", "identity", raw="position", record="position",
          labels=r"^职务(?:职级)?$"),
    Field("duties", "从事或分管工作", "text", raw="duties", record="duties",
          labels=r"^从事或分管工作$|^(?:从事|分管)工作$|^工作职责$"),
    Field("period", "季度", "period", raw="period_text", record="period", entered=True),
    Field("month1", "第一月工作纪实", "text", raw="month1", record="monthly_records.0",
          labels=rf"^第[一1]个?月{_MONTH}$", entered=True),
    Field("month2", "第二月工作纪实", "text", raw="month2", record="monthly_records.1",
          labels=rf"^第[二2]个?月{_MONTH}$", entered=True),
    Field("month3", "第三月工作纪实", "text", raw="month3", record="monthly_records.2",
          labels=rf"^第[三3]个?月{_MONTH}$", entered=True),
    Field("late", "迟到（次）", "count", raw="late", record="attendance.late",
          labels=r"^迟到(?:（次）)?$", look=_ATTENDANCE, entered=True),
    Field("early_leave", "早退（次）", "count", raw="early_leave",
          record="attendance.early_leave", labels=r"^早退(?:（次）)?$", look=_ATTENDANCE,
          entered=True),
    Field("absent", "旷工（次）", "count", raw="absent", record="attendance.absent",
          labels=r"^旷工(?:（次）)?$", look=_ATTENDANCE, entered=True),
    Field("leave_days", "请假（天）", "days", raw="leave_days", record="attendance.leave_days",
          labels=r"^请假(?:情况)?(?:（天）|天数)?$", look=_ATTENDANCE, entered=True),
    Field("self_evaluation", "本季度自我评价", "text", raw="self_evaluation",
          record="self_evaluation",
          labels=r"^(?:本(?:季度|季|月))?自我评价$|^个人(?:小结|总结)$", entered=True),
    Field("signature_date", "签字日期", "date", raw="signature", record="signature_date",
          entered=True),
    Field("leader_opinion", "分管领导意见", "text", raw="leader_opinion",
          record="leader_opinion", labels=r"^分管领导(?:评鉴)?意见$", entered=True),
    Field("grade", "等次", "grade", record="grade", entered=True),
    Field("review_opinion", "班子审定意见", "text", raw="review_opinion",
          record="review_opinion", labels=r"^(?:局)?(?:领导)?班子(?:审定|审核)?意见$",
          entered=True),
)  # fmt: skip

BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
#: Groups of fields that messages name as one.
GROUPS: dict[str, str] = {"monthly_records": "工作纪实", "attendance": "出勤记录"}
COUNTS: tuple[Field, ...] = tuple(f for f in FIELDS if f.kind == "count")
ATTENDANCE: tuple[Field, ...] = tuple(f for f in FIELDS if f.kind in ("count", "days"))
#: Raw keys of the cells holding a count or a number of days.
NUMBER_KEYS: frozenset[str] = frozenset(f.raw for f in ATTENDANCE if f.raw)
#: Raw keys of the cells the generator prefills from the roster (name, gender, unit …).
PREFILLED_KEYS: frozenset[str] = frozenset(f.raw for f in FIELDS if f.kind == "identity" and f.raw)


def header(key: str) -> str:
    """The header / name people see for a field (or a group of fields)."""
    if key in GROUPS:
        return GROUPS[key]
    return BY_KEY[key].header


def name_of(key: str) -> str:
    """A field's name for a message or report, or the key itself if it is not a field."""
    if key in GROUPS or key in BY_KEY:
        return header(key)
    raw = next((f for f in FIELDS if f.raw == key), None)
    return raw.header if raw else key
