"""Untrusted returns: entity declarations, formula injection, hostile names, mutated files."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.models import Period
from pipeline.readers.reading import read_submission
from pipeline.stages.export import accepted_records, render
from pipeline.stages.generate import generate
from pipeline.stages.ingest import ingest
from pipeline.stages.summary import write_summary
from pipeline.workspace import Workspace

from .filling import MODEST, fill

Q4 = Period(year=2026, quarter=4)
FIXTURES = Path(__file__).parent / "fixtures" / "libreoffice"
FILLED = (FIXTURES / "filled_0007_resaved_by_lo74.docx").read_bytes()


def with_document_xml(docx: bytes, change: object) -> bytes:
    """The same package with word/document.xml passed through ``change``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(docx)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                data = change(data)  # type: ignore[operator]
            target.writestr(info.filename, data)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE w:document ['
    b'<!ENTITY a "lollollollollollollollollollol">'
    + b"".join(
        b'<!ENTITY %s "&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;&%s;">'
        % ((chr(98 + i).encode(),) + (chr(97 + i).encode(),) * 10)
        for i in range(8)
    )
    + b"]>"
)


def test_billion_laughs_is_not_expanded() -> None:
    def inject(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1]
        return BILLION_LAUGHS + body.replace("张伟".encode(), b"&i;", 1)

    raw, code, message = read_submission("bomb.docx", with_document_xml(FILLED, inject))
    # never expanded: the parser refuses the entity declarations, so it is an exception row
    assert (raw, code, message) == (
        None,
        "UNREADABLE_FILE",
        "文件已损坏（word/document.xml 不是有效的 XML）",
    )


def test_external_entities_are_never_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD", encoding="utf-8")

    def inject(xml: bytes) -> bytes:
        body = xml.split(b"?>", 1)[1]
        doctype = f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'.encode()
        return (
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            + doctype
            + body.replace("张伟".encode(), b"&xxe;", 1)
        )

    raws, code, _ = read_submission("xxe.docx", with_document_xml(FILLED, inject))
    assert code is None and raws is not None
    [raw] = raws
    assert raw["fields"]["name"] == ["", "表格第1行第2列"]  # type: ignore[index]  # left unexpanded
    assert "TOP-SECRET-PASSWORD" not in str(raw)


def test_formulas_typed_into_a_sheet_stay_text_in_every_output(workspace: Workspace) -> None:
    generate(workspace, Q4)
    [blank] = workspace.blank_dir(Q4).glob("*/0001_*.docx")
    evil = '=HYPERLINK("http://example.invalid","点我")'
    entries = dataclasses.replace(MODEST, monthly=(evil, "+1+1", "@SUM(A1)"))
    (workspace.inbox / "a.docx").write_bytes(fill(blank.read_bytes(), entries))
    ingest(workspace, received_at=datetime(2027, 1, 5))
    book = load_workbook(write_summary(workspace, Q4))
    sheet = book["全部人员"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(2, header.index("第一月工作纪实") + 1)
    assert (cell.value, cell.data_type) == (evil, "s")
    records = accepted_records(workspace, Q4)
    rows = list(csv.reader(io.StringIO(render(records, "csv", Q4).decode("utf-8-sig"))))
    assert rows[1][7:10] == ["'" + evil, "'+1+1", "'@SUM(A1)"]
    exported = load_workbook(io.BytesIO(render(records, "xlsx", Q4))).active
    assert exported is not None
    assert (exported["H2"].value, exported["H2"].data_type) == (evil, "s")


def test_file_names_with_control_characters_are_recorded(workspace: Workspace) -> None:
    (workspace.inbox / "换行\n名字.docx").write_bytes(FILLED)
    [item] = ingest(workspace, received_at=datetime(2027, 1, 5)).files
    assert item.path == "inbox/换行\n名字.docx" and item.outcome == "accepted"


def _mutations() -> st.SearchStrategy[tuple[str, int, int]]:
    return st.tuples(st.sampled_from(["zip", "xml"]), st.integers(0, 10**9), st.integers(0, 255))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_mutations(), min_size=1, max_size=4))
def test_mutated_sheets_never_raise(mutations: list[tuple[str, int, int]]) -> None:
    data = bytearray(FILLED)
    for where, position, value in mutations:
        if where == "zip":
            data[position % len(data)] = value
        elif _is_zip(bytes(data)):
            data = bytearray(with_document_xml(bytes(data), _flip(position, value)))
    raw, code, message = read_submission("m.docx", bytes(data))
    assert (raw is None) == (code is not None)
    if code is not None:
        assert message


def _flip(position: int, value: int) -> object:
    def change(xml: bytes) -> bytes:
        at = position % len(xml)
        return xml[:at] + bytes([value]) + xml[at + 1 :]

    return change


