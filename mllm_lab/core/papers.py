"""Papers: from frontmatter or reading-list entries to `Paper`, back to ordered YAML fields,
status changes with their dates. Which paper a query names is core/resolve.py's job."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from mllm_lab.core.labdata import shown
from mllm_lab.core.weeks import as_date
from mllm_lab.errors import InvalidValue
from mllm_lab.models import (
    FACET_FIELDS,
    FACET_TOPICS,
    READING_LIST,
    STAGE_NUMBERS,
    STATUS_ALIASES,
    Finding,
    Paper,
    Status,
    strings,
)
from mllm_lab.patterns import pattern


def parse_status(value: object) -> Status:
    status = (
        STATUS_ALIASES.get(str(value).strip().lower().replace("\ufe0f", ""))
        if value is not None
        else None
    )
    if status is None:
        raise InvalidValue("status", value, [s.value for s in Status])
    return status


def check_stage(stage: object) -> int:
    """A roadmap stage, 1-5; InvalidValue for anything else."""
    if not (isinstance(stage, int) and not isinstance(stage, bool) and stage in STAGE_NUMBERS):
        raise InvalidValue("stage", stage, [str(n) for n in STAGE_NUMBERS])
    return stage


class _Fields:
    """Reads a paper's fields out of frontmatter, noting each problem with its line."""

    def __init__(
        self, meta: Mapping[str, Any], path: str, lines: Mapping[str, int], line: int
    ) -> None:
        self.meta, self.path, self.lines, self.line = meta, path, lines, line
        self.findings: list[Finding] = []

    def bad(self, field: str, name: str, /, **params: Any) -> None:
        self.findings.append(
            Finding.of(self.path, self.lines.get(field, self.line), name, **params)
        )

    def title(self) -> str | None:
        title = self.meta.get("title")
        if not isinstance(title, str | int | float) or not str(title).strip():
            self.bad("title", "field.missing", field="title")
            return None
        return str(title).strip()

    def status(self) -> Status | None:
        value = self.meta.get("status", "unread")
        try:
            return parse_status(value)
        except InvalidValue:
            self.bad("status", "field.unknown_status", value=repr(value))
            return None

    def day(self, field: str) -> date | None:
        try:
            return as_date(self.meta.get(field))
        except (ValueError, TypeError):
            self.bad(field, "field.not_date", field=field, value=repr(self.meta.get(field)))
            return None

    def year(self) -> int | None:
        year = self.meta.get("year")
        if year is None or (isinstance(year, int) and not isinstance(year, bool)):
            return year
        if isinstance(year, str) and year.strip().isdigit():
            return int(year)
        self.bad("year", "field.not_year", value=repr(year))
        return None

    def stage(self) -> int | None:
        stage = self.meta.get("stage")
        if stage is None:
            return None
        try:
            return check_stage(stage)
        except InvalidValue:
            self.bad("stage", "field.unknown_stage", value=repr(stage))
            return None

    def history(self) -> tuple[str, ...]:
        """`history:` entries, each "YYYY-MM-DD status"; one in another shape is a problem."""
        entries = self.strings("history")
        for entry in entries:
            if _history_entry(entry) is None:
                self.bad("history", "field.bad_history", value=repr(entry))
        return tuple(" ".join(entry.split()) for entry in entries)

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.meta.get(field)
        if value is None or value == "" or isinstance(value, str | list | tuple):
            return tuple(strings(value))
        self.bad(field, "field.not_strings", field=field)
        return ()

    def text(self, field: str) -> str | None:
        value = self.meta.get(field)
        return None if value in (None, "") else str(value)

    def facets(self) -> dict[str, str | None]:
        """The architecture facets, as text; one that is not text (a list, a date) is left
        out here and named by `lab check` (see facet_problems)."""
        return {field: facet_text(self.meta.get(field)) for field in FACET_FIELDS}


