"""BibTeX text -> paper facts (`BibEntry`) and the problems found on the way, each with its line.

bibtexparser v2 only splits the file into blocks (it keeps going past broken ones); the values
are read here: `@string` macros and `#` concatenation, LaTeX accents and braces decoded to
Unicode, names split the BibTeX way and written "First Last", arXiv ids found wherever
Zotero, Better BibTeX, DBLP, Google Scholar or a README put them."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from bibtexparser.entrypoint import parse_string
from bibtexparser.exceptions import BlockAbortedException
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)

from mllm_lab.core.arxivid import find_arxiv_id, parse_arxiv_id
from mllm_lab.messages import tr
from mllm_lab.patterns import pattern

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text

# bibtexparser logs each broken block as a warning; they come back to the caller as problems.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

OTHERS = "et al."  # stands for BibTeX's `and others`: more authors than the list names

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# BibTeX's predefined macros: `month = jan` needs no @string.
_BUILTIN_STRINGS = dict(zip(MONTHS, _MONTH_NAMES, strict=True))
_NOT_A_VENUE = pattern(r"^\s*(?:arxiv|corr|preprint)\b|arxiv\s+preprint|^\s*arxiv\s*:", re.I)
_DOI_URL = pattern(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*", re.I)
_URL_MACRO = pattern(r"^\\(?:url|href)\{([^}]*)\}")
_UNESCAPED_PERCENT = pattern(r"(?<!\\)%")
_MARKS = pattern(r'\\.|[{}"#]', re.S)  # an escaped character is skipped whole
_LATEX = pattern(r"[\\{}$~%&#_^]|--|``|''|[?!]`")  # what the decoder would change


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the file, at a 1-based line; `message(lang)` says it to the user."""

    line: int
    code: str
    detail: str = ""

    def message(self, lang: str = "en") -> str:
        return tr(f"bibtex.problem.{self.code}", lang, detail=self.detail)


@dataclass(frozen=True)
class BibEntry:
    """The facts of one BibTeX entry, decoded to plain Unicode text."""

    bibkey: str
    entry_type: str
    line: int
    title: str | None = None
    authors: tuple[str, ...] = ()  # "First Last"; OTHERS last for `and others`
    year: int | None = None
    month: int | None = None
    venue: str | None = None
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class _Raw:
    """An entry's fields as written (names lower-cased, first of duplicates kept), with lines."""

    values: dict[str, str]
    lines: dict[str, int]
    line: int


@lru_cache(maxsize=1)
def _decoder() -> LatexNodes2Text:
    from pylatexenc.latex2text import LatexNodes2Text  # 60 ms: only for LaTeX in a file

    return LatexNodes2Text(math_mode="text")


