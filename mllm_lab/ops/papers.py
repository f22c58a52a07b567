"""Paper status, stored once: in the note's frontmatter when the paper has a note, else in
papers/reading-list.yaml. `mark` and `add` change it, inside the one transaction."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from mllm_lab.core import fmedit, readinglist
from mllm_lab.core.labdata import LabData
from mllm_lab.core.papers import (
    arxiv_id,
    check_stage,
    paper_to_meta,
    parse_status,
    status_fields,
    with_status,
)
from mllm_lab.core.resolve import (
    definite,
    described,
    exact_match,
    lab_first,
    near,
    rank,
    resolve_one,
    suggest,
)
from mllm_lab.core.roadmap import TOPIC_BY_KEY
from mllm_lab.core.slugs import check_slug, short_key, slugify, title_of, unique_key
from mllm_lab.errors import BadInput, BrokenNote, InvalidValue, PaperNotFound
from mllm_lab.models import READING_LIST, Paper, Status
from mllm_lab.ops.workspace import Outcome, Workspace

if TYPE_CHECKING:
    from mllm_lab.messages import Msg
    from mllm_lab.ops.lookup import Fetched
    from mllm_lab.ops.transaction import Transaction


def reading_list(tx: Transaction) -> readinglist.ReadingList:
    """The reading list as the transaction leaves it; BrokenNote if it cannot be read."""
    text = tx.read(READING_LIST)
    return readinglist.parse(text or "")


def may_be_listed(tx: Transaction, key: str) -> bool:
    """Whether the reading list may hold `key`, by the index's keys of its entries: only then
    is the list parsed. (A list with a finding or an entry without a key is parsed anyway.)"""
    data = tx.data
    if any(f.path == READING_LIST for f in data.findings):
        return True
    wanted = key.casefold()
    return any(not listed or listed.casefold() == wanted for listed, _line in data.listed)


def list_entry(paper: Paper) -> dict[str, Any]:
    meta = paper_to_meta(paper)
    return {k: v for k, v in meta.items() if v not in (None, [], "") or k == "status"}


def save_status(tx: Transaction, paper: Paper, detail: str = "") -> Outcome:
    """Write a paper's status and dates to the one place that holds them, changing only
    those fields' values."""
    if paper.note:
        text = tx.read(paper.note)
        if text is None:
            raise BrokenNote(paper.note, 1, "error.gone")
        return tx.write(
            paper.note, fmedit.set_fields(text, status_fields(paper), paper.note), detail=detail
        )
    listed = reading_list(tx)
    index = readinglist.find(listed, paper.key)
    if index is None:
        listed = readinglist.append(listed, list_entry(paper))
    else:
        listed = readinglist.set_fields(listed, index, status_fields(paper))
    return tx.write(READING_LIST, listed.text, detail=detail)


def refuse_broken(query: str, papers: Iterable[Paper]) -> None:
    """A query naming a paper whose note (or list entry) cannot be read is refused with
    that file's `path:line`, so no second entry is ever made for it."""
    for paper in papers:
        if paper.problem and exact_match(" ".join(query.split()), paper) is not None:
            where = paper.problem
            name = "error.broken_paper" if paper.note else "error.broken_entry"
            if where.msg.name == "paper.duplicate_key":  # its note reads: another holds its key
                name = "error.key_twice"
            raise BrokenNote(where.path, where.line, name, problem=where.msg, key=paper.key)


def refuse_unreadable_list(data: LabData) -> None:
    """While the reading list cannot be read, its papers cannot be found: say so."""
    problem = data.reading_list_problem
    if problem is not None:
        raise BrokenNote(
            problem.path, problem.line, "error.reading_list_broken", problem=problem.msg
        )


