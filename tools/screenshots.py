"""Screenshots of the workbench for the README (docs/*.png), on the demo quarter, in Debian's
chromium at an office screen's size: ``python tools/screenshots.py``."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.demo import run_demo  # noqa: E402
from pipeline.models import Period  # noqa: E402
from pipeline.web.store import WebStore  # noqa: E402
from pipeline.workspace import init_workspace  # noqa: E402
from tests.webserver import serving  # noqa: E402

OUT = ROOT / "docs"
PERIOD = Period(year=2026, quarter=4)


def main() -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "demo").workspace
        run_demo(workspace, PERIOD)
        WebStore(workspace.root).set_password("kaohe-demo-1")
        late = next(workspace.blank_dir(PERIOD).glob("*/0003_*.docx"))
        OUT.mkdir(exist_ok=True)
        with serving(workspace) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
            page.goto(f"{base}/login")
            page.screenshot(path=str(OUT / "workbench-login.png"))
            page.get_by_label("管理密码").fill("kaohe-demo-1")
            page.get_by_role("button", name="登录").click()
            page.goto(f"{base}/?period={PERIOD.code}")
            page.screenshot(path=str(OUT / "workbench-progress.png"), full_page=True)
            page.goto(f"{base}/upload?period={PERIOD.code}")
            page.locator("[data-files]").set_input_files([str(late)])
            page.locator("[data-results] tbody tr").first.wait_for()
            page.screenshot(path=str(OUT / "workbench-upload.png"))
            page.goto(f"{base}/person/0007?period={PERIOD.code}")
            page.screenshot(path=str(OUT / "workbench-person.png"))
            page.goto(f"{base}/?period={PERIOD.code}")
            page.get_by_role("button", name="异常报告和汇总表").click()
            page.locator("[data-links] li").first.wait_for()
            page.screenshot(path=str(OUT / "workbench-step.png"))
            page.goto(f"{base}/review?period={PERIOD.code}")
            page.screenshot(path=str(OUT / "workbench-review-queue.png"))
            pdf = page.locator("table.grid tbody tr", has_text=".pdf")
            photo = pdf.first if pdf.count() else page.locator("table.grid tbody tr").first
            photo.get_by_role("link", name="核对").click()
            page.screenshot(path=str(OUT / "workbench-review.png"))
            page.goto(f"{base}/appeals?period={PERIOD.code}")
            page.screenshot(path=str(OUT / "workbench-appeals.png"))
            page.goto(f"{base}/remind?period={PERIOD.code}")
            page.get_by_role("button", name="生成催报通知").click()
            page.screenshot(path=str(OUT / "workbench-remind.png"))
            page.goto(f"{base}/links?period={PERIOD.code}")
            page.get_by_label("考核单位").select_option("泽州分局")
            page.get_by_role("button", name="生成链接").click()
            link = page.locator("input.copy").input_value()
            page.screenshot(path=str(OUT / "workbench-links.png"))
            page.goto(link)
            page.screenshot(path=str(OUT / "workbench-unit-link.png"))
            browser.close()
    for path in sorted(OUT.glob("workbench-*.png")):
        print(path)


if __name__ == "__main__":
    main()
