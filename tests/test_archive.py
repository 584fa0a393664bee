"""The period archive: members and manifest, byte-identical re-runs, verify on tampering."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cli import run
from pipeline.errors import KaoheError
from pipeline.flows import archive_quarter
from pipeline.models import Period
from pipeline.stages.archive import MANIFEST, posix_name, verify
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)


@pytest.fixture
def ingested(workspace: Workspace) -> Workspace:
    generate(workspace, Q4)
    sheets = {}
    for person_id in ("0001", "0007"):
        [blank] = workspace.blank_dir(Q4).glob(f"*/{person_id}_*.docx")
        sheets[person_id] = fill(blank.read_bytes(), MODEST)
    (workspace.inbox / "张伟_旧.docx").write_bytes(
        fill(blank.read_bytes(), dataclasses.replace(MODEST, late="1"))
    )
    ingest(workspace, received_at=datetime(2027, 1, 4, 9))
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("城区分局/张伟.docx", sheets["0001"])
        archive.writestr("执法队/张伟.docx", sheets["0007"])
    (workspace.inbox / "汇总.zip").write_bytes(bundle.getvalue())
    (workspace.inbox / "坏.docx").write_bytes(b"not a sheet")
    ingest(workspace, received_at=datetime(2027, 1, 5, 9))
    return workspace


def test_archive_members_and_manifest(ingested: Workspace) -> None:
    result = archive_quarter(ingested, Q4)
    assert result.path == ingested.root / "outbox/2026Q4/archive/2026Q4_平时考核归档.zip"
    with zipfile.ZipFile(result.path) as archive:
        names = archive.namelist()
        assert names == [*sorted(names[:-1]), "manifest.json"]
        assert set(names) == {
            "城区分局/0001_张伟_2026Q4.docx", "综合行政执法队/0007_张伟_2026Q4.docx",
            "其他/被替代_张伟_旧.docx", "其他/拒收_坏.docx",
            "汇总表.xlsx", "异常报告.xlsx", "异常报告.html", "manifest.json",
        }  # fmt: skip
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["period"] == "2026Q4" and manifest["tool"].startswith("kaohe ")
        assert manifest["deadline"] == {"day": "2027-01-06", "provisional": True}
        assert (
            manifest["template_sha256"]
            == hashlib.sha256(ingested.template_path.read_bytes()).hexdigest()
        )
        for member in manifest["members"]:
            data = archive.read(member["name"])
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (
                member["sha256"],
                member["size"],
            )
            assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        zhang = next(
            m for m in manifest["members"] if m["name"] == "城区分局/0001_张伟_2026Q4.docx"
        )
        assert zhang["source_path"] == "inbox/汇总.zip!/城区分局/张伟.docx"
        assert zhang["record"]["grade"] == "较好" and zhang["received_at"].startswith(
            "2027-01-05T09:00"
        )
        old = next(m for m in manifest["members"] if m["name"] == "其他/被替代_张伟_旧.docx")
        assert (
            old["outcome"] == "superseded"
            and old["reason"] == "已被较新的 inbox/汇总.zip!/执法队/张伟.docx 替代"
        )


def test_names_taken_twice_get_a_number_and_a_missing_original_keeps_its_name(
    ingested: Workspace,
) -> None:
    """Three rejected files called 坏.docx: the archive names them 拒收_坏, 拒收_坏_2 and
    拒收_坏_3 in the ledger's order; one whose original is gone is listed as missing and
    keeps its name taken, so the others' names do not shift from run to run."""
    for folder in ("甲", "乙"):
        (ingested.inbox / folder).mkdir()
        (ingested.inbox / folder / "坏.docx").write_bytes(f"not a sheet from {folder}".encode())
    ingest(ingested, received_at=datetime(2027, 1, 5, 10))
    with zipfile.ZipFile(archive_quarter(ingested, Q4).path) as archive:
        taken = sorted(n for n in archive.namelist() if n.startswith("其他/拒收_坏"))
        manifest = json.loads(archive.read(MANIFEST))
    assert taken == ["其他/拒收_坏.docx", "其他/拒收_坏_2.docx", "其他/拒收_坏_3.docx"]
    by_name = {m["name"]: m.get("source_path") for m in manifest["members"]}
    first = by_name["其他/拒收_坏_2.docx"]
    (ingested.root / first).unlink()  # its original gone: listed as missing, name kept
    with zipfile.ZipFile(archive_quarter(ingested, Q4).path) as archive:
        again = sorted(n for n in archive.namelist() if n.startswith("其他/拒收_坏"))
        missing = json.loads(archive.read(MANIFEST))["missing_originals"]
    assert again == ["其他/拒收_坏.docx", "其他/拒收_坏_3.docx"]
    assert [m["source_path"] for m in missing] == [first]


