"""What a prompt says about the lab: the facts, related notes, open problems and relations
`lab prompt` fills its template with. Imported only when a prompt is made, not when one kept in
the result cache is shown."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mllm_lab import kinds
from mllm_lab.core import fm
from mllm_lab.core.labdata import LabData
from mllm_lab.core.links import href
from mllm_lab.core.markdown import link
from mllm_lab.core.problems import weekly_problems
from mllm_lab.core.related import Related
from mllm_lab.core.roadmap import STAGES, category_name, stage_name, stage_of_title
from mllm_lab.core.slugs import slugify
from mllm_lab.core.views import week_activity
from mllm_lab.errors import BadInput, InvalidValue, LabError
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import tr
from mllm_lab.models import CATEGORY_STAGE, Note, Status, Week
from mllm_lab.ops.notes import paper_context
from mllm_lab.ops.papers import lookup
from mllm_lab.ops.related import find as find_related_notes
from mllm_lab.ops.related import why
from mllm_lab.ops.review import review_links, review_path
from mllm_lab.ops.workspace import Workspace


def _paper_context(ws: Workspace, data: LabData, target: str | None) -> dict[str, Any]:

    if not target:
        raise BadInput("error.prompt_paper")
    paper, _where = lookup(target, data.papers)
    note_path = paper.note or f"papers/{paper.key}.md"
    return {**paper_context(ws, paper), "note_path": note_path, "note_exists": ws.exists(note_path)}


def _find_note(data: LabData, target: str) -> Note | None:

    wanted = target.strip().casefold().removesuffix(".md")
    for note in data.notes:
        if note.kind is kinds.CONCEPT and wanted in {
            note.path.casefold().removesuffix(".md"),
            note.title.casefold(),
            note.path.rsplit("/", 1)[-1][:-3].casefold(),
        }:
            return note
    return None


def _related(ws: Workspace, found: list[Related], from_file: str) -> list[dict[str, str]]:
    """Related notes for a prompt: title, lab path, the link to write in `from_file`, why."""
    return [
        {
            "title": r.title,
            "path": r.path,
            "link": link(r.title, href(from_file, r.path)),
            "why": why(r, ws.lang),
        }
        for r in found
    ]


def guess_category(data: LabData, title: str, found: list[Related]) -> str:
    """The category of a new concept note: the roadmap stage its title names, else that of
    its most related concept notes, else the first."""
    stage = stage_of_title(title)
    by_stage = {number: category for category, number in CATEGORY_STAGE.items()}
    if stage in by_stage:
        return by_stage[stage]
    by_path = {n.path: n for n in data.notes}
    votes: Counter[str] = Counter()
    for rank, r in enumerate(found):
        note = by_path.get(r.path)
        if note is not None and note.kind is kinds.CONCEPT and note.category in CATEGORIES:
            votes[note.category] += len(found) - rank
    if votes:
        return max(votes, key=lambda c: (votes[c], -CATEGORIES.index(c)))
    return CATEGORIES[0]


def _concept_context(
    ws: Workspace, data: LabData, target: str | None, category: str | None
) -> dict[str, Any]:

    if not target:
        raise BadInput("error.prompt_concept")
    if category is not None and category not in CATEGORIES:
        raise InvalidValue("category", category, CATEGORIES)
    note = _find_note(data, target)
    title = note.title if note else target.strip()
    tags = note.tags if note else ()
    guessed = note is None and category is None
    if note is not None:
        category = note.category or category
    elif category is None:
        first = find_related_notes(ws, data, title=title, tags=tags)
        category = guess_category(data, title, first)
    note_path = note.path if note else f"notes/{category}/{slugify(title)}.md"
    found = find_related_notes(ws, data, title=title, tags=tags, note=note, path=note_path)
    questions = ws.details([note.path]).get(note.path, {}).get("questions", []) if note else []
    return {
        "title": title,
        "category": category,
        "category_name": category_name(category or "", ws.lang),
        "category_guessed": guessed,
        "categories": list(CATEGORIES),
        "folder": f"notes/{category}/",
        "note_path": note_path,
        "note_exists": note is not None,
        "related": _related(ws, found, note_path),
        "questions": [{"line": line, "text": text} for line, text in questions],
    }


def _experiment_context(ws: Workspace, data: LabData, target: str | None) -> dict[str, Any]:

    if not target:
        raise BadInput("error.prompt_experiment")
    slug = slugify(target)
    notebook = f"experiments/notebooks/{slug}.ipynb"
    found = find_related_notes(ws, data, title=target.strip(), path=notebook)
    return {
        "title": target.strip(),
        "notebook_path": notebook,
        "script_path": f"experiments/scripts/{slug}.py",
        "notebook_exists": ws.exists(notebook),
        "related": _related(ws, found, notebook),
    }


def _log_problems(ws: Workspace, log_path: str) -> list[dict[str, Any]]:
    """The problems written in the week's own log: its problems table (or list)."""
    if not ws.exists(log_path):
        return []
    try:
        parsed = fm.parse(ws.read(log_path), log_path)
    except (LabError, OSError):
        return []
    titles = [tr("section.weekly_problems", ws.lang)]
    return [
        {"text": p.text, "idea": p.idea, "path": log_path, "line": p.line + parsed.body_line - 1}
        for p in weekly_problems(parsed.body, titles)
    ]


