"""The lab's cards (core.cards), read from the notes and kept in .lab/ by each note's stamp, so
that only notes changed since the last command are read again.

Two caches, each complete for the notes it has seen: `.lab/cards.json` holds every card with
its question and answer (for `lab quiz` and `lab export anki`); `.lab/card-ids.json` holds
only what counting needs (id, kind, line, stage, linked note) and is what `lab status` and
`lab quiz --stats` load. A card's title and tags come from the lab's index when it is built,
and a self-test card's stage from the note it links to, as they are now. Both caches name the
templates they were made with: a changed template (a section that counts as unwritten)
invalidates them. Reading 10,000 notes costs seconds; a warm cache, milliseconds."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mllm_lab import __version__, kinds
from mllm_lab.caches import as_json, load_cache, save_cache
from mllm_lab.core.card import Card, CardKind
from mllm_lab.cores import in_two_processes, usable_cores
from mllm_lab.errors import LabError
from mllm_lab.models import Finding, Note
from mllm_lab.ops.workspace import Workspace
from mllm_lab.results import RESTAMP
from mllm_lab.walk import changed_ns

if TYPE_CHECKING:
    from mllm_lab.scan import Files

# Finding cards in notes (core.cards), the index (scan) and their caches are imported where
# they are used: `lab quiz --json` with its cards kept needs template_stamps alone.

CARDS_CACHE = "cards.bin"
IDS_CACHE = "card-ids.bin"
# The kinds whose template sections may hold a card (their unwritten form is no card).
SECTION_KINDS = (kinds.CONCEPT, kinds.PAPER)
PARALLEL_FROM = 1500  # notes to read before a second process pays for itself
CHUNK = 250
Row = list[Any]  # [id, kind, line, stage, source] (+ [question, answer] in cards.json)


class LabCards(NamedTuple):
    cards: list[Card]  # in the order the notes and the cards stand
    problems: list[Finding]  # a card id used twice


def lab_cards(ws: Workspace, *, text: bool = True, paths: Iterable[str] | None = None) -> LabCards:
    """The cards of the lab's notes (of `paths` only, when given). Without `text`, questions
    and answers are left empty: counting and scheduling need only the ids."""
    from mllm_lab.core.cards import duplicates

    cards = [_card(note, row, stage) for note, row, stage in card_rows(ws, text=text, paths=paths)]
    return LabCards(cards, duplicates(cards, ws.lang))


def card_rows(
    ws: Workspace, *, text: bool = True, paths: Iterable[str] | None = None
) -> list[tuple[Note, Row, int | None]]:
    """What lab_cards makes its Cards of, in the same order: each card's note, its row and
    its stage (a self-test card's is that of the note it links to, if that has one)."""
    notes = {note.path: note for note in ws.data().notes}
    wanted = sorted(notes if paths is None else {p for p in paths if p in notes})
    rows = _cached_rows(ws=ws, notes=notes, wanted=wanted, text=text)
    found = []
    for path in wanted:
        note = notes[path]
        for row in rows.get(path, []):
            source = notes.get(row[4]) if row[4] is not None else None
            stage = source.stage if source is not None and source.stage is not None else row[3]
            found.append((note, row, stage))
    return found


def card_duplicates(ws: Workspace) -> list[Finding]:
    """What lab_cards(ws).problems holds, from the cached rows alone: no Card is made."""
    from mllm_lab.core.cards import duplicate_ids

    notes = {note.path: note for note in ws.data().notes}
    wanted = sorted(notes)
    rows = _cached_rows(ws=ws, notes=notes, wanted=wanted, text=False)
    return duplicate_ids((row[0], path, row[2]) for path in wanted for row in rows.get(path, []))


def card_ids(ws: Workspace, paths: Iterable[str] | None = None) -> set[str]:
    """The ids of the cards of the lab's notes (of `paths` only, when given): no Card is
    made, which is what keeps `lab status` quick."""
    notes = {note.path: note for note in ws.data().notes}
    wanted = sorted(notes if paths is None else {p for p in paths if p in notes})
    rows = _cached_rows(ws=ws, notes=notes, wanted=wanted, text=False)
    return {row[0] for found in rows.values() for row in found}


def _card(note: Note, row: Row, stage: int | None) -> Card:
    card_id, kind, line, _stage, source = row[:5]
    return Card(
        id=card_id,
        kind=CardKind(kind),
        question=row[5] if len(row) > 5 else "",
        answer=row[6] if len(row) > 6 else "",
        path=note.path,
        line=line,
        stage=stage,
        tags=note.tags,
        title=note.title,
        source=source,
    )


# --- the cache -----------------------------------------------------------------------------


def _stamp(files: Files, path: str) -> list[int] | None:
    return None if path not in files or files.broken(path) else files.stamp_of(path)


def _cached_rows(
    ws: Workspace, notes: Mapping[str, Note], wanted: Sequence[str], text: bool
) -> dict[str, list[Row]]:
    """Rows per note: from the cache where the note's stamp matches, read anew otherwise;
    the cache is saved when anything was read (and, for whole cards, the ids cache too)."""
    templates = template_stamps(ws)
    stored, kept_signatures = _load(ws, CARDS_CACHE if text else IDS_CACHE, templates)
    result: dict[str, list[Row]] = {}
    stale: list[str] = []
    files = ws.files()  # once: 10,000 calls of ws.files() cost 50 ms
    held = [path for path in wanted if path in files]
    for path, (mtime, size, inode, broken) in zip(held, files.stamps(held), strict=True):
        if broken:
            continue
        entry = stored.get(path)
        if isinstance(entry, list) and entry[:3] == [mtime, size, inode]:
            result[path] = entry[3]
        else:
            stale.append(path)
    if not stale:
        return result
    made_with = kept_signatures or signatures(ws)
    read = _read_all(ws.lab.root, [notes[path] for path in stale], made_with, text=text)
    result.update(read)
    if ws.use_index and (len(read) > RESTAMP or _rows_changed(stored, result, read)):
        made = {"templates": templates, "signatures": made_with}
        _save(
            ws, CARDS_CACHE if text else IDS_CACHE, made=made, stored=stored, read=read, text=text
        )
        if text:  # what was read serves the ids cache as well
            ids, _ = _load(ws, IDS_CACHE, templates)
            _save(ws, IDS_CACHE, made=made, stored=ids, read=read, text=False)
    return result


def _rows_changed(
    stored: Mapping[str, Any], result: Mapping[str, list[Row]], read: Iterable[str]
) -> bool:
    """Whether a note read again has rows other than those kept (or none kept). A note
    edited below its cards (the usual edit) has the same ones: the cache, megabytes at
    50,000 notes, is not written again for it; it is read again next time, until RESTAMP
    such notes make the save worth it."""
    for path in read:
        entry = stored.get(path)
        if not isinstance(entry, list) or len(entry) != 4 or entry[3] != as_json(result[path]):
            return True
    return False


def _load(ws: Workspace, name: str, templates: list[Any]) -> tuple[dict[str, Any], Any]:
    """A cache's entries by note path, and the template signatures it was made with; empty
    when it was made with other templates (or cannot be trusted)."""
    cache = load_cache(ws.lab, name) if ws.use_index else {}
    if cache.get("templates") != templates or not isinstance(cache.get("notes"), dict):
        return {}, None
    return cache["notes"], cache.get("signatures")


def _save(
    ws: Workspace,
    name: str,
    *,
    made: dict[str, Any],
    stored: dict[str, Any],
    read: Mapping[str, list[Row]],
    text: bool,
) -> None:
    """`stored` with what was `read`, saved as cache `name` (`made`: templates, signatures).
    What `stored` held came from the cache, as JSON gives it back; what was read is so
    already: _row makes each row a list of strings, ints and Nones, and a stamp is a list of
    ints. (Sent through JSON to make sure, the rows of 50,000 notes took 0.4 s and held a
    second copy of every question and answer, 77 MB, until the command ended.)"""
    files = ws.files()
    for path, rows in read.items():
        stored[path] = [*(_stamp(files, path) or []), rows if text else [row[:5] for row in rows]]
    kept = {path: entry for path, entry in stored.items() if path in files}
    save_cache(ws.lab, name, {**as_json(made), "notes": kept}, shaped=True)


def template_stamps(ws: Workspace) -> list[Any]:
    """What the unwritten form of the card sections depends on: the lab's language, lab's
    version, every file of the lab's own templates (a card section may include a partial of
    any name) and each packaged template that may be used."""
    stamps: list[Any] = [ws.lang, __version__, ws.templates_stamp()]
    for kind in SECTION_KINDS:
        try:
            st = os.stat(kinds.default_templates() / ws.lang / kind.template)
            stamps.append([changed_ns(st), st.st_size, st.st_ino])
        except OSError:
            stamps.append(None)
    return stamps


def signatures(ws: Workspace) -> dict[str, dict[str, str]]:
    """Each card-holding kind's template sections as rendered (ops.review), by kind name. A
    template that does not render leaves every such section counting as written."""
    from mllm_lab.ops.review import template_signatures  # renders: Jinja is imported

    found = {}
    for kind in SECTION_KINDS:
        try:
            found[kind.name] = template_signatures(ws, kind)
        except LabError:
            found[kind.name] = {}
    return found


# --- reading notes -------------------------------------------------------------------------


def _read_all(
    root: Path, notes: Sequence[Note], signatures: Mapping[str, Mapping[str, str]], text: bool
) -> dict[str, list[Row]]:
    """Rows of each note that can be read (one that cannot is reported by the scan already),
    in the order of `notes`, without the question and answer unless `text`. Many notes are
    read in chunks by this process and one worker (cores.in_two_processes): both cores, and
    one process less in memory than a pool of two."""
    work = functools.partial(read_chunk, str(root), signatures=signatures, text=text)
    if len(notes) < PARALLEL_FROM or usable_cores() < 2:
        return dict(work(list(notes)))
    chunks = [list(notes[start : start + CHUNK]) for start in range(0, len(notes), CHUNK)]
    found = dict(in_two_processes(work, chunks))
    return {note.path: found[note.path] for note in notes if note.path in found}


def read_chunk(
    root: str, notes: list[Note], signatures: Mapping[str, Mapping[str, str]], text: bool = True
) -> list[tuple[str, list[Row]]]:
    """Each note's rows; without `text`, only what a card's id and place need (with the
    answers, `lab check` looking for duplicate ids peaked 70 MB higher at 50,000 notes)."""
    from mllm_lab.core.cards import note_cards
    from mllm_lab.core.fm import body_of
    from mllm_lab.errors import BrokenNote
    from mllm_lab.storage import read_text

    found = []
    for note in notes:
        try:
            body, line = body_of(read_text(f"{root}/{note.path}", note.path), note.path)
        except (BrokenNote, OSError):
            continue
        cards = note_cards(note, body, body_line=line, template=signatures.get(note.kind.name))
        found.append((note.path, [_row(card) if text else _row(card)[:5] for card in cards]))
    return found


def _row(card: Card) -> Row:
    return [
        card.id,
        card.kind.value,
        card.line,
        card.stage,
        card.source,
        card.question,
        card.answer,
    ]
