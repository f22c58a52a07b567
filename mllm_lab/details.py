"""What `lab review` and the prompts need from notes' bodies (headings, links, open
questions, the sections the self-test questions come from), computed on demand and kept in
.lab/detail.sqlite, one row per note, keyed by the file's stamp. `lab check` reads the rows
there and parses the other notes for the part it checks alone, which it does not store.

Read as a stream: each note's detail is decoded when the reader reaches it and can be dropped
after, so a check of 50,000 notes does not hold 50,000 details at once; only rows that changed
are written. Like the index, a cache: delete it any time. One that cannot be read (damaged,
foreign, another version, locked by another `lab` for long) is rebuilt or left alone, and
the details are then computed from the files."""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from mllm_lab import kinds
from mllm_lab.core.labdata import INDEX_VERSION
from mllm_lab.cores import in_two_processes, usable_cores
from mllm_lab.errors import BrokenNote
from mllm_lab.lab import Lab
from mllm_lab.parse import check_detail, note_detail
from mllm_lab.storage import read_text
from mllm_lab.walk import READING_LIST_KIND

if TYPE_CHECKING:
    from mllm_lab.scan import Files

STORE = "detail.sqlite"
# what a row may be: an older lab, which takes every row as whole, empties a store that says
# so, and this one empties a store that does not (a row of a review lacks the questions)
ROWS = "a row may lack its open questions"
FEW = 500  # up to this many notes are looked up one by one; more are read in one pass
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS detail (path TEXT PRIMARY KEY, mtime INTEGER NOT NULL,"
    " size INTEGER NOT NULL, inode INTEGER NOT NULL, detail TEXT NOT NULL)",
)
Detail = dict[str, Any]


def _open(lab: Lab, again: bool = True) -> sqlite3.Connection | None:
    """The store, created if missing and emptied if it was made for another lab or version;
    one that is not a database (or is damaged) is deleted and made anew."""
    path = lab.state / STORE
    try:
        lab.state.mkdir(exist_ok=True)
        db = sqlite3.connect(path, timeout=2.0, isolation_level=None)
    except (OSError, sqlite3.Error):
        return None
    try:
        db.execute("PRAGMA synchronous = OFF")  # a cache: a crash may damage it, not the lab
        for statement in _SCHEMA:
            db.execute(statement)
        meta = dict(db.execute("SELECT name, value FROM meta").fetchall())
        wanted = {"version": str(INDEX_VERSION), "root": str(lab.root), "rows": ROWS}
        if meta != wanted:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM detail")
            db.execute("DELETE FROM meta")
            db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
            db.execute("COMMIT")
        return db
    except sqlite3.OperationalError:  # locked by another `lab` for too long, or a disk error
        db.close()
        return None
    except sqlite3.DatabaseError:  # not a database, or damaged
        db.close()
        with contextlib.suppress(OSError):
            path.unlink()
        return _open(lab, again=False) if again else None


def _rows(db: sqlite3.Connection, paths: Collection[str], every: bool) -> Iterator[tuple[Any, ...]]:
    if every or len(paths) > FEW:
        yield from db.execute("SELECT path, mtime, size, inode, detail FROM detail")
        return
    chosen = list(paths)
    for start in range(0, len(chosen), 100):
        part = chosen[start : start + 100]
        marks = ",".join("?" * len(part))
        yield from db.execute(
            f"SELECT path, mtime, size, inode, detail FROM detail WHERE path IN ({marks})", part
        )


