"""A card, as the quiz, the schedule and the Anki export see it, without the parsing that
finds cards in notes (core.cards): what a command that only shows or schedules cards imports
(`lab quiz --json` from its kept columns, the schedule)."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple, Protocol


class CardKind(StrEnum):
    INTERVIEW = "interview"  # a concept note's interview answer
    SUMMARY = "summary"  # a paper note's one-sentence summary
    SELFTEST = "selftest"  # an answered self-test question of a review note
    EXPLICIT = "explicit"  # a Q:/A: pair or a [!question] callout, in any note


class Card(NamedTuple):
    id: str
    kind: CardKind
    question: str  # Markdown
    answer: str  # Markdown
    path: str  # lab-relative path of the note
    line: int  # 1-based line in the file where the card starts
    stage: int | None = None
    tags: tuple[str, ...] = ()
    title: str = ""  # the note's title
    source: str | None = None  # the note a self-test question links to: its stage is the card's


class Placed(Protocol):
    """Where a card stands, all that scheduling and ordering need: a Card, or the row of one
    kept in .lab/ (ops.quiz.due_now)."""

    @property
    def id(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def stage(self) -> int | None: ...


UNSTAGED = 99  # where roadmap_order ranks a card without a stage: after every stage


def roadmap_order(card: Placed) -> tuple[int, str, int]:
    """Sort key: stage by stage along the roadmap (cards without one last), then where they
    stand."""
    return (card.stage if card.stage is not None else UNSTAGED, card.path, card.line)
