"""The ``kaohe`` command: parses arguments, calls the stages, prints in Chinese. No logic here."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sqlite3
import sys
import traceback
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from . import __version__
from .demo import run_demo
from .errors import KaoheError
from .flows import archive_quarter, write_quarter_files
from .ledger import LEDGER_NAME, explain_error
from .models import Grade, Period
from .stages import appeal as appeal_stage
from .stages import upkeep
from .stages.annual import write_annual
from .stages.archive import verify
from .stages.explain import FIELD_LABELS, Explanation, explain
from .stages.export import FORMATS, export
from .stages.feedback import write_feedback
from .stages.generate import GenerateResult, generate
from .stages.ingest import FileOutcome, ingest
from .stages.remind import write_reminders
from .stages.report import findings
from .stages.review import export_review, import_review
from .stages.status import status
from .workdays import PROVISIONAL_HELP
from .workspace import Workspace, init_workspace
from .writers import atomic

#: Above this many sheets a progress bar is shown (on stderr, so --json stays clean).
PROGRESS_THRESHOLD = 50
DEMO_FOLDER = "kaohe-demo"
#: Below this many sheets a rate would mostly measure start-up, so none is shown.
RATE_SHOWN_FROM = 200

#: click's own usage messages, in Chinese.
_USAGE_MESSAGES = (
    (
        re.compile(r"No such option:? '?([^'\s]+?)'?\.?\s+Did you mean '?([^'?]+)'?\?"),
        "没有这个选项：{0}，是不是要用 {1}？",
    ),
    (re.compile(r"No such option:? '?([^'\s]+?)'?\.?$"), "没有这个选项：{0}"),
    (re.compile(r"Missing option '(.+?)'.*"), "缺少选项 {0}"),
    (re.compile(r"Missing argument '(.+?)'.*"), "缺少参数 {0}"),
    (re.compile(r"No such command '(.+?)'.*"), "没有这个命令：{0}"),
    (re.compile(r"Missing command.*"), "缺少命令"),
    (re.compile(r"Option '(.+?)' requires an argument.*"), "选项 {0} 后面需要一个值"),
    (re.compile(r"Invalid value for '(.+?)': (.*)", re.S), "选项 {0} 的值无效：{1}"),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)"), "多余的参数：{0}"),
)


#: click's own help scaffolding, in Chinese. click looks these up through its modules' gettext
#: ``_`` when it prints help, so a table is enough (click ships no Chinese catalogue).
CLICK_WORDS = {
    "Usage:": "用法：",
    "Options": "选项",
    "Commands": "命令",
    "Show this message and exit.": "显示本帮助并退出。",
    "Show the version and exit.": "显示版本号并退出。",
}


def _translate(text: str) -> str:
    return CLICK_WORDS.get(text, text)


for _module in (click.core, click.formatting, click.decorators):
    _module._ = _translate  # type: ignore[attr-defined]


def _usage_message(text: str) -> str:
    for pattern, template in _USAGE_MESSAGES:
        match = pattern.match(text)
        if match:
            return template.format(*[g or "" for g in match.groups()])
    return text


def _error(message: str) -> None:
    click.echo(f"错误：{message}", err=True)


def _parse_period(value: str | None) -> Period:
    if value is None:
        period = Period.containing(date.today())
        click.echo(f"未指定 --period，按当前季度：{period.title}（{period.code}）", err=True)
        return period
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise KaoheError(str(exc)) from exc


class _Group(click.Group):
    """Turns KaoheError and unexpected failures into one clear Chinese line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KaoheError as exc:
            _error(str(exc))
            ctx.exit(1)
        except BrokenPipeError:
            # the reader (e.g. `| head`) has gone: stop quietly, as command-line tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except sqlite3.Error as exc:  # the ledger failed mid-command (disk full, damaged)
            root = (ctx.obj or {}).get("workspace") or Path.cwd()
            _error(explain_error(Path(root) / LEDGER_NAME, exc))
            ctx.exit(1)
        except PermissionError as exc:
            _error(
                f"无法写入或读取 {exc.filename}：文件可能正在被 Excel/WPS/Word 打开，"
                "或没有权限。请关闭该文件后重试。"
            )
            ctx.exit(1)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            _error(f"文件操作失败{where}：{exc.strerror or exc}。请检查磁盘空间和路径。")
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            log = Path.cwd() / "kaohe-错误日志.txt"
            try:
                # 0600: a traceback can hold paths and names
                atomic.write_bytes(log, traceback.format_exc().encode("utf-8"))
                where = f"详细信息已写入 {log}，"
            except OSError:
                where = ""
            _error(f"程序内部错误（{type(exc).__name__}: {exc}）。{where}请发给维护人员。")
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="工作区文件夹（含 kaohe.toml、名单、inbox/、outbox/）；默认为当前文件夹。",
)
@click.version_option(
    __version__, prog_name="kaohe", message="%(prog)s %(version)s", help="显示版本号并退出。"
)
@click.pass_context
def cli(ctx: click.Context, workspace: Path | None) -> None:
    """kaohe：公务员平时考核记实表的生成、回收、审核与归档。"""
    ctx.obj = {"workspace": workspace}


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def one_line(text: str) -> str:
    """``text`` on one line: a file name with a newline or other control character is shown
    escaped (\\n, \\x1b …), so one file is always one line of output."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def _workspace(ctx: click.Context) -> Workspace:
    root = ctx.obj["workspace"] or Path.cwd()
    opened = Workspace.open(root)
    opened.sweep_leftovers()  # what a killed run left behind goes, whichever command runs next
    return dataclasses.replace(opened, on_wait=lambda text: click.echo(text, err=True))


@cli.command("init")
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """新建工作区：kaohe.toml、示例名单 roster.xlsx、inbox/、outbox/、templates/。"""
    root = ctx.obj["workspace"] or Path.cwd()
    result = init_workspace(root)
    ws = result.workspace
    click.echo(f"工作区：{ws.root}")
    for path in result.created:
        click.echo(f"  新建  {ws.relative(path)}")
    for path in result.kept:
        click.echo(f"  保留  {ws.relative(path)}（已存在，未改动）")
    click.echo("下一步：把名单换成本单位人员，然后运行 kaohe generate --period 2026Q4")


class _Bar:
    """A click progress bar on stderr, shown only for long runs (stdout stays clean for --json)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def start(self, total: int) -> None:
        if total >= PROGRESS_THRESHOLD:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _run_generate(
    ws: Workspace, period: Period, roster: Path | None, unit: str | None
) -> GenerateResult:
    bar = _Bar("生成记实表")
    try:
        return generate(ws, period, roster=roster, unit=unit, progress=bar)
    finally:
        bar.close()


