"""The generated views: the reading-status tables, the roadmap progress, the notes index and
the "done this week" list. Each returns the body of one region as a string (f-strings, not
Jinja: 10,000 rows take milliseconds)."""

from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple, TypeVar

from mllm_lab import kinds
from mllm_lab.core.labdata import shown
from mllm_lab.core.links import href
from mllm_lab.core.markdown import escape_cell, escape_link_text, link, row
from mllm_lab.core.papers import reading_events
from mllm_lab.core.roadmap import STAGES, category_name, topic_name, topic_order
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import tr, words
from mllm_lab.models import Experiment, Note, Paper, Status, Week

T = TypeVar("T")
KEY_COLUMN = 1
DATE_COLUMNS = (5, 6)  # started, finished
BROKEN = "⚠️"


def _counts(papers: Sequence[Paper], lang: str) -> str:
    by = defaultdict(int, {s: 0 for s in Status})
    for paper in papers:
        by[paper.status] += 1
    return tr(
        "view.counts",
        lang,
        read=by[Status.READ],
        total=len(papers),
        reading=by[Status.READING],
        unread=by[Status.UNREAD],
    )


def roadmap_order(paper: Paper) -> tuple[int, int, str]:
    return (paper.stage or 9, paper.year or 9999, paper.key)


def paper_row(paper: Paper, readme: str) -> str:
    target = href(readme, paper.note) if paper.note else paper.link
    title = link(shown(paper.title), target)
    if paper.problem:  # its note cannot be read: the last known row, marked
        title += f" {BROKEN} {escape_link_text(shown(str(paper.problem)))}"
    return row(
        [
            BROKEN if paper.problem else paper.status.emoji,
            escape_cell(shown(paper.key)),
            title,
            str(paper.year or ""),
            escape_cell(paper.venue or ""),
            paper.started.isoformat() if paper.started else "",
            paper.finished.isoformat() if paper.finished else "",
        ]
    )


def papers_table(
    papers: Iterable[Paper],
    lang: str,
    readme: str = "papers/README.md",
    before: tuple[Iterable[Paper], str] | None = None,
) -> str:
    """One table per topic, in roadmap order, with counts per topic and in total. `before`:
    papers and the body this function made of them; a topic none of whose papers changed
    keeps its text (a `lab mark` renders one topic's rows, not all 20,000 of a big lab)."""
    pool = sorted(papers, key=roadmap_order)
    if not pool:
        return tr("view.empty", lang) + "\n"
    by_topic: dict[str, list[Paper]] = defaultdict(list)
    for paper in pool:
        by_topic[paper.topic].append(paper)
    changed, kept = _sections(pool, *before) if before is not None else (set(), {})
    headers = list(words("view.headers", lang))
    out: list[str] = []
    for topic in sorted(by_topic, key=topic_order):
        group = by_topic[topic]
        heading = f"### {escape_link_text(topic_name(topic, lang))}"
        if topic not in changed and heading in kept:
            out.append(kept[heading])
            continue
        lines = [heading, "", _counts(group, lang), ""]
        lines += [row(headers), "|:---:|---|---|:---:|---|---|---|"]
        lines += [paper_row(paper, readme) for paper in group]
        out.append("\n".join(lines) + "\n\n")
    out.append(tr("view.total", lang) + _counts(pool, lang) + "\n")
    return "".join(out)  # one join: the body of a big lab is 10 MB, not copied again


def _sections(
    pool: list[Paper], papers: Iterable[Paper], body: str
) -> tuple[set[str], dict[str, str]]:
    """The topics whose papers are not those of `pool` (as _changed_groups compares them:
    the same objects, or the same rows but for their status line), and the sections of `body`
    (papers_table's of `papers`) by their heading line, each up to the next heading or the
    total's line."""
    changed = _changed_groups(list(papers), pool, lambda paper: paper.topic, _shown_row)
    total = body.rfind("\n", 0, len(body) - 1) + 1  # the total's line, the last one
    return changed, _sections_of(body, total)


