"""`lab catalog [QUERY] [--topic T] [--stage N]`: the built-in catalog's papers filtered by
topic and stage, ranked by how well they match a query, each marked if the lab already has it.
Pure: papers and the lab's keys in, hits out; nothing is printed."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from mllm_lab.core.resolve import DEFINITE, Match, rank
from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr
from mllm_lab.models import STAGE_NUMBERS, Paper


def label(what: Match | str, lang: str) -> str:
    name = what.value if isinstance(what, Match) else what
    return tr(f"catalog.match.{name}", lang)


class Hit(NamedTuple):
    paper: Paper
    match: Match
    score: float  # 1.0 unless the match is fuzzy
    in_lab: bool

    @property
    def definite(self) -> bool:
        return self.match in DEFINITE


def search(
    papers: Iterable[Paper],
    query: str | None = None,
    *,
    topic: str | None = None,
    stage: int | None = None,
    lab_keys: Collection[str] = (),
    limit: int | None = None,
) -> list[Hit]:
    """Papers that pass the filters, definite matches first (by tier), then fuzzy candidates
    best first. Without a query every paper that passes the filters, in the given order.
    An unknown topic or stage raises InvalidValue naming the valid ones."""
    pool = filtered(papers, topic, stage)
    text = " ".join((query or "").split())
    ranked = rank(text, pool) if text else [(p, Match.ALL, 1.0) for p in pool]
    mine = {key.casefold() for key in lab_keys}
    hits = [
        Hit(paper=paper, match=how, score=score, in_lab=paper.key.casefold() in mine)
        for paper, how, score in ranked
    ]
    return hits if limit is None else hits[:limit]


def filtered(papers: Iterable[Paper], topic: str | None, stage: int | None) -> list[Paper]:
    pool = list(papers)
    if topic is not None:
        topics = sorted({paper.topic for paper in pool})
        wanted = topic.strip().casefold()
        if wanted not in {t.casefold() for t in topics}:
            raise InvalidValue("topic", topic, topics)
        pool = [paper for paper in pool if paper.topic.casefold() == wanted]
    if stage is not None:
        if stage not in STAGE_NUMBERS:
            raise InvalidValue("stage", stage, [str(s) for s in STAGE_NUMBERS])
        pool = [paper for paper in pool if paper.stage == stage]
    return pool


def hit_record(hit: Hit) -> dict[str, Any]:
    """A hit as plain data, for --json."""
    paper = hit.paper
    return {
        "key": paper.key,
        "title": paper.title,
        "authors": list(paper.authors),
        "year": paper.year,
        "venue": paper.venue,
        "arxiv": paper.arxiv,
        "url": paper.link,
        "topic": paper.topic,
        "stage": paper.stage,
        "in_lab": hit.in_lab,
        "match": hit.match.value,
        "score": hit.score,
    }
