"""The whole quarter for a synthetic roster, as HR runs it: generate the blank sheets, ingest
the Word returns, ingest the PDF returns, write the exception report + summary, archive.
Each stage runs in its own process (so its peak memory is its own, readers included) and is
compared with the naive route measured in the same run. Writes bench/results.md.

    python bench/quarter.py [--people 10000] [--units 60] [--pdfs 200] [--flat 2000]
                            [--keep DIR]

``--flat N`` runs the same quarter for N people first, to show memory does not grow with the
roster. ``--keep DIR`` keeps the set-up (filled returns, LibreOffice PDFs) in DIR and reuses
it on the next run; every measured run still starts from an empty workspace.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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
RECEIVED = datetime(2027, 1, 5, 10)


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

        # each outcome passed on and none kept, as the command line does (it prints them)
        done = ingest(
            workspace, [root / "inbox" / p for p in extra], received_at=RECEIVED,
            each=lambda outcome: None,
        )  # fmt: skip
        result["count"] = sum(done.counts.values()) - done.counts["skipped"]
        result["accepted"] = done.counts["accepted"]
    elif stage == "outputs":
        from pipeline.flows import archive_quarter, write_quarter_files

        files = write_quarter_files(workspace, period)
        result["files_s"] = time.perf_counter() - started
        t0 = time.perf_counter()
        archive_quarter(workspace, period, files)
        result["archive_s"] = time.perf_counter() - t0
    elif stage == "naive-generate":
        from docxtpl import DocxTemplate

        from pipeline.template import period_values, person_values

        people = workspace.people()[: int(extra[0])]
        out = root / "naive"
        out.mkdir(exist_ok=True)
        started = time.perf_counter()
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


@dataclass(frozen=True)
class SetUp:
    """A quarter's returns, made once: the roster, the filled Word returns by unit, PDFs."""

    folder: Path
    words: list[str]  # inbox folders holding the Word returns
    pdfs: int
    pages: int


def _pdf_pages(paths: list[Path]) -> int:
    import pypdfium2

    total = 0
    for path in paths:
        document = pypdfium2.PdfDocument(path)
        total += len(document)
        document.close()
    return total


