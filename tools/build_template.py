"""Build templates/平时考核记实表.docx, the docxtpl template of attachment 1.

Run once by developers (``python tools/build_template.py``); HR then edits the
.docx in Word/WPS if they want other wording. Typing areas are plain empty
cells, not content controls: see README "design notes" for the LibreOffice
round-trip that decided it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph

OUT = Path(__file__).resolve().parent.parent / "templates" / "平时考核记实表.docx"

BODY_FONT = "仿宋"  # what people type, as on printed government forms
LABEL_FONT = "宋体"
TITLE_FONT = "宋体"
LABEL_SHADE = "E7E6E6"
WIDTHS_CM = (2.3, 3.2, 1.3, 1.3, 2.3, 6.2)  # six grid columns, 16.6 cm = A4 less margins


def _fonts(rpr_owner: object, east_asia: str, ascii_font: str = "Times New Roman") -> None:
    rpr = rpr_owner._element.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        rfonts.set(qn(attr), ascii_font)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _run(par: Paragraph, text: str, *, font: str, size: float, bold: bool = False) -> None:
    run = par.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    _fonts(run, font)


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _label(cell: _Cell, *lines: str) -> None:
    """A printed field name: bold, centred, shaded so people see it is not for typing."""
    _shade(cell, LABEL_SHADE)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    first = cell.paragraphs[0]
    for index, line in enumerate(lines):
        par = first if index == 0 else cell.add_paragraph()
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
        par.paragraph_format.space_after = Pt(0)
        _run(par, line, font=LABEL_FONT, size=10.5, bold=True)


def _value(cell: _Cell, text: str = "", *, center: bool = False) -> Paragraph:
    """A typing area; ``text`` is a prefilled docxtpl tag or empty."""
    cell.vertical_alignment = (
        WD_CELL_VERTICAL_ALIGNMENT.CENTER if center else WD_CELL_VERTICAL_ALIGNMENT.TOP
    )
    par = cell.paragraphs[0]
    if center:
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.paragraph_format.space_after = Pt(0)
    if text:
        _run(par, text, font=BODY_FONT, size=10.5)
    return par


def _printed_line(
    cell: _Cell, text: str, *, right: bool = False, bold: bool = False, gap: float = 3
) -> None:
    """A printed line inside a typing cell (grade boxes, 签字/年月日); ``gap`` pt above it
    leaves room to type, and the line moves down as the typed text grows."""
    par = cell.add_paragraph()
    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    par.paragraph_format.space_before = Pt(gap)
    par.paragraph_format.space_after = Pt(0)
    _run(par, text, font=LABEL_FONT, size=10.5, bold=bold)


def _height(table: object, row: int, cm: float) -> None:
    r = table.rows[row]  # type: ignore[attr-defined]
    r.height = Cm(cm)
    r.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def _no_split_rows(table: object) -> None:
    for row in table.rows:  # type: ignore[attr-defined]
        trpr = row._tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        trpr.append(cant)


#: The footer's QR code (the form code, for scans and photos of the printed page) and the
#: printed code's size: both large enough to read from a 150-dpi scan or a phone photo.
QR_MM = 19
CODE_PT = 10.5
GRADE_SIGN_GAP_PT = 16


def _qr_placeholder(paragraph: Paragraph) -> None:
    """The footer's QR picture, named ``QR_PICTURE_NAME``: the generator replaces its image
    with each person's form code (HR may move or resize it in Word; it must stay in the
    footer)."""
    sys.path.insert(0, str(OUT.parent.parent))
    from pipeline.identity import QR_PICTURE_NAME, qr_png

    run = paragraph.add_run()
    run.add_picture(io.BytesIO(qr_png("KH0000Q0-0000-00")), width=Mm(QR_MM), height=Mm(QR_MM))
    for doc_pr in run._r.iter(qn("wp:docPr")):
        doc_pr.set("name", QR_PICTURE_NAME)
        doc_pr.set("descr", "表码二维码（生成时换成本人的表码，请勿删除）")


def build(out: Path = OUT) -> Path:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(1.8), Cm(1.5)
    section.left_margin = section.right_margin = Cm(2.2)
    section.footer_distance = Cm(0.8)

    normal = doc.styles["Normal"]
    normal.font.size = Pt(10.5)
    _fonts(normal, BODY_FONT)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)

    props = doc.core_properties
    props.title = "公务员平时考核工作记实表"
    props.subject = "{{ period_title }}"
    props.author = "人事科"
    props.comments = "kaohe 记实表模板"
    props.keywords = ""

    title = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(2)
    _run(title, "公务员平时考核工作记实表", font=TITLE_FONT, size=18, bold=True)
    period = doc.add_paragraph()
    period.alignment = WD_ALIGN_PARAGRAPH.CENTER
    period.paragraph_format.space_after = Pt(6)
    _run(period, "（{{ period_title }}）", font="楷体", size=14)

    table = doc.add_table(rows=9, cols=6)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for row in table.rows:
        for index, cell in enumerate(row.cells):
            cell.width = Cm(WIDTHS_CM[index])
    for index, col in enumerate(table.columns):
        col.width = Cm(WIDTHS_CM[index])
    c = [row.cells for row in table.rows]

    # Row 0: 姓名 | name | 性别 | gender | 单位及职务 | unit and position
    _label(c[0][0], "姓名")
    _value(c[0][1], "{{ name }}", center=True)
    _label(c[0][2], "性别")
    _value(c[0][3], "{{ gender }}", center=True)
    _label(c[0][4], "单位及职务")
    _value(c[0][5], "{{ unit_and_position }}", center=True)
    _height(table, 0, 1.1)

    # Row 1: 从事或分管工作
    _label(c[1][0], "从事或", "分管工作")
    _value(c[1][1].merge(c[1][5]), "{{ duties }}")
    _height(table, 1, 1.2)

    # Rows 2-4: the three monthly work records
    for offset, (ordinal, tag) in enumerate(
        (("第一月", "month1"), ("第二月", "month2"), ("第三月", "month3"))
    ):
        row = 2 + offset
        _label(c[row][0], ordinal, f"（{{{{ {tag} }}}}月）")
        _label(c[row][1], "工作纪实")
        _value(c[row][2].merge(c[row][5]))
        _height(table, row, 3.1)

    # Rows 5-6: attendance
    _label(c[5][0].merge(c[6][0]), "出勤记录")
    _label(c[5][1], "迟到（次）")
    _label(c[5][2].merge(c[5][3]), "早退（次）")
    _label(c[5][4], "旷工（次）")
    _label(c[5][5], "请假情况（天）")
    _value(c[6][1], center=True)
    _value(c[6][2].merge(c[6][3]), center=True)
    _value(c[6][4], center=True)
    _value(c[6][5], center=True)
    _height(table, 5, 0.8)
    _height(table, 6, 0.9)

    # Row 7: self evaluation, signed and dated by the person
    _label(c[7][0], "本季度", "自我评价")
    self_cell = c[7][1].merge(c[7][5])
    _value(self_cell)
    _printed_line(self_cell, "签字：　　　　　　　　　　　年　　月　　日", right=True, gap=40)
    _height(table, 7, 2.8)

    # Row 8: leader's opinion with the four grades, and the leadership team's review
    _label(c[8][0], "分管领导", "意见")
    leader_cell = c[8][1].merge(c[8][3])
    _value(leader_cell)
    _printed_line(leader_cell, "等次：□好 □较好 □一般 □差", bold=True, gap=48)
    # room between the boxes and the signature: a pen signature must not run into the boxes,
    # nor a tick into the signature (both are read from scans)
    _printed_line(leader_cell, "签字：　　　　年　　月　　日", right=True, gap=GRADE_SIGN_GAP_PT)
    _label(c[8][4], "班子审定", "意见")
    review_cell = c[8][5]
    _value(review_cell)
    _printed_line(review_cell, "年　　月　　日", right=True, gap=70)
    _height(table, 8, 3.8)
    _no_split_rows(table)

    footer = section.footer.paragraphs[0]
    footer.paragraph_format.tab_stops.add_tab_stop(Cm(16.6), WD_TAB_ALIGNMENT.RIGHT)
    note = footer.add_run("请在白色格内填写，灰色格为栏目名称；请勿删改表码。")
    note.font.size = Pt(8)
    note.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
    _fonts(note, LABEL_FONT)
    code = footer.add_run("\t表码：{{ form_code }} ")
    code.font.size = Pt(CODE_PT)
    _fonts(code, LABEL_FONT, ascii_font="Consolas")
    _qr_placeholder(footer)

    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


FEEDBACK_OUT = OUT.parent / "考核结果反馈通知.docx"


def _notice(heading: str) -> Any:
    """An A4 notice with its centred title: the page and type every notice shares."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2.5)
    section.left_margin = section.right_margin = Cm(2.6)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(14)
    _fonts(normal, BODY_FONT)
    title = doc.paragraphs[0] if doc.paragraphs else doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, heading, font=TITLE_FONT, size=20, bold=True)
    doc.core_properties.title = heading
    return doc


