"""The lab as data. Each file is *digested* once, when it is parsed: its frontmatter checked and
normalised into plain JSON values that the index keeps. Building the lab from digests is then
cheap, which is what keeps a warm `lab status` on 10,000 notes near the cost of reading them.
No I/O here."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mllm_lab.core.papers import paper_from_meta
from mllm_lab.core.weeks import as_date
from mllm_lab.models import (
    CATEGORIES,
    CATEGORY_STAGE,
    READING_LIST,
    STAGES,
    Experiment,
    Finding,
    Kind,
    Note,
    Paper,
    Status,
)

# Fields `lab check` requires in each kind of note (`lab check` only: other commands go on).
REQUIRED_FIELDS = {
    Kind.PAPER: ("key", "title", "status"),
    Kind.CONCEPT: ("title", "category", "created"),
    Kind.WEEKLY: ("week",),
}
# A digest is plain JSON, kept in the index: lists in a fixed field order, not dicts, because
# decoding 10,000 of them is most of what a warm command costs.
Digest = list[Any]
NOTE_FIELDS = ("title", "category", "stage", "tags", "related", "summary", "created")
PAPER_FIELDS = (
    "key",
    "title",
    "status",
    "authors",
    "year",
    "venue",
    "arxiv",
    "url",
    "topic",
    "stage",
    "tags",
    "created",
    "started",
    "finished",
    "note",
    "line",
)


@dataclass
class LabData:
    papers: list[Paper] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # shown as warnings by every command
    lint: list[Finding] = field(default_factory=list)  # shown by `lab check` only
    note_keys: dict[str, str] = field(default_factory=dict)  # paper note path -> its `key`
    listed: list[tuple[str, int]] = field(default_factory=list)  # reading-list keys and lines

    def paper_notes(self) -> dict[str, Paper]:
        return {p.note: p for p in self.papers if p.note}

    def by_kind(self, kind: Kind) -> list[Note]:
        return [note for note in self.notes if note.kind is kind]


def stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return []


def _paper_digest(paper: Paper) -> Digest:
    """A Paper as a list in PAPER_FIELDS order."""
    return [
        paper.key,
        paper.title,
        paper.status.value,
        list(paper.authors),
        paper.year,
        paper.venue,
        paper.arxiv,
        paper.url,
        paper.topic,
        paper.stage,
        list(paper.tags),
        _iso(paper.created),
        _iso(paper.started),
        _iso(paper.finished),
        paper.note,
        paper.line,
    ]


def digest_note(
    path: str,
    kind: str,
    meta: Mapping[str, Any],
    lines: Mapping[str, int],
    h1: str,
    summary: str,
    has_frontmatter: bool,
) -> Digest:
    """A note's frontmatter, checked and normalised: [note fields, paper fields or None, key or
    None, problems every command reports, problems only `lab check` reports]."""
    note_kind = Kind(kind)
    findings: list[Finding] = []
    lint: list[Finding] = []

    def line(name: str) -> int:
        return lines.get(name, 1)

    title = meta.get("title") if isinstance(meta.get("title"), str | int | float) else None
    if note_kind is Kind.WEEKLY:
        title = meta.get("week") or stem(path)
    title = str(title or h1 or stem(path)).strip()
    category = None
    stage = meta.get("stage")
    if note_kind is Kind.CONCEPT:
        parts = path.split("/")
        category = parts[1] if len(parts) > 2 else str(meta.get("category") or "other")
        if category not in CATEGORIES:
            findings.append(
                Finding(
                    path, 1, f"unknown category folder {category!r}; valid: {', '.join(CATEGORIES)}"
                )
            )
        if meta.get("category") not in (None, category):
            lint.append(
                Finding(
                    path,
                    line("category"),
                    f"`category: {meta['category']}` but the note is in notes/{category}/",
                )
            )
        if stage is None:
            stage = CATEGORY_STAGE.get(category)
    if stage is not None and stage not in STAGES:
        findings.append(
            Finding(path, line("stage"), f"unknown stage {stage!r}; valid: 1, 2, 3, 4, 5")
        )
        stage = None
    created = None
    try:
        created = as_date(meta.get("created"))
    except (ValueError, TypeError):
        findings.append(
            Finding(
                path,
                line("created"),
                f"`created` is not a date (YYYY-MM-DD): {meta.get('created')!r}",
            )
        )
    required = REQUIRED_FIELDS.get(note_kind, ())
    if required and not has_frontmatter:
        lint.append(Finding(path, 1, f"no frontmatter (a --- block with {', '.join(required)})"))
    elif required:
        lint += [
            Finding(path, 1, f"missing field `{name}`")
            for name in required
            if meta.get(name) in (None, "")
        ]
    if note_kind is Kind.WEEKLY and meta.get("week") and str(meta["week"]) != stem(path):
        lint.append(
            Finding(
                path,
                line("week"),
                f"`week: {meta['week']}` does not match the file name {stem(path)}",
            )
        )
    if note_kind is Kind.PAPER and not has_frontmatter:
        # one problem, not one per missing field; the note cannot count as a paper
        findings.append(Finding(path, 1, "no frontmatter (a --- block with key, title, status)"))
        lint = [f for f in lint if not f.message.startswith(("no frontmatter", "missing field"))]
    note = [
        title,
        category,
        stage,
        _strings(meta.get("tags")),
        _strings(meta.get("related")),
        summary,
        _iso(created),
    ]
    paper_digest, key = None, None
    if note_kind is Kind.PAPER and has_frontmatter:
        paper, problems = paper_from_meta(meta, path, lines, stem(path), path)
        findings += problems
        paper_digest = _paper_digest(paper) if paper else None
        key = str(meta.get("key") or stem(path))
    return [
        note,
        paper_digest,
        key,
        [[f.line, f.message] for f in findings],
        [[f.line, f.message] for f in lint],
    ]


def digest_reading_list(entries: list[Any], entry_lines: list[int]) -> Digest:
    papers, findings, keys = [], [], []
    for index, entry in enumerate(entries):
        line = entry_lines[index] if index < len(entry_lines) else 1
        if not isinstance(entry, dict):
            findings.append([line, "each entry must be a mapping with key, title, status"])
            continue
        lines = {name: line for name in entry}
        paper, problems = paper_from_meta(
            entry, READING_LIST, lines, str(entry.get("key") or ""), None, line
        )
        if paper is not None and not paper.key:
            problems.append(Finding(READING_LIST, line, "missing field `key`"))
            paper = None
        findings += [[f.line, f.message] for f in problems]
        if paper is not None:
            papers.append(_paper_digest(paper))
            keys.append([paper.key, line])
    return [papers, findings, keys]


def _date(text: str | None) -> date | None:
    return _fromiso(text) if text else None


_fromiso = date.fromisoformat


def paper_of(d: list[Any]) -> Paper:
    return Paper(
        d[0],
        d[1],
        _STATUS[d[2]],
        tuple(d[3]),
        d[4],
        d[5],
        d[6],
        d[7],
        d[8],
        d[9],
        tuple(d[10]),
        _date(d[11]),
        _date(d[12]),
        _date(d[13]),
        d[14],
        d[15],
    )


_STATUS = {status.value: status for status in Status}
_KIND = {kind.value: kind for kind in Kind}


def build(records: Mapping[str, list[Any]]) -> LabData:
    """The lab from the index records `[kind, mtime, size, inode, digest, error]`; a paper
    with a note counts once, from its note."""
    data = LabData()
    listed: list[list[Any]] = []
    for path, (kind, _mtime, _size, _inode, digest, error) in records.items():
        if error:
            data.findings.append(Finding(path, int(error[0]), str(error[1])))
            continue
        if kind == "reading-list":
            listed = digest[0]
            data.findings += [Finding(path, line, message) for line, message in digest[1]]
            data.listed = [(key, line) for key, line in digest[2]]
        elif kind == "experiment":
            data.experiments.append(Experiment(path, digest[0], _date(digest[1]), digest[2]))
        else:
            n, paper, key, findings, lint = digest
            data.notes.append(
                Note(
                    path, _KIND[kind], n[0], n[1], n[2], tuple(n[3]), tuple(n[4]), n[5], _date(n[6])
                )
            )
            if paper:
                data.papers.append(paper_of(paper))
            if key is not None:
                data.note_keys[path] = key
            if findings:
                data.findings += [Finding(path, line, message) for line, message in findings]
            if lint:
                data.lint += [Finding(path, line, message) for line, message in lint]
    noted = {paper.key.casefold() for paper in data.papers}
    for entry in listed:
        if entry[0].casefold() not in noted:
            data.papers.append(paper_of(entry))
            noted.add(entry[0].casefold())
    data.notes.sort(key=lambda note: note.path)
    data.findings.sort(key=lambda f: (f.path, f.line))
    return data
