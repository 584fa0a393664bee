"""The workbench's pages and actions. Every page only reads the request, calls a stage (the
same functions the command line calls) and renders the result: no rule lives here.

Security: an admin password (scrypt) for HR, a session cookie (HttpOnly, SameSite=Strict),
a CSRF token in every form, a strict Content-Security-Policy (no inline script, nothing from
outside), autoescaped templates, size limits on uploads, downloads only from ``outbox/`` and
the ledger's own originals. Unit liaisons get a link (a 192-bit token, stored hashed) that
shows only their unit and accepts only their unit's sheets.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import KaoheError
from ..fields import FIELDS
from ..ledger import original_path
from ..models import Period
from ..paths import safe_component
from ..quarter import evaluate
from ..readers.docx import document_text
from ..readers.formats import IMAGES
from ..readers.raw import raw_from_json
from ..records import RosterIndex, attribute
from ..stages import appeal as appeal_stage
from ..stages.annual import write_annual
from ..stages.archive import original_bytes
from ..stages.feedback import write_feedback
from ..stages.generate import generate
from ..stages.ingest import FileOutcome, ingest, read_limited
from ..stages.remind import write_reminders
from ..stages.review import Entry, enter, export_review, outstanding, prefill, scan_picture
from ..stages.status import status
from ..workers import use_start_method
from ..workspace import Workspace
from ..writers import atomic
from .store import WebStore, default_expiry

HERE = Path(__file__).resolve().parent
COOKIE = "kaohe_session"
SESSION_SECONDS = 8 * 3600
UPLOAD_FOLDER = "上传"
MAX_LOGIN_FAILURES = 5
LOCKOUT_SECONDS = 60
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
WORDS = {"accepted": "接收", "superseded": "被替代", "rejected": "拒收"}


@dataclass
class Session:
    csrf: str
    seen: float


@dataclass
class Job:
    """A long step running in the background; the page polls it."""

    id: str
    title: str
    state: str = "running"  # running, done, failed
    done: int = 0
    total: int = 0
    lines: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (label, outbox-relative)

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, count: int = 1) -> None:
        self.done += count


class Workbench:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.store = WebStore(workspace.root)
        self.sessions: dict[str, Session] = {}
        self.jobs: dict[str, Job] = {}
        self.failures: dict[str, tuple[int, float]] = {}
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )

    # -- helpers -------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        session = self.session(request)
        page = self.templates.get_template(name).render(
            csrf=session.csrf if session else "", logged_in=session is not None, **context
        )
        return HTMLResponse(page, status_code=status_code)

    def session(self, request: Request) -> Session | None:
        token = request.cookies.get(COOKIE, "")
        session = self.sessions.get(token)
        if session is None or time.monotonic() - session.seen > SESSION_SECONDS:
            return None
        session.seen = time.monotonic()
        return session

    def period_of(self, request: Request) -> Period:
        text = request.query_params.get("period", "")
        try:
            return Period.parse(text) if text else Period.containing(date.today())
        except ValueError as exc:
            raise KaoheError(str(exc)) from exc

    def run(self, title: str, work: Callable[[Job], None]) -> Job:
        job = Job(uuid.uuid4().hex, title)
        self.jobs[job.id] = job

        def target() -> None:
            try:
                work(job)
                job.state = "done"
            except KaoheError as exc:
                job.lines.append(f"未完成：{exc}")
                job.state = "failed"
            except Exception as exc:  # shown as one line, like the command line does
                job.lines.append(
                    f"程序内部错误（{type(exc).__name__}）：请把这一步的情况告诉维护人员"
                )
                job.state = "failed"

        threading.Thread(target=target, daemon=True).start()
        return job


def _csrf_ok(request: Request, form: Any, expected: str) -> bool:
    given = str(form.get("csrf", "")) or request.headers.get("x-csrf-token", "")
    return bool(expected) and hmac.compare_digest(given, expected)


def _outcome_lines(outcomes: list[FileOutcome]) -> list[dict[str, str]]:
    lines = []
    for item in outcomes:
        shown = PurePosixPath(item.path).name
        if item.outcome == "rejected":
            lines.append({"file": shown, "word": "拒收", "text": item.reason, "kind": "bad"})
        else:
            who = f"{item.person_id} {item.name}（{item.unit}）{item.period or ''}"
            note = f"；{item.reason}" if item.reason else ""
            lines.append({"file": shown, "word": WORDS[item.outcome], "text": who + note,
                          "kind": "ok"})  # fmt: skip
    return lines


def _stored_name(folder: Path, name: str) -> Path:
    """A safe, unused name in ``folder`` for an uploaded file (its own name, made safe)."""
    base = safe_component(PurePosixPath(name.replace("\\", "/")).name) or "未命名"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    candidate = folder / base
    counter = 2
    while candidate.exists():
        candidate = folder / (f"{stem}_{counter}.{suffix}" if suffix else f"{stem}_{counter}")
        counter += 1
    return candidate


def create_app(workspace: Workspace) -> Starlette:
    # the server runs threads: its readers must not fork; and it reads one upload at a time,
    # so its readers stay up between uploads instead of starting for each
    use_start_method("forkserver", keep_warm=True)
    bench = Workbench(workspace)
    limits = workspace.limits()
    shutil.rmtree(workspace.root / ".kaohe-upload", ignore_errors=True)  # a stopped server's
    max_body = limits.file_bytes + 1024 * 1024

    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if request.method == "POST" and length is None:
            response: Response = PlainTextResponse("请求缺少长度（Content-Length）", 411)
        elif length is not None and (not length.isdigit() or int(length) > max_body):
            response = PlainTextResponse("文件太大：单个文件上限见 kaohe.toml [limits]", 413)
        else:
            try:
                response = await call_next(request)
            except KaoheError as exc:
                response = bench.render(request, "message.html", 400, title="未完成", text=str(exc))
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def admin(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not bench.store.has_password:
                return RedirectResponse("/setup", 303)
            session = bench.session(request)
            if session is None:
                return RedirectResponse("/login", 303)
            if request.method == "POST":
                form = await request.form(max_files=1, max_fields=200)
                if not _csrf_ok(request, form, session.csrf):
                    return PlainTextResponse(
                        "请求已过期或来源不明（CSRF 校验未通过），请刷新页面后重试", 403
                    )
            return await handler(request)

        return guarded

    def login_session() -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(secrets.token_urlsafe(32), time.monotonic())
        bench.sessions[token] = session
        return token, session

    def with_cookie(response: Response, token: str) -> Response:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    # -- first start, login ------------------------------------------------------------------

    async def setup(request: Request) -> Response:
        if bench.store.has_password:
            return RedirectResponse("/login", 303)
        if request.method == "POST":
            form = await request.form()
            password, again = str(form.get("password", "")), str(form.get("again", ""))
            if password != again:
                return bench.render(request, "setup.html", 400, error="两次输入的密码不一致")
            try:
                bench.store.set_password(password)
            except KaoheError as exc:
                return bench.render(request, "setup.html", 400, error=str(exc))
            token, _ = login_session()
            return with_cookie(RedirectResponse("/", 303), token)
        return bench.render(request, "setup.html")

    async def login(request: Request) -> Response:
        if not bench.store.has_password:
            return RedirectResponse("/setup", 303)
        if request.method == "POST":
            client = request.client.host if request.client else ""
            count, until = bench.failures.get(client, (0, 0.0))
            if time.monotonic() < until:
                return bench.render(
                    request, "login.html", 429, error="尝试次数过多，请一分钟后再试"
                )
            form = await request.form()
            if not bench.store.check_password(str(form.get("password", ""))):
                count += 1
                lock = time.monotonic() + LOCKOUT_SECONDS if count >= MAX_LOGIN_FAILURES else 0.0
                bench.failures[client] = (0 if lock else count, lock)
                return bench.render(request, "login.html", 401, error="密码不正确")
            bench.failures.pop(client, None)
            token, _ = login_session()
            return with_cookie(RedirectResponse("/", 303), token)
        return bench.render(request, "login.html")

    async def logout(request: Request) -> Response:
        session = bench.session(request)
        form = await request.form()
        if session is not None and not _csrf_ok(request, form, session.csrf):
            return PlainTextResponse("请求来源不明（CSRF 校验未通过），请刷新页面后重试", 403)
        bench.sessions.pop(request.cookies.get(COOKIE, ""), None)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- HR pages ---------------------------------------------------------------------------

    async def home(request: Request) -> Response:
        period = bench.period_of(request)
        report = await run_in_threadpool(status, workspace, period, today=date.today())
        files = _outputs(workspace, period)
        return bench.render(request, "home.html", period=period, report=report, files=files[:60])

    async def step(request: Request) -> Response:
        name = request.path_params["step"]
        form = await request.form()
        try:
            period = Period.parse(str(form.get("period", "")))
        except ValueError as exc:
            raise KaoheError(str(exc)) from exc
        titles = {
            "generate": "生成空白表", "report": "异常报告和汇总表", "archive": "归档",
            "annual": "年度汇总", "feedback": "反馈通知", "review": "导出待人工核对表",
            "ingest": "回收（读取 inbox 中的全部文件）",
        }  # fmt: skip
        if name not in titles:
            return PlainTextResponse("没有这一步", 404)

        def work(job: Job) -> None:
            from ..flows import archive_quarter, write_quarter_files

            if name == "generate":
                made = generate(workspace, period, progress=job)
                job.lines.append(f"生成空白表 {len(made.sheets)} 份")
                for unit, bundle in made.bundles.items():
                    job.links.append((f"{unit} 分发包", bundle.removeprefix("outbox/")))
            elif name == "ingest":
                found = ingest(workspace, progress=job)
                job.lines += [
                    f"{o['word']}  {o['file']}：{o['text']}" for o in _outcome_lines(found.files)
                ]
            elif name == "report":
                files = write_quarter_files(workspace, period)
                job.lines.append(f"异常报告：{files.report.total} 项")
                for path in (
                    files.report.xlsx,
                    files.report.html,
                    files.summary,
                    *files.secondment,
                ):
                    job.links.append((path.name, path.relative_to(workspace.outbox).as_posix()))
            elif name == "archive":
                archived = archive_quarter(workspace, period)
                job.lines.append(f"归档 {archived.members} 个文件及清单")
                job.links.append(
                    (archived.path.name, archived.path.relative_to(workspace.outbox).as_posix())
                )
            elif name == "annual":
                path, _ = write_annual(workspace, period.year)
                job.links.append((path.name, path.relative_to(workspace.outbox).as_posix()))
            elif name == "feedback":
                notices = write_feedback(workspace, period)
                job.lines.append(f"反馈通知 {len(notices.notices)} 份")
                for unit, bundle in notices.bundles.items():
                    job.links.append((f"{unit} 反馈通知", bundle.removeprefix("outbox/")))
            elif name == "review":
                path, count = export_review(workspace, period)
                job.lines.append(f"待人工核对 {count} 份")
                job.links.append((path.name, path.relative_to(workspace.outbox).as_posix()))

        job = bench.run(titles[name], work)
        return RedirectResponse(f"/jobs/{job.id}", 303)

    async def job_page(request: Request) -> Response:
        job = bench.jobs.get(request.path_params["job"])
        if job is None:
            return PlainTextResponse("没有这项任务（服务重启后任务记录会清空）", 404)
        return bench.render(request, "job.html", job=job)

    async def job_json(request: Request) -> Response:
        job = bench.jobs.get(request.path_params["job"])
        if job is None:
            return JSONResponse({"error": "not found"}, 404)
        return JSONResponse({"state": job.state, "done": job.done, "total": job.total,
                             "lines": job.lines, "links": job.links})  # fmt: skip

    async def download(request: Request) -> Response:
        relative = request.query_params.get("path", "")
        target = (workspace.outbox / relative).resolve()
        try:
            target.relative_to(workspace.outbox.resolve())
        except ValueError:
            return PlainTextResponse("只能下载 outbox 中的文件", 403)
        if not relative or not target.is_file():
            return PlainTextResponse("文件不存在", 404)
        return _attachment(target.read_bytes(), target.name)

    async def upload_page(request: Request) -> Response:
        return bench.render(request, "upload.html", period=bench.period_of(request), unit=None)

    async def upload(request: Request) -> Response:
        """One file per request: stored in inbox/上传/人事科/, read, its outcome returned."""
        form = await request.form(max_files=1, max_fields=10)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            return JSONResponse({"error": "没有收到文件"}, 400)
        folder = workspace.inbox / UPLOAD_FOLDER / "人事科" / date.today().isoformat()
        saved = await _save_upload(folder, upload_file, limits.file_bytes)
        if saved is None:
            return JSONResponse({"error": "文件超过大小上限（kaohe.toml [limits] file_mb）"}, 413)
        found = await run_in_threadpool(ingest, workspace, [saved])
        _audit(workspace, "人事科", "上传", f"{saved.name}：{_summary(found.files)}")
        return JSONResponse({"lines": _outcome_lines(found.files)})

    async def person(request: Request) -> Response:
        period = bench.period_of(request)
        person_id = request.path_params["person"]
        result = await run_in_threadpool(evaluate, workspace, period)
        found = result.results.get(person_id)
        if found is None:
            return PlainTextResponse("名单中没有这个编号", 404)
        with workspace.existing_ledger() as ledger:
            versions = ledger.versions_of(person_id, period.code)
        shown = [_version(row) for row in versions]
        for older, newer in itertools.pairwise(shown):
            newer["changes"] = [
                (label, older["values"].get(label, ""), value)
                for label, value in newer["values"].items()
                if older["values"].get(label, "") != value
            ]
        return bench.render(request, "person.html", period=period, found=found, versions=shown)

    def checked_original(request: Request) -> tuple[str, bytes] | Response:
        """The stored version a request names, and its original's bytes if unchanged."""
        with workspace.existing_ledger() as ledger:
            row = ledger.row(int(request.path_params["row"]))
        if row is None:
            return PlainTextResponse("台账中没有这个文件", 404)
        data = original_bytes(workspace, row.path)
        if data is None or hashlib.sha256(data).hexdigest() != row.sha256:
            return PlainTextResponse("原文件已被移动或修改", 410)
        return row.path, data

    async def original(request: Request) -> Response:
        found = checked_original(request)
        if isinstance(found, Response):
            return found
        key, data = found
        return _attachment(data, PurePosixPath(original_path(key).split("!/")[-1]).name)

    async def appeals_page(request: Request) -> Response:
        period = bench.period_of(request)
        message = ""
        if request.method == "POST":
            form = await request.form()
            person_id = str(form.get("person", "")).strip()
            if form.get("action") == "file":
                appeal_stage.file(workspace, period, person_id, str(form.get("reason", "")))
                message = f"已登记 {person_id} 的复核申请"
                _audit(workspace, "人事科", "登记复核申请", f"{period.code} {person_id}")
            else:
                grade = str(form.get("grade", ""))
                from ..models import Grade

                chosen = Grade(grade) if grade in {g.value for g in Grade} else None
                appeal_stage.decide(workspace, period, person_id, chosen, str(form.get("note", "")))
                message = f"已记录 {person_id} 的复核决定"
                _audit(
                    workspace, "人事科", "复核决定", f"{period.code} {person_id} {grade or '维持'}"
                )
        listed = appeal_stage.listed(workspace, period) if workspace.has_ledger() else []
        return bench.render(request, "appeals.html", period=period, appeals=listed, message=message)

    async def remind_page(request: Request) -> Response:
        period = bench.period_of(request)
        found = (
            await run_in_threadpool(write_reminders, workspace, period)
            if request.method == "POST"
            else []
        )
        return bench.render(request, "remind.html", period=period, reminders=found,
                            outbox=workspace.outbox, posted=request.method == "POST")  # fmt: skip

    async def links_page(request: Request) -> Response:
        period = bench.period_of(request)
        created = None
        if request.method == "POST":
            form = await request.form()
            if form.get("revoke"):
                bench.store.revoke(str(form.get("revoke")))
                _audit(workspace, "人事科", "撤销单位链接", str(form.get("revoke")))
            else:
                unit = str(form.get("unit", ""))
                known = {p.assessing_unit for p in workspace.people()}
                if unit not in known:
                    raise KaoheError(f"名单中没有考核单位“{unit}”")
                expires = default_expiry(workspace.deadline(period).day)
                link, token = bench.store.create_link(unit, period.code, expires)
                _audit(
                    workspace,
                    "人事科",
                    "生成单位链接",
                    f"{link.id} {unit} {period.code} 至 {expires}",
                )
                created = (link, f"{request.base_url}u/{token}")
        units = list(dict.fromkeys(p.assessing_unit for p in workspace.people()))
        return bench.render(request, "links.html", period=period, units=units,
                            links=bench.store.links(), created=created)  # fmt: skip

    # -- the review queue -------------------------------------------------------------------

    async def review_queue(request: Request) -> Response:
        period = bench.period_of(request)
        rows = outstanding(workspace, period)
        return bench.render(request, "review.html", period=period, rows=rows)

    async def review_one(request: Request) -> Response:
        period = bench.period_of(request)
        row_id = int(request.path_params["row"])
        row = next((r for r in outstanding(workspace, period) if r.id == row_id), None)
        if row is None:
            return bench.render(request, "message.html", 404, title="已核对",
                                text="这份已经核对过，或不在待核对队列中。")  # fmt: skip
        result = None
        values = {k: str(v) for k, v in prefill(row, period).items()}
        if request.method == "POST":
            form = await request.form()
            values = {f.key: str(form.get(f.key, "")).strip() for f in FIELDS if f.entered}
            values |= {"source_path": row.path, "source_sha": row.sha256}
            entered = await run_in_threadpool(
                enter, workspace, [Entry(values, "工作台")], reviewer="工作台"
            )
            _audit(workspace, "人事科", "人工核对", f"{row.path} → {values.get('person_id', '')}")
            result = _entered_outcome(workspace, entered, period)
            if result["accepted"]:
                return bench.render(request, "message.html", title="已录入", text=result["text"])
        kind = PurePosixPath(original_path(row.path).split("!/")[-1]).suffix.lower()
        data = original_bytes(workspace, row.path)
        text, pages = "", 0
        if data is not None and kind in (".docx", ".docm"):
            text = document_text(data)
        elif data is not None:
            pages = _page_count(data, kind)
        fields = [f for f in FIELDS if f.entered]
        scanned = scan_picture(row) is not None
        doubts = [i for i in row.issues if i.get("severity") in ("error", "warning")]
        return bench.render(request, "review_one.html", period=period, row=row, values=values,
                            fields=fields, text=text, pages=pages, result=result,
                            scanned=scanned, doubts=doubts)  # fmt: skip

    async def review_scan_picture(request: Request) -> Response:
        """What the scan reader saw (the registered table and the doubtful cells), from the
        stored reading: the same picture as the review workbook's row."""
        period = bench.period_of(request)
        row_id = int(request.path_params["row"])
        row = next((r for r in outstanding(workspace, period) if r.id == row_id), None)
        picture = await run_in_threadpool(scan_picture, row) if row is not None else None
        if picture is None:
            return Response(status_code=404)
        return Response(picture[0], media_type="image/png")

    async def review_page_image(request: Request) -> Response:
        found = checked_original(request)
        if isinstance(found, Response):
            return found
        key, data = found
        try:
            image = _page_image(data, key, int(request.path_params["page"]))
        except Exception:  # an unreadable scan: the page says so instead of an image
            image = None
        if image is None:
            return Response(status_code=204)
        return Response(image, media_type="image/png")

    # -- unit links --------------------------------------------------------------------------

    def unit_csrf(token: str) -> str:
        return hmac.new(bench.store.secret, token.encode(), hashlib.sha256).hexdigest()

    async def unit_page(request: Request) -> Response:
        token = request.path_params["token"]
        link = bench.store.link_for(token, date.today())
        if link is None:
            text = "这个链接不存在、已撤销或已过期，请向人事科索取新链接。"
            return bench.render(request, "message.html", 403, title="链接无效", text=text)
        period = Period.parse(link.period)
        report = await run_in_threadpool(
            status, workspace, period, unit=link.unit, today=date.today()
        )
        result = await run_in_threadpool(evaluate, workspace, period)
        people = [result.result_of(p) for p in result.people if p.assessing_unit == link.unit]
        return bench.render(request, "unit.html", link=link, report=report, people=people,
                            token=token, unit_csrf=unit_csrf(token), period=period)  # fmt: skip

    async def unit_upload(request: Request) -> Response:
        token = request.path_params["token"]
        link = bench.store.link_for(token, date.today())
        if link is None:
            return JSONResponse({"error": "链接无效、已撤销或已过期"}, 403)
        form = await request.form(max_files=1, max_fields=10)
        if not _csrf_ok(request, form, unit_csrf(token)):
            return JSONResponse({"error": "请求来源不明，请刷新页面后重试"}, 403)
        upload_file = form.get("file")
        if not isinstance(upload_file, UploadFile):
            return JSONResponse({"error": "没有收到文件"}, 400)
        name = upload_file.filename or ""
        unit_folder = safe_component(link.unit)
        folder = workspace.inbox / UPLOAD_FOLDER / unit_folder / date.today().isoformat()
        held = await _save_upload(workspace.root / ".kaohe-upload", upload_file, limits.file_bytes)
        if held is None:
            return JSONResponse({"error": "文件超过大小上限"}, 413)
        actor = f"单位链接 {link.id}（{link.unit}）"
        period = Period.parse(link.period)
        others = await run_in_threadpool(
            _other_units, workspace, name, held.read_bytes(), link.unit, period
        )
        if others:
            held.unlink()
            _audit(workspace, actor, "拒收其他单位的表", f"{name}（{others}）")
            why = f"这是{others}的记实表，不能通过{link.unit}的链接提交；请交给本人所在单位或人事科"
            line = {"file": PurePosixPath(name).name, "word": "拒收", "kind": "bad", "text": why}
            return JSONResponse({"lines": [line]})
        atomic.private_dir(folder)
        saved = _stored_name(folder, name)
        held.replace(saved)
        found = await run_in_threadpool(ingest, workspace, [saved])
        _audit(workspace, actor, "上传", f"{saved.name}：{_summary(found.files)}")
        return JSONResponse({"lines": _outcome_lines(found.files)})

    routes = [
        Route("/setup", setup, methods=["GET", "POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", admin(home)),
        Route("/steps/{step}", admin(step), methods=["POST"]),
        Route("/jobs/{job}", admin(job_page)),
        Route("/api/jobs/{job}", admin(job_json)),
        Route("/download", admin(download)),
        Route("/upload", admin(upload_page)),
        Route("/api/upload", admin(upload), methods=["POST"]),
        Route("/person/{person}", admin(person)),
        Route("/original/{row:int}", admin(original)),
        Route("/appeals", admin(appeals_page), methods=["GET", "POST"]),
        Route("/review", admin(review_queue)),
        Route("/review/{row:int}", admin(review_one), methods=["GET", "POST"]),
        Route("/review/{row:int}/page/{page:int}.png", admin(review_page_image)),
        Route("/review/{row:int}/scan.png", admin(review_scan_picture)),
        Route("/remind", admin(remind_page), methods=["GET", "POST"]),
        Route("/links", admin(links_page), methods=["GET", "POST"]),
        Route("/u/{token}", unit_page),
        Route("/u/{token}/upload", unit_upload, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=security_headers)]
    )
    app.state.bench = bench
    return app