def _is_zip(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist() and archive.testzip() is None
    except Exception:
        return False


def test_every_mutated_file_ends_in_the_ledger(workspace: Workspace) -> None:
    import random

    rng = random.Random(11)
    for index in range(12):
        data = bytearray(FILLED)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        (workspace.inbox / f"m{index:02d}.docx").write_bytes(bytes(data))
    result = ingest(workspace, received_at=datetime(2027, 1, 5))
    assert len(result.files) == 12
    assert all(f.outcome in ("accepted", "rejected", "superseded") for f in result.files)
    assert all(f.reason for f in result.files if f.outcome == "rejected")


def test_limits_come_from_kaohe_toml(workspace: Workspace) -> None:
    config = workspace.config_path.read_text(encoding="utf-8").replace(
        "file_mb = 50", "file_mb = 0.01"
    )
    workspace.config_path.write_text(config, encoding="utf-8")
    reopened = Workspace.open(workspace.root)
    assert reopened.limits().file_bytes == int(0.01 * 1024 * 1024)
    (reopened.inbox / "big.docx").write_bytes(FILLED)  # ~24 KB, over the 10 KB limit set above
    [item] = ingest(reopened, received_at=datetime(2027, 1, 5)).files
    assert (
        item.reason
        == "UNREADABLE_FILE 文件超过 10 KB，一页记实表不会这么大，已拒收（上限见 kaohe.toml [limits]）"
    )


HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
EXPECTED = {
    "empty.docx": "UNREADABLE_FILE 文件是空的（0 字节）",
    "pdf_named_docx.docx": "UNREADABLE_FILE 文件内容不是Word 文档，而是PDF 文件（可能改错了扩展名）",
    "program_named_docx.docx": "UNREADABLE_FILE 文件内容不是Word 文档，而是可执行程序（可能改错了扩展名）",
    "truncated.docx": "UNREADABLE_FILE 文件已损坏或不完整，不是有效的Word 文档",
    "not_a_sheet.docx": "NOT_A_RECORD_SHEET 文档中找不到记实表的表格（姓名、工作纪实、出勤记录等栏目），可能交错了文件",
    "climbing.zip!/../../etc/cron.d/evil.docx": "UNREADABLE_FILE 压缩包中的文件路径含“..”，可能试图写到别处，已拒绝读取",
    "symlink.zip!/link.docx": "UNREADABLE_FILE 压缩包中的文件是符号链接，已拒绝读取",
    "truncated.pdf": "UNREADABLE_FILE PDF 已损坏或不完整",
    "garbage.zip": "UNREADABLE_FILE 压缩包已损坏或不完整",
}


def test_committed_hostile_corpus(tmp_path: Path) -> None:
    from pipeline.workspace import ROSTER_CACHE, init_workspace

    workspace = init_workspace(tmp_path / "ws").workspace
    for path in HOSTILE.iterdir():
        (workspace.inbox / path.name).write_bytes(path.read_bytes())
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = ingest(workspace, received_at=datetime(2027, 1, 5))
    assert {f.path.removeprefix("inbox/"): f.reason for f in result.files} == EXPECTED
    assert all(f.outcome == "rejected" for f in result.files)
    created = sorted(
        set(p.name for p in tmp_path.rglob("*")) - set(before) - {".kaohe.lock", ROSTER_CACHE}
    )
    assert created == ["kaohe.sqlite", "kaohe.sqlite-shm", "kaohe.sqlite-wal"] or created == [
        "kaohe.sqlite"
    ]


def _zipfile_reads(data: bytes, name: str) -> bytes | None:
    """What ``zipfile`` itself gives for a member, or None when it refuses it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(name) as stream:
            return stream.read()
    except Exception:
        return None


_member_names = st.sampled_from(["word/document.xml", "表格/第一.xml", "a", "docProps/x.xml"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(_member_names, st.binary(max_size=300), st.sampled_from([0, 8])),
        min_size=1,
        max_size=3,
        unique_by=lambda member: member[0],
    ),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
)
def test_a_member_read_directly_is_what_zipfile_reads(
    members: list[tuple[str, bytes, int]], damage: list[tuple[int, int]]
) -> None:
    """The package reader inflates ordinary members itself; for anything else (or anything
    damaged) it must step aside, never give bytes zipfile would not."""
    from pipeline.readers.package import _inflated

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content, method in members:
            archive.writestr(name, content * 3, compress_type=method)
    data = bytearray(out.getvalue())
    for position, value in damage:
        data[position % len(data)] = value
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    except Exception:
        return  # the package is refused before any member is read
    for info in archive.infolist():
        direct = _inflated(bytes(data), info)
        if direct is not None:
            assert direct == _zipfile_reads(bytes(data), info.filename)
        if not damage:  # an ordinary member is always read directly
            assert direct is not None


def _zip_view(archive: zipfile.ZipFile) -> tuple[dict[str, tuple[object, ...]], int]:
    fields = ("orig_filename", "flag_bits", "compress_type", "CRC", "compress_size",
              "file_size", "header_offset")  # fmt: skip
    members = {
        name: tuple(getattr(info, f) for f in fields) for name, info in archive.NameToInfo.items()
    }
    return members, len(archive.filelist)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_member_names, st.binary(max_size=60), st.sampled_from([0, 8])), max_size=4),
    st.sampled_from([b"", b"", b"MZ prefix", b"PK\x05\x06"]),
    st.sampled_from([b"", b"", b"a comment"]),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
)
def test_a_zip_directory_read_directly_is_what_zipfile_reads(
    members: list[tuple[str, bytes, int]],
    prefix: bytes,
    comment: bytes,
    extra: bool,
    damage: list[tuple[int, int]],
) -> None:
    """The package reader reads an ordinary central directory itself; whenever it does, the
    members (repeated names included) are exactly zipfile's, and otherwise it steps aside."""
    import warnings

    from pipeline.readers.package import directory

    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as archive:
        warnings.simplefilter("ignore")  # a repeated name, on purpose
        for index, (name, content, method) in enumerate(members):
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if extra and index == 0:
                info.extra = b"\x55\x54\x05\x00\x01\x00\x00\x00\x00"
            archive.writestr(info, content)
        archive.comment = comment
    data = bytearray(prefix + out.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as undamaged:
        directory_at = undamaged.start_dir
    for position, value in damage:  # half of the damage where the directory is
        at = (
            position % len(data)
            if position % 2
            else directory_at + position % (len(data) - directory_at)
        )
        data[at] = value
    found = directory(bytes(data))
    if found is None:
        assert damage or prefix == b"PK\x05\x06" or comment or (extra and members)
        return
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:  # zipfile opens it too
        expected = _zip_view(archive)
    assert ({n: tuple(m) for n, m in found[0].items()}, found[1]) == expected


def test_ordinary_sheets_take_the_direct_directory() -> None:
    from pipeline.readers.package import directory

    for path in sorted(FIXTURES.glob("*.docx")):
        assert directory(path.read_bytes()) is not None, path.name


def test_every_damaged_directory_byte_is_read_as_zipfile_reads_it() -> None:
    """Each byte of a small package's central directory and end record, set to each of a few
    values: the direct read agrees with zipfile or steps aside, every time."""
    from pipeline.readers.package import directory

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", b"<w/>" * 10, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("表.xml", b"x")
    whole = out.getvalue()
    with zipfile.ZipFile(io.BytesIO(whole)) as undamaged:
        start = undamaged.start_dir
    checked = 0
    for position in range(start, len(whole)):
        for change in (
            lambda b: 0,
            lambda b: 255,
            lambda b: (b + 1) % 256,
            lambda b: (b + 16) % 256,
        ):
            data = bytearray(whole)
            data[position] = change(data[position])
            found = directory(bytes(data))
            if found is None:
                continue
            with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
                expected = _zip_view(archive)
            assert ({n: tuple(m) for n, m in found[0].items()}, found[1]) == expected, position
            checked += 1
    assert checked > 100  # most single-byte changes (times, attributes) are still ordinary


def test_large_relationship_parts_are_read_but_never_kept() -> None:
    """Relationship parts are kept by their bytes (a template's repeat in every sheet); one
    made large must not make the reader hold it, nor many distinct ones pile up."""
    from pipeline.readers import package

    def with_rels(rels: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("_rels/.rels", rels)
        return out.getvalue()

    ns = b'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
    one = b'<Relationship Id="r%d" Type="t" Target="a.xml"/>'
    large = (
        b"<Relationships "
        + ns
        + b">"
        + b"".join(one % i for i in range(2000))
        + b"</Relationships>"
    )
    assert len(large) > package._RELATIONSHIPS_KEPT_BYTES
    package._RELATIONSHIPS.clear()
    found = package.open_package(with_rels(large)).relationships("_rels/.rels")
    assert len(found) == 2000 and found[1999] == ("r1999", "t", "a.xml")
    assert not package._RELATIONSHIPS
    for i in range(package._RELATIONSHIPS_KEPT + 10):  # distinct small parts
        small = b"<Relationships " + ns + b">" + one % i + b"</Relationships>"
        package.open_package(with_rels(small)).relationships("_rels/.rels")
        assert len(package._RELATIONSHIPS) <= package._RELATIONSHIPS_KEPT
