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
from functools import lru_cache
from typing import Any, NamedTuple

from mllm_lab.patterns import pattern

TEXT, CODE, HTML, INDENTED = 0, 1, 2, 3  # INDENTED: an indented code block
_FENCE = pattern(r"^(`{3,}|~{3,})(.*)$")
_INDENTED_FENCE = pattern(r"^[ \t]+(?:`{3,}|~{3,})")  # in a list item, it may be a fence
_ATX = pattern(r"^(#{1,6})(?:[ \t]+(.*)|[ \t]*)$")
_INDENTED_ATX = pattern(r"^ {1,3}#{1,6}(?:[ \t]|$)")
_SETEXT = pattern(r"^ {0,3}(?:=+|-+)[ \t]*$")
_RAW_HTML = pattern(r"^ {0,3}<(pre|script|style|textarea)(?:[ \t>]|$)", re.I)
_COMMENT = pattern(r"^ {0,3}<!--")
_OTHER_HTML = pattern(r"^ {0,3}<[A-Za-z/?!]")
_TABBED = pattern(r"^ {0,3}\t")
_NESTED_FENCE = pattern(r"^ {0,3}(?:[-*+]|[0-9]{1,9}[.)]|>)[ \t>]*(?:`{3,}|~{3,})")
_CLOSING_HASHES = pattern(r"(?:^|[ \t]+)#+[ \t]*$")
_ITEM_OR_QUOTE = frozenset("-*+>0123456789")  # what a list item or a quote starts with


class Heading(NamedTuple):
    level: int
    title: str
    line: int  # 0-based line index


class Blocks(NamedTuple):
    lines: list[str]  # the document's lines, "\r" stripped
    kinds: bytes  # one of TEXT, CODE, HTML per line
    headings: list[Heading]  # top-level headings, in order

    def is_text(self, index: int) -> bool:
        return self.kinds[index] == TEXT


def heading_title(raw: str) -> str:
    """An ATX heading's text as CommonMark gives it: spaces and the closing #s removed."""
    text = raw.strip(" \t")
    if not text.endswith("#"):  # no closing sequence: the pattern below needs a "#" at the end
        return text
    if not text.strip("#"):
        return ""
    return _CLOSING_HASHES.sub("", text).strip(" \t")


def _scan(lines: list[str]) -> tuple[bytearray, list[Heading]] | None:
    """The fast path, or None when the document has something the scanner does not model:
    line by line, as a CommonMark parser sees top-level blocks. (One loop with its state in
    local variables: a method call per line made it twice as slow.)"""
    kinds = bytearray(len(lines))
    headings: list[Heading] = []
    fence = ""  # what closes the open fence: its character, as many times as it was opened
    raw_close = ""  # the tag that closes an open <pre>-like block
    in_comment = paragraph = False
    for index, line in enumerate(lines):
        if fence:
            kinds[index] = CODE
            stripped = line.lstrip(" ")
            if (
                stripped.startswith(fence)
                and len(line) - len(stripped) <= 3
                and not stripped.rstrip(" \t").strip(fence[0])
            ):
                fence = ""
            continue
        if in_comment:
            kinds[index] = HTML
            in_comment = "-->" not in line
            continue
        if raw_close:
            kinds[index] = HTML
            if raw_close in line.lower():
                raw_close = ""
            continue
        first = line[:1]
        if first == "|" or first.isalpha():  # a table row, prose: no block starts so
            paragraph = True
            continue
        if not line.strip(" \t"):
            paragraph = False
            continue
        if first == "#":  # no pattern below but _ATX can match a line that starts so
            if heading := _ATX.match(line):
                headings.append(Heading(len(heading[1]), heading_title(heading[2] or ""), index))
                paragraph = False
            else:
                paragraph = True
            continue
        if first in _ITEM_OR_QUOTE and "`" not in line and "~" not in line:
            # a list item or a quote with no fence in it: only a setext underline could matter
            if first == "-" and paragraph and _SETEXT.match(line):
                return None
            paragraph = True
            continue
        if _TABBED.match(line) and ("`" in line or "~" in line or "#" in line):
            return None
        if _NESTED_FENCE.match(line):  # a fence inside a list item or quote
            return None
        match = _FENCE.match(line)
        if match and not (match[1][0] == "`" and "`" in match[2]):
            fence = match[1]
            kinds[index], paragraph = CODE, False
        elif (
            _INDENTED_FENCE.match(line)
            or _INDENTED_ATX.match(line)
            or (_OTHER_HTML.match(line) and not (_COMMENT.match(line) or _RAW_HTML.match(line)))
        ):
            return None
        elif _COMMENT.match(line):
            kinds[index], paragraph = HTML, False
            in_comment = "-->" not in line[line.index("<!--") + 4 :]
        elif raw := _RAW_HTML.match(line):
            kinds[index], paragraph = HTML, False
            close = f"</{raw[1].lower()}>"
            raw_close = "" if close in line.lower() else close
        elif heading := _ATX.match(line):
            headings.append(Heading(len(heading[1]), heading_title(heading[2] or ""), index))
            paragraph = False
        elif paragraph and _SETEXT.match(line):
            return None
        elif not line.startswith("    ") or paragraph:  # indented code is never a block here
            paragraph = True
    return kinds, headings


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


def _lines(text: str) -> list[str]:
    """The text's lines, each without the "\r" of a CRLF line end."""
    lines = text.split("\n")
    return [line[:-1] if line.endswith("\r") else line for line in lines] if "\r" in text else lines


def blocks(text: str) -> Blocks:
    lines = _lines(text)
    found = _scan(lines)
    kinds, headings = found if found is not None else _full(lines)
    return Blocks(lines, bytes(kinds), headings)


def full_parse(text: str) -> Blocks:
    """markdown-it-py's answer, always (for tests that hold the scanner to it)."""
    lines = _lines(text)
    kinds, headings = _full(lines)
    return Blocks(lines, bytes(kinds), headings)