def each(
    lab: Lab,
    files: Files,
    paths: Collection[str],
    use_index: bool = True,
    every: bool = True,
    checked: bool = False,
    questions: bool = True,
) -> Iterator[tuple[str, Detail]]:
    """(path, detail) for each of `paths` that is a readable note: those kept in the store
    first (in its order), then the others, read and parsed now (and stored, once the reader
    has had them all). A note that cannot be read is left out. `every`: the store is read
    whole (and rows of files no longer in the lab dropped); else only `paths` are looked up.
    `checked`: what `lab check` needs is enough (parse.check_detail, a third of the work):
    notes kept in the store give their whole detail, the others are parsed for that alone,
    which is not stored (check keeps its own problems of each note; review stores what it
    needs, which is more). Without `questions` (`lab review`), notes parsed now are stored
    without their open questions, and a row without them is taken; with them (the prompts),
    such a row is made again, whole."""
    wanted = {}
    for path in paths:
        # the kind and stamp the index keeps beside each record: the record itself is not
        # read (at 50,000 notes, every record read and kept held 95 MB for the whole check)
        if path in files and not files.broken(path):
            kind, mtime, size, inode = files.stamp(path)
            if kind not in _NOT_NOTES:
                wanted[path] = [mtime, size, inode]
    # a check makes no store where there is none (one it finds damaged is made anew, empty)
    there = not checked or (lab.state / STORE).exists()
    db = _open(lab) if use_index and wanted and there else None
    done: set[str] = set()
    gone = False  # a row of a file no longer in the lab was seen
    if db is not None:
        try:
            for path, mtime, size, inode, text in _rows(db, wanted, every):
                if wanted.get(path) == [mtime, size, inode] and path not in done:
                    detail = json.loads(text)
                    if questions and not checked and "questions" not in detail:
                        continue
                    done.add(path)
                    yield path, detail
                elif path not in files:
                    gone = True
        except (sqlite3.Error, ValueError):
            pass
    new: list[tuple[Any, ...]] = []
    todo = [(path, stamp) for path, stamp in wanted.items() if path not in done]
    for path, stamp, detail, text in _computed(str(lab.root), todo, checked, questions):
        if checked:
            yield path, detail
            continue
        new.append((path, *stamp, text))
        if len(new) >= BATCH and db is not None:  # a first pass over a big lab: a batch at a time
            _store(db, new)
            new = []
        yield path, detail
    if db is not None:
        _store(db, new)
        if gone:  # seen only when the whole store is read: a few notes stored sweep nothing
            _forget_gone(db, keep=files)
        db.close()


_NOT_NOTES = (kinds.EXPERIMENT.name, READING_LIST_KIND)
BATCH = 2000
PARALLEL_FROM = 1500  # notes to read before a second process pays for itself
CHUNK = 250

Computed = tuple[str, list[int], Detail, str]  # path, stamp, detail, the detail as JSON


def _computed(
    root: str, todo: list[tuple[str, list[int]]], checked: bool = False, questions: bool = True
) -> Iterator[Computed]:
    """The details of notes read now, in chunks: with many notes and a second core, a worker
    process reads chunks too (cores.in_two_processes; a first check of a big lab reads every
    body). This one also does what the caller does with each detail (`lab check` checks each
    note), so a fixed share left the worker idle; taking chunks as they come, this one waited
    for the worker 0.1 s of 3.1 s on 10,000 notes. A note that cannot be read is left out."""
    chunks = [todo[start : start + CHUNK] for start in range(0, len(todo), CHUNK)]
    work = functools.partial(_chunk, root, checked=checked, questions=questions)
    if len(todo) < PARALLEL_FROM or usable_cores() < 2:
        for chunk in chunks:  # a chunk at a time: every note's detail at once held 117 MB of
            yield from work(chunk)  # a 10,000-note lab until the last was read
        return
    yield from in_two_processes(work, chunks)


def _chunk(
    root: str, todo: list[tuple[str, list[int]]], checked: bool = False, questions: bool = True
) -> list[Computed]:
    """Each note's detail and, unless `checked` (not stored), its JSON for the store."""
    parse = check_detail if checked else functools.partial(note_detail, questions=questions)
    found = []
    for path, stamp in todo:
        try:
            detail = parse(read_text(f"{root}/{path}", path), path)
        except (BrokenNote, OSError, ValueError, RecursionError):
            continue
        found.append(
            (path, stamp, detail, "" if checked else json.dumps(detail, ensure_ascii=False))
        )
    return found


def _store(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> bool:
    """Write rows made now; True if any was written. A row SQLite cannot hold (a file name
    that is not UTF-8) is left out: that note's detail is made again next time."""
    rows = [row for row in rows if _storable(row[0]) and _storable(row[-1])]
    if not rows:
        return False
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT OR REPLACE INTO detail VALUES (?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        return True
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        return False


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _forget_gone(db: sqlite3.Connection, keep: Mapping[str, Any]) -> None:
    """Drop the rows of files that are no longer in the lab."""
    try:
        gone = [(path,) for (path,) in db.execute("SELECT path FROM detail") if path not in keep]
        if gone:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("DELETE FROM detail WHERE path = ?", gone)
            db.execute("COMMIT")
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def some(
    lab: Lab, files: Files, paths: Collection[str], use_index: bool = True
) -> dict[str, Detail]:
    """The details of a few notes, by path."""
    return dict(each(lab, files=files, paths=paths, use_index=use_index, every=False))
