"""`lab new paper|concept`: render a template, write the file without ever replacing one
(unless --force), then bring the views up to date."""

from __future__ import annotations

import contextlib
import posixpath
from datetime import date
from typing import Any

from mllm_lab.core import fm, readinglist
from mllm_lab.core.papers import check_stage, paper_to_meta, parse_status, with_status
from mllm_lab.core.roadmap import category_name, stage_name, topic_name
from mllm_lab.core.slugs import check_slug, slugify, title_of
from mllm_lab.errors import (
    BadInput,
    BrokenNote,
    InvalidValue,
    LabError,
    OutsideLab,
    TemplateProblem,
)
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import Msg, tr
from mllm_lab.models import CATEGORY_STAGE, FACET_FIELDS, READING_LIST, Paper, Status
from mllm_lab.ops import lists
from mllm_lab.ops.experiments import one_line
from mllm_lab.ops.lookup import Fetched
from mllm_lab.ops.papers import (
    PaperFacts,
    apply_facts,
    check_new_key,
    may_be_listed,
    new_paper_from_query,
    reading_list,
    resolve,
)
from mllm_lab.ops.related import Item, items, region_body, resolve_entries
from mllm_lab.ops.related import find as find_related_notes
from mllm_lab.ops.related import region as related_region
from mllm_lab.ops.workspace import Created, Workspace

# --- paper ---------------------------------------------------------------------------------


def with_catalog_facets(paper: Paper) -> Paper:
    """A paper without facets of its own takes the catalog's checked ones for its key."""
    from mllm_lab.core.facets import catalog_facets

    known = catalog_facets().get(paper.key)
    if paper.facets or known is None:
        return paper
    return paper._replace(
        vision_encoder=known.vision_encoder,
        connector=known.connector,
        llm=known.llm,
        resolution=known.resolution,
    )


def facet_rows(paper: Paper, lang: str) -> list[dict[str, str]]:
    """The "architecture at a glance" table of a multimodal paper's note (none for others):
    its four facets, and what is trained when if the catalog knows it."""
    from mllm_lab.core.facets import catalog_facets, label, md_cell

    meta = paper_to_meta(paper)
    if "connector" not in meta:
        return []
    values = [(field, getattr(paper, field) or "") for field in FACET_FIELDS]
    known = catalog_facets().get(paper.key)
    if known is not None:
        values.append(("trainable", known.trainable))
    return [
        {"field": field, "label": label(field, lang), "value": value, "cell": md_cell(value)}
        for field, value in values
    ]


def paper_context(ws: Workspace, paper: Paper) -> dict[str, Any]:
    lang = ws.lang
    info = {
        **paper_to_meta(paper),
        "title": one_line(paper.title),
        "authors_text": ", ".join(paper.authors),
        "url": paper.link,
        "topic_name": topic_name(paper.topic, lang),
        "stage_name": stage_name(paper.stage, lang),
        "abstract": "",  # arXiv's, for a paper looked up online (ops/lookup.py)
    }
    return {
        "frontmatter": fm.dump(paper_to_meta(paper)),
        "paper": info,
        "facets": facet_rows(paper, lang),
        "today": ws.today.isoformat(),
    }


def new_paper(
    ws: Workspace,
    query: str,
    facts: PaperFacts,
    *,
    key: str | None,
    new: bool = False,
    force: bool,
    dry_run: bool,
    fetched: Fetched | None = None,
) -> Created:
    """papers/<key>.md for a paper of the lab, of the catalog, or a new one. A paper that was
    on the reading list moves into its note (keeping its status and dates); with --force an
    existing note is written anew (the old one kept in .lab-trash/), its status kept."""
    with ws.transaction(dry_run=dry_run) as tx:
        lab = tx.data.papers
        found, where = resolve(query, lab, new=new)
        known = found if where == "lab" else None
        if key is not None:
            key = check_new_key(key, known, lab)
        paper = found or new_paper_from_query(query, key, lab, fetched)
        if key is not None:
            paper = paper._replace(key=key)
        path = f"papers/{check_slug(paper.key)}.md"
        if known is not None and known.note and known.note != path:
            raise BadInput("error.note_elsewhere", key=known.key, path=known.note)
        paper = with_catalog_facets(apply_facts(paper, facts._replace(status=None)))
        if known is not None:
            base = paper._replace(
                status=known.status, started=known.started, finished=known.finished
            )
            default = known.status if known.status is not Status.UNREAD else Status.READING
        else:
            base = paper._replace(status=Status.UNREAD, started=None, finished=None)
            default = Status.READING
        status = parse_status(facts.status) if facts.status else default
        created = known.created if known is not None and known.note and known.created else ws.today
        paper = with_status(base, status, ws.today)._replace(created=created, note=path)
        context = paper_context(ws, paper)
        if fetched is not None and found is None:
            context["paper"]["abstract"] = fetched.abstract
        text = ws.render(f"{ws.lang}/paper.md.j2", context)
        _keeps_the_facts(text, paper, f"templates/{ws.lang}/paper.md.j2")
        tx.create(path, text, force=force, rename=None if known is not None else "--key")
        listed = reading_list(tx) if may_be_listed(tx, paper.key) else None
        index = readinglist.find(listed, paper.key) if listed is not None else None
        if listed is not None and index is not None:
            moved = readinglist.remove(listed, index).text
            tx.write(READING_LIST, moved, detail=tr("tx.moved", ws.lang, key=paper.key, path=path))
    return Created(path, text, tx.outcomes)


