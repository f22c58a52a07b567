"""Generated regions, pinned where mutation testing found them loose (issue 9): the line and
the words of each damaged-marker message, markers inside fenced code, CRLF files, a region
that ends the file without a newline, `adopt` (markers put back around what lab wrote), and
`repair` of every kind of damage, each giving back the user's text byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core import repair as repair_module
from mllm_lab.core.regions import (
    NOTICE,
    adopt,
    body_sha,
    conflict_line,
    copy_outside,
    displaced,
    find_region,
    markers,
    newline_of,
    parse,
    render_region,
    replace_region,
)
from mllm_lab.core.repair import Repair, repair
from mllm_lab.errors import DamagedRegion, Unrepairable

# user text and bodies that hold no marker, fence, HTML comment or merge conflict line
# (`|||||||`, diff3's) of their own
plain = st.text(alphabet=st.sampled_from("ab yz中文\n\t#|-*.1"), max_size=40).filter(
    lambda text: conflict_line(text) is None
)
lines_of_text = (
    st.lists(st.text(alphabet=st.sampled_from("ab yz中文\t#|-*.1"), max_size=12), max_size=5)
    .map(lambda lines: "".join(line + "\n" for line in lines))
    .filter(lambda text: conflict_line(text) is None)
)


def damage(text: str) -> DamagedRegion:
    with pytest.raises(DamagedRegion) as caught:
        parse(text, "p.md")
    return caught.value


def begin(name: str, sha: str | None = None) -> str:
    return f"<!-- lab:begin {name}{f' sha={sha}' if sha else ''} · {NOTICE} -->\n"


def end(name: str) -> str:
    return f"<!-- lab:end {name} -->\n"


def done(result: Repair) -> list[str]:
    return [msg.render("en") for msg in result.done]


# --- parse: which line, and what the message says -------------------------------------------


def test_each_kind_of_damage_names_its_own_line_and_says_what_it_is() -> None:
    second = damage("x\n" + begin("r") + "a\n" + begin("r") + end("r"))
    assert (second.line, second.problem, second.name) == (4, "nested", "r")
    assert second.what.render("en") == "a second `lab:begin r` before `lab:end r`"

    inside = damage(begin("outer") + "a\n" + begin("inner") + end("inner") + end("outer"))
    assert (inside.line, inside.problem, inside.name, inside.outer) == (
        3,
        "nested",
        "inner",
        "outer",
    )
    assert inside.what.render("en") == "region `inner` begins inside region `outer` (line 1)"

    twice = damage("y\n" + begin("r") + end("r") + "z\n" + begin("r") + end("r"))
    assert (twice.line, twice.problem) == (5, "duplicate")
    assert twice.what.render("en") == "a second region `r` (the first is at line 2)"

    orphan = damage("a\nb\n" + end("r"))
    assert (orphan.line, orphan.problem, orphan.name) == (3, "no-begin", "r")
    assert orphan.what.render("en") == "`lab:end r` without its `lab:begin`"

    crossed = damage(begin("a") + end("b") + end("a"))
    assert (crossed.line, crossed.problem, crossed.name) == (2, "no-begin", "b")

    unclosed = damage("a\n\n" + begin("r") + "body\n")
    assert (unclosed.line, unclosed.problem, unclosed.name) == (3, "no-end", "r")
    assert unclosed.what.render("en") == "`lab:begin r` without its `lab:end r`"
    assert str(unclosed).startswith("p.md:3: ")


def test_a_region_knows_its_lines_offsets_and_body() -> None:
    text = "one\ntwo\n" + begin("r", "abc") + "b1\nb2\n" + end("r") + "tail"
    region = parse(text, "p.md")["r"]
    assert (region.line, region.end_line) == (3, 6)
    assert region.body == "b1\nb2\n" and region.sha == "abc"
    assert text[region.begin : region.body_start] == begin("r", "abc")
    assert text[region.body_end : region.end] == end("r")
    assert text[region.end :] == "tail"


def test_hand_edited_compares_the_body_with_its_sha() -> None:
    written = render_region("r", "row\n")
    assert not find_region(written, "r").hand_edited  # type: ignore[union-attr]
    assert find_region(written.replace("row", "r0w"), "r").hand_edited  # type: ignore[union-attr]
    # no sha: only an empty (or blank) body counts as untouched
    assert not find_region(begin("r") + " \n\n" + end("r"), "r").hand_edited  # type: ignore[union-attr]
    assert find_region(begin("r") + "x\n" + end("r"), "r").hand_edited  # type: ignore[union-attr]


def test_marker_lines_are_exact_lines_and_fenced_ones_are_text() -> None:
    text = (
        "<!-- lab:begin r -->  \r\n"  # trailing blanks and CR: still a marker
        " <!-- lab:end r -->\n"  # indented: text
        "x <!-- lab:end r -->\n"  # not at the start: text
        "```\n<!-- lab:end r -->\n```\n"  # in a fence: text
        "~~~\n<!-- lab:begin q -->\n~~~\n"
        "<!-- lab:end r -->"  # the last line, no newline
    )
    found = markers(text)
    assert [(m.kind, m.name, m.line) for m in found] == [("begin", "r", 1), ("end", "r", 10)]
    assert found[-1].stop == len(text)
    assert text[found[0].start : found[0].stop] == "<!-- lab:begin r -->  \r\n"
    assert parse(text, "p.md")["r"].body.count("lab:end r") == 3


def test_only_lab_markers_count() -> None:
    assert markers("<!-- lab:beginr -->\n<!-- lab:middle r -->\n<!-- lab:end  -->\n") == []
    assert markers("no marker at all\n") == []
    found = markers("```\nfence never closed\n" + end("r"))
    assert found == []  # an unclosed fence runs to the end: the marker is code


# --- render and replace -----------------------------------------------------------------------


def test_render_ends_the_body_with_a_newline_and_uses_the_asked_line_ending() -> None:
    assert render_region("r", "x") == render_region("r", "x\n")
    crlf = render_region("r", "a\nb\r\n", newline="\r\n")
    assert crlf.count("\r\n") == 4 and "\n" not in crlf.replace("\r\n", "")
    assert "sha=" + body_sha("a\nb\n") + " · " in crlf
    empty = "<!-- lab:begin r sha=" + body_sha("") + " · N -->\n" + end("r")
    assert render_region("r", "", notice="N") == empty


def test_a_region_ending_the_file_without_a_newline_stays_so() -> None:
    text = "intro\n" + render_region("r", "old\n").rstrip("\n")
    new = replace_region(text, "r", "new\n")
    assert new == "intro\n" + render_region("r", "new\n").rstrip("\n")


def test_a_crlf_region_keeps_crlf_in_an_lf_file_and_the_other_way_round() -> None:
    text = "lf\n" + render_region("r", "old\n", newline="\r\n") + "tail\n"
    new = replace_region(text, "r", "new\nrows\n")
    assert new == "lf\n" + render_region("r", "new\nrows\n", newline="\r\n") + "tail\n"
    text = "crlf\r\n" + render_region("r", "old\n") + "tail\r\n"
    assert replace_region(text, "r", "n\n") == "crlf\r\n" + render_region("r", "n\n") + "tail\r\n"


@pytest.mark.parametrize(
    ("text", "glue"),
    [("", ""), ("a", "\n\n"), ("a\n", "\n"), ("a\r\nb", "\r\n\r\n"), ("a\r\n", "\r\n")],
)
def test_a_new_region_goes_after_a_blank_line_in_the_file_s_line_ending(
    text: str, glue: str
) -> None:
    newline = "\r\n" if "\r\n" in text else "\n"
    assert replace_region(text, "r", "x\n") == text + glue + render_region("r", "x\n", newline)


@pytest.mark.parametrize(
    ("text", "newline"),
    [
        ("", "\n"),
        ("\n\r\n", "\n"),
        ("\nx\r", "\n"),
        ("\r\n", "\r\n"),
        ("a\r\n", "\r\n"),
        ("a\nb\r\n", "\n"),
    ],
)
def test_newline_of_is_the_first_line_s(text: str, newline: str) -> None:
    assert newline_of(text) == newline


# --- adopt: markers put back around what lab wrote ------------------------------------------


def test_adopt_puts_markers_around_the_first_known_body_found_as_whole_lines() -> None:
    text = "mine\nrow 1\nrow 2\nafter\n"
    adopted = adopt(text, "r", ["absent\n", "row 1\nrow 2\n"])
    assert adopted == "mine\n" + render_region("r", "row 1\nrow 2\n") + "after\n"
    # a body found only in the middle of a line is not lab's: nothing changes
    assert adopt("xrow 1\nrow 2\n", "r", ["row 1\nrow 2\n"]) == "xrow 1\nrow 2\n"
    # ... but a later whole-line occurrence is
    assert adopt("xrow\nrow\n", "r", ["row\n"]) == "xrow\n" + render_region("r", "row\n")
    # at the very start of the file
    assert adopt("row\nz\n", "r", ["row\n"]) == render_region("r", "row\n") + "z\n"


@pytest.mark.parametrize("bodies", [[], [""], ["  \n"], ["row"], ["missing\n"]])
def test_adopt_leaves_text_alone_when_no_whole_body_is_there(bodies: list[str]) -> None:
    assert adopt("a\nrow\nb\n", "r", bodies) == "a\nrow\nb\n"


def test_adopt_keeps_crlf_and_every_byte_around() -> None:
    text = "mine\r\nrow 1\r\nrow 2\r\nafter\r\n"
    adopted = adopt(text, "r", ["row 1\nrow 2\n"], notice="N")
    assert adopted == "mine\r\n" + render_region("r", "row 1\nrow 2\n", "\r\n", "N") + "after\r\n"
    assert not find_region(adopted, "r").hand_edited  # type: ignore[union-attr]


# --- repair ------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(before=lines_of_text, body=lines_of_text, after=plain, crlf=st.booleans())
def test_a_lost_end_marker_goes_back_exactly_where_lab_wrote_it(
    before: str, body: str, after: str, crlf: bool
) -> None:
    newline = "\r\n" if crlf else "\n"
    before, body = before.replace("\n", newline), body.replace("\n", newline)
    original = before + render_region("r", body, newline) + after
    lost = original.replace(f"<!-- lab:end r -->{newline}", "", 1)
    fixed = repair(lost, "p.md")
    assert fixed.text == original
    assert fixed.removed == []
    line = before.count("\n") + 2 + body.count("\n")
    assert done(fixed) == [
        f"p.md:{before.count(chr(10)) + 1}: put back the lost `lab:end r` at line {line}, "
        "where the region lab wrote ended"
    ]


def test_a_lost_end_at_the_end_of_a_file_without_a_newline() -> None:
    original = "a\n" + render_region("r", "")
    lost = original.replace(end("r"), "").rstrip("\n")  # the begin marker ends the file
    assert repair(lost).text == lost + "\n" + end("r")
    crlf = lost.replace("\n", "\r\n")
    assert repair(crlf).text == crlf + "\r\n" + end("r").replace("\n", "\r\n")


def test_a_lost_end_of_an_empty_region_goes_right_after_its_begin() -> None:
    original = "a\n" + render_region("r", "") + "my text\n"
    fixed = repair(original.replace(end("r"), ""))
    assert fixed.text == original
    assert done(fixed)[0].endswith(
        "put back the lost `lab:end r` at line 3, where the region lab wrote ended"
    )


def test_a_lost_end_whose_body_cannot_be_found_goes_right_after_its_begin() -> None:
    text = "a\n" + begin("r", "0123456789ab") + "my own words\n"
    fixed = repair(text, "p.md")
    assert fixed.text == "a\n" + begin("r", "0123456789ab") + end("r") + "my own words\n"
    assert done(fixed) == [
        "p.md:2: added `lab:end r` right after its `lab:begin`; the old generated lines below "
        "it are now your text (delete them if you do not want them)"
    ]
    no_sha = "a\n" + begin("r") + "words\n"
    assert repair(no_sha).text == "a\n" + begin("r") + end("r") + "words\n"
    crlf = "a\r\n" + begin("r").replace("\n", "\r\n") + "w\r\n"
    assert repair(crlf).text == crlf.replace("w\r\n", "<!-- lab:end r -->\r\nw\r\n")


@settings(max_examples=100, deadline=None)
@given(before=lines_of_text, body=lines_of_text, after=plain, crlf=st.booleans())
def test_a_lost_begin_goes_back_where_a_known_body_starts(
    before: str, body: str, after: str, crlf: bool
) -> None:
    newline = "\r\n" if crlf else "\n"
    before, body = before.replace("\n", newline), body.replace("\n", newline)
    region = render_region("r", body, newline)
    begin_line = region[: region.index(newline) + len(newline)]
    lost = before + region[len(begin_line) :] + after
    fixed = repair(lost, "p.md", bodies=["not it\n", body])
    sha = f" sha={body_sha(body)}" if body else ""  # what lab wrote: not a hand edit
    restored = f"<!-- lab:begin r{sha} · {NOTICE} -->{newline}"
    assert fixed.text == before + restored + region[len(begin_line) :] + after
    line = before.count("\n") + 1
    end_line = line + body.count("\n")
    if body:
        assert done(fixed) == [
            f"p.md:{end_line}: put back the lost `lab:begin r` at line {line}, "
            "where the region lab wrote began"
        ]
    else:
        assert done(fixed)[0].startswith(f"p.md:{end_line}: added the missing `lab:begin r`")


@settings(max_examples=100, deadline=None)
@given(
    before=lines_of_text,
    rows=st.lists(st.text(alphabet="abc中文|", min_size=1, max_size=8), min_size=5, max_size=30),
    ticked=st.data(),
    mine=st.text(alphabet="xyz注 ", min_size=1, max_size=8),
)
def test_a_lost_begin_goes_back_where_the_body_starts_after_ticks_and_a_line_of_mine(
    before: str, rows: list[str], ticked: st.DataObject, mine: str
) -> None:
    """Found by the stateful test: with a row ticked and a line written above the end marker,
    the begin marker went right above the end and the whole table showed twice."""
    body = "".join(f"| {row} |\n" for row in rows)
    lines = body.splitlines(keepends=True)
    allowed = max(1, len(lines) // 5)
    for at in ticked.draw(st.sets(st.integers(1, len(lines) - 1), max_size=allowed - 1)):
        lines[at] = "| ✅ " + lines[at]
    edited = "".join(lines) + f"USER {mine}\n"
    fixed = repair(before + edited + end("r") + "after\n", "p.md", bodies=[body])
    assert fixed.text == before + begin("r", body_sha(body)) + edited + end("r") + "after\n"
    assert "where the region lab wrote began" in done(fixed)[0]


def test_adopt_takes_back_a_body_with_a_line_added_in_the_middle() -> None:
    body = "".join(f"row {n}\n" for n in range(10))
    edited = body.replace("row 4\n", "row 4\nmine\n").replace("row 7", "row 7 ticked")
    adopted = adopt("before\n" + edited + "after\n", "r", [body])
    region = find_region(adopted, "r")
    assert region is not None and region.body == edited
    assert adopted.startswith("before\n<!-- lab:begin r") and adopted.endswith("after\n")
    # more changed than one line in five is not lab's any more: left alone
    far = "".join(f"row {n}{' x' if n % 3 else ''}\n" for n in range(10))
    assert adopt(far, "r", [body]) == far


def test_a_lost_begin_with_no_known_body_goes_right_before_the_end() -> None:
    text = "mine\nrows\n" + end("r") + "after\n"
    fixed = repair(text, "p.md", bodies=["other\n", ""])
    assert fixed.text == "mine\nrows\n" + begin("r") + end("r") + "after\n"
    assert done(fixed) == [
        "p.md:3: added the missing `lab:begin r` before the `lab:end`; the lines above it stay yours"
    ]


def test_swapped_markers_are_swapped_back_with_their_own_line_endings() -> None:
    text = "a\n<!-- lab:end r --> \r\nbody\n<!-- lab:begin r sha=1 -->\t\nz\n"
    fixed = repair(text, "p.md")
    assert fixed.text == "a\n<!-- lab:begin r sha=1 -->\t\r\nbody\n<!-- lab:end r --> \nz\n"
    assert done(fixed) == [
        "p.md:2: put back `lab:begin r` and `lab:end r`, which were swapped (lines 2 and 4)"
    ]
    # an end, then a region of its own: the end is an orphan, not a swap
    orphan = "a\n" + end("r") + begin("r") + "b\n" + end("r")
    assert "swapped" not in done(repair(orphan))[0]


def test_a_second_begin_inside_the_open_region_is_dropped() -> None:
    text = "u\n" + begin("r") + "a\n" + begin("r", "abc") + "b\n" + end("r") + "v\n"
    fixed = repair(text, "p.md")
    assert fixed.text == "u\n" + begin("r") + "a\nb\n" + end("r") + "v\n"
    assert done(fixed) == ["p.md:4: removed a second `lab:begin r` inside the open region"]
    assert fixed.removed == []


def test_a_region_pasted_inside_another_loses_only_its_markers() -> None:
    text = "u\n" + begin("a") + "x\n" + begin("b") + "y\n" + end("b") + "z\n" + end("a") + "v\n"
    fixed = repair(text, "p.md")
    assert fixed.text == "u\n" + begin("a") + "x\ny\nz\n" + end("a") + "v\n"
    assert done(fixed) == [
        "p.md:4: removed the markers of region `b` (lines 4-6) from inside region `a`"
    ]
    # an inner begin that never ends began nothing
    stray = "u\n" + begin("a") + "x\n" + begin("b") + "y\n" + end("a")
    fixed = repair(stray, "p.md")
    assert fixed.text == "u\n" + begin("a") + "x\ny\n" + end("a")
    assert done(fixed) == ["p.md:4: removed a stray `lab:begin b`, which began nothing"]


def test_a_region_pasted_twice_keeps_the_first_and_backs_up_the_second() -> None:
    first = render_region("r", "one\n")
    text = "u\n" + first + "mine\n" + render_region("r", "two\n") + "v\n"
    fixed = repair(text, "p.md")
    assert fixed.text == "u\n" + first + "mine\n" + "v\n"
    assert fixed.removed == ["two\n"]
    assert done(fixed) == ["p.md:6: removed the other copies of region `r` (lines 6-8)"]
    # a stray begin after a whole region begins nothing
    stray = "u\n" + first + "mine\n" + begin("r") + "v\n"
    fixed = repair(stray, "p.md")
    assert fixed.text == "u\n" + first + "mine\nv\n"
    assert done(fixed) == ["p.md:6: removed a stray `lab:begin r`, which began nothing"]
    assert fixed.removed == []


def test_repair_fixes_one_problem_after_another_and_leaves_good_text_alone() -> None:
    good = "a\n" + render_region("r", "x\n")
    assert repair(good) == Repair(good, [], [])
    text = end("q") + "mine\n" + begin("r") + "x\n"
    fixed = repair(text, "p.md")
    assert parse(fixed.text, "p.md").keys() == {"q", "r"}
    assert len(fixed.done) == 2
    assert fixed.text.replace(begin("q"), "").replace(end("r"), "") == text


def test_damage_repair_cannot_fix_is_refused_not_looped_on(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a\n" + end("r")
    # a fix that changes nothing: the same damage again is refused at once, at its line
    monkeypatch.setattr(repair_module, "_fix", lambda text, damage, bodies, notices: (text, damage.what, []))
    with pytest.raises(Unrepairable) as caught:
        repair(text, "p.md")
    assert caught.value.line == 2
    assert "region `r` pair up no way lab can tell" in str(caught.value)
    assert "lab sync --repair" not in str(caught.value)  # it would send the user round
    # fixes that never end: refused after 1000 passes
    monkeypatch.setattr(
        repair_module, "_fix", lambda text, damage, bodies, notices: (text + "x", damage.what, [])
    )
    with pytest.raises(Unrepairable) as caught:
        repair(text, "p.md")
    assert caught.value.what.render("en") == "too many damaged markers to repair"


def test_swapped_end_markers_of_two_regions_go_back_and_the_text_between_stays() -> None:
    good = (
        "# t\n" + begin("a") + "A body\n" + end("a") + "\nmine\n\n" + begin("b") + "B\n" + end("b")
    )
    bad = good.replace(end("a"), "@@A@@").replace(end("b"), end("a")).replace("@@A@@", end("b"))
    result = repair(bad, "p.md")
    assert result.text == good
    assert done(result) == [
        "p.md:4: put back `lab:end a` and `lab:end b`, which were swapped (lines 4 and 10); "
        "the lines between the two regions stay yours"
    ]
    assert result.removed == []


def test_copy_outside_and_displaced_find_lab_lines_left_outside_the_markers() -> None:
    body = "".join(f"| row number {n} |\n" for n in range(6))
    # no region: a copy anywhere, if it holds half of the body's own lines
    assert copy_outside("mine\n" + body[: len(body) * 2 // 3] + "end\n", body) == 2
    assert copy_outside("mine\n" + body.split("\n")[0] + "\n", body) is None  # a row quoted
    assert copy_outside("| a |\n| b |\n", "| a |\n| b |\n") is None  # too few lines to tell
    # a region: only lines right next to its markers count (a marker put in the wrong place)
    assert displaced("mine\n" + render_region("r", body) + "after\n", "r", body) is None
    above = "mine\n" + body + "\n" + render_region("r", "") + "after\n"
    assert displaced(above, "r", body) == 2
    rows = body.splitlines(keepends=True)
    below = "mine\n" + render_region("r", "".join(rows[:2])) + "\n" + "".join(rows[2:]) + "z\n"
    assert displaced(below, "r", body) == 7  # 4 of 6 rows below the end marker
    far = body + "".join(f"my own line {n}\n" for n in range(8)) + render_region("r", body)
    assert displaced(far, "r", body) is None  # the user's copy, away from the markers
