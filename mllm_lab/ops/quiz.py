"""`lab quiz` on a lab: its cards (ops.cards), the review log reviews/quiz-log.jsonl (each
answer appended through the one transaction as it is given), and the schedule rebuilt from the
log. Replaying a long log through FSRS costs a second, so the schedule is cached in
.lab/schedule.json, keyed by the log's checksum; an appended log is replayed from where the
cache stopped. `lab status` asks only how many cards are due: it reads the cards of the notes
those cards stood in, not the whole lab."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from mllm_lab import quizlog
from mllm_lab.caches import load_cache, save_cache
from mllm_lab.core.card import Card, CardKind
from mllm_lab.core.schedule import (
    LOG_PATH,
    CardState,
    Log,
    Queue,
    Review,
    Settings,
    Stats,
    build,
    end_of_day,
    parse_log,
    queue,
    replay_order,
    select,
    selector,
    state_of,
    state_row,
    stats,
)
from mllm_lab.models import Finding
from mllm_lab.ops.cards import (
    card_duplicates,
    card_ids,
    card_rows,
    lab_cards,
    template_stamps,
)
from mllm_lab.ops.workspace import Workspace

T = TypeVar("T")
SCHEDULE_CACHE = "schedule.bin"
PRESENCE_CACHE = "card-presence.bin"  # for `lab status`: which due cards are still in the notes


class Filter(NamedTuple):
    stages: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    def apply(self, cards: Iterable[Card]) -> list[Card]:
        return select(cards, stages=self.stages, tags=self.tags)

    def selector(self) -> Callable[[int | None, Iterable[str]], bool]:
        return selector(stages=self.stages, tags=self.tags)


class Study(NamedTuple):
    """The lab's cards and their schedule at the start of a command."""

    cards: list[Card]
    log: Log
    states: dict[str, CardState]
    problems: list[Finding]  # cards whose id is taken twice, lines of the log that are broken
    settings: Settings

    def queue(self, now: datetime, which: Filter, new: int | None = None) -> Queue[Card]:
        return queue(
            which.apply(self.cards),
            schedule=self.states,
            now=now,
            settings=self.settings,
            new_limit=new,
        )


def study(ws: Workspace, *, text: bool = True) -> Study:
    """Cards (with their questions and answers, unless `text` is False) and schedule."""
    found = lab_cards(ws, text=text)
    log, states = _log_and_schedule(ws)
    return Study(
        cards=_first_of_each_id(found.cards),
        log=log,
        states=states,
        problems=[*found.problems, *log.problems],
        settings=Settings(),
    )


def study_stats(ws: Workspace, now: datetime, which: Filter) -> tuple[Stats, list[Finding]]:
    """`lab quiz --stats`: the stats of the cards `which` takes, and the problems study()
    finds. The cards' ids are kept (.lab/results/) while no note or template changed, so
    only the log is read again: a sitting appends to it, which leaves the ids as they were."""
    from mllm_lab.messages import Msg

    def compute() -> dict[str, Any]:
        found = lab_cards(ws, text=False)
        return {
            "ids": [card.id for card in which.apply(_first_of_each_id(found.cards))],
            "problems": [[f.path, f.line, f.msg.as_json()] for f in found.problems],
        }

    kept = ws.cached(
        "quiz-ids", compute, list(which.stages), list(which.tags), ws.lang, template_stamps(ws)
    )
    log, states = _log_and_schedule(ws)
    found = [Finding(path, line, Msg.from_json(what)) for path, line, what in kept["problems"]]
    summary = stats(kept["ids"], reviews=log.reviews, schedule=states, now=now)
    return summary, [*found, *log.problems]


class CardPlace(NamedTuple):
    """Where a card stands, as queue() needs it; the rest is in due_now's columns."""

    id: str
    path: str
    line: int
    stage: int | None
    number: int  # in the kept columns


class DueNow(NamedTuple):
    queue: Queue[Card]  # with --limit applied: what a sitting would show, in its order
    states: dict[str, CardState]
    stats: Stats


