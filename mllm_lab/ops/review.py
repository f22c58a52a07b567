"""`lab review`: the review note of prompt 6, written into reviews/, and `lab next`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from mllm_lab import kinds
from mllm_lab.core import fm, markdown
from mllm_lab.core.conceptmap import MAX_EDGES, Edge, maps, relations
from mllm_lab.core.labdata import LabData
from mllm_lab.core.links import edges, href
from mllm_lab.core.review import (
    Question,
    directions,
    map_notes,
    questions,
    weak_spots,
)
from mllm_lab.kinds import NoteKind
from mllm_lab.messages import tr
from mllm_lab.models import Note, Status
from mllm_lab.ops.notes import Created
from mllm_lab.ops.sections import sample_context
from mllm_lab.ops.workspace import Workspace


def template_signatures(ws: Workspace, kind: NoteKind) -> dict[str, str]:
    """Each section of a kind's template as rendered: a note section equal to it is unwritten."""
    body = ws.render(f"{ws.lang}/{kind.template}", sample_context(ws, kind))
    parsed = fm.parse(body, "template")
    return {
        s.title: markdown.section_signature(s.content, "Sample")
        for s in markdown.sections(parsed.body)
    }


@dataclass
class Bodies:
    """What the review reads off its notes' bodies, from the details store in one pass."""

    empty: dict[str, list[str]]  # study note -> its sections still as the template left them
    sources: list[tuple[Note, dict[str, str]]]  # map concept notes with question sections
    links: dict[str, dict[str, Any]]  # map note -> {"links": its links}


def read_bodies(ws: Workspace, data: LabData, shown: list[Note]) -> Bodies:
    """Every study note's unwritten sections; for the notes on the map, their links and the
    written interview-answer and misconception sections (the self-test questions' sources)."""
    templates = {kind: template_signatures(ws, kind) for kind in kinds.STUDY}
    wanted = {tr("section.interview", ws.lang), tr("section.misconceptions", ws.lang)}
    study = {n.path: n for n in data.notes if n.kind.study}
    on_map = {n.path for n in shown}
    bodies = Bodies(empty={}, sources=[], links={})
    for path, detail in ws.each_detail(study):
        note = study[path]
        template = templates[note.kind]
        empty = [
            title
            for level, title, _line, sig in detail.get("headings", [])
            if level >= 2 and title in template and (sig == "" or sig == template.get(title))
        ]
        if empty:
            bodies.empty[path] = empty
        if path in on_map:
            bodies.links[path] = {"links": detail.get("links", [])}
            found = {t: c for t, c in detail.get("sections", {}).items() if t in wanted}
            if found and note.kind is kinds.CONCEPT:
                bodies.sources.append((note, found))
    return bodies


def map_edges(data: LabData, notes: list[Note], details: Mapping[str, Any]) -> list[Edge]:
    """The relations between `notes` a concept map draws, from their links (`details`:
    path -> {"links": …}) and what the lab knows of them."""
    keys = {p.key: p.note for p in data.papers if p.note}
    return relations(notes, edges(notes, details), keys)


def review_links(ws: Workspace, data: LabData) -> list[dict[str, str]]:
    """For the review prompt: the relations the overview map draws (title -> title)."""
    notes = map_notes(data, None)
    diagram_edges = map_edges(data, notes, ws.details([n.path for n in notes]))
    shown = set(maps(notes, diagram_edges, ws.lang)[0].paths)
    titles = {n.path: n.title for n in notes}
    return [
        {"source": titles[e.source], "target": titles[e.target], "kind": e.kind}
        for e in diagram_edges
        if e.source in shown and e.target in shown
    ][:MAX_EDGES]


def review(
    ws: Workspace, *, since: date | None, seed: int | None, force: bool, dry_run: bool
) -> Created:
    """Write the review note; its text is kept while nothing it is made from changed (the
    lab's files and templates, today, --since, --seed)."""
    path = review_path(ws)
    text = ws.cached(
        "review",
        lambda: review_text(ws, since=since, seed=seed),
        since.isoformat() if since else None,
        seed,
        ws.templates_stamp(),
    )
    with ws.transaction(dry_run=dry_run) as tx:
        tx.create(path, text, force=force)
    return Created(path, text, tx.outcomes)


def review_path(ws: Workspace) -> str:
    return kinds.REVIEW.pattern.format(date=ws.today.isoformat())


def review_text(ws: Workspace, *, since: date | None, seed: int | None) -> str:
    path = review_path(ws)
    data = ws.data()
    notes = map_notes(data, since)

    def link(target: str) -> str:
        return href(path, target) if target and "://" not in target else target

    bodies = read_bodies(ws, data, notes)
    diagrams = maps(notes, map_edges(data, notes, bodies.links), ws.lang)
    drawn: list[Question] = questions(
        notes=bodies.sources,
        data=data,
        lang=ws.lang,
        seed=seed if seed is not None else ws.today.toordinal(),
        link=link,
    )
    meta: dict[str, Any] = {
        "title": tr("review.title", ws.lang, day=ws.today.isoformat()),
        "kind": "review",
        "created": ws.today,
        "since": since,
        "notes": len(notes),
    }
    context = {
        "frontmatter": fm.dump(meta),
        "today": ws.today.isoformat(),
        "scope": (
            f"{since.isoformat()} ~ {ws.today.isoformat()}"
            if since
            else tr("review.all_notes", ws.lang)
        ),
        "notes_count": len(notes),
        "papers_read": sum(p.status is Status.READ for p in data.papers),
        "papers_total": len(data.papers),
        "maps": diagrams,
        "mermaid": diagrams[0].mermaid,  # a lab's own template from before there were maps
        "weak_spots": weak_spots(
            data=data,
            today=ws.today,
            lang=ws.lang,
            empty_sections=bodies.empty,
            link=link,
        ),
        "questions": drawn,
        "directions": directions(data, ws.today, ws.lang),
    }
    return ws.render(f"{ws.lang}/review.md.j2", context)
