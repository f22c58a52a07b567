"""Markdown the way GitHub renders it: table cells, links, sections, and Mermaid identifiers."""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple
from urllib.parse import quote

from mllm_lab.core.blocks import Blocks, Heading, blocks
from mllm_lab.patterns import pattern
from mllm_lab.sha import sha1

# A backslash as an entity: before punctuation it is an escape (`C:\` would swallow the `]` of
# a link, `\*` would show as `*`), so the text shows as written.
_CELL_ESCAPES = {
    "&": "&amp;",
    "|": "&#124;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "&#92;",
    "\r": "&#13;",
    "\n": "<br>",
}
_CELL_RE = pattern("|".join(re.escape(k) for k in _CELL_ESCAPES))
_CELL_UNESCAPES = {v: k for k, v in _CELL_ESCAPES.items()}
_UNCELL_RE = pattern("|".join(re.escape(k) for k in _CELL_UNESCAPES))


# Control characters other than tab and line breaks: none is ever written into a file lab makes.
CONTROL = pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_CELL_OR_CONTROL = pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f&|<>\\\\\r\n]")


def without_controls(text: str) -> str:
    """`text` with each control character shown as � (as GitHub shows them), so that no file
    lab writes becomes one it refuses to read as binary."""
    return CONTROL.sub("\ufffd", text) if CONTROL.search(text) else text


def escape_cell(text: str) -> str:
    """Text that stays inside one GFM table cell: no `|` or line break can split the table,
    and control characters show as �."""
    if _CELL_OR_CONTROL.search(text) is None:  # most cells: one look, nothing to change
        return text
    text = without_controls(text)
    if _CELL_RE.search(text) is None:
        return text
    return _CELL_RE.sub(lambda m: _CELL_ESCAPES[m[0]], text)


def unescape_cell(cell: str) -> str:
    return _UNCELL_RE.sub(lambda m: _CELL_UNESCAPES[m[0]], cell)


def escape_link_text(text: str) -> str:
    text = escape_cell(text)
    return text.replace("[", "\\[").replace("]", "\\]") if "[" in text or "]" in text else text


# What a URL keeps as written: its reserved characters, existing %XX escapes and parentheses
# (which GFM takes inside <...>); spaces, `<`, `>`, `|` (a table cell's end), quotes,
# backslashes and non-ASCII letters are percent-encoded.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~()"
_URL_AS_IT_IS = pattern(r"[A-Za-z0-9_.~\-:/?#\[\]@!$&'*+,;=%()]*")  # quote() would keep it


def link(text: str, target: str | None) -> str:
    """A Markdown link (safe in a table cell); plain escaped text when there is no target.
    A relative target must come from `links.href`, which has already encoded it."""
    if not target:
        return escape_link_text(text)
    if not _URL_AS_IT_IS.fullmatch(target):
        target = quote(target, safe=_URL_SAFE, errors="surrogateescape")
    if "(" in target or ")" in target:
        target = f"<{target}>"
    return f"[{escape_link_text(text)}]({target})"


def split_row(line: str) -> list[str]:
    """Cells of a table row as written (escaped), without the outer pipes."""
    stripped = line.strip(" \t\r")  # GFM trims spaces and tabs only, not other Unicode blanks
    if stripped.startswith("|"):
        stripped = stripped[1:]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        stripped = stripped[:-1]
    return [cell.strip(" \t") for cell in re.split(r"(?<!\\)\|", stripped)]


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


# --- sections and links --------------------------------------------------------------------


def without_comments(text: str, keep_lines: bool = False) -> str:
    """`text` without its HTML comments (`keep_lines`: each replaced by its line breaks), as
    `<!--.*?-->` would find them, in one pass: that pattern scans to the end of the text from
    every `<!--` that no `-->` closes (a pasted line of 5,000 took it 0.4 s)."""
    start = text.find("<!--")
    if start < 0:
        return text
    pieces, done = [], 0
    while start >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break  # no comment closes after this one: none does after a later one either
        end += 3
        pieces.append(text[done:start])
        if keep_lines:
            pieces.append("\n" * text.count("\n", start, end))
        done = end
        start = text.find("<!--", end)
    pieces.append(text[done:])
    return "".join(pieces)


