"""`lab quiz` on a lab: its cards (ops.cards), the review log reviews/quiz-log.jsonl (each
answer appended through the one transaction as it is given), and the schedule rebuilt from the
log. Replaying a long log through FSRS costs a second, so the schedule is cached in
.lab/schedule.json, keyed by the log's checksum; an appended log is replayed from where the
cache stopped. `lab status` asks only how many cards are due: it reads the cards of the notes
those cards stood in, not the whole lab."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mllm_lab import quizlog
from mllm_lab.core.cards import Card
from mllm_lab.core.schedule import (
    LOG_PATH,
    CardState,
    Log,
    Queue,
    Review,
    Settings,
    Stats,
    build,
    due_today,
    local_day,
    parse_log,
    queue,
    replay_order,
    select,
    state_of,
    state_row,
    stats,
)
from mllm_lab.models import Finding
from mllm_lab.ops.cards import card_ids, lab_cards
from mllm_lab.ops.workspace import Workspace
from mllm_lab.scan import load_cache, save_cache

SCHEDULE_CACHE = "schedule.json"


@dataclass(frozen=True)
class Filter:
    stages: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    def apply(self, cards: Iterable[Card]) -> list[Card]:
        return select(cards, stages=self.stages, tags=self.tags)


@dataclass(frozen=True)
class Study:
    """The lab's cards and their schedule at the start of a command."""

    cards: list[Card]
    log: Log
    states: dict[str, CardState]
    problems: list[Finding]  # cards whose id is taken twice, lines of the log that are broken
    settings: Settings

    def queue(self, now: datetime, which: Filter, new: int | None = None) -> Queue:
        return queue(which.apply(self.cards), self.states, now, self.settings, new_limit=new)

    def stats(self, now: datetime, which: Filter) -> Stats:
        ids = [card.id for card in which.apply(self.cards)]
        return stats(ids, self.log.reviews, self.states, now)


def study(ws: Workspace, *, text: bool = True) -> Study:
    """Cards (with their questions and answers, unless `text` is False) and schedule."""
    found = lab_cards(ws, text=text)
    raw = quizlog.read(ws.lab.path(LOG_PATH))
    log = parse_log(raw, LOG_PATH, ws.lang)
    states, _notes = schedule(ws, raw, log)
    return Study(
        cards=found.cards,
        log=log,
        states=states,
        problems=[*found.problems, *log.problems],
        settings=Settings(),
    )


def record(ws: Workspace, review: Review) -> None:
    """One answer, appended to the log through the transaction (the lab's lock, a complete
    file renamed into place): a quiz killed later has already kept it."""
    from mllm_lab.core.schedule import format_review

    with ws.transaction(views=False) as tx:
        tx.append(LOG_PATH, format_review(review))


# --- the schedule, cached ------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _from_cache(cache: dict[str, Any], text: str, key: str) -> tuple[Any, Any, str] | None:
    """(states, notes, text still to replay) from a cache made from this log or from a part
    of it that the log only added to; None when the cache cannot be used."""
    size, total = cache.get("size"), cache.get("sum")
    if cache.get("settings") != key or not isinstance(size, int) or not 0 < size <= len(text):
        return None
    if total != (_digest(text) if size == len(text) else _digest(text[:size])):
        return None
    states, notes = cache.get("states"), cache.get("notes")
    if not isinstance(states, dict) or not isinstance(notes, dict):
        return None
    return states, notes, text[size:]


def schedule(
    ws: Workspace, text: str, log: Log | None = None
) -> tuple[dict[str, CardState], dict[str, str]]:
    """Every reviewed card's schedule, and the note each card was last reviewed in, from the
    log's text (`log`: the same text already parsed)."""
    if not text.strip():
        return {}, {}
    settings = Settings()
    key = repr(settings)
    cache = load_cache(ws.lab, SCHEDULE_CACHE) if ws.use_index else {}
    start: dict[str, CardState] | None = None
    notes: dict[str, str] = {}
    reviews: Sequence[Review] = ()
    found = _from_cache(cache, text, key)
    if found is not None:
        rows, notes, tail = found
        reviews = replay_order(parse_log(tail).reviews) if tail.strip() else []
        last = datetime.fromisoformat(cache["last"]) if cache.get("last") else None
        if last is None or all(review.time > last for review in reviews):
            start = {card: state_of(row) for card, row in rows.items()}
            if not reviews:
                return start, notes
    if start is None:
        notes, reviews = {}, replay_order((log or parse_log(text)).reviews)
    states = build(reviews, settings, start=start)
    notes.update({review.card: review.note for review in reviews if review.note})
    if ws.use_index and states:
        latest = max(state.last_review for state in states.values())
        save_cache(
            ws.lab,
            SCHEDULE_CACHE,
            {
                "settings": key,
                "size": len(text),
                "sum": _digest(text),
                "last": latest.isoformat(),
                "states": {card: state_row(state) for card, state in states.items()},
                "notes": notes,
            },
        )
    return states, notes


# --- what `lab status` shows ---------------------------------------------------------------


def due_summary(ws: Workspace, now: datetime) -> dict[str, Any]:
    """How many cards are due by the end of today, and how many were reviewed today. Only
    the notes that held the due cards are read (the log names them); a card no longer in
    its note is looked for in the whole lab before it is left out."""
    path = ws.lab.path(LOG_PATH)
    if not path.exists():
        return {"due": 0, "reviewed_today": 0, "log": None}
    states, notes = schedule(ws, quizlog.read(path))
    due = due_today(states, states, now)
    where = {notes[card] for card in due if card in notes}
    present = card_ids(ws, where)
    if any(card not in present for card in due):
        present = card_ids(ws)
    today = local_day(now, now)
    reviewed = sum(local_day(state.last_review, now) == today for state in states.values())
    return {
        "due": sum(card in present for card in due),
        "reviewed_today": reviewed,
        "log": LOG_PATH,
    }