def due_now(
    ws: Workspace, now: datetime, which: Filter, *, new: int | None, limit: int | None
) -> DueNow:
    """`lab quiz --json`: what a sitting would take now, and the stats, as study() gives
    them, with a Card made only of each card shown. The cards are kept (.lab/results/) while
    no note or template changed; only the text of the cards shown is decoded."""
    kept = ws.cached(
        "quiz-cards",
        lambda: _card_columns(ws, which),
        list(which.stages),
        list(which.tags),
        ws.lang,
        template_stamps(ws),
        raw="text",
    )
    paths, notes = kept["paths"], kept["note"]
    places = [
        CardPlace(card_id, paths[notes[number]], line, stage, number)
        for number, (card_id, line, stage) in enumerate(
            zip(kept["id"], kept["line"], kept["stage"], strict=True)
        )
    ]
    log, states = _log_and_schedule(ws)
    found = queue(places, schedule=states, now=now, settings=Settings(), new_limit=new)
    due, fresh = found.due, found.new
    if limit is not None:  # as a sitting would take them: due cards first
        due = due[:limit]
        fresh = fresh[: limit - len(due)]
    text, at = kept["text"], kept["at"]

    def card(place: CardPlace) -> Card:
        number, note = place.number, notes[place.number]
        question, answer = (
            text[at[piece] : at[piece + 1]].decode("utf-8", "surrogatepass")
            for piece in (2 * number, 2 * number + 1)
        )
        return Card(
            id=place.id,
            kind=CardKind(kept["kind"][number]),
            question=question,
            answer=answer,
            path=place.path,
            line=place.line,
            stage=place.stage,
            tags=tuple(kept["tags"][kept["tagged"][note]]),
            title=kept["title"][note],
            source=kept["source"][number],
        )

    shown = Queue(tuple(map(card, due)), tuple(map(card, fresh)), found.new_left)
    summary = stats(kept["id"], reviews=log.reviews, schedule=states, now=now)
    return DueNow(shown, states, summary)


def _card_columns(ws: Workspace, which: Filter) -> dict[str, Any]:
    """The cards `which` takes (the first of each id), column by column; their questions and
    answers as one run of UTF-8 (`at`: where each begins, a question, then its answer); and
    their notes' paths, titles and tag lists (the distinct ones, by number). 50,000 cards
    load in tens of milliseconds this way and only the text of the cards shown is decoded:
    a list per card took a quarter of a second, the cards' cache with every text a third.
    Made from the cards' rows, as lab_cards would make its Cards: no Card is made here."""
    takes = which.selector()
    numbers: dict[str, int] = {}  # the notes'
    tag_lists: dict[tuple[str, ...], int] = {}
    ids: list[str] = []
    kinds: list[str] = []
    notes: list[int] = []
    lines: list[int] = []
    stages: list[int | None] = []
    sources: list[str | None] = []
    paths: list[str] = []
    titles: list[str] = []
    tagged: list[int] = []
    text = bytearray()
    at = [0]
    for note, row, stage in _first_of_each_id(card_rows(ws, text=True), lambda found: found[1][0]):
        card_id, kind, line, _stage, source, question, answer = row
        if not takes(stage, note.tags):
            continue
        if note.path not in numbers:
            numbers[note.path] = len(numbers)
            paths.append(note.path)
            titles.append(note.title)
            tagged.append(tag_lists.setdefault(tuple(note.tags), len(tag_lists)))
        ids.append(card_id)
        kinds.append(kind)
        notes.append(numbers[note.path])
        lines.append(line)
        stages.append(stage)
        sources.append(source)
        for part in (question, answer):
            text += part.encode("utf-8", "surrogatepass")
            at.append(len(text))
    return {
        "id": ids,
        "kind": kinds,
        "note": notes,
        "line": lines,
        "stage": stages,
        "source": sources,
        "paths": paths,
        "title": titles,
        "tagged": tagged,
        "tags": [list(tags) for tags in tag_lists],
        "at": at,
        "text": bytes(text),
    }


def _first_of_each_id(cards: Iterable[T], id_of: Callable[[T], str] = attrgetter("id")) -> list[T]:
    """An id taken twice is a problem (reported); the first card of it counts (`id_of`: a
    card's id, of a Card or of what stands for one)."""
    unique: dict[str, T] = {}
    for card in cards:
        unique.setdefault(id_of(card), card)
    return list(unique.values())


def _log_and_schedule(ws: Workspace) -> tuple[Log, dict[str, CardState]]:
    raw = quizlog.read(ws.lab.path(LOG_PATH))
    log = parse_log(raw, LOG_PATH, ws.lang)
    states, _notes = schedule(ws, raw, log)
    return log, states


def card_problems(ws: Workspace) -> list[Finding]:
    """For `lab check`: a card id used twice, and each line of the review log that cannot be
    read (the rest of the log still counts)."""
    found = card_duplicates(ws)
    log = parse_log(quizlog.read(ws.lab.path(LOG_PATH)), LOG_PATH, ws.lang)
    return [*found, *log.problems]


