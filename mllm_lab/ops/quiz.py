"""`lab quiz` on a lab: its cards (ops.cards), the review log reviews/quiz-log.jsonl (each
answer appended through the one transaction as it is given), and the schedule rebuilt from the
log. Replaying a long log through FSRS costs a second, so the schedule is cached in
.lab/schedule.json, keyed by the log's checksum; an appended log is replayed from where the
cache stopped. `lab status` asks only how many cards are due: it reads the cards of the notes
those cards stood in, not the whole lab."""

from __future__ import annotations

import marshal
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, NamedTuple, TypeVar

from mllm_lab import kinds, quizlog
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
    queue_numbers,
    replay_order,
    select,
    selector,
    state_of,
    state_row,
    stats,
)
from mllm_lab.models import Finding, Note
from mllm_lab.ops.cards import (
    Row,
    card_duplicates,
    card_ids,
    card_rows,
    lab_cards,
    signatures,
    template_stamps,
)
from mllm_lab.ops.cardtext import TEXT_COLUMNS, DamagedText, Texts, TextStore, piece
from mllm_lab.ops.workspace import Workspace
from mllm_lab.results import FOLDER, slot
from mllm_lab.sha import sha1
from mllm_lab.walk import Found

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
    finds. The cards (their columns, without questions and answers) are kept (.lab/results/)
    while no note or template changed, so only the log is read again: a sitting appends to
    it, which leaves them as they were; after an edit, only the edited notes are read
    (_patched_columns)."""
    from mllm_lab.messages import Msg

    kept = ws.cached(
        "quiz-ids",
        lambda: _card_columns(ws, which, text=False),
        list(which.stages),
        list(which.tags),
        ws.lang,
        template_stamps(ws),
        patch=lambda kept: _patched_columns(ws, which, kept),
    )
    log, states = _log_and_schedule(ws)
    found = [Finding(path, line, Msg.from_json(what)) for path, line, what in kept["problems"]]
    summary = stats(kept["id"], reviews=log.reviews, schedule=states, now=now)
    return summary, [*found, *log.problems]


class DueNow(NamedTuple):
    queue: Queue[Card]  # with --limit applied: what a sitting would show, in its order
    states: dict[str, CardState]
    stats: Stats


def due_now(
    ws: Workspace, now: datetime, which: Filter, *, new: int | None, limit: int | None
) -> DueNow:
    """`lab quiz --json`: what a sitting would take now, and the stats, as study() gives
    them, with a Card made only of each card shown. The cards are kept (.lab/results/) while
    no note or template changed, their texts in a file of their own (ops.cardtext): only the
    text of the cards shown is read. Should that text not be what the columns say, the cards
    are made anew, their texts kept with them."""
    kept, store = card_columns(ws, which)
    try:
        return _due_now(ws, kept, store, now, new=new, limit=limit)
    except DamagedText:
        kept, store = card_columns(ws, which, anew=True)
        return _due_now(ws, kept, store, now, new=new, limit=limit)


def card_columns(
    ws: Workspace, which: Filter, *, anew: bool = False
) -> tuple[dict[str, Any], TextStore | None]:
    """The cards `which` takes, column by column (see _card_columns), as kept for `lab quiz
    --json`, and the store their texts are in. `anew`: made again, their texts kept with
    them (a text did not read as the columns say: DamagedText)."""
    parts = (list(which.stages), list(which.tags), ws.lang, template_stamps(ws))
    where = ws.lab.state / FOLDER / f"{slot('quiz-cards', parts)}.text"
    store = TextStore(where) if ws.use_index and not anew else None
    return _kept_cards(ws, which, parts, store, anew=anew), store


def package_cards(kept: dict[str, Any], store: TextStore | None) -> Iterator[Card] | None:
    """Every card of the columns, made one at a time in an Anki package's order (anki.order:
    by stage, the unstaged last, then by place), as lab_cards would make them; None when an
    id is taken twice (the columns hold the first one only, which is not the one a package
    keeps). Raises DamagedText as the texts are read."""
    if kept["shadowed"]:
        return None
    paths, notes, stages, lines = kept["paths"], kept["note"], kept["stage"], kept["line"]
    numbers = sorted(
        range(len(kept["id"])),
        key=lambda n: (stages[n] is None, stages[n] or 0, paths[notes[n]], lines[n]),
    )
    return _cards_of_columns(kept, store, numbers)


def _cards_of_columns(
    kept: dict[str, Any], store: TextStore | None, numbers: Iterable[int]
) -> Iterator[Card]:
    texts = Texts(kept, store, whole=True)
    try:
        for number in numbers:
            yield _card_of_columns(kept, texts, number)
    finally:
        texts.close()


_CARD_KINDS = {kind.value: kind for kind in CardKind}  # a lookup: CardKind(value) took 0.3 µs


def _card_of_columns(kept: dict[str, Any], texts: Texts, number: int) -> Card:
    note = kept["note"][number]
    question, answer = texts(number)
    return Card(
        id=kept["id"][number],
        kind=_CARD_KINDS.get(kept["kind"][number]) or CardKind(kept["kind"][number]),
        question=question,
        answer=answer,
        path=kept["paths"][note],
        line=kept["line"][number],
        stage=kept["stage"][number],
        tags=tuple(kept["tags"][kept["tagged"][note]]),
        title=kept["title"][note],
        source=kept["source"][number],
    )


def _kept_cards(
    ws: Workspace,
    which: Filter,
    parts: tuple[Any, ...],
    store: TextStore | None,
    anew: bool = False,
) -> dict[str, Any]:
    return ws.cached(
        "quiz-cards",
        lambda: _card_columns(ws, which, store=store),
        *parts,
        raw="text",
        patch=lambda kept: _patched_columns(ws, which, kept, store),
        valid=(lambda _kept: False) if anew else None,
    )


def _due_now(
    ws: Workspace,
    kept: dict[str, Any],
    store: TextStore | None,
    now: datetime,
    *,
    new: int | None,
    limit: int | None,
) -> DueNow:
    paths, notes, lines = kept["paths"], kept["note"], kept["line"]
    log, states = _log_and_schedule(ws)
    found = queue_numbers(
        kept["id"],
        kept["stage"],
        lambda number: (paths[notes[number]], lines[number]),
        schedule=states,
        now=now,
        new_limit=new,
    )
    due, fresh = found.due, found.new
    if limit is not None:  # as a sitting would take them: due cards first
        due = due[:limit]
        fresh = fresh[: limit - len(due)]
    texts = Texts(kept, store)

    def card(number: int) -> Card:
        note = notes[number]
        question, answer = texts(number)
        return Card(
            id=kept["id"][number],
            kind=_CARD_KINDS.get(kept["kind"][number]) or CardKind(kept["kind"][number]),
            question=question,
            answer=answer,
            path=paths[note],
            line=lines[number],
            stage=kept["stage"][number],
            tags=tuple(kept["tags"][kept["tagged"][note]]),
            title=kept["title"][note],
            source=kept["source"][number],
        )

    try:
        shown = Queue(tuple(map(card, due)), tuple(map(card, fresh)), found.new_left)
    finally:
        texts.close()
    summary = stats(kept["id"], reviews=log.reviews, schedule=states, now=now)
    return DueNow(shown, states, summary)


COLUMNS_LAYOUT = 4  # 2: each card's own stage, the notes' stamps, the shadowed ids; 3: texts;
# 4: the notes that hold a card whose id an earlier card took
CARD_COLUMNS = ("id", "kind", "line", "stage", "own", "source")
PATCH_MOST = 64  # notes changed since the columns were kept, past which they are made anew
NOTE_KINDS = frozenset(kind.name for kind in kinds.KINDS if kind is not kinds.EXPERIMENT)


def _card_columns(
    ws: Workspace, which: Filter, text: bool = True, store: TextStore | None = None
) -> dict[str, Any]:
    """The cards `which` takes (the first of each id), column by column; where each one's
    question and answer lie (TEXT_COLUMNS), in `store`'s new file (`text_token`) or, without
    one, in the run of UTF-8 `text`; and their notes' paths, titles and tag lists (the
    distinct ones, by number). 50,000 cards load in tens of milliseconds this way and only
    the text of the cards shown is read: a list per card took a quarter of a second, the
    cards' cache with every text a third. Made from the cards' rows, as lab_cards would make
    its Cards: no Card is made here.

    Kept with them, for _patched_columns: each card's own stage (`own`, before the note it
    links gives it one), the stamps of the notes they were read from (`found`), the ids
    taken more than once (`shadowed`), the notes holding a card whose id an earlier card took
    (`shadowed_in`: that card is in no column) and the template sections a note's own are
    compared with (`signatures`). Without `text` (`lab quiz --stats`), no question or answer, and the
    cards whose id another card took first (`problems`, as lab_cards finds them)."""
    from mllm_lab.core.cards import duplicate_ids

    takes = which.selector()
    numbers: dict[str, int] = {}  # the notes'
    tag_lists: dict[tuple[str, ...], int] = {}
    columns: dict[str, list[Any]] = {name: [] for name in CARD_COLUMNS}
    ids, kinds_, lines, stages, owns, sources = (columns[name] for name in CARD_COLUMNS)
    notes: list[int] = []
    paths: list[str] = []
    titles: list[str] = []
    tagged: list[int] = []
    run = bytearray()
    placed: dict[str, list[int]] = {name: [] for name in TEXT_COLUMNS}
    rows = card_rows(ws, text=text)
    seen: set[str] = set()
    shadowed: set[str] = set()
    shadowed_in: set[str] = set()
    for found, row, _stage in rows:
        if row[0] in seen:
            shadowed.add(row[0])
            shadowed_in.add(found.path)
        seen.add(row[0])
    for note, row, stage in _first_of_each_id(rows, lambda found: found[1][0]):
        card_id, kind, line, own, source = row[:5]
        if not takes(stage, note.tags):
            continue
        if note.path not in numbers:
            numbers[note.path] = len(numbers)
            paths.append(note.path)
            titles.append(note.title)
            tagged.append(tag_lists.setdefault(tuple(note.tags), len(tag_lists)))
        ids.append(card_id)
        kinds_.append(kind)
        notes.append(numbers[note.path])
        lines.append(line)
        stages.append(stage)
        owns.append(own)
        sources.append(source)
        if text:
            _place(run, placed, *row[5:7])
    made = {
        **columns,
        "note": notes,
        "paths": paths,
        "title": titles,
        "tagged": tagged,
        "tags": [list(tags) for tags in tag_lists],
        "layout": COLUMNS_LAYOUT,
        "found": _note_stamps(ws),
        "shadowed": sorted(shadowed),
        "shadowed_in": sorted(shadowed_in),
        "signatures": signatures(ws),
    }
    if text:
        token = store.write(run) if store is not None else None
        kept = {"text_token": token} if token else {"text": bytes(run)}
        return {**made, **placed, **kept}
    places = ((row[0], note.path, row[2]) for note, row, _stage in rows)
    return {**made, "problems": [[f.path, f.line, f.msg.as_json()] for f in duplicate_ids(places)]}


def _place(run: bytearray, placed: dict[str, list[int]], question: str, answer: str) -> None:
    """A card's question and answer added to `run`, and where they lie to its columns."""
    asked, said, crc = piece(question, answer)
    for name, value in zip(TEXT_COLUMNS, (len(run), len(asked), len(said), crc), strict=True):
        placed[name].append(value)
    run += asked
    run += said


