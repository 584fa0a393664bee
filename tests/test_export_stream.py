"""The export is written a record at a time: the same text as dumping the whole list."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.stages import export as export_module
from pipeline.stages.export import _csv_pieces, _json_pieces

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
RECORDS = st.lists(st.dictionaries(st.text(), VALUES, max_size=5), max_size=5)


@settings(max_examples=300, deadline=None)
@given(records=RECORDS)
def test_json_written_a_record_at_a_time_is_the_whole_list_dumped(
    records: list[dict[str, object]],
) -> None:
    """Nested lists and objects, empty ones, newlines and quotes inside text, no records."""
    whole = json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    assert "".join(_json_pieces(iter(records))) == whole


@settings(max_examples=100, deadline=None)
@given(names=st.lists(st.text(), max_size=8), chunk=st.integers(1, 200))
def test_csv_handed_on_in_pieces_is_the_same_text(names: list[str], chunk: int) -> None:
    dumped = [{"name": name, "person_id": str(i)} for i, name in enumerate(names)]
    whole = "".join(_csv_pieces(iter(dumped)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(export_module, "CHUNK", chunk)
        pieces = list(_csv_pieces(iter(dumped)))
    assert "".join(pieces) == whole and whole.startswith("编号,姓名,性别,")
    if chunk == 1 and names:
        assert len(pieces) == len(names) + 1  # handed on after every row, then the rest
