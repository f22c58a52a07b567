"""Spaced repetition with FSRS (the `fsrs` package). Every card's schedule is rebuilt from the
review log (core.reviewlog, whose names are re-exported here); nothing is kept in the notes.
Pure and deterministic: `now` is always passed in, and FSRS's random interval fuzz is off."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from heapq import nsmallest
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from mllm_lab.core.card import UNSTAGED, Card, Placed
from mllm_lab.core.reviewlog import LOG_PATH, Log, Rating, Review, format_review, parse_log

if TYPE_CHECKING:
    import fsrs  # only the quiz schedules

__all__ = ["LOG_PATH", "Log", "Rating", "Review", "format_review", "parse_log"]  # re-exported


# --- schedules -----------------------------------------------------------------------------


class Settings(NamedTuple):
    desired_retention: float = 0.9
    new_per_day: int = 20  # new cards a day, across the lab
    maximum_interval: int = 36500  # days
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    # A card in its learning steps due this soon is shown now rather than ending the session.
    learn_ahead: timedelta = timedelta(minutes=20)


class CardState(NamedTuple):
    card: str
    due: datetime  # UTC
    state: str  # learning, review or relearning
    step: int | None
    stability: float | None
    difficulty: float | None
    first_review: datetime  # UTC
    last_review: datetime  # UTC
    reviews: int
    lapses: int  # times it was forgotten (Again) once learned


@lru_cache(maxsize=8)
def _scheduler(settings: Settings) -> fsrs.Scheduler:
    import fsrs  # only the quiz schedules

    return fsrs.Scheduler(
        desired_retention=settings.desired_retention,
        learning_steps=settings.learning_steps,
        relearning_steps=settings.relearning_steps,
        maximum_interval=settings.maximum_interval,
        enable_fuzzing=False,  # fuzz draws from `random`: the same log must give the same days
    )


def _to_fsrs(state: CardState) -> fsrs.Card:
    import fsrs  # only the quiz schedules

    return fsrs.Card(
        card_id=1,  # fsrs's default reads the clock and sleeps 1 ms
        state=fsrs.State[state.state.capitalize()],
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due,
        last_review=state.last_review,
    )


def apply(state: CardState | None, review: Review, settings: Settings = Settings()) -> CardState:
    """A card's state after one more review (None: its first)."""
    import fsrs  # only the quiz schedules

    when = review.time.astimezone(UTC)
    before = _to_fsrs(state) if state else fsrs.Card(card_id=1, due=when)
    after, _log = _scheduler(settings).review_card(before, fsrs.Rating(int(review.rating)), when)
    lapsed = before.state == fsrs.State.Review and review.rating is Rating.AGAIN
    return CardState(
        card=review.card,
        due=after.due,
        state=after.state.name.lower(),
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        first_review=state.first_review if state else when,
        last_review=when,
        reviews=(state.reviews if state else 0) + 1,
        lapses=(state.lapses if state else 0) + lapsed,
    )


def replay_order(reviews: Iterable[Review]) -> list[Review]:
    """Reviews in time order, each (card, instant, rating) once: a union merge may have
    reordered or repeated lines."""
    unique = {(r.card, r.time.astimezone(UTC), r.rating): r for r in reviews}
    return [unique[key] for key in sorted(unique, key=lambda k: (k[1], k[0], k[2]))]


def build(
    reviews: Iterable[Review],
    settings: Settings = Settings(),
    start: Mapping[str, CardState] | None = None,
) -> dict[str, CardState]:
    """Every reviewed card's schedule, from the log alone; from `start` on, when the reviews
    all come after every review `start` was built from (a log appended to)."""
    states: dict[str, CardState] = dict(start or {})
    for review in replay_order(reviews):
        states[review.card] = apply(states.get(review.card), review, settings)
    return states


def state_row(state: CardState) -> list[Any]:
    """A CardState as a JSON list (for a cache of the schedule)."""
    return [
        state.card,
        state.due.isoformat(),
        state.state,
        state.step,
        state.stability,
        state.difficulty,
        state.first_review.isoformat(),
        state.last_review.isoformat(),
        state.reviews,
        state.lapses,
    ]


def state_of(row: list[Any]) -> CardState:
    card, due, state, step, stability, difficulty, first, last, reviews, lapses = row
    return CardState(
        card=card,
        due=datetime.fromisoformat(due),
        state=state,
        step=step,
        stability=stability,
        difficulty=difficulty,
        first_review=datetime.fromisoformat(first),
        last_review=datetime.fromisoformat(last),
        reviews=reviews,
        lapses=lapses,
    )


