"""Where the learner stands: progress per roadmap stage, what is being read, this week's
activity and the next papers in roadmap order. A plain dict, the schema of `lab status --json`."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from mllm_lab import kinds
from mllm_lab.core.labdata import LabData
from mllm_lab.core.papers import reading_events
from mllm_lab.core.roadmap import STAGES, stage_name
from mllm_lab.core.views import roadmap_order
from mllm_lab.models import Paper, Status, Week, in_brief

SCHEMA = "mllm-lab/status/1"


def next_papers(papers: list[Paper], count: int = 3) -> list[Paper]:
    """Unread papers in roadmap order: earliest stage first, then the oldest paper."""
    return sorted((p for p in papers if p.status is Status.UNREAD), key=roadmap_order)[:count]


def _paper(paper: Paper, lang: str) -> dict[str, Any]:
    return {
        "key": paper.key,
        "title": paper.title,
        "status": paper.status.value,
        "stage": paper.stage,
        "stage_name": stage_name(paper.stage, lang),
        "year": paper.year,
        "note": paper.note,
        "url": paper.link,
    }


def status_report(data: LabData, today: date, lang: str, weekly_log: str | None) -> dict[str, Any]:
    week = Week.of(today)
    counts = Counter(p.status for p in data.papers)
    # one pass over papers, and the notes counted by kind, stage and day (not one per stage,
    # nor a Note made of each of 50,000 notes)
    total_by_stage = Counter(p.stage for p in data.papers)
    read_by_stage = Counter(p.stage for p in data.papers if p.status is Status.READ)
    notes_by_stage: Counter[int | None] = Counter()
    by_kind: Counter[str] = Counter()
    monday, sunday = week.monday.toordinal(), week.sunday.toordinal()
    created = 0
    for (kind, at_stage, day), count in data.note_facts().items():
        by_kind[kind] += count
        if kinds.BY_NAME[kind].study:
            notes_by_stage[at_stage] += count
            created += count if monday <= day <= sunday else 0
    stages = []
    for stage in STAGES:
        total, read = total_by_stage[stage.number], read_by_stage[stage.number]
        stages.append(
            {
                "number": stage.number,
                "name": stage.name(lang),
                "papers_read": read,
                "papers_total": total,
                "notes": notes_by_stage[stage.number],
                "done": bool(total) and read == total,  # views.stage_done, counted
            }
        )
    reading = sorted(
        (p for p in data.papers if p.status is Status.READING),
        key=lambda p: (p.started or today, p.key),
    )
    started, finished = _changed_in(week, data.papers)
    return {
        "schema": SCHEMA,
        "today": today.isoformat(),
        "week": week.name,
        "stages": stages,
        "papers": {
            "total": len(data.papers),
            "unread": counts[Status.UNREAD],
            "reading": counts[Status.READING],
            "read": counts[Status.READ],
        },
        "notes": {
            "total": sum(notes_by_stage.values()),
            "concept": by_kind[kinds.CONCEPT.name],
            "paper": by_kind[kinds.PAPER.name],
            "experiments": len(data.experiments),
            "weekly_logs": by_kind[kinds.WEEKLY.name],
        },
        "reading_now": [
            {
                **_paper(p, lang),
                "started": p.started.isoformat() if p.started else None,
                "days": (today - p.started).days if p.started else None,
            }
            for p in reading
        ],
        "this_week": {
            "week": week.name,
            "notes_created": created,
            "papers_started": started,
            "papers_finished": finished,
            "experiments_created": sum(week.contains(e.created) for e in data.experiments),
            "weekly_log": weekly_log,
        },
        "next": [_paper(p, lang) for p in next_papers(data.papers)],
        "problems": [str(finding) for finding in data.findings],
        "skipped": in_brief(data.findings).skipped,  # problems that left their file out
    }


def _changed_in(week: Week, papers: list[Paper]) -> tuple[int, int]:
    """Papers that were started, and papers that were finished, in `week` (each counted once,
    however often)."""
    started = finished = 0
    for paper in papers:
        if not (paper.history or paper.started or paper.finished):
            continue  # no events at all: most unread papers
        states = {state for day, state in reading_events(paper) if week.contains(day)}
        started += Status.READING in states
        finished += Status.READ in states
    return started, finished