def _print_generate(ws: Workspace, result: GenerateResult) -> None:
    count = len(result.sheets)
    rate = count / result.seconds if result.seconds > 0 else float(count)
    click.echo(f"名单：{ws.relative(result.roster)}")
    click.echo(f"模板：{ws.relative(result.template)}")
    for warning in result.warnings:
        click.echo(f"注意：{warning}")
    speed = f"（{rate:.0f} 份/秒）" if count >= RATE_SHOWN_FROM else ""
    click.echo(
        f"已生成 {result.period.title} 记实表 {count} 份，{len(result.bundles)} 个单位，"
        f"用时 {result.seconds:.1f} 秒{speed}"
    )
    per_unit: dict[str, int] = {}
    for sheet in result.sheets:
        per_unit[sheet.unit] = per_unit.get(sheet.unit, 0) + 1
    width = max((len(u) for u in per_unit), default=0)
    for unit, bundle in result.bundles.items():
        click.echo(f"  {unit}{'　' * (width - len(unit))}  {per_unit.get(unit, 0):>4} 份  {bundle}")
    click.echo(f"分发清单：{result.distribution_list}")


@cli.command("generate")
@click.option("--period", "-p", help="考核季度，如 2026Q4、2026-Q4、2026年第四季度；默认当前季度。")
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="名单文件（.xlsx/.csv）；默认用 kaohe.toml 中的名单。",
)
@click.option("--unit", help="只生成这个考核单位的记实表，如 综合行政执法队。")
@click.option(
    "--json", "as_json", is_flag=True, help="在标准输出打印 JSON 清单（不打印其他内容）。"
)
@click.pass_context
def generate_command(
    ctx: click.Context, period: str | None, roster: Path | None, unit: str | None, as_json: bool
) -> None:
    """按名单为每人生成空白记实表，并按单位打包、生成分发清单。"""
    ws = _workspace(ctx)
    result = _run_generate(ws, _parse_period(period), roster, unit)
    if as_json:
        click.echo(json.dumps([s.as_json() for s in result.sheets], ensure_ascii=False, indent=2))
    else:
        _print_generate(ws, result)


