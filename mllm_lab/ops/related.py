"""Related notes for a note or a new title (core/related.py does the ranking), the list of
them that a concept note keeps in its generated `related` region, and `lab related`, which
shows them and refreshes that region where the user has not written in it."""

from __future__ import annotations

import posixpath
from functools import lru_cache
from typing import Any, NamedTuple

from mllm_lab.core import regions
from mllm_lab.core.labdata import LabData, stem
from mllm_lab.core.links import WikiIndex, href, related_target, resolve_relative, targets
from mllm_lab.core.markdown import link, links
from mllm_lab.core.related import Related, find_related
from mllm_lab.errors import BadInput
from mllm_lab.messages import tr
from mllm_lab.models import Note
from mllm_lab.ops import lists
from mllm_lab.ops.workspace import Outcome, Workspace

REGION = "related"


@lru_cache(maxsize=1)
def _catalog_titles() -> tuple[str, ...]:
    from mllm_lab.catalog import catalog_titles  # only commands that look for related notes

    return tuple(catalog_titles())


def background(data: LabData) -> list[str]:
    """Titles to judge a word's rarity by besides the notes': the catalog's papers and the
    lab's papers without a note (the field's vocabulary, so a small lab is judged fairly)."""
    return [*_catalog_titles(), *(p.title for p in data.papers if not p.note)]


def linked(ws: Workspace, data: LabData, note: Note) -> list[str]:
    """What a note points to: its body's links and its `related:` entries."""
    known = {n.path for n in data.notes}
    detail = ws.details([note.path]).get(note.path, {})
    return targets(note=note, detail=detail, wiki=WikiIndex(data.notes), known=known)


def find(
    ws: Workspace,
    data: LabData,
    *,
    title: str,
    tags: tuple[str, ...] = (),
    note: Note | None = None,
    path: str | None = None,
    limit: int = 5,
) -> list[Related]:
    """The notes related to an existing `note`, or to a new note `title` (at `path`)."""
    where = note.path if note else path
    return find_related(
        data.notes,
        title=title,
        tags=tags,
        slug=stem(where) if where else None,
        linked=linked(ws, data, note) if note else (),
        keys={p.key.casefold(): p.note for p in data.papers if p.note},
        background=background(data),
        exclude=where,
        limit=limit,
    )


def resolve_entries(data: LabData, entries: tuple[str, ...], files: set[str]) -> list[str]:
    """The lab files `--related` names: a path in the lab, a paper's key, or a note's file
    name or title. BadInput for one that names nothing (nothing is written)."""
    by_name: dict[str, set[str]] = {}
    for note in data.notes:
        for name in (stem(note.path), note.title):
            by_name.setdefault(name.casefold().strip(), set()).add(note.path)
    for paper in data.papers:
        if paper.note:
            by_name.setdefault(paper.key.casefold(), set()).add(paper.note)
    found: list[str] = []
    for entry in entries:
        path = posixpath.normpath(entry.strip()) if entry.strip() else ""
        if path in files:
            found.append(path)
            continue
        named = by_name.get(entry.casefold().strip(), set())
        if len(named) != 1:
            raise BadInput(
                "error.related_unknown" if not named else "error.related_ambiguous",
                entry=entry,
                matches=", ".join(sorted(named)),
            )
        found.append(next(iter(named)))
    return list(dict.fromkeys(found))


class Item(NamedTuple):
    title: str
    path: str
    link: str  # the href from the note that lists it


def items(from_file: str, paths: list[str], data: LabData) -> list[Item]:
    titles = {n.path: n.title for n in data.notes}
    return [
        Item(title=titles.get(path, stem(path)), path=path, link=href(from_file, path))
        for path in dict.fromkeys(paths)
        if path != from_file
    ]


def region_body(listed: list[Item]) -> str:
    return "".join(f"- {link(item.title, item.link)}\n" for item in listed)


