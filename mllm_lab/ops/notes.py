"""`lab new paper|concept|experiment` and `lab weekly`: render a template, write the file
without ever replacing one (unless --force), then bring the views up to date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from mllm_lab.core import fm, regions, views
from mllm_lab.core.labdata import LabData
from mllm_lab.core.links import related_notes
from mllm_lab.core.papers import paper_to_meta, parse_status, with_status
from mllm_lab.core.roadmap import category_name, stage_name, topic_name
from mllm_lab.core.slugs import check_slug, slugify
from mllm_lab.errors import InvalidValue, NoteExists
from mllm_lab.models import CATEGORIES, CATEGORY_STAGE, Paper, Status, Week
from mllm_lab.ops.papers import PaperFacts
from mllm_lab.ops.workspace import Outcome, Workspace


@dataclass(frozen=True)
class Created:
    path: str
    text: str
    outcomes: list[Outcome]
    extra: dict[str, str] | None = None  # other files written (path -> text), e.g. --script


def one_line(text: str) -> str:
    return " ".join(text.split())


def _write_new(ws: Workspace, path: str, text: str, force: bool, dry_run: bool) -> Outcome:
    if dry_run:
        if ws.exists(path) and not force:
            raise NoteExists(path)
        return Outcome(path, "would create")
    return ws.write(path, text, exclusive=not force)


# --- paper ---------------------------------------------------------------------------------


def paper_context(ws: Workspace, paper: Paper) -> dict[str, Any]:
    lang = ws.lang
    info = {
        **paper_to_meta(paper),
        "title": one_line(paper.title),
        "authors_text": ", ".join(paper.authors),
        "url": paper.link,
        "topic_name": topic_name(paper.topic, lang),
        "stage_name": stage_name(paper.stage, lang),
    }
    return {
        "frontmatter": fm.dump(paper_to_meta(paper)),
        "paper": info,
        "today": ws.today.isoformat(),
    }


def new_paper(
    ws: Workspace, query: str, facts: PaperFacts, *, slug: str | None, force: bool, dry_run: bool
) -> Created:
    from mllm_lab.ops.papers import (
        apply_facts,
        new_paper_from_title,
        reading_list_entries,
        resolve,
        write_reading_list,
    )
    from mllm_lab.ops.views import sync_views, take_in_hand_edits

    with ws.lock():
        outcomes = [] if dry_run else take_in_hand_edits(ws)
        data = ws.data()
        found, where = resolve(query, data.papers)
        paper = found or new_paper_from_title(
            one_line(query), check_slug(slug) if slug else slugify(query)
        )
        paper = apply_facts(paper, facts)
        path = f"papers/{check_slug(slug) if slug else check_slug(paper.key)}.md"
        if where == "lab" and paper.note and not force:
            raise NoteExists(paper.note)
        target = facts.status or "reading"
        paper = with_status(
            replace(paper, status=Status.UNREAD, started=None, finished=None),
            parse_status(target),
            ws.today,
        )
        if where == "lab" and found is not None and found.started and paper.started:
            paper = replace(paper, started=min(found.started, paper.started))
        paper = replace(paper, created=ws.today, note=path)
        text = ws.render(f"{ws.lang}/paper.md.j2", paper_context(ws, paper))
        outcomes.append(_write_new(ws, path, text, force, dry_run))
        if not dry_run:
            entries = reading_list_entries(ws)
            kept = [e for e in entries if str(e.get("key", "")).casefold() != paper.key.casefold()]
            if len(kept) != len(entries):
                outcomes.append(write_reading_list(ws, kept))
            outcomes += sync_views(ws)
    return Created(path, text, outcomes)


# --- concept -------------------------------------------------------------------------------


def concept_context(
    ws: Workspace,
    title: str,
    category: str,
    stage: int,
    tags: tuple[str, ...],
    related: list[dict[str, str]],
    created: date,
    extra_related: tuple[str, ...] = (),
) -> dict[str, Any]:
    meta = {
        "title": title,
        "category": category,
        "stage": stage,
        "tags": list(tags),
        "related": [item["path"] for item in related] + list(extra_related),
        "summary": "",
        "created": created,
    }
    return {
        "frontmatter": fm.dump(meta),
        "title": one_line(title),
        "category": category,
        "category_name": category_name(category, ws.lang),
        "stage_name": stage_name(stage, ws.lang),
        "tags": list(tags),
        "related": related,
        "today": created.isoformat(),
    }


def new_concept(
    ws: Workspace,
    title: str,
    category: str,
    *,
    tags: tuple[str, ...],
    related: tuple[str, ...],
    stage: int | None,
    slug: str | None,
    force: bool,
    dry_run: bool,
) -> Created:
    from mllm_lab.ops.views import sync_views

    if category not in CATEGORIES:
        if "/" in category or "\\" in category or category.startswith("."):
            from mllm_lab.errors import OutsideLab

            raise OutsideLab(category)
        raise InvalidValue("category", category, CATEGORIES)
    if stage is not None and stage not in (1, 2, 3, 4, 5):
        raise InvalidValue("stage", stage, ["1", "2", "3", "4", "5"])
    name = check_slug(slug) if slug else slugify(title)
    path = f"notes/{category}/{name}.md"
    with ws.lock():
        data = ws.data()
        found = related_notes([n for n in data.notes if n.path != path], title, tags)
        links = [
            {"title": n.title, "path": n.path, "link": views.relative_link(path, n.path)}
            for n in found
        ]
        context = concept_context(
            ws,
            title,
            category,
            stage or CATEGORY_STAGE[category],
            tags,
            links,
            ws.today,
            tuple(r for r in related if r not in {n.path for n in found}),
        )
        text = ws.render(f"{ws.lang}/concept.md.j2", context)
        outcomes = [_write_new(ws, path, text, force, dry_run)]
        if not dry_run:
            outcomes += sync_views(ws)
    return Created(path, text, outcomes)


# --- experiment ----------------------------------------------------------------------------


def experiment_context(ws: Workspace, title: str, slug: str, created: date) -> dict[str, Any]:
    return {
        "title": one_line(title),
        "slug": slug,
        "today": created.isoformat(),
        "notebook_path": f"experiments/notebooks/{slug}.ipynb",
        "script_path": f"experiments/scripts/{slug}.py",
    }


def new_experiment(
    ws: Workspace, title: str, *, script: bool, slug: str | None, force: bool, dry_run: bool
) -> Created:
    from mllm_lab.core.notebook import notebook_json

    name = check_slug(slug) if slug else slugify(title)
    context = experiment_context(ws, title, name, ws.today)
    source = ws.render(f"{ws.lang}/experiment.py.j2", context)
    meta = {"title": title, "created": ws.today.isoformat(), "slug": name}
    notebook = notebook_json(source, meta)
    path = context["notebook_path"]
    extra = {context["script_path"]: source} if script else {}
    with ws.lock():
        for other in extra:
            if ws.exists(other) and not force:
                raise NoteExists(other)
        outcomes = [_write_new(ws, path, notebook, force, dry_run)]
        outcomes += [_write_new(ws, other, text, force, dry_run) for other, text in extra.items()]
    return Created(path, notebook, outcomes, extra)


# --- weekly --------------------------------------------------------------------------------


def week_path(week: Week) -> str:
    return f"weekly-log/{week.name}.md"


def done_body(ws: Workspace, data: LabData, week: Week) -> str:
    return views.done_this_week(
        week, data.papers, data.notes, data.experiments, ws.lang, week_path(week)
    )


def weekly_context(ws: Workspace, week: Week, done: str) -> dict[str, Any]:
    meta = {"week": week.name, "start": week.monday, "end": week.sunday, "created": ws.today}
    return {
        "frontmatter": fm.dump(meta),
        "week": week.name,
        "monday": week.monday.isoformat(),
        "sunday": week.sunday.isoformat(),
        "done": regions.render_region("done", done, notice=DONE_NOTICE).rstrip("\n"),
        "today": ws.today.isoformat(),
    }


DONE_NOTICE = "generated by `lab weekly` from the lab's dates; write outside the markers"


def weekly(ws: Workspace, week: Week, *, dry_run: bool = False) -> Created:
    """Create the week's log, or refresh only its generated "done" list."""
    from mllm_lab.errors import HandEdited

    path = week_path(week)
    with ws.lock():
        done = done_body(ws, ws.data(), week)
        if not ws.exists(path):
            text = ws.render(f"{ws.lang}/weekly.md.j2", weekly_context(ws, week, done))
            return Created(path, text, [_write_new(ws, path, text, False, dry_run)])
        old = ws.read(path)
        region = regions.find_region(old, "done")
        if region is None:
            return Created(path, old, [Outcome(path, "kept", "no generated `done` region in it")])
        if region.hand_edited:
            raise HandEdited(
                path,
                region.line,
                "text was written inside the generated list",
                "move it below the lab:end marker and run `lab weekly` again; nothing was changed",
            )
        text = regions.replace_region(old, "done", done, DONE_NOTICE)
        return Created(path, text, [ws.write(path, text, dry_run=dry_run)])
