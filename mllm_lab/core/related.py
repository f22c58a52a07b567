"""Related notes, found on purpose: the notes a note already links to, the papers and notes
its tags name, the notes sharing its rarer tags, and the notes whose titles share its rarer
words. Rarity is inverse document frequency over the lab's titles plus a background of the
field's paper titles, so "learning" or "model" (in half the titles of the field) relate
nothing, while "contrastive" or "Q-Former" do. Each candidate says why it was chosen."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from mllm_lab.core.labdata import stem
from mllm_lab.models import Note
from mllm_lab.patterns import pattern

_PARTS = pattern(r"[-.]")
_ASCII_WORD = pattern(r"[a-z0-9]+(?:[-.][a-z0-9]+)*")


@lru_cache(maxsize=1)
def _word() -> re.Pattern[str]:  # its CJK range takes 1.5 ms to compile: only when one is met
    return re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*|[\u3400-\u9fff]+")


_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "into",
        "what",
        "how",
        "why",
        "role",
        "in",
        "of",
        "a",
        "an",
        "on",
        "to",
        "is",
        "are",
        "its",
        "via",
        "vs",
        "using",
        "based",
        "towards",
        "toward",
        "all",
        "you",
        "need",
        "new",
        "beyond",
    ]
)
# Words of almost every research title: rare in a small lab, but they relate nothing.
_GENERIC = frozenset(
    [
        "learning",
        "learn",
        "learned",
        "model",
        "models",
        "modeling",
        "modelling",
        "approach",
        "method",
        "methods",
        "network",
        "networks",
        "deep",
        "neural",
        "large",
        "efficient",
        "scaling",
        "improving",
        "improved",
        "better",
        "simple",
        "general",
        "study",
        "analysis",
        "understanding",
        "note",
        "notes",
    ]
)
LINKED = 100.0  # a note this one links to is always related
NAMED = 8.0  # a tag (or a title word) that is a paper's key or a note's file name
TAG = 2.0  # times the rarity of each shared tag
RARE = 0.1  # a title word counts when at most this share of titles has it ...
FEW = 2  # ... or when at most this many titles have it (a small lab)


def title_terms(title: str) -> set[str]:
    """Words of a title: English words (hyphenated ones also in parts), Chinese bigrams."""
    words: set[str] = set()
    folded = title.casefold()
    for token in (_ASCII_WORD if folded.isascii() else _word()).findall(folded):
        if token[0] >= "\u3400":
            words |= {token[i : i + 2] for i in range(len(token) - 1)} or {token}
        elif len(token) > 1 and token not in _STOP and token not in _GENERIC:
            if len(token) > 2 or any(ch.isdigit() for ch in token):
                words.add(token)
            if "-" in token or "." in token:
                parts = _PARTS.split(token)
                words |= {p for p in parts if len(p) > 2 and p not in _STOP and p not in _GENERIC}
    return words


class Related(NamedTuple):
    path: str
    title: str
    score: float
    reasons: tuple[str, ...]  # "link", "named:<tag>", "tag:<tag>", "term:<word>"


class Rarity:
    """Inverse document frequency of words over a set of titles (each title's words once)."""

    def __init__(self, titles: Iterable[set[str]]) -> None:
        self.df: Counter[str] = Counter()
        self.total = 0
        for words in titles:
            self.total += 1
            self.df.update(words)

    @classmethod
    def of(cls, titles: Iterable[str]) -> Rarity:
        return cls(title_terms(title) for title in dict.fromkeys(titles))

    def weight(self, term: str) -> float:
        """0 for a common word; else its idf (a word no title has counts as seen once)."""
        df = max(self.df.get(term, 0), 1)
        if df > FEW and df > RARE * self.total:
            return 0.0
        return math.log((self.total + 1) / (df + 0.5))


def _tag_weights(notes: Sequence[Note]) -> dict[str, float]:
    """Each tag's rarity among the notes: ln((N + 1) / df), at least a small positive."""
    df = Counter(tag for note in notes for tag in {t.casefold() for t in note.tags})
    total = len(notes)
    return {tag: max(math.log((total + 1) / count), 0.1) for tag, count in df.items()}


@dataclass(eq=False, repr=False)
class _Score:
    """How related one note is, and the reasons."""

    score: float = 0.0
    reasons: list[str] | None = None

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons = [*(self.reasons or []), reason]


def find_related(
    notes: Sequence[Note],
    *,
    title: str,
    tags: Sequence[str] = (),
    slug: str | None = None,
    linked: Iterable[str] = (),
    keys: Mapping[str, str] | None = None,
    background: Iterable[str] = (),
    exclude: str | None = None,
    limit: int = 5,
) -> list[Related]:
    """The notes most related to a note titled `title` with `tags`, best first: every note
    it links to (`linked`, lab paths), then up to `limit` more. `keys` maps paper keys
    (casefolded) to their notes; `background` adds titles to judge rarity by."""
    study = [n for n in notes if n.kind.study and n.path != exclude]
    by_path = {n.path: n for n in study}
    query = title_terms(title)
    titles = dict.fromkeys([*(n.title for n in study), *background])
    words = _words_of(titles, query)
    rarity = Rarity(words.values())
    rarity.total = len(titles)  # the titles that hold none of the words count too
    terms = {t: rarity.weight(t) for t in query}
    scores: dict[str, _Score] = {}

    def give(path: str, points: float, reason: str) -> None:
        if path in by_path and points > 0:
            scores.setdefault(path, _Score()).add(points, reason)

    pointed = [path for path in dict.fromkeys(linked) if path in by_path]
    for path in pointed:
        give(path, LINKED, "link")
    wanted_tags = {t.casefold() for t in tags}
    named = [*sorted(wanted_tags), *sorted(t for t, weight in terms.items() if weight > 0)]
    names = _names(study, keys or {}, set(named))
    for name in named:
        for path in names.get(name, ()):
            give(path, NAMED, f"named:{name}")
    own = (slug or "").casefold()
    tag_weight = _tag_weights(study) if wanted_tags else {}
    by_weight = sorted(terms, key=lambda t: (-terms[t], t))
    looked = wanted_tags | {own} if own else wanted_tags  # none: no note's tags are looked at
    for note in study:
        # a note's tags are taken apart only when one of them is looked for (one note in
        # thousands): the test is a third of the cost of making the set for every note
        if looked and not looked.isdisjoint(map(str.casefold, note.tags)):
            theirs = {t.casefold() for t in note.tags}
            if own and own in theirs:
                give(note.path, NAMED, f"named:{own}")
            for tag in sorted(wanted_tags & theirs):
                give(note.path, TAG * tag_weight[tag], f"tag:{tag}")
        shared = words.get(note.title)
        if shared:
            for term in (t for t in by_weight if t in shared):
                give(note.path, terms[term], f"term:{term}")
    ranked = sorted(scores, key=lambda path: (-scores[path].score, path))
    chosen = [p for p in ranked if p in pointed] + [p for p in ranked if p not in pointed][:limit]
    return [
        Related(
            path=path,
            title=by_path[path].title,
            score=round(scores[path].score, 3),
            reasons=tuple(dict.fromkeys(scores[path].reasons or [])),
        )
        for path in chosen
    ]


def _words_of(titles: Iterable[str], query: set[str]) -> dict[str, set[str]]:
    """The words of the titles that can share one with `query` (a title that does not hold
    a query word as a substring cannot): what rarity and matching need, at a fraction of the
    cost of splitting 10,000 titles."""
    found: dict[str, set[str]] = {}
    if not query:
        return found
    holds = _any_of(query)
    for title in titles:
        if holds(title.casefold()):
            found[title] = title_terms(title) & query
    return found


def _any_of(words: Iterable[str]) -> Callable[[str], object]:
    """Whether a text holds any of `words` (not empty): one search of it, not one per word."""
    return re.compile("|".join(map(re.escape, sorted(words)))).search


def _names(notes: Sequence[Note], keys: Mapping[str, str], wanted: set[str]) -> dict[str, set[str]]:
    """Notes by the `wanted` names a tag can give them: a paper's key, a note's file name
    (a file name is worked out only for a path that holds one of the names)."""
    names: dict[str, set[str]] = {}
    for key, path in keys.items():
        if key.casefold() in wanted:
            names.setdefault(key.casefold(), set()).add(path)
    if not wanted:
        return names
    holds = _any_of(wanted)
    for note in notes:
        if holds(note.path.casefold()):
            name = stem(note.path).casefold()
            if name in wanted:
                names.setdefault(name, set()).add(note.path)
    return names
