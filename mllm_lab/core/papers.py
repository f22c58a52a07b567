"""Papers: from frontmatter or reading-list entries to `Paper`, back to ordered YAML fields,
status changes with their dates. Which paper a query names is core/resolve.py's job."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from mllm_lab.core.weeks import as_date
from mllm_lab.errors import InvalidValue
from mllm_lab.models import STAGE_NUMBERS, STATUS_ALIASES, Finding, Paper, Status, strings

_ARXIV = re.compile(
    r"(?:arxiv[:/ ]|arxiv\.org/(?:abs|pdf)/)?(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?", re.I
)


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

    def strings(self, field: str) -> tuple[str, ...]:
        value = self.meta.get(field)
        if value is None or value == "" or isinstance(value, str | list | tuple):
            return tuple(strings(value))
        self.bad(field, "field.not_strings", field=field)
        return ()

    def text(self, field: str) -> str | None:
        value = self.meta.get(field)
        return None if value in (None, "") else str(value)


def paper_from_meta(
    meta: Mapping[str, Any],
    path: str,
    lines: Mapping[str, int],
    default_key: str,
    note: str | None,
    line: int = 1,
) -> tuple[Paper | None, list[Finding]]:
    """A Paper, or None when any field is unusable (a paper is never half-read); the
    findings name each problem with its line."""
    read = _Fields(meta=meta, path=path, lines=lines, line=line)
    title, status, year, stage = read.title(), read.status(), read.year(), read.stage()
    created, started, finished = read.day("created"), read.day("started"), read.day("finished")
    authors, tags = read.strings("authors"), read.strings("tags")
    if read.findings or title is None or status is None:
        return None, read.findings
    paper = Paper(
        key=str(meta.get("key") or default_key).strip(),
        title=title,
        status=status,
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
        note=note,
        line=lines.get("status", line),
    )
    return paper, []


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
        "status": paper.status.value,
        "created": paper.created,
        "started": paper.started,
        "finished": paper.finished,
    }
    return meta


def status_fields(paper: Paper) -> dict[str, Any]:
    return {"status": paper.status.value, "started": paper.started, "finished": paper.finished}


def with_status(paper: Paper, status: Status, today: date) -> Paper:
    """The paper with a new status and the dates that follow from it:
    reading starts the clock, read stops it, unread clears both."""
    if status == paper.status:
        return paper
    if status is Status.UNREAD:
        return replace(paper, status=status, started=None, finished=None)
    started = paper.started or today
    if status is Status.READING:
        return replace(paper, status=status, started=started, finished=None)
    return replace(paper, status=status, started=started, finished=today)


def arxiv_id(text: str) -> str | None:
    match = _ARXIV.fullmatch(text.strip().rstrip("/"))
    if match is None:
        match = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", text, re.I)
    return match[1] if match else None
