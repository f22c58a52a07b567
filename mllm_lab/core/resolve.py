"""The one resolver: which paper a user means by what they typed, for every command that takes
a paper (mark, new, add, prompt, catalog, compare, completion, BibTeX import and export). Tiers,
best first: the key (case and punctuation aside), the arXiv id or URL with any version suffix,
the DOI (or its doi.org URL), the official URL, the exact title, a unique prefix of key or
title; otherwise fuzzy candidates ranked by difflib, offered as "did you mean", never taken.
`Identities` indexes the same exact tiers once, to match many records (a BibTeX file) by arXiv
id, DOI and title. Pure: papers in, papers out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

from mllm_lab.core.arxivid import arxiv_doi
from mllm_lab.core.papers import arxiv_id
from mllm_lab.errors import AmbiguousPaper, PaperNotFound
from mllm_lab.models import Paper
from mllm_lab.patterns import pattern


class Match(StrEnum):
    """How a paper matched, best first: the order of the tiers in a result."""

    KEY = "key"
    ARXIV = "arxiv"  # arXiv id or arXiv URL, any version suffix
    DOI = "doi"  # 10.xxxx/... or its doi.org URL (an arXiv paper's DOI names it too)
    URL = "url"  # the official URL of a paper without an arXiv id (GPT-1, the LLaVA-NeXT blog)
    TITLE = "title"
    PREFIX = "prefix"  # the only paper whose key or title starts with the query
    FUZZY = "fuzzy"  # a candidate, ranked by score
    ALL = "all"  # no query: every paper that passes the filters, in catalog order


DEFINITE = frozenset({Match.KEY, Match.ARXIV, Match.DOI, Match.URL, Match.TITLE, Match.PREFIX})
TIER = {match: index for index, match in enumerate(Match)}
# below this a candidate is noise: "vla" vs "vila" is 0.86, "clip" vs "blip" 0.75, "gpt" vs "dpo" 0.33
FUZZY_CUTOFF = 0.6
NEAR_CUTOFF = 0.8  # a new paper this close to a known one is probably a typo of it
PREFIX_SCORE = 0.95  # one of several papers whose key or title starts with the query
WORD_SCORE = 0.85  # the query starts a word inside the key or title ("llava" in video-llava)
WORD_FLOOR = 0.5  # a query word less like any word of a title than this counts as absent
_DOI = pattern(r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.I)
_DOI_URL = pattern(r"^https?://(?:dx\.)?doi\.org/(10\.\S+)$", re.I)
_WORD = pattern(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
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
    """The best way `query` names `paper` exactly: key (case and punctuation aside), DOI,
    arXiv id or URL with any version suffix, official URL, or title (case and punctuation
    aside)."""
    folded, squashed, doi, arxiv = _forms(query)
    # Equal casefolded means equal squashed: with a squashed query, that comparison alone
    if (_squash(paper.key) == squashed) if squashed else (paper.key.casefold() == folded):
        return Match.KEY
    if doi is not None and doi in paper_dois(paper):  # before the arXiv id: arXiv's DOIs hold one
        return Match.DOI
    if arxiv is not None and paper.arxiv == arxiv:
        return Match.ARXIV
    if "/" in query and paper.url and _url(paper.url) == _url(query):
        return Match.URL
    if squashed:
        return Match.TITLE if _squash(paper.title) == squashed else None
    return Match.TITLE if _normal(paper.title) == folded else None


@lru_cache(maxsize=16)
def _forms(query: str) -> tuple[str, str, str | None, str | None]:
    """What exact_match compares a query by, worked out once for the thousands of papers it
    is held against: casefolded, squashed, its DOI and its arXiv id."""
    return query.casefold(), _squash(query), doi_of(query), arxiv_id(query)


def doi_of(text: str) -> str | None:
    """The DOI in `10.1109/CVPR.2022.01553`, `doi:10…` or `https://doi.org/10…`, lower-cased
    (DOIs ignore case), or None."""
    match = _DOI.match(text.strip())
    return match[1].rstrip(".").lower() if match else None


def paper_dois(paper: Paper) -> tuple[str, ...]:
    """Every DOI that names `paper`: its own, a doi.org URL it links, arXiv's DOI of its id."""
    found = [paper.doi or ""]
    if paper.url and (url := _DOI_URL.match(paper.url)):
        found.append(url[1])
    if paper.arxiv:
        found.append(arxiv_doi(paper.arxiv))
    return tuple(dict.fromkeys(doi for text in found if text and (doi := doi_of(text))))


