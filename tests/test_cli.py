"""The kaohe command end to end on temp workspaces: exact stdout, Chinese errors, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import run

from .conftest import kaohe, sample_rows, write_xlsx


def test_init_creates_a_workspace_and_keeps_existing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "W"
    code, out, _ = kaohe(capsys, "--workspace", str(ws), "init")
    assert code == 0
    assert {p.name for p in ws.iterdir()} == {
        "kaohe.toml",
        "roster.xlsx",
        "inbox",
        "outbox",
        "templates",
    }
    assert "  新建  roster.xlsx" in out
    (ws / "roster.xlsx").write_bytes(b"HR's own roster")
    code, out, _ = kaohe(capsys, "--workspace", str(ws), "init")
    assert code == 0
    assert "  保留  roster.xlsx（已存在，未改动）" in out
    assert (ws / "roster.xlsx").read_bytes() == b"HR's own roster"


def test_generate_json_prints_only_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "W"
    kaohe(capsys, "-w", str(ws), "init")
    code, out, err = kaohe(
        capsys, "-w", str(ws), "generate", "--period", "2026年第四季度", "--json"
    )
    assert code == 0
    listing = json.loads(out)
    assert len(listing) == 16
    assert listing[5] == {
        "person_id": "0006",
        "name": "迪丽努尔·买买提",
        "unit": "泽州分局",
        "file": "outbox/2026Q4/blank/泽州分局/0006_迪丽努尔·买买提_2026Q4_平时考核记实表.docx",
    }
    assert all((ws / item["file"]).is_file() for item in listing)
    assert err == ""


def test_generate_human_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "W"
    kaohe(capsys, "-w", str(ws), "init")
    code, out, _ = kaohe(capsys, "-w", str(ws), "generate", "-p", "2026Q4", "--unit", "办公室")
    assert code == 0
    assert "已生成 2026年第4季度 记实表 2 份，1 个单位" in out
    assert "outbox/2026Q4/blank/办公室.zip" in out


def test_bad_roster_is_one_clear_message_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "W"
    kaohe(capsys, "-w", str(ws), "init")
    rows = [*sample_rows(), ["0003", "王五", "未知", "城区分局", "科员", "", "", ""]]
    write_xlsx(ws / "roster.xlsx", rows)
    code, out, err = kaohe(capsys, "-w", str(ws), "generate", "-p", "2026Q4")
    assert code == 1
    assert out == ""
    assert err == (
        "错误：名单有 2 处问题，未生成任何文件：\n"
        "  - roster.xlsx 第18行「性别」列：“未知”不是 男 或 女\n"
        "  - roster.xlsx 第18行「编号」列：编号 0003 与第4行重复\n"
    )
    assert "Traceback" not in err


def test_bad_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kaohe(capsys, "-w", str(tmp_path), "generate", "--period", "2026Q5")
    assert code == 1
    assert err == "错误：无法识别的考核期间“2026Q5”：请写成 2026Q4、2026-Q4 或 2026年第四季度\n"


def test_missing_roster_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kaohe(capsys, "-w", str(tmp_path), "generate", "-p", "2026Q4")
    assert code == 1
    assert err.startswith("错误：找不到名单文件：")
    assert "kaohe init" in err


def test_usage_errors_are_in_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = kaohe(capsys, "generate", "--perod", "2026Q4")
    assert code == 2
    assert err.startswith("错误：没有这个选项：--perod，是不是要用 --period？")
    assert "运行 kaohe --help 查看用法。" in err


def test_file_locked_by_excel_is_reported_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "W"
    kaohe(capsys, "-w", str(ws), "init")

    def locked(*_: object, **__: object) -> None:
        raise PermissionError(13, "Permission denied", str(ws / "roster.xlsx"))

    monkeypatch.setattr("pipeline.roster._read_roster", locked)
    code, _, err = kaohe(capsys, "-w", str(ws), "generate", "-p", "2026Q4")
    assert code == 1
    assert err == (
        f"错误：无法写入或读取 {ws / 'roster.xlsx'}：文件可能正在被 Excel/WPS/Word 打开，"
        "或没有权限。请关闭该文件后重试。\n"
    )


def test_unexpected_failure_is_one_line_and_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    def broken(*_: object, **__: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("pipeline.roster._read_roster", broken)
    code, _, err = kaohe(capsys, "generate", "-p", "2026Q4")
    assert code == 2
    assert err.startswith(
        "错误：程序内部错误（ZeroDivisionError: division by zero）。详细信息已写入"
    )
    assert "Traceback" not in err
    assert "ZeroDivisionError" in (tmp_path / "kaohe-错误日志.txt").read_text(encoding="utf-8")


def test_demo_runs_the_whole_quarter_in_any_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = kaohe(capsys, "demo", "--period", "2026Q4")
    assert code == 0
    demo = tmp_path / "kaohe-demo"
    assert len(list((demo / "outbox/2026Q4/blank").glob("*/*.docx"))) == 16
    assert (
        "回收示例文件（inbox/示例回收/，含逾期、写错的数字、一般等次、长期病假、重复提交、压缩包、扫描件和手机照片）：接收 12，被替代 1，拒收 0，跳过 0"
        in out
    )
    assert f"  异常报告（网页）：{demo}/outbox/2026Q4/report/异常报告.html" in out
    assert f"  归档：            {demo}/outbox/2026Q4/archive/2026Q4_平时考核归档.zip" in out
    archive = (demo / "outbox/2026Q4/archive/2026Q4_平时考核归档.zip").read_bytes()
    code, out, _ = kaohe(capsys, "demo", "--period", "2026Q4")
    assert code == 0 and "沿用已有工作区" in out
    assert (demo / "outbox/2026Q4/archive/2026Q4_平时考核归档.zip").read_bytes() == archive


def test_bad_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "kaohe.toml").write_text('[roster]\npaht = "x.xlsx"\n', encoding="utf-8")
    code, _, err = kaohe(capsys, "-w", str(tmp_path), "generate", "-p", "2026Q4")
    assert code == 1
    assert "kaohe.toml 中有无法识别的设置：roster.paht" in err


def test_outputs_holding_personal_data_are_owner_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import stat

    if os.name != "posix":
        pytest.skip("file modes are POSIX")
    demo = tmp_path / "demo"
    assert run(["-w", str(demo), "demo", "--period", "2026Q4"]) == 0
    period = demo / "outbox" / "2026Q4"
    modes = {
        p.relative_to(demo).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in [period, *period.rglob("*")]
    }
    assert {m for p, m in modes.items() if (demo / p).is_dir()} == {0o700}
    assert {m for p, m in modes.items() if (demo / p).is_file()} == {0o600}
    assert stat.S_IMODE((demo / "kaohe.sqlite").stat().st_mode) == 0o600


def test_help_is_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("用法： kaohe [OPTIONS] COMMAND [ARGS]...")
    assert "\n选项:\n" in out
    assert "显示本帮助并退出。" in out and "Show this message" not in out