def _outputs(workspace: Workspace, period: Period) -> list[str]:
    """The period's finished outputs to download (bundles, workbooks, reports, archive)."""
    folder = workspace.period_dir(period)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(workspace.outbox)
        if not path.is_file() or atomic.TEMP_MARK in path.name:
            continue
        if path.suffix == ".docx" and len(relative.parts) > 3:
            continue  # one sheet or notice per person: they are in the unit bundles
        if path.suffix in (".zip", ".xlsx", ".html", ".docx"):
            found.append(relative.as_posix())
    return found


def _entered_outcome(workspace: Workspace, entered: Any, period: Period) -> dict[str, Any]:
    if entered.problems:
        return {
            "accepted": False,
            "text": "；".join(p.message for p in entered.problems),
            "issues": [],
        }
    key = (entered.imported or entered.unchanged or [""])[0]
    with workspace.ledger() as ledger:
        outcome = ledger.outcome_of(key)
        person = outcome["person_id"] if outcome is not None else None
        rows = [r for r in ledger.versions_of(person or "", period.code) if r.path == key]
    issues = rows[0].issues if rows else []
    if outcome is not None and outcome["outcome"] == "accepted":
        who = f"{outcome['person_id']} {outcome['name']}"
        note = "；".join(f"{i['code']} {i['message']}" for i in issues)
        text = f"已录入为 {who} 的提交" + (f"。提醒：{note}" if note else "")
        return {"accepted": True, "text": text, "issues": issues}
    reason = outcome["reason"] if outcome is not None else "未能登记"
    return {"accepted": False, "text": f"未能接收：{reason}", "issues": issues}