# Runs of plain characters are taken whole (possessive `++`), not one character per turn of
# an alternation: twice as quick, and the same matches, since a run never ends where the
# pattern could go on (a `]`, `)`, `>` or space is never part of one).
_ANGLED = r"<(?:[^<>\\\n]++|\\.)*>"  # a link's destination in <>
_BARE = r"(?:[^()\s\\]++|\\.|\((?:[^()\s\\]++|\\.)*\))+"  # or not
_MD_LINK = pattern(
    r"(?<!\\)!?\[(?P<text>(?:[^\[\]\\\n]++|\\.|\[[^\]\n]*\])*)\]"
    rf"\((?P<target>{_ANGLED}|{_BARE})"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
# what follows a link's text: "(" and its destination, in <> or not
_ANGLED_DESTINATION = pattern(rf"\((?P<target>{_ANGLED})")
_BARE_DESTINATION = pattern(rf"\((?P<target>{_BARE})")
_SPACES = pattern(r"\s*")
_TITLE_ENDS = {'"': '"', "'": "'", "(": ")"}
_PLAIN_RUN = pattern(r"[^\[\]\\\n]+")
MANY_BRACKETS = 64  # a line with more "[" is searched for links by _md_links' own walk
# a link reference definition: [label]: destination
_REF_DEF = pattern(r"^ {0,3}\[(?:\\.|[^\]\\])+\]:[ \t]*(?P<target><[^<>\n]*>|\S+)")
_SCHEME = pattern(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_ESCAPED = pattern(r"\\([!-/:-@\[-`{-~])")
# Possessive too: a target, anchor or label never ends where the pattern goes on (`#`, `|`,
# `]`), and a line of 20,000 "[" took 12.5 s of backtracking (_wiki_links reads such a line).
_WIKI_LINK = pattern(r"\[\[(?P<target>[^\]|#\n]++)(?:#[^\]|\n]*+)?(?:\|[^\]\n]*+)?\]\]")
_WIKI_START = pattern(_WIKI_LINK.pattern[: -len(r"\]\]")])  # a wiki link but its "]]"
_CODE_SPAN = pattern(r"(`+)(?:(?!\1).)+?\1")
_TICKS = pattern(r"`+")
LONG_TICKS = "`" * 33  # a run this long takes _CODE_SPAN cubic time: 1,000 took 8 s


def _md_links(line: str) -> list[tuple[int, int, str]]:
    """(start, end, target) of each link `_MD_LINK.finditer(line)` finds. The pattern tries
    every "[" and reads a text from each to where it ends, so a line of thousands of "[" took
    it quadratic time (a pasted 99 KB line: 37 s). Such a line is walked instead: a text is a
    chain of pieces (a run of plain characters, an escape, a `[...]`), each fixed by where it
    begins, so where a text begun at a place ends is worked out once for every place, and
    what may follow it (`](destination)`) once for every place a text ends."""
    if line.count("[") <= MANY_BRACKETS or "\n" in line:
        return [(match.start(), match.end(), match["target"]) for match in _MD_LINK.finditer(line)]
    size = len(line)
    closes = [at for at, char in enumerate(line) if char == "]"]
    ends: dict[int, int] = {}  # where a text begun at a place stops

    def piece_after(at: int) -> int | None:
        char = line[at] if at < size else "]"
        if char == "[":
            close = bisect_right(closes, at)
            return closes[close] + 1 if close < len(closes) else None
        if char == "\\":
            return at + 2 if at + 1 < size else None
        if char == "]":
            return None
        run = _PLAIN_RUN.match(line, at)
        return run.end() if run else None

    def text_end(at: int) -> int:
        walked = []
        while at not in ends:
            after = piece_after(at)
            if after is None:
                ends[at] = at
                break
            walked.append(at)
            at = after
        end = ends[at]
        ends.update(dict.fromkeys(walked, end))
        return end

    tails: dict[int, tuple[int, str] | None] = {}
    closers: dict[str, list[int]] = {}
    found: list[tuple[int, int, str]] = []
    searched = 0  # where the search goes on from, as finditer's
    while (bracket := line.find("[", searched)) >= 0:
        start, searched = bracket, bracket + 1
        before = line[bracket - 1] if bracket > 0 else ""
        if before == "\\":
            continue  # escaped: the pattern's look-behind
        # (a "!" before it is never part of a link found before: that one ended with ")")
        if before == "!" and line[bracket - 2 : bracket - 1] != "\\":
            start = bracket - 1  # an image: its "!" is part of the match
        end = text_end(bracket + 1)
        if end >= size or line[end] != "]":
            continue
        if end not in tails:
            tails[end] = _link_tail(line, end + 1, closers)
        tail = tails[end]
        if tail is None:
            continue
        found.append((start, *tail))
        searched = tail[0]
    return found


def _spaces_end(line: str, at: int) -> int:
    spaces = _SPACES.match(line, at)
    return spaces.end() if spaces else at


def _link_tail(line: str, at: int, closers: dict[str, list[int]]) -> tuple[int, str] | None:
    """(where it ends, the destination) of what _MD_LINK takes after a link's text, from
    `at`: `(destination "title")`. The title's closing quote or parenthesis is looked up
    among `closers` (each one's places in the line, found once), not searched for from each
    title: a line of thousands of `[a](b (` made the pattern read to its end from each."""
    for destination_pattern in (_ANGLED_DESTINATION, _BARE_DESTINATION):  # in <> first
        destination = destination_pattern.match(line, at)
        if destination is None:
            continue
        after = destination.end()
        spaced = _spaces_end(line, after)
        opener = line[spaced : spaced + 1]
        if spaced > after and opener in _TITLE_ENDS:  # a title first, as the pattern tries it
            closer = _TITLE_ENDS[opener]
            if closer not in closers:
                closers[closer] = [place for place, char in enumerate(line) if char == closer]
            places = closers[closer]
            found = bisect_right(places, spaced)
            if found < len(places):
                last = _spaces_end(line, places[found] + 1)
                if line[last : last + 1] == ")":
                    return last + 1, destination["target"]
        if line[spaced : spaced + 1] == ")":
            return spaced + 1, destination["target"]
    return None


def _wiki_links(line: str) -> list[str]:
    """The targets `_WIKI_LINK.finditer(line)` finds. Where the pattern fails at a "[[", it
    fails at every "[[" before the place where it stopped looking (each part of it runs to a
    character none of the parts before it takes), so the search goes on from there: a line
    of thousands of "[[" is not read again from each (20,000 "[" took 0.5 s)."""
    if line.count("[[") <= MANY_BRACKETS:  # too few for the pattern to take long
        return [match["target"] for match in _WIKI_LINK.finditer(line)]
    found = []
    searched = 0
    while (bracket := line.find("[[", searched)) >= 0:
        start = _WIKI_START.match(line, bracket)
        if start is None:  # nothing between the brackets and the first "]", "|" or "#"
            searched = bracket + 1
        elif line.startswith("]]", start.end()):
            found.append(start["target"])
            searched = start.end() + 2
        else:
            searched = start.end()
    return found


def _without_code_spans(line: str) -> str:
    """The line with each code span blanked out (as wide as it was)."""
    if LONG_TICKS not in line:
        return _CODE_SPAN.sub(lambda m: " " * len(m[0]), line)
    # CommonMark's rule, in one pass over the runs of backticks (backslash escapes aside): a
    # run opens a code span that the next run of the same length closes; one with none is text
    runs = [match.span() for match in _TICKS.finditer(line)]
    of_length: dict[int, list[int]] = {}
    for number, (start, end) in enumerate(runs):
        of_length.setdefault(end - start, []).append(number)
    pieces, done, number = [], 0, 0
    while number < len(runs):
        start, end = runs[number]
        same = of_length[end - start]
        after = bisect_right(same, number)
        if after == len(same):
            number += 1
            continue
        close = runs[same[after]][1]
        pieces += [line[done:start], " " * (close - start)]
        done, number = close, same[after] + 1
    return "".join([*pieces, line[done:]])


class Section(NamedTuple):
    level: int
    title: str
    line: int  # 1-based, counted in the body
    content: str


def sections(body: str) -> list[Section]:
    """Top-level headings, as a CommonMark parser finds them, each with the text up to the
    next heading of any level."""
    found = _blocks(body)
    lines = found.lines
    result = []
    for number, heading in enumerate(found.headings):
        stop = found.headings[number + 1].line if number + 1 < len(found.headings) else len(lines)
        content = "\n".join(lines[heading.line + 1 : stop])
        result.append(
            Section(
                level=heading.level, title=heading.title, line=heading.line + 1, content=content
            )
        )
    return result


def headings(body: str) -> list[Heading]:
    """The top-level headings `sections` finds, without the text under each (line: 0-based)."""
    return _blocks(body).headings


def strip_comments(text: str) -> str:
    return without_comments(text)


_LIST_MARK = pattern(r"^[-*+]\s+|^\d+\.\s+")
_NOT_PROSE = ("#", "|", ">", "---", "![", "<")


def first_sentence(body: str, limit: int = 120) -> str:
    """A one-line summary: the first line of prose after the title, comments and code skipped."""
    text = strip_comments(body)
    found = plain_first_prose(text)
    if found is None:
        found = first_prose(text)
    return found if len(found) <= limit else found[: limit - 1] + "…"


def first_prose(text: str) -> str:
    """The first line of prose outside code and HTML blocks, without a list marker."""
    parsed = blocks(text)
    prose = (_prose(line) for index, line in enumerate(parsed.lines) if parsed.is_text(index))
    return next((line for line in prose if line), "")


def _prose(line: str) -> str:
    """The line as a summary takes it, without a list marker; "" for one it passes over
    (empty, a heading, a table row, a quote, a rule, an image, HTML)."""
    text = line.strip()
    if not text or text.startswith(_NOT_PROSE):
        return ""
    return _LIST_MARK.sub("", text).strip()


def plain_first_prose(text: str) -> str | None:
    """What first_sentence finds when no line up to it can open or be a block (a fence, HTML,
    indented code), found without working out the text's blocks (a third of the time a
    first scan of a concept note took to parse it); None when a line could."""
    for line in text.split("\n"):
        if "`" in line or "~" in line or "<" in line or "\t" in line or line.startswith("    "):
            return None
        found = _prose(line)
        if found:
            return found
    return ""


class Link(NamedTuple):
    target: str
    line: int  # 1-based, counted in the body
    wiki: bool = False


def destination(raw: str) -> str:
    """A link destination as CommonMark reads it: without <>, escapes and entities."""
    if raw.startswith("<") and raw.endswith(">"):
        raw = raw[1:-1]
    if "\\" in raw:
        raw = _ESCAPED.sub(r"\1", raw)
    if "&" in raw:
        import html  # its entity table takes a millisecond to import: only for a link with "&"

        raw = html.unescape(raw)
    return raw


# Inline maths as GitHub reads it: $ then no space, up to a $ after no space, not before a digit.
_MATH = pattern(r"\$\$[^\n]*?\$\$|\$(?=[^\s$])[^$\n]*?(?<=\S)\$(?!\d)")
# (matched from a target's first character to its last: `$` is the target's end)
_FILE_LIKE = pattern(r"[^\[\]]*(?:/|\.[A-Za-z0-9]{1,8}$)|[A-Za-z][A-Za-z0-9+.-]*:")
_OPENING = pattern(r"(?<!\\)\]\(")


def _unrendered(line: str, index: int, spans: list[tuple[int, int]]) -> list[Link]:
    """`[text](a b.md)`: written as a link, but a raw space ends a link destination, so
    GitHub shows it as text. The target, up to its closing parenthesis, when it looks like a
    file or URL (a `/`, an extension, a scheme), not maths such as `$E[x](a + b)$`. Nothing
    is read more than once from each opening (thousands of nested `](` and their `)` took a
    search for a space through every target, 6 s for a 100 KB line)."""
    found = []
    closing: dict[int, int] | None = None
    spaces: list[int] | None = None  # how many white-space characters come before each place
    starts = [a for a, _ in spans]
    for opening in _OPENING.finditer(line):
        start = opening.end()
        at = bisect_right(starts, start) - 1  # the links found are in order, apart
        if (at >= 0 and start < spans[at][1]) or line[start : start + 1] == "<":
            continue
        closing = closing if closing is not None else _closing_parens(line)
        end = closing.get(start)
        if end is None:
            continue
        # the target stripped, as bounds: the white space at either end of one target is
        # no other target's (a target begins after "(", ends before its own ")")
        first, last = start, end
        while first < last and line[first].isspace():
            first += 1
        while last > first and line[last - 1].isspace():
            last -= 1
        spaces = spaces or list(accumulate(map(str.isspace, line), initial=0))
        if spaces[last] > spaces[first] and _FILE_LIKE.match(line, first, last):
            found.append(Link(_shortened(line, first, last), index + 1))
    return found


LONGEST_TARGET = 200  # characters of an unrendered target a finding shows


def _shortened(line: str, first: int, last: int) -> str:
    """line[first:last], cut to LONGEST_TARGET characters: a pasted line of thousands of
    nested targets would otherwise keep a copy of most of itself for each (20,000 of them in
    a 120 KB line: over a gigabyte)."""
    if last - first <= LONGEST_TARGET:
        return line[first:last]
    return line[first : first + LONGEST_TARGET - 1] + "…"


def _closing_parens(line: str) -> dict[int, int]:
    """For each position, where the `)` that closes a destination begun there stands (the
    first `)` with as many `(` as `)` between): the first place after it where the count of
    `(` less `)` falls below the count there, less one. Found for every position in one pass
    (a stack of the positions still waiting for a lower count), not by a walk from each
    opening, which a line of thousands of `[x](` made quadratic."""
    closing: dict[int, int] = {}
    waiting: list[tuple[int, int]] = []  # (position, count of "(" less ")" before it)
    depth = 0
    for at, char in enumerate(line):
        waiting.append((at, depth))
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            while waiting and waiting[-1][1] > depth:
                closing[waiting.pop()[0]] = at
    return closing


def unrendered_links(body: str) -> list[Link]:
    """Links that are not links on GitHub because their target holds a raw space."""
    return scan_links(body)[1]


KEPT_UP_TO = 1 << 20  # characters: a longer text's blocks are not remembered


def _blocks(text: str) -> Blocks:
    """A note's details read its sections, links and open questions one after the other, so
    the blocks of the last two texts are remembered (Blocks are not changed by their readers):
    a body without comments is scanned once for all three. Not those of a text longer than a
    note (a generated index of 50,000 notes, read once for its links, held 20 MB until the
    command ended)."""
    return _kept_blocks(text) if len(text) <= KEPT_UP_TO else blocks(text)


@lru_cache(maxsize=2)
def _kept_blocks(text: str) -> Blocks:
    return blocks(text)


def _blanked(body: str) -> Blocks:
    """The body's blocks with comments blanked out (their line breaks kept): what links and
    open questions are read from."""
    return _blocks(without_comments(body, keep_lines=True))


def links(body: str) -> list[Link]:
    """Relative links (and images, and link reference definitions) and [[wiki links]]
    outside code and comments; URLs and anchors skipped. A target is returned as written
    (percent-encoding and all), without its #anchor or ?query (GitHub's `?plain=1`)."""
    return scan_links(body)[0]


def scan_links(body: str) -> tuple[list[Link], list[Link]]:
    """One pass over a body: its links (as `links` gives them) and its unrendered ones."""
    result: list[Link] = []
    broken: list[Link] = []
    if "[" not in body:
        return result, broken
    found = _blanked(body)
    for index, line in enumerate(found.lines):
        if "[" not in line or not found.is_text(index):
            continue
        if "`" in line:
            line = _without_code_spans(line)
        if "$" in line:
            line = _MATH.sub(lambda m: " " * len(m[0]), line)
        # every link holds "](": a line without one (a task box, a wiki link) is not searched
        written: list[str] = []
        if "](" in line:
            matches = _md_links(line)
            written = [match[2] for match in matches]
            if line.count("](") > len(matches):
                broken += _unrendered(line, index, [(match[0], match[1]) for match in matches])
        definition = _REF_DEF.match(line) if "]:" in line else None
        if definition:
            written.append(definition["target"])
        for raw in written:
            target = destination(raw)
            if target.startswith("#") or _SCHEME.match(target):
                continue
            result.append(Link(target.split("#", 1)[0].split("?", 1)[0], index + 1))
        if "[[" in line and "]]" in line:
            for target in _wiki_links(line):
                result.append(Link(target.strip(), index + 1, wiki=True))
    return [item for item in result if item.target], broken


# --- Mermaid -------------------------------------------------------------------------------

_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "`": "#96;"}


def mermaid_id(text: str, prefix: str = "n") -> str:
    """An identifier Mermaid accepts for any text: ASCII word characters plus a short hash."""
    ascii_part = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:24]
    digest = sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{prefix}_{ascii_part}_{digest}" if ascii_part else f"{prefix}_{digest}"


