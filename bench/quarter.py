"""The whole quarter for a synthetic roster: generate, fill returns, ingest, report, summary,
archive; each stage timed in its own process (so its peak memory is its own), each compared
with the naive route measured in the same run. Writes bench/results.md.

    python bench/quarter.py [--people 10000] [--units 60] [--pdfs 200]

PDF returns are made by LibreOffice from filled sheets (skipped without ``soffice``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    children_peak_rss_mb,
    peak_rss_mb,
    run_child,
    synthetic_rows,
    write_roster,
)
from bench.ingest import fill_quickly  # noqa: E402

PERIOD = "2026Q4"
RESULTS = ROOT / "bench" / "results.md"


def child(stage: str, root: Path, extra: list[str]) -> dict[str, float]:
    from pipeline.models import Period
    from pipeline.workspace import Workspace

    period = Period.parse(PERIOD)
    workspace = Workspace.open(root)
    started = time.perf_counter()
    result: dict[str, float] = {}
    if stage == "generate":
        from pipeline.stages.generate import generate

        result["count"] = len(generate(workspace, period).sheets)
    elif stage == "ingest":
        from pipeline.stages.ingest import ingest

        paths = [root / "inbox" / p for p in extra] or None
        done = ingest(workspace, paths, received_at=datetime(2027, 1, 5, 10))
        result["count"] = len(done.files)
        result["accepted"] = done.counts["accepted"]
    elif stage == "outputs":
        from pipeline.stages.archive import build_archive
        from pipeline.stages.report import write_report
        from pipeline.stages.status import evaluate
        from pipeline.stages.summary import write_summary

        t0 = time.perf_counter()
        evaluated = evaluate(workspace, period)
        write_report(workspace, period, result=evaluated)
        result["report_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_summary(workspace, period, result=evaluated)
        result["summary_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        build_archive(workspace, period.code, result=evaluated, refresh=False)
        result["archive_s"] = time.perf_counter() - t0
    elif stage == "naive-generate":
        from docxtpl import DocxTemplate

        from pipeline.roster import read_roster
        from pipeline.template import period_values, person_values

        people = read_roster(workspace.roster_path)[: int(extra[0])]
        out = root / "naive"
        out.mkdir(exist_ok=True)
        for person in people:
            document = DocxTemplate(str(workspace.template_path))
            document.render(
                {**period_values(period), **person_values(period, person)}, autoescape=True
            )
            document.save(str(out / f"{person.person_id}.docx"))
        result["count"] = len(people)
    elif stage == "naive-ingest":
        import docx

        files = sorted((root / "inbox").rglob("*.docx"))[: int(extra[0])]
        for path in files:
            document = docx.Document(str(path))
            for table in document.tables:
                for row in table.rows:
                    for cell in row.cells:
                        _ = cell.text
        result["count"] = len(files)
    elif stage == "naive-pdf":
        import pdfplumber

        pages = 0
        for path in sorted((root / "inbox").rglob("*.pdf"))[: int(extra[0])]:
            with pdfplumber.open(path) as pdf:
                for page in pdf.pages:
                    page.extract_tables()
                    pages += 1
        result["count"] = pages
    result["seconds"] = time.perf_counter() - started
    result["peak_mb"] = max(peak_rss_mb(), children_peak_rss_mb())
    return result


def _pdf_pages(paths: list[Path]) -> int:
    import pdfplumber

    total = 0
    for path in paths:
        with pdfplumber.open(path) as pdf:
            total += len(pdf.pages)
    return total


def make_returns(root: Path, pdfs: int) -> tuple[int, int, list[str]]:
    """Fill every blank sheet as a .docx return; turn ``pdfs`` of them into PDFs."""
    blank = root / "outbox" / PERIOD / "blank"
    inbox = root / "inbox"
    sheets = sorted(blank.glob("*/*.docx"))
    pdf_sources: list[Path] = []
    soffice = shutil.which("soffice")
    for index, path in enumerate(sheets):
        data = fill_quickly(path.read_bytes(), index)
        if soffice and index % max(len(sheets) // max(pdfs, 1), 1) == 0 and len(pdf_sources) < pdfs:
            source = root / "pdf-src" / f"{index:05d}.docx"
            source.parent.mkdir(exist_ok=True)
            source.write_bytes(data)
            pdf_sources.append(source)
            continue
        target = inbox / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    pdf_names: list[str] = []
    if pdf_sources and soffice:
        out = inbox / "PDF"
        out.mkdir(parents=True, exist_ok=True)
        profile = (root / "lo-profile").as_uri()
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir", str(out)]
            + [str(p) for p in pdf_sources],
            check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
        pdf_names = [f"PDF/{p.name}" for p in sorted(out.glob("*.pdf"))]
    return len(sheets) - len(pdf_sources), len(pdf_names), pdf_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, root, *extra = args.child
        print(json.dumps(child(stage, Path(root), extra)))
        return

    from pipeline.workspace import init_workspace

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory(prefix="kaohe-quarter-") as tmp:
        root = Path(tmp) / "ws"
        init_workspace(root)
        write_roster(root / "roster.xlsx", synthetic_rows(args.people, args.units))
        say(f"quarter {PERIOD}: {args.people} people in {args.units} units")
        gen = run_child(__file__, "generate", str(root))
        naive_gen = run_child(__file__, "naive-generate", str(root), str(args.naive_sample))
        started = time.perf_counter()
        docx_count, pdf_count, pdf_names = make_returns(root, args.pdfs)
        pages = _pdf_pages([root / "inbox" / n for n in pdf_names])
        say(f"  (set-up: {docx_count} .docx and {pdf_count} PDF returns, {pages} PDF pages, "
            f"{time.perf_counter() - started:.0f} s)")  # fmt: skip
        naive_docx = run_child(__file__, "naive-ingest", str(root), str(args.naive_sample))
        naive_pdf = run_child(
            __file__, "naive-pdf", str(root), str(min(args.naive_sample, pdf_count or 1))
        )
        pdf_only = run_child(__file__, "ingest", str(root), *pdf_names) if pdf_names else None
        ingest = run_child(__file__, "ingest", str(root))
        outputs = run_child(__file__, "outputs", str(root))

    def rate(result: dict[str, float]) -> float:
        return result["count"] / result["seconds"]

    say(f"  generate        {rate(gen):8.0f} sheets/s  ({gen['seconds']:.1f} s, peak {gen['peak_mb']:.0f} MB)"
        f"   naive docxtpl {rate(naive_gen):.1f}/s  -> {rate(gen) / rate(naive_gen):.1f}x   target >= 500")  # fmt: skip
    say(f"  ingest (all)    {rate(ingest):8.0f} files/s   ({ingest['seconds']:.1f} s, "
        f"{int(ingest['accepted'])} accepted, peak {ingest['peak_mb']:.0f} MB)"
        f"   naive python-docx {rate(naive_docx):.1f}/s  -> {rate(ingest) / rate(naive_docx):.1f}x   target >= 300")  # fmt: skip
    if pdf_only is not None:
        pdf_rate = pages / pdf_only["seconds"]
        say(f"  ingest (PDF)    {pdf_rate:8.1f} pages/s   ({pdf_only['seconds']:.1f} s for {pages} pages)"
            f"   naive extract_tables {rate(naive_pdf):.1f} pages/s  -> {pdf_rate / rate(naive_pdf):.1f}x   target >= 25")  # fmt: skip
    total = outputs["report_s"] + outputs["summary_s"] + outputs["archive_s"]
    say(f"  report {outputs['report_s']:.1f} s + summary {outputs['summary_s']:.1f} s + archive "
        f"{outputs['archive_s']:.1f} s = {total:.1f} s (peak {outputs['peak_mb']:.0f} MB)   target < 30 s")  # fmt: skip
    peak = max(gen["peak_mb"], ingest["peak_mb"], outputs["peak_mb"])
    say(f"  peak memory of any stage: {peak:.0f} MB   target < 500 MB")
    stamp = datetime.now().strftime("%Y-%m-%d")
    RESULTS.write_text(
        f"# Benchmark results ({stamp}, `python bench/quarter.py`)\n\n```\n"
        + "\n".join(lines)
        + "\n```\n",
        encoding="utf-8",
    )
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
