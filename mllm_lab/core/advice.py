"""What to study next, in roadmap order: finish what is open, then the earliest stage's unread
papers, then roadmap topics that have no note yet. Each step says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mllm_lab.core.labdata import LabData
from mllm_lab.core.roadmap import STAGES, Stage
from mllm_lab.core.views import roadmap_order
from mllm_lab.models import Note, Paper, Status

STUCK_DAYS = 14

WORDS = {
    "zh": {
        "finish": "读完 {key}：{title}",
        "finish_why": "已经在读 {days} 天；先读完再开新的",
        "read": "读 {key}：{title}",
        "read_why": "{stage} 还有 {left} 篇未读，按路线图先打基础",
        "topic": "写一篇概念笔记：{topic}",
        "topic_why": "{stage} 的路线图主题，还没有笔记",
    },
    "en": {
        "finish": "Finish {key}: {title}",
        "finish_why": "reading for {days} days; finish it before starting another",
        "read": "Read {key}: {title}",
        "read_why": "{left} unread in {stage}; the roadmap builds on it",
        "topic": "Write a concept note: {topic}",
        "topic_why": "a roadmap topic of {stage} with no note yet",
    },
}


@dataclass(frozen=True)
class Step:
    kind: str  # finish, read or topic
    what: str
    why: str
    key: str | None = None
    stage: int | None = None


def covered(stage: Stage, index: int, notes: list[Note]) -> bool:
    """A roadmap topic counts as covered when a note's title or tags hold one of its keywords."""
    words = stage.keywords[index]
    for note in notes:
        haystack = " ".join([note.title, *note.tags]).casefold()
        if any(word in haystack for word in words):
            return True
    return False


def uncovered_topics(notes: list[Note], lang: str) -> list[tuple[Stage, str]]:
    concept = [n for n in notes if n.kind.study]
    return [
        (stage, stage.topics(lang)[index])
        for stage in STAGES
        for index in range(len(stage.keywords))
        if not covered(stage, index, concept)
    ]


def next_steps(data: LabData, today: date, lang: str, count: int = 5) -> list[Step]:
    words = WORDS.get(lang, WORDS["en"])
    finish: list[Step] = []
    reading = sorted(
        (p for p in data.papers if p.status is Status.READING),
        key=lambda p: (p.started or today, p.key),
    )
    for paper in reading[:2]:
        days = (today - paper.started).days if paper.started else 0
        finish.append(
            Step(
                "finish",
                words["finish"].format(key=paper.key, title=paper.title),
                words["finish_why"].format(days=days),
                paper.key,
                paper.stage,
            )
        )
    unread = sorted((p for p in data.papers if p.status is Status.UNREAD), key=roadmap_order)
    left: dict[int | None, int] = {}
    for paper in unread:
        left[paper.stage] = left.get(paper.stage, 0) + 1
    reads = [
        Step(
            "read",
            words["read"].format(key=p.key, title=p.title),
            words["read_why"].format(stage=_stage(p, lang), left=left[p.stage]),
            p.key,
            p.stage,
        )
        for p in unread[:count]
    ]
    topics = [
        Step(
            "topic",
            words["topic"].format(topic=topic),
            words["topic_why"].format(stage=stage.name(lang)),
            None,
            stage.number,
        )
        for stage, topic in uncovered_topics(data.notes, lang)[:count]
    ]
    # open work first, then reading and writing interleaved: two papers, one topic, and so on
    steps = finish[:2]
    while (reads or topics) and len(steps) < count:
        steps += reads[:2] + topics[:1]
        reads, topics = reads[2:], topics[1:]
    return steps[:count]


def _stage(paper: Paper, lang: str) -> str:
    from mllm_lab.core.roadmap import stage_name

    return stage_name(paper.stage, lang)


def stuck(data: LabData, today: date, days: int = STUCK_DAYS) -> list[Paper]:
    return [
        p
        for p in data.papers
        if p.status is Status.READING and p.started and (today - p.started).days > days
    ]
