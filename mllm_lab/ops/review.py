"""`lab review`: the review note of prompt 6, written into reviews/, and `lab next`."""

from __future__ import annotations

from datetime import date
from typing import Any

from mllm_lab import kinds
from mllm_lab.core import fm, markdown
from mllm_lab.core.labdata import LabData
from mllm_lab.core.links import edges
from mllm_lab.core.review import (
    Question,
    concept_map,
    directions,
    map_notes,
    questions,
    weak_spots,
)
from mllm_lab.core.views import relative_link
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


def empty_sections(ws: Workspace, data: LabData) -> dict[str, list[str]]:
    """Notes whose required sections are still as the template left them."""
    details = ws.details([n.path for n in data.notes if n.kind.study])
    result: dict[str, list[str]] = {}
    for kind in kinds.STUDY:
        template = template_signatures(ws, kind)
        required = {title for title, _sig in template.items()}
        for note in data.by_kind(kind):
            empty = [
                title
                for level, title, _line, sig in details.get(note.path, {}).get("headings", [])
                if level >= 2 and title in required and (sig == "" or sig == template.get(title))
            ]
            if empty:
                result[note.path] = empty
    return result


def _question_sources(ws: Workspace, notes: list[Note]) -> list[tuple[Note, dict[str, str]]]:
    """The interview-answer and misconception sections of the notes that have them written."""
    wanted = {tr("section.interview", ws.lang), tr("section.misconceptions", ws.lang)}
    sources = []
    for note in notes:
        if note.kind is not kinds.CONCEPT:
            continue
        try:
            body = fm.parse(ws.read(note.path), note.path).body
        except Exception:
            continue
        found = {s.title: s.content for s in markdown.sections(body) if s.title in wanted}
        if found:
            sources.append((note, found))
    return sources


def review(
    ws: Workspace, *, since: date | None, seed: int | None, force: bool, dry_run: bool
) -> Created:
    path = f"reviews/review-{ws.today.isoformat()}.md"
    data = ws.data()
    notes = map_notes(data, since)

    def link(target: str) -> str:
        return relative_link(path, target) if target and "://" not in target else target

    drawn: list[Question] = questions(
        notes=_question_sources(ws, notes),
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
        "mermaid": concept_map(notes, edges(notes, ws.details([n.path for n in notes])), ws.lang),
        "weak_spots": weak_spots(
            data=data,
            today=ws.today,
            lang=ws.lang,
            empty_sections=empty_sections(ws, data),
            link=link,
        ),
        "questions": drawn,
        "directions": directions(data, ws.today, ws.lang),
    }
    text = ws.render(f"{ws.lang}/review.md.j2", context)
    with ws.transaction(dry_run=dry_run) as tx:
        tx.create(path, text, force=force)
    return Created(path, text, tx.outcomes)
