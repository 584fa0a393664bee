"""A unit's returns in one zip: GBK names from Chinese Windows, hostile member paths, nesting."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from pipeline.models import Period
from pipeline.stages.export import accepted_records
from pipeline.stages.generate import generate
from pipeline.stages.ingest import BATCH, ingest
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
AT = datetime(2027, 1, 5, 10, 0)


@pytest.fixture
def filled(workspace: Workspace) -> dict[str, bytes]:
    generate(workspace, Q4)
    return {
        p.name[:4]: fill(p.read_bytes(), MODEST) for p in workspace.blank_dir(Q4).glob("*/*.docx")
    }


def gbk_zip(members: dict[str, bytes]) -> bytes:
    """A zip as Chinese Windows' built-in compressor writes it: GBK names, no UTF-8 flag.

    zipfile flags every non-ASCII name as UTF-8, so each name is written as an ASCII
    placeholder of the same byte length and the GBK bytes are put in its place.
    """
    out = io.BytesIO()
    placeholders: dict[bytes, bytes] = {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (name, data) in enumerate(members.items()):
            gbk = name.encode("gbk")
            placeholder = f"@{index}@".ljust(len(gbk), "_").encode()
            placeholders[placeholder] = gbk
            archive.writestr(
                zipfile.ZipInfo(placeholder.decode(), date_time=(2027, 1, 4, 9, 0, 0)), data
            )
    raw = out.getvalue()
    for placeholder, gbk in placeholders.items():
        raw = raw.replace(placeholder, gbk)
    return raw


def test_gbk_named_zip_members_are_each_a_submission(
    workspace: Workspace, filled: dict[str, bytes]
) -> None:
    bundle = gbk_zip({"执法队/张伟.docx": filled["0007"], "执法队/孙浩.docx": filled["0008"]})
    with zipfile.ZipFile(io.BytesIO(bundle)) as check:
        assert not any(i.flag_bits & 0x800 for i in check.infolist())
    (workspace.inbox / "执法队.zip").write_bytes(bundle)
    result = ingest(workspace, received_at=AT)
    assert [(f.path, f.outcome, f.person_id) for f in result.files] == [
        ("inbox/执法队.zip!/执法队/张伟.docx", "accepted", "0007"),
        ("inbox/执法队.zip!/执法队/孙浩.docx", "accepted", "0008"),
    ]
    [record] = [r for r in accepted_records(workspace, Q4) if r.person_id == "0007"]
    assert record.source.path == "inbox/执法队.zip!/执法队/张伟.docx"
    assert record.source.format == "docx"


def test_hostile_member_paths_are_refused_and_nothing_is_written(
    workspace: Workspace, filled: dict[str, bytes], tmp_path: Path
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("../../escape.docx", filled["0001"])
        archive.writestr("/etc/evil.docx", filled["0002"])
        archive.writestr("ok.docx", filled["0003"])
        link = zipfile.ZipInfo("link.docx")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    (workspace.inbox / "bundle.zip").write_bytes(out.getvalue())
    before = sorted(p for p in workspace.root.parent.rglob("*"))
    result = ingest(workspace, received_at=AT)
    outcomes = {f.path: (f.outcome, f.reason) for f in result.files}
    assert outcomes["inbox/bundle.zip!/../../escape.docx"] == (
        "rejected",
        "UNREADABLE_FILE 压缩包中的文件路径含“..”，可能试图写到别处，已拒绝读取",
    )
    assert outcomes["inbox/bundle.zip!//etc/evil.docx"] == (
        "rejected",
        "UNREADABLE_FILE 压缩包中的文件使用了绝对路径，已拒绝读取",
    )
    assert outcomes["inbox/bundle.zip!/link.docx"] == (
        "rejected",
        "UNREADABLE_FILE 压缩包中的文件是符号链接，已拒绝读取",
    )
    assert outcomes["inbox/bundle.zip!/ok.docx"][0] == "accepted"
    after = sorted(
        p
        for p in workspace.root.parent.rglob("*")
        if p.name not in ("kaohe.sqlite", "kaohe.sqlite-wal", "kaohe.sqlite-shm")
    )
    assert [p for p in after if p not in before] == []


def _zip(members: dict[str, bytes]) -> bytes:
    """A zip of ``members``, stored (not compressed), names as given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_nested_zip_one_level_and_no_deeper(workspace: Workspace, filled: dict[str, bytes]) -> None:
    deepest = _zip({"deep.docx": filled["0004"]})
    inner = _zip({"inner.docx": filled["0005"], "deeper.zip": deepest})
    (workspace.inbox / "outer.zip").write_bytes(
        _zip({"inner.zip": inner, "top.docx": filled["0006"], "~$top.docx": b"lock"})
    )
    result = ingest(workspace, received_at=AT)
    outcomes = {f.path: f.outcome for f in result.files}
    assert outcomes == {
        "inbox/outer.zip!/inner.zip!/inner.docx": "accepted",
        "inbox/outer.zip!/inner.zip!/deeper.zip": "rejected",
        "inbox/outer.zip!/top.docx": "accepted",
    }
    assert result.skipped == ["inbox/outer.zip!/~$top.docx"]


