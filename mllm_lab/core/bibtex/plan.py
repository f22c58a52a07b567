"""What importing a BibTeX file does to a lab: per entry, create a paper, update one, or skip.

An entry is matched to a lab paper through its arXiv id first, then its DOI, then its exact
title (case and punctuation aside). An update only fills what the lab does not know yet (a
missing year, venue, arXiv id or URL; a full author list where the lab has "X et al."): the
lab's own title, year (the first arXiv version's) and venue are never overwritten. No paper
is planned twice: a second entry for the same paper is skipped as a duplicate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any

from mllm_lab.core.arxivid import arxiv_doi, parse_arxiv_id
from mllm_lab.core.bibtex.parse import OTHERS, BibEntry
from mllm_lab.core.slugs import short_key as new_key
from mllm_lab.messages import tr
from mllm_lab.models import Paper

_DOI_URL = re.compile(r"^https?://(?:dx\.)?doi\.org/(10\..+)$", re.I)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"


@dataclass(frozen=True)
class Planned:
    """The decision for one entry. `paper` is the paper to write (the new one, or the updated
    one with `changes` naming its changed fields); a skip has a `reason` instead."""

    action: Action
    entry: BibEntry
    paper: Paper | None = None
    changes: tuple[str, ...] = ()
    reason: str | None = None
    detail: str = ""

    @property
    def key(self) -> str | None:
        return self.paper.key if self.paper else None

    def message(self, lang: str = "en") -> str:
        code = self.reason or self.action.value
        if self.action is Action.UPDATE:
            detail = tr("review.separator", lang).join(
                tr(f"bibtex.field.{field}", lang) for field in self.changes
            )
        else:
            detail = self.detail
        return tr(
            f"bibtex.plan.{code}",
            lang,
            key=self.key or self.detail,
            title=self.paper.title if self.paper else "",
            bibkey=self.entry.bibkey,
            detail=detail,
        )


def squash_title(title: str) -> str:
    """A title for matching: case, punctuation, spacing and accents' composition aside."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", title).casefold())


def _paper_doi(paper: Paper) -> str | None:
    # Paper has no `doi` field yet; a doi.org URL is where a lab keeps one for now.
    doi = getattr(paper, "doi", None)
    if isinstance(doi, str) and doi:
        return doi.lower()
    match = _DOI_URL.match(paper.url or "")
    if match:
        return match[1].lower()
    return arxiv_doi(paper.arxiv).lower() if paper.arxiv else None


class _Lab:
    """The lab's papers indexed by arXiv id, DOI and squashed title."""

    def __init__(self, papers: Iterable[Paper]) -> None:
        self.papers = list(papers)
        self.index: dict[tuple[str, str], list[Paper]] = {}
        for paper in self.papers:
            doi = _paper_doi(paper)
            for ident in (
                ("arxiv", paper.arxiv),
                ("doi", doi),
                ("title", squash_title(paper.title)),
            ):
                if ident[1]:
                    self.index.setdefault((ident[0], ident[1]), []).append(paper)

    def match(self, entry: BibEntry) -> list[Paper]:
        """Lab papers for the entry: by arXiv id, else DOI, else title (not across two ids)."""
        for ident in _identities(entry):
            found = self.index.get(ident, [])
            if ident[0] == "title" and entry.arxiv:
                found = [p for p in found if p.arxiv in (None, entry.arxiv)]
            if found:
                return found
        return []


def _identities(entry: BibEntry) -> list[tuple[str, str]]:
    idents = []
    if entry.arxiv:
        idents.append(("arxiv", entry.arxiv))
    if entry.doi:
        idents.append(("doi", entry.doi.lower()))
    if entry.title and squash_title(entry.title):
        idents.append(("title", squash_title(entry.title)))
    return idents


def plan_import(
    entries: Sequence[BibEntry],
    papers: Iterable[Paper],
    today: date | None = None,
    reserved: Iterable[str] = (),
) -> list[Planned]:
    """One decision per entry, in file order. `today` becomes a new paper's `created`;
    `reserved` keys (e.g. the catalog's) are never given to a new paper."""
    lab = _Lab(papers)
    taken = {paper.key.casefold() for paper in lab.papers} | {k.casefold() for k in reserved}
    claimed: dict[tuple[str, str], int] = {}  # identity -> line of the entry that claimed it
    keys_seen: dict[str, int] = {}
    plan: list[Planned] = []
    for entry in entries:
        decision = _decide(
            entry=entry, lab=lab, taken=taken, claimed=claimed, keys_seen=keys_seen, today=today
        )
        keys_seen.setdefault(entry.bibkey.casefold(), entry.line)
        if decision.action is not Action.SKIP or decision.reason == "identical":
            for ident in _identities(entry) + _paper_identities(decision.paper):
                claimed.setdefault(ident, entry.line)
        if decision.action is Action.CREATE and decision.paper:
            taken.add(decision.paper.key.casefold())
        plan.append(decision)
    return plan


