"""The sections each kind of note must have, read off the templates themselves: a lab that
customises a template changes the rule, and CLAUDE.md lists what the templates hold."""

from __future__ import annotations

from datetime import date
from typing import Any

from mllm_lab import kinds
from mllm_lab.core.fm import parse
from mllm_lab.core.markdown import sections
from mllm_lab.core.notebook import cells
from mllm_lab.kinds import NoteKind
from mllm_lab.models import Paper, Week
from mllm_lab.ops.experiments import experiment_context
from mllm_lab.ops.notes import concept_context, paper_context
from mllm_lab.ops.weekly import weekly_context
from mllm_lab.ops.workspace import Workspace

SAMPLE_DAY = date(2026, 1, 5)
# The kinds whose notes are Markdown with sections (the experiment is a notebook of cells).
SECTIONED = tuple(kind for kind in kinds.KINDS if kind.sections_required)


def sample_context(ws: Workspace, kind: NoteKind) -> dict[str, Any]:
    """What a template is rendered with to read its sections off: the sample day stands for
    today too, so that the sections (kept by the templates' stamps) do not change overnight."""
    context = _sample_context(ws, kind)
    context["today"] = SAMPLE_DAY.isoformat()
    return context


def _sample_context(ws: Workspace, kind: NoteKind) -> dict[str, Any]:
    if kind is kinds.PAPER:
        return paper_context(ws, Paper(key="sample", title="Sample", created=SAMPLE_DAY))
    if kind is kinds.CONCEPT:
        return concept_context(
            ws=ws,
            title="Sample",
            category="fundamentals",
            stage=1,
            tags=(),
            related=[],
            created=SAMPLE_DAY,
        )
    if kind is kinds.WEEKLY:
        return weekly_context(ws, Week.of(SAMPLE_DAY), "")
    return experiment_context(ws=ws, title="Sample", slug="sample", created=SAMPLE_DAY)


def headings(ws: Workspace, kind: NoteKind) -> list[tuple[int, str]]:
    """(level, title) of the level-2 and level-3 headings the template of `kind` renders."""
    if kind is kinds.EXPERIMENT:
        source = ws.render(f"{ws.lang}/{kind.template}", sample_context(ws, kind))
        found = []
        for cell_type, text in cells(source):
            if cell_type == "markdown":
                found += [(s.level, s.title) for s in sections(text) if s.level in (2, 3)]
        return found
    body = ws.render(f"{ws.lang}/{kind.template}", sample_context(ws, kind))
    return [
        (s.level, s.title) for s in sections(parse(body, kind.template).body) if s.level in (2, 3)
    ]


def multimodal_headings(ws: Workspace) -> list[str]:
    """The headings a multimodal paper's note has besides the required ones (the
    "architecture at a glance" table), as Markdown lines: `lab check` does not require them."""
    context = paper_context(
        ws, Paper(key="sample", title="Sample", topic="multimodal", created=SAMPLE_DAY)
    )
    body = ws.render(f"{ws.lang}/{kinds.PAPER.template}", context)
    found = [
        (s.level, s.title)
        for s in sections(parse(body, kinds.PAPER.template).body)
        if s.level in (2, 3)
    ]
    required = set(headings(ws, kinds.PAPER))
    return [f"{'#' * level} {title}" for level, title in found if (level, title) not in required]


def template_sections(ws: Workspace) -> dict[str, list[str]]:
    """For CLAUDE.md: each kind's headings as Markdown lines; the notebook's cells in order."""
    result = {
        kind.value: [f"{'#' * level} {title}" for level, title in headings(ws, kind)]
        for kind in SECTIONED
    }
    result["paper_multimodal"] = multimodal_headings(ws)
    source = ws.render(
        f"{ws.lang}/{kinds.EXPERIMENT.template}", sample_context(ws, kinds.EXPERIMENT)
    )
    parts = []
    for number, (cell_type, text) in enumerate(cells(source), start=1):
        if cell_type == "markdown":
            titles = [s.title for s in sections(text) if s.level == 2]
            parts.append(f"{number}. Markdown: " + " / ".join(titles))
        else:
            first = next(
                (line.lstrip("# ").strip() for line in text.split("\n") if line.startswith("#")), ""
            )
            parts.append(f"{number}. Code: {first}")
    result["experiment"] = parts
    return result
