"""Rosters as HR really keeps them, and every way a roster can be wrong."""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from pipeline import roster as roster_module
from pipeline.errors import RosterError
from pipeline.models import PERSON, Gender
from pipeline.roster import CACHE_FORMAT, read_roster, units_of

from .conftest import sample_rows, write_csv, write_xlsx

HEADER = ["编号", "姓名", "性别", "单位", "职务"]


def problems(path: Path) -> list[str]:
    with pytest.raises(RosterError) as caught:
        read_roster(path)
    return [str(p) for p in caught.value.problems]


def test_sample_roster_xlsx_reads_every_field(tmp_path: Path) -> None:
    people = read_roster(write_xlsx(tmp_path / "名单.xlsx", sample_rows()))
    assert len(people) == 16
    first = people[0]
    assert (first.person_id, first.name, first.gender, first.unit, first.position) == (
        "0001",
        "张伟",
        Gender.MALE,
        "城区分局",
        "副局长",
    )
    assert first.duties == "建设项目环评审批、排污许可"
    assert first.leader == "王建国"
    assert first.source_row == 2
    seconded = next(p for p in people if p.person_id == "0012")
    assert (seconded.unit, seconded.host_unit, seconded.assessing_unit) == (
        "办公室",
        "泽州分局",
        "泽州分局",
    )
    assert seconded.seconded


def test_same_name_in_two_units_is_legal(tmp_path: Path) -> None:
    people = read_roster(write_xlsx(tmp_path / "r.xlsx", sample_rows()))
    zhang = [(p.person_id, p.unit) for p in people if p.name == "张伟"]
    assert zhang == [("0001", "城区分局"), ("0007", "综合行政执法队")]


def test_numeric_ids_formatted_with_zeros_keep_them(tmp_path: Path) -> None:
    rows = [HEADER, [7, "张伟", "男", "城区分局", "科员"], [12, "李娜", "女", "城区分局", "科员"]]
    people = read_roster(write_xlsx(tmp_path / "r.xlsx", rows, id_format="0000"))
    assert [p.person_id for p in people] == ["0007", "0012"]


def test_numeric_ids_without_format_have_no_decimal_point(tmp_path: Path) -> None:
    rows = [HEADER, [7.0, "张伟", "男", "城区分局", "科员"]]
    assert read_roster(write_xlsx(tmp_path / "r.xlsx", rows))[0].person_id == "7"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_excel_writes(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "名单.csv", sample_rows(), encoding)
    people = read_roster(path)
    assert [p.name for p in people][:6] == [
        "张伟",
        "李娜",
        "王芳",
        "赵磊",
        "陈静",
        "迪丽努尔·买买提",
    ]
    assert people[0].person_id == "0001"


def test_gbk_csv_keeps_middle_dot_names(tmp_path: Path) -> None:
    rows = [HEADER, ["0100", "阿不都·热合曼", "男", "执法队", "科员"]]
    assert read_roster(write_csv(tmp_path / "r.csv", rows, "gbk"))[0].name == "阿不都·热合曼"


def test_title_row_above_header_and_blank_rows_are_tolerated(tmp_path: Path) -> None:
    rows = [
        ["2026年第四季度平时考核人员名单"],
        [],
        HEADER,
        ["0001", "张伟", "男", "城区分局", "科员"],
        [],
        ["0002", "李娜", "女", "城区分局", "科员"],
    ]
    people = read_roster(write_xlsx(tmp_path / "r.xlsx", rows))
    assert [(p.person_id, p.source_row) for p in people] == [("0001", 4), ("0002", 6)]


def test_spaces_typed_to_align_two_character_names_are_removed(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["0001", "张　伟", "男", "城区分局", "科员"],
        ["0002", "Anna Li", "女", "城区分局", "科员"],
    ]
    assert [p.name for p in read_roster(write_xlsx(tmp_path / "r.xlsx", rows))] == [
        "张伟",
        "Anna Li",
    ]


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    rows = [[*HEADER, "备注", "手机"], ["0001", "张伟", "男", "城区分局", "科员", "新调入", "139"]]
    assert read_roster(write_xlsx(tmp_path / "r.xlsx", rows))[0].name == "张伟"


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    rows = [["编号", "姓名", "单位", "职务"], ["0001", "张伟", "城区分局", "科员"]]
    assert problems(write_xlsx(tmp_path / "r.xlsx", rows)) == [
        "r.xlsx 第1行「性别」列：表头中找不到这一列，请补上"
    ]


