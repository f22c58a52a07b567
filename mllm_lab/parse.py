"""One lab file, parsed and digested into its index record: a note's frontmatter (checked and
normalised), the reading list, a notebook; and, on demand, what `lab check`, `lab review` and
the prompts need from a note's body. Pure but for reading the file itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mllm_lab import kinds
from mllm_lab.caches import as_json
from mllm_lab.core import fm
from mllm_lab.core.digest import digest_note, digest_reading_list
from mllm_lab.core.labdata import PROBLEM_AT, NotebookDigest, Record
from mllm_lab.core.weeks import as_date
from mllm_lab.errors import BrokenNote, DamagedRegion
from mllm_lab.messages import LANGS, Msg, tr
from mllm_lab.models import strings
from mllm_lab.patterns import pattern
from mllm_lab.storage import read_text
from mllm_lab.walk import READING_LIST_KIND, Found

_H1_START = pattern(r"^# ", re.M)
H1_WITHIN = 20000  # characters of the body: a title further down is not the note's


def h1(body: str, within: int = H1_WITHIN) -> str:
    """The first `# Title` of the body (in its first `within` characters), as the pattern
    `^# +(.+?)[ #]*$` (multi-line) finds it, without the pattern: its lazy title before
    `[ #]*$` took quadratic time on a run of spaces or "#" that something else ends (20,000
    of them: 1.3 s)."""
    searched, within = 0, min(within, len(body))
    while (start := _H1_START.search(body, searched, within)) is not None:
        end = body.find("\n", start.end(), within)
        end = within if end < 0 else end
        spaced = start.end()
        while spaced < end and body[spaced] == " ":
            spaced += 1
        if spaced < end:  # the title: up to the last character but " " and "#", one at least
            title = body[spaced:end].rstrip(" #")
            return title or body[spaced]
        if spaced - start.end() >= 1:  # "#" and spaces alone: one gives itself as the title
            return " "
        searched = end
    return ""


_NEXT_HEADING = pattern(r"^#{1,6} ", re.M)


# --- parsing one file ----------------------------------------------------------------------


def _summary(body: str) -> str:
    """The first sentence of the first `##` section: the one-line summary of the notes index."""
    # the first line that starts with "## ": found as `^## ` (multi-line) finds it, at an
    # eighth of the cost (the pattern is tried at every character up to it)
    heading = 0 if body.startswith("## ") else body.find("\n## ") + 1
    if heading == 0 and not body.startswith("## "):
        return ""
    start = body.find("\n", heading)
    if start < 0:
        return ""
    following = _NEXT_HEADING.search(body, start)
    from mllm_lab.core import markdown  # a note with a summary of its own never needs it

    return markdown.first_sentence(body[start : following.start() if following else start + 4000])


def parse_note(text: str, relative: str, kind: kinds.NoteKind) -> list[Any]:
    parsed = fm.parse(text, relative)
    summary = parsed.meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        summary = _summary(parsed.body) if kind.in_index else ""
    digest = digest_note(
        path=relative,
        kind=kind,
        meta=parsed.meta,
        lines=parsed.key_lines,
        h1=h1(parsed.body),
        summary=" ".join(summary.split()),
        has_frontmatter=parsed.has_frontmatter,
    )
    return [list(digest.note), *digest[1:]]


def parse_reading_list(text: str) -> list[Any]:
    from mllm_lab.core import readinglist  # not needed to parse a note again after an edit

    reading = readinglist.parse(text)
    return list(digest_reading_list(reading.entries, reading.lines))


def parse_notebook(text: str) -> list[Any]:
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise BrokenNote("", 1, "notebook.no_cells")
    metadata = data.get("metadata")
    info = metadata.get("mllm_lab") if isinstance(metadata, dict) else None
    info = info if isinstance(info, dict) else {}
    title = info.get("title") if isinstance(info.get("title"), str) else None
    if not title:
        for cell in data["cells"]:
            if not isinstance(cell, dict):
                continue
            source = cell.get("source", "")
            source = "".join(map(str, source)) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "markdown" and source.lstrip().startswith("#"):
                title = source.lstrip().split("\n", 1)[0].lstrip("# ").strip()
                break
    return list(
        NotebookDigest(
            str(title or ""), _created(info.get("created")), str(info.get("topic") or "")
        )
    )


def _created(value: Any) -> str | None:
    try:
        day = as_date(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return day.isoformat() if day else None


# The sections `lab review` draws self-test questions from, in every language.
QUESTION_SECTIONS = frozenset(
    tr(name, lang) for name in ("section.interview", "section.misconceptions") for lang in LANGS
)


def note_detail(text: str, relative: str, questions: bool = True) -> dict[str, Any]:
    """What `lab check`, `lab review` and the weekly prompt need from a note's body, with the
    file's line numbers: headings (with a fingerprint of what is written under each), links,
    open questions (unless not `questions`: `lab review` reads none, and looking for them is
    a quarter of the work), and the text of the sections self-test questions are drawn from."""
    from mllm_lab.core import markdown  # not when a scan parses a note again after an edit

    parsed = fm.parse(text, relative)
    offset = parsed.body_line - 1
    found = markdown.sections(parsed.body)
    h1 = next((s.title for s in found if s.level == 1), "")
    title = parsed.meta.get("title")
    title = title if isinstance(title, str) else h1
    detail = {
        **_checked(text, relative, parsed),
        "headings": [
            [s.level, s.title, s.line + offset, markdown.section_signature(s.content, title)]
            for s in found
        ],
        "sections": {s.title: s.content for s in found if s.title in QUESTION_SECTIONS},
    }
    if questions:
        found_questions = markdown.open_questions(parsed.body)
        detail["questions"] = [[line + offset, text] for line, text in found_questions]
    return detail


def check_detail(text: str, relative: str) -> dict[str, Any]:
    """What `lab check` alone needs of a note's body, as note_detail gives it: its headings
    without their fingerprints (level, title, line), its links, `related:` lines and damaged
    markers; not its open questions or question sections. A third of note_detail's work."""
    from mllm_lab.core import markdown

    parsed = fm.parse(text, relative)
    offset = parsed.body_line - 1
    headings = markdown.headings(parsed.body)
    return {
        **_checked(text, relative, parsed),
        "headings": [[h.level, h.title, h.line + 1 + offset] for h in headings],
    }