def _changed_groups(
    old: list[T], new: list[T], group: Callable[[T], str], shown: Callable[[T], Any] | None = None
) -> set[str]:
    """The groups holding an item of one list that is not in the other: not the very same
    object (both lists are alive, so an id names one item), nor one equal to it in what the
    view shows of it (`shown`, which keeps what `group` reads). The papers of a reading list
    read again after one entry changed are new objects, most shown as before."""
    now, then = {id(item) for item in new}, {id(item) for item in old}
    gone = [item for item in old if id(item) not in now]
    came = [item for item in new if id(item) not in then]
    with contextlib.suppress(TypeError):  # unhashable: each item made again is a change
        look = shown or (lambda item: item)
        gone_looks, came_looks = [look(item) for item in gone], [look(item) for item in came]
        left = Counter(gone_looks) - Counter(came_looks)
        right = Counter(came_looks) - Counter(gone_looks)
        gone = [item for item, seen in zip(gone, gone_looks, strict=True) if seen in left]
        came = [item for item, seen in zip(came, came_looks, strict=True) if seen in right]
    return {group(item) for item in gone} | {group(item) for item in came}


def _shown_row(paper: Paper) -> tuple[Any, ...]:
    """A paper but for the line its status is on, which the table does not show."""
    return paper[:_LINE] + paper[_LINE + 1 :]


_LINE = Paper._fields.index("line")


def _sections_of(text: str, stop: int, tail: str = "") -> dict[str, str]:
    """`text` up to `stop`, cut before each `### ` heading line: each piece (the last one with
    `tail` added) by its heading, when it ends with a blank line (a heading found twice is
    neither's). The text is not copied whole: at 50,000 notes it is megabytes."""
    starts = []
    at = 0 if text.startswith("### ") else -1
    while 0 <= at < stop:
        starts.append(at)
        at = text.find("\n### ", at, stop)
        at = at + 1 if at >= 0 else -1
    sections: dict[str, str] = {}
    twice = set()
    for begin, end in zip(starts, [*starts[1:], stop], strict=False):
        section = text[begin:end] + (tail if end == stop else "")
        heading = section[: section.find("\n")]
        if heading in sections:
            twice.add(heading)
        if section.endswith("\n\n"):
            sections[heading] = section
    return {h: s for h, s in sections.items() if h not in twice}


_NOT_READING: dict[str, Any] = {  # where a paper stands in its reading, set aside
    "status": Status.UNREAD,
    "started": None,
    "finished": None,
    "history": (),
    "line": 0,
}


def same_but_reading(before: Sequence[Paper], after: Sequence[Paper]) -> bool:
    """The same papers, in the same order, but for where each stands in its reading (status,
    dates, history, the line they are written on): what the comparison view shows is the
    same."""
    if len(before) != len(after):
        return False
    return all(
        old is new or old == new or old._replace(**_NOT_READING) == new._replace(**_NOT_READING)
        for old, new in zip(before, after, strict=True)
    )


def stage_done(papers: Sequence[Paper]) -> bool:
    """A stage is ticked when it has papers and every one of them is read."""
    return bool(papers) and all(p.status is Status.READ for p in papers)


def progress(papers: Iterable[Paper], notes_by_stage: Mapping[int | None, int], lang: str) -> str:
    """Each stage's papers read and study notes (LabData.notes_by_stage), ticked when done."""
    papers_by_stage: dict[int | None, list[Paper]] = defaultdict(list)
    for paper in papers:
        papers_by_stage[paper.stage].append(paper)
    lines = []
    for stage in STAGES:
        group = papers_by_stage[stage.number]
        read = sum(p.status is Status.READ for p in group)
        box = "x" if stage_done(group) else " "
        counts = tr(
            "view.progress",
            lang,
            read=read,
            total=len(group),
            notes=notes_by_stage.get(stage.number, 0),
        )
        lines.append(f"- [{box}] {stage.name(lang)} — {counts}")
    return "\n".join(lines) + "\n"


