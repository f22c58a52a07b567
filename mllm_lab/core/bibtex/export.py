"""Papers -> BibTeX text that bibtexparser v2 (and BibTeX) read back to the same facts.

One entry per paper: `@inproceedings` for a conference or workshop, `@article` for a journal,
`@misc` for a preprint or a web page. arXiv papers get `eprint` and `archivePrefix = {arXiv}`.
Titles keep their acronyms' capitals in braces; non-ASCII text stays UTF-8."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.middlewares import default_unparse_stack
from bibtexparser.model import Block, Entry, Field
from bibtexparser.writer import BibtexFormat

from mllm_lab.core.bibtex.parse import OTHERS, is_preprint_venue
from mllm_lab.core.slugs import slugify
from mllm_lab.models import Paper
from mllm_lab.patterns import pattern

_CONFERENCE = pattern(
    r"\b(?:conference|proceedings|workshop|symposium|neurips|nips|icml|iclr|cvpr|iccv|eccv|"
    r"acl|emnlp|naacl|eacl|coling|aaai|ijcai|corl|rss|kdd|sigir|siggraph|wacv|bmvc|icra|iros|"
    r"interspeech|icassp|colm|aistats|uai)\b",
    re.I,
)
_ESCAPES = str.maketrans(
    {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "%": r"\%",
        "&": r"\&",
        "#": r"\#",
        "_": r"\_",
        "$": r"\$",
        "~": r"\textasciitilde{}",
    }
)
# LaTeX ligatures that would come back as other characters: -- –, `` “, '' ”, ?` ¿, !` ¡.
_LIGATURES = pattern(r"(?<=-)(?=-)|(?<=`)(?=`)|(?<=')(?=')|(?<=[?!])(?=`)")
_KEY_SAFE = pattern(r"[^\s,{}()=#%\"'\\~]+")
_DOI_URL = pattern(r"^https?://(?:dx\.)?doi\.org/(10\..+)$", re.I)


def escape_latex(text: str) -> str:
    """Plain text -> BibTeX-safe LaTeX that decodes back to the same text."""
    escaped = text.translate(_ESCAPES)
    return _LIGATURES.sub("{}", escaped)


def _protected(word: str, force: bool) -> str:
    """`{BLIP-2}`: a word with a capital after its first letter (an acronym or a model name)
    keeps its case when a bibliography style lower-cases titles."""
    letters = word.lstrip("\"'([")
    if force or any(char.isupper() for char in letters[1:]):
        return "{" + escape_latex(word) + "}"
    return escape_latex(word)


def protect_title(title: str) -> str:
    """Braces around the capitals a style must keep: acronyms everywhere, and the whole name
    before a colon (`Flamingo: a Visual Language Model…`: `Flamingo` is a name)."""
    head, colon, _ = title.partition(":")
    named = len(head.split()) if colon and len(head.split()) <= 4 else 0
    words = title.split(" ")
    return " ".join(_protected(word, index < named) for index, word in enumerate(words))


def _name(author: str) -> str:
    """One author for the `author` field; a name BibTeX would split wrongly goes in braces."""
    if re.search(r",|\band\b", author, re.I):
        return "{" + escape_latex(author) + "}"
    return escape_latex(author)


def author_field(authors: Iterable[str]) -> str:
    names = []
    for author in authors:
        if author == OTHERS:
            names.append("others")
        elif author.endswith(" " + OTHERS):  # the catalog's "Hugo Touvron et al."
            names += [_name(author.removesuffix(" " + OTHERS)), "others"]
        elif author.strip():
            names.append(_name(author))
    return " and ".join(names)


def _venue_field(paper: Paper) -> tuple[str, str | None]:
    """Entry type, and the field holding the venue (None: no venue)."""
    venue = paper.venue
    if venue and not is_preprint_venue(venue):
        return (
            ("inproceedings", "booktitle") if _CONFERENCE.search(venue) else ("article", "journal")
        )
    return "misc", None


def bibtex_key(paper: Paper) -> str:
    """`radford2021clip`: the first author's surname, the year, the lab key."""
    first = paper.authors[0].removesuffix(" " + OTHERS) if paper.authors else ""
    surname = slugify(first).split("-")[-1] if first and first != OTHERS else ""
    if surname.startswith("note"):  # slugify found nothing to transliterate
        surname = ""
    year = str(paper.year) if paper.year else ""
    return re.sub(r"[^a-z0-9]", "", f"{surname}{year}{paper.key.lower()}") or "paper"


def usable_key(key: str | None) -> bool:
    """A citation key BibTeX, biber and bibtexparser all read back as written."""
    return bool(key) and _KEY_SAFE.fullmatch(key or "") is not None


def _own_key(paper: Paper, bibkeys: Mapping[str, str] | None) -> str | None:
    key = (bibkeys or {}).get(paper.key) or paper.bibkey
    return key if usable_key(key) else None


def _unique(key: str, used: set[str]) -> str:
    candidate, suffix = key, ord("a")
    while candidate.casefold() in used:
        candidate = f"{key}{chr(suffix)}" if suffix <= ord("z") else f"{key}{suffix - ord('a')}"
        suffix += 1
    used.add(candidate.casefold())
    return candidate


def _paper_doi(paper: Paper) -> str | None:
    match = _DOI_URL.match(paper.url or "")
    return paper.doi or (match[1] if match else None)


def paper_entry(paper: Paper, key: str) -> Entry:
    """The bibtexparser entry for one paper, its values already in LaTeX."""
    entry_type, venue_field = _venue_field(paper)
    fields = [("title", protect_title(paper.title))]
    if paper.authors:
        fields.append(("author", author_field(paper.authors)))
    if venue_field and paper.venue:
        fields.append((venue_field, escape_latex(paper.venue)))
    if paper.year is not None:
        fields.append(("year", str(paper.year)))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
    if doi := _paper_doi(paper):
        fields.append(("doi", escape_latex(doi)))
    if paper.url:
        fields.append(("url", paper.url.replace("{", "%7B").replace("}", "%7D")))
    return Entry(entry_type, key, [Field(name, value) for name, value in fields])


def export_bibtex(papers: Iterable[Paper], bibkeys: Mapping[str, str] | None = None) -> str:
    """BibTeX for the papers, in the order given. A paper's own citation key (from `bibkeys`,
    lab key -> BibTeX key, or its `bibkey`) is kept; others get `radford2021clip`."""
    used: set[str] = set()
    entries: list[Block] = [
        paper_entry(paper, _unique(_own_key(paper, bibkeys) or bibtex_key(paper), used))
        for paper in papers
    ]
    style = BibtexFormat()
    style.indent = "  "
    style.trailing_comma = True
    style.block_separator = "\n"
    # The entries are ours, made just now: the writer may add its braces in place instead of
    # deep-copying every entry first (most of the time of a large export).
    stack = default_unparse_stack(allow_inplace_modification=True)
    return (
        write_string(Library(entries), unparse_stack=stack, bibtex_format=style) if entries else ""
    )