def find_in_lab(query: str, papers: list[Paper], skipped: Mapping[str, Msg] | None = None) -> Paper:
    """The lab's paper `query` names (see core/resolve.py); a paper only the catalog has is
    named as such, with the command that adds it. `skipped`: the files the walk did not read
    (a symlink that leads nowhere or out of the lab) and why: one where the paper's note
    would be is named, not taken for a paper the lab lacks or has on its list alone."""
    refuse_broken(query, papers)
    named = " ".join(query.split())
    if skipped and not any(
        paper.key.casefold() == named.casefold() and paper.note for paper in papers
    ):
        _refuse_skipped_note(skipped, named)  # before a prefix or a title finds another paper
    try:
        paper = resolve_one(query, papers)
    except PaperNotFound:
        from mllm_lab.catalog import catalog

        known = definite(query, catalog())
        if known is not None:  # the query itself was looked for above
            _refuse_skipped_note(skipped, known.key)
            raise BadInput(
                "error.paper_not_in_lab", paper=described(known), key=known.key
            ) from None
        raise
    if paper.problem:
        refuse_broken(paper.key, [paper])
    if paper.note is None:
        _refuse_skipped_note(skipped, paper.key)
    return paper


def _refuse_skipped_note(skipped: Mapping[str, Msg] | None, *keys: str) -> None:
    """A skipped file named KEY.md in papers/ (or a folder of it) is the note of paper KEY."""
    for key in keys:
        for path, why in (skipped or {}).items():
            name = posixpath.basename(path).casefold()  # keys are found whatever their case
            if path.startswith("papers/") and name == f"{key}.md".casefold():
                raise BrokenNote(path, 1, "error.skipped_note", problem=why, key=key)


class Marked(NamedTuple):
    before: Paper
    after: Paper
    outcomes: list[Outcome]


def mark(ws: Workspace, query: str, status_text: str) -> Marked:
    status = parse_status(status_text)
    with ws.transaction() as tx:
        refuse_unreadable_list(tx.data)
        paper = find_in_lab(query, tx.data.papers, dict(ws.walked().problems))
        after = with_status(paper, status, ws.today)
        if after != paper:
            save_status(tx, after)
    return Marked(paper, after, tx.outcomes)


def lookup(query: str, lab_papers: Iterable[Paper]) -> tuple[Paper, str]:
    """The paper `query` names, the lab's own before the catalog's: (paper, "lab"|"catalog");
    PaperNotFound with the closest candidates of both."""
    pool, lab_keys = _pool(query, lab_papers)
    found = definite(query, pool)
    if found is None:
        text = " ".join(query.split())
        raise PaperNotFound(query, suggest(rank(text, pool) if text else []))
    return found, "lab" if found.key in lab_keys else "catalog"


def resolve(
    query: str, lab_papers: Iterable[Paper], *, new: bool = False
) -> tuple[Paper | None, str]:
    """A paper for `new paper` / `add paper`: the lab's own first, then the catalog's, by key,
    arXiv id, URL, title or unique prefix (with `new`, exact names only). Returns (paper, where)
    with where in {"lab", "catalog"}, or (None, "") for a paper neither knows; a query close to
    a known paper (a typo of it) is refused unless `new` says it is really a new one."""
    pool, lab_keys = _pool(query, lab_papers)
    found = definite(query, pool, exact_only=new)
    if found is not None:
        return found, "lab" if found.key in lab_keys else "catalog"
    close = [] if new else near(query, pool)
    if close:
        shown = ", ".join(described(paper) for paper in close[:5])
        raise BadInput("error.paper_close", query=repr(query.strip()), shown=shown)
    return None, ""


def _pool(query: str, lab_papers: Iterable[Paper]) -> tuple[list[Paper], set[str]]:
    from mllm_lab.catalog import catalog  # parses the catalog's YAML: only when asked

    lab = list(lab_papers)
    refuse_broken(query, lab)
    return lab_first(lab, catalog()), {paper.key for paper in lab}


class PaperFacts(NamedTuple):
    """What the user gave on the command line; None means "not given"."""

    arxiv: str | None = None
    authors: str | None = None
    year: int | None = None
    venue: str | None = None
    topic: str | None = None
    stage: int | None = None
    tags: str | None = None
    status: str | None = None