def preview(
    state: CardState | None, now: datetime, settings: Settings = Settings()
) -> dict[Rating, datetime]:
    """When the card would next be due for each rating given at `now` (for "1m / 10m / 3d")."""
    return {r: apply(state, Review("", now, r), settings).due for r in Rating}


# --- the day's queue -----------------------------------------------------------------------


def selector(
    stages: Iterable[int] = (), tags: Iterable[str] = ()
) -> Callable[[int | None, Iterable[str]], bool]:
    """Whether `select` takes a card of this stage in a note with these tags."""
    wanted_stages, wanted_tags = set(stages), {t.casefold() for t in tags}

    def takes(stage: int | None, card_tags: Iterable[str]) -> bool:
        return (not wanted_stages or stage in wanted_stages) and (
            not wanted_tags or any(t.casefold() in wanted_tags for t in card_tags)
        )

    return takes


def select(
    cards: Iterable[Card], stages: Iterable[int] = (), tags: Iterable[str] = ()
) -> list[Card]:
    """Cards of any of `stages` that carry any of `tags` (case-insensitive); empty: all."""
    takes = selector(stages, tags)
    return [card for card in cards if takes(card.stage, card.tags)]


def local_day(moment: datetime, now: datetime) -> date:
    """The calendar day of `moment` where the learner is: in `now`'s timezone."""
    return moment.astimezone(now.tzinfo).date()


def _check_now(now: datetime) -> None:
    if now.utcoffset() is None:
        raise ValueError("`now` must be timezone-aware")


C = TypeVar("C", bound=Placed)


class Queue(NamedTuple, Generic[C]):
    due: tuple[C, ...]  # seen before and due now, earliest due first
    new: tuple[C, ...]  # never seen, as many as today's limit leaves, in roadmap order
    new_left: int  # new cards today's limit still allows


def queue(
    cards: Sequence[C],
    schedule: Mapping[str, CardState],
    now: datetime,
    settings: Settings = Settings(),
    new_limit: int | None = None,
) -> Queue[C]:
    """What to study at `now`. Filter `cards` with `select` first; the new-card limit counts
    the cards first reviewed today across the whole log, unless `new_limit` says how many new
    cards to take now (`lab quiz --new N`)."""
    found = queue_numbers(
        [card.id for card in cards],
        [card.stage for card in cards],
        lambda number: (cards[number].path, cards[number].line),
        schedule,
        now,
        settings,
        new_limit,
    )
    return Queue(
        tuple(cards[number] for number in found.due),
        tuple(cards[number] for number in found.new),
        found.new_left,
    )


class Numbers(NamedTuple):
    due: tuple[int, ...]  # as Queue has them, by their numbers in the columns
    new: tuple[int, ...]
    new_left: int


def queue_numbers(
    ids: Sequence[str],
    stages: Sequence[int | None],
    place: Callable[[int], tuple[str, int]],
    schedule: Mapping[str, CardState],
    now: datetime,
    settings: Settings = Settings(),
    new_limit: int | None = None,
) -> Numbers:
    """`queue` of the cards given column by column (`place`: a card's path and line, by its
    number), as the numbers of the cards it takes: `lab quiz --json` at 50,000 cards makes
    no object for the cards it does not show."""
    _check_now(now)
    today = local_day(now, now)
    if new_limit is None:
        introduced = sum(local_day(s.first_review, now) == today for s in schedule.values())
        new_left = max(settings.new_per_day - introduced, 0)
    else:
        new_left = max(new_limit, 0)
    # A card in review is due for the whole day it falls due (as `lab status` counts it, and
    # as Anki does): studying in the morning takes the cards due this afternoon. A card in
    # its learning steps is due to the minute, or `learn_ahead` early.
    end, soon = end_of_day(now), now + settings.learn_ahead
    due = []
    unseen: dict[int, list[int]] = {}  # by stage, as roadmap_order ranks them
    seen = schedule.get
    for number, card_id in enumerate(ids):
        state = seen(card_id)
        if state is None:
            if new_left:
                stage = stages[number]
                unseen.setdefault(UNSTAGED if stage is None else stage, []).append(number)
        elif (state.due <= soon) if state.state != "review" else (state.due < end):
            due.append((state.due, card_id, number))
    # the first new_left of the unseen cards in roadmap order, as sorted()[:new_left] gives
    # them (ties in their order), stage by stage: not 45,000 new cards sorted to take 20
    fresh: list[int] = []
    for stage in sorted(unseen):
        if len(fresh) >= new_left:
            break
        fresh += nsmallest(new_left - len(fresh), unseen[stage], key=place)
    ordered = tuple(number for *_key, number in sorted(due, key=lambda d: d[:2]))
    return Numbers(ordered, tuple(fresh), new_left)