def _weekly_context(ws: Workspace, data: LabData, week: Week) -> dict[str, Any]:

    activity = week_activity(
        week=week,
        papers=data.papers,
        notes=data.notes_created(week.monday, week.sunday),
        experiments=data.experiments,
    )
    done = [
        tr(
            "prompt.done_item",
            ws.lang,
            what=tr(f"prompt.{item.kind}", ws.lang),
            title=item.title,
            where=item.path or item.url or "",
            day=item.day,
        )
        for item in activity
    ]
    log_path = week.log_path
    touched = sorted({item.path for item in activity if item.path} | {log_path})
    details = ws.details(touched)
    problems = _log_problems(ws, log_path)
    seen = {(p["path"], p["line"]) for p in problems}
    problems += [
        {"text": text, "idea": "", "path": path, "line": line}
        for path in touched
        for line, text in details.get(path, {}).get("questions", [])
        if (path, line) not in seen
    ]
    return {
        "week": week.name,
        "monday": week.monday.isoformat(),
        "sunday": week.sunday.isoformat(),
        "done": done,
        "problems": problems,
        "log_path": log_path,
        "log_exists": ws.exists(log_path),
    }


def _review_context(ws: Workspace, data: LabData) -> dict[str, Any]:

    by_note = data.paper_notes()
    notes = [n for n in data.notes if n.kind.study]
    stages = []
    for number in [*(s.number for s in STAGES), None]:
        members = sorted((n for n in notes if n.stage == number), key=lambda n: n.path)
        if number is None and not members:
            continue
        stages.append(
            {
                "name": stage_name(number, ws.lang),
                "notes": [
                    {
                        "title": n.title,
                        "path": n.path,
                        "status": tr(f"prompt.status.{by_note[n.path].status.value}", ws.lang)
                        if n.path in by_note
                        else "",
                    }
                    for n in members
                ],
            }
        )
    return {
        "stages": stages,
        "notes_total": len(notes),
        "papers_total": len(data.papers),
        "papers_read": sum(p.status is Status.READ for p in data.papers),
        "links": review_links(ws, data),
        "review_path": review_path(ws),
        "review_exists": ws.exists(review_path(ws)),
    }


def render(
    ws: Workspace, kind: str, target: str | None, *, week: Week | None, category: str | None
) -> str:

    data = ws.data()
    context: dict[str, Any] = {"lab_name": ws.lab.config.name, "today": ws.today.isoformat()}
    if kind == "init":
        context |= {
            "stages": [{"name": s.name(ws.lang)} for s in STAGES],
            "papers_total": len(data.papers),
            "notes_total": sum(n.kind.study for n in data.notes),
        }
    elif kind == "paper":
        context |= _paper_context(ws, data, target)
    elif kind == "concept":
        context |= _concept_context(ws=ws, data=data, target=target, category=category)
    elif kind == "experiment":
        context |= _experiment_context(ws, data, target)
    elif kind == "weekly":
        context |= _weekly_context(ws, data, week or Week.of(ws.today))
    else:
        context |= _review_context(ws, data)
    return ws.render(f"prompts/{ws.lang}/{kind}.md.j2", context)