def _checked(text: str, relative: str, parsed: fm.Parsed) -> dict[str, Any]:
    """The parts of a note's detail that `lab check` reads besides its headings."""
    from mllm_lab.core import markdown, regions  # only for the details: not when a scan parses

    offset = parsed.body_line - 1
    found_links, unrendered = markdown.scan_links(parsed.body)
    damaged = None
    try:
        regions.parse(text, relative)
    except DamagedRegion as damage:
        damaged = [damage.line, damage.what.as_json()]
    return {
        "damaged": damaged,
        "body_line": parsed.body_line,
        "links": [[link.target, link.line + offset, link.wiki] for link in found_links],
        "related": _related_lines(text, parsed),
        "unrendered": [[link.target, link.line + offset] for link in unrendered],
    }


def links_of(text: str, relative: str) -> dict[str, list[list[Any]]]:
    """The links of any Markdown file (a README, a resource list), with the file's line
    numbers, as note_detail gives them for notes: {"links": [target, line, is_wiki],
    "unrendered": [target, line]}."""
    from mllm_lab.core import markdown

    try:
        parsed = fm.parse(text, relative)
        body, offset = parsed.body, parsed.body_line - 1
    except BrokenNote:
        body, offset = text, 0
    found, unrendered = markdown.scan_links(body)
    return {
        "links": [[link.target, link.line + offset, link.wiki] for link in found],
        "unrendered": [[link.target, link.line + offset] for link in unrendered],
    }