def check_log(ws: Workspace) -> None:
    """Before a sitting: a log that answers cannot be appended to (not UTF-8 text, too big)
    stops it with `path:line` now, not after the first answer."""
    if ws.exists(LOG_PATH):
        ws.read(LOG_PATH)


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
            if not reviews and "times" in cache:
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
                "times": {
                    c: [s.due.timestamp(), s.last_review.timestamp()] for c, s in states.items()
                },
                "notes": notes,
            },
        )
    return states, notes


def schedule_times(ws: Workspace, text: str) -> tuple[dict[str, list[float]], dict[str, str]]:
    """When each reviewed card is due and was last reviewed (seconds since the epoch), and
    its note: all `lab status` needs, read straight from the cache when the log is as it was."""
    cache = load_cache(ws.lab, SCHEDULE_CACHE) if ws.use_index and text.strip() else {}
    times, notes = cache.get("times"), cache.get("notes")
    if (
        cache.get("settings") == repr(Settings())
        and cache.get("size") == len(text)
        and cache.get("sum") == _digest(text)
        and isinstance(times, dict)
        and isinstance(notes, dict)
    ):
        return times, notes
    states, notes = schedule(ws, text)
    return {c: [s.due.timestamp(), s.last_review.timestamp()] for c, s in states.items()}, notes


# --- what `lab status` shows ---------------------------------------------------------------


def due_summary(ws: Workspace, now: datetime) -> dict[str, Any]:
    """How many cards are due by the end of today, and how many were reviewed today."""
    path = ws.lab.path(LOG_PATH)
    if not path.exists():
        return {"due": 0, "reviewed_today": 0, "log": None}
    times, notes = schedule_times(ws, quizlog.read(path))
    end = end_of_day(now).timestamp()
    start = end - 86400
    due = [card for card, (when, _last) in times.items() if when < end]
    present = _present(ws, due, notes)
    return {
        "due": sum(card in present for card in due),
        "reviewed_today": sum(start <= last < end for _due, last in times.values()),
        "log": LOG_PATH,
    }


def _present(ws: Workspace, due: Sequence[str], notes: dict[str, str]) -> set[str]:
    """Which of these cards are still in the notes. Only the notes the log names for them are
    read; a card not found there is looked for in the whole lab (it may have moved, or be
    gone). Each answer is kept in .lab/ with what it depends on: the note's stamp, or for a
    card found elsewhere or nowhere, a stamp of the whole lab."""
    templates = template_stamps(ws)
    cache = load_cache(ws.lab, PRESENCE_CACHE) if ws.use_index else {}
    valid = cache.get("templates") == templates and isinstance(cache.get("cards"), dict)
    known: dict[str, Any] = dict(cache["cards"]) if valid else {}
    # each file's stamp as walked (what the index's records hold too): the index is not loaded
    files: dict[str, list[int]] = {f[0]: [f[2], f[3], f[4]] for f in ws.walked().found}
    whole = None
    answers: dict[str, bool] = {}
    for card in due:
        entry = known.get(card)
        if isinstance(entry, list) and len(entry) == 3:
            where, stamp, present = entry
            if (where != "*" and _stamp_of(files, where) == stamp) or (
                where == "*" and stamp == (whole := whole or _lab_stamp(files))
            ):
                answers[card] = bool(present)
    todo = [card for card in due if card not in answers]
    if todo:
        found = card_ids(ws, {notes[card] for card in todo if card in notes})
        everywhere = card_ids(ws) if any(card not in found for card in todo) else found
        whole = whole or _lab_stamp(files)
        for card in todo:
            where = notes.get(card)
            if card in found and where is not None:
                known[card] = [where, _stamp_of(files, where), True]
            else:
                known[card] = ["*", whole, card in everywhere]
            answers[card] = bool(known[card][2])
        if ws.use_index:
            save_cache(ws.lab, PRESENCE_CACHE, {"templates": templates, "cards": known})
    return {card for card in due if answers[card]}


def _stamp_of(files: dict[str, list[int]], path: str) -> list[int] | None:
    return files.get(path)


def _lab_stamp(files: dict[str, list[int]]) -> list[int]:
    """The lab's files in five numbers: a file added, removed, renamed or changed moves one."""
    stamps = files.values()
    return [
        len(files),
        sum(zlib.crc32(path.encode("utf-8", "surrogatepass")) for path in files),
        sum(stamp[0] for stamp in stamps),
        sum(stamp[1] for stamp in stamps),
        sum(stamp[2] for stamp in stamps),
    ]