STAMPS_RUN = 512  # notes' stamps packed together (see _note_stamps)


def _note_stamps(ws: Workspace) -> list[bytes]:
    """The walk's stamps of the lab's notes, packed a run of STAMPS_RUN at a time, in walk
    order: an edited note changes its own run alone, so only that run is compared stamp by
    stamp (as objects, 50,000 stamps held 13 MB more for each `lab quiz --json`, and took
    30 ms to compare)."""
    found = [found for found in ws.walked().found if found[1] in NOTE_KINDS]
    return [
        marshal.dumps(found[at : at + STAMPS_RUN], 2) for at in range(0, len(found), STAMPS_RUN)
    ]


def _changed(then: list[bytes], now: list[bytes]) -> list[str]:
    """The notes whose stamps differ (added, removed, changed), by path."""
    if len(then) == len(now):
        pairs = [(old, new) for old, new in zip(then, now, strict=True) if old != new]
    else:  # a note added or removed moves the runs after it
        pairs = [(b"".join(then), b"".join(now))] if then != now else []
    differ: set[Found] = set()
    for old, new in pairs:
        differ.update(set(_unpacked(old)) ^ set(_unpacked(new)))
    return sorted({found[0] for found in differ})


def _unpacked(runs: bytes) -> list[Found]:
    return [tuple(found) for found in marshal.loads(runs)] if runs else []