@lru_cache(maxsize=1024)
def mermaid_label(text: str) -> str:
    """A quoted node label: Chinese, spaces, parentheses and quotes all render. (Each section
    of a note masks the note's title spelled so: the last titles' labels are remembered.)"""
    flat = " ".join(text.split())
    escaped = "".join(_MERMAID_ENTITIES.get(char, char) for char in flat)
    return f'"{escaped}"'


# The words that mark a line as an open problem (CLAUDE.md lists them), besides `- [ ]`.
MARKERS = ("TODO", "FIXME", "❓", "疑问", "不理解", "没搞懂", "没看懂", "卡住")
_MAY_ASK = pattern("|".join(map(re.escape, (*MARKERS, "[ ]"))))
_QUESTION = pattern(
    r"^\s*[-*+]\s+\[ \]\s+(?P<task>.+)$|(?P<any>.*(?:" + "|".join(map(re.escape, MARKERS)) + r").*)"
)


def open_questions(body: str) -> list[tuple[int, str]]:
    """Open problems the learner wrote down: unticked `- [ ]` items and lines marked TODO, ❓,
    疑问, 不理解, 卡住…; comments and code are skipped. (line in body, text)."""
    found: list[tuple[int, str]] = []
    if "[ ]" not in body and not any(marker in body for marker in MARKERS):
        return found  # most notes: no line could match, none is looked at
    parsed = _blanked(body)
    for index, line in enumerate(parsed.lines):
        # _QUESTION backtracks through every marker at every character: only a line holding
        # one (or "[ ]") can match, and a substring search finds out for a fraction of that
        if not _MAY_ASK.search(line):
            continue
        match = _QUESTION.match(line) if parsed.is_text(index) else None
        if match:
            text = (match["task"] or match["any"] or "").strip().lstrip("-*+ ").strip()
            if text:
                found.append((index + 1, text[:200]))
    return found