def _keeps_the_facts(text: str, paper: Paper, template: str) -> None:
    """The note must hold the paper's facts (a lab's own template could drop them): its
    frontmatter is where they live once the reading-list entry is gone."""
    try:
        meta = fm.parse(text, template).meta
    except BrokenNote as problem:
        raise TemplateProblem(template, problem.line, problem.detail) from None
    if meta.get("key") != paper.key or meta.get("title") in (None, ""):
        found = (
            Msg.of("template.no_key")
            if not meta
            else Msg.of("template.wrong_key", key=str(meta.get("key")))
        )
        raise TemplateProblem(template, None, Msg.of("error.paper_template", found=found))


# --- concept -------------------------------------------------------------------------------


def concept_context(
    ws: Workspace,
    title: str,
    category: str,
    stage: int,
    tags: tuple[str, ...],
    related: list[dict[str, str]],
    created: date,
) -> dict[str, Any]:
    """`related`: {title, path, link} of each related note, the ones asked for first."""
    meta = {
        "title": title,
        "category": category,
        "stage": stage,
        "tags": list(tags),
        "related": [item["path"] for item in related],
        "summary": "",
        "created": created,
    }
    listed = [Item(title=i["title"], path=i["path"], link=i["link"]) for i in related]
    return {
        "frontmatter": fm.dump(meta),
        "title": one_line(title),
        "category": category,
        "category_name": category_name(category, ws.lang),
        "stage_name": stage_name(stage, ws.lang),
        "tags": list(tags),
        "related": related,
        "related_region": related_region(listed, ws.lang),
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
    """notes/<category>/<slug>.md, its related-notes region listing the notes `related`
    names (paths, keys, titles) and then those found by links, tags and rare title words."""
    title = title_of(title)
    if category not in CATEGORIES:
        if "/" in category or "\\" in category or category.startswith("."):
            raise OutsideLab(category)
        raise InvalidValue("category", category, CATEGORIES)
    if stage is not None and stage not in (1, 2, 3, 4, 5):
        check_stage(stage)
    name = check_slug(slug or slugify(title))
    path = f"notes/{category}/{name}.md"
    with ws.transaction(dry_run=dry_run) as tx:
        data = tx.data
        asked = (
            resolve_entries(data, related, set(ws.files()) | _other_files(ws, related))
            if related
            else []
        )
        found = find_related_notes(ws, data, title=title, tags=tags, path=path)
        listed = items(path, [*asked, *(r.path for r in found)], data)
        context = concept_context(
            ws=ws,
            title=title,
            category=category,
            stage=stage or CATEGORY_STAGE[category],
            tags=tags,
            related=[{"title": i.title, "path": i.path, "link": i.link} for i in listed],
            created=ws.today,
        )
        text = ws.render(f"{ws.lang}/concept.md.j2", context)
        tx.create(path, text, force=force, rename="--slug")
        if not dry_run:
            lists.keep(ws, path, region_body(listed))
    return Created(path, text, tx.outcomes)


def _other_files(ws: Workspace, entries: tuple[str, ...]) -> set[str]:
    """Those of `entries` that are files of the lab though not notes (a resource list, a
    script): checked one by one, as there are only a few."""
    found = set()
    for entry in entries:
        path = posixpath.normpath(entry.strip()) if entry.strip() else ""
        with contextlib.suppress(LabError, OSError):
            if path and ws.lab.path(path).is_file():
                found.add(path)
    return found
