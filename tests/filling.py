"""Fill a sheet the way a person does in Word: click into the empty cell beside a printed label
and type. Nothing here knows cell coordinates; it finds labels, like a person reading the form."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import docx
from docx.table import _Cell
from docx.text.paragraph import Paragraph


@dataclass
class Entries:
    """What a person (and later their leader) types into a sheet."""

    monthly: tuple[str, str, str] = ("", "", "")
    late: str = ""
    early_leave: str = ""
    absent: str = ""
    leave_days: str = ""
    self_evaluation: str = ""
    signature: str = (
        ""  # replaces the printed 签字 line of the self-evaluation, e.g. 签字：张伟 2027年1月4日
    )
    leader_opinion: str = ""
    grade_tick: str = ""  # e.g. "☑较好"; replaces the matching □ on the grade line
    review_opinion: str = ""
    extra_paragraphs: dict[str, list[str]] = field(default_factory=dict)


def _distinct_cells(row: object) -> list[_Cell]:
    cells: list[_Cell] = []
    for cell in row.cells:  # type: ignore[attr-defined]
        if not cells or cell._tc is not cells[-1]._tc:
            cells.append(cell)
    return cells


def _cell_right_of(document: docx.document.Document, label: str, nth: int = 0) -> _Cell:
    """The typing cell right of the ``nth`` label cell whose text starts with ``label``."""
    seen = 0
    for row in document.tables[0].rows:
        cells = _distinct_cells(row)
        for index, cell in enumerate(cells[:-1]):
            if cell.text.replace("\n", "").startswith(label):
                if seen == nth:
                    target = cells[index + 1]
                    if target.text.replace("\n", "") == "工作纪实":
                        target = cells[index + 2]
                    return target
                seen += 1
    raise LookupError(label)


def _cell_below(document: docx.document.Document, label: str) -> _Cell:
    rows = document.tables[0].rows
    for r, row in enumerate(rows):
        for c, cell in enumerate(row.cells):
            if cell.text.strip() == label:
                return rows[r + 1].cells[c]
    raise LookupError(label)


def type_paragraphs(cell: _Cell, lines: list[str], style: object = None) -> None:
    """Type ``lines`` into ``cell``'s first paragraph, pressing Enter between them."""
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(lines):
        if index:
            new = paragraph._p.makeelement(paragraph._p.tag, {})
            paragraph._p.addnext(new)
            paragraph = Paragraph(new, paragraph._parent)
        if style is not None:
            paragraph.style = style
        paragraph.add_run(line)


def _type(cell: _Cell, text: str) -> None:
    if text:
        type_paragraphs(cell, text.split("\n"))


def _replace_in_cell(cell: _Cell, old: str, new: str) -> None:
    for paragraph in cell.paragraphs:
        if old in paragraph.text:
            text = paragraph.text.replace(old, new, 1)
            for run in paragraph.runs[1:]:
                run._r.getparent().remove(run._r)
            paragraph.runs[0].text = text
            return
    raise LookupError(old)


def fill(sheet: bytes, entries: Entries) -> bytes:
    """The bytes of ``sheet`` with ``entries`` typed in."""
    document = docx.Document(io.BytesIO(sheet))
    for index, text in enumerate(entries.monthly):
        _type(_cell_right_of(document, ("第一月", "第二月", "第三月")[index]), text)
    for label, value in (
        ("迟到（次）", entries.late),
        ("早退（次）", entries.early_leave),
        ("旷工（次）", entries.absent),
        ("请假情况（天）", entries.leave_days),
    ):
        _type(_cell_below(document, label), value)
    self_cell = _cell_right_of(document, "本季度")
    _type(self_cell, entries.self_evaluation)
    if entries.signature:
        _replace_in_cell(self_cell, "签字：　　　　　　　　　　　年　　月　　日", entries.signature)
    leader_cell = _cell_right_of(document, "分管领导")
    _type(leader_cell, entries.leader_opinion)
    if entries.grade_tick:
        # "□好" never matches inside "□较好", so the plain replacement ticks the right box
        word = entries.grade_tick.lstrip("☑☒■√✓ ")
        _replace_in_cell(leader_cell, f"□{word}", entries.grade_tick)
    _type(_cell_right_of(document, "班子审定"), entries.review_opinion)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


MODEST = Entries(
    monthly=(
        "1.完成辖区12家重点排污单位现场检查，督促3家企业整改在线监测数据异常问题；\n"
        "2.参与国庆假期环境安全隐患排查，编写排查报告1份。",
        "1.办理群众环境信访件8件，按期办结率100%；\n2.配合开展秋冬季大气污染防治攻坚督查。",
        "1.完成年度排污许可证后管理抽查任务；\n2.整理全年执法案卷并移交归档，参加业务培训2次。",
    ),
    late="0",
    early_leave="0",
    absent="0",
    leave_days="1.5",
    self_evaluation="本季度能够认真履行岗位职责，按时完成各项工作任务，遵守工作纪律，"
    "廉洁自律；不足之处是业务学习还不够系统，下季度将加强法律法规学习。",
    signature="签字：张伟　　　2027年1月4日",
    leader_opinion="该同志工作认真负责，执法检查细致，信访办理及时，较好完成了本季度工作任务。",
    grade_tick="☑较好",
    review_opinion="同意分管领导意见。",
)
