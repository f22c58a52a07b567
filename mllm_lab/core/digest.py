"""Digesting one file: a note's frontmatter or the reading list's entries, checked and
normalised into the plain values the index keeps (see labdata for the record layout), each
problem named with its line. No I/O here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mllm_lab import kinds
from mllm_lab.core.labdata import (
    PROBLEM_AT,
    ListDigest,
    NoteDigest,
    NoteFields,
    paper_row,
    shown,
    stem,
)
from mllm_lab.core.papers import check_stage, facet_text, paper_from_meta
from mllm_lab.core.weeks import as_date
from mllm_lab.errors import InvalidValue
from mllm_lab.kinds import CATEGORIES, NoteKind
from mllm_lab.messages import Msg
from mllm_lab.models import (
    CATEGORY_STAGE,
    CONNECTORS,
    FACET_FIELDS,
    READING_LIST,
    Finding,
    strings,
)


@dataclass(eq=False, repr=False)
class _Problems:
    """The problems found in one note, with the line of each field named."""

    path: str
    lines: Mapping[str, int]
    findings: list[Finding] = field(default_factory=list)
    lint: list[Finding] = field(default_factory=list)

    def add(self, field_name: str, name: str, /, *, lint: bool = False, **params: Any) -> None:
        found = Finding.of(self.path, self.lines.get(field_name, 1), name, **params)
        (self.lint if lint else self.findings).append(found)


def _title(kind: NoteKind, path: str, meta: Mapping[str, Any], h1: str) -> str:
    if kind is kinds.WEEKLY:
        return str(meta.get("week") or shown(stem(path))).strip()
    title = meta.get("title") if isinstance(meta.get("title"), str | int | float) else None
    return str(title or h1 or shown(stem(path))).strip()


def _category(path: str, meta: Mapping[str, Any], problems: _Problems) -> str:
    parts = path.split("/")
    category = parts[1] if len(parts) > 2 else str(meta.get("category") or "other")
    if category not in CATEGORIES:
        problems.add("", "note.unknown_category", folder=category, valid=", ".join(CATEGORIES))
    if meta.get("category") not in (None, category):
        problems.add(
            "category",
            "note.category_mismatch",
            lint=True,
            given=str(meta["category"]),
            folder=category,
        )
    return category


def _required(
    kind: NoteKind, path: str, meta: Mapping[str, Any], has_fm: bool, problems: _Problems
) -> None:
    required = kind.required_fields
    if kind is kinds.PAPER and not has_fm:
        # one problem, not one per missing field; the note cannot count as a paper
        problems.add("", "note.no_frontmatter", fields="key, title, status")
    elif required and not has_fm:
        problems.add("", "note.no_frontmatter", lint=True, fields=", ".join(required))
    elif required:
        for name in required:
            if meta.get(name) in (None, ""):
                problems.add("", "field.missing", lint=True, field=name)
    if kind is kinds.WEEKLY and meta.get("week") and str(meta["week"]) != stem(path):
        problems.add(
            "week", "note.week_mismatch", lint=True, week=str(meta["week"]), name=stem(path)
        )


def _stage(meta: Mapping[str, Any], category: str | None, problems: _Problems) -> int | None:
    stage = meta.get("stage")
    if stage is None and category is not None:
        return CATEGORY_STAGE.get(category)
    if stage is None:
        return None
    try:
        return check_stage(stage)
    except InvalidValue:
        problems.add("stage", "field.unknown_stage", value=repr(stage))
        return None


def _created(meta: Mapping[str, Any], problems: _Problems) -> str | None:
    try:
        created = as_date(meta.get("created"))
    except (ValueError, TypeError):
        problems.add("created", "field.not_date", field="created", value=repr(meta.get("created")))
        return None
    return created.isoformat() if created else None


def _facets(meta: Mapping[str, Any], problems: _Problems) -> None:
    """`lab check`'s word on a paper's architecture facets: each is text, and the connector
    is a term of the vocabulary (a near miss such as `q-former` names the term it means)."""
    for name in FACET_FIELDS:
        value = meta.get(name)
        if value not in (None, "") and facet_text(value) is None:
            problems.add(name, "facet.not_text", lint=True, field=name, value=repr(value))
    connector = facet_text(meta.get("connector"))
    if connector is None or connector in CONNECTORS:
        return
    valid = ", ".join(CONNECTORS)
    near = [term for term in CONNECTORS if term.casefold() == connector.casefold()]
    if near:
        problems.add("connector", "facet.connector_case", lint=True, value=connector, term=near[0])
    else:
        problems.add(
            "connector", "facet.unknown_connector", lint=True, value=connector, valid=valid
        )


def _json(findings: list[Finding]) -> list[Any]:
    return [[f.line, f.msg.as_json()] for f in findings]


def _mark(row: list[Any], problems: list[Finding]) -> None:
    """A paper's row holds its first problem ([line, message]), if any: labdata shows it."""
    row[PROBLEM_AT] = _json(problems[:1])[0] if problems else None