class Identities:
    """Papers indexed by what names one exactly: arXiv id, DOI and title (case and punctuation
    aside), as `exact_match` compares them; built once to match many records."""

    def __init__(self, papers: Iterable[Paper]) -> None:
        self.index: dict[tuple[Match, str], list[Paper]] = {}
        for paper in papers:
            names = [(Match.ARXIV, paper.arxiv or "")]
            names += [(Match.DOI, doi) for doi in paper_dois(paper)]
            names.append((Match.TITLE, _squash(paper.title)))
            for name in dict.fromkeys(names):
                if name[1]:
                    self.index.setdefault(name, []).append(paper)

    def find(
        self, *, arxiv: str | None, doi: str | None, title: str | None
    ) -> tuple[Match, list[Paper]] | None:
        """The papers of the best tier that has any: the arXiv id, else the DOI, else the
        title; a title does not match a paper that has another arXiv id."""
        normal = doi_of(doi) if doi else None
        for tier, value in (
            (Match.ARXIV, arxiv),
            (Match.DOI, normal),
            (Match.TITLE, _squash(title) if title else None),
        ):
            found = self.index.get((tier, value), []) if value else []
            if tier is Match.TITLE and arxiv:
                found = [paper for paper in found if paper.arxiv in (None, arxiv)]
            if found:
                return tier, list({paper.key: paper for paper in found}.values())
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


def definite(query: str, papers: Sequence[Paper], *, exact_only: bool = False) -> Paper | None:
    """The one paper `query` names by key, arXiv id, URL, title or (unless `exact_only`) a
    unique prefix; None when nothing names one; AmbiguousPaper when the best tier holds several
    papers: a query that matches two never picks one."""
    text = " ".join(query.split())
    if not text:
        return None
    folded = text.casefold()
    same = [paper for paper in papers if paper.key.casefold() == folded]
    if len(same) == 1:  # the usual case, `lab mark blip-2`: the key tier is the best one, and
        return same[0]  # of several key matches the one spelled like the query wins
    exact = _exact_matches(text, papers)
    if exact:
        best = min(TIER[how] for _, how in exact)
        chosen = list({paper.key: paper for paper, how in exact if TIER[how] == best}.values())
        if best == TIER[Match.KEY] and len(chosen) > 1:  # `blip2` is blip2 before blip-2
            chosen = [
                paper for paper in chosen if paper.key.casefold() == text.casefold()
            ] or chosen
        if len(chosen) == 1:
            return chosen[0]
        raise AmbiguousPaper(query, [described(paper) for paper in chosen])
    if exact_only:
        return None
    squashed, squash, normal = _squash(text), _squash, _normal
    firsts = {folded[0], squashed[:1]}
    found: dict[str, Paper] = {}
    # _starts, inlined, for 20,000 papers at 50,000 notes: a key or title that starts with an
    # ASCII letter or digit none of the query's forms starts with is not casefolded or
    # normalised (a character outside ASCII may casefold to more than one: it is)
    for paper in papers:
        key = paper.key
        first = key[:1]
        if (not (first.isascii() and first.isalnum()) or first.lower() in firsts) and (
            key.casefold().startswith(folded) or (squashed and squash(key).startswith(squashed))
        ):
            found[key] = paper
            continue
        first = paper.title[:1]
        if (not (first.isascii() and first.isalnum()) or first.lower() in firsts) and normal(
            paper.title
        ).startswith(folded):
            found[key] = paper
    starting = list(found.values())
    if len(starting) == 1:
        return starting[0]
    if starting:
        starting.sort(key=lambda paper: len(paper.key))
        raise AmbiguousPaper(query, [described(paper) for paper in starting])
    return None


