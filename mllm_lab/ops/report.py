"""Read-only views for the terminal and scripts: `lab status` and `lab list`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from mllm_lab.models import Paper
    from mllm_lab.ops.workspace import Workspace

# What makes the report (the lab's data, the core) is imported only when it must be made:
# a warm `lab status` is answered from the result cache.

LISTS = ("papers", "notes", "experiments", "weeks")


def status(ws: Workspace) -> dict[str, Any]:
    """What `lab status` shows (and `--json` prints); kept while the lab's files are unchanged."""
    from mllm_lab.models import Week

    log = Week.of(ws.today).log_path
    # whether the week's log exists is not in the counts: a log deleted and another made on
    # the same day leaves them as they were
    kept: dict[str, Any] = ws.cached(
        "status",
        lambda: _status(ws),
        ws.exists(log),
        valid=lambda value: isinstance(value, dict) and isinstance(value.get(_SEEN), list),
        briefly=ws.counts_stamp,
        refresh=lambda value: _titles_again(ws, value),
    )
    report = dict(kept)
    del report[_SEEN]
    skipped = ws.skipped_files()  # found by the walk every time: not kept with the report
    report["problems"] = [*map(str, skipped), *report["problems"]]
    report["skipped"] += len(skipped)
    report["cards"] = cards_due(ws)
    return report


_SEEN = "seen"  # kept with the report, not shown: the stamp of each shown paper's note, in order