@cli.command("demo")
@click.option("--period", "-p", help="演示用的考核季度；默认当前季度。")
@click.pass_context
def demo_command(ctx: click.Context, period: str | None) -> None:
    """用自带示例名单走一遍整个季度（默认在 ./kaohe-demo/ 中）：生成、回收、报告、归档。"""
    root = ctx.obj["workspace"] or Path.cwd() / DEMO_FOLDER
    init = init_workspace(root)
    ws = init.workspace
    click.echo(f"演示工作区：{ws.root}{'（沿用已有工作区）' if init.kept else ''}")
    chosen = _parse_period(period)
    result = run_demo(ws, chosen)
    _print_generate(ws, result.generated)
    counts = result.ingested.counts
    click.echo(
        f"回收示例文件（inbox/示例回收/，含逾期、写错的数字、一般等次、长期病假、重复提交、"
        f"压缩包、扫描件和手机照片）：接收 {counts['accepted']}，被替代 {counts['superseded']}，"
        f"拒收 {counts['rejected']}，跳过 {counts['skipped']}"
    )
    severities = result.report.severities
    click.echo(
        f"异常报告：错误 {severities.get('error', 0)} 项，提醒 {severities.get('warning', 0)} 项，"
        f"关注 {severities.get('info', 0)} 项"
    )
    first = result.generated.sheets[0].file if result.generated.sheets else ""
    click.echo("")
    click.echo("可以打开看看：")
    click.echo(f"  一份空白记实表：{ws.root / first}")
    click.echo(f"  异常报告（网页）：{result.report.html}")
    click.echo(f"  异常报告（表格）：{result.report.xlsx}")
    click.echo(f"  汇总表：          {result.summary}")
    click.echo(f"  归档：            {result.archive.path}")
    click.echo(f"  名单：            {ws.roster_path}（换成本单位名单即可正式使用）")
    click.echo(f"接着可以试：kaohe -w {ws.root} status -p {chosen.code}")


INGEST_WORDS = {"accepted": "接收", "superseded": "被替代", "rejected": "拒收"}


@cli.command("ingest")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--period", "-p", help="本次登记的季度；表上的季度与之不符时拒收（WRONG_PERIOD）。")
@click.option(
    "--received-at",
    type=click.DateTime(
        formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]
    ),
    help="收到时间，如 2027-01-05T10:00；默认取文件的修改时间。",
)
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    help="名单文件；默认用 kaohe.toml 中的名单。",
)
@click.pass_context
def ingest_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    period: str | None,
    received_at: datetime | None,
    roster: Path | None,
) -> None:
    """登记交回的记实表（默认读取 inbox/ 下全部文件，含子文件夹）。"""
    ws = _workspace(ctx)
    bar = _Bar("读取记实表")

    def show(item: FileOutcome) -> None:
        bar.close()  # done once outcomes come (closing again does nothing)
        word = INGEST_WORDS.get(item.outcome, item.outcome)
        if item.outcome == "rejected":
            click.echo(one_line(f"{word}  {item.path}：{item.reason}"))
        else:
            who = f"{item.person_id} {item.name}（{item.unit}）{item.period}"
            note = f"；{item.reason}" if item.reason else ""
            click.echo(one_line(f"{word}  {item.path} → {who}{note}"))

    try:
        result = ingest(
            ws, list(paths) or None, period=Period.parse(period) if period else None,
            received_at=received_at, roster=roster, progress=bar, each=show,
        )  # fmt: skip
    except ValueError as exc:
        raise KaoheError(str(exc)) from exc
    finally:
        bar.close()
    counts = result.counts
    total = sum(counts.values())
    click.echo(
        f"共 {total} 个文件：接收 {counts['accepted']}，被替代 {counts['superseded']}，"
        f"拒收 {counts['rejected']}，跳过 {counts['skipped']}"
    )


