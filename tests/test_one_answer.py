"""One answer per person per quarter: export, status, the summary workbook and the annual
roll-up agree on each person's grade and result — after an appeal, on long leave, and for
a missing return."""

from __future__ import annotations

import csv
import dataclasses
import json
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook

from pipeline.models import Period
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.summary import HEADERS
from pipeline.workspace import Workspace

from .conftest import kaohe
from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.fixture
def quarter(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    sheets = {
        "0007": dataclasses.replace(MODEST, grade_tick="☑一般"),  # appealed to 较好
        "0001": dataclasses.replace(MODEST, leave_days="40", grade_tick=""),  # long leave
        "0002": MODEST,
    }
    for person_id, entries in sheets.items():
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        (workspace.inbox / f"{person_id}.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=datetime(2027, 1, 5, 10))
    late = workspace.inbox / "0002.docx"  # sent again after the deadline
    late.write_bytes(fill(next(workspace.blank_dir(Q4).glob("*/0002_*.docx")).read_bytes(),
                          dataclasses.replace(MODEST, self_evaluation="补充")))  # fmt: skip
    ingest(workspace, [late], received_at=datetime(2027, 1, 12, 9))
    return workspace


def _word(grade: object, status: object) -> str:
    """The outcome word from an output that shows grade and status side by side."""
    return str(grade) if grade else str(status)


def test_every_output_gives_the_same_result(
    quarter: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """Appeal 一般→较好, 40 days of leave without a grade, a late return, a missing one: each
    output's view of every person, compared in one assertion."""
    ws = str(quarter.root)
    base = ("-w", ws)
    kaohe(capsys, *base, "appeal", "file", "-p", "2026Q4", "--person", "0007", "--reason", "有误")
    kaohe(capsys, *base, "appeal", "decide", "-p", "2026Q4", "--person", "0007", "--grade", "较好")
    views: dict[str, dict[str, str]] = {}

    code, out, _ = kaohe(capsys, *base, "export", "-p", "2026Q4")
    assert code == 0
    exported = {r["person_id"]: r for r in json.loads(out)}
    views["export json"] = {p: _word(r["grade"], r["status"]) for p, r in exported.items()}
    out_csv = quarter.root / "out.csv"
    kaohe(capsys, *base, "export", "-p", "2026Q4", "--format", "csv", "-o", str(out_csv))
    with out_csv.open(encoding="utf-8-sig", newline="") as handle:
        views["export csv"] = {
            r["编号"]: _word(r["等次"], r["状态"]) for r in csv.DictReader(handle)
        }
    kaohe(capsys, *base, "export", "-p", "2026Q4", "--format", "xlsx")
    [xlsx] = (quarter.period_dir(Q4) / "export").glob("*.xlsx")
    rows = list(load_workbook(xlsx, read_only=True).active.iter_rows(values_only=True))
    views["export xlsx"] = {
        r[rows[0].index("编号")]: _word(r[rows[0].index("等次")], r[rows[0].index("状态")])
        for r in rows[1:]
    }

    code, out, _ = kaohe(capsys, *base, "report", "-p", "2026Q4", "--json")
    findings = json.loads(out)
    book = load_workbook(quarter.period_dir(Q4) / "汇总表.xlsx", read_only=True)
    rows = list(book["全部人员"].iter_rows(values_only=True))
    column = {h: i for i, h in enumerate(HEADERS)}
    views["summary"] = {
        r[column["编号"]]: _word(r[column["等次"]], r[column["状态"]]) for r in rows[1:]
    }
    late_in_summary = {
        r[column["编号"]] for r in rows[1:] if "是" in r[column["逾期"] : column["逾期"] + 1]
    }

    code, out, _ = kaohe(capsys, *base, "annual", "--year", "2026", "--json")
    views["annual"] = {r["person_id"]: r["quarters"]["2026Q4"] for r in json.loads(out)}

    kaohe(capsys, *base, "archive", "-p", "2026Q4")
    [archive] = (quarter.period_dir(Q4) / "archive").glob("*.zip")
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
    views["manifest"] = {r["person_id"]: r["outcome"] for r in manifest["results"]}

    views["explain"] = {}
    for person_id in exported:
        code, out, _ = kaohe(capsys, *base, "explain", str(quarter.inbox / f"{person_id}.docx"))
        views["explain"][person_id] = out.split("结果 ")[1].split()[0]

    code, out, _ = kaohe(capsys, *base, "status", "-p", "2026Q4", "--json")
    missing_in_status = {m["person_id"] for m in json.loads(out)["missing"]}

    everyone = views["manifest"]
    missing = {p for p, word in everyone.items() if word == "未交"}
    late = {f["person_id"] for f in findings if f["code"] == "LATE_RETURN"}
    # one assertion over every output: each one's view of each person it lists
    assert (
        {name: {p: everyone[p] for p in view} for name, view in views.items()},
        missing_in_status,
        {f["person_id"] for f in findings if f["code"] == "MISSING_RETURN"},
        late_in_summary,
    ) == (views, missing, missing, late)

    # the cases the issue names, pinned
    assert everyone["0007"] == "较好" and exported["0007"]["grade_on_sheet"] == "一般"
    assert exported["0007"]["appeal"]["decision"] == "改定"
    assert exported["0002"]["appeal"] is None
    assert everyone["0001"] == "不定等次"
    assert "MISSING_GRADE" not in {i["code"] for i in exported["0001"]["issues"]}
    assert everyone["0003"] == "未交" and late == {"0002"}
    assert {r["person_id"]: r["grade_on_sheet"] for r in manifest["results"]}["0007"] == "一般"


def test_stages_do_not_import_each_other_and_layers_point_down() -> None:
    """models ← readers/writers ← domain (ledger, rules, quarter …) ← stages ← flows ← cli:
    an import against the arrows, or one stage importing another, fails here."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "pipeline"
    bottom = {"models", "fields", "settings", "errors", "paths", "progress", "codes", "identity", "qr", "lock",
              "workers"}  # fmt: skip
    domain = {"rules", "quarter", "settle", "records", "appeals", "normalize", "roster", "backups",
              "workdays", "template", "workspace", "sample", "ledger", "scanned", "spool"}  # fmt: skip
    rank = {"base": 0, "readers": 1, "writers": 1, "domain": 2, "stages": 3, "flows": 4,
            "demo": 4, "cli": 5, "__main__": 5, "web": 5}  # fmt: skip

    def layer(module: str) -> str:
        head = module.split(".")[0]
        if head in ("readers", "writers", "stages", "web", "flows", "demo", "cli", "__main__"):
            return head
        if head in bottom or head == "":
            return "base"
        assert head in domain, f"unknown module {module}: add it to a layer"
        return "domain"

    wrong = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        here = ".".join(parts)
        package = parts[:-1] if path.name != "__init__.py" else parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                targets = [".".join([*base, node.module])]
            else:  # from . import x: a module if there is one, else a name of the package
                targets = [
                    ".".join([*base, a.name])
                    if root.joinpath(*base, a.name + ".py").exists()
                    or root.joinpath(*base, a.name).is_dir()
                    else ".".join(base)
                    for a in node.names
                ]
            for target in targets:
                if not here or not target:
                    continue
                mine, theirs = layer(here), layer(target)
                if mine == "stages" and theirs == "stages" and here != target:
                    wrong.append(f"{here} imports the stage {target}")
                elif rank.get(theirs, 2) > rank.get(mine, 2):
                    wrong.append(f"{here} ({mine}) imports {target} ({theirs})")
    assert wrong == []


@pytest.mark.parametrize("machine_zone", ["UTC", "Asia/Shanghai", "America/New_York"])
def test_late_is_judged_on_beijing_time_whatever_the_pc_zone(
    workspace: Workspace, machine_zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2027-01-07 07:00 in Beijing is after the 2026Q4 deadline (2027-01-06), also when the
    PC runs on UTC, where it is still 2027-01-06; 2027-01-06 23:30 Beijing is on time."""
    import time
    from datetime import timedelta, timezone

    from pipeline.quarter import evaluate

    monkeypatch.setenv("TZ", machine_zone)
    time.tzset()
    try:
        generate(workspace, Q4)
        beijing = timezone(timedelta(hours=8))
        times = {
            "0007": datetime(2027, 1, 7, 7, 0, tzinfo=beijing),
            "0002": datetime(2027, 1, 6, 23, 30, tzinfo=beijing),
        }
        for person_id, moment in times.items():
            [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
            path = workspace.inbox / f"{person_id}.docx"
            path.write_bytes(fill(blank.read_bytes(), MODEST))
            ingest(workspace, [path], received_at=moment)
        result = evaluate(workspace, Q4, today=datetime(2027, 1, 20).date())
        late = {f.person_id for f in result.findings() if f.code == "LATE_RETURN"}
        assert late == {"0007"}
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_newer_version_wins_across_zones(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs on PCs in different zones store different offsets; versions are compared as
    instants, not as text."""
    import time
    from datetime import timedelta, timezone

    from pipeline.quarter import accepted_records

    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0007_*.docx")
    older, newer = workspace.inbox / "a.docx", workspace.inbox / "b.docx"
    older.write_bytes(fill(blank.read_bytes(), dataclasses.replace(MODEST, grade_tick="☑一般")))
    newer.write_bytes(fill(blank.read_bytes(), MODEST))
    beijing = timezone(timedelta(hours=8))
    try:
        # stored as "2027-01-05T09:00:00+00:00" (17:00 in Beijing) ...
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
        ingest(workspace, [newer], received_at=datetime(2027, 1, 5, 17, 0, tzinfo=beijing))
        # ... and "2027-01-05T10:00:00+08:00", which sorts after it as text
        monkeypatch.setenv("TZ", "Asia/Shanghai")
        time.tzset()
        ingest(workspace, [older], received_at=datetime(2027, 1, 5, 10, 0, tzinfo=beijing))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    [record] = [r for r in accepted_records(workspace, Q4) if r.person_id == "0007"]
    assert record.source.received_at == "2027-01-05T09:00:00+00:00"
    assert record.grade is not None and record.grade.value == "较好"


def test_each_field_has_one_name_in_every_output() -> None:
    """Headers come from fields.FIELDS: no output can call a field something else."""
    from pipeline.codes import FIELD_NAMES
    from pipeline.fields import FIELDS
    from pipeline.stages.explain import FIELD_LABELS
    from pipeline.stages.export import COLUMNS as EXPORT
    from pipeline.stages.review import COLUMNS as REVIEW
    from pipeline.stages.summary import HEADERS as SUMMARY

    names = {f.header for f in FIELDS}
    for listing in (
        [h for h, _ in EXPORT],
        [h for h, _ in REVIEW],
        list(SUMMARY),
        [h for _, h in FIELD_LABELS],
    ):
        assert "请假情况（天）" not in listing and "自我评价" not in listing
        assert {"请假（天）", "本季度自我评价"} <= set(listing)
        assert [h for h in listing if h in names] == list(
            dict.fromkeys(h for h in listing if h in names)
        )
    assert "请假情况（天）" not in FIELD_NAMES.values()
    assert FIELD_NAMES["leave_days"] == "请假（天）"
    assert FIELD_NAMES["signature"] == "签字日期"
