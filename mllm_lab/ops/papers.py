"""Paper status, stored once: in the note's frontmatter when the paper has a note, else in
papers/reading-list.yaml. `mark` and `add` change it; the views are regenerated after."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from mllm_lab.core import fm
from mllm_lab.core.papers import (
    exact_matches,
    find_paper,
    paper_to_meta,
    parse_status,
    status_fields,
    with_status,
)
from mllm_lab.core.roadmap import TOPIC_BY_KEY
from mllm_lab.errors import BrokenNote
from mllm_lab.models import READING_LIST, Paper, Status
from mllm_lab.ops.workspace import Outcome, Workspace

READING_LIST_HEADER = (
    "# Reading list: papers that have no note yet, with their status (unread/reading/read).\n"
    "# Written by `lab add paper` and `lab mark`; editing it by hand is fine (comments are not kept).\n"
    "# When a paper gets a note (`lab new paper KEY`), its entry moves into the note's frontmatter.\n"
)


def reading_list_entries(ws: Workspace) -> list[dict[str, Any]]:
    if not ws.exists(READING_LIST):
        return []
    text = ws.read(READING_LIST)
    yaml_error, _ = fm.yaml_errors()
    try:
        data = fm.load_yaml(text) if text.strip() else {}
    except yaml_error as error:
        mark = getattr(error, "problem_mark", None)
        raise BrokenNote(
            READING_LIST, (mark.line + 1) if mark else 1, f"not valid YAML: {error}"
        ) from None
    entries = (data or {}).get("papers") if isinstance(data, dict) or data is None else None
    if entries is None and data:
        raise BrokenNote(READING_LIST, 1, "expected `papers:` followed by a list of papers")
    return [dict(entry) for entry in entries or [] if isinstance(entry, dict)]


def reading_list_text(entries: Iterable[dict[str, Any]]) -> str:
    return READING_LIST_HEADER + fm.dump({"papers": list(entries)})


def list_entry(paper: Paper) -> dict[str, Any]:
    meta = paper_to_meta(paper)
    return {k: v for k, v in meta.items() if v not in (None, [], "") or k == "status"}


def write_reading_list(ws: Workspace, entries: list[dict[str, Any]]) -> Outcome:
    return ws.write(READING_LIST, reading_list_text(entries))


def save_status(ws: Workspace, paper: Paper) -> Outcome:
    """Write a paper's status and dates to the one place that holds them."""
    if paper.note:
        text = ws.read(paper.note)
        outcome = ws.write(
            paper.note, fm.set_fields(text, status_fields(paper), paper.note), keep_data=True
        )
        ws.replace_paper(paper)
        return outcome
    entries = reading_list_entries(ws)
    for entry in entries:
        if str(entry.get("key", "")).casefold() == paper.key.casefold():
            entry.update(status_fields(paper))
            for field in ("started", "finished"):
                if entry[field] is None:
                    del entry[field]
            break
    else:
        entries.append(list_entry(paper))
    return write_reading_list(ws, entries)


@dataclass(frozen=True)
class Marked:
    before: Paper
    after: Paper
    outcomes: list[Outcome]


def mark(ws: Workspace, query: str, status_text: str) -> Marked:
    from mllm_lab.ops.views import sync_views, take_in_hand_edits

    status = parse_status(status_text)
    with ws.lock():
        taken = take_in_hand_edits(ws)
        paper = find_paper(query, ws.data().papers)
        after = with_status(paper, status, ws.today)
        outcomes = list(taken)
        if after != paper:
            outcomes.append(save_status(ws, after))
        outcomes += sync_views(ws)
    return Marked(paper, after, outcomes)


def resolve(query: str, lab_papers: Iterable[Paper]) -> tuple[Paper | None, str]:
    """A paper for `new paper` / `add paper`: the lab's own (exact match) first, then the
    catalog. Returns (paper, where) with where in {"lab", "catalog", ""}."""
    from mllm_lab.catalog import catalog

    exact = exact_matches(query, lab_papers)
    if len({p.key for p in exact}) == 1:
        return exact[0], "lab"
    known = exact_matches(query, catalog())
    if len({p.key for p in known}) == 1:
        return known[0], "catalog"
    return None, ""


@dataclass(frozen=True)
class PaperFacts:
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
    from mllm_lab.core.papers import arxiv_id
    from mllm_lab.errors import BadInput, InvalidValue

    changes: dict[str, Any] = {}
    if facts.arxiv is not None:
        found = arxiv_id(facts.arxiv)
        if found is None:
            raise BadInput(f"invalid arXiv id {facts.arxiv!r}: expected e.g. 2301.12597")
        changes["arxiv"] = found
        if paper.url is None or "arxiv.org" in (paper.url or ""):
            changes["url"] = f"https://arxiv.org/abs/{found}"
    if facts.authors is not None:
        changes["authors"] = tuple(a.strip() for a in facts.authors.split(",") if a.strip())
    if facts.year is not None:
        changes["year"] = facts.year
    if facts.venue is not None:
        changes["venue"] = facts.venue or None
    if facts.topic is not None:
        topic = facts.topic.strip()
        if not topic or not all(ch.isalnum() or ch == "-" for ch in topic):
            raise InvalidValue("topic", topic, list(TOPIC_BY_KEY))
        changes["topic"] = topic
        if facts.stage is None and topic in TOPIC_BY_KEY and paper.stage is None:
            changes["stage"] = TOPIC_BY_KEY[topic].stage
    if facts.stage is not None:
        if facts.stage not in (1, 2, 3, 4, 5):
            raise InvalidValue("stage", facts.stage, ["1", "2", "3", "4", "5"])
        changes["stage"] = facts.stage
    if facts.tags is not None:
        changes["tags"] = tuple(t.strip() for t in facts.tags.split(",") if t.strip())
    if facts.status is not None:
        changes["status"] = parse_status(facts.status)
    return replace(paper, **changes)


def new_paper_from_title(title: str, key: str) -> Paper:
    return Paper(key=key, title=title, topic="other", status=Status.UNREAD)


def add_paper(
    ws: Workspace, query: str, facts: PaperFacts, key: str | None = None
) -> tuple[Paper, list[Outcome], bool]:
    """Put a paper on the reading list (unread unless --status) without a note.
    Returns (paper, outcomes, added); `added` is False when the lab already has it."""
    from mllm_lab.core.slugs import check_slug, slugify
    from mllm_lab.ops.views import sync_views, take_in_hand_edits

    with ws.lock():
        outcomes = take_in_hand_edits(ws)
        found, where = resolve(query, ws.data().papers)
        if where == "lab" and found is not None:
            return found, outcomes, False
        paper = found or new_paper_from_title(
            query.strip(), check_slug(key) if key else slugify(query)
        )
        if key:
            paper = replace(paper, key=check_slug(key))
        paper = apply_facts(paper, facts)
        if paper.status is not Status.UNREAD:
            paper = with_status(replace(paper, status=Status.UNREAD), paper.status, ws.today)
        entries = reading_list_entries(ws)
        entries.append(list_entry(paper))
        outcomes.append(write_reading_list(ws, entries))
        outcomes += sync_views(ws)
    return paper, outcomes, True