def test_empty_required_cells_are_all_listed_with_row_and_column(tmp_path: Path) -> None:
    rows = [HEADER, ["0001", "", "男", "城区分局", "科员"], ["0002", "李娜", "女", "", ""]]
    assert problems(write_xlsx(tmp_path / "r.xlsx", rows)) == [
        "r.xlsx 第2行「姓名」列：不能为空",
        "r.xlsx 第3行「单位」列：不能为空",
        "r.xlsx 第3行「职务」列：不能为空",
    ]


def test_duplicate_id_names_both_rows(tmp_path: Path) -> None:
    rows = [
        HEADER,
        ["0001", "张伟", "男", "城区分局", "科员"],
        ["0001", "李娜", "女", "城区分局", "科员"],
    ]
    assert problems(write_xlsx(tmp_path / "r.xlsx", rows)) == [
        "r.xlsx 第3行「编号」列：编号 0001 与第2行重复"
    ]


def test_unknown_gender_value_is_quoted(tmp_path: Path) -> None:
    rows = [HEADER, ["0001", "张伟", "M", "城区分局", "科员"]]
    assert problems(write_csv(tmp_path / "r.csv", rows, "utf-8")) == [
        "r.csv 第2行「性别」列：“M”不是 男 或 女"
    ]


def test_gender_written_as_nanxing_is_accepted(tmp_path: Path) -> None:
    rows = [HEADER, ["0001", "张伟", "男性", "城区分局", "科员"]]
    assert read_roster(write_xlsx(tmp_path / "r.xlsx", rows))[0].gender is Gender.MALE


def test_roster_error_message_summarises_and_lists(tmp_path: Path) -> None:
    rows = [HEADER, ["0001", "张伟", "男", "城区分局", ""]]
    with pytest.raises(RosterError) as caught:
        read_roster(write_xlsx(tmp_path / "r.xlsx", rows))
    assert (
        str(caught.value)
        == "名单有 1 处问题，未生成任何文件：\n  - r.xlsx 第2行「职务」列：不能为空"
    )


def test_no_header_row(tmp_path: Path) -> None:
    rows = [["张伟", "男"], ["李娜", "女"]]
    assert problems(write_xlsx(tmp_path / "r.xlsx", rows)) == [
        "r.xlsx：前10行内应有表头行，含 编号、姓名、性别、单位、职务"
    ]


def test_old_xls_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "r.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    assert problems(path) == ["r.xls：请在 Excel 中另存为 .xlsx 或 .csv（逗号分隔）"]


def test_corrupt_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"not a workbook")
    [problem] = problems(path)
    assert problem.startswith("r.xlsx：不是有效的 .xlsx 文件")


def test_units_in_roster_order_with_host_unit_for_seconded(tmp_path: Path) -> None:
    people = read_roster(write_xlsx(tmp_path / "r.xlsx", sample_rows()))
    assert units_of(people) == ["城区分局", "泽州分局", "综合行政执法队", "办公室", "大气环境科"]


def _fresh(path: Path, cache: Path) -> list[object]:
    """Read through the cache as a new process would (the in-process memo cleared)."""
    from pipeline import roster

    roster._READ.clear()
    return list(read_roster(path, cache))


def test_cached_roster_is_the_roster_as_read(tmp_path: Path) -> None:
    path, cache = write_xlsx(tmp_path / "名单.xlsx", sample_rows()), tmp_path / "cache"
    direct = read_roster(path)
    assert _fresh(path, cache) == direct and cache.exists()
    assert _fresh(path, cache) == direct  # now from the cache
    # written a person at a time: the layout is still tag, digest of the body, body
    body = b"".join(PERSON.dump_json(p) + b"\n" for p in direct)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    tag = f"{CACHE_FORMAT}:.xlsx:{digest}:".encode()
    assert cache.read_bytes() == tag + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def test_changed_roster_is_read_again_not_served_from_the_cache(tmp_path: Path) -> None:
    path, cache = write_xlsx(tmp_path / "名单.xlsx", sample_rows()), tmp_path / "cache"
    _fresh(path, cache)
    rows = sample_rows()
    rows[1][1] = "张卫"
    write_xlsx(path, rows)
    people = _fresh(path, cache)
    assert people[0].name == "张卫"  # type: ignore[attr-defined]


