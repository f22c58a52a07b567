"""What importing a BibTeX file does to a lab: per entry, create a paper, update one, or skip.

An entry is matched to a lab paper through the one resolver (core.resolve.Identities): its
arXiv id first, then its DOI, then its exact title (case and punctuation aside). An update only
fills what the lab does not know yet (a missing year, venue, arXiv id, DOI or URL; a full
author list where the lab has "X et al."; the citation key as `bibkey`): the lab's own title,
year (the first arXiv version's) and venue are never overwritten. No paper is planned twice: a
second entry for the same paper is skipped as a duplicate."""

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
from mllm_lab.core.resolve import Identities, doi_of, paper_dois
from mllm_lab.core.slugs import short_key as new_key
from mllm_lab.messages import tr
from mllm_lab.models import Paper, Status


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


def _identities(entry: BibEntry) -> list[tuple[str, str]]:
    """What names the entry's paper, for telling two entries of one file apart."""
    idents = []
    if entry.arxiv:
        idents.append(("arxiv", entry.arxiv))
    if entry.doi and (doi := doi_of(entry.doi)):
        idents.append(("doi", doi))
    if entry.title and squash_title(entry.title):
        idents.append(("title", squash_title(entry.title)))
    return idents


def _find(index: Identities, entry: BibEntry) -> list[Paper]:
    found = index.find(arxiv=entry.arxiv, doi=entry.doi, title=entry.title)
    return found[1] if found else []


@dataclass(eq=False, repr=False)
class _Context:
    """What the planner knows while it goes through the file."""

    lab: Identities
    catalog: Identities
    used: set[str]  # keys of the lab's papers and of papers planned so far (casefolded)
    reserved: set[str]  # keys no new paper may take: the catalog's and any reserved ones
    bibkeys: dict[str, str]  # citation key (casefolded) -> the lab key that has it
    claimed: dict[tuple[str, str], int]  # identity -> line of the entry that claimed it
    keys_seen: dict[str, int]  # citation key (casefolded) -> line of its first entry
    today: date | None


def plan_import(
    entries: Sequence[BibEntry],
    papers: Iterable[Paper],
    today: date | None = None,
    reserved: Iterable[str] = (),
    catalog: Iterable[Paper] = (),
) -> list[Planned]:
    """One decision per entry, in file order. `today` becomes a new paper's `created`;
    `reserved` keys (e.g. the catalog's) are never given to a new paper, except to the very
    paper of `catalog` that an entry names (BLIP-2's entry becomes `blip-2`, with the
    catalog's topic and stage)."""
    pool = list(papers)
    known = list(catalog)
    context = _Context(
        lab=Identities(pool),
        catalog=Identities(known),
        used={p.key.casefold() for p in pool},
        reserved={k.casefold() for k in reserved} | {p.key.casefold() for p in known},
        bibkeys={p.bibkey.casefold(): p.key for p in pool if p.bibkey},
        claimed={},
        keys_seen={},
        today=today,
    )
    plan: list[Planned] = []
    for entry in entries:
        decision = _decide(entry, context)
        context.keys_seen.setdefault(entry.bibkey.casefold(), entry.line)
        if decision.action is not Action.SKIP or decision.reason == "identical":
            for ident in _identities(entry) + _paper_identities(decision.paper):
                context.claimed.setdefault(ident, entry.line)
        if decision.paper is not None and decision.action is not Action.SKIP:
            context.used.add(decision.paper.key.casefold())
            if decision.paper.bibkey:
                context.bibkeys.setdefault(decision.paper.bibkey.casefold(), decision.paper.key)
        plan.append(decision)
    return plan


def _paper_identities(paper: Paper | None) -> list[tuple[str, str]]:
    if paper is None:
        return []
    idents = [("paper", paper.key.casefold()), ("title", squash_title(paper.title))]
    return idents + ([("arxiv", paper.arxiv)] if paper.arxiv else [])


