"""papers/reading-list.yaml, pinned where mutation testing found it loose (issue 9): the line
each refused shape names, in-place edits that touch only their own lines (a changed value, a
filled-in empty one, an added or removed field, an appended or removed entry) in LF and CRLF
files and in the file's own indentation, and every edit it cannot make safely refused with
`path:line` and what it could not do, the file never rewritten."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core import readinglist as rl
from mllm_lab.errors import BrokenNote

HAND = (
    "# my list\n"
    "papers:\n"
    "  - key: a   # first\n"
    "    title: A\n"
    "    status: unread\n"
    "    started:\n"
    "  # about b\n"
    "  - key: b\n"
    "    title: 'B: x'\n"
    "    status: read\n"
)


def refused(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(BrokenNote) as caught:
        call(*args)
    assert caught.value.path == "papers/reading-list.yaml"
    return caught.value.line, caught.value.detail.render("en")


def cannot(what: str) -> str:
    return f"cannot {what} in place; edit the file by hand"


# --- parse -------------------------------------------------------------------------------------


def test_entries_and_the_line_of_each() -> None:
    reading = rl.parse(HAND)
    assert reading.entries == [
        {"key": "a", "title": "A", "status": "unread", "started": None},
        {"key": "b", "title": "B: x", "status": "read"},
    ]
    assert reading.lines == [3, 8]
    assert reading.text == HAND
    for empty in ("", "  \n", "# only a comment\n", "papers:\n", "papers: []\n"):
        assert rl.parse(empty).entries == [] and rl.parse(empty).lines == []


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# c\n- a\n", 1, "expected `papers:` followed by a list of entries (`- key: …`)"),
        ("# c\n\nPapers: []\n", 3, "expected `papers:` followed by a list of entries (`- key: …`)"),
        ("# c\npapers: 3\n", 2, "expected `papers:` followed by a list of entries (`- key: …`)"),
        (
            "papers:\n- key: a\n\n- just text\n",
            4,
            "each entry must be a mapping with key, title, status",
        ),
        ("papers:\n- key: a\n- [x]\n", 3, "each entry must be a mapping with key, title, status"),
    ],
)
def test_a_shape_lab_does_not_expect_names_its_line(text: str, line: int, message: str) -> None:
    assert refused(rl.parse, text) == (line, message)


def test_find_is_by_key_whatever_the_case() -> None:
    reading = rl.parse(HAND)
    assert (rl.find(reading, "B"), rl.find(reading, "a"), rl.find(reading, "c")) == (1, 0, None)
    assert rl.find(rl.parse("papers:\n- title: no key\n- key: k\n"), "k") == 1


# --- set_fields ----------------------------------------------------------------------------------


def test_set_fields_changes_values_where_they_stand_and_adds_new_ones_after_the_entry() -> None:
    new = rl.set_fields(
        rl.parse(HAND), 0, {"status": "reading", "started": date(2026, 1, 2), "venue": "ICML"}
    )
    assert new.text == HAND.replace("status: unread", "status: reading").replace(
        "    started:\n", "    started: 2026-01-02\n    venue: ICML\n"
    )
    assert new.entries[0]["started"] == date(2026, 1, 2) and new.lines == [3, 9]


def test_set_fields_keeps_a_comment_after_an_empty_value() -> None:
    text = "papers:\n- key: a\n  started:  # when\n"
    new = rl.set_fields(rl.parse(text), 0, {"started": date(2026, 1, 1)})
    assert new.text == "papers:\n- key: a\n  started: 2026-01-01  # when\n"


def test_set_fields_appends_before_the_comments_that_follow_an_entry() -> None:
    text = "papers:\n- key: a\n  title: A\n  # about a\n# about b\n- key: b\n"
    new = rl.set_fields(rl.parse(text), 0, {"status": "read"})
    assert new.text == text.replace("  title: A\n", "  title: A\n  status: read\n")


def test_set_fields_on_a_last_line_without_newline_and_in_crlf() -> None:
    new = rl.set_fields(rl.parse("papers:\n- key: a\n  title: A"), 0, {"status": "read"})
    assert new.text == "papers:\n- key: a\n  title: A\n  status: read\n"
    crlf = "papers:\r\n  - key: a\r\n    title: A\r\n"
    new = rl.set_fields(rl.parse(crlf), 0, {"status": "read", "title": "B"})
    assert new.text == "papers:\r\n  - key: a\r\n    title: B\r\n    status: read\r\n"


def test_set_fields_removes_a_field_s_whole_line_and_skips_what_is_already_so() -> None:
    reading = rl.parse(HAND)
    assert rl.set_fields(reading, 1, {"status": None}).text == HAND.replace(
        "    status: read\n", ""
    )
    assert rl.set_fields(reading, 0, {"started": None}).text == HAND.replace("    started:\n", "")
    same = rl.set_fields(reading, 1, {"title": "B: x", "venue": None, "status": "read"})
    assert same.text == HAND
    block = "papers:\n- key: a\n  tags:\n  - x\n  - y\n"
    assert rl.set_fields(rl.parse(block), 0, {"tags": None}).text == "papers:\n- key: a\n"


def test_set_fields_refuses_what_it_cannot_edit_on_one_line() -> None:
    flow = rl.parse("# c\npapers:\n- {key: a, title: A}\n")
    assert refused(rl.set_fields, flow, 0, {"status": "read"}) == (
        3,
        cannot("change this entry (written in flow style)"),
    )
    block = rl.parse("papers:\n- key: z\n- key: a\n  title: |\n    A\n")
    assert refused(rl.set_fields, block, 1, {"title": "B"}) == (
        3,
        cannot("change a value that is not on one line"),
    )
    first = rl.parse("papers:\n- key: a\n  title: A\n")
    assert refused(rl.set_fields, first, 0, {"key": None}) == (
        2,
        cannot("remove a field of this entry"),
    )
    commented = rl.parse("papers:\n- key: a\n  title: A  # mine\n")
    assert refused(rl.set_fields, commented, 0, {"title": None}) == (
        2,
        cannot("remove a field of this entry"),
    )


# --- append and remove -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("", rl.HEADER + "papers:\n- key: c\n  title: C\n"),
        ("\r\n", rl.HEADER + "papers:\n- key: c\n  title: C\n"),
        ("papers:\n", "papers:\n- key: c\n  title: C\n"),
        (
            "# mine\npapers: []  # none yet\n# end\n",
            "# mine\npapers:  # none yet\n- key: c\n  title: C\n# end\n",  # its comment kept
        ),
        ("papers: []", "papers:\n- key: c\n  title: C\n"),
        ("# only\n", "# only\npapers:\n- key: c\n  title: C\n"),
        ("# only", "# only\npapers:\n- key: c\n  title: C\n"),
        ("# crlf\r\n", "# crlf\r\npapers:\r\n- key: c\r\n  title: C\r\n"),
    ],
)
def test_the_first_entry_rewrites_only_the_papers_key(text: str, result: str) -> None:
    if text == "\r\n":
        result = rl.HEADER.replace("\n", "\r\n") + "papers:\r\n- key: c\r\n  title: C\r\n"
    added = rl.append(rl.parse(text), {"key": "c", "title": "C"})
    assert added.text == result
    assert added.entries == [{"key": "c", "title": "C"}]


def test_append_writes_in_the_file_s_own_indentation_and_line_ending() -> None:
    text = "papers:\r\n    -   key: a\r\n        title: A"
    added = rl.append(rl.parse(text), {"key": "c", "title": "t"})
    assert added.text == text + "\r\n    - key: c\r\n      title: t\r\n"
    added = rl.append(rl.parse(HAND), {"key": "c", "title": "C: d"})
    assert added.text == HAND + "  - key: c\n    title: 'C: d'\n"
    assert added.lines == [3, 8, 11]


def test_append_refuses_when_the_entry_would_not_read_back() -> None:
    text = "papers:\n- key: a\n...\n# after the document\n"
    assert refused(rl.append, rl.parse(text), {"key": "c"}) == (5, cannot("add an entry"))


def test_remove_deletes_the_entry_s_lines_and_keeps_the_comments_around() -> None:
    reading = rl.parse(HAND)
    assert (
        rl.remove(reading, 0).text
        == "# my list\npapers:\n  # about b\n" + HAND.split("  # about b\n")[1]
    )
    assert rl.remove(reading, 1).text == HAND.split("  - key: b")[0]
    last = "papers:\n- key: a\n- key: b\n  title: |\n    multi\n    line\n# after\n"
    assert rl.remove(rl.parse(last), 1).text == "papers:\n- key: a\n# after\n"
    assert rl.remove(rl.parse("papers:\n- key: a\n- key: b"), 1).text == "papers:\n- key: a\n"
    assert rl.remove(rl.parse("papers:\n- key: a\n"), 0).entries == []


def test_remove_refuses_a_flow_list() -> None:
    flow = rl.parse("# c\npapers: [{key: a}, {key: b}]\n")
    assert refused(rl.remove, flow, 1) == (2, cannot("remove this entry"))


# --- any text -----------------------------------------------------------------------------------

titles = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


@settings(max_examples=60, deadline=None)
@given(title=titles, status=st.sampled_from(["unread", "reading", "read"]))
def test_any_title_is_appended_set_and_removed_without_touching_other_lines(
    title: str, status: str
) -> None:
    added = rl.append(rl.parse(HAND), {"key": "c", "title": title, "status": "unread"})
    assert added.text.startswith(HAND)
    assert yaml.safe_load(added.text)["papers"][2] == {
        "key": "c",
        "title": title,
        "status": "unread",
    }
    marked = rl.set_fields(added, 2, {"status": status, "title": title + "!"})
    assert marked.text.startswith(HAND)
    assert marked.entries[2] == {"key": "c", "title": title + "!", "status": status}
    assert rl.remove(marked, 2).text == HAND
    renamed = rl.set_fields(rl.parse(HAND), 1, {"title": title})
    assert renamed.entries[1]["title"] == title
    assert renamed.text.split("  - key: b")[0] == HAND.split("  - key: b")[0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({"key": st.text(min_size=1, max_size=8), "title": titles}), max_size=3
    )
)
def test_a_new_reading_list_reads_back(entries: list[dict[str, Any]]) -> None:
    text = rl.text_of(entries)
    assert text.startswith(rl.HEADER)
    assert rl.parse(text).entries == entries


def _dash_by_pyyaml(text: str) -> str:
    first = rl._papers_node(rl._node(text))[1].value[0]
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    indent = text[line_start : first.start_mark.index]
    return indent[: len(indent) - len(indent.lstrip(" "))]


@pytest.mark.parametrize(
    "text",
    [
        "papers:\n- key: a\n  title: A\n",
        "# list\npapers:\n  - key: a\n    title: A\n",
        "papers:\n    -   key: a\n        title: A\n",
        "papers:\n-\n  key: a\n",
        "papers:\n  -\n    key: a\n",
        "papers: [{key: a, title: A}]\n",
        "papers:\r\n  - key: a\r\n    title: A\r\n",
        "x: 1\npapers:\n - key: a\n   title: 'A: b'\n - key: b\n",
        "papers:\n- {key: a}\n",
        "# list\rpapers:\r- key: a\r  title: A\r",  # CR alone ends lines for YAML
        "# x\r# y\npapers:\n- authors:\n  - A\n  key: a\n",
        "# a\u2028# line break to YAML\npapers:\n  - key: a\n",
        "# \x85\npapers:\n- key: a\n",
    ],
)
def test_the_first_entrys_indentation_is_found_as_pyyaml_finds_it(text: str) -> None:
    reading = rl.parse(text)
    assert rl._dash_of_first(reading) == _dash_by_pyyaml(text)
    try:
        added = rl.append(reading, {"key": "c", "title": "C"})
    except BrokenNote:  # a shape lab does not add to in place (flow style, `-` alone): refused
        assert "papers:\n- key" not in text
    else:
        assert added.entries == [*reading.entries, {"key": "c", "title": "C"}]


# --- an edit read back: only the lines it replaced ------------------------------------------

fields = st.fixed_dictionaries(
    {"key": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "title": titles},
    optional={
        "status": st.sampled_from(["unread", "reading", "read"]),
        "year": st.integers(1990, 2030),
        "authors": st.lists(titles, max_size=2),
    },
)
between = st.sampled_from(["", "", "# a comment\n", "\n", "  # indented comment\n"])
updates = st.dictionaries(
    st.sampled_from(["status", "title", "started", "year", "venue", "authors"]),
    st.one_of(
        st.none(), titles, st.sampled_from(["read", "2026-11-25"]), st.lists(titles, max_size=2)
    ),
    max_size=3,
)


def _fresh(text: str) -> rl.ReadingList:
    """The whole text read as if never seen before (no list remembered)."""
    return rl._parse(text)


@settings(max_examples=150, deadline=None)
@given(
    entries=st.lists(fields, min_size=1, max_size=6),
    gaps=st.lists(between, min_size=7, max_size=7),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("set"), st.integers(0, 20), updates),
            st.tuples(st.just("add"), st.lists(fields, min_size=1, max_size=2)),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_an_edit_read_back_in_part_is_the_whole_list_read_again(
    entries: list[dict[str, Any]], gaps: list[str], steps: list[Any]
) -> None:
    """set_fields and extend read back only the lines they replaced (readinglist._edited):
    the entries and lines are those of the whole edited text read afresh, comments and blank
    lines between entries and all."""
    blocks = rl.text_of(entries).split("\n- ")
    text = blocks[0] + "".join(
        f"\n{gap}- {block}" if gap else f"\n- {block}"
        for gap, block in zip(gaps, blocks[1:], strict=False)
    )
    try:
        reading = rl.parse(text)
    except BrokenNote:
        return
    for step in steps:
        try:
            if step[0] == "set":
                reading = rl.set_fields(reading, step[1] % len(reading.entries), step[2])
            else:
                reading = rl.extend(reading, step[1])
        except BrokenNote:
            continue  # refused, as reading it all back would have refused it
        again = _fresh(reading.text)
        assert (reading.entries, reading.lines) == (again.entries, again.lines)


def test_an_edit_of_a_list_as_lab_writes_it_reads_only_its_own_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The whole list is not read again after a status is set or an entry added: one
    read_plain of the entry's lines alone (a 5,000-entry list takes 130 ms to read)."""
    entries = [{"key": f"p{n}", "title": f"Paper {n}", "status": "unread"} for n in range(300)]
    reading = rl.parse(rl.text_of(entries) + "# the end\n")
    read: list[int] = []
    real = rl.read_plain
    monkeypatch.setattr(rl, "read_plain", lambda text: read.append(len(text)) or real(text))
    marked = rl.set_fields(reading, 150, {"status": "read", "finished": date(2026, 11, 25)})
    added = rl.extend(marked, [{"key": "new", "title": "New: a paper"}])
    assert max(read) < 200, read  # the entry's own lines, not the 20 KB list
    assert added.entries[150] == {**entries[150], "status": "read", "finished": date(2026, 11, 25)}
    assert added.entries[-1] == {"key": "new", "title": "New: a paper"}
    assert rl.parse(added.text).entries == added.entries  # remembered: not read again
    assert max(read) < 200
    again = _fresh(added.text)
    assert (added.entries, added.lines) == (again.entries, again.lines)
