"""`lab review`: the review note of prompt 6, written into reviews/, and `lab next`."""

from __future__ import annotations

import json
import marshal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from mllm_lab import kinds
from mllm_lab.core import fm, markdown
from mllm_lab.core.labdata import LabData
from mllm_lab.core.links import WikiIndex, edges, href, targets
from mllm_lab.core.review import (
    Question,
    directions,
    map_notes,
    question_facts,
    questions,
    weak_spots,
)
from mllm_lab.kinds import NoteKind
from mllm_lab.messages import tr
from mllm_lab.models import Note, Status
from mllm_lab.ops.workspace import Created, Workspace
from mllm_lab.sha import sha1

if TYPE_CHECKING:
    from mllm_lab.core.conceptmap import Edge


def template_signatures(ws: Workspace, kind: NoteKind) -> dict[str, str]:
    """Each section of a kind's template as rendered: a note section equal to it is unwritten.
    Kept by the templates' stamps and the language, as the headings `lab check` wants are:
    the sample a template is rendered with depends on nothing else, and rendering it costs
    Jinja's import (50 ms) to a review or a check after one note was edited."""
    from mllm_lab import results

    name = f"signatures_{kind.name}"  # no "-": see FILES in ops/check.py
    made = results.key(name, str(ws.lab.root), ws.lang, ws.templates_stamp())
    hit, kept = results.load(ws.lab.state, name, made) if ws.use_index else (False, None)
    if hit and isinstance(kept, dict) and all(type(v) is str for v in kept.values()):
        return kept
    from mllm_lab.ops.sections import sample_context  # the writing side: 36 ms of imports

    body = ws.render(f"{ws.lang}/{kind.template}", sample_context(ws, kind))
    parsed = fm.parse(body, "template")
    found = {
        s.title: markdown.section_signature(s.content, "Sample")
        for s in markdown.sections(parsed.body)
    }
    if ws.use_index:
        results.save(ws.lab.state, name, made, found)
    return found


@dataclass(eq=False, repr=False)
class Bodies:
    """What the review reads off its notes' bodies."""

    empty: dict[str, list[str]]  # study note -> its sections still as the template left them
    sources: list[tuple[Note, bool, list[str]]]  # map concept notes and their question_facts
    targets: dict[str, list[str]]  # map note -> the map notes it points to


NOTE_FACTS = "review_notes"  # no "-": see FILES in ops/check.py


def read_bodies(ws: Workspace, data: LabData, shown: list[Note]) -> Bodies:
    """Every study note's unwritten sections; for the notes on the map, the map notes they
    point to and what they give the self-test questions. Kept per note by its stamp while
    the templates and the map's notes (paths and titles, which links and wiki links resolve
    against) are unchanged, so that after one note was edited only that note is read."""
    from mllm_lab import results
    from mllm_lab.details import FEW

    study = {n.path: n for n in data.notes if n.kind.study}
    on_map = {n.path: n for n in shown}
    names = json.dumps([[n.path, n.title] for n in shown])
    made = results.key(
        NOTE_FACTS,
        str(ws.lab.root),
        ws.lang,
        ws.templates_stamp(),
        sha1(names.encode("utf-8", "surrogatepass")).hexdigest(),
    )
    kept = results.PerFile(ws.lab.state, NOTE_FACTS, made, ws.use_index)
    files = ws.files()
    facts: dict[str, list[Any]] = {}
    todo = {}
    for path in study:
        stamp = files.stamp_of(path)
        found = kept.get(path, stamp, _facts_shape)
        if found is None:
            todo[path] = stamp
        else:
            facts[path] = found
    if todo:
        templates = {kind: template_signatures(ws, kind) for kind in kinds.STUDY}
        wiki, known = WikiIndex(shown), set(on_map)
        every = not kept.kept or len(todo) > FEW
        # one object per text: the paths and sentences many notes share are kept (marshal
        # refers to an object met again) and read back once, not once per note
        shared: dict[str, str] = {}

        def take(path: str, detail: Mapping[str, Any]) -> None:
            note = study[path]
            empty, pointed, interview, claimed = note_facts(
                note, detail, templates[note.kind], wiki, known, ws.lang
            )
            facts[path] = [
                [shared.setdefault(text, text) for text in empty],
                [shared.setdefault(text, text) for text in pointed],
                interview,
                [shared.setdefault(text, text) for text in claimed],
            ]
            kept.put(path, todo[path], facts[path])

        # each detail taken as it comes and let go: a first review of 50,000 notes held
        # every one of them at once (586 MB)
        for path, detail in ws.each_detail(list(todo), every=every, questions=False):
            if path in todo and path not in facts:
                take(path, detail)
        for path in todo:  # could not be read: taken as having no body
            if path not in facts:
                take(path, {})
        kept.save(restamp=results.RESTAMP)
        facts = {path: facts[path] for path in study}  # in the notes' order, read or kept
    bodies = Bodies(empty={}, sources=[], targets={})
    for path, (empty, pointed, interview, claimed) in facts.items():
        if empty:
            bodies.empty[path] = empty
        if path in on_map:
            bodies.targets[path] = pointed
            if study[path].kind is kinds.CONCEPT and (interview or claimed):
                bodies.sources.append((study[path], interview, claimed))
    return bodies


