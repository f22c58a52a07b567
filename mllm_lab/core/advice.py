"""What to study next, in roadmap order: finish what is open, then the earliest stage's unread
papers, then roadmap topics that have no note yet. Each step says why."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from mllm_lab.core.labdata import LabData
from mllm_lab.core.roadmap import STAGES, Stage, stage_name
from mllm_lab.core.views import roadmap_order
from mllm_lab.messages import tr
from mllm_lab.models import Note, Paper, Status

STUCK_DAYS = 14


class Step(NamedTuple):
    kind: str  # finish, read or topic
    what: str
    why: str
    key: str | None = None
    stage: int | None = None


def uncovered_topics(notes: list[Note], lang: str) -> list[tuple[Stage, str]]:
    """Roadmap topics no study note covers: a topic is covered when a note's title or tags
    hold one of its keywords. The notes' words are joined once into one text (a NUL between
    notes, which no keyword holds, so no match spans two notes) and each keyword is looked
    up in it."""
    text = "\x00".join(" ".join([n.title, *n.tags]) for n in notes if n.kind.study).casefold()
    return [
        (stage, stage.topics(lang)[index])
        for stage in STAGES
        for index, words in enumerate(stage.keywords)
        if not any(word in text for word in words)
    ]


def next_steps(
    data: LabData,
    today: date,
    lang: str,
    count: int = 5,
    uncovered: list[tuple[Stage, str]] | None = None,
) -> list[Step]:
    """`uncovered`: uncovered_topics of the lab's notes, when the caller has them already."""
    finish: list[Step] = []
    reading = sorted(
        (p for p in data.papers if p.status is Status.READING),
        key=lambda p: (p.started or today, p.key),
    )
    for paper in reading[:2]:
        days = (today - paper.started).days if paper.started else 0
        finish.append(
            Step(
                kind="finish",
                what=tr("next.finish", lang, key=paper.key, title=paper.title),
                why=tr("next.finish_why", lang, days=days),
                key=paper.key,
                stage=paper.stage,
            )
        )
    unread = sorted((p for p in data.papers if p.status is Status.UNREAD), key=roadmap_order)
    left: dict[int | None, int] = {}
    for paper in unread:
        left[paper.stage] = left.get(paper.stage, 0) + 1
    reads = [
        Step(
            kind="read",
            what=tr("next.read", lang, key=p.key, title=p.title),
            why=tr("next.read_why", lang, stage=_stage(p, lang), left=left[p.stage]),
            key=p.key,
            stage=p.stage,
        )
        for p in unread[:count]
    ]
    topics = [
        Step(
            kind="topic",
            what=tr("next.topic", lang, topic=topic),
            why=tr("next.topic_why", lang, stage=stage.name(lang)),
            key=None,
            stage=stage.number,
        )
        for stage, topic in (
            uncovered if uncovered is not None else uncovered_topics(data.notes, lang)
        )[:count]
    ]
    # open work first, then reading and writing interleaved: two papers, one topic, and so on
    steps = finish[:2]
    while (reads or topics) and len(steps) < count:
        steps += reads[:2] + topics[:1]
        reads, topics = reads[2:], topics[1:]
    return steps[:count]


def _stage(paper: Paper, lang: str) -> str:
    return stage_name(paper.stage, lang)


def stuck(data: LabData, today: date, days: int = STUCK_DAYS) -> list[Paper]:
    return [
        p
        for p in data.papers
        if p.status is Status.READING and p.started and (today - p.started).days > days
    ]
