"""`lab prompt KIND [TARGET]`: the seed's six prompts with every placeholder filled from the
lab (the paper's facts, related notes, the week's work, the note list), logged in Prompt_log.md."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData
    from mllm_lab.models import Note, Week
    from mllm_lab.ops.workspace import Workspace

# The prompt's facts are gathered with the lab's data and the core, imported where they are
# needed: a prompt kept in the result cache (and its log line) needs none of them.

KINDS = ("init", "paper", "concept", "experiment", "weekly", "review")
PROMPT_LOG = "Prompt_log.md"


def _paper_context(ws: Workspace, data: LabData, target: str | None) -> dict[str, Any]:
    from mllm_lab.errors import BadInput
    from mllm_lab.ops.notes import paper_context
    from mllm_lab.ops.papers import lookup

    if not target:
        raise BadInput("error.prompt_paper")
    paper, _where = lookup(target, data.papers)
    note_path = paper.note or f"papers/{paper.key}.md"
    return {**paper_context(ws, paper), "note_path": note_path, "note_exists": ws.exists(note_path)}


def _find_note(data: LabData, target: str) -> Note | None:
    from mllm_lab import kinds

    wanted = target.strip().casefold().removesuffix(".md")
    for note in data.notes:
        if note.kind is kinds.CONCEPT and wanted in {
            note.path.casefold().removesuffix(".md"),
            note.title.casefold(),
            note.path.rsplit("/", 1)[-1][:-3],
        }:
            return note
    return None


def _concept_context(
    ws: Workspace, data: LabData, target: str | None, category: str | None
) -> dict[str, Any]:
    from mllm_lab.core.links import related_notes
    from mllm_lab.core.roadmap import category_name
    from mllm_lab.core.slugs import slugify
    from mllm_lab.errors import BadInput
    from mllm_lab.kinds import CATEGORIES

    if not target:
        raise BadInput("error.prompt_concept")
    if category is not None and category not in CATEGORIES:
        raise InvalidValue("category", category, CATEGORIES)
    note = _find_note(data, target)
    title = note.title if note else target.strip()
    category = note.category if note else category
    note_path = (
        note.path if note else (f"notes/{category}/{slugify(title)}.md" if category else None)
    )
    others = [n for n in data.notes if note is None or n.path != note.path]
    related = related_notes(others, title, note.tags if note else ())
    return {
        "title": title,
        "category": category,
        "category_name": category_name(category, ws.lang) if category else "",
        "categories": list(CATEGORIES),
        "folder": f"notes/{category}/" if category else "notes/",
        "note_path": note_path,
        "note_exists": note is not None,
        "related": [{"title": n.title, "path": n.path} for n in related],
    }


def _experiment_context(ws: Workspace, data: LabData, target: str | None) -> dict[str, Any]:
    from mllm_lab.core.links import related_notes
    from mllm_lab.core.slugs import slugify
    from mllm_lab.errors import BadInput

    if not target:
        raise BadInput("error.prompt_experiment")
    slug = slugify(target)
    notebook = f"experiments/notebooks/{slug}.ipynb"
    return {
        "title": target.strip(),
        "notebook_path": notebook,
        "script_path": f"experiments/scripts/{slug}.py",
        "notebook_exists": ws.exists(notebook),
        "related": [
            {"title": n.title, "path": n.path} for n in related_notes(data.notes, target, ())
        ],
    }


def _weekly_context(ws: Workspace, data: LabData, week: Week) -> dict[str, Any]:
    from mllm_lab.core.views import week_activity
    from mllm_lab.ops.notes import week_path

    activity = week_activity(
        week=week, papers=data.papers, notes=data.notes, experiments=data.experiments
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
    log_path = week_path(week)
    touched = sorted({item.path for item in activity if item.path} | {log_path})
    details = ws.details(touched)
    problems = [
        {"text": text, "path": path, "line": line}
        for path in touched
        for line, text in details.get(path, {}).get("questions", [])
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
    from mllm_lab.core.roadmap import STAGES, stage_name
    from mllm_lab.models import Status

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
    }


def render_prompt(
    ws: Workspace,
    kind: str,
    target: str | None,
    *,
    week: Week | None = None,
    category: str | None = None,
) -> str:
    """The prompt's text; kept while nothing it is made from changed (the lab's files and
    templates, today, the options)."""
    if kind not in KINDS:
        raise InvalidValue("prompt", kind, KINDS)
    options = [kind, target, week.name if week else None, category, ws.templates_stamp()]
    text: str = ws.cached(
        "prompt", lambda: _render(ws, kind, target, week=week, category=category), *options
    )
    return text


def _render(
    ws: Workspace, kind: str, target: str | None, *, week: Week | None, category: str | None
) -> str:
    from mllm_lab.core.roadmap import STAGES
    from mllm_lab.models import Week

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


def log_prompt(ws: Workspace, kind: str, target: str | None) -> None:
    """Append one row (time, kind, target) to Prompt_log.md, creating it if needed."""
    from mllm_lab.core.markdown import escape_cell

    with ws.transaction(views=False) as tx:
        old = tx.read(PROMPT_LOG) or tr("prompt.log_header", ws.lang)
        if old and not old.endswith("\n"):
            old += "\n"
        stamp = datetime.now().strftime("%H:%M")
        row = f"| {ws.today.isoformat()} {stamp} | {kind} | {escape_cell(target or '')} |\n"
        tx.write(PROMPT_LOG, old + row)
