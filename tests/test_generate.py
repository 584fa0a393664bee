"""Blank-sheet generation: the printed values in the right cells, bundles per unit, re-runs."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.errors import KaoheError, RosterError
from pipeline.identity import form_code
from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.workspace import Workspace

from .conftest import sample_rows, write_csv, write_xlsx
from .sheets import (
    DUTIES,
    GENDER,
    NAME,
    UNIT_POSITION,
    cell,
    custom_properties,
    footer_text,
    open_sheet,
)

Q4 = Period(year=2026, quarter=4)


def sheet_for(workspace: Workspace, person_id: str) -> Path:
    [path] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
    return path


def test_one_sheet_per_person_filed_by_assessing_unit(workspace: Workspace) -> None:
    result = generate(workspace, Q4)
    assert len(result.sheets) == 16
    blank = workspace.blank_dir(Q4)
    assert sorted(p.relative_to(blank).as_posix() for p in blank.glob("*/*.docx"))[:3] == [
        "办公室/0011_郑丽_2026Q4_平时考核记实表.docx",
        "办公室/0013_韩雪_2026Q4_平时考核记实表.docx",
        "城区分局/0001_张伟_2026Q4_平时考核记实表.docx",
    ]
    assert result.sheets[0].as_json() == {
        "person_id": "0001",
        "name": "张伟",
        "unit": "城区分局",
        "file": "outbox/2026Q4/blank/城区分局/0001_张伟_2026Q4_平时考核记实表.docx",
    }
    assert all((workspace.root / s.file).is_file() for s in result.sheets)
    # the sheets are made as they are read: by index (from either end) and by slice too
    every = list(result.sheets)
    assert {s.file for s in every} == {
        p.relative_to(workspace.root).as_posix() for p in blank.glob("*/*.docx")
    }
    assert [result.sheets[i] for i in range(-16, 16)] == every + every
    assert result.sheets[3:9:2] == every[3:9:2] and result.sheets[::-1] == every[::-1]
    for outside in (16, -17):
        with pytest.raises(IndexError):
            result.sheets[outside]


def test_printed_values_in_the_right_cells(workspace: Workspace) -> None:
    generate(workspace, Q4)
    sheet = open_sheet(sheet_for(workspace, "0001"))
    assert cell(sheet, *NAME) == "张伟"
    assert cell(sheet, *GENDER) == "男"
    assert cell(sheet, *UNIT_POSITION) == "城区分局 副局长"
    assert cell(sheet, *DUTIES) == "建设项目环评审批、排污许可"
    assert sheet.paragraphs[1].text == "（2026年第4季度）"
    assert [cell(sheet, r, 0) for r in (2, 3, 4)] == [
        "第一月\n（10月）",
        "第二月\n（11月）",
        "第三月\n（12月）",
    ]
    # typing areas are empty: nothing to delete, nothing that reads back as data
    assert [cell(sheet, r, 2) for r in (2, 3, 4)] == ["", "", ""]
    assert [cell(sheet, 6, c) for c in (1, 2, 4, 5)] == ["", "", "", ""]
    assert f"表码：{form_code(Q4, '0001')}" in footer_text(sheet)


def test_name_with_middle_dot(workspace: Workspace) -> None:
    generate(workspace, Q4)
    path = sheet_for(workspace, "0006")
    assert path.name == "0006_迪丽努尔·买买提_2026Q4_平时考核记实表.docx"
    assert cell(open_sheet(path), *NAME) == "迪丽努尔·买买提"


def test_two_people_with_the_same_name_get_their_own_sheets(workspace: Workspace) -> None:
    generate(workspace, Q4)
    first, second = (
        open_sheet(sheet_for(workspace, "0001")),
        open_sheet(sheet_for(workspace, "0007")),
    )
    assert (cell(first, *NAME), cell(second, *NAME)) == ("张伟", "张伟")
    assert cell(first, *UNIT_POSITION) == "城区分局 副局长"
    assert cell(second, *UNIT_POSITION) == "综合行政执法队 执法一科科长"
    assert form_code(Q4, "0001") in footer_text(first)
    assert form_code(Q4, "0007") in footer_text(second)


def test_seconded_person_is_filed_under_host_unit_with_home_unit_shown(
    workspace: Workspace,
) -> None:
    generate(workspace, Q4)
    path = sheet_for(workspace, "0012")
    assert path.parent.name == "泽州分局"
    assert cell(open_sheet(path), *UNIT_POSITION) == "办公室 一级主任科员（挂职泽州分局）"


def test_empty_duties_leaves_the_cell_empty_to_type_in(workspace: Workspace) -> None:
    generate(workspace, Q4)
    assert cell(open_sheet(sheet_for(workspace, "0009")), *DUTIES) == ""


def test_gbk_csv_roster(workspace: Workspace, tmp_path: Path) -> None:
    roster = write_csv(tmp_path / "名单.csv", sample_rows(), "gbk")
    result = generate(workspace, Q4, roster=roster)
    assert len(result.sheets) == 16
    sheet = open_sheet(sheet_for(workspace, "0006"))
    assert cell(sheet, *NAME) == "迪丽努尔·买买提"
    assert cell(sheet, *UNIT_POSITION) == "泽州分局 一级科员"


def test_each_unit_zip_holds_exactly_its_own_people(workspace: Workspace) -> None:
    result = generate(workspace, Q4)
    expected: dict[str, set[str]] = {}
    for sheet in result.sheets:
        expected.setdefault(sheet.unit, set()).add(Path(sheet.file).name)
    assert set(result.bundles) == {"城区分局", "泽州分局", "综合行政执法队", "办公室", "大气环境科"}
    for unit, bundle in result.bundles.items():
        with zipfile.ZipFile(workspace.root / bundle) as archive:
            assert set(archive.namelist()) == expected[unit]
            assert all(info.flag_bits & 0x800 for info in archive.infolist())
            for info in archive.infolist():
                person_id = info.filename.split("_")[0]
                assert form_code(Q4, person_id) in footer_text(open_sheet(archive.read(info)))
    with zipfile.ZipFile(workspace.root / result.bundles["泽州分局"]) as archive:
        assert "0012_冯军_2026Q4_平时考核记实表.docx" in archive.namelist()
    with zipfile.ZipFile(workspace.root / result.bundles["办公室"]) as archive:
        assert not any(n.startswith("0012_") for n in archive.namelist())


def test_identity_properties_per_person(workspace: Workspace) -> None:
    generate(workspace, Q4)
    assert f"<vt:lpwstr>{form_code(Q4, '0008')}</vt:lpwstr>" in custom_properties(
        sheet_for(workspace, "0008")
    )


def test_distribution_list(workspace: Workspace) -> None:
    generate(workspace, Q4)
    book = load_workbook(workspace.blank_dir(Q4) / "分发清单.xlsx")
    sheet = book["分发清单"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "序号",
        "考核单位",
        "编号",
        "姓名",
        "性别",
        "单位",
        "职务",
        "分管领导",
        "挂职单位",
        "记实表文件",
        "分发包",
    )
    assert rows[1] == (
        1,
        "城区分局",
        "0001",
        "张伟",
        "男",
        "城区分局",
        "副局长",
        "王建国",
        None,
        "0001_张伟_2026Q4_平时考核记实表.docx",
        "城区分局.zip",
    )
    seconded = next(r for r in rows if r[2] == "0012")
    assert seconded[1] == "泽州分局" and seconded[5] == "办公室" and seconded[8] == "泽州分局"
    assert len(rows) == 17
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K17"
    assert sheet.print_title_rows == "$1:$1"
    per_unit = list(book["按单位"].iter_rows(values_only=True))
    assert per_unit[2] == ("泽州分局", 4, "王建国、刘志强", 1, "泽州分局.zip")


def test_rerun_drops_people_who_left_and_gives_identical_files(
    workspace: Workspace, tmp_path: Path
) -> None:
    generate(workspace, Q4)
    blank = workspace.blank_dir(Q4)
    before = {p.relative_to(blank): p.read_bytes() for p in blank.rglob("*") if p.is_file()}
    generate(workspace, Q4)
    again = {p.relative_to(blank): p.read_bytes() for p in blank.rglob("*") if p.is_file()}
    assert again == before
    rows = [r for r in sample_rows() if r[0] != "0002"]
    generate(workspace, Q4, roster=write_xlsx(tmp_path / "r.xlsx", rows))
    assert not list(blank.glob("*/0002_*"))
    with zipfile.ZipFile(blank / "城区分局.zip") as archive:
        assert not any(n.startswith("0002_") for n in archive.namelist())
    assert not [p for p in workspace.outbox.rglob("*") if ".kaohe-tmp-" in p.name]


def test_one_unit_only(workspace: Workspace) -> None:
    generate(workspace, Q4)
    result = generate(workspace, Q4, unit="综合行政执法队")
    assert [s.person.person_id for s in result.sheets] == ["0007", "0008", "0009", "0010"]
    assert (
        result.sheets[0].file
        == "outbox/2026Q4/blank/综合行政执法队/0007_张伟_2026Q4_平时考核记实表.docx"
    )
    assert result.distribution_list == "outbox/2026Q4/blank/分发清单_综合行政执法队.xlsx"
    assert (workspace.blank_dir(Q4) / "城区分局.zip").is_file()  # other units untouched
    with zipfile.ZipFile(workspace.blank_dir(Q4) / "综合行政执法队.zip") as archive:
        assert len(archive.namelist()) == 4


def test_unknown_unit_lists_the_known_ones(workspace: Workspace) -> None:
    with pytest.raises(
        KaoheError, match="名单中没有考核单位“执法队”。名单中的单位有：城区分局、泽州分局"
    ):
        generate(workspace, Q4, unit="执法队")


def test_bad_roster_generates_nothing(workspace: Workspace, tmp_path: Path) -> None:
    rows = [*sample_rows(), ["0001", "重复", "男", "城区分局", "科员", "", "", ""]]
    with pytest.raises(RosterError):
        generate(workspace, Q4, roster=write_xlsx(tmp_path / "bad.xlsx", rows))
    assert not workspace.period_dir(Q4).exists()


def test_bad_roster_leaves_the_previous_generation_intact(
    workspace: Workspace, tmp_path: Path
) -> None:
    generate(workspace, Q4)
    before = sorted(workspace.blank_dir(Q4).rglob("*.docx"))
    with pytest.raises(RosterError):
        generate(
            workspace, Q4, roster=write_xlsx(tmp_path / "bad.xlsx", [["编号", "姓名"], ["1", "x"]])
        )
    assert sorted(workspace.blank_dir(Q4).rglob("*.docx")) == before


def test_sheets_are_private_to_the_owner(workspace: Workspace) -> None:
    generate(workspace, Q4)
    path = sheet_for(workspace, "0001")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


class Recorder:
    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, count: int = 1) -> None:
        self.done += count


def test_progress_is_reported_per_sheet(workspace: Workspace) -> None:
    recorder = Recorder()
    generate(workspace, Q4, progress=recorder)
    assert (recorder.total, recorder.done) == (16, 16)


def _footer_qr(sheet: bytes) -> str:
    import io
    import zipfile

    import zxingcpp
    from PIL import Image

    from pipeline.template import qr_parts

    with zipfile.ZipFile(io.BytesIO(sheet)) as package:
        parts = {n: package.read(n) for n in package.namelist()}
    [part] = qr_parts(parts)
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(parts[part])).convert("L"))
    return str(found.text)


def test_each_sheet_carries_its_form_code_as_a_qr_code_in_the_footer(
    workspace: Workspace,
) -> None:
    from pipeline.identity import form_code

    generate(workspace, Q4)
    for person_id in ("0001", "0012"):  # 0012 is seconded: filed under the host unit
        [sheet] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        assert _footer_qr(sheet.read_bytes()) == form_code(Q4, person_id)


def test_a_template_rendered_per_person_also_stamps_each_qr_code(workspace: Workspace) -> None:
    from pipeline.identity import form_code
    from pipeline.sample import sample_people
    from pipeline.template import SheetTemplate

    prepared = SheetTemplate.load(workspace.template_path).prepare(Q4)
    prepared.fast = False  # the slow path: docxtpl renders each person
    assert _footer_qr(prepared.render(sample_people()[2])) == form_code(Q4, "0003")


def _outbox(workspace: Workspace) -> dict[str, bytes]:
    return {
        p.relative_to(workspace.outbox).as_posix(): p.read_bytes()
        for p in sorted(workspace.outbox.rglob("*"))
        if p.is_file()
    }


#: Rendering in worker processes needs them forked (they inherit the test's patches).
forked_workers = pytest.mark.skipif(
    __import__("multiprocessing").get_start_method() != "fork", reason="renders in forked workers"
)


def _render_in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.stages import generate as stage

    monkeypatch.setattr(stage, "PARALLEL_FROM", 2)
    monkeypatch.setattr("os.cpu_count", lambda: 2)


@forked_workers
def test_rendering_in_worker_processes_gives_the_same_files(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate(workspace, Q4)
    alone = _outbox(workspace)
    _render_in_workers(monkeypatch)
    generate(workspace, Q4)
    assert _outbox(workspace) == alone and len(alone) > 16


@forked_workers
@pytest.mark.parametrize(
    ("failure", "said"),
    [("dies", "渲染进程异常退出"), ("raises", "出错（OSError：磁盘已满）")],
)
def test_a_render_process_that_fails_writes_nothing(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, failure: str, said: str
) -> None:
    import os

    from pipeline.template import PreparedSheet

    generate(workspace, Q4)
    before = _outbox(workspace)
    real = PreparedSheet.render

    def render(self: PreparedSheet, person: object) -> bytes:
        if getattr(person, "person_id", "") == "0009":
            if failure == "dies":
                os._exit(139)
            raise OSError("磁盘已满")
        return real(self, person)  # type: ignore[arg-type]

    monkeypatch.setattr(PreparedSheet, "render", render)
    _render_in_workers(monkeypatch)
    with pytest.raises(KaoheError, match=said) as raised:
        generate(workspace, Q4)
    assert "没有写出任何文件" in str(raised.value)
    assert _outbox(workspace) == before  # the previous generation stands, untouched