_SCAFFOLD = pattern(r"^\s*(?:[|:\-\s]*|(?:[-*+]|\d+\.)?\s*(?:\*\*[^*]+\*\*\s*[：:]?\s*)?)\s*$")


@lru_cache(maxsize=64)
def _spellings(title: str) -> tuple[str, ...]:
    """The title as written and as a Mermaid label writes it, the longer masked first: "C#"
    is part of its label "C#35;", and masking it first would leave "35;" behind. (These were
    a set, masked in the order of their hashes, which differs from one process to the next.)"""
    return tuple(sorted({title, mermaid_label(title)[1:-1]} - {""}, key=lambda s: (-len(s), s)))


def section_signature(content: str, title: str) -> str:
    """A fingerprint of what the learner wrote in a section: "" when nothing is written yet
    (only comments, empty table cells, empty list items or bold labels). The note's own title
    is masked, so a section left exactly as its template rendered it matches the template's."""
    text = without_comments(content)
    for spelled in _spellings(title):
        text = text.replace(spelled, "\x00")
    kept = [
        normal
        for line in text.split("\n")
        if (normal := " ".join(line.split())) and not _SCAFFOLD.match(normal)
    ]
    if not kept:
        return ""
    return sha1("\n".join(kept).encode("utf-8", "surrogatepass")).hexdigest()[:10]
