"""Build returned documents the way people make them: on the notice's original attachment,
with tracked changes, with comments, with Word's checkbox and text content controls."""

from __future__ import annotations

import io
from collections.abc import Sequence

import docx
from docx.oxml import parse_xml
from docx.table import _Cell

from .filling import type_paragraphs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
NS = f'xmlns:w="{W}" xmlns:w14="{W14}"'


def _save(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def original_attachment(
    *,
    name: str,
    gender: str = "男",
    unit_position: str = "",
    period_line: str = "（2026年第4季度）",
    months: Sequence[str] = (
        "十月份完成执法检查5次。",
        "十一月份办理信访3件。",
        "十二月份整理案卷。",
    ),
    attendance: Sequence[str] = ("0", "0", "0", "2"),
    self_evaluation: str = "工作认真，按时完成任务。",
    signature: str = "签字：张伟　　　　2027年1月4日",
    leader_opinion: str = "工作完成较好。考核等次：较好",
    review_opinion: str = "同意。",
) -> bytes:
    """A sheet typed on the notice's own attachment 1: no identity, 第一月 labels,
    本月自我评价, and the 签字 line between the two tables."""
    document = docx.Document()
    document.add_paragraph("公务员平时考核工作记实表")
    document.add_paragraph(period_line)
    table = document.add_table(rows=9, cols=4)
    c = [row.cells for row in table.rows]
    c[0][0].text, c[0][1].text = "姓名", name
    # 性别 and 单位及职务 share row 0 in a narrower table: put them in their own cells
    c[0][2].text, c[0][3].text = "性别", gender
    c[1][0].text, c[1][1].text = "单位及职务", unit_position
    c[1][1].merge(c[1][3])
    for row, label in enumerate(("第一月", "第二月", "第三月"), start=2):
        c[row][0].text, c[row][1].text = label, "工作纪实"
        merged = c[row][2].merge(c[row][3])
        merged.text = months[row - 2]
    attendance_label = c[5][0].merge(c[7][0])
    attendance_label.text = "出勤记录"
    c[5][1].text, c[5][2].text, c[5][3].text = "迟到（次）", "早退（次）", "旷工（次）"
    c[6][1].text, c[6][2].text, c[6][3].text = attendance[0], attendance[1], attendance[2]
    leave_label = c[7][1].merge(c[7][2])
    leave_label.text = "请假情况（天）"
    c[7][3].text = attendance[3]
    c[8][0].text = "本月自我评价"
    merged = c[8][1].merge(c[8][3])
    merged.text = self_evaluation
    document.add_paragraph(signature)
    second = document.add_table(rows=1, cols=4)
    cells = second.rows[0].cells
    cells[0].text, cells[1].text = "分管领导意见", leader_opinion
    cells[2].text, cells[3].text = "班子审定意见", review_opinion
    return _save(document)


def _cell_after(document: docx.document.Document, label: str) -> _Cell:
    for row in document.tables[0].rows:
        cells = list(dict.fromkeys(row.cells, None))
        for index, cell in enumerate(cells):
            if cell.text.replace("\n", "").startswith(label):
                target = cells[index + 1]
                if target.text == "工作纪实":
                    target = cells[index + 2]
                return target
    raise LookupError(label)


def with_tracked_changes(
    sheet: bytes, label: str, *, kept: str, inserted: str, deleted: str
) -> bytes:
    """The cell after ``label`` edited with Track Changes on: ``kept`` typed earlier, then
    ``inserted`` added and ``deleted`` removed as tracked revisions."""
    document = docx.Document(io.BytesIO(sheet))
    paragraph = _cell_after(document, label).paragraphs[0]
    paragraph.add_run(kept)
    paragraph._p.append(
        parse_xml(
            f'<w:del {NS} w:id="901" w:author="张伟" w:date="2027-01-04T09:00:00Z">'
            f"<w:r><w:delText>{deleted}</w:delText></w:r></w:del>"
        )
    )
    paragraph._p.append(
        parse_xml(
            f'<w:ins {NS} w:id="902" w:author="张伟" w:date="2027-01-04T09:00:00Z">'
            f"<w:r><w:t>{inserted}</w:t></w:r></w:ins>"
        )
    )
    return _save(document)


def with_comment(sheet: bytes, label: str, *, text: str, comment: str) -> bytes:
    """``text`` typed after ``label`` and a reviewer's comment attached to it."""
    document = docx.Document(io.BytesIO(sheet))
    run = _cell_after(document, label).paragraphs[0].add_run(text)
    document.add_comment(run, text=comment, author="审核人")
    return _save(document)


def with_checkbox_grade(sheet: bytes, ticked: str, *, opinion: str = "") -> bytes:
    """The grade line rebuilt with Word checkbox content controls (Developer ▸ Check Box)."""
    document = docx.Document(io.BytesIO(sheet))
    cell = _cell_after(document, "分管领导")
    if opinion:
        cell.paragraphs[0].add_run(opinion)
    line = next(p for p in cell.paragraphs if p.text.startswith("等次"))
    for run in list(line.runs):
        run._r.getparent().remove(run._r)
    line.add_run("等次：")
    for word in ("好", "较好", "一般", "差"):
        state = "1" if word == ticked else "0"
        glyph = "☒" if word == ticked else "☐"
        line._p.append(
            parse_xml(
                f'<w:sdt {NS}><w:sdtPr><w14:checkbox><w14:checked w14:val="{state}"/>'
                '<w14:checkedState w14:val="2612" w14:font="MS Gothic"/>'
                '<w14:uncheckedState w14:val="2610" w14:font="MS Gothic"/></w14:checkbox>'
                f"</w:sdtPr><w:sdtContent><w:r><w:t>{glyph}</w:t></w:r></w:sdtContent></w:sdt>"
            )
        )
        line.add_run(word + " ")
    return _save(document)


def with_placeholder_control(sheet: bytes, label: str, hint: str) -> bytes:
    """An untouched plain-text content control showing its hint text in the cell after ``label``."""
    document = docx.Document(io.BytesIO(sheet))
    paragraph = _cell_after(document, label).paragraphs[0]
    paragraph._p.append(
        parse_xml(
            f'<w:sdt {NS}><w:sdtPr><w:tag w:val="hint"/><w:showingPlcHdr/><w:text/></w:sdtPr>'
            f"<w:sdtContent><w:r><w:t>{hint}</w:t></w:r></w:sdtContent></w:sdt>"
        )
    )
    return _save(document)


def with_numbered_list(
    sheet: bytes, label: str, items: Sequence[str], style: str = "List Number"
) -> bytes:
    """Items typed as a Word automatic numbered list (Home ▸ Numbering) in the cell after ``label``."""
    document = docx.Document(io.BytesIO(sheet))
    type_paragraphs(_cell_after(document, label), list(items), document.styles[style])
    return _save(document)


def with_line_breaks(sheet: bytes, label: str, lines: Sequence[str]) -> bytes:
    """Lines separated by Shift+Enter (manual line breaks, one paragraph)."""
    document = docx.Document(io.BytesIO(sheet))
    run = _cell_after(document, label).paragraphs[0].add_run(lines[0])
    for line in lines[1:]:
        run.add_break()
        run.add_text(line)
    return _save(document)


def pasted_together(sheets: Sequence[bytes]) -> bytes:
    """Several filled sheets pasted one after another, each after a page break, into the
    first person's own document — as a unit clerk does. Its footer code and document
    properties still name only the first person."""
    import copy

    from docx.enum.text import WD_BREAK

    document = docx.Document(io.BytesIO(sheets[0]))
    body = document.element.body
    final = body.sectPr
    for data in sheets[1:]:
        breaker = document.add_paragraph()
        breaker.add_run().add_break(WD_BREAK.PAGE)
        other = docx.Document(io.BytesIO(data)).element.body
        for child in other.iterchildren():
            if child.tag == f"{{{W}}}sectPr":
                continue
            if final is not None:
                final.addprevious(copy.deepcopy(child))
            else:
                body.append(copy.deepcopy(child))
    return _save(document)


def with_symbol_tick(
    sheet: bytes, word: str, *, font: str = "Wingdings 2", char: str = "F052"
) -> bytes:
    """The grade ticked as Word's Insert ▸ Symbol does it: the □ before ``word`` replaced by a
    ``w:sym`` glyph of a symbol font (Wingdings 2 F052 is a ticked box)."""
    document = docx.Document(io.BytesIO(sheet))
    for paragraph in (
        p for t in document.tables for r in t.rows for c in r.cells for p in c.paragraphs
    ):
        if f"□{word}" not in paragraph.text:
            continue
        for run in paragraph.runs:
            if f"□{word}" in run.text:
                before, after = run.text.split(f"□{word}", 1)
                run.text = before
                symbol = parse_xml(f'<w:r {NS}><w:sym w:font="{font}" w:char="{char}"/></w:r>')
                rest = parse_xml(f'<w:r {NS}><w:t xml:space="preserve">{word}{after}</w:t></w:r>')
                run._r.addnext(symbol)
                symbol.addnext(rest)
                return _save(document)
    raise LookupError(word)


def with_enclosed_tick(sheet: bytes, word: str) -> bytes:
    """The grade ticked with Word's 带圈字符 (Home ▸ Enclose Characters): a field
    ``eq \\o\\ac(□,√)`` whose instruction is split over runs, as Word writes it."""
    document = docx.Document(io.BytesIO(sheet))
    for paragraph in (
        p for t in document.tables for r in t.rows for c in r.cells for p in c.paragraphs
    ):
        for run in paragraph.runs:
            if f"□{word}" in run.text:
                before, after = run.text.split(f"□{word}", 1)
                run.text = before
                pieces = [
                    '<w:fldChar w:fldCharType="begin"/>',
                    '<w:instrText xml:space="preserve"> eq \\o\\ac(</w:instrText>',
                    "<w:instrText>□</w:instrText>",
                    "<w:instrText>,</w:instrText>",
                    "<w:instrText>√</w:instrText>",
                    "<w:instrText>)</w:instrText>",
                    '<w:fldChar w:fldCharType="end"/>',
                    f'<w:t xml:space="preserve">{word}{after}</w:t>',
                ]
                anchor = run._r
                for piece in pieces:
                    element = parse_xml(f"<w:r {NS}>{piece}</w:r>")
                    anchor.addnext(element)
                    anchor = element
                return _save(document)
    raise LookupError(word)


def framed(sheet: bytes, *, how: str) -> bytes:
    """The sheet's tables moved into a container: ``"frame"`` — a one-cell table around
    them (people use it as a border); ``"textbox"`` — a text box (Insert ▸ Text Box)."""
    import copy

    document = docx.Document(io.BytesIO(sheet))
    body = document.element.body
    tables = [t for t in body.iterchildren() if t.tag == f"{{{W}}}tbl"]
    if how == "frame":
        holder = parse_xml(
            f'<w:tbl {NS}><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>'
            '<w:tblGrid><w:gridCol w:w="9000"/></w:tblGrid><w:tr><w:tc>'
            '<w:tcPr><w:tcW w:w="9000" w:type="dxa"/></w:tcPr></w:tc></w:tr></w:tbl>'
        )
        cell = holder.find(f".//{{{W}}}tc")
        tables[0].addprevious(holder)
        for table in tables:
            cell.append(copy.deepcopy(table))
            cell.append(parse_xml(f"<w:p {NS}/>"))
            body.remove(table)
        return _save(document)
    wps = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    wp = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    anchor = parse_xml(
        f'<w:p {NS} xmlns:mc="{mc}" xmlns:wp="{wp}" xmlns:a="{a}" xmlns:wps="{wps}"><w:r>'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1"'
        ' behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        '<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>'
        '<wp:extent cx="5700000" cy="8000000"/><wp:wrapNone/><wp:docPr id="9" name="文本框 9"/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
        'wordprocessingShape"><wps:wsp><wps:txbx><w:txbxContent/></wps:txbx><wps:bodyPr/>'
        "</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict/></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    )
    box = anchor.find(f".//{{{W}}}txbxContent")
    tables[0].addprevious(anchor)
    for table in tables:
        box.append(copy.deepcopy(table))
        body.remove(table)
    box.append(parse_xml(f"<w:p {NS}/>"))
    return _save(document)