def _decide(entry: BibEntry, context: _Context) -> Planned:
    def skip(reason: str, detail: str = "") -> Planned:
        return Planned(Action.SKIP, entry, reason=reason, detail=detail)

    if entry.bibkey.casefold() in context.keys_seen:
        return skip("duplicate-key", str(context.keys_seen[entry.bibkey.casefold()]))
    if not entry.title:
        return skip("no-title")
    for ident in _identities(entry):
        if ident in context.claimed:
            return skip("duplicate", str(context.claimed[ident]))
    found = _find(context.lab, entry)
    if len(found) > 1:
        return skip("ambiguous", ", ".join(sorted(p.key for p in found)))
    if not found:
        return _create(entry, context)
    (paper,) = found
    if ("paper", paper.key.casefold()) in context.claimed:
        return skip("duplicate", str(context.claimed["paper", paper.key.casefold()]))
    if paper.problem is not None:  # its note cannot be read: nothing is written to it
        where = f"{paper.problem.path}:{paper.problem.line}"
        return Planned(Action.SKIP, entry, paper=paper, reason="broken", detail=where)
    updated, changes = merge(paper, entry, _free_bibkey(entry, paper.key, context))
    if not changes:
        return Planned(Action.SKIP, entry, paper=paper, reason="identical")
    return Planned(Action.UPDATE, entry, paper=updated, changes=changes)


def _free_bibkey(entry: BibEntry, key: str, context: _Context) -> str | None:
    """The entry's citation key, unless another paper of the lab already has it."""
    owner = context.bibkeys.get(entry.bibkey.casefold())
    return entry.bibkey if entry.bibkey and owner in (None, key) else None


def _create(entry: BibEntry, context: _Context) -> Planned:
    """A paper for the reading list: the catalog's, when the entry names one whose key is
    free, with what the entry adds; else one made from the entry under a new short key."""
    known = _find(context.catalog, entry)
    if len(known) == 1 and known[0].key.casefold() not in context.used:
        base = known[0]._replace(status=Status.UNREAD, created=context.today)
        paper, _changes = merge(base, entry, _free_bibkey(entry, base.key, context))
        return Planned(Action.CREATE, entry, paper=paper)
    assert entry.title is not None
    key = new_key(entry.title, context.used | context.reserved)
    paper = _new_paper(entry, key, context.today)
    bibkey = _free_bibkey(entry, key, context)
    return Planned(Action.CREATE, entry, paper=paper._replace(bibkey=bibkey))


def _new_paper(entry: BibEntry, key: str, today: date | None) -> Paper:
    assert entry.title is not None
    return Paper(
        key=key,
        title=entry.title,
        authors=entry.authors,
        year=entry.year,
        venue=entry.venue,
        arxiv=entry.arxiv,
        doi=_entry_doi(entry),
        url=_entry_url(entry),
        created=today,
    )


def _entry_doi(entry: BibEntry) -> str | None:
    """The entry's DOI worth keeping: not arXiv's own (the arXiv id already says it)."""
    if not entry.doi or (entry.arxiv and doi_of(entry.doi) == doi_of(arxiv_doi(entry.arxiv))):
        return None
    return entry.doi


def _entry_url(entry: BibEntry) -> str | None:
    """A URL worth keeping: the entry's own, unless it is only the arXiv page or the DOI's
    (Paper.link gives those from `arxiv` and `doi`)."""
    if not entry.url or (entry.arxiv and parse_arxiv_id(entry.url) == entry.arxiv):
        return None
    if entry.doi and doi_of(entry.url) == doi_of(entry.doi):
        return None
    return entry.url


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


def merge(
    paper: Paper, entry: BibEntry, bibkey: str | None = None
) -> tuple[Paper, tuple[str, ...]]:
    """The paper with what the entry adds, and the names of the fields that changed: gaps
    filled (a fuller author list, year, venue, arXiv id, DOI, URL, the citation key `bibkey`),
    nothing the lab already has overwritten."""
    changes: dict[str, Any] = {}
    if fuller_authors(entry.authors, paper.authors):
        changes["authors"] = entry.authors
    for field in ("year", "venue", "arxiv"):
        if getattr(paper, field) is None and getattr(entry, field) is not None:
            changes[field] = getattr(entry, field)
    doi = _entry_doi(replace(entry, arxiv=changes.get("arxiv", paper.arxiv)))
    if paper.doi is None and doi and doi_of(doi) not in paper_dois(paper):
        changes["doi"] = doi
    url = _entry_url(entry)
    arxiv = changes.get("arxiv", paper.arxiv)
    if paper.url is None and url and not (arxiv and parse_arxiv_id(url) == arxiv):
        changes["url"] = url
    if paper.bibkey is None and bibkey:
        changes["bibkey"] = bibkey
    return paper._replace(**changes), tuple(changes)