def _squeeze(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def decode_latex(text: str) -> str:
    """`{BLIP-2:} Bootstrapping`, `Timoth{\\'e}e`, `5\\%` -> plain Unicode, whitespace squeezed.

    A bare `%` is a literal percent in a BibTeX value, not a LaTeX comment."""
    if not _LATEX.search(text):  # most names and many titles: 100x faster than the decoder
        return _squeeze(text)
    return _squeeze(_decoder().latex_to_text(_UNESCAPED_PERCENT.sub(r"\\%", text)))


def parse_bibtex(text: str) -> tuple[list[BibEntry], list[Problem]]:
    """Every entry of a BibTeX file, in file order (duplicate keys included: the planner skips
    them), and every problem found. Broken entries are reported and left out; reading goes on."""
    try:
        library = parse_string(text, parse_stack=[])
    except Exception as error:  # bibtexparser re-raises its own internal errors
        return [], [Problem(1, "file", str(error) or type(error).__name__)]
    strings = dict(_BUILTIN_STRINGS)
    entries: list[BibEntry] = []
    problems: list[Problem] = []
    for parsed in library.blocks:
        line = (parsed.start_line or 0) + 1
        block: Block | None = parsed
        if isinstance(parsed, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock):
            block = parsed.ignore_error_block  # still read: the planner or _raw_fields report it
        if isinstance(block, String):
            value, found = _evaluate(block.value, strings, line)
            strings[block.key.lower()] = value
            problems += found
        elif isinstance(block, Entry):
            entry, found = _read_entry(block, strings)
            entries.append(entry)
            problems += found
        elif isinstance(block, ParsingFailedBlock):
            problems.append(Problem(line, "unreadable", _failure(block)))
    return entries, sorted(problems, key=lambda problem: problem.line)


def _failure(block: ParsingFailedBlock) -> str:
    head = re.match(r"\s*@\s*(\w+)\s*[{(]\s*([^,\s{}()]*)", block.raw or "")
    name = f"@{head[1]}{{{head[2]}}}" if head else "?"
    error = block.error
    reason = error.abort_reason if isinstance(error, BlockAbortedException) else str(error)
    return f"{name} ({reason})" if reason else name


def _split_concatenation(value: str) -> list[str]:
    """`"Part " # icml` -> ['"Part "', 'icml']: `#` outside braces and quotes joins pieces.
    An escaped `\\{`, `\\}`, `\\"` or `\\#` is text, as the splitter reads it."""
    pieces, depth, quoted, start = [], 0, False, 0
    for mark in _MARKS.finditer(value):
        char = mark[0]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            pieces.append(value[start : mark.start()])
            start = mark.end()
    pieces.append(value[start:])
    return [piece.strip() for piece in pieces]


def _evaluate(value: str, strings: dict[str, str], line: int) -> tuple[str, list[Problem]]:
    """A raw field value (braced, quoted, a number, a macro, or pieces joined by `#`) as text."""
    text, problems = [], []
    for piece in _split_concatenation(value):
        if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
            text.append(piece[1:-1])
        elif piece.isdigit():
            text.append(piece)
        elif piece.lower() in strings:
            text.append(strings[piece.lower()])
        elif piece:
            problems.append(Problem(line, "undefined-string", piece))
    return "".join(text), problems


def _raw_fields(entry: Entry, strings: dict[str, str]) -> tuple[_Raw, list[Problem]]:
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    for field in entry.fields:
        key = field.key.lower()
        line = (field.start_line or 0) + 1
        if key in values:  # BibTeX too keeps the first value
            problems.append(Problem(line, "duplicate-field", key))
            continue
        value, found = _evaluate(str(field.value), strings, line)
        values[key], lines[key] = value, line
        problems += found
    return _Raw(values, lines, (entry.start_line or 0) + 1), problems


def _read_entry(entry: Entry, strings: dict[str, str]) -> tuple[BibEntry, list[Problem]]:
    raw, problems = _raw_fields(entry, strings)

    def text(key: str) -> str | None:
        value = raw.values.get(key, "").strip()
        if not value:
            return None
        try:
            return decode_latex(value) or None
        except Exception:  # pylatexenc is tolerant; this is for what it still rejects
            problems.append(Problem(raw.lines[key], "bad-latex", key))
            return _squeeze(value.replace("{", "").replace("}", "")) or None

    year = _year(raw, problems)
    arxiv = _arxiv(raw)
    result = BibEntry(
        bibkey=entry.key.strip(),
        entry_type=entry.entry_type.strip().lower(),
        line=raw.line,
        title=text("title"),
        authors=_authors(raw.values.get("author", "")),
        year=year,
        month=_month(raw),
        venue=_venue(text("booktitle"), text("journal")),
        arxiv=arxiv,
        doi=_doi(raw),
        url=_url(raw),
    )
    return result, problems


def _authors(value: str) -> tuple[str, ...]:
    names: list[str] = []
    for name in split_multiple_persons_names(value):
        if name.strip().lower() == "others":
            names.append(OTHERS)
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        words = [*parts.first, *parts.von, *parts.last, *parts.jr]
        full = decode_latex(" ".join(words))
        if full:
            names.append(full)
    return tuple(names)


def _year(raw: _Raw, problems: list[Problem]) -> int | None:
    """`year`, else the year of biblatex's `date` (`2021-03-31`)."""
    key = "year" if raw.values.get("year", "").strip() else "date"
    value = raw.values.get(key, "").strip()
    if not value:
        return None
    # `2023a` tells two papers of one year apart in some styles; a date goes on after the year
    match = re.fullmatch(r"(\d{4})[a-z]?" if key == "year" else r"(\d{4})(?:-\d\d){0,2}\S*", value)
    if match is None:
        problems.append(Problem(raw.lines[key], "bad-year", repr(value)))
        return None
    return int(match[1])


def _month(raw: _Raw) -> int | None:
    value = raw.values.get("month", "").strip(" .").lower()
    if not value:
        date = re.match(r"\d{4}-(\d\d)", raw.values.get("date", "").strip())
        value = date[1] if date else ""
    if value.isdigit():
        number = int(value)
        return number if 1 <= number <= 12 else None
    return MONTHS.index(value[:3]) + 1 if value[:3] in MONTHS else None


def is_preprint_venue(venue: str) -> bool:
    """`arXiv`, `arXiv preprint arXiv:…`, DBLP's `CoRR`: where a preprint is, not a venue."""
    return _NOT_A_VENUE.search(venue) is not None


def _venue(booktitle: str | None, journal: str | None) -> str | None:
    for venue in (booktitle, journal):
        if venue and not is_preprint_venue(venue):
            return venue
    return None


def _arxiv(raw: _Raw) -> str | None:
    values = raw.values
    archive = (values.get("archiveprefix") or values.get("eprinttype") or "arxiv").strip("{} ")
    if "eprint" in values and archive.lower() == "arxiv":
        found = parse_arxiv_id(values["eprint"].strip("{} "))
        if found:
            return found
    for key in ("arxiv", "arxivid", "arxiv_id"):
        if key in values and (found := parse_arxiv_id(values[key].strip("{} "))):
            return found
    for key in ("url", "journal", "publisher", "note", "howpublished", "volume", "doi"):
        if key in values and (found := find_arxiv_id(values[key])):
            return found
    return None


def _doi(raw: _Raw) -> str | None:
    for key in ("doi", "url"):
        value = raw.values.get(key, "").strip("{} ")
        if key == "url" and not _DOI_URL.match(value):
            continue
        doi = _DOI_URL.sub("", value).strip()
        if doi.startswith("10."):
            return doi
    return None


def _url(raw: _Raw) -> str | None:
    for key in ("url", "howpublished"):
        value = raw.values.get(key, "").strip()
        macro = _URL_MACRO.match(value)
        value = macro[1].strip() if macro else value.strip("{} ")
        if re.match(r"https?://\S+$", value):
            return value
    return None