def _body(doc: Any, lines: tuple[str, ...], signer: str, day: str) -> None:
    """The notice's paragraphs, then the signer and the day on the right."""
    for text in lines:
        par = doc.add_paragraph()
        par.paragraph_format.space_after = Pt(6)
        _run(par, text, font=BODY_FONT, size=14)
    sign = doc.add_paragraph()
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    sign.paragraph_format.space_before = Pt(36)
    _run(sign, signer, font=BODY_FONT, size=14)
    dated = doc.add_paragraph()
    dated.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(dated, day, font=BODY_FONT, size=14)


def build_feedback(out: Path = FEEDBACK_OUT) -> Path:
    """The written feedback notice (反馈结果, notice 三(三)): grade, the leader's opinion, and
    for 一般/差 the request to rectify within a deadline."""
    doc = _notice("公务员平时考核结果反馈通知")
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(sub, "（{{ period_title }}）", font="楷体", size=14)
    lines = (
        "{{ name }}同志：",
        "　　根据《公务员平时考核办法（试行）》和本局平时考核工作方案，经分管领导评鉴，"
        "你{{ period_title }}的平时考核结果为：{{ grade_text }}。",
        "　　分管领导意见：{{ leader_opinion }}",
        "{%p if needs_rectification %}",
        "　　请你针对存在的问题认真查找原因，制定整改措施，"
        "于　　　　年　　月　　日前整改到位，并将整改情况书面报分管领导。",
        "{%p endif %}",
        "　　如对考核结果有异议，可向局领导班子提出复核申请。",
    )
    _body(doc, lines, "{{ assessing_unit }}　分管领导：{{ leader }}", "年　　月　　日")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


REMIND_OUT = OUT.parent / "催报通知.docx"


def build_remind(out: Path = REMIND_OUT) -> Path:
    """The reminder to a unit (催报): who has not returned the sheet, and their leaders."""
    doc = _notice("关于报送平时考核记实表的提醒")
    lines = (
        "{{ unit }}：",
        "　　{{ period_title }}平时考核记实表应于{{ deadline }}前交回人事科。"
        "截至{{ today }}，以下 {{ count }} 位同志的记实表尚未收到：",
        "{%p for p in people %}",
        "　　{{ loop.index }}. {{ p.name }}（编号 {{ p.person_id }}{% if p.leader %}，"
        "分管领导 {{ p.leader }}{% endif %}）",
        "{%p endfor %}",
        "　　请督促上述同志尽快填写、签字，经分管领导评鉴后交回。"
        "无正当理由不参加平时考核的，将按规定予以批评教育。",
    )
    _body(doc, lines, "人事科", "{{ today }}")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(out))
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
    print(build_feedback())
    print(build_remind())
