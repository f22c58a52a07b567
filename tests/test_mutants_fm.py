"""Frontmatter (core/fm.py), pinned where mutation testing found it loose (issue 9): the line
and words of every YAML problem (duplicate keys, aliases, impossible dates, bad syntax, a
frontmatter that is not a mapping or never closes), the lines of top-level keys, how one value
is spelled (quoted exactly when a YAML reader would take it for something else), and in-place
edits: a value replaced where it stands, an empty one filled, a block one rewritten, new keys
appended in the file's line ending, everything else byte for byte, and an edit that would not
load back refused on the line of the field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core import fm, fmedit
from mllm_lab.errors import BrokenNote


def broken(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(BrokenNote) as caught:
        call(*args, **kwargs)
    return caught.value.line, str(caught.value)


# --- load_yaml: problems with their lines ----------------------------------------------------


def test_a_duplicate_key_names_both_lines() -> None:
    assert broken(fm.load_yaml, "a: 1\nb: 2\na: 3\n", "list.yaml") == (
        3,
        "list.yaml:3: not valid YAML: duplicate key `a` (also on line 1)",
    )


def test_a_duplicate_key_in_frontmatter_names_the_file_line_of_the_first() -> None:
    text = "---\ntitle: a\nstatus: read\ntitle: b\n---\nbody\n"
    assert broken(fm.parse, text, "papers/x.md") == (
        4,
        "papers/x.md:4: frontmatter is not valid YAML: duplicate key `title` (also on line 2)",
    )


def test_aliases_are_refused_on_their_line() -> None:
    assert broken(fm.load_yaml, "a: 1\nb: &x 1\nc: *x\n", "l.yaml", first_line=5) == (
        6,
        "l.yaml:6: YAML anchors and aliases (&name, *name) are not allowed",
    )
    assert broken(fm.load_yaml, "a: 1\nc: *x\n", "l.yaml")[0] == 2
    assert fm.load_yaml("a: 'x & y'\nb: '*'\n") == {"a": "x & y", "b": "*"}


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: 1\nb: 2026-02-30\n", 3, "day is out of range for month"),
        ("a: 2026-01-01\nb: 1999-13-01\n", 3, "month must be in 1..12"),
        ("a: 1\nb: [\n", 4, "did not find expected node content"),
        ("a: !!python/name:os.system x\n", 2, "could not determine a constructor"),
        ("[" * 2000, 2, "exceeded maximum nesting depth"),
    ],
)
def test_yaml_problems_name_their_line(text: str, line: int, problem: str) -> None:
    where, message = broken(fm.load_yaml, text, "f.yaml", first_line=2)
    assert where == line
    assert message.startswith(f"f.yaml:{line}: not valid YAML: ") and problem in message
    assert "\n" not in message


def test_an_impossible_date_is_found_after_possible_ones() -> None:
    text = "a: 2024-02-29\nb: 2026-01-15\nc: [x, 2026-02-30]\n"
    assert broken(fm.load_yaml, text, "f.yaml", first_line=2) == (
        4,
        "f.yaml:4: not valid YAML: day is out of range for month",
    )


def test_an_impossible_time_names_its_line() -> None:
    text = "---\ntitle: x\nstarted: 2026-11-25T25:00:00\n---\n"
    assert broken(fm.parse, text, "papers/x.md") == (
        3,
        "papers/x.md:3: frontmatter is not valid YAML: hour must be in 0..23",
    )


def test_a_yaml_error_without_a_mark_is_on_the_first_line(monkeypatch: pytest.MonkeyPatch) -> None:
    yaml_module = fm.yaml_kit()[0]

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise yaml_module.YAMLError("something\n  went wrong")

    monkeypatch.setattr(yaml_module, "load", fails)
    assert broken(fm.load_yaml, "a: 1\n", "f.yaml", first_line=7) == (
        7,
        "f.yaml:7: not valid YAML: something went wrong",
    )

    def deep(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError

    monkeypatch.setattr(yaml_module, "load", deep)
    assert broken(fm.load_yaml, "a: 1\n", "f.yaml", first_line=7) == (
        7,
        "f.yaml:7: not valid YAML: nested too deeply",
    )


# --- parse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "meta", "body", "body_line"),
    [
        ("---\r\ntitle: T\r\n...\r\nbody", {"title": "T"}, "body", 4),
        ("--- \t\nt: 1\n---  \nb", {"t": 1}, "b", 4),
        ("---\n---\nbody", {}, "body", 3),
        ("---\n~\n---\n", {}, "", 4),
        ("---\n# only a comment\n\n---\nx\n", {}, "x\n", 5),
        ("\ufeff---\nt: x\n---\nb", {"t": "x"}, "b", 4),
        ("---\n1: x\n---\n", {"1": "x"}, "", 4),
    ],
)
def test_parse(text: str, meta: dict[str, Any], body: str, body_line: int) -> None:
    parsed = fm.parse(text, "n.md")
    assert (parsed.meta, parsed.body, parsed.body_line) == (meta, body, body_line)
    assert parsed.has_frontmatter


@pytest.mark.parametrize(
    "text", ["\ufeffno frontmatter", "----\nt: x\n---\n", "x\n---\nt: 1\n---\n"]
)
def test_no_frontmatter_is_all_body(text: str) -> None:
    parsed = fm.parse(text, "n.md")
    assert (parsed.meta, parsed.body, parsed.body_line) == ({}, text.lstrip("\ufeff"), 1)
    assert not parsed.has_frontmatter and parsed.key_lines == {}


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "---\n'just a string'\n---\n",
            2,
            "frontmatter must be a mapping of `key: value` lines, not a str",
        ),
        ("---\n- a\n---\n", 2, "frontmatter must be a mapping of `key: value` lines, not a list"),
        ("---\nt: x\n", 1, "frontmatter opens with --- but has no closing --- line"),
        ("---", 1, "frontmatter opens with --- but has no closing --- line"),
        ("---\nt: x\nu: [\n---\n", 4, "frontmatter is not valid YAML: "),
    ],
)
def test_broken_frontmatter(text: str, line: int, message: str) -> None:
    assert broken(fm.parse, text, "n.md")[1].startswith(f"n.md:{line}: {message}")


def test_key_lines_are_file_lines_of_top_level_keys() -> None:
    text = (
        "---\n# c\ntitle: x\n'q k': 1\n\"d\": 2\ntags:\n  - nested: 3\n- item\n"
        "last:\ntitle2 : y\n---\n"
    )
    assert fm.key_lines(text.split("\n")[1:-2]) == {
        "title": 3,
        "q k": 4,
        "d": 5,
        "tags": 6,
        "last": 9,
        "title2": 10,
    }
    assert fm.key_lines(["a: 1", "a: 2"]) == {"a": 2}
    assert fm.key_lines(["url:http://x", " a: 1", "-b: 2", "#c: 3"]) == {}


# --- one value ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spelled"),
    [
        (None, "null"),
        (date(2026, 1, 2), "2026-01-02"),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (1.5, "1.5"),
        ("plain", "plain"),
        ("", "''"),
        ("yes", "'yes'"),
        ("null", "'null'"),
        ("2026-01-01", "'2026-01-01'"),
        ("0o17", "'0o17'"),
        ("1_000", "'1_000'"),
        ("1:20", "'1:20'"),
        ("a: b", "'a: b'"),
        ("#c", "'#c'"),
        ("x\ty", '"x\\ty"'),
        ([], "[]"),
        ((), "[]"),
        (["a", "b: c"], "[a, 'b: c']"),
        (("x",), "[x]"),
        ({"k": 1}, "{k: 1}"),
    ],
)
def test_scalar_spells_one_value_on_one_line(value: Any, spelled: str) -> None:
    assert fm.scalar(value) == spelled


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(st.text(), max_size=3)))
def test_any_value_spelled_by_scalar_or_dump_loads_back(value: Any) -> None:
    assert yaml.safe_load("k: " + fm.scalar(value)) == {"k": value}
    assert yaml.safe_load(fm.dump({"k": value})) == {"k": value}
    assert "\n" not in fm.scalar(value)


@pytest.mark.parametrize(
    "text",
    [
        "~",
        "Null",
        "y",
        "N",
        "Yes",
        "off",
        "-1",
        "+0x1F",
        "0b101",
        "1e5",
        ".5",
        "-.inf",
        ".NaN",
        "=",
        "<<",
        "2026-1-2",
        "2026-01-02 10:00:00",
        "2026-01-02T10:00:00Z",
    ],
)
def test_what_a_yaml_reader_takes_for_a_non_string_is_quoted(text: str) -> None:
    assert fm.ambiguous(text)
    assert fm.dump({"k": text}) in (f"k: '{text}'\n", f'k: "{text}"\n')


@pytest.mark.parametrize("text", ["blip-2", "yesterday", "1.2.3", "2026-W48", "a=b", "x y"])
def test_ordinary_words_stay_plain(text: str) -> None:
    assert not fm.ambiguous(text)
    assert fm.dump({"k": text}) == f"k: {text}\n"


def test_dump_never_folds_a_long_line_and_writes_unicode() -> None:
    meta = {"title": "词 " * 100 + "end", "none": None, "d": date(2026, 1, 1)}
    text = fm.dump(meta)
    assert text == f"title: {'词 ' * 100}end\nnone: null\nd: 2026-01-01\n"
    assert yaml.safe_load(text) == meta


# --- editing in place --------------------------------------------------------------------------


def test_set_fields_replaces_fills_rewrites_and_appends() -> None:
    text = (
        "---\nstatus: reading  # why\nstarted:\nsummary: |\n  long\n  text\ntags:\n- a\nn: 1\n"
        "quoted: 'x'\n---\nbody\n"
    )
    new = fmedit.set_fields(
        text,
        {
            "status": "read",
            "started": date(2026, 1, 1),
            "summary": "short",
            "tags": ["x", "y: z"],
            "n": True,
            "quoted": "x",
            "new": "v",
        },
    )
    assert new == (
        "---\nstatus: read  # why\nstarted: 2026-01-01\nsummary: short\ntags: [x, 'y: z']\n"
        "n: true\nquoted: 'x'\nnew: v\n---\nbody\n"
    )


def test_set_fields_keeps_crlf_bom_closing_dots_and_a_missing_last_newline() -> None:
    crlf = "---\r\nstatus: reading\r\nsummary: >-\r\n  long\r\n---\r\nbody\r\n"
    assert fmedit.set_fields(crlf, {"summary": "s", "finished": None}) == (
        "---\r\nstatus: reading\r\nsummary: s\r\nfinished: null\r\n---\r\nbody\r\n"
    )
    assert (
        fmedit.set_fields("---\ntitle: x\n---", {"status": "read"})
        == "---\ntitle: x\nstatus: read\n---"
    )
    assert fmedit.set_fields("---\ntitle: x\n...\nb", {"a": 1}) == "---\ntitle: x\na: 1\n...\nb"
    assert fmedit.set_fields("\ufeff---\nt: x\n---\n", {"t": "z"}) == "\ufeff---\nt: z\n---\n"
    assert fmedit.set_fields("---\n---\n", {"status": "read"}) == "---\nstatus: read\n---\n"
    flow = "---\nx: 1\ny: [a,\n  b]\nstatus: reading\n---\n"
    assert fmedit.set_fields(flow, {"y": ["c"]}) == "---\nx: 1\ny: [c]\nstatus: reading\n---\n"


def test_set_fields_refuses_with_the_line_of_the_field() -> None:
    assert broken(fmedit.set_fields, "no frontmatter\n", {"status": "read"}, "p.md") == (
        1,
        "p.md:1: no frontmatter (a --- block) to write the fields into",
    )
    assert broken(fmedit.set_fields, "---\ntitle: x\n", {"status": "read"}, "p.md")[0] == 1
    aliased = "---\ntitle: x\nstatus: &a reading\nother: *a\n---\n"
    assert broken(fmedit.set_fields, aliased, {"status": "read"}, "p.md")[0] == 3
    odd = "---\ntitle: x\nstatus: r\n2026-01-01: a\n---\n"
    assert broken(fmedit.set_fields, odd, {"zzz": 1, "2026-01-01": "b"}, "p.md") == (
        4,
        "p.md:4: cannot update zzz, 2026-01-01 in place (the edited YAML would not load back "
        "as expected); edit it by hand",
    )
    assert broken(fmedit.set_fields, odd, {"title": "y", "2026-01-01": "b"}, "p.md")[0] == 2


def test_set_fields_names_the_file_line_of_a_value_that_cannot_be_read() -> None:
    text = "---\ntitle: x\nstarted: 2026-02-30\n---\n"
    assert broken(fmedit.set_fields, text, {"status": "read"}, "p.md") == (
        3,
        "p.md:3: not valid YAML: day is out of range for month",
    )
    crlf = "---\r\ntitle: x\r\nstatus: r\r\n2026-01-01:\r\n---\r\n"
    assert broken(fmedit.set_fields, crlf, {"2026-01-01": "b"}, "p.md")[0] == 4
    flow = "---\n{title: x, 2026-01-01: a}\n---\n"
    assert broken(fmedit.set_fields, flow, {"2026-01-01": "b"}, "p.md")[0] == 2
    assert broken(fmedit.set_fields, "---\u3000\ntitle: x\n---\n", {"a": 1}, "p.md")[0] == 1


@settings(max_examples=150, deadline=None)
@given(
    old=st.text(max_size=20),
    new=st.one_of(
        st.text(max_size=20), st.none(), st.dates(), st.lists(st.text(max_size=5), max_size=2)
    ),
    crlf=st.booleans(),
)
def test_an_edit_changes_only_the_edited_line(old: str, new: Any, crlf: bool) -> None:
    newline = "\r\n" if crlf else "\n"
    head = f"---{newline}# mine{newline}key: blip-2{newline}"
    tail = f"status: unread  # keep{newline}---{newline}body{newline}"
    text = head + "title: " + fm.scalar(old) + newline + tail
    result = fmedit.set_fields(text, {"title": new})
    assert result.startswith(head) and result.endswith(tail)
    assert fm.parse(result, "n.md").meta == {"key": "blip-2", "title": new, "status": "unread"}


def test_lines_are_counted_as_editors_count_them_past_yaml_only_line_breaks() -> None:
    # YAML breaks lines at U+2028, U+2029 and U+0085; editors and GitHub do not
    text = "---\ntitle: T\nsummary: 'a\u2028b\u2029c\x85d'\nstage: 2\nstage: 3\n---\n"
    assert broken(fm.parse, text, "n.md") == (
        5,
        "n.md:5: frontmatter is not valid YAML: duplicate key `stage` (also on line 4)",
    )
    aliased = "---\ntitle: 'a\u2028b'\nx: &a 1\ny: *a\n---\n"
    assert broken(fm.parse, aliased, "n.md")[0] == 3