def _paper_identities(paper: Paper | None) -> list[tuple[str, str]]:
    if paper is None:
        return []
    idents = [("paper", paper.key.casefold()), ("title", squash_title(paper.title))]
    return idents + ([("arxiv", paper.arxiv)] if paper.arxiv else [])


def _decide(
    entry: BibEntry,
    lab: _Lab,
    taken: set[str],
    claimed: dict[tuple[str, str], int],
    keys_seen: dict[str, int],
    today: date | None,
) -> Planned:
    def skip(reason: str, detail: str = "") -> Planned:
        return Planned(Action.SKIP, entry, reason=reason, detail=detail)

    if entry.bibkey.casefold() in keys_seen:
        return skip("duplicate-key", str(keys_seen[entry.bibkey.casefold()]))
    if not entry.title:
        return skip("no-title")
    for ident in _identities(entry):
        if ident in claimed:
            return skip("duplicate", str(claimed[ident]))
    found = {paper.key: paper for paper in lab.match(entry)}
    if len(found) > 1:
        return skip("ambiguous", ", ".join(sorted(found)))
    if not found:
        paper = _new_paper(entry, new_key(entry.title, taken), today)
        return Planned(Action.CREATE, entry, paper=paper)
    (paper,) = found.values()
    if ("paper", paper.key.casefold()) in claimed:
        return skip("duplicate", str(claimed["paper", paper.key.casefold()]))
    updated, changes = merge(paper, entry)
    if not changes:
        return Planned(Action.SKIP, entry, paper=paper, reason="identical")
    return Planned(Action.UPDATE, entry, paper=updated, changes=changes)


def _new_paper(entry: BibEntry, key: str, today: date | None) -> Paper:
    assert entry.title is not None
    return Paper(
        key=key,
        title=entry.title,
        authors=entry.authors,
        year=entry.year,
        venue=entry.venue,
        arxiv=entry.arxiv,
        url=_entry_url(entry),
        created=today,
    )


def _entry_url(entry: BibEntry) -> str | None:
    """A URL worth keeping: the entry's own, or its DOI's when there is no arXiv id."""
    if entry.url and not (entry.arxiv and parse_arxiv_id(entry.url) == entry.arxiv):
        return entry.url
    if entry.arxiv:
        return None  # Paper.link gives the abs page
    return f"https://doi.org/{entry.doi}" if entry.doi else None


def _real_names(authors: Sequence[str]) -> tuple[list[str], bool]:
    """Named authors, and whether the list is cut short ("X et al." or `and others`)."""
    names, short = [], False
    for author in authors:
        if author == OTHERS:
            short = True
        elif author.endswith(" " + OTHERS):
            names.append(author.removesuffix(" " + OTHERS))
            short = True
        else:
            names.append(author)
    return names, short


def fuller_authors(new: Sequence[str], old: Sequence[str]) -> bool:
    """True when `new` should replace the lab's `old` list: the lab has none, or a cut-short
    list ("Hugo Touvron et al.") and `new` names more people."""
    if not new:
        return False
    if not old:
        return True
    old_names, old_short = _real_names(old)
    new_names, _ = _real_names(new)
    return old_short and len(new_names) > len(old_names)


def merge(paper: Paper, entry: BibEntry) -> tuple[Paper, tuple[str, ...]]:
    """The paper with what the entry adds, and the names of the fields that changed."""
    changes: dict[str, Any] = {}
    if fuller_authors(entry.authors, paper.authors):
        changes["authors"] = entry.authors
    for field in ("year", "venue", "arxiv"):
        if getattr(paper, field) is None and getattr(entry, field) is not None:
            changes[field] = getattr(entry, field)
    url = _entry_url(entry)
    if paper.url is None and url and not (paper.arxiv and parse_arxiv_id(url) == paper.arxiv):
        changes["url"] = url
    return replace(paper, **changes), tuple(changes)
