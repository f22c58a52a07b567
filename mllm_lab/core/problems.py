"""Open problems the learner wrote down, for the weekly prompt: the rows (or list items) of a
weekly log's own problems section, besides the markers (`- [ ]`, TODO, 疑问…) that
markdown.open_questions finds in any note. Pure: text in, problems out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from mllm_lab.core.blocks import blocks
from mllm_lab.core.markdown import sections, split_row, unescape_cell, without_comments
from mllm_lab.patterns import pattern

_DELIMITER = pattern(r"^\s*\|?\s*:?-{1,}:?\s*(?:\|\s*:?-{1,}:?\s*)*\|?\s*$")
_ITEM = pattern(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?P<text>.*\S)")
_BOLD_LABEL = pattern(r"^\*\*[^*]+\*\*\s*[：:]?\s*$")


class Problem(NamedTuple):
    line: int  # in the body given
    text: str
    idea: str = ""  # the way forward already written beside it, if any


def _cell(cell: str) -> str:
    return unescape_cell(cell.replace("\\|", "|").replace("<br>", " ")).strip()


def _table(lines: list[str], start: int, offset: int) -> tuple[list[Problem], int]:
    """The problems of a table whose header is lines[start]: (problems, index after it)."""
    found = []
    index = start + 2
    while index < len(lines) and "|" in lines[index]:
        cells = [_cell(cell) for cell in split_row(lines[index])]
        text = cells[0] if cells else ""
        if text:
            idea = " ".join(cell for cell in cells[1:2] if cell)
            found.append(Problem(line=offset + index + 1, text=text[:200], idea=idea[:200]))
        index += 1
    return found, index


def section_problems(content: str, offset: int) -> list[Problem]:
    """The problems written in one section: each non-empty first cell of its tables, and
    each non-empty list item outside them. `offset` is the line before the content."""
    text = strip_comments_keeping_lines(content)
    parsed = blocks(text)
    lines = parsed.lines
    found: list[Problem] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not parsed.is_text(index):
            index += 1
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if "|" in line and _DELIMITER.match(following) and "-" in following:
            rows, index = _table(lines, index, offset)
            found += rows
            continue
        item = _ITEM.match(line)
        if item and not _BOLD_LABEL.match(item["text"]):
            found.append(Problem(line=offset + index + 1, text=item["text"][:200]))
        index += 1
    return found


def strip_comments_keeping_lines(text: str) -> str:
    """`text` with HTML comments blanked, line numbers kept."""
    return without_comments(text, keep_lines=True)


def weekly_problems(body: str, titles: Iterable[str]) -> list[Problem]:
    """The problems of a weekly log's body, from its section titled one of `titles` (the
    template's heading; any heading naming problems if the learner renamed it)."""
    wanted = {t.strip() for t in titles}
    found = sections(body)
    chosen = [s for s in found if s.title.strip() in wanted] or [
        s for s in found if re.search(r"问题|problem", s.title, re.I)
    ]
    problems: list[Problem] = []
    for section in chosen:
        problems += section_problems(section.content, offset=section.line)
    return problems