def _facts_shape(value: Any) -> bool:
    """Whether a kept entry is note_facts' list (one of another shape is made again)."""
    if type(value) is not list or len(value) != 4 or type(value[2]) is not bool:
        return False
    empty, pointed, _interview, claimed = value
    return _strings(empty) and _strings(pointed) and _strings(claimed)


def _strings(items: Any) -> bool:
    """A list of strings. (The join fails on anything else, TypeError, caught by the cache's
    get: 50,000 notes' entries are looked at after one note was edited.)"""
    return type(items) is list and type("".join(items)) is str


def note_facts(
    note: Note,
    detail: Mapping[str, Any],
    template: Mapping[str, str],
    wiki: WikiIndex,
    known: set[str],
    lang: str,
) -> list[Any]:
    """[its unwritten sections, the map notes it points to, its question_facts]."""
    empty = [
        title
        for level, title, _line, sig in detail.get("headings", [])
        if level >= 2 and title in template and (sig == "" or sig == template.get(title))
    ]
    pointed = (
        targets(note=note, detail=detail, wiki=wiki, known=known) if note.path in known else []
    )
    interview, claimed = question_facts(detail.get("sections", {}), note.title, lang)
    return [empty, pointed, interview, claimed]


def map_edges(data: LabData, notes: list[Note], targets: Mapping[str, list[str]]) -> list[Edge]:
    """The relations between `notes` a concept map draws, from the map notes each points to
    (`targets`) and what the lab knows of them."""
    from mllm_lab.core.conceptmap import relations

    keys = {p.key: p.note for p in data.papers if p.note}
    return relations(notes, edges(targets), keys)


def review_links(ws: Workspace, data: LabData) -> list[dict[str, str]]:
    """For the review prompt: the relations the overview map draws (title -> title)."""
    from mllm_lab.core.conceptmap import MAX_EDGES, maps

    notes = map_notes(data, None)
    diagram_edges = map_edges(data, notes, read_bodies(ws, data, notes).targets)
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
    kept = _kept_by_content(ws, bodies, since, seed)
    if kept is not None and kept.text is not None:
        return kept.text
    text = _made(ws, path, data, notes, bodies, link, since=since, seed=seed)
    if kept is not None:
        kept.keep(text)
    return text


@dataclass(eq=False, repr=False)
class _ByContent:
    """The review text kept by what it is made from: the lab's records (the content stamp)
    and what read_bodies read off the notes."""

    ws: Workspace
    where: str
    key: str
    text: str | None

    def keep(self, text: str) -> None:
        from mllm_lab import results

        results.save(self.ws.lab.state, self.where, self.key, text)


def _kept_by_content(
    ws: Workspace, bodies: Bodies, since: date | None, seed: int | None
) -> _ByContent | None:
    """The review text kept under the lab's records and the facts its notes' bodies gave
    (None: not kept). A body edit that leaves those facts as they were (a line added to a
    section already written, a comment, a typo fixed) gives the text again: the maps, the
    questions and the weak spots are not worked out again over every note. The review's
    own entry (by the files' stamps) is looked at first; this one when that missed."""
    from mllm_lab import results

    if not ws.use_index:
        return None
    sources = [[note.path, interview, claimed] for note, interview, claimed in bodies.sources]
    try:
        facts = _digest(bodies.empty, sources, bodies.targets)
    except ValueError:  # a value marshal cannot hold: not kept
        return None
    options = [since.isoformat() if since else None, seed]
    key = results.key(
        "review_content",
        ws.content_stamp(),
        facts,
        ws.today.isoformat(),
        str(ws.lab.root),
        ws.lab.config,
        ws.templates_stamp(),
        *options,
    )
    where = results.slot("review_content", options)
    hit, text = results.load(ws.lab.state, where, key)
    return _ByContent(ws, where, key, text if hit and type(text) is str else None)


DIGEST_PIECE = 1000  # entries marshalled at a time (see _digest)


def _digest(*parts: Mapping[str, Any] | list[Any]) -> str:
    """A digest of `parts` (dicts and lists of plain values), equal for equal values:
    marshal's version 2 (no references: the same bytes whichever objects the values share)
    of each part's entries a piece at a time. Marshalled whole, the facts of 50,000 notes
    were 20 MB of bytes at once, the peak of a review after one note was edited."""
    digest = sha1()
    for part in parts:
        entries = list(part.items()) if isinstance(part, Mapping) else part
        digest.update(marshal.dumps(len(entries), 2))
        for start in range(0, len(entries), DIGEST_PIECE):
            digest.update(marshal.dumps(entries[start : start + DIGEST_PIECE], 2))
    return digest.hexdigest()


def _made(
    ws: Workspace,
    path: str,
    data: LabData,
    notes: list[Note],
    bodies: Bodies,
    link: Callable[[str], str],
    *,
    since: date | None,
    seed: int | None,
) -> str:
    from mllm_lab.core.advice import uncovered_topics  # what a kept review does not need
    from mllm_lab.core.conceptmap import maps

    uncovered = uncovered_topics(data.notes, ws.lang)  # for the weak spots and the directions
    diagrams = maps(notes, map_edges(data, notes, bodies.targets), ws.lang)
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
            uncovered=uncovered,
        ),
        "questions": drawn,
        "directions": directions(data, ws.today, ws.lang, uncovered),
    }
    return ws.render(f"{ws.lang}/review.md.j2", context)
