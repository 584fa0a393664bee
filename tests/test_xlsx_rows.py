"""Data rows written directly as SpreadsheetML are the rows openpyxl writes: the same cells,
values, types and styles, as Excel (here: openpyxl reading the file back) sees them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.writers import xlsx
from pipeline.writers.xlsx import CellValue, Table, workbook_bytes, write_workbook

_TEXT = st.text(
    alphabet=st.sampled_from(
        list("张伟完成检查ab 0123.，；：（）&<>\"'\t\n\r\u3000\u00a0\u2028\u0085=+-@#")
    ),
    max_size=12,
)
_VALUE = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(["=SUM(A1)", "#N/A", "#DIV/0!", "+86", "-1", " 前后空格 ", "@x"]),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2100, 1, 1)),
)


def _both(tables: Sequence[Table], monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    fast = workbook_bytes(tables)
    with monkeypatch.context() as patch:
        patch.setattr(xlsx, "FAST_ROWS", False)
        slow = workbook_bytes(tables)
    return fast, slow


def _cells(data: bytes) -> list[list[tuple[object, ...]]]:
    book = load_workbook(io.BytesIO(data))
    found = []
    for sheet in book.worksheets:
        found.append(
            [
                (
                    sheet.title,
                    cell.coordinate,
                    cell.value,
                    cell.data_type,
                    cell.number_format,
                    *(repr(s) for s in (cell.font, cell.border, cell.fill, cell.alignment)),
                    repr(cell.protection),
                )
                for row in sheet.iter_rows()
                for cell in row
            ]
            + [
                (
                    sheet.freeze_panes,
                    sheet.auto_filter.ref,
                    sheet.print_title_rows,
                    sheet.page_setup.orientation,
                    sheet.max_row,
                    sheet.max_column,
                    tuple((k, d.width) for k, d in sorted(sheet.column_dimensions.items())),
                )
            ]
        )
    return found


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.lists(_VALUE, min_size=1, max_size=6), max_size=12), columns=st.integers(1, 6)
)
def test_direct_rows_are_the_rows_openpyxl_writes(
    rows: list[list[CellValue]], columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = [f"列{i}" for i in range(columns)]
    tables = [Table("甲", headers, rows), Table("乙", headers, rows[::-1], landscape=False)]
    fast, slow = _both(tables, monkeypatch)
    assert _cells(fast) == _cells(slow)


def test_text_cut_at_the_cell_limit_and_charts_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    long = "长" * (xlsx.CELL_LIMIT + 10)
    rows: list[list[CellValue]] = [["单位甲", 3, 1, 2], ["单位乙", 0, 0, 0], ["合计", 3, 1, 2]]
    tables = [
        Table(
            "统计",
            ["单位", "好", "较好", "一般"],
            rows,
            chart_title="等次",
            chart_columns=(2, 4),
            chart_rows=2,
        ),
        Table("长文", ["文"], [[long]]),
    ]
    fast, slow = _both(tables, monkeypatch)
    assert _cells(fast) == _cells(slow)
    assert load_workbook(io.BytesIO(fast))["长文"]["A2"].value.endswith(xlsx.CUT_NOTE)
    names = zipfile.ZipFile(io.BytesIO(fast)).namelist()
    assert any(n.startswith("xl/charts/") for n in names)


@pytest.mark.parametrize("text", ["a\x01b", "a\ufffeb", "a\ud800b"])
def test_text_a_sheet_cannot_hold_fails_as_openpyxl_fails(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = [Table("t", ["h"], [["ok"], [text]])]
    with pytest.raises(Exception) as slow, monkeypatch.context() as patch:
        patch.setattr(xlsx, "FAST_ROWS", False)
        workbook_bytes(table)
    with pytest.raises(type(slow.value)):
        workbook_bytes(table)


def test_same_data_same_bytes() -> None:
    tables = [Table("t", ["a", "b"], [["张伟", 1], ["李娜", date(2027, 1, 4)]])]
    assert workbook_bytes(tables) == workbook_bytes(tables)


def test_a_workbook_written_part_by_part_is_the_same_bytes(tmp_path: Path) -> None:
    """Written to its file a part at a time (never whole in memory), a workbook is the same
    bytes as the one made in memory; one that fails half way leaves no file and no
    temporary file behind, and the one there before stays as it was."""
    tables = [
        Table("全部", ["a", "b"], [[f"张伟{i}", i] for i in range(500)], chart_title="图",
              chart_columns=(2, 2)),
        Table("说明", ["项目"], [["x"]]),
    ]  # fmt: skip
    path = tmp_path / "汇总表.xlsx"
    write_workbook(path, tables)
    assert path.read_bytes() == workbook_bytes(tables)
    before = path.read_bytes()
    with pytest.raises(ValueError):  # a cell a worksheet cannot hold, after other parts
        write_workbook(path, [*tables, Table("坏", ["h"], [["ok"], ["a\ud800b"]])])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["汇总表.xlsx"]


def test_typed_error_words_stay_text() -> None:
    book = load_workbook(io.BytesIO(workbook_bytes([Table("t", ["h"], [["#N/A"]])])))
    assert (book["t"]["A2"].value, book["t"]["A2"].data_type) == ("#N/A", "s")