def _exact_matches(text: str, papers: Sequence[Paper]) -> list[tuple[Paper, Match]]:
    """exact_match of `text` against each paper. A query that is no DOI, arXiv id or URL
    (a new paper's title, most often) can only name a key or a title: those two are compared
    in one pass, without a call per paper."""
    folded, squashed, doi, arxiv = _forms(text)
    if doi is not None or arxiv is not None or "/" in text:
        return [(paper, how) for paper in papers if (how := exact_match(text, paper)) is not None]
    if squashed:
        same = _squashes_to(squashed)
        return [
            (paper, Match.KEY if same(paper.key) else Match.TITLE)
            for paper in papers
            if same(paper.key) or same(paper.title)
        ]
    return [
        (paper, Match.KEY if paper.key.casefold() == folded else Match.TITLE)
        for paper in papers
        if paper.key.casefold() == folded or _normal(paper.title) == folded
    ]


def resolve_one(query: str, papers: Sequence[Paper]) -> Paper:
    """The one paper `query` names; AmbiguousPaper when the best tier holds several,
    PaperNotFound with up to five candidates, best first, otherwise."""
    found = definite(query, papers)
    if found is not None:
        return found
    text = " ".join(query.split())
    raise PaperNotFound(query, suggest(rank(text, list(papers)) if text else []))


def lab_first(lab: Sequence[Paper], catalog: Sequence[Paper]) -> list[Paper]:
    """The lab's papers, then the catalog's that the lab does not already hold (by key or
    arXiv id): what `new paper` and `add paper` look a query up in."""
    keys = {paper.key.casefold() for paper in lab}
    ids = {paper.arxiv for paper in lab if paper.arxiv}
    return list(lab) + [
        paper
        for paper in catalog
        if paper.key.casefold() not in keys and (paper.arxiv is None or paper.arxiv not in ids)
    ]


def described(paper: Paper) -> str:
    """ "blip-2 (BLIP-2: Bootstrapping …)": a paper as a message names it."""
    return f"{paper.key} ({_short(paper.title)})"


def suggest(ranked: Sequence[tuple[Paper, Match, float]], count: int = 5) -> str:
    """ "blip-2 (BLIP-2: Bootstrapping …), blip (BLIP: …)": the best candidates, for a message."""
    shown = [described(paper) for paper, how, _ in ranked if how is Match.FUZZY]
    return ", ".join(shown[:count])


def near(query: str, papers: Sequence[Paper], cutoff: float = NEAR_CUTOFF) -> list[Paper]:
    """Papers a query for a *new* paper is suspiciously close to, best first: its whole text
    is nearly a known key or title (`lava` for llava, `blipp` for blip), a likely typo. Shared
    words alone do not count: a new title may well share words with known ones."""
    folded = _normal(query)
    if not folded:
        return []
    # difflib's ratio is at most 2 * shorter / (both lengths), which _ratio looks at first:
    # here it is looked at before a key is casefolded or a title normalised, in the same
    # words, so that most of 20,000 papers cost a length each
    size = len(folded)
    scored = []
    for paper in papers:
        key, title = paper.key, paper.title
        if key.isascii() and 2.0 * min(size, len(key)) / (size + len(key)) < cutoff:
            key_score = 0.0  # casefolding an ASCII key keeps its length: _ratio says 0.0
        else:
            key_score = _ratio(folded, key.casefold(), cutoff)
        if not title.isascii():
            title_score = _ratio(folded, _normal(title), cutoff)
        elif _normal_already(title):  # its own length is its normalised one
            long = len(title)
            short = 2.0 * min(size, long) / (size + long) < cutoff
            title_score = 0.0 if short else _ratio(folded, title.lower(), cutoff)
        elif len(title) <= size and 2.0 * len(title) / (size + len(title)) < cutoff:
            title_score = 0.0  # normalising an ASCII title can only shorten it
        else:
            title_score = _ratio(folded, _normal(title), cutoff)
        score = max(key_score, title_score)
        if score >= cutoff:
            scored.append((score, paper))
    scored.sort(key=lambda found: -found[0])
    return [paper for _, paper in scored]