_TITLE_OR_STATUS_MISSING = (
    Msg.of("field.missing", field="title"),
    Msg.of("field.missing", field="status"),
)


def digest_note(
    path: str,
    kind: NoteKind,
    meta: Mapping[str, Any],
    lines: Mapping[str, int],
    h1: str,
    summary: str,
    has_frontmatter: bool,
) -> NoteDigest:
    """A note's frontmatter, checked and normalised."""
    problems = _Problems(path, lines)
    category = _category(path, meta, problems) if kind is kinds.CONCEPT else None
    stage = _stage(meta, category, problems)
    created = _created(meta, problems)
    _required(kind=kind, path=path, meta=meta, has_fm=has_frontmatter, problems=problems)
    note = NoteFields(
        title=_title(kind=kind, path=path, meta=meta, h1=h1),
        category=category,
        stage=stage,
        tags=strings(meta.get("tags")),
        related=strings(meta.get("related")),
        summary=summary,
        created=created,
    )
    row, key = None, None
    if kind is kinds.PAPER and has_frontmatter:
        # a field that does not read leaves the row of those that do, its problem in the
        # row: labdata shows the last good row instead when the index has one (it knows the
        # field's last value), this one when it has none (a fresh clone)
        paper, found = paper_from_meta(
            meta=meta, path=path, lines=lines, default_key=stem(path), note=path, lenient=True
        )
        # a field both checks read (a paper's stage) is named once
        problems.findings += [finding for finding in found if finding not in problems.findings]
        _facets(meta, problems)
        row = paper_row(paper) if paper else None
        if row is not None:  # no title or status (lint, for `lab check`) is a problem too
            missing = [f for f in problems.lint if f.msg in _TITLE_OR_STATUS_MISSING]
            if missing and not problems.findings:  # said by every command, as a bad field is
                problems.findings.append(missing[0])
            _mark(row, problems.findings)
        key = str(meta.get("key") or stem(path))
    return NoteDigest(
        note=note, paper=row, key=key, findings=_json(problems.findings), lint=_json(problems.lint)
    )


def digest_reading_list(entries: list[dict[str, Any]], entry_lines: list[int]) -> ListDigest:
    rows, findings, keys = [], [], []
    for entry, line in zip(entries, entry_lines, strict=True):
        lines = dict.fromkeys(entry, line)
        key = str(entry.get("key") or "").strip()
        # an entry with a field lab cannot read keeps the row of those it can, its first
        # problem in the row's `problem` (as JSON; labdata makes it a Finding): it does not
        # leave every table, and entries that share a line (flow style) stay apart
        paper, problems = paper_from_meta(
            meta=entry,
            path=READING_LIST,
            lines=lines,
            default_key=key,
            note=None,
            line=line,
            lenient=True,
        )
        if not key:
            problems.append(Finding.of(READING_LIST, line, "field.missing", field="key"))
            paper = None
        findings += _json(problems)
        keys.append([key, line])
        if paper is not None:
            row = paper_row(paper)
            _mark(row, problems)
            rows.append(row)
    return ListDigest(rows, findings, keys)
