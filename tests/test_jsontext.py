"""core.jsontext.indented writes what json.dumps(..., ensure_ascii=False, indent=2,
default=str) writes, byte for byte, for any value lab may print as JSON."""

from __future__ import annotations

import enum
import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core.jsontext import indented


def reference(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


class Level(enum.IntEnum):
    HIGH = 3


class Name(str):
    pass


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from([Level.HIGH, Name('a"b\\c\n'), date(2026, 11, 28), "\u2028\x00\ud800"]),
)
keys = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(keys, inner, max_size=4),
    ),
    max_leaves=30,
)


@settings(max_examples=600)
@given(values)
def test_indented_is_what_json_dumps_writes(value: Any) -> None:
    assert indented(value) == reference(value)


def test_a_quiz_shaped_value() -> None:
    card = {"id": "ab12", "tags": ["注意力", "a"], "stage": None, "due": 1.5, "new": True}
    value = {
        "schema": "mllm-lab/quiz/1",
        "due": [card, {**card, "tags": []}],
        "new": [],
        "stats": {},
    }
    assert indented(value) == reference(value)


def test_a_key_json_cannot_write_is_refused_the_same_way() -> None:
    for value in ({(1, 2): 1}, {b"x": 1}):
        try:
            reference(value)
        except TypeError:
            pass
        else:  # pragma: no cover - json.dumps refuses them
            raise AssertionError(value)
        try:
            indented(value)
        except TypeError:
            continue
        raise AssertionError(f"indented took {value!r}")
