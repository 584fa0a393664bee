"""The workbench through HTTP: first start, login, CSRF, CSP, escaping, limits, downloads,
uploads by HR and through unit links — including requests that try to break them."""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.web.app import create_app
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
PASSWORD = "kaohe-测试-密码"
TEMPLATES = Path(__file__).resolve().parents[1] / "pipeline" / "web" / "templates"


@pytest.fixture
def sheets(workspace: Workspace) -> dict[str, bytes]:
    generate(workspace, Q4)
    return {
        p.name[:4]: fill(p.read_bytes(), MODEST) for p in workspace.blank_dir(Q4).glob("*/*.docx")
    }


@pytest.fixture
def client(workspace: Workspace) -> TestClient:
    return TestClient(create_app(workspace), follow_redirects=False)


def _logged_in(client: TestClient) -> str:
    """Set the password on first start; the CSRF token of the session."""
    response = client.post("/setup", data={"password": PASSWORD, "again": PASSWORD})
    assert response.status_code == 303
    page = client.get("/?period=2026Q4")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def test_first_start_asks_for_a_password_then_login_is_required(
    workspace: Workspace, client: TestClient
) -> None:
    assert client.get("/").headers["location"] == "/setup"
    short = client.post("/setup", data={"password": "1234", "again": "1234"})
    assert short.status_code == 400 and "至少 8 位" in short.text
    _logged_in(client)
    stored = (workspace.root / ".kaohe-web.json").read_text(encoding="utf-8")
    assert PASSWORD not in stored and "scrypt" in stored  # only a hash is kept
    assert oct((workspace.root / ".kaohe-web.json").stat().st_mode)[-3:] == "600"
    fresh = TestClient(create_app(workspace), follow_redirects=False)
    assert fresh.get("/").headers["location"] == "/login"
    assert fresh.get("/person/0007").headers["location"] == "/login"
    assert fresh.post("/setup", data={"password": "x" * 9, "again": "x" * 9}).status_code == 303
    assert fresh.get("/").headers["location"] == "/login"  # setup cannot be redone
    assert fresh.post("/login", data={"password": "wrong-wrong"}).status_code == 401
    assert fresh.post("/login", data={"password": PASSWORD}).status_code == 303
    assert fresh.get("/").status_code == 200


def test_repeated_wrong_passwords_lock_the_login_for_a_while(client: TestClient) -> None:
    _logged_in(client)
    other = TestClient(client.app, follow_redirects=False)
    codes = [other.post("/login", data={"password": f"guess-{i}"}).status_code for i in range(6)]
    assert codes == [401] * 5 + [429]
    assert other.post("/login", data={"password": PASSWORD}).status_code == 429


