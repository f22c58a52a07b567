"""The lab as data, built from index records (plain dicts): papers with their one status,
notes, experiments, and the problems found on the way. No I/O here."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
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
)


@dataclass
class LabData:
    papers: list[Paper] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    records: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def paper_notes(self) -> dict[str, Paper]:
        return {p.note: p for p in self.papers if p.note}

    def by_kind(self, kind: Kind) -> list[Note]:
        return [note for note in self.notes if note.kind is kind]


def _stem(path: str) -> str:
    return posixpath.splitext(posixpath.basename(path))[0]


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list):
        return tuple(str(item) for item in value if item is not None)
    return ()


def _date(
    value: Any, path: str, lines: Mapping[str, int], field_name: str, out: list[Finding]
) -> Any:
    try:
        return as_date(value)
    except (ValueError, TypeError):
        out.append(
            Finding(
                path,
                lines.get(field_name, 1),
                f"`{field_name}` is not a date (YYYY-MM-DD): {value!r}",
            )
        )
        return None


def note_from_record(path: str, kind: Kind, record: Mapping[str, Any], out: list[Finding]) -> Note:
    meta: dict[str, Any] = record.get("meta") or {}
    lines: Mapping[str, int] = record.get("lines") or {}
    title = meta.get("title") if isinstance(meta.get("title"), str | int | float) else None
    if kind is Kind.WEEKLY:
        title = meta.get("week") or _stem(path)
    title = str(title or record.get("h1") or _stem(path)).strip()
    category = None
    stage = meta.get("stage")
    if kind is Kind.CONCEPT:
        parts = path.split("/")
        category = parts[1] if len(parts) > 2 else str(meta.get("category") or "other")
        if category not in CATEGORIES:
            out.append(
                Finding(
                    path, 1, f"unknown category folder {category!r}; valid: {', '.join(CATEGORIES)}"
                )
            )
        if stage is None:
            stage = CATEGORY_STAGE.get(category)
    if stage is not None and stage not in STAGES:
        out.append(
            Finding(path, lines.get("stage", 1), f"unknown stage {stage!r}; valid: 1, 2, 3, 4, 5")
        )
        stage = None
    return Note(
        path=path,
        kind=kind,
        title=title,
        category=category,
        stage=stage,
        tags=_strings(meta.get("tags")),
        related=_strings(meta.get("related")),
        summary=str(record.get("summary") or ""),
        created=_date(meta.get("created"), path, lines, "created", out),
        meta=meta,
    )


def build(records: Mapping[str, Mapping[str, Any]]) -> LabData:
    data = LabData(records=records)
    listed: list[tuple[Mapping[str, Any], int]] = []
    for path in sorted(records):
        record = records[path]
        kind = record["kind"]
        if "error" in record:
            line, message = record["error"]
            data.findings.append(Finding(path, int(line), str(message)))
            continue
        if kind == "reading-list":
            entry_lines = record.get("entry_lines") or []
            for index, entry in enumerate(record["meta"]["papers"]):
                line = entry_lines[index] if index < len(entry_lines) else 1
                listed.append((entry, line))
            continue
        if kind == "experiment":
            meta = record.get("meta") or {}
            created = _date(meta.get("created"), path, {}, "created", data.findings)
            title = str(record.get("title") or _stem(path))
            data.experiments.append(Experiment(path, title, created, str(meta.get("topic") or "")))
            continue
        note = note_from_record(path, Kind(kind), record, data.findings)
        data.notes.append(note)
        if note.kind is Kind.PAPER:
            paper, problems = paper_from_meta(
                record.get("meta") or {}, path, record.get("lines") or {}, _stem(path), path
            )
            data.findings += problems
            if paper is not None:
                data.papers.append(paper)
    noted = {paper.key.casefold() for paper in data.papers}
    for entry, line in listed:
        if not isinstance(entry, dict):
            data.findings.append(
                Finding(READING_LIST, line, "each entry must be a mapping with key, title, status")
            )
            continue
        lines = {name: line for name in entry}
        paper, problems = paper_from_meta(
            entry, READING_LIST, lines, str(entry.get("key") or ""), None, line
        )
        if paper is not None and not paper.key:
            problems.append(Finding(READING_LIST, line, "missing field `key`"))
            paper = None
        data.findings += problems
        if paper is not None and paper.key.casefold() not in noted:
            data.papers.append(paper)
            noted.add(paper.key.casefold())
    return data
