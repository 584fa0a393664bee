"""The workbench in a real browser (Debian's chromium driven by Playwright): first start,
the progress page on a 1366×768 screen, uploading files and seeing each outcome, a unit
link — with the Content-Security-Policy in force and no script errors."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill
from .webserver import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
Q4 = Period(year=2026, quarter=4)


def test_a_quarter_in_the_browser(workspace: Workspace, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    generate(workspace, Q4)
    blanks = {p.name[:4]: p for p in workspace.blank_dir(Q4).glob("*/*.docx")}
    for person_id in ("0001", "0002"):
        path = workspace.inbox / f"{person_id}.docx"
        path.write_bytes(fill(blanks[person_id].read_bytes(), MODEST))
    ingest(workspace, received_at=datetime(2027, 1, 5, 9))
    upload = tmp_path / "王芳.docx"
    upload.write_bytes(fill(blanks["0003"].read_bytes(), MODEST))
    junk = tmp_path / "不是记实表.docx"
    junk.write_bytes(b"hello")
    problems: list[str] = []
    with serving(workspace) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("设置人事科的管理密码")
        page.get_by_label("密码（至少 8 位）").fill("kaohe-browser-1")
        page.get_by_label("再输一次").fill("kaohe-browser-1")
        page.get_by_role("button", name="保存并进入").click()
        page.goto(f"{base}/?period=2026Q4")
        expect(page.get_by_role("heading", level=1)).to_have_text("2026年第4季度")
        expect(page.locator("table.grid").first).to_contain_text("城区分局")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1366  # no sideways scrolling on an office screen

        page.get_by_role("link", name="上传交回的表").click()
        page.locator("[data-files]").set_input_files([str(upload), str(junk)])
        results = page.locator("[data-results] tbody tr")
        expect(results).to_have_count(2, timeout=30_000)
        expect(results.nth(0)).to_contain_text("接收")
        expect(results.nth(0)).to_contain_text("0003 王芳")
        expect(results.nth(1)).to_contain_text("拒收")

        page.goto(f"{base}/?period=2026Q4")
        page.get_by_role("button", name="异常报告和汇总表").click()
        expect(page.locator("[data-state]")).to_have_text("已完成", timeout=30_000)
        expect(page.locator("[data-links]")).to_contain_text("汇总表.xlsx")

        page.goto(f"{base}/links?period=2026Q4")
        page.get_by_label("考核单位").select_option("泽州分局")
        page.get_by_role("button", name="生成链接").click()
        link = page.locator("input.copy").input_value()
        liaison = browser.new_page(viewport={"width": 1366, "height": 768})
        liaison.on("pageerror", lambda e: problems.append(str(e)))
        liaison.goto(link)
        expect(liaison.get_by_role("heading", level=1)).to_contain_text("泽州分局")
        expect(liaison.locator("table.grid").first).not_to_contain_text("城区分局")
        browser.close()
    assert problems == []