def _page_count(data: bytes, suffix: str) -> int:
    """How many pages to show of a PDF (at most 5) or an image (1); 0 if none can be shown."""
    if suffix in IMAGES:
        return 1
    if suffix != ".pdf":
        return 0
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except Exception:  # a damaged or encrypted PDF: offered as a download only
        return 0
    try:
        return min(len(document), 5)
    finally:
        document.close()


def _page_image(data: bytes, key: str, page: int) -> bytes | None:
    """A page of a PDF, or an image, as PNG for the review screen (bounded in size)."""
    import io

    from PIL import Image

    Image.MAX_IMAGE_PIXELS = 60_000_000  # a decompression bomb raises instead of filling memory
    suffix = PurePosixPath(original_path(key).split("!/")[-1]).suffix.lower()
    if suffix == ".pdf":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            if page < 1 or page > len(document):
                return None
            picture = document[page - 1].render(scale=110 / 72).to_pil()
        finally:
            document.close()
    elif suffix in IMAGES and page == 1:
        picture = Image.open(io.BytesIO(data))
        picture.thumbnail((1600, 2200))
    else:
        return None
    out = io.BytesIO()
    picture.convert("RGB").save(out, "PNG")
    return out.getvalue()


_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip", ".pdf": "application/pdf", ".html": "text/html; charset=utf-8",
    ".json": "application/json", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
}  # fmt: skip


