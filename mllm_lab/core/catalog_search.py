"""`lab catalog [QUERY] [--topic T] [--stage N]`: the built-in catalog's papers filtered by
topic and stage, ranked by how well they match a query, each marked if the lab already has it.
Pure: papers and the lab's keys in, hits out; nothing is printed."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache
from typing import Any

from mllm_lab.core.papers import arxiv_id
from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr
from mllm_lab.models import STAGE_NUMBERS, Paper


class Match(StrEnum):
    """How a paper matched, best first: the order of the tiers in a result."""

    KEY = "key"
    ARXIV = "arxiv"  # arXiv id or arXiv URL, any version suffix
    URL = "url"  # the official URL of a paper without an arXiv id (GPT-1, the LLaVA-NeXT blog)
    TITLE = "title"
    PREFIX = "prefix"  # the only paper whose key or title starts with the query
    FUZZY = "fuzzy"  # a candidate, ranked by score
    ALL = "all"  # no query: every paper that passes the filters, in catalog order


DEFINITE = frozenset({Match.KEY, Match.ARXIV, Match.URL, Match.TITLE, Match.PREFIX})
TIER = {match: index for index, match in enumerate(Match)}
# below this a candidate is noise: "vla" vs "vila" is 0.86, "clip" vs "blip" 0.75, "gpt" vs "dpo" 0.33
FUZZY_CUTOFF = 0.6
PREFIX_SCORE = 0.95  # one of several papers whose key or title starts with the query
WORD_SCORE = 0.85  # the query starts a word inside the key or title ("llava" in video-llava)
WORD_FLOOR = 0.5  # a query word less like any word of a title than this counts as absent
_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
# words that would make every title look alike ("... is all you need")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "all",
        "for",
        "from",
        "in",
        "is",
        "of",
        "on",
        "the",
        "to",
        "via",
        "with",
        "you",
        "your",
    ]
)


def label(what: Match | str, lang: str) -> str:
    name = what.value if isinstance(what, Match) else what
    return tr(f"catalog.match.{name}", lang)


@dataclass(frozen=True)
class Hit:
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


def rank(query: str, pool: list[Paper]) -> list[tuple[Paper, Match, float]]:
    exact = [(paper, how) for paper in pool if (how := exact_match(query, paper)) is not None]
    exact.sort(key=lambda found: TIER[found[1]])
    if not exact:
        starting = [paper for paper in pool if _starts(query, paper)]
        exact = [(starting[0], Match.PREFIX)] if len(starting) == 1 else []
    if arxiv_id(query) is not None or "/" in query:
        return [(paper, how, 1.0) for paper, how in exact]  # an id or a URL is not fuzzy
    seen = {paper.key for paper, _ in exact}
    scored = [(paper, similarity(query, paper)) for paper in pool if paper.key not in seen]
    order = {paper.key: index for index, paper in enumerate(pool)}
    candidates = sorted(
        (found for found in scored if found[1] >= FUZZY_CUTOFF),
        key=lambda found: (-found[1], order[found[0].key]),
    )
    return [(paper, how, 1.0) for paper, how in exact] + [
        (paper, Match.FUZZY, round(score, 3)) for paper, score in candidates
    ]


def exact_match(query: str, paper: Paper) -> Match | None:
    """The best way `query` names `paper` exactly: key (case and punctuation aside), arXiv id
    or URL with any version suffix, official URL, or title (case and punctuation aside)."""
    folded, squashed = query.casefold(), _squash(query)
    if paper.key.casefold() == folded or (squashed and _squash(paper.key) == squashed):
        return Match.KEY
    arxiv = arxiv_id(query)
    if arxiv is not None and paper.arxiv == arxiv:
        return Match.ARXIV
    if "/" in query and paper.url and _url(paper.url) == _url(query):
        return Match.URL
    title = " ".join(paper.title.casefold().split())
    if title == folded or (squashed and _squash(paper.title) == squashed):
        return Match.TITLE
    return None


def similarity(query: str, paper: Paper) -> float:
    """0..1 (below 1): a prefix of key or title, then the start of a word in them, then the
    best difflib ratio of the query, or of its words, against the key and the title."""
    if _starts(query, paper):
        return PREFIX_SCORE
    folded = query.casefold()
    key, title = paper.key.casefold(), paper.title.casefold()
    word_start = re.compile(r"(?<![a-z0-9])" + re.escape(folded))
    if len(folded) >= 3 and (word_start.search(key) or word_start.search(title)):
        return WORD_SCORE
    whole = max(_ratio(folded, key), _ratio(folded, title))
    return min(max(whole, _words_ratio(folded, f"{key} {title}")), WORD_SCORE - 0.01)


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


def _starts(query: str, paper: Paper) -> bool:
    folded, squashed = query.casefold(), _squash(query)
    return (
        paper.key.casefold().startswith(folded)
        or " ".join(paper.title.casefold().split()).startswith(folded)
        or bool(squashed and _squash(paper.key).startswith(squashed))
    )


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _url(text: str) -> str:
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", text.strip(), flags=re.I)
    return bare.rstrip("/")


def _ratio(a: str, b: str, floor: float = FUZZY_CUTOFF) -> float:
    """difflib's ratio, or 0.0 when its cheap upper bounds are already below `floor`."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


@lru_cache(maxsize=8192)
def _word_ratio(word: str, target: str) -> float:
    # titles share many words: cached, a query costs a few ms instead of tens
    return _ratio(word, target, WORD_FLOOR)


def _words_ratio(query: str, text: str) -> float:
    """Mean, over the query's words, of each word's best ratio against a word of `text`:
    "flamngo fewshot" still finds Flamingo."""
    words = _WORD.findall(query)
    words = [word for word in words if word not in _STOPWORDS] or words
    targets = set(_WORD.findall(text)) - _STOPWORDS
    if not words or not targets:
        return 0.0
    best = [max(_word_ratio(word, target) for target in targets) for word in words]
    return sum(best) / len(best)
