"""The fast Markdown scanner answers as markdown-it-py does: for any document it does not hand
over to markdown-it-py, the top-level headings and the fenced-code lines are the same."""

from __future__ import annotations

import os

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mllm_lab.core import blocks
from mllm_lab.core.markdown import sections

WORDS = st.sampled_from(
    ["Intro", "直觉理解", "a # b", "x#", "`code`", "**bold**", "[link](x.md)", "#", "Q-Former"]
)
INDENT = st.sampled_from(["", " ", "  ", "   ", "    ", "\t"])
LINES = st.one_of(
    st.builds(
        lambda i, n, w, c: f"{i}{'#' * n} {w}{c}",
        INDENT,
        st.integers(1, 7),
        WORDS,
        st.sampled_from(["", " #", " ##", "#"]),
    ),
    st.builds(
        lambda i, f, n, info: f"{i}{f * n}{info}",
        INDENT,
        st.sampled_from(["`", "~"]),
        st.integers(2, 5),
        st.sampled_from(["", "mermaid", "py `x`", " "]),
    ),
    st.builds(lambda i: f"{i}<!-- a comment -->", INDENT),
    st.sampled_from(
        [
            "<!--",
            "still a comment",
            "-->",
            "<!-- lab:begin papers -->",
            "<pre>",
            "</pre>",
            "<div>",
            "</div>",
        ]
    ),
    st.builds(lambda w: w, WORDS),
    st.just(""),
    st.builds(lambda w: f"- {w}", WORDS),
    st.builds(lambda w: f"> {w}", WORDS),
    st.sampled_from(["---", "===", "***", "- ```", "> ```", "1. ## x", "| a | b |", "|---|---|"]),
    st.sampled_from(
        ["- `x`", "1) item", "2. ~~old~~", "--", "-- x", "- - -", "+ a", "* b", "10. c", ">"]
    ),
    st.sampled_from(["#hashtag", "#######", "#\tx", "#", "## `code` ~x~", "-\t", "9"]),
)


def fenced(parsed: blocks.Blocks) -> set[int]:
    return {i for i, kind in enumerate(parsed.kinds) if kind == blocks.CODE}


@settings(max_examples=int(os.environ.get("BLOCKS_EXAMPLES", "600")), deadline=None)
@given(st.lists(LINES, max_size=14))
@example(["Intro", "---"])  # a setext heading: handed over, never missed
@example(["1. ## x", "- `x`", "#hashtag", "## `code` ~x~"])
def test_the_scanner_agrees_with_markdown_it(lines: list[str]) -> None:
    text = "\n".join(lines)
    fast = blocks._scan(text.split("\n"))
    if fast is None:
        return  # handed to markdown-it-py itself
    full = blocks.full_parse(text)
    kinds, headings = fast
    assert [(h.level, h.title, h.line) for h in headings] == [
        (h.level, h.title, h.line) for h in full.headings
    ]
    seen = [i for i, line in enumerate(lines) if line.strip()]  # a blank line holds nothing
    fast_code = {i for i in seen if kinds[i] == blocks.CODE}
    full_fences = {i for i in seen if full.kinds[i] == blocks.CODE}
    # Indented code blocks are left out: markdown-it marks them INDENTED, the scanner leaves
    # them as text (a link in one is still checked), and neither holds a heading or a fence.
    assert fast_code == full_fences


def test_the_issue_example_a_heading_after_mixed_fences_is_found() -> None:
    body = "~~~\n```\n~~~\n## Real heading\n"
    assert [s.title for s in sections(body)] == ["Real heading"]


def test_a_fence_closes_only_with_its_own_character_and_length() -> None:
    body = "````\n```\n## not a heading\n````\n## heading\n"
    assert [s.title for s in sections(body)] == ["heading"]


PROSE = st.one_of(
    LINES,
    st.sampled_from(["直觉理解的第一句。", "  indented two", "- item", "1. first", "![fig](a.png)"]),
    st.sampled_from(["a < b", "x ~ y", "`code` first", "    code?", "\tcode?", "## h", "---", "==="]),
)


@settings(max_examples=int(os.environ.get("BLOCKS_EXAMPLES", "600")), deadline=None)
@given(st.lists(PROSE, max_size=12), st.sampled_from(["\n", "\r\n"]))
@example(["Intro", "---"], "\n")  # a setext heading: markdown-it-py's, a heading line
@example(["- ```", "x", "prose"], "\n")
def test_a_summary_found_without_the_blocks_is_the_one_the_blocks_give(
    lines: list[str], newline: str
) -> None:
    """A new concept note's one-line summary is its first section's first line of prose. A
    line-by-line look (no fence, HTML or indented code up to it) answers as the blocks do."""
    from mllm_lab.core.markdown import first_prose, plain_first_prose

    text = newline.join(lines)
    fast = plain_first_prose(text)
    assert fast is None or fast == first_prose(text)


@given(st.lists(st.sampled_from(["## A", "# T", "x ## y", "##", "## ", "text", "", "\r"]), max_size=8))
def test_the_first_section_is_found_as_its_pattern_finds_it(lines: list[str]) -> None:
    import re

    from mllm_lab import parse
    from mllm_lab.core import markdown

    body = "\n".join([*lines, "## S", "first line of S", "## T", "t"])
    match = re.search(r"^## ", body, re.M)
    assert match is not None
    start = body.find("\n", match.start())
    following = re.compile(r"^#{1,6} ", re.M).search(body, start)
    expected = markdown.first_sentence(body[start : following.start() if following else None])
    assert parse._summary(body) == expected