@cli.command("export")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="写入此文件；JSON/CSV 默认打印到标准输出。",
)
@click.pass_context
def export_command(ctx: click.Context, period: str, fmt: str, output: Path | None) -> None:
    """导出某季度每人最新一份已接收的记实表数据。"""
    ws = _workspace(ctx)
    written = export(
        ws, _parse_period(period), fmt, output, lambda text: click.echo(text, nl=False)
    )
    if written is not None:
        click.echo(f"已导出：{written}", err=fmt == "json")


@cli.command("explain")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--period", "-p", help="按此季度核对（同 ingest --period）。")
@click.pass_context
def explain_command(ctx: click.Context, path: Path, period: str | None) -> None:
    """逐栏显示一份记实表是怎样读出来的：每栏原文、所在位置、识别结果和问题。"""
    ws = _workspace(ctx)
    sheets = explain(ws, path, _parse_period(period) if period else None)
    click.echo(f"文件：{path}")
    if len(sheets) > 1:
        click.echo(f"这份文件里有 {len(sheets)} 张记实表，逐张说明：")
    for found in sheets:
        _explain_sheet(found)


def _explain_sheet(found: Explanation) -> None:
    if found.sheets > 1:
        click.echo(f"—— 第 {found.sheet} 张（{found.sheet}/{found.sheets}）——")
    if found.raw is not None:
        click.echo(f"格式：{found.raw.format}，识别到栏目 {found.raw.labels_found} 个")
        codes = [c.text for c in found.raw.code_texts if "KH" in c.text.upper()]
        click.echo(f"文档属性中的表码：{found.raw.property_code or '（无）'}")
        for text in codes:
            click.echo(f"页面上的表码文字：{text.strip()}")
        for line in found.evidence:
            click.echo(line)
        for name, label in FIELD_LABELS:
            value = found.raw.fields.get(name)
            if value is None:
                continue
            shown = value.text.replace("\n", "⏎")
            shown = shown if len(shown) <= 60 else shown[:60] + "…"
            sure = found.confidence(name)
            click.echo(f"  {label}　[{value.where}]{sure}　{shown or '（空）'}")
    record = found.result.record
    if record is not None:
        click.echo(
            f"认定：{record.person_id} {record.name}（{record.unit}）{record.period}，"
            f"等次 {record.grade.value if record.grade else '（无）'}，状态 {record.status.value}"
            f"，结果 {found.outcome.value if found.outcome else '（无）'}"
        )
    else:
        click.echo("认定：无法归属到任何人，将被拒收")
    for item in found.issues:
        click.echo(f"  {item.code}（{item.severity}）{item.message}")


@cli.group("review")
def review_group() -> None:
    """待人工核对：扫描件、加密文件、认不出的人、读出错误的表。"""


@review_group.command("export")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.pass_context
def review_export_command(ctx: click.Context, period: str) -> None:
    """导出待人工核对表（outbox/<季度>/review/待人工核对.xlsx）。"""
    ws = _workspace(ctx.find_root())
    path, count = export_review(ws, _parse_period(period))
    click.echo(f"待人工核对 {count} 份：{path}")
    if count:
        click.echo("在表中填写编号、各栏内容和核对人后保存，再运行 kaohe review import 该文件。")


@review_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--reviewer", default="", help="核对人（表中“核对人”一栏为空时使用）。")
@click.pass_context
def review_import_command(ctx: click.Context, file: Path, reviewer: str) -> None:
    """导入填好的核对表：每一行按记实表同样的规则校验后，计为本人的提交。"""
    ws = _workspace(ctx.find_root())
    result = import_review(ws, file, reviewer=reviewer)
    for key in result.imported:
        click.echo(f"已录入  {key}")
    for problem in result.problems:
        click.echo(f"未录入  {problem}")
    click.echo(
        f"录入 {len(result.imported)} 行，未变化 {len(result.unchanged)} 行，"
        f"有问题 {len(result.problems)} 行，空行 {result.blank} 行"
    )
    if result.problems:
        ctx.exit(1)


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes: two for a Chinese (wide) character, one otherwise."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, width: int) -> str:
    """Left-justify ``text`` to ``width`` terminal columns."""
    return text + " " * max(width - _columns(text), 0)


