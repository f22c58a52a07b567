"""Papers: from frontmatter or reading-list entries to `Paper`, back to ordered YAML fields,
status changes with their dates, and matching a user's query to one paper."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from mllm_lab.core.weeks import as_date
from mllm_lab.errors import AmbiguousPaper, InvalidValue, PaperNotFound
from mllm_lab.models import STAGES, STATUS_ALIASES, Finding, Paper, Status

_ARXIV = re.compile(
    r"(?:arxiv[:/ ]|arxiv\.org/(?:abs|pdf)/)?(\d{4}\.\d{4,5})(?:v\d+)?(?:\.pdf)?", re.I
)


def parse_status(value: object) -> Status:
    status = STATUS_ALIASES.get(str(value).strip().lower()) if value is not None else None
    if status is None:
        raise InvalidValue("status", value, [s.value for s in Status])
    return status


def _strings(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(item) for item in value if item is not None)
    raise ValueError("expected a list of strings")


def paper_from_meta(
    meta: Mapping[str, Any],
    path: str,
    lines: Mapping[str, int],
    default_key: str,
    note: str | None,
    line: int = 1,
) -> tuple[Paper | None, list[Finding]]:
    """A Paper, or None when its key, title or status is unusable; findings name each problem."""
    findings: list[Finding] = []

    def bad(field: str, message: str) -> None:
        findings.append(Finding(path, lines.get(field, line), message))

    key = str(meta.get("key") or default_key).strip()
    title = meta.get("title")
    if not isinstance(title, str | int | float) or not str(title).strip():
        bad("title", "missing field `title`")
        title = None
    try:
        status = parse_status(meta.get("status", "unread"))
    except InvalidValue as error:
        bad("status", str(error))
        status = None
    values: dict[str, Any] = {}
    for field in ("created", "started", "finished"):
        try:
            values[field] = as_date(meta.get(field))
        except (ValueError, TypeError):
            bad(field, f"`{field}` is not a date (YYYY-MM-DD): {meta.get(field)!r}")
    year = meta.get("year")
    if year is not None and not (isinstance(year, int) and not isinstance(year, bool)):
        if isinstance(year, str) and year.strip().isdigit():
            year = int(year)
        else:
            bad("year", f"`year` is not a year: {year!r}")
            year = None
    stage = meta.get("stage")
    if stage is not None and stage not in STAGES:
        bad("stage", f"unknown stage {stage!r}; valid: 1, 2, 3, 4, 5")
        stage = None
    for field in ("authors", "tags"):
        try:
            values[field] = _strings(meta.get(field))
        except ValueError:
            bad(field, f"`{field}` must be a list of strings")
            values[field] = ()
    if findings or title is None or status is None:
        return (
            None,
            findings,
        )  # a paper with any broken field is skipped and reported, not half-read

    def text_or_none(field: str) -> str | None:
        value = meta.get(field)
        return None if value in (None, "") else str(value)

    paper = Paper(
        key=key,
        title=str(title).strip(),
        status=status,
        authors=values["authors"],
        year=year,
        venue=text_or_none("venue"),
        arxiv=text_or_none("arxiv"),
        url=text_or_none("url"),
        topic=str(meta.get("topic") or "other"),
        stage=stage,
        tags=values["tags"],
        created=values.get("created"),
        started=values.get("started"),
        finished=values.get("finished"),
        note=note,
        line=lines.get("status", line),
    )
    return paper, findings


def paper_to_meta(paper: Paper) -> dict[str, Any]:
    """Ordered frontmatter fields; empty optional facts are left out, dates kept as None."""
    meta: dict[str, Any] = {
        "key": paper.key,
        "title": paper.title,
        "authors": list(paper.authors),
        "year": paper.year,
        "venue": paper.venue,
        "arxiv": paper.arxiv,
        "url": paper.link,
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


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def exact_matches(query: str, papers: Iterable[Paper]) -> list[Paper]:
    """Papers whose key, title or arXiv id is `query` (case and punctuation aside for keys)."""
    wanted = query.strip().casefold()
    squashed = _squash(query)
    arxiv = arxiv_id(query)
    return [
        p
        for p in papers
        if p.key.casefold() == wanted
        or p.title.casefold() == wanted
        or (arxiv is not None and p.arxiv == arxiv)
        or (squashed and _squash(p.key) == squashed)
    ]


def matches(query: str, papers: Iterable[Paper]) -> list[Paper]:
    """Papers matching `query`: exact key, arXiv id or title first, else a prefix of them."""
    pool = list(papers)
    wanted = query.strip().casefold()
    by_key = [p for p in pool if p.key == wanted or p.key.casefold() == wanted]
    if by_key:  # the common case, `lab mark blip-2 read`: no need to look further
        return by_key
    exact = exact_matches(query, pool)
    if exact or not wanted:
        return exact
    squashed = _squash(query)
    return [
        p
        for p in pool
        if p.key.casefold().startswith(wanted)
        or p.title.casefold().startswith(wanted)
        or (squashed and _squash(p.key).startswith(squashed))
    ]


def find_paper(query: str, papers: Iterable[Paper]) -> Paper:
    found = matches(query, papers)
    unique = {p.key: p for p in found}
    if not unique:
        raise PaperNotFound(query)
    if len(unique) > 1:
        raise AmbiguousPaper(query, sorted(unique))
    return next(iter(unique.values()))
