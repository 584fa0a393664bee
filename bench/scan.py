"""Scanned and photographed sheets: accuracy and speed of the scan reader, against the naive
route (RapidOCR's own full pipeline — detector, angle classifier, recogniser — on the whole
page) in the same run.

Pages are made the way a bureau makes them (tests/scans.py): the demo roster's sheets
filled in Word, printed by LibreOffice, ticked and signed by pen, then scanned (150–300 dpi,
rotation, skew, noise, JPEG, upside down, sideways) or photographed (perspective, uneven
light, a desk around the page); some files are stacks with blank backs.

    python bench/scan.py [--pages 48] [--workers 2] [--naive 6]

Needs LibreOffice (``soffice``) to print the sheets.
"""

from __future__ import annotations

import argparse
import difflib
import io
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scans import (  # noqa: E402
    Pen,
    Scanner,
    blank_back,
    print_pdf,
    scan,
    scanned_pdf,
    to_bytes,
    write_by_hand,
)

CONDITIONS = (
    ("平板 200dpi", 200, Scanner(rotate=0.6, noise=4, seed=1)),
    ("平板 150dpi JPEG", 150, Scanner(rotate=1.5, noise=6, jpeg=60, seed=2)),
    ("平板 300dpi 模糊", 300, Scanner(rotate=-2.5, noise=8, blur=0.6, seed=3)),
    ("倒放", 200, Scanner(rotate=180.7, noise=5, jpeg=70, seed=4)),
    ("横放", 200, Scanner(rotate=90.4, noise=5, seed=5)),
    (
        "手机照片",
        200,
        Scanner(perspective=0.04, light=0.35, noise=7, jpeg=55, blur=0.7, desk=True, seed=6),
    ),
)
GRADES = ("好", "较好", "一般", "差", "好", "较好", "")
WORK = (
    "完成辖区企业现场检查{n}家，办理信访件{m}件，参与环评审批3项。",
    "参与专项执法行动，整理案卷{m}卷，配合完成督察反馈问题整改。",
    "完成季度总结和统计报表，组织业务培训{k}次。",
)
SELF = "本季度认真履行岗位职责，遵守工作纪律，按时完成各项任务。"  # what fill_blank types


@dataclass
class Truth:
    person_id: str
    grade: str
    months: tuple[str, str, str]
    self_evaluation: str
    attendance: tuple[str, str, str, str]


def make_pages(count: int, folder: Path) -> list[tuple[str, bytes, list[Truth]]]:
    """Files to read (name, bytes, the truth of each sheet in it, in page order)."""
    from pipeline.demo import SampleReturn, fill_blank
    from pipeline.models import Period
    from pipeline.stages.generate import generate
    from pipeline.workspace import init_workspace

    period = Period.parse("2026Q4")
    workspace = init_workspace(folder / "ws").workspace
    generate(workspace, period)
    blanks = sorted(workspace.blank_dir(period).glob("*/*.docx"))
    truths: list[Truth] = []
    docs: list[Path] = []
    for index in range(count):
        blank = blanks[index % len(blanks)]
        person_id, name = blank.name.split("_")[:2]
        labels = period.month_labels
        months = tuple(
            f"{label}：{text.format(n=index % 20 + 3, m=index % 9 + 1, k=index % 4 + 1)}"
            for label, text in zip(labels, WORK, strict=True)
        )
        attendance = (str(index % 3), "0", "无" if index % 4 == 0 else "0",
                      ("0", "1.5", "2", "半天")[index % 4])  # fmt: skip
        sample = SampleReturn(person_id, months, attendance, "", datetime(2027, 1, 5, 10), "",
                              leader="该同志工作认真负责，能按时完成各项任务。")  # fmt: skip
        path = folder / f"p{index:03d}.docx"
        path.write_bytes(fill_blank(blank.read_bytes(), sample, name, signed=False))
        docs.append(path)
        truths.append(Truth(person_id, GRADES[index % len(GRADES)], months, SELF, attendance))  # type: ignore[arg-type]
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(folder),
                    *map(str, docs)], check=True, capture_output=True, timeout=900)  # fmt: skip
    files: list[tuple[str, bytes, list[Truth]]] = []
    stack: list[tuple[object, Truth]] = []
    for index, (doc, truth) in enumerate(zip(docs, truths, strict=True)):
        label, dpi, scanner = CONDITIONS[index % len(CONDITIONS)]
        [printed] = print_pdf(doc.with_suffix(".pdf").read_bytes(), dpi)
        paper = write_by_hand(printed, Pen(tick=truth.grade, cross=index % 11 == 5, seed=index))
        image = scan(paper, Scanner(**{**scanner.__dict__, "seed": index}))
        if index % 8 == 7:  # every eighth sheet goes into a stack with its blank back
            stack.append((image, truth))
            stack.append((scan(blank_back(printed), Scanner(noise=4, seed=index)), truth))
            continue
        if label == "手机照片":
            files.append((f"{index:03d}.jpg", to_bytes(image.convert("RGB"), "JPEG", quality=75),
                          [truth]))  # fmt: skip
        else:
            files.append((f"{index:03d}.png", to_bytes(image), [truth]))
    if stack:
        images = [image for image, _ in stack]
        sheets = [truth for n, (_, truth) in enumerate(stack) if n % 2 == 0]
        files.append(("stack.pdf", scanned_pdf(images), sheets))  # type: ignore[arg-type]
    return files