def _short(title: str, size: int = 40) -> str:
    return title if len(title) <= size else title[: size - 1].rstrip() + "…"


def _starts(query: str, paper: Paper) -> bool:
    folded, squashed = query.casefold(), _squash(query)
    return (
        paper.key.casefold().startswith(folded)
        or _normal(paper.title).startswith(folded)
        or bool(squashed and _squash(paper.key).startswith(squashed))
    )


def _normal_already(title: str) -> bool:
    """An ASCII title that _normal only lower-cases: one space between words, none at
    either end, no other whitespace (isprintable is False for tabs and line breaks)."""
    return title.isprintable() and "  " not in title and title[:1] != " " and title[-1:] != " "


@lru_cache(maxsize=65536)  # each paper's title, by the prefix tier and then by `near`
def _normal(title: str) -> str:
    """A title casefolded, its whitespace runs made one space and its ends stripped."""
    return " ".join(title.casefold().split())


@lru_cache(maxsize=65536)  # each paper's key and title, squashed by several tiers in a row
def _squash(text: str) -> str:
    if text.isascii():  # the same, quicker: ASCII's casefold is lower(), \w is [a-z0-9_], and
        # bytes.translate deletes in C (1 µs a title, where str.translate with a dict took 4)
        return text.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return re.sub(r"[\W_]+", "", text.casefold())


_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())


def _squashes_to(squashed: str) -> Callable[[str], bool]:
    """A test of `_squash(text) == squashed`. An ASCII text is matched as it is, by a pattern
    of the squashed characters with anything but a letter or digit between them, which
    fails at the first character that differs. A new paper's title is held against every
    key and title (40,000 at 50,000 notes), which were each squashed: 56 ms, now 28."""
    if not squashed.isascii():  # an ASCII text squashes to ASCII: only another can match
        return lambda text: not text.isascii() and _squash(text) == squashed
    gap = "[^a-z0-9]*"
    pattern = re.compile(gap + gap.join(squashed) + gap, re.IGNORECASE | re.ASCII)
    whole = pattern.fullmatch
    return lambda text: whole(text) is not None if text.isascii() else _squash(text) == squashed


def _url(text: str) -> str:
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", text.strip(), flags=re.I)
    return bare.rstrip("/")


def _ratio(a: str, b: str, floor: float = FUZZY_CUTOFF) -> float:
    """difflib's ratio, or 0.0 when its cheap upper bounds are already below `floor`:
    real_quick_ratio's (from the lengths) and quick_ratio's (the characters they share, as
    a multiset), both worked out before a matcher is made. Most candidates stop there."""
    total = len(a) + len(b)
    if not total:
        return SequenceMatcher(None, a, b, autojunk=False).ratio()
    if 2.0 * min(len(a), len(b)) / total < floor:
        return 0.0
    if a.isascii() and b.isascii():  # the characters of b that a holds, deleted at C speed:
        held = len(b) - len(b.encode().translate(None, _held(a)))  # at least those they share
        if 2.0 * held / total < floor:
            return 0.0
    if 2.0 * _shared(a, b) / total < floor:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _shared(a: str, b: str) -> int:
    """How many characters `a` and `b` share, each counted as often as both hold it: what
    difflib's quick_ratio counts, without making a matcher."""
    left = dict(_counts(a))
    shared = 0
    for char in b:
        count = left.get(char, 0)
        if count:
            left[char] = count - 1
            shared += 1
    return shared


@lru_cache(maxsize=256)  # the query's, held against every paper
def _held(text: str) -> bytes:
    """The distinct bytes of an ASCII text."""
    return bytes(sorted(set(text.encode())))


@lru_cache(maxsize=256)  # the query's, held against every paper
def _counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    return counts


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