@cli.command("status")
@click.option("--period", "-p", help="季度，如 2026Q4；默认当前季度。")
@click.option("--unit", help="只看这个考核单位。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（只输出数据）。")
@click.pass_context
def status_command(ctx: click.Context, period: str | None, unit: str | None, as_json: bool) -> None:
    """本季度进度：各单位应交、已交、已评鉴、已审定、未交、逾期，截止日期和未交人员。"""
    ws = _workspace(ctx)
    chosen = _parse_period(period)
    report = status(ws, chosen, unit=unit)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        return
    note = "（暂定）" if report.provisional else ""
    left = (
        f"还有 {report.days_left} 天" if report.days_left >= 0 else f"已过 {-report.days_left} 天"
    )
    click.echo(f"{chosen.title}  截止日期 {report.deadline}{note}  {left}")
    if report.provisional:
        click.echo(PROVISIONAL_HELP.format(years=report.deadline[:4]))
    headers = ("单位", "应交", "已交", "已评鉴", "已审定", "未交", "逾期")
    name_width = max([_columns(u.unit) for u in report.units] + [8]) + 2
    click.echo(_pad(headers[0], name_width) + "".join(f"{_pad(h, 8)}" for h in headers[1:]))
    totals = [0] * 6
    for item in report.units:
        numbers = (
            item.expected,
            item.returned,
            item.graded,
            item.reviewed,
            item.missing,
            item.late,
        )
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        click.echo(_pad(item.unit, name_width) + "".join(f"{n:<8}" for n in numbers))
    click.echo(_pad("合计", name_width) + "".join(f"{n:<8}" for n in totals))
    if report.missing:
        click.echo(f"未交 {len(report.missing)} 人：")
        for person in report.missing:
            leader = f"  分管领导 {person.leader}" if person.leader else ""
            click.echo(f"  {_pad(person.unit, name_width)}{person.person_id} {person.name}{leader}")


@cli.command("report")
@click.option("--period", "-p", help="季度，如 2026Q4；默认当前季度。")
@click.option("--json", "as_json", is_flag=True, help="在标准输出打印 JSON（只输出数据）。")
@click.pass_context
def report_command(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """写异常报告（report/异常报告.xlsx、异常报告.html）和汇总表（汇总表.xlsx）。"""
    ws = _workspace(ctx)
    chosen = _parse_period(period)
    files = write_quarter_files(ws, chosen)
    written, summary, feedback = files.report, files.summary, files.secondment
    if as_json:
        data = [dataclasses.asdict(f) for f in findings(ws, chosen, result=files.result)]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    counts = written.severities
    click.echo(
        f"异常报告：错误 {counts.get('error', 0)} 项，提醒 {counts.get('warning', 0)} 项，"
        f"关注 {counts.get('info', 0)} 项"
    )
    click.echo(f"  {written.xlsx}")
    click.echo(f"  {written.html}")
    click.echo(f"汇总表：{summary}")
    for path in feedback:
        click.echo(f"挂职人员考核结果（反馈本单位）：{path}")


@cli.command("archive")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.pass_context
def archive_command(ctx: click.Context, period: str) -> None:
    """归档：原件按单位改名、被替代和拒收的放在“其他”、汇总表、异常报告和清单，打成一个 zip。"""
    ws = _workspace(ctx)
    result = archive_quarter(ws, _parse_period(period))
    click.echo(f"归档：{result.path}（{result.members} 个文件及清单）")
    for missing in result.missing:
        click.echo(f"注意：未归档（原文件已不在，记录保留在清单中）：{missing}")


@cli.command("verify")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(archive: Path) -> None:
    """核对归档：逐个文件重算哈希，与清单比对。"""
    result = verify(archive)
    if result.ok:
        click.echo(f"归档完好：{result.checked} 个文件与清单一致")
        return
    _error(f"归档已被改动：{result.problem}（已核对 {result.checked} 个文件）")
    raise click.exceptions.Exit(1)


@cli.command("annual")
@click.option("--year", "-y", type=int, required=True, help="年度，如 2026。")
@click.option("--json", "as_json", is_flag=True, help="在标准输出打印 JSON（只输出数据）。")
@click.pass_context
def annual_command(ctx: click.Context, year: int, as_json: bool) -> None:
    """年度汇总：四个季度的结果、次数、可推荐优秀、多次未交、一般/差（outbox/<年>/年度汇总.xlsx）。"""
    ws = _workspace(ctx)
    path, result = write_annual(ws, year)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in result.rows], ensure_ascii=False, indent=2))
        return
    eligible = sum(r.excellent_eligible for r in result.rows)
    repeated = sum(bool(r.repeated_non_submission) for r in result.rows)
    review = sum(bool(r.needs_review) for r in result.rows)
    click.echo(f"{year}年度汇总：{path}")
    click.echo(f"  有数据的季度：{'、'.join(result.periods_with_data) or '（无）'}")
    click.echo(f"  优秀推荐口径：{result.rule}")
    click.echo(f"  可推荐优秀 {eligible} 人，多次未交 {repeated} 人，有一般/差 {review} 人")