def facet_text(value: object) -> str | None:
    """A facet's value as text (`resolution: 224` is "224"); None for empty or not text."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return " ".join(str(value).split()) or None


def paper_from_meta(
    meta: Mapping[str, Any],
    path: str,
    lines: Mapping[str, int],
    default_key: str,
    note: str | None,
    line: int = 1,
    lenient: bool = False,
) -> tuple[Paper | None, list[Finding]]:
    """A Paper, or None when any field is unusable (a paper is never half-read); the
    findings name each problem with its line. `lenient`: a Paper all the same, of the fields
    that read (an unusable one left at its default, the key for a title), to be shown marked
    with its problem: a reading-list entry has no last good row to fall back on."""
    read = _Fields(meta=meta, path=path, lines=lines, line=line)
    title, status, year, stage = read.title(), read.status(), read.year(), read.stage()
    created, started, finished = read.day("created"), read.day("started"), read.day("finished")
    authors, tags, history = read.strings("authors"), read.strings("tags"), read.history()
    facets = read.facets()
    key = str(meta.get("key") or default_key).strip()
    if shown(key) != key:  # from a file name that is not UTF-8
        read.bad("key", "field.key_not_utf8")
    if (read.findings or title is None or status is None) and not lenient:
        return None, read.findings
    paper = Paper(
        key=key,
        title=key if title is None else title,
        status=status or Status.UNREAD,
        authors=authors,
        year=year,
        venue=read.text("venue"),
        arxiv=read.text("arxiv"),
        doi=read.text("doi"),
        url=read.text("url"),
        bibkey=read.text("bibkey"),
        topic=str(meta.get("topic") or "other"),
        stage=stage,
        tags=tags,
        created=created,
        started=started,
        finished=finished,
        history=history,
        vision_encoder=facets["vision_encoder"],
        connector=facets["connector"],
        llm=facets["llm"],
        resolution=facets["resolution"],
        note=note,
        line=lines.get("status", line),
    )
    return paper, read.findings


def paper_to_meta(paper: Paper) -> dict[str, Any]:
    """Ordered frontmatter fields, dates kept as None; `doi` and `bibkey` only when the paper
    has them (most papers have neither: a new note does not carry two empty lines for them)."""
    meta: dict[str, Any] = {
        "key": paper.key,
        "title": paper.title,
        "authors": list(paper.authors),
        "year": paper.year,
        "venue": paper.venue,
        "arxiv": paper.arxiv,
        **({"doi": paper.doi} if paper.doi else {}),
        "url": paper.link,
        **({"bibkey": paper.bibkey} if paper.bibkey else {}),
        "topic": paper.topic,
        "stage": paper.stage,
        "tags": list(paper.tags),
    }
    if paper.facets or paper.topic in FACET_TOPICS:  # a multimodal model: its facets, or blanks
        meta.update({field: getattr(paper, field) for field in FACET_FIELDS})
    meta.update(
        status=paper.status.value,
        created=paper.created,
        started=paper.started,
        finished=paper.finished,
    )
    if paper.history:
        meta["history"] = list(paper.history)
    return meta


def status_fields(paper: Paper) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "status": paper.status.value,
        "started": paper.started,
        "finished": paper.finished,
    }
    if paper.history:
        fields["history"] = list(paper.history)
    return fields


def with_status(paper: Paper, status: Status, today: date) -> Paper:
    """The paper with a new status, the dates that follow from it (reading starts the clock,
    read stops it, unread clears both) and the change added to its history, which keeps what
    the dates forget. Marking a paper with the status it has only puts contradicting dates
    right (a hand-set `read` without a finish date)."""
    history = history_of(paper)
    if status is Status.UNREAD:
        started, finished = None, None
    elif status is Status.READING:
        started, finished = paper.started or today, None
    else:
        finished = paper.finished if paper.status is Status.READ and paper.finished else today
        started = min(paper.started or finished, finished)
    if (history[-1][1] if history else Status.UNREAD) is not status:  # every paper starts unread
        history.append((today, status))
    entries = tuple(f"{day.isoformat()} {state.value}" for day, state in history)
    if entries == paper.history and (status, started, finished) == (
        paper.status,
        paper.started,
        paper.finished,
    ):
        return paper
    return paper._replace(status=status, started=started, finished=finished, history=entries)


def history_of(paper: Paper) -> list[tuple[date, Status]]:
    """The paper's status changes, oldest first. A paper from before histories were kept
    has one made from its dates."""
    if paper.history:
        return [entry for text in paper.history if (entry := _history_entry(text)) is not None]
    made = []
    if paper.started:
        made.append((paper.started, Status.READING))
    if paper.finished:
        made.append((paper.finished, Status.READ))
    return made


def reading_events(paper: Paper) -> list[tuple[date, Status]]:
    """When the paper was started (READING) and finished (READ), for weekly logs and this
    week's counts: from its history, which a later `unread` does not erase; a paper without
    one from the dates its status allows (a hand edit's leftover dates do not count)."""
    if paper.history:  # each once: marked read, reading, read again the same day is one of each
        events = (event for event in history_of(paper) if event[1] is not Status.UNREAD)
        return list(dict.fromkeys(events))
    found = []
    if paper.started and paper.status is not Status.UNREAD:
        found.append((paper.started, Status.READING))
    if paper.finished and paper.status is Status.READ:
        found.append((paper.finished, Status.READ))
    return found


def _history_entry(text: str) -> tuple[date, Status] | None:
    match = _HISTORY.fullmatch(" ".join(text.split()))
    if match is None:
        return None
    try:
        return date.fromisoformat(match[1]), Status(match[2])
    except ValueError:
        return None


_HISTORY = pattern(r"(\d{4}-\d{2}-\d{2}) (unread|reading|read)")


def status_problems(paper: Paper, today: date) -> list[Finding]:
    """Where a paper's status and its dates contradict each other (a hand edit), each with the
    command that puts it right."""
    where, line, key = paper.note or READING_LIST, paper.line, paper.key
    found: list[Finding] = []

    def say(name: str, **params: Any) -> None:
        found.append(Finding.of(where, line, name, key=key, **params))

    if paper.status is Status.READ and paper.finished is None:
        say("check.read_unfinished")
    if paper.status is Status.READING and paper.finished is not None:
        say("check.reading_finished", finished=paper.finished.isoformat())
    if paper.status is Status.UNREAD and (paper.started or paper.finished):
        say("check.unread_dated")
    if paper.started and paper.finished and paper.started > paper.finished:
        say("check.started_after_finished")
    for name, day in (("started", paper.started), ("finished", paper.finished)):
        if day is not None and day > today:
            say("check.date_ahead", field=name, day=day.isoformat())
    history = history_of(paper)
    if paper.history and history and history[-1][1] is not paper.status:
        last_day, last = history[-1]
        say(
            "check.history_disagrees",
            status=paper.status.value,
            last=last.value,
            day=last_day.isoformat(),
        )
    return found


def arxiv_id(text: str) -> str | None:
    """The arXiv id in an id or URL (`2301.12597v2`, `arXiv:hep-th/9901001`, an abs or pdf
    link), without its version; None for anything else."""
    from mllm_lab.core.arxivid import parse_arxiv_id  # a paper's id: not a concept note's parse

    return parse_arxiv_id(text)
