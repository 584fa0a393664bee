"""PDFs as other producers make them: reportlab with its built-in CJK font (a different
layout), a scan (a rasterised page with no text layer), a password, glyphs without a
ToUnicode map."""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
STYLE = ParagraphStyle("cell", fontName=FONT, fontSize=10.5, leading=14, wordWrap="CJK")


def _p(text: str) -> Paragraph:
    return Paragraph(text.replace("\n", "<br/>"), STYLE)


def reportlab_sheet(
    *,
    name: str = "陈静",
    unit_position: str = "泽州分局 二级主任科员",
    months: Sequence[str] = (
        "开展大气污染源排查，检查企业9家。",
        "配合秋冬季攻坚督查。",
        "完成季度统计报表。",
    ),
    attendance: Sequence[str] = ("1", "0", "0", "3"),
    self_evaluation: str = "按时完成各项任务。",
    signature: str = "签字：陈静　2027年1月3日",
    leader: str = "工作扎实。\n考核等次：√好　□较好　□一般　□差",
    review: str = "同意。",
    password: str | None = None,
) -> bytes:
    """A differently built sheet: four columns, attendance as label/value pairs side by side,
    month label and 工作纪实 in one cell."""
    rows = [
        [_p("姓名"), _p(name), _p("性别"), _p("女")],
        [_p("单位及职务"), _p(unit_position), "", ""],
        [_p("从事或分管工作"), _p("大气污染防治"), "", ""],
        [_p("第一月（10月）工作纪实"), _p(months[0]), "", ""],
        [_p("第二月（11月）工作纪实"), _p(months[1]), "", ""],
        [_p("第三月（12月）工作纪实"), _p(months[2]), "", ""],
        [_p("迟到（次）"), _p(attendance[0]), _p("早退（次）"), _p(attendance[1])],
        [_p("旷工（次）"), _p(attendance[2]), _p("请假情况（天）"), _p(attendance[3])],
        [_p("本季度自我评价"), _p(self_evaluation + "\n" + signature), "", ""],
        [_p("分管领导意见"), _p(leader), "", ""],
        [_p("班子审定意见"), _p(review), "", ""],
    ]
    table = Table(rows, colWidths=[3.5 * cm, 5 * cm, 3.5 * cm, 4.5 * cm])
    spans = [("SPAN", (1, r), (3, r)) for r in (1, 2, 3, 4, 5, 8, 9, 10)]
    table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.8, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP"), *spans]
        )
    )
    out = io.BytesIO()
    title = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1)
    encrypt = None
    if password is not None:
        from reportlab.lib.pdfencrypt import StandardEncryption

        encrypt = StandardEncryption(password, canPrint=1)
    document = SimpleDocTemplate(out, pagesize=A4, encrypt=encrypt)
    document.build(
        [Paragraph("公务员平时考核工作记实表", title), Paragraph("（2026年第4季度）", title), table]
    )
    return out.getvalue()


def without_unicode_map(pdf: bytes) -> bytes:
    """The same PDF with its CJK CMap replaced by Identity-H: glyphs remain, meaning is gone."""
    assert b"/UniGB-UCS2-H" in pdf
    return pdf.replace(b"/UniGB-UCS2-H", b"/Identity-H  ")


def scanned(pdf: bytes, dpi: int = 100) -> bytes:
    """Print and scan: each page rasterised and saved as an image-only PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    images = [page.render(scale=dpi / 72).to_pil().convert("RGB") for page in document]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return out.getvalue()