@cli.group("appeal")
def appeal_group() -> None:
    """复核：申请、局领导班子决定、查看。决定改定的等次在此后所有输出中生效，原等次保留备查。"""


@appeal_group.command("file")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.option("--person", required=True, help="编号。")
@click.option("--reason", required=True, help="复核理由。")
@click.pass_context
def appeal_file_command(ctx: click.Context, period: str, person: str, reason: str) -> None:
    """登记复核申请。"""
    ws = _workspace(ctx.find_root())
    chosen = _parse_period(period)
    appeal = appeal_stage.file(ws, chosen, person, reason)
    click.echo(f"已登记复核申请：{chosen.title} {person}，原等次“{appeal.original_grade}”")


@appeal_group.command("decide")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.option("--person", required=True, help="编号。")
@click.option("--grade", type=click.Choice([g.value for g in Grade]), help="改定的等次。")
@click.option("--upheld", is_flag=True, help="维持原等次。")
@click.option("--note", default="", help="局领导班子的研究意见。")
@click.pass_context
def appeal_decide_command(
    ctx: click.Context, period: str, person: str, grade: str | None, upheld: bool, note: str
) -> None:
    """记录局领导班子的复核决定：--grade 改定，或 --upheld 维持。"""
    if (grade is None) == (not upheld):
        raise KaoheError("请二选一：--grade 改定的等次，或 --upheld 维持原等次")
    ws = _workspace(ctx.find_root())
    chosen = _parse_period(period)
    appeal = appeal_stage.decide(ws, chosen, person, Grade(grade) if grade else None, note)
    now = appeal.effective_grade
    click.echo(f"已记录复核决定：{chosen.title} {person} {appeal.decision}，现等次“{now}”")


@appeal_group.command("list")
@click.option("--period", "-p", help="只看这个季度。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（只输出数据）。")
@click.pass_context
def appeal_list_command(ctx: click.Context, period: str | None, as_json: bool) -> None:
    """列出复核申请和决定。"""
    ws = _workspace(ctx.find_root())
    found = appeal_stage.listed(ws, _parse_period(period) if period else None)
    if as_json:
        click.echo(json.dumps([a.as_json() for a in found], ensure_ascii=False, indent=2))
        return
    for a in found:
        state = f"{a.decision}“{a.effective_grade}”" if a.decision else "待决定"
        click.echo(f"{a.period} {a.person_id} 原等次“{a.original_grade}” {state}  理由：{a.reason}")
    click.echo(f"共 {len(found)} 件")


@cli.command("feedback")
@click.option("--period", "-p", required=True, help="季度，如 2026Q4。")
@click.option("--unit", help="只生成这个考核单位的反馈通知。")
@click.pass_context
def feedback_command(ctx: click.Context, period: str, unit: str | None) -> None:
    """为每位已评定等次的人生成书面反馈通知（一般/差含整改要求），按单位打包。"""
    ws = _workspace(ctx)
    result = write_feedback(ws, _parse_period(period), unit=unit)
    click.echo(f"已生成反馈通知 {len(result.notices)} 份：")
    for name, bundle in result.bundles.items():
        click.echo(f"  {name}  {bundle}")