class _Block(NamedTuple):
    """A changed note's cards, as _card_columns would take them."""

    note: Note | None  # None: the note is gone (or no longer reads)
    rows: list[Row]  # [id, kind, line, own stage, source] (+ [question, answer] with text)


def _patched_columns(
    ws: Workspace, which: Filter, kept: Any, store: TextStore | None = None
) -> dict[str, Any] | None:
    """`kept` (the columns _card_columns made from the lab as it was) brought up to the lab as
    it is: only the notes whose stamps changed since are read, their cards put in place of
    the ones they had, and the stage of each card that links one of them taken again. After
    one note was edited at 50,000 notes, this reads that note instead of building the lab and
    loading the 45 MB cache of every note's cards (2 s, 300 MB). None, to make them anew: a
    filter (a card it leaves out may be taken now), many notes changed, or a card id of a
    changed note that is, or was, taken twice (which card counts may change elsewhere)."""
    if which != Filter() or not isinstance(kept, dict) or kept.get("layout") != COLUMNS_LAYOUT:
        return None
    try:
        now = _note_stamps(ws)
        changed = _changed(kept["found"], now)
        if not changed:  # another file changed (a notebook, the reading list)
            return kept
        if len(changed) > PATCH_MOST:
            return None
        if not set(kept["shadowed_in"]).isdisjoint(changed):
            return None  # a card that another took the id of, in a changed note: said anew
        blocks = _blocks(ws, changed, kept["signatures"], text="start" in kept)
        gone: set[str] = set()  # the ids of the changed notes' cards as they were
        for path in changed:
            number = _number(kept["paths"], path)
            if number is not None:
                first, last = _cards_of(kept["note"], number)
                gone.update(kept["id"][first:last])
        new_ids = [row[0] for block in blocks.values() for row in block.rows]
        others = set(kept["id"]) - gone
        if (
            len(set(new_ids)) < len(new_ids)
            or not others.isdisjoint(new_ids)
            or not set(kept["shadowed"]).isdisjoint([*new_ids, *gone])
        ):
            return None
        made, fresh, run = _spliced(kept, blocks)
        _stage_again(made, fresh, blocks, ws)
        if "start" in made and not _text_kept(made, fresh, run, store):
            return None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return None
    made["found"] = now
    return made


