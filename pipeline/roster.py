"""Read and validate a roster (名单) from .xlsx or .csv into a list of Person.

A bad roster is refused whole: every problem is collected with its file, row
and column, so HR can fix them all in one go.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem, RosterError
from .models import PERSON, Gender, Person
from .readers.workbook import NotPlain, first_sheet_rows
from .writers import atomic

#: The contract: field → (printed column name, required, accepted header spellings).
COLUMNS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "person_id": ("编号", True, ("编号", "人员编号", "工号")),
    "name": ("姓名", True, ("姓名",)),
    "gender": ("性别", True, ("性别",)),
    "unit": ("单位", True, ("单位", "所在单位")),
    "position": ("职务", True, ("职务", "职务职级")),
    "duties": ("从事或分管工作", False, ("从事或分管工作", "分管工作", "从事工作")),
    "leader": ("分管领导", False, ("分管领导",)),
    "host_unit": ("挂职单位", False, ("挂职单位",)),
}

GENDER_WORDS: dict[str, Gender] = {
    "男": Gender.MALE,
    "男性": Gender.MALE,
    "女": Gender.FEMALE,
    "女性": Gender.FEMALE,
}

#: How many leading rows may hold a title before the header row.
HEADER_SEARCH_ROWS = 10
#: Encodings tried for CSV, in order; Excel on Chinese Windows writes GBK.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
MAX_ROSTER_BYTES = 50 * 1024 * 1024

_SPACES = re.compile(r"[\s\u3000]+")
#: Spaces typed between Chinese characters to align two-character names (张  伟).
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[\s\u3000]+(?=[\u4e00-\u9fff])")


@dataclass(frozen=True)
class _Row:
    number: int
    cells: list[str]


def _normalize_header(text: str) -> str:
    return _SPACES.sub("", text).replace("(", "（").replace(")", "）")


def _cell_text(value: object, number_format: str = "General") -> str:
    """A cell as text; integers stay integers and ``0000``-formatted ids keep their zeros."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not value.is_integer():
            return str(value)
        text = str(int(value))
        if re.fullmatch(r"0+", number_format or ""):
            text = text.zfill(len(number_format))
        return text
    return str(value).replace("\u3000", " ").strip()