def _read(item: tuple[str, bytes]) -> tuple[list[dict[str, object]] | None, str | None, float]:
    from pipeline.readers.reading import read_submission

    name, data = item
    result = read_submission(name, data)
    return result.raws, result.message, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _warm(_: int) -> None:
    """Load the model and the form in a worker before the clock starts."""
    import numpy as np

    from pipeline.readers import ocr, scan

    ocr.recognize([np.full((48, 200), 255, dtype=np.uint8)])
    scan.form_cells()


def _naive(pages: list[bytes]) -> tuple[float, float]:
    """RapidOCR as shipped, on each whole page: seconds per page, peak MB."""
    import numpy as np
    from PIL import Image
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
    started = time.perf_counter()
    for data in pages:
        engine(np.array(Image.open(io.BytesIO(data)).convert("RGB")))
    seconds = (time.perf_counter() - started) / max(len(pages), 1)
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def char_accuracy(read: str, truth: str) -> tuple[int, int]:
    """(characters right, characters in the truth), by alignment."""
    matcher = difflib.SequenceMatcher(None, read, truth, autojunk=False)
    right = sum(block.size for block in matcher.get_matching_blocks())
    return right, len(truth)


def main() -> None:
    from pipeline.codes import Code
    from pipeline.models import Period, Source
    from pipeline.readers.raw import raw_from_json
    from pipeline.records import RosterIndex, interpret
    from pipeline.sample import sample_people

    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--naive", type=int, default=6, help="pages for the naive route")
    parser.add_argument("--show", action="store_true", help="print each misread line")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        files = make_pages(options.pages, Path(folder))
        made = time.perf_counter() - started
    context = multiprocessing.get_context("forkserver")
    with context.Pool(options.workers) as pool:
        pool.map(_warm, range(options.workers))
        started = time.perf_counter()
        results = pool.map(_read, [(name, data) for name, data, _ in files], chunksize=1)
        seconds = time.perf_counter() - started
    roster = RosterIndex(sample_people())
    period = Period.parse("2026Q4")
    sheets = wrong_people = people_right = 0
    graded = grade_accepted = wrong_grades = 0
    chars_right = chars_total = 0
    accepted_pages = 0
    lowest: dict[str, list[float]] = {}
    numbers: list[tuple[float, bool]] = []
    for (name, _, truths), (raws, message, _) in zip(files, results, strict=True):
        if raws is None:
            print(f"  未读出 {name}：{message}")
            sheets += len(truths)
            continue
        for raw_json, truth in zip(raws, truths, strict=False):
            sheets += 1
            raw = raw_from_json(raw_json)
            for field, lines in raw.lines.items():
                lowest.setdefault(field, []).extend(score for _, score in lines)
            source = Source(
                path=name, sha256="0" * 64, format="scan", received_at="2027-01-05T10:00:00+08:00"
            )
            found = interpret(raw, roster, source, period)
            record = found.record
            if record is None:
                continue
            if record.person_id != truth.person_id:
                wrong_people += 1
                continue
            people_right += 1
            want = dict(zip(("late", "early_leave", "absent", "leave_days"),
                            (float(v) if v.replace(".", "").isdigit() else {"无": 0.0, "半天": 0.5}[v]
                             for v in truth.attendance), strict=True))  # fmt: skip
            for key, value in want.items():
                got = getattr(record.attendance, key)
                line = raw.lines.get(key) or [("", 1.0)]
                numbers.append((min(score for _, score in line), got == value))
            if truth.grade:
                graded += 1
                if record.grade is not None:
                    grade_accepted += 1
                    wrong_grades += record.grade.value != truth.grade
            elif record.grade is not None:
                wrong_grades += 1
            doubtful = any(i.code == Code.SCAN_UNCERTAIN.value for i in record.issues)
            if not doubtful:
                accepted_pages += 1
                for got, want in zip(record.monthly_records, truth.months, strict=True):
                    r, t = char_accuracy(got, want)
                    chars_right, chars_total = chars_right + r, chars_total + t
                    if r < t and options.show:
                        print(f"  {name}: {got!r} != {want!r}")
                r, t = char_accuracy(record.self_evaluation, truth.self_evaluation)
                chars_right, chars_total = chars_right + r, chars_total + t
                if r < t and options.show:
                    print(f"  {name}: {record.self_evaluation!r} != {truth.self_evaluation!r}")
    worker_peak = max(peak for _, _, peak in results)
    naive_pages = [data for name, data, _ in files if name.endswith(".png")][: options.naive]
    with context.Pool(1) as pool:
        naive_seconds, naive_peak = pool.apply(_naive, (naive_pages,))
    rate = sheets / seconds
    naive_rate = options.workers / naive_seconds
    print(f"scans: {sheets} sheets in {len(files)} files ({made:.0f} s to print and scan them)")
    print(f"  person right {people_right}/{sheets}, wrong person accepted {wrong_people}")
    print(
        f"  grade auto-accepted {grade_accepted}/{graded} ({grade_accepted / max(graded, 1):.1%}), wrong grades accepted {wrong_grades}"
    )
    print(
        f"  typed characters right on accepted pages {chars_right}/{chars_total} ({chars_right / max(chars_total, 1):.2%}), pages with every line certain {accepted_pages}/{people_right}"
    )
    print(
        f"  speed {rate:.2f} pages/s with {options.workers} workers ({seconds:.1f} s)   naive full-page RapidOCR {naive_rate:.2f} pages/s -> {rate / naive_rate:.1f}x   target >= 1 page/s"
    )
    print(
        f"  peak memory per worker {worker_peak:.0f} MB   naive {naive_peak:.0f} MB   target < 800 MB"
    )
    right = sum(ok for _, ok in numbers)
    print(f"  attendance numbers right {right}/{len(numbers)}; lowest score of a wrong one: "
          f"{min((s for s, ok in numbers if not ok), default=float('nan')):.3f}; lowest of a right one: "
          f"{min((s for s, ok in numbers if ok), default=float('nan')):.3f}")  # fmt: skip
    for field in sorted(lowest):
        scores = sorted(lowest[field])
        if scores:
            print(
                f"  line scores {field:16s} min {scores[0]:.3f}  p1 {scores[len(scores) // 100]:.3f}  p5 {scores[len(scores) // 20]:.3f}"
            )


if __name__ == "__main__":
    main()