def _text_kept(
    made: dict[str, Any], fresh: list[int], run: bytearray, store: TextStore | None
) -> bool:
    """The new cards' texts (`run`) appended to the file of the columns' texts, and their
    `start`s moved to where they went. False: they cannot be (no file, another, one that
    would hold too much no column names): the columns are made anew."""
    used = sum(made["qsize"]) + sum(made["asize"])
    token = made.get("text_token")
    at = store.append(token, run, used) if store is not None and token else None
    if at is None:
        return False
    starts = made["start"]
    for number in fresh:
        starts[number] += at
    return True


def _blocks(
    ws: Workspace, paths: list[str], made_with: dict[str, dict[str, str]], text: bool
) -> dict[str, _Block]:
    """Each changed note's cards (and the note), read from its file now (their questions and
    answers too, with `text`)."""
    from mllm_lab.core.labdata import note_at
    from mllm_lab.ops.cards import read_chunk

    files = ws.files()
    notes = {path: _note_of(files, path, note_at) for path in paths}
    present = [note for note in notes.values() if note is not None]
    read = dict(read_chunk(str(ws.lab.root), present, made_with, text)) if present else {}
    return {
        path: _Block(note, read.get(path, []) if note is not None else [])
        for path, note in notes.items()
    }


def _note_of(files: Any, path: str, note_at: Callable[[str, Any], Note | None]) -> Note | None:
    if path not in files or files.broken(path):
        return None
    return note_at(path, files.peek(path))


