"""One sitting of `lab quiz`: which card comes next, and what an answer changes. Cards due
come first, then new ones; a card rated Again or still in its learning steps comes back in the
same sitting once it is due (or, when nothing else is left, up to `learn_ahead` early, as Anki
does). Pure: the clock is passed in, the caller writes each review to the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mllm_lab.core.card import Card
from mllm_lab.core.schedule import CardState, Queue, Rating, Review, Settings, apply, preview


@dataclass(eq=False, repr=False)
class Session:
    """One sitting of `lab quiz`: the cards to come and every answer's effect."""

    waiting: list[Card]  # not shown yet: due cards first, then new ones
    states: dict[str, CardState]  # every card's schedule, updated by each answer
    settings: Settings = field(default_factory=Settings)
    learning: list[tuple[datetime, Card]] = field(default_factory=list)  # coming back
    ratings: Counter[Rating] = field(default_factory=Counter)
    new_ids: frozenset[str] = frozenset()  # the cards never seen before this sitting

    @classmethod
    def of(
        cls,
        found: Queue[Card],
        states: Mapping[str, CardState],
        limit: int | None = None,
        settings: Settings | None = None,
    ) -> Session:
        """A sitting over the day's queue, at most `limit` cards (due ones first)."""
        cards = [*found.due, *found.new]
        if limit is not None:
            cards = cards[: max(limit, 0)]
        return cls(
            waiting=cards,
            states=dict(states),
            settings=settings or Settings(),
            new_ids=frozenset(card.id for card in found.new),
        )

    @property
    def left(self) -> int:
        """Cards still to show at least once more."""
        return len(self.waiting) + len(self.learning)

    @property
    def answered(self) -> int:
        return sum(self.ratings.values())

    def next(self, now: datetime) -> Card | None:
        """The card to show at `now`: a learning card that is due, else the next waiting one,
        else the learning card due soonest if it is within `learn_ahead`; None: done."""
        self.learning.sort(key=lambda pair: pair[0])
        if self.learning and self.learning[0][0] <= now:
            return self.learning.pop(0)[1]
        if self.waiting:
            return self.waiting.pop(0)
        if self.learning and self.learning[0][0] <= now + self.settings.learn_ahead:
            return self.learning.pop(0)[1]
        return None

    def intervals(self, card: Card, now: datetime) -> dict[Rating, datetime]:
        """When the card would be due again for each rating given now."""
        return preview(self.states.get(card.id), now, self.settings)

    def answer(
        self, card: Card, rating: Rating, now: datetime, duration_ms: int | None = None
    ) -> Review:
        """The review to log; the card's schedule moves on and, if it is due again soon, the
        card is queued to come back in this sitting."""
        review = Review(
            card=card.id, time=now, rating=rating, duration_ms=duration_ms, note=card.path
        )
        state = apply(self.states.get(card.id), review, self.settings)
        self.states[card.id] = state
        self.ratings[rating] += 1
        if state.state != "review" or state.due <= now:
            self.learning.append((state.due, card))
        return review

    def next_due(self, cards: Sequence[Card]) -> datetime | None:
        """When the soonest of these cards is due after this sitting."""
        dues = [self.states[c.id].due for c in cards if c.id in self.states]
        return min(dues, default=None)