def set_up(folder: Path, people: int, units: int, pdfs: int) -> SetUp:
    """Roster, blank sheets, filled returns (``pdfs`` of them turned into PDFs by LibreOffice);
    reused when ``folder`` already holds them."""
    done = folder / "done.json"
    if done.exists():
        saved = json.loads(done.read_text())
        return SetUp(folder, saved["words"], saved["pdfs"], saved["pages"])
    from pipeline.models import Period
    from pipeline.stages.generate import generate
    from pipeline.workspace import init_workspace

    shutil.rmtree(folder, ignore_errors=True)
    workspace = init_workspace(folder / "made").workspace
    write_roster(folder / "roster.xlsx", synthetic_rows(people, units))
    generate(workspace, Period.parse(PERIOD), roster=folder / "roster.xlsx")
    inbox = folder / "inbox"
    sheets = sorted(workspace.blank_dir(Period.parse(PERIOD)).glob("*/*.docx"))
    step = max(len(sheets) // max(pdfs, 1), 1)
    sources: list[Path] = []
    for index, path in enumerate(sheets):
        data = fill_quickly(path.read_bytes(), index)
        if shutil.which("soffice") and index % step == 0 and len(sources) < pdfs:
            source = folder / "pdf-src" / f"{index:05d}.docx"
            source.parent.mkdir(exist_ok=True)
            source.write_bytes(data)
            sources.append(source)
            continue
        target = inbox / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if sources:
        out = inbox / "PDF"
        out.mkdir(parents=True)
        profile = (folder / "lo-profile").as_uri()
        subprocess.run(
            ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
             "--outdir", str(out), *map(str, sources)],
            check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
    words = sorted(p.name for p in inbox.iterdir() if p.is_dir() and p.name != "PDF")
    pdf_files = sorted((inbox / "PDF").glob("*.pdf")) if sources else []
    pages = _pdf_pages(pdf_files)
    shutil.rmtree(folder / "made")
    shutil.rmtree(folder / "pdf-src", ignore_errors=True)
    done.write_text(json.dumps({"words": words, "pdfs": len(pdf_files), "pages": pages}))
    return SetUp(folder, words, len(pdf_files), pages)


def fresh_workspace(setup: SetUp, root: Path) -> Path:
    """An empty workspace with the set-up's roster and its returns in the inbox (hard links:
    the inbox is read-only to kaohe)."""
    from pipeline.workspace import init_workspace

    workspace = init_workspace(root).workspace
    shutil.copyfile(setup.folder / "roster.xlsx", workspace.roster_path)
    shutil.copytree(
        setup.folder / "inbox", workspace.inbox, copy_function=os.link, dirs_exist_ok=True
    )
    return root


@dataclass(frozen=True)
class Quarter:
    people: int
    generate: dict[str, float]
    words: dict[str, float]
    pdf: dict[str, float] | None
    outputs: dict[str, float]
    #: Each naive route's measurements: an ingest route just before and just after kaohe's
    #: own stage (the machine's speed drifts over minutes: a ratio to one measurement taken
    #: later can be 30% off); naive generation once, after.
    naive: dict[str, list[dict[str, float]]]

    @property
    def seconds(self) -> float:
        stages = [self.generate, self.words, self.outputs] + ([self.pdf] if self.pdf else [])
        return sum(s["seconds"] for s in stages)

    @property
    def peak_mb(self) -> float:
        stages = [self.generate, self.words, self.outputs] + ([self.pdf] if self.pdf else [])
        return max(s["peak_mb"] for s in stages)


def _stage(*args: str) -> dict[str, float]:
    """One stage in its own process, after the disk has written out what came before (HR
    runs the stages days apart, not while the previous one's files are still being flushed)."""
    os.sync()
    return run_child(__file__, *args)


def run_quarter(setup: SetUp, root: Path, people: int, naive_sample: int = 0) -> Quarter:
    """The quarter's stages in order; with ``naive_sample``, each naive ingest route is run on
    that many files just before and just after the stage it is compared with (naive
    generation once, after kaohe's)."""
    fresh_workspace(setup, root)
    naive: dict[str, list[dict[str, float]]] = {}

    def compared(route: str, sample: int, *stage: str) -> dict[str, float]:
        if not naive_sample or not sample:
            return _stage(*stage)
        before = run_child(__file__, route, str(root), str(sample))
        done = _stage(*stage)
        naive[route] = [before, run_child(__file__, route, str(root), str(sample))]
        return done

    generated = _stage("generate", str(root))
    if naive_sample:  # after: before, it would read the roster and leave generate its cache
        naive["naive-generate"] = [
            run_child(__file__, "naive-generate", str(root), str(naive_sample))
        ]
    words = compared("naive-ingest", naive_sample, "ingest", str(root), *setup.words)
    pdf = (
        compared("naive-pdf", min(naive_sample, setup.pdfs), "ingest", str(root), "PDF")
        if setup.pdfs
        else None
    )
    outputs = _stage("outputs", str(root))
    return Quarter(people, generated, words, pdf, outputs, naive)


def rate(result: dict[str, float]) -> float:
    return result["count"] / result["seconds"]


def naive_rate(measured: list[dict[str, float]]) -> tuple[float, str]:
    """A naive route's rate over all its measurements (their files over their seconds), and
    when there were two, each one's ("before …, after …")."""
    together = sum(m["count"] for m in measured) / sum(m["seconds"] for m in measured)
    if len(measured) != 2:
        return together, ""
    before, after = measured
    return together, f"before {rate(before):.1f}, after {rate(after):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--pdfs", type=int, default=200)
    parser.add_argument("--flat", type=int, default=2_000, help="also a quarter of N people")
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="keep and reuse the set-up here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        stage, root, *extra = args.child
        print(json.dumps(child(stage, Path(root), extra)))
        return

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory(prefix="kaohe-quarter-") as tmp:
        work = Path(tmp)
        keep = args.keep or work / "setup"
        started = time.perf_counter()
        setup = set_up(keep / str(args.people), args.people, args.units, args.pdfs)
        small = (
            set_up(
                keep / str(args.flat), args.flat, args.units, args.pdfs * args.flat // args.people
            )
            if args.flat
            else None
        )
        made = time.perf_counter() - started
        say(f"quarter {PERIOD}: {args.people} people in {args.units} units")
        say(f"  (set-up: {sum(1 for _ in (setup.folder / 'inbox').rglob('*.docx'))} Word and "
            f"{setup.pdfs} PDF returns ({setup.pages} pages), {made:.0f} s)")  # fmt: skip
        flat = run_quarter(small, work / "small", args.flat) if small else None
        big = run_quarter(setup, work / "big", args.people, args.naive_sample)

    gen, words, pdf, outputs = big.generate, big.words, big.pdf, big.outputs
    naive_gen, _ = naive_rate(big.naive["naive-generate"])
    naive_docx, docx_when = naive_rate(big.naive["naive-ingest"])
    say(f"  generate        {rate(gen):8.0f} sheets/s  ({gen['seconds']:.1f} s, peak {gen['peak_mb']:.0f} MB)"
        f"   naive docxtpl {naive_gen:.1f}/s  -> {rate(gen) / naive_gen:.1f}x")  # fmt: skip
    say(f"  ingest Word     {rate(words):8.0f} files/s   ({words['seconds']:.1f} s, "
        f"{int(words['accepted'])} accepted, peak {words['peak_mb']:.0f} MB)"
        f"   naive python-docx {naive_docx:.1f}/s ({docx_when})  -> {rate(words) / naive_docx:.1f}x"
        f"   target >= 800/s and >= 12x")  # fmt: skip
    if pdf is not None and "naive-pdf" in big.naive:
        pages = setup.pages / pdf["seconds"]
        naive_pdf, pdf_when = naive_rate(big.naive["naive-pdf"])
        say(f"  ingest PDF      {pages:8.1f} pages/s   ({pdf['seconds']:.1f} s for {setup.pages} pages, "
            f"peak {pdf['peak_mb']:.0f} MB)   naive extract_tables {naive_pdf:.1f} pages/s ({pdf_when})"
            f"  -> {pages / naive_pdf:.1f}x   target >= 100 pages/s and >= 3x")  # fmt: skip
    say(f"  report + summary {outputs['files_s']:.1f} s, archive {outputs['archive_s']:.1f} s "
        f"(peak {outputs['peak_mb']:.0f} MB)")  # fmt: skip
    say(f"  whole quarter   {big.seconds:8.1f} s      target < 35 s")
    say(f"  peak memory of any stage: {big.peak_mb:.0f} MB   target < 250 MB")
    if flat is not None:
        stages = ("generate", "words", "pdf", "outputs")
        shown = "  ".join(
            f"{name} {getattr(flat, name)['peak_mb']:.0f} -> {getattr(big, name)['peak_mb']:.0f}"
            for name in stages
            if getattr(flat, name) and getattr(big, name)
        )
        say(f"  memory {args.flat} -> {args.people} people (MB): {shown}")
        say(f"  whole quarter for {args.flat} people: {flat.seconds:.1f} s")
    stamp = datetime.now().strftime("%Y-%m-%d")
    previous = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    others = previous[previous.index("\n# ", 1) :] if "\n# " in previous[1:] else ""
    RESULTS.write_text(
        f"# Benchmark results ({stamp}, `python bench/quarter.py`, {os.cpu_count()} cores)\n\n```\n"
        + "\n".join(lines)
        + "\n```\n"
        + others,
        encoding="utf-8",
    )
    print(f"written: {RESULTS}")


if __name__ == "__main__":
    main()