def _shown(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [*report["reading_now"], *report["next"]]


def _titles_again(ws: Workspace, report: dict[str, Any]) -> dict[str, Any] | None:
    """A report kept by the counts stamp, which leaves the paper notes' titles out, with the
    titles of the papers it shows (reading now, next) taken again from the records of those
    of their notes changed since it was made: a few records, not the lab built again (nor
    2,700 records read, the papers being read at 50,000 notes). None when a record is not
    as expected: the report is made again."""
    from mllm_lab.core.labdata import PROBLEM_AT, TITLE_AT

    files, shown, seen = ws.files(), _shown(report), report[_SEEN]
    if len(seen) != len(shown):
        return None
    try:
        for at, paper in enumerate(shown):
            note, stamp = paper["note"], seen[at]
            # a paper of the reading list: its file's stamp is in the counts stamp
            if note is None or files.stamp_of(note) == stamp:
                continue
            _kind, _mtime, _size, _inode, digest, error, _last_good = files[note]
            row = None if error else digest[1]
            if row is not None and row[PROBLEM_AT] is not None:
                return None  # a field does not read: the row shown is not this one's alone
            if row is not None:  # without a row its title is its last good one's, or its key
                paper["title"] = row[TITLE_AT]
            seen[at] = files.stamp_of(note)
    except (KeyError, TypeError, IndexError, ValueError):
        return None
    return report


def _status(ws: Workspace) -> dict[str, Any]:
    from mllm_lab.core.progress import status_report
    from mllm_lab.models import Week

    data = ws.data()
    log = Week.of(ws.today).log_path
    report = status_report(
        data=data, today=ws.today, lang=ws.lang, weekly_log=log if ws.exists(log) else None
    )
    report["lab"] = {"root": str(ws.lab.root), "name": ws.lab.config.name, "lang": ws.lang}
    files = ws.files()
    report[_SEEN] = [files.stamp_of(p["note"]) if p["note"] else None for p in _shown(report)]
    return report


def cards_due(ws: Workspace) -> dict[str, Any]:
    """The quiz's line of `lab status`; without a review log nothing is due (and the quiz's
    modules are not even imported). Kept apart from the report, by what it depends on: the
    notes (the walk), the log's stamp, the lab's templates (they shape the cards) and the day
    where the learner is (what is due by the end of it, what was reviewed in it)."""
    from mllm_lab.models import QUIZ_LOG
    from mllm_lab.ops.workspace import now

    try:
        st = os.stat(ws.lab.path(QUIZ_LOG))
    except OSError:
        return {"due": 0, "reviewed_today": 0, "log": None}
    moment = now()

    def compute() -> dict[str, Any]:
        from mllm_lab.ops.quiz import due_summary  # only a lab with a review log needs it

        return due_summary(ws, moment)

    # both times: a log rewritten in place and given back a future mtime still has a new ctime
    log = [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino]
    day = [moment.date().isoformat(), repr(moment.tzinfo)]
    return ws.cached("cards-due", compute, log, day, ws.templates_stamp())


def next_steps(ws: Workspace, count: int) -> list[list[str]]:
    """`lab next`: [what, why] of the best next steps; kept while the lab is unchanged."""

    def compute() -> list[list[str]]:
        from mllm_lab.core.advice import next_steps as steps

        return [
            [step.what, step.why]
            for step in steps(data=ws.data(), today=ws.today, lang=ws.lang, count=count)
        ]

    return ws.cached("next", compute, count, records_only=True)


class Filters(NamedTuple):
    status: str | None = None
    topic: str | None = None
    stage: int | None = None
    tag: str | None = None
    connector: str | None = None  # papers only: a term of the vocabulary, or part of one
    encoder: str | None = None  # papers only: any part of the vision encoder

    def facets(self) -> dict[str, str]:
        wanted = {"connector": self.connector, "vision_encoder": self.encoder}
        return {facet: value for facet, value in wanted.items() if value is not None}


class Listing(NamedTuple):
    """What `lab list` shows: rows for the table or items for --json, each made on demand."""

    headers: list[str]
    objects: list[Any]
    as_row: Callable[[Any], list[str]]
    as_item: Callable[[Any], dict[str, Any]]

    @property
    def rows(self) -> list[list[str]]:
        return [self.as_row(o) for o in self.objects]

    @property
    def items(self) -> list[dict[str, Any]]:
        return [self.as_item(o) for o in self.objects]


def _iso(day: Any) -> str | None:
    return day.isoformat() if day else None


def _has_tag(tags: tuple[str, ...], tag: str | None) -> bool:
    return tag is None or tag in {t.casefold() for t in tags}


def shown_list(ws: Workspace, what: str, filters: Filters, as_json: bool) -> dict[str, Any]:
    """What `lab list` prints: {"items"} for --json, else {"headers", "count", "rows" (only
    up to a screenful: a terminal draws those with Rich), "text" (the table as plain text, in
    UTF-8: megabytes at 50,000 notes, kept and given back without decoding), "clean" (the
    text may go to a terminal as it is: checked once, when made), "warnings"} (what
    models.in_brief says of the problems met while reading the lab); kept while the lab's
    files are unchanged."""

    def compute() -> dict[str, Any]:
        from mllm_lab.core.cells import SCREENFUL, aligned, terminal_clean_bytes
        from mllm_lab.messages import words

        found = listing(ws, what, filters)
        if as_json:
            return {"items": found.items}
        from mllm_lab.models import in_brief

        columns = words("list.columns", ws.lang)
        headers = [columns.get(h, h) for h in found.headers]
        rows = found.rows
        text = (aligned(headers, rows) if rows else "").encode("utf-8", "surrogatepass")
        return {
            "headers": headers,
            "count": len(rows),
            "rows": rows if len(rows) <= SCREENFUL else [],
            "text": text,
            "clean": terminal_clean_bytes(text),  # checked once, not at every print
            "warnings": list(in_brief(ws.data().findings)),
        }

    from mllm_lab.models import Brief, with_skipped_files

    options = [what, *(getattr(filters, name) for name in FILTER_NAMES), as_json]
    found = ws.cached("list", compute, *options, raw="text", records_only=True)
    if as_json:
        return found
    brief = with_skipped_files(ws.skipped_files(), Brief(*found["warnings"]))
    return {**found, "warnings": list(brief)}


# which filters each list applies; any other given is refused, never ignored
FILTERS = {
    "papers": ("status", "topic", "stage", "tag", "connector", "encoder"),
    "notes": ("topic", "stage", "tag"),
    "experiments": (),
    "weeks": (),
}


FILTER_NAMES = ("status", "topic", "stage", "tag", "connector", "encoder")


def _refuse_filters(what: str, filters: Filters) -> None:
    from mllm_lab.errors import BadInput

    for name in FILTER_NAMES:
        if getattr(filters, name) is not None and name not in FILTERS[what]:
            if not FILTERS[what]:
                raise BadInput("error.filter_none", flag=f"--{name}", what=what)
            valid = ", ".join(f"--{n}" for n in FILTERS[what])
            raise BadInput("error.filter", flag=f"--{name}", what=what, valid=valid)


def listing(ws: Workspace, what: str, filters: Filters) -> Listing:
    from mllm_lab import kinds
    from mllm_lab.core.roadmap import stage_name
    from mllm_lab.errors import InvalidValue

    if what not in LISTS:
        raise InvalidValue("list", what, LISTS)
    data = ws.data()
    lang = ws.lang
    tag = filters.tag.casefold() if filters.tag else None
    _refuse_filters(what, filters)
    if what == "papers":
        return _papers(papers=data.papers, filters=filters, tag=tag, lang=lang)
    if what == "notes":
        notes = sorted(
            (
                n
                for n in data.notes
                if n.kind.study
                and (filters.stage is None or n.stage == filters.stage)
                and (filters.topic is None or n.category == filters.topic)
                and _has_tag(n.tags, tag)
            ),
            key=lambda n: (n.stage or 9, n.path),
        )
        return Listing(
            headers=["path", "title", "kind", "stage", "created"],
            objects=notes,
            as_row=lambda n: [
                n.path,
                n.title,
                n.kind.value,
                str(n.stage or ""),
                _iso(n.created) or "",
            ],
            as_item=lambda n: {
                "path": n.path,
                "title": n.title,
                "kind": n.kind.value,
                "category": n.category,
                "stage": n.stage,
                "stage_name": stage_name(n.stage, lang),
                "tags": list(n.tags),
                "summary": n.summary,
                "created": _iso(n.created),
            },
        )
    if what == "experiments":
        return Listing(
            headers=["path", "title", "created"],
            objects=sorted(data.experiments, key=lambda e: e.path),
            as_row=lambda e: [e.path, e.title, _iso(e.created) or ""],
            as_item=lambda e: {"path": e.path, "title": e.title, "created": _iso(e.created)},
        )
    return Listing(
        headers=["week", "path"],
        objects=sorted(data.by_kind(kinds.WEEKLY), key=lambda n: n.path),
        as_row=lambda n: [n.title, n.path],
        as_item=lambda n: {"week": n.title, "path": n.path, "created": _iso(n.created)},
    )


def _by_facets(papers: list[Paper], wanted: dict[str, str]) -> list[Paper]:
    """The papers whose facets match: a note's own, or the catalog's for a paper without one
    (as `lab compare` and the comparison view see them)."""
    from mllm_lab.core.facets import by_facet, catalog_facets, lab_entries

    entries = lab_entries(papers, catalog_facets())
    for facet, value in wanted.items():
        entries = by_facet(entries, facet, value)
    return [entry.paper for entry in entries]


# A paper whose note or entry does not read, in `lab list papers`: the tables' ⚠️ is one cell
# wide by Unicode's widths (and Rich's) but drawn two wide by many terminals, which would
# push the rest of its row one cell right; this is two wide everywhere.
LISTED_BROKEN = "❗"


def _papers(papers: list[Paper], filters: Filters, tag: str | None, lang: str) -> Listing:
    from mllm_lab.core.papers import parse_status
    from mllm_lab.core.roadmap import topic_name
    from mllm_lab.core.views import roadmap_order

    wanted = parse_status(filters.status) if filters.status else None
    chosen = [
        p
        for p in sorted(papers, key=roadmap_order)
        if (wanted is None or p.status is wanted)
        and (filters.topic is None or p.topic == filters.topic)
        and (filters.stage is None or p.stage == filters.stage)
        and _has_tag(p.tags, tag)
    ]
    if filters.facets():
        chosen = _by_facets(chosen, filters.facets())
    return Listing(
        headers=["", "key", "title", "year", "stage", "topic", "note"],
        objects=chosen,
        as_row=lambda p: [
            LISTED_BROKEN if p.problem else p.status.emoji,
            p.key,
            p.title,
            str(p.year or ""),
            str(p.stage or ""),
            topic_name(p.topic, lang),
            p.note or "",
        ],
        as_item=lambda p: {
            "key": p.key,
            "title": p.title,
            "status": p.status.value,
            "year": p.year,
            "venue": p.venue,
            "arxiv": p.arxiv,
            "url": p.link,
            "topic": p.topic,
            "topic_name": topic_name(p.topic, lang),
            "stage": p.stage,
            "tags": list(p.tags),
            "note": p.note,
            "started": _iso(p.started),
            "finished": _iso(p.finished),
            "problem": str(p.problem) if p.problem else None,  # its row keeps what reads
        },
    )
