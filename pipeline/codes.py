"""Exception codes: stable names HR's reports and tests rely on, with what each means and
what to do about it. Messages are built from these in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .fields import FIELDS, GROUPS
from .models import Issue


class Code(StrEnum):
    UNREADABLE_FILE = "UNREADABLE_FILE"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    ENCRYPTED_FILE = "ENCRYPTED_FILE"
    NOT_A_RECORD_SHEET = "NOT_A_RECORD_SHEET"
    UNKNOWN_PERSON = "UNKNOWN_PERSON"
    AMBIGUOUS_PERSON = "AMBIGUOUS_PERSON"
    IDENTITY_MISMATCH = "IDENTITY_MISMATCH"
    WRONG_PERIOD = "WRONG_PERIOD"
    MISSING_PERIOD = "MISSING_PERIOD"
    MISSING_FIELD = "MISSING_FIELD"
    INVALID_NUMBER = "INVALID_NUMBER"
    INVALID_DATE = "INVALID_DATE"
    MISSING_GRADE = "MISSING_GRADE"
    MULTIPLE_GRADES = "MULTIPLE_GRADES"
    DUPLICATE_SUBMISSION = "DUPLICATE_SUBMISSION"
    SCANNED_NEEDS_REVIEW = "SCANNED_NEEDS_REVIEW"
    LATE_RETURN = "LATE_RETURN"
    GRADE_WITH_LONG_LEAVE = "GRADE_WITH_LONG_LEAVE"
    MISSING_RETURN = "MISSING_RETURN"
    REPEATED_NON_SUBMISSION = "REPEATED_NON_SUBMISSION"
    NEEDS_FOLLOW_UP = "NEEDS_FOLLOW_UP"
    GRADE_QUOTA_EXCEEDED = "GRADE_QUOTA_EXCEEDED"
    APPEAL_PENDING = "APPEAL_PENDING"
    APPEAL_DECIDED = "APPEAL_DECIDED"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    SHEET_DIFFERS_FROM_ROSTER = "SHEET_DIFFERS_FROM_ROSTER"
    GRADE_CHANGED_BY_COMMITTEE = "GRADE_CHANGED_BY_COMMITTEE"
    GRADE_FROM_WORDS = "GRADE_FROM_WORDS"
    NUMBER_WORKED_OUT = "NUMBER_WORKED_OUT"
    CELL_SHARED = "CELL_SHARED"
    UNPLACED_TEXT = "UNPLACED_TEXT"
    SCAN_UNCERTAIN = "SCAN_UNCERTAIN"
    GRADE_UNCERTAIN = "GRADE_UNCERTAIN"
    MISSING_SIGNATURE = "MISSING_SIGNATURE"
    SIGNED_COPY_DIFFERS = "SIGNED_COPY_DIFFERS"
    BLANK_PAGE_SKIPPED = "BLANK_PAGE_SKIPPED"


@dataclass(frozen=True)
class CodeInfo:
    severity: str
    title: str
    action: str


CODES: dict[Code, CodeInfo] = {
    Code.UNREADABLE_FILE: CodeInfo("error", "文件无法读取", "请联系本人重新保存为 .docx 后再交"),
    Code.UNSUPPORTED_FORMAT: CodeInfo(
        "error", "不支持的文件格式", "请让本人在 Word/WPS 中另存为 .docx"
    ),
    Code.ENCRYPTED_FILE: CodeInfo("error", "文件有密码", "请让本人去掉密码后重新发送"),
    Code.NOT_A_RECORD_SHEET: CodeInfo("error", "不是记实表", "请确认是否交错了文件"),
    Code.UNKNOWN_PERSON: CodeInfo("error", "名单中找不到此人", "请核对姓名和单位，或补充名单"),
    Code.AMBIGUOUS_PERSON: CodeInfo("error", "无法确定是哪一位", "同名人员请在表上写明单位"),
    Code.IDENTITY_MISMATCH: CodeInfo("warning", "表码与表上姓名不符", "可能用了别人的表，请核对"),
    Code.WRONG_PERIOD: CodeInfo("error", "季度不符", "请让本人使用本季度的记实表"),
    Code.MISSING_PERIOD: CodeInfo(
        "error", "看不出是哪个季度", "请在表头填写年份和季度，或用 --period 指定"
    ),
    Code.MISSING_FIELD: CodeInfo("error", "必填内容为空", "请让本人补填"),
    Code.INVALID_NUMBER: CodeInfo("error", "数字无法识别", "请让本人改为阿拉伯数字"),
    Code.INVALID_DATE: CodeInfo("warning", "日期无法识别", "请核对签字日期"),
    Code.MISSING_GRADE: CodeInfo("error", "未评定等次", "请分管领导在 好/较好/一般/差 中勾选一项"),
    Code.MULTIPLE_GRADES: CodeInfo("error", "勾选了多个等次", "请分管领导只保留一个等次"),
    Code.DUPLICATE_SUBMISSION: CodeInfo("warning", "重复提交", "已以较新的文件为准，请确认"),
    Code.SCANNED_NEEDS_REVIEW: CodeInfo(
        "error", "扫描件或无法识别的文字，需人工核对", "用 kaohe review export 导出后人工录入"
    ),
    Code.LATE_RETURN: CodeInfo("warning", "逾期交回", "请提醒本人和所在单位按时交回"),
    Code.GRADE_WITH_LONG_LEAVE: CodeInfo(
        "error", "请假超期仍定了等次", "请假超过规定天数应不定等次，请分管领导更正"
    ),
    Code.MISSING_RETURN: CodeInfo(
        "warning", "未交记实表", "请催交；无正当理由不交的应批评教育、限期改正"
    ),
    Code.REPEATED_NON_SUBMISSION: CodeInfo(
        "error", "多次未交", "经批评教育仍拒不参加的，年度考核可直接定为不定等次或不称职"
    ),
    Code.NEEDS_FOLLOW_UP: CodeInfo(
        "info", "等次为一般或差", "分管领导应及时反馈、谈话，责成限期改正"
    ),
    Code.GRADE_QUOTA_EXCEEDED: CodeInfo("warning", "“好”等次超出比例", "请按规定比例复核"),
    Code.APPEAL_PENDING: CodeInfo("warning", "复核申请待决定", "请提交局领导班子集体研究"),
    Code.APPEAL_DECIDED: CodeInfo("warning", "已复核", "以复核决定为准，原等次仅供参考"),
    Code.GRADE_CHANGED_BY_COMMITTEE: CodeInfo(
        "warning", "班子审定的等次与分管领导不同", "以班子审定为准；分管领导的等次见说明"
    ),
    Code.CELL_SHARED: CodeInfo(
        "error", "两个栏目指向同一格", "表格被改动过：请对照原表核对这两栏，在核对表中填写"
    ),
    Code.UNPLACED_TEXT: CodeInfo(
        "warning", "有内容不在任何栏目里", "表格被插入过行或拆分过格子：请对照原表核对"
    ),
    Code.NUMBER_WORKED_OUT: CodeInfo(
        "info", "数字是算出来的", "表上分项写了几个数（如事假、病假），已相加；请核对"
    ),
    Code.GRADE_FROM_WORDS: CodeInfo(
        "info", "等次取自意见中的文字", "表上没有勾选等次；请确认文字的意思就是所定等次"
    ),
    Code.SHEET_DIFFERS_FROM_ROSTER: CodeInfo(
        "warning", "表上信息与名单不同", "记录以名单为准；如名单需要更新，请修改名单后重新运行"
    ),
    Code.TEXT_TOO_LONG: CodeInfo(
        "warning", "内容超出 Excel 单元格上限", "Excel 表中只显示前一部分，全文见 JSON/CSV 导出"
    ),
    Code.SCAN_UNCERTAIN: CodeInfo(
        "error", "扫描件上有看不清的文字", "对照原件（待人工核对表中附有截图）核对后录入"
    ),
    Code.GRADE_UNCERTAIN: CodeInfo(
        "error", "扫描件上的等次勾选不清", "对照原件核对分管领导勾选的等次后录入"
    ),
    Code.MISSING_SIGNATURE: CodeInfo("warning", "纸质表未签字", "请本人或分管领导补签"),
    Code.SIGNED_COPY_DIFFERS: CodeInfo(
        "error", "签字纸质表与电子版不一致", "以签字的纸质表为准，请核对电子版"
    ),
    Code.BLANK_PAGE_SKIPPED: CodeInfo("info", "扫描件中的空白页已跳过", "无需处理"),
}


#: Record fields as HR calls them, for reports (JSON keeps the field names).
#: Field key → the name people see, derived from ``fields.FIELDS``.
FIELD_NAMES: dict[str, str] = {
    **GROUPS,
    **{f.key: f.header for f in FIELDS},
    **{f.raw: f.header for f in FIELDS if f.raw and f.raw not in {g.key for g in FIELDS}},
}


def issue(code: Code, message: str, *, field: str = "", severity: str | None = None) -> Issue:
    """An Issue for ``code``; severity defaults to the code's own."""
    level = severity or CODES[code].severity
    return Issue(code=code.value, severity=level, field=field, message=message)  # type: ignore[arg-type]