def apply_facts(paper: Paper, facts: PaperFacts) -> Paper:
    changes: dict[str, Any] = {}
    if facts.arxiv is not None:
        found = arxiv_id(facts.arxiv)
        if found is None:
            raise BadInput("error.bad_arxiv", value=repr(facts.arxiv))
        changes["arxiv"] = found
        if paper.url is None or "arxiv.org" in (paper.url or ""):
            changes["url"] = f"https://arxiv.org/abs/{found}"
    if facts.authors is not None:
        changes["authors"] = tuple(a.strip() for a in facts.authors.split(",") if a.strip())
    if facts.year is not None:
        if not 1900 <= facts.year <= 2100:
            raise BadInput("error.bad_year", value=facts.year)
        changes["year"] = facts.year
    if facts.venue is not None:
        changes["venue"] = " ".join(facts.venue.split()) or None
    if facts.topic is not None:
        topic = facts.topic.strip()
        if not topic or not all(ch.isalnum() or ch == "-" for ch in topic):
            raise InvalidValue("topic", topic, list(TOPIC_BY_KEY))
        changes["topic"] = topic
        if facts.stage is None and topic in TOPIC_BY_KEY and paper.stage is None:
            changes["stage"] = TOPIC_BY_KEY[topic].stage
    if facts.stage is not None:
        changes["stage"] = check_stage(facts.stage)
    if facts.tags is not None:
        changes["tags"] = tuple(t.strip() for t in facts.tags.split(",") if t.strip())
    if facts.status is not None:
        changes["status"] = parse_status(facts.status)
    return paper._replace(**changes)


def new_paper_from_query(
    query: str, key: str | None, lab_papers: Iterable[Paper], fetched: Fetched | None = None
) -> Paper:
    """A paper neither the lab nor the catalog knows. An arXiv id or URL is recorded as such,
    with what arXiv said (`fetched`) or, offline, with its id for a title until the user gives
    one; otherwise the query is the title. Its key is `key`, checked, or a short one made from
    the title (the id's, offline), unique in lab and catalog."""
    from mllm_lab.catalog import catalog

    arxiv = arxiv_id(query)
    known = fetched.title if fetched is not None else None
    title = known or (f"arXiv:{arxiv}" if arxiv else title_of(query))
    if key is None:
        taken = {p.key.casefold() for p in lab_papers} | {p.key.casefold() for p in catalog()}
        key = short_key(title, taken) if known or not arxiv else unique_key(slugify(arxiv), taken)
    paper = Paper(key=check_slug(key), title=title, topic="other", status=Status.UNREAD)
    if arxiv:
        paper = paper._replace(arxiv=arxiv, url=f"https://arxiv.org/abs/{arxiv}")
    if fetched is not None and fetched.found:
        paper = paper._replace(authors=fetched.authors, year=fetched.year)
    return paper


def check_new_key(key: str, found: Paper | None, lab_papers: Iterable[Paper]) -> str:
    """`--key` for a paper: a valid slug no other paper of the lab or the catalog holds; a
    paper the lab already has keeps its key."""
    from mllm_lab.catalog import catalog

    key = check_slug(key)
    for paper in lab_papers:
        if paper.key.casefold() == key.casefold() and paper is not found:
            raise BadInput("error.key_taken", key=key, by=paper.note or READING_LIST)
        if paper is found and paper.key.casefold() != key.casefold():
            raise BadInput("error.key_rename", key=paper.key, new=key)
    for paper in catalog():
        if paper.key.casefold() == key.casefold() and (found is None or paper.key != found.key):
            raise BadInput("error.key_is_catalog", key=key, paper=described(paper))
    return key


def add_paper(
    ws: Workspace,
    query: str,
    facts: PaperFacts,
    *,
    key: str | None = None,
    new: bool = False,
    fetched: Fetched | None = None,
) -> tuple[Paper, list[Outcome], bool]:
    """Put a paper on the reading list (unread unless --status) without a note.
    Returns (paper, outcomes, added); `added` is False when the lab already has it."""
    title_of(query)
    with ws.transaction() as tx:
        lab = tx.data.papers
        found, where = resolve(query, lab, new=new)
        if key is not None:
            key = check_new_key(key, found if where == "lab" else None, lab)
        if where == "lab" and found is not None:
            return found, tx.outcomes, False
        paper = found or new_paper_from_query(query, key, lab, fetched)
        if key is not None:
            paper = paper._replace(key=key)
        paper = apply_facts(paper, facts)
        if paper.status is not Status.UNREAD:
            paper = with_status(paper._replace(status=Status.UNREAD), paper.status, ws.today)
        listed = readinglist.append(reading_list(tx), list_entry(paper))
        tx.write(READING_LIST, listed.text)
    return paper, tx.outcomes, True
