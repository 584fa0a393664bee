"""The archive's ZIP writer: whatever the members, sizes and counts, ``zipfile`` and Info-ZIP
read back exactly what was written, ZIP64 records included (limits lowered to reach them)."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.writers import zipstream
from pipeline.writers.zipstream import ZipWriter

NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
MEMBERS = st.lists(
    st.tuples(NAMES, st.binary(max_size=300), st.sampled_from(["stored", "deflated", "streamed"])),
    max_size=12,
    unique_by=lambda m: m[0],
)
UNZIP = shutil.which("unzip")


def _written(members: list[tuple[str, bytes, str]]) -> bytes:
    out = io.BytesIO()
    with ZipWriter(out) as archive:
        for name, data, how in members:
            if how == "streamed":
                with archive.open(name) as member:
                    for start in range(0, len(data), 7):  # in pieces
                        member.write(data[start : start + 7])
            else:
                archive.write(name, data, compress=how == "deflated")
    return out.getvalue()


def _check(data: bytes, members: list[tuple[str, bytes, str]]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [name for name, _, _ in members]
        for info, (_, content, how) in zip(archive.infolist(), members, strict=True):
            assert archive.read(info) == content
            method = zipfile.ZIP_STORED if how == "stored" else zipfile.ZIP_DEFLATED
            assert (info.compress_type, info.file_size) == (method, len(content))
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o600 and info.create_system == 3


@settings(max_examples=200, deadline=None)
@given(members=MEMBERS, size_limit=st.sampled_from([None, 0, 1, 40, 200]),
       count_limit=st.sampled_from([None, 0, 1, 3]))  # fmt: skip
def test_any_members_read_back_in_every_form(
    members: list[tuple[str, bytes, str]], size_limit: int | None, count_limit: int | None
) -> None:
    """Plain ZIP, or ZIP64 for sizes, offsets, the directory's place or the count."""
    with pytest.MonkeyPatch.context() as patch:
        if size_limit is not None:
            patch.setattr(zipstream, "ZIP64_LIMIT", size_limit)
        if count_limit is not None:
            patch.setattr(zipstream, "COUNT_LIMIT", count_limit)
        data = _written(members)
    _check(data, members)
    assert _written(members) == _written(members)  # the same members, the same bytes


@pytest.mark.skipif(UNZIP is None, reason="Info-ZIP unzip not installed")
@pytest.mark.parametrize("limits", [(None, None), (10, 2)], ids=["plain", "zip64"])
def test_info_zip_tests_the_archive_clean(
    tmp_path: Path, limits: tuple[int | None, int | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second, independent reader (what 7-Zip and Windows follow: the APPNOTE)."""
    if limits[0] is not None:
        monkeypatch.setattr(zipstream, "ZIP64_LIMIT", limits[0])
        monkeypatch.setattr(zipstream, "COUNT_LIMIT", limits[1])
    members = [
        ("城区分局/0001_张伟_2026Q4.docx", b"PK" + bytes(range(256)) * 40, "stored"),
        ("manifest.json", b'{"members": []}\n' * 500, "streamed"),
        ("其他/拒收_a.pdf", b"%PDF-1.7" * 99, "deflated"),
    ]
    path = tmp_path / "归档.zip"
    path.write_bytes(_written(members))
    tested = subprocess.run([UNZIP, "-t", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "No errors detected" in tested.stdout


def test_seventy_thousand_members_take_the_zip64_count() -> None:
    """Past 65,535 members the count is in the ZIP64 record (real limits, not lowered)."""
    members = [(f"{i:05d}.txt", b"", "stored") for i in range(70_000)]
    data = _written(members)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    assert len(names) == 70_000 and names[-1] == "69999.txt"
    assert data[-22:-20] == b"PK" and data[-22 - 20 : -22][:4] == b"PK\x06\x07"
