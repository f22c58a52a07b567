"""Markdown the way GitHub renders it: table cells, links, sections, and Mermaid identifiers."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from mllm_lab.core.blocks import Blocks, blocks

_CELL_ESCAPES = {"&": "&amp;", "|": "&#124;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", "\n": "<br>"}
_CELL_RE = re.compile("|".join(re.escape(k) for k in _CELL_ESCAPES))
_CELL_UNESCAPES = {v: k for k, v in _CELL_ESCAPES.items()}
_UNCELL_RE = re.compile("|".join(re.escape(k) for k in _CELL_UNESCAPES))


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_cell(text: str) -> str:
    """Text that stays inside one GFM table cell: no `|` or line break can split the table,
    and control characters show as � (as GitHub shows them) instead of making a binary file."""
    if _CONTROL.search(text):
        text = _CONTROL.sub("\ufffd", text)
    if _CELL_RE.search(text) is None:
        return text
    return _CELL_RE.sub(lambda m: _CELL_ESCAPES[m[0]], text)


def unescape_cell(cell: str) -> str:
    return _UNCELL_RE.sub(lambda m: _CELL_UNESCAPES[m[0]], cell)


def escape_link_text(text: str) -> str:
    text = escape_cell(text)
    return text.replace("[", "\\[").replace("]", "\\]") if "[" in text or "]" in text else text


def link(text: str, target: str | None) -> str:
    """A Markdown link for a table cell; plain escaped text when there is no target."""
    if not target:
        return escape_link_text(text)
    target = target.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return (
        f"[{escape_link_text(text)}](<{target}>)"
        if "(" in target or ")" in target
        else (f"[{escape_link_text(text)}]({target})")
    )


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

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_LINK = re.compile(
    r"(?<![!\\])\[(?P<text>[^\]\n]*)\]\((?P<target><[^>\n]+>|[^)\s]+)(?:\s+\"[^\"]*\")?\)"
)
_WIKI_LINK = re.compile(r"\[\[(?P<target>[^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


@dataclass(frozen=True)
class Section:
    level: int
    title: str
    line: int  # 1-based, counted in the body
    content: str


def sections(body: str) -> list[Section]:
    """Top-level headings, as a CommonMark parser finds them, each with the text up to the
    next heading of any level."""
    found = blocks(body)
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


def strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


def first_sentence(body: str, limit: int = 120) -> str:
    """A one-line summary: the first line of prose after the title, comments and code skipped."""
    found = blocks(strip_comments(body))
    for index, line in enumerate(found.lines):
        text = line.strip()
        if not found.is_text(index) or not text:
            continue
        if text.startswith(("#", "|", ">", "---", "![", "<")):
            continue
        text = re.sub(r"^[-*+]\s+|^\d+\.\s+", "", text).strip()
        if text:
            return text if len(text) <= limit else text[: limit - 1] + "…"
    return ""


@dataclass(frozen=True)
class Link:
    target: str
    line: int  # 1-based, counted in the body
    wiki: bool = False


@lru_cache(maxsize=2)
def _blanked(body: str) -> Blocks:
    """The body's blocks with comments blanked out (their line breaks kept): what links and
    open questions are read from. Both read the same note one after the other, so the last
    two are remembered (Blocks are not changed by their readers)."""
    return blocks(_COMMENT.sub(lambda m: "\n" * m[0].count("\n"), body))


def links(body: str) -> list[Link]:
    """Relative Markdown links and [[wiki links]] outside code and comments; URLs and anchors
    skipped. A target is returned as written (percent-encoding and all)."""
    result: list[Link] = []
    found = _blanked(body)
    for index, line in enumerate(found.lines):
        if not found.is_text(index) or "[" not in line:
            continue
        line = _CODE_SPAN.sub("", line)
        for match in _MD_LINK.finditer(line):
            target = match["target"]
            if target.startswith("<"):
                target = target[1:-1]
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
                continue
            result.append(Link(target.split("#", 1)[0], index + 1))
        for match in _WIKI_LINK.finditer(line):
            result.append(Link(match["target"].strip(), index + 1, wiki=True))
    return [item for item in result if item.target]


# --- Mermaid -------------------------------------------------------------------------------

_MERMAID_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "`": "#96;"}


def mermaid_id(text: str, prefix: str = "n") -> str:
    """An identifier Mermaid accepts for any text: ASCII word characters plus a short hash."""
    ascii_part = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:24]
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return f"{prefix}_{ascii_part}_{digest}" if ascii_part else f"{prefix}_{digest}"


@lru_cache(maxsize=1024)
def mermaid_label(text: str) -> str:
    """A quoted node label: Chinese, spaces, parentheses and quotes all render. (Each section
    of a note masks the note's title spelled so: the last titles' labels are remembered.)"""
    flat = " ".join(text.split())
    escaped = "".join(_MERMAID_ENTITIES.get(char, char) for char in flat)
    return f'"{escaped}"'


_QUESTION = re.compile(
    r"^\s*[-*+]\s+\[ \]\s+(?P<task>.+)$|(?P<any>.*(?:TODO|FIXME|❓|疑问|不理解|没搞懂|没看懂|卡住).*)"
)


def open_questions(body: str) -> list[tuple[int, str]]:
    """Open problems the learner wrote down: unticked `- [ ]` items and lines marked TODO, ❓,
    疑问, 不理解, 卡住…; comments and code are skipped. (line in body, text)."""
    found = []
    parsed = _blanked(body)
    for index, line in enumerate(parsed.lines):
        match = _QUESTION.match(line) if parsed.is_text(index) else None
        if match:
            text = (match["task"] or match["any"] or "").strip().lstrip("-*+ ").strip()
            if text:
                found.append((index + 1, text[:200]))
    return found


_SCAFFOLD = re.compile(r"^\s*(?:[|:\-\s]*|(?:[-*+]|\d+\.)?\s*(?:\*\*[^*]+\*\*\s*[：:]?\s*)?)\s*$")


def section_signature(content: str, title: str) -> str:
    """A fingerprint of what the learner wrote in a section: "" when nothing is written yet
    (only comments, empty table cells, empty list items or bold labels). The note's own title
    is masked, so a section left exactly as its template rendered it matches the template's."""
    text = strip_comments(content)
    for spelled in {title, mermaid_label(title)[1:-1]} - {""}:
        text = text.replace(spelled, "\x00")
    lines = [" ".join(line.split()) for line in text.split("\n")]
    kept = [line for line in lines if line and not _SCAFFOLD.match(line)]
    if not kept:
        return ""
    return hashlib.sha1("\n".join(kept).encode("utf-8", "surrogatepass")).hexdigest()[:10]
