"""Flows: what a user runs as one step but takes several stages, each over the same quarter
result. The only module besides the demo that calls more than one stage, so the stages
themselves never import each other; the command line and the workbench both call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .models import Period
from .quarter import evaluate
from .rules import PeriodResult
from .stages.archive import ArchiveResult, Output, build_archive
from .stages.report import ReportFiles, write_report
from .stages.secondment import write_secondment_feedback
from .stages.summary import write_summary
from .workspace import Workspace, writes


@dataclass(frozen=True)
class QuarterFiles:
    """The exception report, the summary and the seconded people's lists of one period."""

    result: PeriodResult
    report: ReportFiles
    summary: Path
    secondment: list[Path]


@writes("写异常报告和汇总表")
def write_quarter_files(
    workspace: Workspace, period: Period, *, today: date | None = None
) -> QuarterFiles:
    """异常报告 + 汇总表 + 挂职人员名单, all from one evaluation of the quarter."""
    result = evaluate(workspace, period, today=today)
    report = write_report(workspace, period, today=today, result=result)
    summary = write_summary(workspace, period, result=result)
    secondment = write_secondment_feedback(workspace, result)
    return QuarterFiles(result, report, summary, secondment)


@writes("归档")
def archive_quarter(
    workspace: Workspace, period: Period, files: QuarterFiles | None = None
) -> ArchiveResult:
    """归档: the archive with the summary and report of the same evaluation (written afresh
    unless ``files`` were just written by ``write_quarter_files``)."""
    if files is None:
        result = evaluate(workspace, period)
        report = write_report(workspace, period, result=result)
        summary = write_summary(workspace, period, result=result)
    else:
        result, report, summary = files.result, files.report, files.summary
    return build_archive(
        workspace,
        period.code,
        [
            Output("汇总表.xlsx", "summary", summary),
            Output("异常报告.xlsx", "report", report.xlsx),
            Output("异常报告.html", "report", report.html),
        ],
        result=result,
    )