# --- stats ---------------------------------------------------------------------------------


RECENT = timedelta(days=30)  # the reviews retention is judged by


class Stats(NamedTuple):
    cards: int  # cards in the notes
    new: int  # of them, never reviewed
    due_today: int  # of them, reviewed before and due by the end of today
    reviews_today: int
    retention: float | None  # last 30 days: share of recalls not rated Again (None: no recall)
    recalls: int  # the reviews that retention counts
    streak: int  # days in a row with a review, up to today (or yesterday, if not yet today)


def end_of_day(now: datetime) -> datetime:
    """Midnight after `now`, where the learner is."""
    today = local_day(now, now)
    return datetime.combine(today + timedelta(days=1), datetime.min.time(), now.tzinfo)


def due_today(ids: Iterable[str], schedule: Mapping[str, CardState], now: datetime) -> list[str]:
    """The ids, of cards reviewed before, that are due by the end of today."""
    _check_now(now)
    end = end_of_day(now)
    return [i for i in dict.fromkeys(ids) if i in schedule and schedule[i].due < end]


def stats(
    ids: Iterable[str],
    reviews: Iterable[Review],
    schedule: Mapping[str, CardState],
    now: datetime,
) -> Stats:
    """Stats of the cards with these ids. A recall is a review of a card last reviewed on an
    earlier day: reviews within the learning steps of the same day say little about memory."""
    _check_now(now)
    ordered = replay_order(reviews)
    today = local_day(now, now)
    end_of_today = end_of_day(now)
    ids = set(ids)
    seen = [state for i, state in schedule.items() if i in ids]  # the fewer: not every card
    times = [review.time for review in ordered]  # in time order: the windows are found by bisection
    days = [local_day(time, now) for time in times]  # once: a long log's thousands
    up_to_now = bisect_right(times, now)
    recalled = _recalls(ordered, days, range(bisect_right(times, now - RECENT), up_to_now))
    past = days[:up_to_now]
    return Stats(
        cards=len(ids),
        new=len(ids) - len(seen),
        due_today=sum(s.due < end_of_today for s in seen),
        reviews_today=past.count(today),
        retention=(sum(recalled) / len(recalled)) if recalled else None,
        recalls=len(recalled),
        streak=_streak(set(past), today),
    )


def _recalls(ordered: Sequence[Review], days: Sequence[date], window: range) -> list[bool]:
    """For each recall among the reviews at `window`'s places (those of the 30 days up to
    now): remembered or not (`days`: each review's local day)."""
    last: dict[str, date] = {}
    found = []
    for at, (review, day) in enumerate(zip(ordered, days, strict=True)):
        before = last.get(review.card)
        last[review.card] = day
        if before is not None and before < day and at in window:
            found.append(review.rating is not Rating.AGAIN)
    return found


def _streak(days: set[date], today: date) -> int:
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


# --- JSON for `lab quiz --json` ------------------------------------------------------------


def _card_json(card: Card, state: CardState | None) -> dict[str, Any]:
    return {
        "id": card.id,
        "kind": card.kind.value,
        "question": card.question,
        "answer": card.answer,
        "path": card.path,
        "line": card.line,
        "stage": card.stage,
        "tags": list(card.tags),
        "due": state.due.isoformat() if state else None,
        "state": state.state if state else "new",
        "reviews": state.reviews if state else 0,
    }


def quiz_json(
    found: Queue[Card], schedule: Mapping[str, CardState], summary: Stats, now: datetime
) -> dict[str, Any]:
    """One JSON document, schema `mllm-lab/quiz/1`."""
    return {
        "schema": "mllm-lab/quiz/1",
        "now": now.isoformat(),
        "due": [_card_json(card, schedule.get(card.id)) for card in found.due],
        "new": [_card_json(card, None) for card in found.new],
        "stats": summary._asdict(),
    }