def _related_lines(text: str, parsed: fm.Parsed) -> list[list[Any]]:
    """Each `related:` entry with the line it is written on (the key's line if not found)."""
    entries = strings(parsed.meta.get("related"))
    if not entries:
        return []
    first = parsed.key_lines.get("related", 1)
    lines = text.split("\n", parsed.body_line)[first - 1 : parsed.body_line - 2]
    found = []
    written: dict[str, int] = {}  # the line each item of a block list names: `- entry`
    for n, raw in enumerate(lines):
        item = raw.strip()
        if item.startswith("- "):
            written.setdefault(item[2:].strip().strip("'\""), first + n)
    for entry in entries:
        # an entry on a line of its own is found there, not on an earlier line that holds it
        # within a longer one (and not by a search of every line for each of 20,000 entries)
        line = written.get(entry)
        if line is None:
            line = next((first + n for n, raw in enumerate(lines) if entry in raw), first)
        found.append([entry, line])
    return found


def parse_text(text: str, relative: str, kind: str) -> list[Any]:
    """The digest of one file's text."""
    if kind == kinds.EXPERIMENT.name:
        return parse_notebook(text)
    if kind == READING_LIST_KIND:
        return parse_reading_list(text)
    return parse_note(text, relative, kinds.BY_NAME[kind])


_KEY_LINE = pattern(r"^key:[ \t]*['\"]?([^'\"\s#]+)", re.M)


def parse_file(
    root: Path | str, relative: str, kind: str, text: str | None = None
) -> tuple[Any, Any]:
    """(digest, None), or (None, [line, message, key]) for a file that cannot be read or
    parsed; `key` is what a broken paper note's `key:` line still says, if anything."""
    line, msg = 1, None
    try:
        if text is None:
            text = read_text(f"{root}/{relative}", relative)  # not a Path per file: 3 µs each
        return parse_text(text, relative, kind), None
    except BrokenNote as error:
        line, msg = error.line, error.detail
    except json.JSONDecodeError as error:
        line, msg = error.lineno, Msg.of("file.json", problem=error.msg)
    except RecursionError:
        msg = Msg.of("file.nested")
    except (ValueError, TypeError, OverflowError) as error:
        msg = Msg.of("file.invalid", problem=" ".join(str(error).split()) or type(error).__name__)
    except OSError as error:
        msg = Msg.of("file.unreadable", problem=error.strerror or type(error).__name__)
    hint = _KEY_LINE.search(text[:4000]) if text and kind == kinds.PAPER.name else None
    return None, [line, msg.as_json(), hint[1] if hint else None]


def json_as_is(value: Any) -> bool:
    """JSON gives `value` back as it is, equal and of the same types: lists, dicts with
    string keys, strings, whole numbers, booleans and None (what a parse makes). Checked in
    half the time as_json takes."""
    kind = value.__class__
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is list:
        for item in value:  # a loop, not all() over a generator: twice as quick
            of = item.__class__  # most items are strings: no call for them
            if not (of is str or of is int or of is bool or item is None or json_as_is(item)):
                return False
        return True
    if kind is dict:
        for key, item in value.items():
            if key.__class__ is not str or not json_as_is(item):
                return False
        return True
    return False


def good_digest(kind: str, digest: Any) -> bool:
    """A digest worth remembering: it parsed, and a paper note's gave a paper every field of
    which reads."""
    if digest is None or kind != kinds.PAPER.name:
        return digest is not None
    return digest[1] is not None and digest[1][PROBLEM_AT] is None


def make_record(found: Found, parsed: tuple[Any, Any], last_good: Any = None) -> Record:
    """A file's record, as JSON would give it back (so the index keeps it as it is)."""
    digest, error = parsed
    kept = None if good_digest(found[1], digest) else last_good
    if not json_as_is([digest, error, kept]):
        digest, error, kept = as_json([digest, error, kept])
    return Record(
        kind=found[1],
        mtime_ns=found[2],
        size=found[3],
        inode=found[4],
        digest=digest,
        error=error,
        last_good=kept,
    )