def test_corrupt_or_empty_zip(workspace: Workspace) -> None:
    (workspace.inbox / "bad.zip").write_bytes(b"PK\x03\x04garbage")
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    (workspace.inbox / "empty.zip").write_bytes(empty.getvalue())
    outcomes = {f.path: f.reason for f in ingest(workspace, received_at=AT).files}
    assert outcomes == {
        "inbox/bad.zip": "UNREADABLE_FILE 压缩包已损坏或不完整",
        "inbox/empty.zip": "UNREADABLE_FILE 压缩包是空的",
    }


def test_zip_bomb_member_is_refused_before_inflating_everything(workspace: Workspace) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.docx", b"\0" * (60 * 1024 * 1024))
    assert len(out.getvalue()) < 200_000
    (workspace.inbox / "bomb.zip").write_bytes(out.getvalue())
    [item] = ingest(workspace, received_at=AT).files
    assert item.reason.startswith("UNREADABLE_FILE 压缩包中的文件解压后过大")


def test_a_name_twice_in_a_zip_is_new_if_either_copy_is(
    workspace: Workspace, filled: dict[str, bytes]
) -> None:
    """A zip may hold one name twice: each copy is a submission under that name, and the
    name's outcome in the run is new when either copy was read this time — also when the
    new copy is written to the ledger before the known one is met (a batch of files apart)."""

    def bundle(members: list[tuple[str, bytes]]) -> bytes:
        out = io.BytesIO()
        with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(out, "w") as zf:
            for name, data in members:
                zf.writestr(name, data)
        return out.getvalue()

    first, second = sorted(filled.values())[:2]
    target = workspace.inbox / "科室.zip"
    target.write_bytes(bundle([("表.docx", first), ("表.docx", first)]))
    ingest(workspace, received_at=AT)
    between = [(f"其他{n:02d}.txt", b"x") for n in range(BATCH)]  # a batch written in between
    target.write_bytes(bundle([("表.docx", second), *between, ("表.docx", first)]))
    result = ingest(workspace, received_at=AT)
    assert [(f.path, f.new) for f in result.files if f.path.endswith("表.docx")] == [
        ("inbox/科室.zip!/表.docx", True)
    ]


class _Recorder:
    """A progress display that keeps what it was told."""

    def __init__(self) -> None:
        self.total = -1
        self.shown: list[int] = []  # the count after each step

    def start(self, total: int) -> None:
        self.total = total

    def advance(self, count: int = 1) -> None:
        self.shown.append((self.shown[-1] if self.shown else 0) + count)


@pytest.mark.parametrize("arrived_late", [0, 2])
def test_progress_counts_inbox_files_and_ends_at_its_total(
    workspace: Workspace,
    filled: dict[str, bytes],
    monkeypatch: pytest.MonkeyPatch,
    arrived_late: int,
) -> None:
    """A unit's zip of three sheets is one file of the count, as the clerk sees the inbox: the
    bar moves once for it, not three times (it used to pass 100% with every zipped unit). A
    file that arrived after the count does not take it past the total, and a zip holding only
    a Word lock file still ends the run at 100%.
    ``arrived_late``: that many files came after the count (it is that many short)."""
    from pipeline.stages import ingest as ingest_stage

    inbox = workspace.inbox
    (inbox / "执法队.zip").write_bytes(
        _zip({f"{k}.docx": filled[k] for k in ("0001", "0002", "0003")})
    )
    (inbox / "a.docx").write_bytes(filled["0004"])
    (inbox / "b.docx").write_bytes(filled["0005"])
    (inbox / "locks.zip").write_bytes(_zip({"~$张伟.docx": b"lock"}))
    counted = ingest_stage.collect

    def short(paths: list[Path]) -> tuple[int, list[str]]:
        count, skipped = counted(paths)
        return count - arrived_late, skipped

    monkeypatch.setattr(ingest_stage, "collect", short)
    recorder = _Recorder()
    result = ingest(workspace, received_at=AT, progress=recorder)
    assert result.counts["accepted"] == 5
    assert recorder.total == 4 - arrived_late
    assert recorder.shown[-1] == recorder.total
    assert all(a < b for a, b in zip(recorder.shown, recorder.shown[1:], strict=False))
    assert max(recorder.shown) <= recorder.total


def test_a_bundle_ends_its_file_with_its_last_sheet(
    workspace: Workspace, filled: dict[str, bytes]
) -> None:
    """What the progress counts a zip by: only its last member read (a lock file after it is
    skipped, not the last) ends the file; a file on its own ends itself."""
    from pipeline.stages.ingest import submissions

    members = {f"{k}.docx": filled[k] for k in ("0001", "0002", "0003")}
    (workspace.inbox / "执法队.zip").write_bytes(_zip({**members, "~$张伟.docx": b"lock"}))
    (workspace.inbox / "a.docx").write_bytes(filled["0004"])
    files = [str(workspace.inbox / "a.docx"), str(workspace.inbox / "执法队.zip")]
    skipped: list[str] = []
    found = [
        (s.key.rsplit("/", 1)[-1], s.ends_file) for s in submissions(workspace, files, AT, skipped)
    ]
    assert found == [
        ("a.docx", True), ("0001.docx", False), ("0002.docx", False), ("0003.docx", True)
    ]  # fmt: skip
    assert skipped == ["inbox/执法队.zip!/~$张伟.docx"]