def test_every_page_sends_a_strict_csp_and_no_page_has_inline_script(
    client: TestClient,
) -> None:
    _logged_in(client)
    for path in ("/", "/upload", "/appeals", "/remind", "/links", "/login", "/u/x"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


def test_posts_without_the_csrf_token_are_refused(client: TestClient) -> None:
    csrf = _logged_in(client)
    assert client.post("/steps/report", data={"period": "2026Q4"}).status_code == 403
    assert client.post("/steps/report", data={"period": "2026Q4", "csrf": "x"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    ok = client.post("/steps/report", data={"period": "2026Q4", "csrf": csrf})
    assert ok.status_code == 303 and ok.headers["location"].startswith("/jobs/")


def test_a_long_step_runs_in_the_background_and_reports(
    workspace: Workspace, client: TestClient
) -> None:
    csrf = _logged_in(client)
    started = client.post("/steps/generate", data={"period": "2026Q4", "csrf": csrf})
    job = started.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/jobs/{job}").status_code == 200
    for _ in range(100):
        state = client.get(f"/api/jobs/{job}").json()
        if state["state"] != "running":
            break
        time.sleep(0.1)
    assert state["state"] == "done" and state["lines"] == ["生成空白表 16 份"]
    [(_, path), *_] = state["links"]
    download = client.get("/download", params={"path": path})
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"].startswith("attachment; filename*=UTF-8''")


@pytest.mark.parametrize(
    "path", ["../kaohe.sqlite", "../../etc/passwd", "/etc/passwd", "2026Q4/../../kaohe.toml", ""]
)
def test_downloads_never_leave_the_outbox(client: TestClient, path: str) -> None:
    _logged_in(client)
    assert client.get("/download", params={"path": path}).status_code in (403, 404)


def test_hr_upload_is_stored_in_the_inbox_and_read(
    workspace: Workspace, client: TestClient, sheets: dict[str, bytes]
) -> None:
    csrf = _logged_in(client)
    response = client.post(
        "/api/upload", data={"csrf": csrf}, files={"file": ("张伟.docx", sheets["0007"])}
    )
    assert response.status_code == 200
    [line] = response.json()["lines"]
    assert (line["word"], line["kind"]) == ("接收", "ok") and line["text"].startswith("0007 张伟")
    [stored] = (workspace.inbox / "上传" / "人事科").rglob("*.docx")
    assert stored.name == "张伟.docx" and stored.read_bytes() == sheets["0007"]
    again = client.post(
        "/api/upload", data={"csrf": csrf}, files={"file": ("../../张伟.docx", b"not a sheet")}
    )
    [line] = again.json()["lines"]
    assert line["word"] == "拒收"
    assert sorted(p.name for p in (workspace.inbox / "上传" / "人事科").rglob("*")
                  if p.is_file()) == ["张伟.docx", "张伟_2.docx"]  # fmt: skip
    assert not (workspace.root.parent / "张伟.docx").exists()


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    workspace: Workspace, client: TestClient
) -> None:
    csrf = _logged_in(client)
    big = b"\0" * (int(workspace.limits().file_bytes) + 2 * 1024 * 1024)
    response = client.post("/api/upload", data={"csrf": csrf}, files={"file": ("big.docx", big)})
    assert response.status_code == 413
    assert not (workspace.inbox / "上传").exists()
    chunked = client.post("/api/upload", content=iter([b"x"]), headers={"x-csrf-token": csrf})
    assert chunked.status_code == 411  # no length: refused before anything is read


def test_person_page_escapes_what_people_typed_and_shows_versions(
    workspace: Workspace, client: TestClient, sheets: dict[str, bytes]
) -> None:
    import dataclasses

    (workspace.inbox / "<b onmouseover=alert(1)>张伟.docx").write_bytes(sheets["0007"])
    ingest(workspace, received_at=datetime(2027, 1, 4, 9))
    changed = fill(
        next(workspace.blank_dir(Q4).glob("*/0007_*.docx")).read_bytes(),
        dataclasses.replace(MODEST, self_evaluation="<img src=x onerror=alert(2)>认真履职"),
    )
    (workspace.inbox / "第二版.docx").write_bytes(changed)
    ingest(workspace, received_at=datetime(2027, 1, 5, 9))
    _logged_in(client)
    page = client.get("/person/0007?period=2026Q4").text
    assert "<b onmouseover" not in page and "&lt;b onmouseover=alert(1)&gt;张伟.docx" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;认真履职" in page
    assert page.count('class="grid diff"') == 1  # the second version against the first
    rows = re.findall(r"/original/(\d+)", page)
    original = client.get(f"/original/{rows[0]}")
    assert original.status_code == 200 and original.content == sheets["0007"]


def test_unit_links_show_one_unit_and_accept_only_its_sheets(
    workspace: Workspace, client: TestClient, sheets: dict[str, bytes]
) -> None:
    csrf = _logged_in(client)
    made = client.post("/links?period=2026Q4", data={"csrf": csrf, "unit": "城区分局"})
    url = re.search(r'value="(http://[^"]+/u/([^"]+))"', made.text)
    assert url is not None
    token = url.group(2)
    assert len(token) >= 32  # ≥ 128 bits, URL-safe
    stored = (workspace.root / ".kaohe-web.json").read_text(encoding="utf-8")
    assert token not in stored  # only its hash is kept
    liaison = TestClient(client.app, follow_redirects=False)
    page = liaison.get(f"/u/{token}")
    assert page.status_code == 200
    assert "王芳" in page.text and "赵磊" not in page.text  # 城区分局's people only
    unit_csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert liaison.get("/").headers["location"] == "/login"  # the link opens nothing else

    def send(name: str, data: bytes, csrf_value: str = unit_csrf) -> dict[str, object]:
        response = liaison.post(
            f"/u/{token}/upload", data={"csrf": csrf_value}, files={"file": (name, data)}
        )
        return response.json()  # type: ignore[no-any-return]

    assert send("a.docx", sheets["0003"], "forged") == {"error": "请求来源不明，请刷新页面后重试"}
    [line] = send("王芳.docx", sheets["0003"])["lines"]  # type: ignore[misc]
    assert line["word"] == "接收"
    [line] = send("赵磊.docx", sheets["0004"])["lines"]  # type: ignore[misc]
    assert line["word"] == "拒收" and "泽州分局 赵磊" in line["text"]
    assert not list((workspace.inbox / "上传").rglob("赵磊*"))  # never stored
    with workspace.ledger() as ledger:
        trail = ledger.audit_trail()
    assert trail[0][2:] == ("拒收其他单位的表", "赵磊.docx（泽州分局 赵磊）")
    assert trail[0][1].startswith("单位链接 ") and trail[0][1].endswith("（城区分局）")
    assert [entry[2] for entry in trail[1:]] == ["上传", "生成单位链接"]

    link_id = re.findall(r'name="revoke" value="([^"]+)"', client.get("/links").text)[0]
    client.post("/links", data={"csrf": csrf, "revoke": link_id})
    assert liaison.get(f"/u/{token}").status_code == 403
    assert "error" in send("王芳.docx", sheets["0003"])


def test_expired_links_open_nothing(workspace: Workspace, client: TestClient) -> None:
    from pipeline.web.store import WebStore

    store = WebStore(workspace.root)
    _, token = store.create_link("城区分局", "2026Q4", date(2000, 1, 1))
    fresh = TestClient(create_app(workspace), follow_redirects=False)
    assert fresh.get(f"/u/{token}").status_code == 403


def test_the_review_screen_enters_a_scan_through_the_same_checks(
    workspace: Workspace, client: TestClient
) -> None:
    """A scanned PDF: its page shown beside the form; saving goes through review's path."""
    from .pdfs import reportlab_sheet, scanned

    (workspace.inbox / "扫描_陈静.pdf").write_bytes(scanned(reportlab_sheet()))
    ingest(workspace, period=Q4, received_at=datetime(2027, 1, 5, 10))
    csrf = _logged_in(client)
    queue = client.get("/review?period=2026Q4").text
    [row] = re.findall(r"/review/(\d+)\?period=2026Q4", queue)
    form = client.get(f"/review/{row}?period=2026Q4")
    assert form.status_code == 200 and f"/review/{row}/page/1.png" in form.text
    image = client.get(f"/review/{row}/page/1.png")
    assert image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"
    assert client.get(f"/review/{row}/page/9.png").status_code == 204
    values = {
        "csrf": csrf, "person_id": "0005", "period": "2026Q4", "month1": "排查。",
        "month2": "督查。", "month3": "报表。", "late": "很多", "self_evaluation": "认真。",
        "signature_date": "2027年1月3日", "leader_opinion": "扎实。", "grade": "较好",
    }  # fmt: skip
    saved = client.post(f"/review/{row}?period=2026Q4", data=values)
    assert saved.status_code == 200
    assert "已录入为 0005 陈静 的提交" in saved.text and "INVALID_NUMBER" in saved.text
    from pipeline.quarter import accepted_records

    [record] = accepted_records(workspace, Q4)
    assert (record.person_id, record.grade, record.source.format) == ("0005", "较好", "review")
    assert "/review/" not in client.get("/review?period=2026Q4").text.split("<tbody>")[1]


def test_the_review_screen_shows_what_the_scan_reader_saw(
    workspace: Workspace, client: TestClient
) -> None:
    """A photographed sheet held for review: the registered table and the doubtful cells are
    shown with the reasons, only to HR."""
    from pipeline.readers import ocr

    if not ocr.available():
        pytest.skip("OCR model not installed")
    samples = Path(__file__).resolve().parents[1] / "pipeline" / "samples"
    (workspace.inbox / "王芳.jpg").write_bytes((samples / "王芳-拍照.jpg").read_bytes())
    config = workspace.config_path.read_text(encoding="utf-8")
    workspace.config_path.write_text(
        config.replace("number_score = 0.80", "number_score = 0.999"), encoding="utf-8"
    )
    workspace = Workspace.open(workspace.root)
    ingest(workspace, period=Q4, received_at=datetime(2027, 1, 5, 10))
    anonymous = TestClient(create_app(workspace), follow_redirects=False)
    client = TestClient(create_app(workspace), follow_redirects=False)
    _logged_in(client)
    [row] = re.findall(r"/review/(\d+)\?period=2026Q4", client.get("/review?period=2026Q4").text)
    page = client.get(f"/review/{row}?period=2026Q4").text
    assert "扫描件识别" in page and "SCAN_UNCERTAIN" in page
    url = f"/review/{row}/scan.png?period=2026Q4"
    assert url in page
    picture = client.get(url)
    assert picture.headers["content-type"] == "image/png" and picture.content[:4] == b"\x89PNG"
    assert anonymous.get(url).status_code in (302, 303, 401, 403)
    assert client.get("/review/999999/scan.png?period=2026Q4").status_code == 404
