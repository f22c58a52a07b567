"""Where a Markdown document's headings, fenced code and HTML comment blocks are, line by line,
as a CommonMark parser (markdown-it-py) sees them.

markdown-it-py parses about 2.5 MB/s, which is 8 seconds for a 10,000-note lab, so plain
documents are read by a line scanner that implements the CommonMark rules for what notes are
made of (ATX headings, fences opened at column 0, comment and `<pre>`-like HTML blocks); a
document with anything the scanner does not model (an indented fence, a setext underline,
other HTML blocks, tabs before a fence or heading) goes to markdown-it-py itself. A property
test holds the scanner to markdown-it-py's answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

TEXT, CODE, HTML, INDENTED = 0, 1, 2, 3  # INDENTED: an indented code block
_FENCE = re.compile(r"^(`{3,}|~{3,})(.*)$")
_INDENTED_FENCE = re.compile(r"^[ \t]+(?:`{3,}|~{3,})")  # in a list item, it may be a fence
_ATX = re.compile(r"^(#{1,6})(?:[ \t]+(.*)|[ \t]*)$")
_INDENTED_ATX = re.compile(r"^ {1,3}#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RAW_HTML = re.compile(r"^ {0,3}<(pre|script|style|textarea)(?:[ \t>]|$)", re.I)
_COMMENT = re.compile(r"^ {0,3}<!--")
_OTHER_HTML = re.compile(r"^ {0,3}<[A-Za-z/?!]")
_TABBED = re.compile(r"^ {0,3}\t")
_NESTED_FENCE = re.compile(r"^ {0,3}(?:[-*+]|[0-9]{1,9}[.)]|>)[ \t>]*(?:`{3,}|~{3,})")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
_ITEM_OR_QUOTE = frozenset("-*+>0123456789")  # what a list item or a quote starts with


@dataclass(frozen=True)
class Heading:
    level: int
    title: str
    line: int  # 0-based line index


@dataclass(frozen=True)
class Blocks:
    lines: list[str]  # the document's lines, "\r" stripped
    kinds: bytes  # one of TEXT, CODE, HTML per line
    headings: list[Heading]  # top-level headings, in order

    def is_text(self, index: int) -> bool:
        return self.kinds[index] == TEXT


def heading_title(raw: str) -> str:
    """An ATX heading's text as CommonMark gives it: spaces and the closing #s removed."""
    text = raw.strip(" \t")
    if set(text) <= {"#"}:
        return ""
    return _CLOSING_HASHES.sub("", text).strip(" \t")


class _NeedsParser(Exception):
    """The document has something the scanner does not model."""


class _Scanner:
    """Line by line, as a CommonMark parser would see top-level blocks."""

    def __init__(self, count: int) -> None:
        self.kinds = bytearray(count)
        self.headings: list[Heading] = []
        self.fence: tuple[str, int] | None = None  # the open fence's character and length
        self.raw_close: str | None = None  # the tag that closes an open <pre>-like block
        self.in_comment = False
        self.paragraph = False

    def line(self, index: int, line: str) -> None:
        if self.fence is not None:
            self._in_fence(index, line)
        elif self.in_comment:
            self.kinds[index] = HTML
            self.in_comment = "-->" not in line
        elif self.raw_close is not None:
            self.kinds[index] = HTML
            if self.raw_close in line.lower():
                self.raw_close = None
        elif line[:1] == "|" or line[:1].isalpha():  # a table row, prose: no block starts so
            self.paragraph = True
        elif not line.strip(" \t"):
            self.paragraph = False
        else:
            self._top(index, line)

    def _in_fence(self, index: int, line: str) -> None:
        assert self.fence is not None
        self.kinds[index] = CODE
        char, length = self.fence
        stripped = line.lstrip(" ")
        closes = stripped.startswith(char * length) and not stripped.rstrip(" \t").strip(char)
        if len(line) - len(stripped) <= 3 and closes:
            self.fence = None

    def _top(self, index: int, line: str) -> None:
        first = line[0]
        if first == "#":  # no pattern below but _ATX can match a line that starts so
            if heading := _ATX.match(line):
                self.headings.append(
                    Heading(len(heading[1]), heading_title(heading[2] or ""), index)
                )
                self.paragraph = False
            else:
                self.paragraph = True
            return
        if first in _ITEM_OR_QUOTE and "`" not in line and "~" not in line:
            # a list item or a quote with no fence in it: only a setext underline could matter
            if first == "-" and self.paragraph and _SETEXT.match(line):
                raise _NeedsParser
            self.paragraph = True
            return
        if _TABBED.match(line) and ("`" in line or "~" in line or "#" in line):
            raise _NeedsParser
        if _NESTED_FENCE.match(line):  # a fence inside a list item or quote
            raise _NeedsParser
        match = _FENCE.match(line)
        if match and not (match[1][0] == "`" and "`" in match[2]):
            self.fence = (match[1][0], len(match[1]))
            self.kinds[index], self.paragraph = CODE, False
        elif (
            _INDENTED_FENCE.match(line)
            or _INDENTED_ATX.match(line)
            or (_OTHER_HTML.match(line) and not (_COMMENT.match(line) or _RAW_HTML.match(line)))
        ):
            raise _NeedsParser
        elif _COMMENT.match(line):
            self.kinds[index], self.paragraph = HTML, False
            self.in_comment = "-->" not in line[line.index("<!--") + 4 :]
        elif raw := _RAW_HTML.match(line):
            self.kinds[index], self.paragraph = HTML, False
            close = f"</{raw[1].lower()}>"
            self.raw_close = None if close in line.lower() else close
        elif heading := _ATX.match(line):
            self.headings.append(Heading(len(heading[1]), heading_title(heading[2] or ""), index))
            self.paragraph = False
        elif self.paragraph and _SETEXT.match(line):
            raise _NeedsParser
        elif not line.startswith("    ") or self.paragraph:  # indented code is never a block here
            self.paragraph = True


def _scan(lines: list[str]) -> tuple[bytearray, list[Heading]] | None:
    """The fast path, or None when the document needs a full parser."""
    scanner = _Scanner(len(lines))
    try:
        for index, line in enumerate(lines):
            scanner.line(index, line)
    except _NeedsParser:
        return None
    return scanner.kinds, scanner.headings


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def _full(lines: list[str]) -> tuple[bytearray, list[Heading]]:
    """markdown-it-py's view: fences and HTML blocks at any depth, headings at the top."""
    tokens = _parser().parse("\n".join(lines))
    kinds = bytearray(len(lines))
    headings: list[Heading] = []
    for position, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type in ("fence", "code_block"):
            kind = CODE if token.type == "fence" else INDENTED
            for index in range(start, min(end, len(lines))):
                kinds[index] = kind
        elif token.type == "html_block":
            for index in range(start, min(end, len(lines))):
                kinds[index] = HTML
        elif token.type == "heading_open" and token.level == 0:
            inline = tokens[position + 1]
            headings.append(Heading(int(token.tag[1]), inline.content.strip(), start))
    return kinds, headings


def blocks(text: str) -> Blocks:
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    found = _scan(lines)
    kinds, headings = found if found is not None else _full(lines)
    return Blocks(lines, bytes(kinds), headings)


def full_parse(text: str) -> Blocks:
    """markdown-it-py's answer, always (for tests that hold the scanner to it)."""
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    kinds, headings = _full(lines)
    return Blocks(lines, bytes(kinds), headings)