def _read_xlsx_rows(path: Path) -> Iterator[_Row]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise RosterError(
            f"名单文件无法打开：{path.name}",
            [Problem(path.name, None, None, f"不是有效的 .xlsx 文件（{type(exc).__name__}）")],
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        # the dimension a workbook declares can be stale (written by another program before
        # rows were added): openpyxl would stop at it and drop the people below, silently
        sheet.reset_dimensions()
        for number, row in enumerate(sheet.iter_rows(), start=1):
            yield _Row(
                number,
                [_cell_text(c.value, getattr(c, "number_format", "General")) for c in row],
            )
    finally:
        workbook.close()


def _plain_xlsx_rows(path: Path) -> Iterator[_Row]:
    """``_read_xlsx_rows`` of a plain workbook (``readers.workbook``); ``NotPlain`` as soon
    as it is not one — the caller then starts again with openpyxl."""
    for number, row in enumerate(first_sheet_rows(path), start=1):
        yield _Row(number, [_cell_text(*cell) if cell is not None else "" for cell in row])


def _decode_csv(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "\t"
    for encoding in CSV_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        first_line = text.split("\n", 1)[0]
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
        return text, delimiter
    raise RosterError(
        f"名单文件编码无法识别：{path.name}",
        [
            Problem(
                path.name, None, None, "请在 Excel 中另存为 .xlsx，或保存为 UTF-8 / GBK 编码的 CSV"
            )
        ],
    )


def _read_csv_rows(path: Path) -> Iterator[_Row]:
    text, delimiter = _decode_csv(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield _Row(number, [_cell_text(c) for c in cells])


def _find_header(path: Path, rows: Iterable[_Row]) -> tuple[_Row, dict[str, int], Iterator[_Row]]:
    iterator = iter(rows)
    for row in iterator:
        if row.number > HEADER_SEARCH_ROWS:
            break
        normalized = [_normalize_header(c) for c in row.cells]
        positions: dict[str, int] = {}
        for field, (_, _, spellings) in COLUMNS.items():
            for index, header in enumerate(normalized):
                if header in spellings:
                    positions[field] = index
                    break
        if "person_id" in positions and "name" in positions:
            missing = [
                printed
                for field, (printed, required, _) in COLUMNS.items()
                if required and field not in positions
            ]
            if missing:
                raise RosterError(
                    f"名单缺少必需的列：{'、'.join(missing)}",
                    [
                        Problem(path.name, row.number, col, "表头中找不到这一列，请补上")
                        for col in missing
                    ],
                )
            return row, positions, iterator
    required = "、".join(p for p, req, _ in COLUMNS.values() if req)
    raise RosterError(
        f"名单中找不到表头：{path.name}",
        [Problem(path.name, None, None, f"前{HEADER_SEARCH_ROWS}行内应有表头行，含 {required}")],
    )


#: The last rosters read, by path, with the file's size and modification time: a long-lived
#: process (the workbench) reads the same roster on every page and every upload.
_READ: dict[str, tuple[int, int, tuple[Person, ...]]] = {}
#: Bump when what a roster file reads as could change (the Person model, the reading rules)
#: or the cache's layout does: rosters cached by an older kaohe are read again.
CACHE_FORMAT = 2


def read_roster(path: Path, cache: Path | None = None) -> list[Person]:
    """Read a roster file (.xlsx or .csv); raise RosterError listing every problem. A file
    unchanged since it was last read (same size and modification time) is not read again.

    With ``cache`` (a file kaohe keeps in the workspace), a roster with the same content as
    when last read is loaded from there: openpyxl takes ~3 s over 10,000 people, the cache
    ~0.1 s, and every command of a quarter reads the roster again."""
    path = Path(path)
    try:
        info = path.stat()
    except OSError:
        info = None
    key = str(path.resolve())
    if info is not None and key in _READ:
        size, mtime, people = _READ[key]
        if (size, mtime) == (info.st_size, info.st_mtime_ns):
            return list(people)
    people_read = _read_cached(path, cache) if cache is not None else _read_roster(path)
    if info is not None:
        _READ.clear()  # one roster is in use at a time; keep memory flat
        _READ[key] = (info.st_size, info.st_mtime_ns, tuple(people_read))
    return people_read


def _read_cached(path: Path, cache: Path) -> list[Person]:
    """The roster through ``cache``, keyed by the file's content (a renamed or touched file
    is the same roster; a changed one is read again). The cache is only ever a copy of a
    successful read: a roster with problems is read, and refused, every time."""
    try:
        if not path.is_file() or path.stat().st_size > MAX_ROSTER_BYTES:
            return _read_roster(path)  # its own message
        with path.open("rb") as roster:
            digest = hashlib.file_digest(roster, "sha256").hexdigest()
    except OSError:
        return _read_roster(path)
    tag = f"{CACHE_FORMAT}:{path.suffix.lower()}:{digest}:".encode()
    try:
        stored = cache.read_bytes()
        if stored.startswith(tag):
            return _cached_people(stored, len(tag))
    except (OSError, ValueError):
        pass  # no cache yet, or a damaged one: read the roster
    people = _read_roster(path)
    with contextlib.suppress(OSError):  # a cache that cannot be written is only slower
        _write_cache(cache, tag, people)
    return people


def _write_cache(cache: Path, tag: bytes, people: list[Person]) -> None:
    """``tag``, the body's digest, a newline, then the body: one person's JSON a line (JSON
    text holds no raw newline). Written a person at a time, the digest (of fixed length)
    filled in last: the body is never whole in memory."""
    digest = hashlib.sha256()
    with atomic.atomic_path(cache, durable=False) as tmp, open(tmp, "wb") as out:
        out.write(tag + b"0" * digest.digest_size * 2 + b"\n")
        for person in people:
            line = PERSON.dump_json(person) + b"\n"
            digest.update(line)
            out.write(line)
        out.seek(len(tag))
        out.write(digest.hexdigest().encode())


def _cached_people(stored: bytes, start: int) -> list[Person]:
    """From ``start``: the body's digest, a newline, the body. Read a person a line, in place
    (no copy of the body is made: the process's peak stays ~3 MB above the roster's own
    1.5 MB at 10,000 people, where copies and a list of lines took ~10). A body cut short
    or changed in any byte does not match its digest (ValueError)."""
    view = memoryview(stored)
    newline = stored.index(b"\n", start)
    if hashlib.sha256(view[newline + 1 :]).hexdigest().encode() != stored[start:newline]:
        raise ValueError("roster cache damaged")
    people: list[Person] = []
    begin, find = newline + 1, stored.find
    while (end := find(b"\n", begin)) >= 0:
        people.append(PERSON.validate_json(stored[begin:end]))
        begin = end + 1
    return people


def _read_roster(path: Path) -> list[Person]:
    if not path.is_file():
        raise RosterError(
            f"找不到名单文件：{path}",
            [Problem(str(path), None, None, "请确认路径，或用 kaohe init 生成示例名单")],
        )
    if path.stat().st_size > MAX_ROSTER_BYTES:
        raise RosterError(
            f"名单文件过大：{path.name}",
            [Problem(path.name, None, None, "超过 50 MB，请确认选对了文件")],
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:  # a plain workbook read with lxml, as openpyxl would read it, at ~5× its speed
            return _people(path, _plain_xlsx_rows(path))
        except NotPlain:
            rows: Iterable[_Row] = _read_xlsx_rows(path)  # anything else: openpyxl itself
    elif suffix in (".csv", ".txt"):
        rows = _read_csv_rows(path)
    else:
        raise RosterError(
            f"不支持的名单格式：{path.name}",
            [Problem(path.name, None, None, "请在 Excel 中另存为 .xlsx 或 .csv（逗号分隔）")],
        )
    return _people(path, rows)


def _people(path: Path, rows: Iterable[_Row]) -> list[Person]:
    _header, positions, data_rows = _find_header(path, rows)
    return _people_from_rows(path.name, positions, data_rows)


def _people_from_rows(
    file_name: str, positions: dict[str, int], rows: Iterable[_Row]
) -> list[Person]:
    people: list[Person] = []
    problems: list[Problem] = []
    first_row_of_id: dict[str, int] = {}

    def cell(row: _Row, field: str) -> str:
        index = positions.get(field)
        if index is None or index >= len(row.cells):
            return ""
        return row.cells[index]

    for row in rows:
        if not any(c.strip() for c in row.cells):
            continue  # blank lines between blocks are common in hand-kept lists
        values = {field: cell(row, field) for field in COLUMNS}
        row_problems = [
            Problem(file_name, row.number, printed, "不能为空")
            for field, (printed, required, _) in COLUMNS.items()
            if required and not values[field]
        ]
        gender_text = _SPACES.sub("", values["gender"])
        gender = GENDER_WORDS.get(gender_text)
        if gender_text and gender is None:
            row_problems.append(
                Problem(file_name, row.number, "性别", f"“{values['gender']}”不是 男 或 女")
            )
        person_id = values["person_id"]
        if person_id:
            earlier = first_row_of_id.get(person_id)
            if earlier is not None:
                row_problems.append(
                    Problem(file_name, row.number, "编号", f"编号 {person_id} 与第{earlier}行重复")
                )
            else:
                first_row_of_id[person_id] = row.number
        if row_problems or gender is None:
            problems.extend(row_problems)
            continue
        people.append(
            Person(
                person_id=person_id,
                name=_CJK_GAP.sub("", values["name"]),
                gender=gender,
                unit=values["unit"],
                position=values["position"],
                duties=values["duties"],
                leader=values["leader"],
                host_unit=values["host_unit"],
                source_row=row.number,
            )
        )
    if problems:
        raise RosterError(f"名单有 {len(problems)} 处问题，未生成任何文件：", problems)
    if not people:
        raise RosterError(
            "名单中没有人员",
            [Problem(file_name, None, None, "表头下方没有数据行")],
        )
    return people


def units_of(people: Sequence[Person]) -> list[str]:
    """Assessing units in roster order (a seconded person counts for the host unit)."""
    seen: dict[str, None] = {}
    for person in people:
        seen.setdefault(person.assessing_unit, None)
    return list(seen)