def test_damaged_cache_is_ignored_and_replaced(tmp_path: Path) -> None:
    path, cache = write_xlsx(tmp_path / "名单.xlsx", sample_rows()), tmp_path / "cache"
    _fresh(path, cache)
    cache.write_bytes(cache.read_bytes()[:200])
    assert _fresh(path, cache) == read_roster(path)
    assert _fresh(path, cache) == read_roster(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[: b.rindex(b"\n", 0, len(b) - 1) + 1],  # the last person cut off at a line end
        lambda b: b.replace("张伟".encode(), "张卫".encode(), 1),  # a name changed, still valid
        lambda b: b[: b.index(b"\n") + 1] + b[b.index(b"\n", b.index(b"\n") + 1) + 1 :],
        lambda b: b + b'{"person_id":"9999"}\n',  # one more line
    ],
    ids=["cut-at-line-end", "name-changed", "first-person-gone", "line-added"],
)
def test_a_cache_that_still_parses_but_was_altered_is_not_served(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    path, cache = write_xlsx(tmp_path / "名单.xlsx", sample_rows()), tmp_path / "cache"
    _fresh(path, cache)
    stored = cache.read_bytes()
    cache.write_bytes(damage(stored))
    assert cache.read_bytes() != stored
    assert _fresh(path, cache) == read_roster(path)
    assert cache.read_bytes() == stored  # replaced by a good one


def test_a_roster_with_problems_is_refused_every_time_and_never_cached(tmp_path: Path) -> None:
    rows = sample_rows()
    rows[2][2] = "未知"
    path, cache = write_xlsx(tmp_path / "名单.xlsx", rows), tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(RosterError):
            _fresh(path, cache)
    assert not cache.exists()


@pytest.mark.parametrize("count", [0, 1, 2, 7])
def test_the_rosters_fingerprint_is_the_hash_of_its_json(count: int) -> None:
    """Settling keeps the fingerprint of the roster it settled with; hashed a person at a
    time, it must stay the hash of the roster's JSON it has always been."""
    import hashlib

    from pydantic import TypeAdapter

    from pipeline.models import Person
    from pipeline.records import RosterIndex
    from pipeline.sample import sample_people

    people = sample_people()[:count]
    expected = hashlib.sha256(TypeAdapter(list[Person]).dump_json(people)).hexdigest()
    assert RosterIndex(people).fingerprint == expected


_cell_value = st.one_of(
    st.none(),
    st.text(alphabet="张伟 \u3000\n&<>Ab1.", max_size=8),
    st.sampled_from(["_x005F_x000D_", "a x005F_b", " 前后有空格 ", "0007", "=SUM(A1)"]),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=date(1950, 1, 1), max_value=date(2060, 12, 31)),
)
_number_format = st.sampled_from(["General", "General", "General", "0000", "0", "0.00", "@"])
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _with_shared_strings(path: Path) -> None:
    """The workbook as Excel saves it: every inline string moved to a shared-string table
    (openpyxl writes inline strings only)."""
    with zipfile.ZipFile(path) as package:
        parts = {item.filename: package.read(item) for item in package.infolist()}
    strings: list[str] = []

    def shared(match: re.Match[str]) -> str:
        strings.append(match.group(2))
        return f'<c {match.group(1)}t="s"><v>{len(strings) - 1}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(
        r'<c ([^>]*?)t="inlineStr"><is>(.*?)</is></c>', shared, parts[sheet].decode(), flags=re.S
    ).encode()
    items = "".join(f"<si>{s}</si>" for s in strings)
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{_MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode()
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = (
        parts[rels]
        .decode()
        .replace(
            "</Relationships>",
            '<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        .encode()
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(_cell_value, max_size=6), max_size=8),
    formats=st.lists(_number_format, min_size=6, max_size=6),
    write_only=st.booleans(),
    rich=st.booleans(),
    shared=st.booleans(),
)
@example(rows=[["a"], [], [None, "b"]], formats=["General"] * 6, write_only=False, rich=False,
         shared=True)  # fmt: skip
@example(rows=[["_x005F_x000D_", 123456789012345678]], formats=["General"] * 6,
         write_only=False, rich=False, shared=True)  # fmt: skip
def test_plain_workbooks_are_read_as_openpyxl_reads_them(
    tmp_path: Path,
    rows: list[list[object]],
    formats: list[str],
    write_only: bool,
    rich: bool,
    shared: bool,
) -> None:
    """The roster's own reading of a plain workbook (``readers.workbook``) gives exactly the
    rows openpyxl gives, or hands the workbook to openpyxl: shared strings (Excel's way) and
    inline strings (openpyxl's write-only way, no dimension), gaps between rows and cells,
    numbers under General, "0000" and other formats, dates, booleans, text with spaces,
    newlines, markup characters and openpyxl's x005F_ escape, a rich-text first cell; the
    strings inline (openpyxl's way) or in a shared-string table (Excel's)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from pipeline.readers.workbook import NotPlain

    workbook = Workbook(write_only=write_only)
    sheet = workbook.create_sheet() if write_only else workbook.active
    assert sheet is not None
    for number, values in enumerate(rows):
        if write_only:
            cells = []
            for column, value in enumerate(values):
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell.number_format = formats[column]
                cells.append(cell)
            sheet.append(cells)
        else:
            for column, value in enumerate(values, start=1):
                if value is None:
                    continue
                target = sheet.cell(row=number + 1, column=column, value=value)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    target.number_format = formats[column - 1]
    if rich and not write_only and rows:
        sheet.cell(row=1, column=1).value = CellRichText(
            "张", TextBlock(InlineFont(b=True), "伟"), " 编号"
        )
    path = tmp_path / f"r{len(list(tmp_path.iterdir()))}.xlsx"
    workbook.save(path)
    if shared:
        _with_shared_strings(path)
    expected = list(roster_module._read_xlsx_rows(path))
    try:
        found = list(roster_module._plain_xlsx_rows(path))
    except NotPlain:
        event("read by openpyxl")  # the same rows by definition
        return
    event("read plainly")
    assert found == expected


def test_ordinary_rosters_take_the_plain_reading(tmp_path: Path) -> None:
    """Not vacuous: a roster as Excel saves it (shared strings, a dimension, ids under
    "0000") and one as openpyxl's write-only mode writes it (inline strings, no dimension)
    are read by ``readers.workbook``, and give openpyxl's rows."""
    plain = write_xlsx(tmp_path / "excel.xlsx", sample_rows(), id_format="0000")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in sample_rows():
        sheet.append(row)
    workbook.save(tmp_path / "stream.xlsx")
    for path in (plain, tmp_path / "stream.xlsx"):
        rows = list(roster_module._plain_xlsx_rows(path))
        assert rows == list(roster_module._read_xlsx_rows(path))
        assert len(rows) == len(sample_rows())


def test_numbers_other_programs_write_are_read_as_openpyxl_reads_them(tmp_path: Path) -> None:
    """openpyxl writes a long integer as a float; another program may write all its digits,
    and a small one as "7.0" or "7E0": read as openpyxl reads them (an 18-digit id keeps its
    digits, "7.0" is 7)."""
    path = write_xlsx(tmp_path / "r.xlsx", [["编号", "a", "b", "c"], [7, 8, 9, 10]])
    with zipfile.ZipFile(path) as package:
        parts = {item.filename: package.read(item) for item in package.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    for small, written in ((7, "123456789012345678"), (8, "7.0"), (9, "7E0"), (10, "-0")):
        parts[sheet] = parts[sheet].replace(
            f"<v>{small}</v>".encode(), f"<v>{written}</v>".encode()
        )
    with zipfile.ZipFile(path, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    rows = list(roster_module._plain_xlsx_rows(path))
    assert rows == list(roster_module._read_xlsx_rows(path))
    assert rows[1].cells == ["123456789012345678", "7", "7", "0"]


def test_a_stale_dimension_does_not_drop_the_people_below_it(tmp_path: Path) -> None:
    """A workbook's declared dimension (``<dimension ref="A1:E2"/>``) can be left over from
    before rows were added by another program; openpyxl's read-only mode stops there, and
    the people below it would be missing from the roster without a word. Both routes read
    every row."""
    path = write_xlsx(tmp_path / "r.xlsx", sample_rows())
    with zipfile.ZipFile(path) as package:
        parts = {item.filename: package.read(item) for item in package.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet], count = re.subn(
        rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:E2"/>', parts[sheet]
    )
    assert count == 1
    with zipfile.ZipFile(path, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    expected = len(sample_rows()) - 1
    assert len(read_roster(path)) == expected
    assert list(roster_module._plain_xlsx_rows(path)) == list(roster_module._read_xlsx_rows(path))
    assert len(roster_module._read_roster(path)) == expected


def test_the_plain_reading_never_makes_a_roster_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong in ``readers.workbook`` (here: an attribute missing, as when an
    openpyxl upgrade moves the internals it borrows), the roster is read by openpyxl."""
    from pipeline.readers import workbook

    path = write_xlsx(tmp_path / "r.xlsx", sample_rows())
    expected = read_roster(path)

    def moved(*_: object) -> None:
        raise AttributeError("numFmtId")

    monkeypatch.setattr(workbook, "_cell", moved)
    (tmp_path / "again.xlsx").write_bytes(path.read_bytes())
    assert read_roster(tmp_path / "again.xlsx") == expected