@cli.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="监听地址；0.0.0.0 让局域网内其他电脑访问。",
)
@click.option("--port", default=8765, show_default=True, type=int, help="端口。")
@click.option("--open", "open_browser", is_flag=True, help="启动后打开浏览器。")
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, open_browser: bool) -> None:
    """启动工作台（本机网页）：进度、回收上传、人员、复核、催报、单位链接。"""
    import uvicorn

    from .web.app import create_app
    from .web.store import WebStore

    ws = _workspace(ctx)
    if host not in ("127.0.0.1", "localhost", "::1"):
        if not WebStore(ws.root).has_password:
            raise KaoheError(
                "对局域网开放前必须先设置管理密码：先用默认地址启动（kaohe serve），"
                "在浏览器中设置密码，再用 --host 重新启动"
            )
        click.echo(
            f"注意：工作台对局域网开放（{host}:{port}），同一网络中的电脑都能打开登录页。", err=True
        )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    click.echo(f"工作台：{url}（按 Ctrl+C 停止）")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(create_app(ws), host=host, port=port, log_level="warning")


@cli.command("remind")
@click.option("--period", "-p", help="季度，如 2026Q4；默认当前季度。")
@click.option("--unit", help="只给这个考核单位写。")
@click.pass_context
def remind_command(ctx: click.Context, period: str | None, unit: str | None) -> None:
    """催报：给还有人未交的单位各写一份催报通知（Word），并打印可直接粘贴发送的短消息。"""
    ws = _workspace(ctx)
    found = write_reminders(ws, _parse_period(period), unit=unit)
    if not found:
        click.echo("没有未交的人员，无需催报。")
        return
    for reminder in found:
        assert reminder.notice is not None
        click.echo(
            f"{reminder.unit}：未交 {len(reminder.people)} 人  {ws.relative(reminder.notice)}"
        )
        click.echo(f"  {reminder.text}")


@cli.group("ledger")
def ledger_group() -> None:
    """台账（kaohe.sqlite）：检查是否完好；损坏时从自动备份恢复。"""


@ledger_group.command("check")
@click.pass_context
def ledger_check_command(ctx: click.Context) -> None:
    """检查台账是否完好，列出自动备份。"""
    ws = _workspace(ctx.find_root())
    health = upkeep.check(ws)
    if health.problems:
        click.echo(f"台账 {ws.ledger_path} 已损坏：")
        for line in health.problems[:10]:
            click.echo(f"  {line}")
    else:
        total = sum(health.counts.values())
        accepted = health.counts.get("accepted", 0)
        click.echo(f"台账完好：登记了 {total} 个文件版本，其中已接收 {accepted} 份")
    if health.backups:
        click.echo(f"自动备份（{ws.relative(ws.backup_dir)}，最新在前）：")
        for path in health.backups:
            click.echo(f"  {path.name}")
    else:
        click.echo("还没有自动备份（每次 ingest 前自动备份）")
    if health.problems:
        click.echo("恢复：运行 kaohe ledger restore（默认用最新一份完好的备份）")
        ctx.exit(1)


@ledger_group.command("restore")
@click.option(
    "--backup", "name", help="用这份备份（文件名，见 kaohe ledger check）；默认最新一份完好的。"
)
@click.pass_context
def ledger_restore_command(ctx: click.Context, name: str | None) -> None:
    """用自动备份恢复台账；换下的台账保留在备份文件夹中。"""
    ws = _workspace(ctx.find_root())
    result = upkeep.restore(ws, name)
    for skipped in result.skipped:
        click.echo(f"跳过已损坏的备份：{skipped.name}")
    click.echo(f"已从备份 {result.backup.name} 恢复台账")
    if result.damaged is not None:
        click.echo(f"换下的台账保留为：{ws.relative(result.damaged)}")
    click.echo(
        "请再运行一次 kaohe ingest：备份之后交回的文件会重新登记（收到时间取文件修改时间）。"
    )


def run(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``; return the exit code (0 ok, 1 user error, 2 usage)."""
    try:
        result = cli.main(args=argv, standalone_mode=False, prog_name="kaohe")
    except click.exceptions.Abort:
        _error("已取消")
        return 130
    except click.UsageError as exc:
        _error(_usage_message(exc.format_message()))
        click.echo("运行 kaohe --help 查看用法。", err=True)
        return 2
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console entry point."""
    sys.exit(run())


if __name__ == "__main__":
    main()