def test_second_run_is_byte_identical(ingested: Workspace) -> None:
    first = archive_quarter(ingested, Q4).path.read_bytes()
    assert archive_quarter(ingested, Q4).path.read_bytes() == first


def test_verify_names_the_first_tampered_member(
    ingested: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = archive_quarter(ingested, Q4).path
    assert run(["verify", str(path)]) == 0
    assert capsys.readouterr().out == "归档完好：7 个文件与清单一致\n"
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "其他/拒收_坏.docx":
                data = b"changed"
            target.writestr(info, data)
    assert run(["verify", str(tampered)]) == 1
    assert (
        capsys.readouterr().err
        == "错误：归档已被改动：文件内容与清单不符：其他/拒收_坏.docx（已核对 0 个文件）\n"
    )
    assert verify(tampered).ok is False


def _rewritten(path: Path, target: Path, change: Callable[[str, bytes], bytes]) -> Path:
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info, change(info.filename, source.read(info)))
    return target


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda b: b[: len(b) // 2], "manifest.json 已损坏"),  # cut in the middle of the members
        (lambda b: b[: b.rindex(b"]")], "manifest.json 已损坏"),  # its end (after every member)
        (lambda b: b.replace(b'"results": [', b'"results": [}', 1), "manifest.json 已损坏"),
        (lambda b: b.replace(b'"sha256": "', b'"sha256": 0, "x": "', 1), "文件内容与清单不符"),
        (lambda b: b.replace(b'"members": [', '"members": [{"name": "没有.docx"},'.encode(), 1),
         "缺少文件：没有.docx"),
    ],
    ids=["cut-in-members", "cut-after-members", "bad-results", "hash-a-number", "not-there"],
)  # fmt: skip
def test_verify_reads_the_manifest_as_a_stream_and_notices_damage_anywhere(
    ingested: Workspace, tmp_path: Path, damage: Callable[[bytes], bytes], problem: str
) -> None:
    path = archive_quarter(ingested, Q4).path
    changed = _rewritten(path, tmp_path / "changed.zip",
                         lambda name, data: damage(data) if name == MANIFEST else data)  # fmt: skip
    found = verify(changed)
    assert not found.ok and found.problem.startswith(problem), found


def test_verify_names_a_member_whose_bytes_fail_their_crc(
    ingested: Workspace, tmp_path: Path
) -> None:
    path = archive_quarter(ingested, Q4).path
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("其他/拒收_坏.docx")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start] ^= 0xFF  # the member is stored: its first byte
    damaged = tmp_path / "crc.zip"
    damaged.write_bytes(bytes(data))
    found = verify(damaged)
    assert not found.ok and found.problem == "文件已损坏：其他/拒收_坏.docx"


def test_moved_accepted_original_stops_the_archive(ingested: Workspace) -> None:
    (ingested.inbox / "汇总.zip").rename(ingested.root / "汇总.zip")
    with pytest.raises(KaoheError, match=r"原文件已被移动或修改，无法归档：inbox/汇总\.zip!/"):
        archive_quarter(ingested, Q4)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("/.\\a文 ~")), max_size=12))
def test_an_archived_names_stem_and_suffix_are_pathlibs(path: str) -> None:
    """Member names are made from the original's stem and suffix by string operations (no
    pathlib per member); they are what PurePosixPath gives, for any mix of dots and slashes."""
    pure = PurePosixPath(path)
    assert posix_name(path) == (pure.stem, pure.suffix)
