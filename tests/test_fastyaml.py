"""The fast frontmatter reader gives exactly what PyYAML gives, or steps aside (None)."""

from __future__ import annotations

from datetime import date
from unittest.mock import patch

import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mllm_lab.core import fastyaml, fm
from mllm_lab.core.fastyaml import load, load_with_lines

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

keys = st.sampled_from(
    ["title", "key", "tags", "status", "yes", "On", "a-b", "x_1", "Created", "n", "null"]
)
atoms = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "~",
            "null",
            "yes",
            "No",
            "on",
            "TRUE",
            "0",
            "-3",
            "007",
            "1_000",
            "1e3",
            "0x1f",
            "3.14",
            ".5",
            ".inf",
            "2026-11-25",
            "2026-13-45",
            "2026-1-5",
            "a: b",
            "a #b",
            "a#b",
            "'q'",
            "'it''s'",
            "'bad'quote'",
            "[a, b]",
            "[]",
            "[a,,b]",
            "[ x , 1 ]",
            "{a: 1}",
            "- a",
            "&anchor x",
            "*alias",
            "!tag x",
            "|",
            ">",
            "%x",
            "@x",
            "`x`",
            "<<",
            "=",
            "?",
            "http://x.y/z",
            "中文: 冒号",
            "π0",
            "\u2028",
            "\xa0",
            "x\t#y",
            "'",
            "''",
            "2026-W48",
            "2026-11-26 reading",
            "1.2.3",
            "3D 视觉",
            "0.5B",
            "1:2",
            "12:30:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-14t21:59:43.10-05:00",
            "1_2",
            "0o17",
            "0b101",
            "+1",
            "8am",
            "1e-3",
            "1.",
            "0x",
            "٣",
            "²",
            "1 #c",
            "1: x",
            "1,2",
        ]
    ),
)
line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}", keys, atoms),
    st.builds(lambda k: f"{k}:", keys),
    st.builds(lambda v: f"- {v}", atoms),
    st.builds(lambda v: f"  - {v}", atoms),
    st.builds(lambda v: f"  {v}", atoms),
    st.sampled_from(["", "# comment", "   ", "key:value", "- ", "-", "\t- a"]),
    st.builds(
        lambda b, k, v: f"# c{b}{k}: {v}", st.sampled_from("\r\x85\u2028\u2029"), keys, atoms
    ),
    st.sampled_from(["# \x1b[31m", "# \x00", "# \ufffe", "#\ttab", "# é 中文 \xa0"]),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(line, max_size=8))
@example(["title: 'BLIP-2: \"x\" #y | [z] - w'", "tags:", "- a", "- b", "year: 2023"])
@example(["created: 2026-02-30"])
@example(["# pasted\u2028status: read", "status: unread"])  # PyYAML: a line break, a duplicate
@example(["# c\rtitle: x"])
@example([f"{'k' * 1100}: x"])  # PyYAML: no simple key that long
def test_fast_reader_matches_pyyaml_or_steps_aside(lines: list[str]) -> None:
    fast = load(lines)
    if fast is None:
        return
    expected = yaml.load("\n".join(lines), Loader=Loader)  # raises if PyYAML refuses it
    assert fast == (
        {} if expected is None else expected
    )  # an empty frontmatter is an empty mapping


@settings(max_examples=2000, deadline=None)
@given(st.lists(line, max_size=8))
@example(["title : x", "tags:", "- a", "year: 2023"])
@example(["", "# c", "key: k", "  ", "status:"])
def test_a_note_read_by_the_fast_reader_has_its_keys_on_the_same_lines(lines: list[str]) -> None:
    """fm.parse takes the keys' lines from the fast reader instead of fm.key_lines's regex: both
    must name the same line for every key (a refusal's `path:line` is read from them)."""
    fast = load_with_lines(lines)
    if fast is None:
        return
    text = "---\n" + "".join(line + "\n" for line in lines) + "---\nbody\n"
    parsed = fm.parse(text, "n.md")
    assert parsed.meta == fast[0]
    assert parsed.key_lines == fm.key_lines(lines)
    assert set(parsed.key_lines) == set(fast[0])


scalars = st.one_of(st.text(), st.integers(), st.none(), st.booleans(), st.dates())


@settings(max_examples=500, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
        st.one_of(scalars, st.lists(st.text(max_size=10), max_size=3)),
        max_size=6,
    )
)
def test_what_lab_writes_reads_back_the_same_way(meta: dict[str, object]) -> None:
    lines = fm.dump(meta).rstrip("\n").split("\n")
    fast = load(lines)
    expected = yaml.load("\n".join(lines), Loader=Loader)
    assert fast is None or fast == expected


def test_lab_notes_take_the_fast_path() -> None:
    meta = {
        "key": "blip-2",
        "title": "BLIP-2: Bootstrapping",
        "authors": ["Junnan Li et al."],
        "year": 2023,
        "venue": None,
        "arxiv": "2301.12597",
        "tags": [],
        "status": "read",
        "created": date(2026, 11, 25),
    }
    assert load(fm.dump(meta).rstrip("\n").split("\n")) == meta


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.lists(line, max_size=6), min_size=1, max_size=6))
@example([["status: read", "year: 2023"], ["status: read", "year: 2023"]])
@example([["tags: [a, b]"], ["tags: [a, b]"]])  # a flow list is a new list each time
def test_values_read_before_read_the_same_again(notes: list[list[str]]) -> None:
    """The reader remembers what each value text reads as (most repeat from note to note),
    and forgets all of it past a bound: a value read the first time, the second time, or
    after the forgetting gives what PyYAML gives, of the same type, and a list is never
    shared between two notes."""
    fastyaml._KNOWN.clear()
    with patch.object(fastyaml, "_KNOWN_MAX", 3):  # forgets every few values
        rounds = [[load(lines) for lines in notes] for _ in range(2)]
    for lines, first, again in zip(notes, *rounds, strict=True):
        assert repr(first) == repr(again)
        if first is None:
            continue
        expected = yaml.load("\n".join(lines), Loader=Loader)
        assert repr(first) == repr({} if expected is None else expected)
    lists = [
        v for made in rounds for meta in made if meta for v in meta.values() if type(v) is list
    ]
    assert len({id(value) for value in lists}) == len(lists)