def _number(paths: list[str], path: str) -> int | None:
    """The number of the note `path` among the kept notes (sorted by path), if it has one."""
    at = bisect_left(paths, path)
    return at if at < len(paths) and paths[at] == path else None


def _cards_of(notes: list[int], number: int) -> tuple[int, int]:
    """Where the cards of the note `number` stand: the notes' numbers go up card by card."""
    return bisect_left(notes, number), bisect_right(notes, number)


def _spliced(
    kept: dict[str, Any], blocks: dict[str, _Block]
) -> tuple[dict[str, Any], list[int], bytearray]:
    """The columns with each block's cards in place of its note's old ones (in path order,
    as _card_columns puts them, each at its own stage for now); where those cards are; and
    their questions and answers, for the text file (each card's `start` is in that run)."""
    paths, notes = kept["paths"], kept["note"]
    columns = (*CARD_COLUMNS, *(TEXT_COLUMNS if "start" in kept else ()))
    made: dict[str, list[Any]] = {name: [] for name in (*columns, "paths", "title", "tagged")}
    tag_lists = {tuple(tags): number for number, tags in enumerate(kept["tags"])}
    made_notes: list[int] = []
    run = bytearray()
    card = number = 0  # where the old columns are copied from
    fresh: list[int] = []  # where the changed notes' cards are put
    for path, block in [*sorted(blocks.items()), ("", None)]:  # then the cards after the last
        if block is None:
            found, place, first, last = None, len(paths), len(notes), len(notes)
        else:
            found = _number(paths, path)
            place = bisect_left(paths, path) if found is None else found
            first, last = (
                _cards_of(notes, found) if found is not None else (bisect_left(notes, place),) * 2
            )
        # the cards and notes before this one, as they were (their numbers moved along)
        shift = len(made["paths"]) - number
        for name in columns:
            made[name] += kept[name][card:first]
        made_notes += [n + shift for n in notes[card:first]] if shift else notes[card:first]
        for name in ("paths", "title", "tagged"):
            made[name] += kept[name][number:place]
        if block is not None and block.note is not None and block.rows:
            note = block.note
            made["paths"].append(path)
            made["title"].append(note.title)
            made["tagged"].append(tag_lists.setdefault(tuple(note.tags), len(tag_lists)))
            for row in block.rows:
                card_id, kind, line, own, source = row[:5]
                made["id"].append(card_id)
                made["kind"].append(kind)
                made["line"].append(line)
                made["stage"].append(own)  # staged below, with every card that links a note
                made["own"].append(own)
                made["source"].append(source)
                fresh.append(len(made_notes))
                made_notes.append(len(made["paths"]) - 1)
                if "start" in made:
                    _place(run, made, *row[5:7])
        card, number = last, place + (found is not None)
    spliced = {
        **kept,
        **made,
        "note": made_notes,
        "tags": [list(tags) for tags in tag_lists],
    }
    return spliced, fresh, run


def _stage_again(
    made: dict[str, Any], fresh: list[int], blocks: dict[str, _Block], ws: Workspace
) -> None:
    """A card's stage is that of the note it links, if that is a note with a stage, else its
    own (see ops.cards.card_rows): the changed notes' cards (`fresh`, which may link any
    note) and every card that links a changed note take theirs again."""
    from mllm_lab.core.labdata import note_at

    files = ws.files()
    stages: dict[str, int | None] = {
        path: block.note.stage if block.note is not None else None for path, block in blocks.items()
    }
    sources, own, staged = made["source"], made["own"], made["stage"]
    linking = [at for at, source in enumerate(sources) if source in blocks]
    for at in {*fresh, *linking}:
        source = sources[at]
        if source is None:
            continue
        if source not in stages:
            note = _note_of(files, source, note_at)
            stages[source] = note.stage if note is not None else None
        stage = stages[source]
        staged[at] = stage if stage is not None else own[at]


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
    return sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


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