def _attachment(data: bytes, name: str) -> Response:
    """A download: always as an attachment (never shown inline), with its real type."""
    quoted = quote(name)
    return Response(
        data,
        media_type=_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream"),
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"},
    )


async def _save_upload(folder: Path, upload: UploadFile, limit: int) -> Path | None:
    """Copy an upload to a new file in ``folder`` a chunk at a time (never whole in memory);
    None, and nothing kept, if it grows past ``limit`` bytes."""
    atomic.private_dir(folder)
    target = _stored_name(folder, upload.filename or "")
    tmp = atomic.temp_sibling(target)
    written = 0
    try:
        with open(
            os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, atomic.FILE_MODE), "wb"
        ) as out:
            while chunk := await upload.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    return None
                out.write(chunk)
        os.replace(tmp, target)
        return target
    finally:
        if tmp.exists():
            tmp.unlink()


def _summary(outcomes: list[FileOutcome]) -> str:
    return "；".join(
        f"{WORDS.get(o.outcome, o.outcome)} {o.person_id or ''}".strip() for o in outcomes
    )


def _audit(workspace: Workspace, actor: str, action: str, detail: str) -> None:
    with workspace.ledger() as ledger:
        ledger.audit(actor, action, detail)


def _other_units(workspace: Workspace, name: str, data: bytes, unit: str, period: Period) -> str:
    """The units (other than ``unit``) whose people's sheets are in this upload, or ""."""
    # untrusted bytes: read in a worker under the time limit, as ingest reads the inbox
    raws, _, _ = read_limited(PurePosixPath(name).name or "x", data, workspace.limits())
    if not raws:
        return ""
    roster = RosterIndex(workspace.people())
    others = []
    for raw in raws:
        found = attribute(raw_from_json(raw), roster, period)
        if found.person is not None and found.person.assessing_unit != unit:
            others.append(f"{found.person.assessing_unit} {found.person.name}")
    return "、".join(others)


def _version(row: Any) -> dict[str, Any]:
    record = row.record or {}
    values: dict[str, str] = {}
    for spec in FIELDS:
        if spec.record is None:
            continue
        value: Any = record
        for part in spec.record.split("."):
            value = value[int(part)] if isinstance(value, list) else (value or {}).get(part)
        values[spec.header] = "" if value is None else str(value)
    return {
        "id": row.id, "path": row.path, "received_at": row.received_at.replace("T", " ")[:16],
        "outcome": WORDS.get(row.outcome, row.outcome), "reason": row.reason,
        "values": values, "changes": [], "issues": row.issues,
    }  # fmt: skip
