"""The shipped template, templates HR edits, and the fast path's promise to match docxtpl."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import docx
import pytest
from docxtpl import DocxTemplate

from pipeline.errors import TemplateError
from pipeline.models import Gender, Period, Person
from pipeline.template import ALL_TAGS, SheetTemplate, period_values, person_values
from pipeline.workspace import shipped_template

from .sheets import NAME, UNIT_POSITION, body_text, cell, footer_text, open_sheet

Q4 = Period(year=2026, quarter=4)
ZHANG = Person(
    person_id="0007", name="张伟", gender=Gender.MALE, unit="综合行政执法队", position="科长"
)


def edited(tmp_path: Path, typed: str) -> Path:
    """The shipped template with a paragraph typed at the end, as HR would in Word."""
    document = docx.Document(str(shipped_template()))
    document.add_paragraph(typed)
    path = tmp_path / "edited.docx"
    document.save(str(path))
    return path


def test_shipped_template_uses_only_known_tags_and_has_identity() -> None:
    template = SheetTemplate.load(shipped_template())
    assert template.tags <= ALL_TAGS.keys()
    assert {
        "name",
        "gender",
        "unit_and_position",
        "duties",
        "form_code",
        "period_title",
    } <= template.tags
    assert template.warnings == ()


def test_shipped_template_prints_every_label_of_attachment_1() -> None:
    text = body_text(open_sheet(shipped_template()))
    for label in (
        "公务员平时考核工作记实表",
        "姓名",
        "性别",
        "单位及职务",
        "从事或",
        "分管工作",
        "第一月",
        "第二月",
        "第三月",
        "工作纪实",
        "出勤记录",
        "迟到（次）",
        "早退（次）",
        "旷工（次）",
        "请假情况（天）",
        "本季度",
        "自我评价",
        "签字",
        "分管领导",
        "班子审定",
        "□好",
        "□较好",
        "□一般",
        "□差",
    ):
        assert label in text, label


def test_declares_chinese_fonts_for_east_asian_text() -> None:
    with zipfile.ZipFile(shipped_template()) as package:
        styles = package.read("word/styles.xml").decode()
        document = package.read("word/document.xml").decode()
    assert 'w:eastAsia="仿宋"' in styles
    assert 'w:eastAsia="宋体"' in document


def test_page_is_a4_portrait() -> None:
    section = open_sheet(shipped_template()).sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)


def test_fast_path_is_used_for_the_shipped_template() -> None:
    assert SheetTemplate.load(shipped_template()).prepare(Q4).fast is True


def test_fast_path_prints_what_docxtpl_prints(tmp_path: Path) -> None:
    """The stamped sheet and a plain docxtpl render of the same person read the same."""
    prepared = SheetTemplate.load(shipped_template()).prepare(Q4)
    fast = open_sheet(prepared.render(ZHANG))
    naive = DocxTemplate(str(shipped_template()))
    naive.render({**period_values(Q4), **person_values(Q4, ZHANG)}, autoescape=True)
    buffer = io.BytesIO()
    naive.save(buffer)
    slow = open_sheet(buffer.getvalue())
    assert body_text(fast) == body_text(slow)
    assert footer_text(fast) == footer_text(slow)


def test_same_person_gives_byte_identical_sheets() -> None:
    template = SheetTemplate.load(shipped_template())
    assert template.prepare(Q4).render(ZHANG) == template.prepare(Q4).render(ZHANG)


def test_xml_special_characters_in_values_are_escaped() -> None:
    person = dataclasses.replace(ZHANG, name="A&B<C>", position="x\"y'z")
    sheet = open_sheet(SheetTemplate.load(shipped_template()).prepare(Q4).render(person))
    assert cell(sheet, *NAME) == "A&B<C>"
    assert cell(sheet, *UNIT_POSITION) == "综合行政执法队 x\"y'z"


def test_unknown_tag_is_a_clear_error_listing_known_tags(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        SheetTemplate.load(edited(tmp_path, "手机：{{ phone }}"))
    message = str(caught.value)
    assert message.startswith("模板 edited.docx 中有未知的标签：{{ phone }}。可用的标签有：")
    assert "{{ name }}" in message


def test_broken_jinja_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        SheetTemplate.load(edited(tmp_path, "姓名：{{ name }"))
    assert str(caught.value).startswith("模板 edited.docx 中的标签写法有误：")
    assert "{{ name }}" in str(caught.value)


def test_not_a_docx(tmp_path: Path) -> None:
    path = tmp_path / "模板.docx"
    path.write_bytes(b"{\\rtf1 saved as rtf}")
    with pytest.raises(TemplateError, match=r"模板不是 \.docx 文件：模板\.docx"):
        SheetTemplate.load(path)


def test_missing_template_says_how_to_restore(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="kaohe init"):
        SheetTemplate.load(tmp_path / "nope.docx")


def test_template_without_form_code_warns(tmp_path: Path) -> None:
    document = docx.Document(str(shipped_template()))
    for paragraph in document.sections[0].footer.paragraphs:
        for run in paragraph.runs:
            run.text = run.text.replace("{{ form_code }}", "")
    path = tmp_path / "no-code.docx"
    document.save(str(path))
    [warning] = SheetTemplate.load(path).warnings
    assert "{{ form_code }}" in warning


def test_template_with_logic_on_person_values_falls_back_and_stays_correct(tmp_path: Path) -> None:
    path = edited(
        tmp_path, "{% if host_unit %}挂职：{{ host_unit }}{% else %}本单位考核{% endif %}"
    )
    prepared = SheetTemplate.load(path).prepare(Q4)
    assert prepared.fast is False
    seconded = dataclasses.replace(ZHANG, host_unit="泽州分局")
    assert "挂职：泽州分局" in body_text(open_sheet(prepared.render(seconded)))
    assert "本单位考核" in body_text(open_sheet(prepared.render(ZHANG)))


def test_template_filter_on_a_value_falls_back(tmp_path: Path) -> None:
    prepared = SheetTemplate.load(edited(tmp_path, "{{ person_id|int + 1 }}")).prepare(Q4)
    assert prepared.fast is False
    assert "8" in body_text(open_sheet(prepared.render(ZHANG))).splitlines()


def test_identity_in_document_properties() -> None:
    data = SheetTemplate.load(shipped_template()).prepare(Q4).render(ZHANG)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        custom = package.read("docProps/custom.xml").decode()
        core = package.read("docProps/core.xml").decode()
    code = person_values(Q4, ZHANG)["form_code"]
    assert f'name="KaoheFormCode"><vt:lpwstr>{code}</vt:lpwstr>' in custom
    assert f"<cp:keywords>kaohe {code}</cp:keywords>" in core
    assert "<dc:subject>2026年第4季度</dc:subject>" in core


def test_seconded_person_shows_home_unit_and_host() -> None:
    values = person_values(Q4, dataclasses.replace(ZHANG, unit="办公室", host_unit="泽州分局"))
    assert values["unit_and_position"] == "办公室 科长（挂职泽州分局）"
    assert values["assessing_unit"] == "泽州分局"


def test_line_breaks_from_excel_cells_print_as_one_line() -> None:
    values = person_values(Q4, dataclasses.replace(ZHANG, duties="执法检查\n案件审核"))
    assert values["duties"] == "执法检查 案件审核"