def region(listed: list[Item], lang: str) -> str:
    """The generated `related` region of a concept note, markers included."""
    body = region_body(listed)
    return regions.render_region(REGION, body, notice=tr("notice.related", lang)).rstrip("\n")


# --- lab related ---------------------------------------------------------------------------


def find_note(data: LabData, target: str) -> Note:
    """A study note by path, file name, title or paper key."""
    name = target.strip().casefold()
    path = posixpath.normpath(name).removesuffix(".md") if name else ""
    papers = {p.key.casefold(): p.note for p in data.papers if p.note}
    matches = [
        note
        for note in data.notes
        if note.kind.study
        and (
            path in (note.path.casefold().removesuffix(".md"), stem(note.path).casefold())
            or name == note.title.casefold()
            or note.path == papers.get(name)
        )
    ]
    if len(matches) != 1:
        raise BadInput(
            "error.related_unknown" if not matches else "error.related_ambiguous",
            entry=target if target.strip() else repr(target),
            matches=", ".join(sorted(n.path for n in matches)),
        )
    return matches[0]


def refresh(ws: Workspace, target: str, *, limit: int, dry_run: bool) -> list[Outcome]:
    """Rewrite a concept note's `related` region: its `related:` entries, then the notes
    found for it, less those its text already links to. A region the user edited, or a
    note without one, is left as it is (and the outcome says why)."""
    with ws.transaction(dry_run=dry_run) as tx:
        data = tx.data
        note = find_note(data, target)
        text = tx.read(note.path) or ""
        found = regions.parse(text, note.path).get(REGION)
        if found is None:
            return [Outcome(note.path, "kept", tr("related.no_region", ws.lang))]
        known = {n.path for n in data.notes}
        asked = [p for e in note.related if (p := related_target(note.path, e, known))]
        written = set(linked(ws, data, note)) - set(asked)
        listed = {i.path for i in items(note.path, region_paths(found.body, note.path), data)}
        elsewhere = written - listed
        more = [
            r.path
            for r in find(ws, data, title=note.title, tags=note.tags, path=note.path, limit=limit)
            if r.path not in elsewhere
        ]
        body = region_body(items(note.path, [*asked, *more], data))
        if found.hand_edited and not lists.is_labs(ws, note.path, found.body, body):
            return [Outcome(note.path, "kept", tr("related.hand_edited", ws.lang))]
        new = regions.replace_region(
            text=text, name=REGION, body=body, notice=tr("notice.related", ws.lang), path=note.path
        )
        tx.write(note.path, new)
        if not dry_run:
            lists.keep(ws, note.path, body)
    return tx.outcomes


def region_paths(body: str, note_path: str) -> list[str]:
    return [resolve_relative(note_path, item.target) for item in links(body) if not item.wiki]


def for_note(ws: Workspace, target: str, limit: int) -> list[Related]:
    """`lab related NOTE`: the notes related to it, best first. Kept by the files' stamps
    (the note's links are read from its body), so asked again it builds no lab data."""

    def compute() -> list[list[Any]]:
        data = ws.data()
        note = find_note(data, target)
        found = find(ws, data, title=note.title, tags=note.tags, note=note, limit=limit)
        return [[r.path, r.title, r.score, list(r.reasons)] for r in found]

    rows = ws.cached("related", compute, target, limit)
    return [Related(path, title, score, tuple(reasons)) for path, title, score, reasons in rows]


def why(found: Related, lang: str, most: int = 3) -> str:
    """The reasons a note was found, in words: each kind once, with its first few names."""
    names: dict[str, list[str]] = {}
    for reason in found.reasons:
        kind, _, name = reason.partition(":")
        names.setdefault(kind, []).append(name)
    comma = tr("related.name_separator", lang)
    return tr("related.separator", lang).join(
        tr(
            f"related.reason.{kind}",
            lang,
            name=comma.join(shown[:most]) + ("…" if shown[most:] else ""),
        )
        for kind, shown in names.items()
    )
