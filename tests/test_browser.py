"""The workbench in a real browser (Debian's chromium driven by Playwright), as the issue
asks: HR sets the password and logs in, generates and downloads a unit bundle; a unit link
uploads three returns (one bad) and sees each outcome; HR reviews a scanned page in the queue
and saves a grade; the progress page updates; the report downloads — on a 1366×768 screen,
with the Content-Security-Policy in force and no script errors."""

from __future__ import annotations

import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill
from .pdfs import reportlab_sheet, scanned
from .webserver import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")
Q4 = Period(year=2026, quarter=4)
PASSWORD = "kaohe-browser-1"


def test_a_quarter_in_the_browser(workspace: Workspace, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    (workspace.inbox / "扫描_陈静.pdf").write_bytes(scanned(reportlab_sheet()))
    ingest(workspace, period=Q4, received_at=datetime(2027, 1, 5, 9))
    problems: list[str] = []
    with serving(workspace) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(
            viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True
        )
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        # first start: the password, then the progress page
        page.goto(f"{base}/")
        page.get_by_label("密码（至少 8 位）").fill(PASSWORD)
        page.get_by_label("再输一次").fill(PASSWORD)
        page.get_by_role("button", name="保存并进入").click()
        page.goto(f"{base}/?period=2026Q4")
        expect(page.get_by_role("heading", level=1)).to_have_text("2026年第4季度")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366

        # generate, then download 泽州分局's bundle
        page.get_by_role("button", name="生成空白表").click()
        expect(page.locator("[data-state]")).to_have_text("已完成", timeout=60_000)
        with page.expect_download() as download:
            page.get_by_role("link", name="泽州分局 分发包").click()
        bundle = tmp_path / "泽州分局.zip"
        download.value.save_as(bundle)
        with zipfile.ZipFile(bundle) as opened:
            members = {
                Path(n).name[:4]: opened.read(n) for n in opened.namelist() if n.endswith(".docx")
            }
        assert sorted(members) == ["0004", "0005", "0006", "0012"]

        # a unit link: three returns, one of them no sheet at all
        page.goto(f"{base}/links?period=2026Q4")
        page.get_by_label("考核单位").select_option("泽州分局")
        page.get_by_role("button", name="生成链接").click()
        link = page.locator("input.copy").input_value()
        files = []
        for person_id in ("0004", "0006"):
            path = tmp_path / f"{person_id}.docx"
            path.write_bytes(fill(members[person_id], MODEST))
            files.append(str(path))
        bad = tmp_path / "照片说明.docx"
        bad.write_bytes(b"not a sheet")
        files.append(str(bad))
        liaison = browser.new_page(viewport={"width": 1366, "height": 768})
        liaison.on("pageerror", lambda e: problems.append(str(e)))
        liaison.goto(link)
        expect(liaison.get_by_role("heading", level=1)).to_contain_text("泽州分局")
        liaison.locator("[data-files]").set_input_files(files)
        rows = liaison.locator("[data-results] tbody tr")
        expect(rows).to_have_count(3, timeout=60_000)
        expect(rows.nth(0)).to_contain_text("接收")
        expect(rows.nth(1)).to_contain_text("接收")
        expect(rows.nth(2)).to_contain_text("拒收")

        # HR reviews the scanned page and saves a grade
        page.goto(f"{base}/review?period=2026Q4")
        scan = page.locator("table.grid tbody tr", has_text="扫描_陈静")
        scan.get_by_role("link", name="核对").click()
        expect(page.locator(".original img").first).to_be_visible()
        page.get_by_label("编号").fill("0005")
        page.get_by_label("第一月工作纪实").fill("大气污染源排查。")
        page.get_by_label("第二月工作纪实").fill("攻坚督查。")
        page.get_by_label("第三月工作纪实").fill("统计报表。")
        page.get_by_label("本季度自我评价").fill("按时完成任务。")
        page.get_by_label("签字日期").fill("2027年1月3日")
        page.get_by_label("较好", exact=True).check()
        page.get_by_role("button", name="保存（按记实表规则校验）").click()
        expect(page.locator(".notice")).to_contain_text("已录入为 0005 陈静 的提交")

        # the progress page shows the three returns; the report downloads
        page.goto(f"{base}/?period=2026Q4")
        zezhou = page.locator("table.grid tbody tr", has_text="泽州分局").first
        expect(zezhou).to_contain_text("4")  # 应交 4
        expect(zezhou.locator("td").nth(2)).to_have_text("3")  # 已交 3
        page.get_by_role("button", name="异常报告和汇总表").click()
        expect(page.locator("[data-state]")).to_have_text("已完成", timeout=60_000)
        with page.expect_download() as download:
            page.get_by_role("link", name="汇总表.xlsx").click()
        assert download.value.suggested_filename == "汇总表.xlsx"
        browser.close()
    assert problems == []