def notes_index(
    notes: Iterable[Note],
    lang: str,
    index: str = "notes/README.md",
    before: tuple[Iterable[Note], str] | None = None,
) -> str:
    """Concept notes by category, numbered straight through like a library's navigation page.
    `before`: notes and the body this function made of them; a category none of whose notes
    changed keeps its lines, numbered again if the categories before it grew or shrank."""
    by_category: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        if note.kind is kinds.CONCEPT:
            by_category[note.category or "other"].append(note)
    if not by_category:
        return tr("view.notes_empty", lang) + "\n"
    changed, kept = _category_sections(by_category, *before) if before else (set(), {})
    order = [c for c in CATEGORIES if c in by_category] + sorted(set(by_category) - set(CATEGORIES))
    out: list[str] = []
    number = 0
    for category in order:
        name = escape_link_text(category_name(category, lang))
        heading = tr("view.category_heading", lang, name=name, key=category)
        count = len(by_category[category])
        if category not in changed and heading in kept:
            section = _numbered_from(kept[heading], number + 1, count)
            if section is not None:
                out.append(section)
                number += count
                continue
        group = sorted(by_category[category], key=lambda n: (n.created or date.min, n.path))
        lines = [heading, ""]
        for note in group:
            number += 1
            summary = note.summary or tr("view.no_summary", lang)
            target = href(index, note.path)
            lines.append(f"{number}. {link(note.title, target)} - {escape_link_text(summary)}")
        out.append("\n".join(lines) + "\n\n")
    out[-1] = out[-1][:-1]  # the last blank line: cut before the join, not from its result
    return "".join(out)


def _category_sections(
    by_category: dict[str, list[Note]], notes: Iterable[Note], body: str
) -> tuple[set[str], dict[str, str]]:
    """The categories whose concept notes are not those of `by_category` (the same objects,
    or equal ones: _changed_groups), and the sections of `body` (notes_index's of `notes`) by
    their heading line, each ending with its blank line."""
    old = [note for note in notes if note.kind is kinds.CONCEPT]
    new = [note for group in by_category.values() for note in group]
    changed = _changed_groups(old, new, lambda note: note.category or "other")
    return changed, _sections_of(body, len(body), tail="\n")


def _numbered_from(section: str, first: int, count: int) -> str | None:
    """A kept category section with its items numbered from `first`; None when it does not
    hold `count` numbered items."""
    lines = section.split("\n")
    items = lines[2:-2]
    if len(items) != count or lines[1] or lines[-2:] != ["", ""]:
        return None
    numbers = [item.partition(". ") for item in items]
    if any(not number.isdigit() or not dot for number, dot, _ in numbers):
        return None
    if count and int(numbers[0][0]) == first:
        return section
    made = [f"{first + at}. {rest}" for at, (_, _, rest) in enumerate(numbers)]
    return "\n".join([*lines[:2], *made, "", ""])


class Activity(NamedTuple):
    day: date
    kind: str  # started, finished, concept, paper_note, experiment
    title: str
    path: str | None  # lab-relative file, if there is one
    url: str | None = None


def week_activity(
    week: Week, papers: Iterable[Paper], notes: Iterable[Note], experiments: Iterable[Experiment]
) -> list[Activity]:
    """What happened in `week`, from the dates in the data, oldest first."""
    found: list[Activity] = []

    def add(
        day: date | None, kind: str, title: str, path: str | None, url: str | None = None
    ) -> None:
        if day is not None and week.contains(day):
            found.append(Activity(day=day, kind=kind, title=title, path=path, url=url))

    for paper in papers:
        for day, state in reading_events(paper):
            kind = "finished" if state is Status.READ else "started"
            add(day=day, kind=kind, title=paper.title, path=paper.note, url=paper.link)
    for note in notes:
        if note.kind.study:
            add(
                day=note.created,
                kind="concept" if note.kind is kinds.CONCEPT else "paper_note",
                title=note.title,
                path=note.path,
            )
    for experiment in experiments:
        add(day=experiment.created, kind="experiment", title=experiment.title, path=experiment.path)
    order = {"started": 0, "paper_note": 1, "concept": 2, "experiment": 3, "finished": 4}
    return sorted(found, key=lambda item: (item.day, order[item.kind], item.title))


def done_this_week(
    week: Week,
    papers: Iterable[Paper],
    notes: Iterable[Note],
    experiments: Iterable[Experiment],
    lang: str,
    log_path: str,
) -> str:
    """The "done this week" list of a weekly log: nothing here is typed by the user."""
    items = week_activity(week=week, papers=papers, notes=notes, experiments=experiments)
    if not items:
        return tr("view.nothing_this_week", lang) + "\n"
    lines = [
        tr(
            "view.item",
            lang,
            kind=tr(f"view.{item.kind}", lang),
            label=link(item.title, href(log_path, item.path) if item.path else item.url),
            day=item.day,
        )
        for item in items
    ]
    return "\n".join(lines) + "\n"
