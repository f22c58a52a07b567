"""Frontmatter: a YAML emitter writes it, it loads back exactly, errors carry their line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from unittest import mock

import pytest
import yaml
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from mllm_lab.core import fm, fmedit
from mllm_lab.errors import BrokenNote

TRICKY = 'BLIP-2: "x" #y | [z] - w'


def roundtrip(meta: dict[str, object]) -> dict[str, object]:
    text = "---\n" + fm.dump(meta) + "---\nbody\n"
    return fm.parse(text, "n.md").meta


def test_tricky_title_loads_back_exactly() -> None:
    meta = {"title": TRICKY, "tags": ["[[wiki]]", "a: b"], "created": date(2026, 11, 25), "n": None}
    assert roundtrip(meta) == meta


def test_no_yaml_aliases_for_repeated_values() -> None:
    day = date(2026, 1, 1)
    assert "&" not in fm.dump({"created": day, "started": day})


scalars = st.one_of(
    st.text(), st.integers(), st.none(), st.booleans(), st.dates(), st.floats(allow_nan=False)
)


@given(
    st.dictionaries(
        st.text(min_size=1), st.one_of(scalars, st.lists(st.text(), max_size=4)), max_size=6
    )
)
def test_any_mapping_of_text_round_trips(meta: dict[str, object]) -> None:
    assert roundtrip(meta) == meta


@given(st.text())
def test_any_title_round_trips(title: str) -> None:
    assert roundtrip({"title": title})["title"] == title


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\ntitle: Attention: is all you need\n---\n", 2, "not valid YAML"),
        ("---\ntitle: ok\ntags: [a, b\n---\n", 4, "not valid YAML"),
        ("---\n- a\n- b\n---\n", 2, "must be a mapping"),
        ("---\ntitle: x\n", 1, "no closing ---"),
    ],
)
def test_broken_frontmatter_reports_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(BrokenNote) as caught:
        fm.parse(text, "papers/x.md")
    assert caught.value.line == line
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"papers/x.md:{line}: ")


def test_bom_crlf_and_no_frontmatter() -> None:
    parsed = fm.parse("\ufeff---\r\ntitle: T\r\n---\r\n# Body\r\n", "x.md")
    assert parsed.meta == {"title": "T"} and parsed.body == "# Body\r\n" and parsed.body_line == 4
    assert fm.parse("# just text\n", "x.md").meta == {}


def test_set_fields_edits_in_place_and_keeps_everything_else() -> None:
    text = "---\n# my comment\ntitle: 'A: b'\nstatus: reading  # note\nextra: [1, 2]\n---\nbody\n"
    new = fmedit.set_fields(text, {"status": "read", "finished": date(2026, 11, 25)})
    assert new == (
        "---\n# my comment\ntitle: 'A: b'\nstatus: read  # note\nextra: [1, 2]\nfinished: 2026-11-25\n---\nbody\n"
    )


def test_set_fields_on_crlf_and_block_values() -> None:
    text = "---\r\nstatus: reading\r\ntags:\r\n- a\r\n- b\r\nstarted: 2026-01-01\r\n---\r\nbody\r\n"
    new = fmedit.set_fields(text, {"status": "read", "started": None})
    assert new == "---\r\nstatus: read\r\ntags:\r\n- a\r\n- b\r\nstarted: null\r\n---\r\nbody\r\n"
    assert yaml.safe_load(new.split("---")[1]) == {
        "status": "read",
        "tags": ["a", "b"],
        "started": None,
    }


@given(st.text(), st.text())
def test_set_fields_always_loads_back_to_the_update(old: str, new: str) -> None:
    text = "---\n" + fm.dump({"title": old, "status": "unread"}) + "---\nbody"
    result = fmedit.set_fields(text, {"title": new})
    parsed = fm.parse(result, "x.md")
    assert parsed.meta == {"title": new, "status": "unread"}
    assert parsed.body == "body"


def test_a_reading_list_block_list_is_rewritten_in_its_place() -> None:
    from mllm_lab.core import readinglist

    text = (
        "# my list\n"
        "papers:\n"
        "  - key: a  # first\n"
        "    authors:\n"
        "      - A One et al.\n"
        "    status: unread\n"
        "  - key: b\n"
        "    status: read\n"
    )
    reading = readinglist.parse(text)
    edited = readinglist.set_fields(
        reading, 0, {"authors": ["A One", "B Two: Jr"], "bibkey": "one2023"}
    )
    assert edited.entries[0] == {
        "key": "a",
        "authors": ["A One", "B Two: Jr"],
        "status": "unread",
        "bibkey": "one2023",
    }
    assert edited.text.startswith("# my list\npapers:\n  - key: a  # first\n    authors: ")
    assert edited.text.endswith("  - key: b\n    status: read\n")
    # a comment among the list's lines would be lost: refused, the file untouched
    commented = text.replace(
        "      - A One et al.\n", "      # as on the paper\n      - A One et al.\n"
    )
    with pytest.raises(BrokenNote):
        readinglist.set_fields(readinglist.parse(commented), 0, {"authors": ["A One", "B Two"]})


def test_a_frontmatter_list_with_a_comment_inside_is_refused_not_stripped() -> None:
    text = "---\nkey: a\nauthors:\n# as on the paper\n- A One et al.\nyear: 2023\n---\nbody\n"
    with pytest.raises(BrokenNote):
        fmedit.set_fields(text, {"authors": ["A One", "B Two"]}, "x.md")
    plain = text.replace("# as on the paper\n", "")
    assert "authors: [A One, B Two]" in fmedit.set_fields(
        plain, {"authors": ["A One", "B Two"]}, "x.md"
    )


# --- a new note's frontmatter written without PyYAML ------------------------------------------

_tricky = st.text(
    alphabet=st.sampled_from(
        [
            *"aZ09 .,()/_+-:#'\"[]{}&*!|>%@`?~=<",
            *["概", "念", "：", "，", "（", "）", "、", "。", "《", "》", "\u3000", "\u00a0"],
            *["\ufeff", "\x85", "é", "🚀", "\t", "\n", "\u2028", "ｚ", "０"],
        ]
    ),
    max_size=10,
)
_words = st.one_of(
    _tricky,
    st.sampled_from(["yes", "No", "null", "~", "1e3", "0x1F", "2026-11-25", "1_000", "=", "<<"]),
    st.sampled_from(["BLIP-2 v1.2", "ALiBi 线性偏置位置编码：与 LLM 的结合", "a, b (c)", "x.y"]),
)
_values = st.one_of(
    _words,
    st.none(),
    st.integers(-5, 10**12),
    st.booleans(),
    st.dates(),
    st.lists(_words, max_size=3),
)


@given(
    meta=st.dictionaries(
        st.one_of(st.sampled_from(["title", "key", "tags", "stage", "y", "on", "_x"]), _tricky),
        _values,
        max_size=6,
    )
)
@example(meta={"t": " a", "u": "a "})
@example(meta={"t": "a: b"})
@example(meta={"t": "a #b"})
@example(meta={"tags": ["- x", "on"]})
def test_frontmatter_written_without_pyyaml_is_what_pyyaml_writes(meta: dict[str, object]) -> None:
    _same_as_pyyaml(meta)


@given(
    entries=st.lists(
        st.dictionaries(
            st.sampled_from(["key", "title", "year", "tags", "x y"]), _values, max_size=4
        ),
        max_size=3,
    )
)
@example(entries=[{"key": "a", "tags": ["x", "y"], "year": 2025}, {"key": "b"}])
@example(entries=[{}])
def test_reading_list_entries_written_without_pyyaml_are_what_pyyaml_writes(
    entries: list[dict[str, object]],
) -> None:
    _same_as_pyyaml(entries)


def _same_as_pyyaml(meta: object) -> None:
    ours = fm._dump_simple(meta)
    if ours is None:
        return  # PyYAML writes it
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    theirs = yaml.dump(meta, Dumper=dumper, sort_keys=False, allow_unicode=True, width=2**31 - 1)
    assert ours == theirs
    assert fm.yaml_kit()[0].load(ours, Loader=fm.yaml_kit()[1]) == meta


def test_a_new_notes_usual_frontmatter_is_written_without_pyyaml() -> None:
    meta = {
        "title": "ALiBi 线性偏置位置编码：与 LLM 的结合",
        "category": "applications",
        "stage": 5,
        "tags": ["eval", "对齐"],
        "related": [],
        "summary": "",
        "created": date(2024, 7, 31),
    }
    assert fm._dump_simple(meta) == fm.dump(meta)
    assert fm._dump_simple({"title": "BLIP-2: Bootstrapping"}) == "title: 'BLIP-2: Bootstrapping'\n"


_quoted_titles = st.builds(
    lambda head, mark, tail: head + mark + tail,
    st.text(max_size=12),
    st.sampled_from(
        [
            ": ",
            " #",
            ":",
            "'",
            '"',
            "- ",
            "# ",
            "[",
            "{",
            "&",
            "*",
            "!",
            "|",
            ">",
            "%",
            "@",
            "`",
            ",",
            "\t",
            "\u3000",
        ]
    ),
    st.text(max_size=12),
)


@given(title=_quoted_titles, authors=st.lists(_quoted_titles, max_size=2))
@example(title="BLIP-2: Bootstrapping Language-Image Pre-training", authors=["O'Brien: A"])
@example(title="'quoted' title:", authors=["- x", "#1 paper"])
@example(title=" a: b ", authors=["a\tb: c"])
def test_a_title_with_a_colon_is_single_quoted_as_pyyaml_quotes_it(
    title: str, authors: list[str]
) -> None:
    """The usual paper title (`BLIP-2: …`) is written without importing PyYAML, quoted as
    PyYAML quotes it; what only PyYAML knows how to write (a tab, a line break, a control
    character) is still left to it."""
    _same_as_pyyaml({"title": title, "authors": authors})
    _same_as_pyyaml([{"key": "k", "title": title}])
    if ": " in title and title.isprintable() and max(title) <= "\uffff":
        assert fm._dump_simple({"title": title}) is not None


_field_values = st.one_of(
    st.text(
        alphabet=st.sampled_from(
            " :#?-'\"!&*[]{}|>%@`,.0123456789eE+_abcXYZ/=éñ中：\t\xa0\U0001f600"
        ),
        max_size=14,
    ),
    st.from_regex(r"[0-9]{1,5}\.[0-9]{0,5}", fullmatch=True),
    st.from_regex(r"https?://[a-z0-9./?=&#:%_-]{0,20}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(_field_values, _quoted_titles))
@example(value="2508.18265")  # an arXiv id: a float to PyYAML, so quoted
@example(value="https://arxiv.org/abs/2508.18265")
@example(value="How Far Are We to GPT-4V? Closing the Gap")
@example(value="It's a ---")
@example(value="--- not a document")
@example(value="? x")
@example(value="Timothée Darcet")
def test_a_papers_fields_are_written_as_pyyaml_and_lab_s_own_dumper_write_them(
    value: str,
) -> None:
    """An arXiv id, a URL, a title with `?`, `'`, `: ` or `#` in it: written without PyYAML
    exactly as PyYAML's dumpers (libyaml's, the pure one, and lab's own, which quotes what
    some reader takes for another type) write them, or left to PyYAML."""
    meta = {"t": value, "l": [value]}
    ours = fm._dump_simple(meta)
    if ours is None:
        return
    yaml_, loader, dumper = fm.yaml_kit()
    for theirs in (getattr(yaml, "CSafeDumper", yaml.SafeDumper), yaml.SafeDumper, dumper):
        assert ours == yaml.dump(
            meta, Dumper=theirs, sort_keys=False, allow_unicode=True, width=2**31 - 1
        )
    assert yaml_.load(ours, Loader=loader) == meta


def test_the_usual_fields_of_a_paper_need_no_pyyaml() -> None:
    entry = {
        "key": "internvl-2.5",
        "title": "Expanding Performance Boundaries of Open-Source Multimodal Models: InternVL 2.5",
        "arxiv": "2412.05271",
        "url": "https://arxiv.org/abs/2412.05271",
        "authors": ["Zhe Chen et al."],
        "year": 2024,
    }
    assert fm._dump_simple([entry]) == fm.yaml_kit()[0].dump(
        [entry], Dumper=fm.yaml_kit()[2], sort_keys=False, allow_unicode=True, width=2**31 - 1
    )


# --- an edit made without PyYAML -------------------------------------------------------------

_raw_values = st.sampled_from(
    [
        "unread",
        "read",
        "null",
        "~",
        "'x y'",
        "'it''s'",
        "2026-01-02",
        "[a, b]",
        "[]",
        "x  ",
        "a #c",
        "12",
        "yes",
        '"q"',
        "é 中文",
        "a: b",
        "|",
    ]
)
_item_lines = st.lists(
    st.sampled_from(["- a", "- 2026-01-02 read", "  - b", "", "# c", "- 'q'", "-  x"]), max_size=3
)
_fm_lines = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["status", "started", "history", "tags", "title", "on"]),
            st.one_of(
                _raw_values.map(lambda v: f": {v}"), st.just(":"), st.just(":  "), st.just(" : x")
            ),
        ).map("".join),
        _item_lines.map("\n".join),
        st.sampled_from(["# note", "", "  indented: x", "status:\tx", "started: \tnull"]),
        st.sampled_from(["# c\u2028status: x", "# c\rhistory: []", "# \x1b[31m", "#\ttab"]),
    ),
    max_size=6,
).map(lambda lines: "\n".join(line for line in lines if line is not None))
_updates = st.dictionaries(
    st.sampled_from(["status", "started", "finished", "history", "tags", "title"]),
    st.one_of(
        _words,
        st.none(),
        st.dates(),
        st.integers(0, 3000),
        st.booleans(),
        st.lists(st.sampled_from(["a", "2026-01-02 read", "b c", "q"]), max_size=3),
    ),
    max_size=3,
)


@settings(max_examples=1500, deadline=None)
@given(body=_fm_lines, updates=_updates, crlf=st.booleans(), last_newline=st.booleans())
@example(
    body="status: unread\nstarted: null\nhistory:\n- 2026-01-01 reading",
    updates={
        "status": "read",
        "started": date(2026, 1, 2),
        "history": ["2026-01-01 reading", "2026-01-02 read"],
    },
    crlf=False,
    last_newline=True,
)
@example(
    body="status: unread",
    updates={"finished": date(2026, 1, 2), "history": ["2026-01-02 read"]},
    crlf=True,
    last_newline=True,
)
@example(
    body="started:\nhistory:\n  - a\n\n# c",
    updates={"started": date(2026, 1, 2), "history": ["a", "b c"]},
    crlf=False,
    last_newline=True,
)
@example(
    body="history:\n  - a\nstatus: x",
    updates={"history": ["a", "b c"], "status": "y"},
    crlf=True,
    last_newline=False,
)
@example(body="status:\tunread", updates={"status": "read"}, crlf=False, last_newline=True)
@example(
    body="# c\u2028status: x\nkey: k", updates={"status": "read"}, crlf=False, last_newline=True
)
def test_an_edit_made_without_pyyaml_is_the_one_made_with_it(
    body: str, updates: dict[str, object], crlf: bool, last_newline: bool
) -> None:
    text = body + ("\n" if last_newline and body else "")
    text = text.replace("\n", "\r\n") if crlf else text
    fast = fmedit.plain_edit(text, dict(updates))
    with mock.patch.object(fmedit, "plain_edit", lambda *_: None):
        try:
            slow: str | None = fmedit.edit_mapping(text, dict(updates), "n.md")
        except (fmedit.CannotEdit, BrokenNote):
            slow = None
    event("made without PyYAML" if fast is not None else "left to PyYAML")
    if fast is not None:
        assert fast == slow


def test_a_status_change_is_made_without_importing_pyyaml() -> None:
    text = "---\nkey: x\nstatus: unread\nstarted: null\nfinished: null\n---\nbody\n"
    code = (
        "import sys\nfrom datetime import date\nfrom mllm_lab.core import fmedit\n"
        f"out = fmedit.set_fields({text!r}, {{'status': 'read', 'started': date(2026, 1, 2),"
        " 'finished': date(2026, 1, 2), 'history': ['2026-01-02 read']})\n"
        "assert 'yaml' not in sys.modules, 'PyYAML was imported'\nprint(out, end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == (
        "---\nkey: x\nstatus: read\nstarted: 2026-01-02\nfinished: 2026-01-02\n"
        "history:\n- 2026-01-02 read\n---\nbody\n"
    )


def _split_line_by_line(text: str) -> tuple[str, list[str], str, int] | str | None:
    """The frontmatter split as lab made it line by line before it searched for the closing
    fence: the reference the search must agree with."""
    prefix = fm.BOM if text.startswith(fm.BOM) else ""
    first_end = text.find("\n", len(prefix))
    first = text[len(prefix) : first_end if first_end >= 0 else len(text)].rstrip("\r")
    if not fm.FENCE.match(first):
        return None
    lines: list[str] = []
    offset = first_end + 1 if first_end >= 0 else len(text)
    while offset < len(text):
        end = text.find("\n", offset)
        line = text[offset : end if end >= 0 else len(text)].rstrip("\r")
        offset = end + 1 if end >= 0 else len(text)
        if fm.CLOSE.match(line):
            return prefix, lines, text[offset:], len(lines) + 3
        lines.append(line)
    return "unclosed"


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.sampled_from(["---", "...", "--", "----", " ", "\t", "\r", "\n", "a: b", "#", "x"]),
        max_size=14,
    ),
    st.booleans(),
)
@example(["---", "\n", "a: b", "\r", "\n", "---", "\r", "\r"], False)
@example(["---", "\n", "---", "\r", " ", "\r", "\n", "x"], False)
@example(["---"], True)
def test_the_closing_fence_is_found_where_a_line_by_line_reading_finds_it(
    pieces: list[str], bom: bool
) -> None:
    text = ("\ufeff" if bom else "") + "".join(pieces)
    try:
        split = fm._split(text)
    except ValueError:
        assert _split_line_by_line(text) == "unclosed"
        return
    got = None if split is None else (split.prefix, split.fm_lines, split.body, split.body_line)
    assert got == _split_line_by_line(text)
