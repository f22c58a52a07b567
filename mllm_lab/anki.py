"""`lab export anki`: the lab's cards as an Anki package (.apkg), one sub-deck per roadmap stage
("MLLM Lab::阶段三：多模态对齐与融合"). A note's guid comes from its card id, so importing a
newer export updates the notes it already holds instead of adding copies. Markdown becomes HTML
(markdown-it-py) with code blocks kept, and $...$ / $$...$$ become MathJax \\(...\\) / \\[...\\],
which Anki typesets itself."""

from __future__ import annotations

import contextlib
import hashlib
import html
import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllm_lab.core.card import Card
from mllm_lab.core.labdata import shown
from mllm_lab.core.roadmap import stage_name
from mllm_lab.errors import WriteFailed
from mllm_lab.messages import tr
from mllm_lab.patterns import pattern
from mllm_lab.sha import blake2b, sha1
from mllm_lab.storage import process_gone

ROOT_DECK = "MLLM Lab"
# Fixed for good: Anki matches note types by id, and a new id would make every note a new one.
MODEL_ID = 1_742_317_305
FIELDS = ("Question", "Answer", "Source", "CardId")
CSS = """\
.card { font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
        font-size: 18px; text-align: left; color: #222; background: #fff; }
.source { margin-top: 1.5em; font-size: 12px; color: #888; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
code { font-family: Menlo, Consolas, monospace; font-size: 15px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: 2px 6px; }
"""
QUESTION = '<div class="question">{{Question}}</div>'
ANSWER = '{{FrontSide}}<hr id="answer"><div class="answer">{{Answer}}</div><div class="source">{{Source}}</div>'


@dataclass(frozen=True)
class Exported:
    path: Path
    decks: tuple[tuple[str, int], ...]  # (deck name, notes in it), in roadmap order
    skipped: tuple[str, ...]  # ids of cards left out because an earlier card had the same id

    @property
    def notes(self) -> int:
        return sum(count for _name, count in self.decks)


def deck_name(stage: int | None, lang: str, root: str = ROOT_DECK) -> str:
    return f"{root}::{stage_name(stage, lang)}"


def stable_id(text: str) -> int:
    """An Anki id for a name, the same in every export (in genanki's advised range)."""
    digest = blake2b(text.encode("utf-8"), digest_size=4).digest()
    return (1 << 30) + int.from_bytes(digest, "big") % (1 << 30)


def note_guid(card_id: str) -> str:
    """genanki.guid_for("mllm-lab", card_id): the first 8 bytes of a sha256 in base 91."""
    number = int.from_bytes(hashlib.sha256(f"mllm-lab__{card_id}".encode()).digest()[:8], "big")
    return base91(number)


def base91(number: int) -> str:
    """genanki's base 91 of a whole number (no leading zero digit, "" for 0), two digits to a
    divmod: a guid took 3.2 µs, 161 ms of an export of 50,000 cards; now 2.0 µs."""
    pairs = _base91_pairs()
    parts = []
    while number >= 8281:  # 91 * 91
        number, pair = divmod(number, 8281)
        parts.append(pairs[pair])
    if number:
        parts.append(pairs[number] if number >= 91 else pairs[number][1])
    return "".join(reversed(parts))


@lru_cache(maxsize=1)
def _base91() -> list[str]:
    table = list(genanki_module("util").BASE91_TABLE)
    assert len(table) == 91
    return table


@lru_cache(maxsize=1)
def _base91_pairs() -> list[str]:
    """Every two-digit string, by its value: the first digit is table[value // 91]."""
    table = _base91()
    return [high + low for high in table for low in table]


@lru_cache(maxsize=4)
def genanki_module(name: str) -> Any:
    """One of genanki's modules that hold plain data (apkg_schema, apkg_col: the collection's
    SQL; util: the guid's digits), loaded from its file without genanki's package, whose
    import (PyYAML, chevron, asyncio through cached_property) costs 37 ms: the export writes
    the rows and the JSON itself (tests/test_anki.py checks both against genanki's)."""
    import importlib.util

    package = importlib.util.find_spec("genanki")  # found, not imported
    folders = package.submodule_search_locations if package is not None else None
    if not folders:
        raise ImportError("genanki is not installed")
    where = Path(next(iter(folders))) / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"mllm_lab._genanki_{name}", where)
    if spec is None or spec.loader is None:
        raise ImportError(f"genanki has no {name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Markdown to Anki HTML -----------------------------------------------------------------


def _mathjax(content: str, options: dict[str, Any]) -> str:
    escaped = html.escape(content, quote=False)
    return f"\\[{escaped}\\]" if options.get("display_mode") else f"\\({escaped}\\)"


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Like GitHub and pandoc: "$5 and $10" is money, not maths.
    dollarmath_plugin(
        md, allow_space=False, allow_digits=False, double_inline=True, renderer=_mathjax
    )
    return md


def to_html(markdown: str, renders: Renders | None = None) -> str:
    """A field's HTML: plain prose made here, anything else rendered by markdown-it (or
    taken from `renders`, what earlier exports rendered)."""
    plain = _prose_html(markdown)
    if plain is not None:
        return plain
    return renders.html(markdown) if renders is not None else _rendered(markdown)


def _rendered(markdown: str) -> str:
    return str(_markdown().render(markdown)).strip()


def renderer_stamp() -> str:
    """lab's code and every file of markdown-it-py and of its plugins as installed (found, not
    imported): renders made by other code are not used, whichever file of it changed."""
    import importlib.util

    from mllm_lab.results import code_stamp, folder_stamp

    parts: list[Any] = [code_stamp()]
    for name in ("markdown_it", "mdit_py_plugins"):
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # a module entry that is None or has no spec
            spec = None
        folders = list(spec.submodule_search_locations or []) if spec is not None else []
        parts.append([[folder, folder_stamp(Path(folder))] for folder in folders])
    return sha1(json.dumps(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(eq=False, repr=False)
class Renders:
    """markdown-it's HTML of the fields that are not plain prose, kept from one export to the
    next (ops.exchange keeps them in .lab/): a text rendered before is not rendered again,
    and when every one was, markdown-it is not even imported. At 50,000 notes that was
    60-95 ms of import and 240 ms of rendering for the 4% of fields with markup. `known`: the
    renders kept; `used`: those of this export, which is what is kept next."""

    known: dict[str, str]
    used: dict[str, str] = field(default_factory=dict)

    def html(self, markdown: str) -> str:
        made = self.known.get(markdown)
        if made.__class__ is not str:
            made = _rendered(markdown)
        self.used[markdown] = made
        return made

    def changed(self) -> bool:
        """Whether what is kept should change: a text was rendered now, or one kept was not
        used."""
        return self.used.keys() != self.known.keys()


# What starts an inline rule or a table, and any white space but a space or a line break
# (each character str.isspace() takes, spelled out: one class is three times quicker than
# the same with `|[^\S \n]`, and prose is most of an export's text).
_OTHER_SPACE = "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_MARKUP = pattern(f"[\\\\`*_\\[\\]<>!&$~|\\x00{_OTHER_SPACE}]")
_BLOCK_START = frozenset("#>-+=0123456789")  # a heading, quote, list, rule or underline


def _prose_html(text: str) -> str | None:
    """What markdown-it renders for paragraphs of plain prose, made without it (most cards
    are such, and rendering them was most of an export's time); None for any text with
    something markdown could read as markup, which goes through markdown-it."""
    if not text or _MARKUP.search(text):
        return None
    body = text.strip("\n")
    if not body:
        return None
    for line in body.split("\n"):  # an empty line is between paragraphs
        if line and (line[0] == " " or line[-1] == " " or line[0] in _BLOCK_START):
            return None
    body = body.replace('"', "&quot;")
    if "\n\n" in body:  # paragraphs, between runs of blank lines (a regular expression took
        # as long as all the rest: 5 µs a text)
        body = "</p>\n<p>".join(filter(None, [p.strip("\n") for p in body.split("\n\n")]))
    return "<p>" + body + "</p>"


# --- the package ---------------------------------------------------------------------------


# genanki's defaults for a note type (genanki.Model), which Anki's LaTeX rendering uses
LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n"
    "\\begin{document}\n"
)
LATEX_POST = "\\end{document}"


def model_json(lang: str, timestamp: float, deck_id: int) -> dict[str, Any]:
    """The note type, as genanki.Model(MODEL_ID, ...).to_json(timestamp, deck_id) gives it:
    its one card needs the Question field (`req`, which genanki works out by rendering the
    template with chevron)."""
    fields = [
        {
            "name": name,
            "ord": number,
            "font": "Liberation Sans",
            "media": [],
            "rtl": False,
            "size": 20,
            "sticky": False,
        }
        for number, name in enumerate(FIELDS)
    ]
    template = {"name": "Card", "qfmt": QUESTION, "afmt": ANSWER, "ord": 0}
    template.update(bafmt="", bqfmt="", bfont="", bsize=0, did=None)
    return {
        "css": CSS,
        "did": deck_id,
        "flds": fields,
        "id": str(MODEL_ID),
        "latexPost": LATEX_POST,
        "latexPre": LATEX_PRE,
        "latexsvg": False,
        "mod": int(timestamp),
        "name": tr("anki.model", lang),
        "req": [[0, "all", [0]]],
        "sortf": 0,
        "tags": [],
        "tmpls": [template],
        "type": 0,
        "usn": -1,
        "vers": [],
    }


def deck_json(deck_id: int, name: str, description: str) -> dict[str, Any]:
    """A deck, as genanki.Deck(deck_id, name, description).to_json() gives it."""
    return {
        "collapsed": False,
        "conf": 1,
        "desc": description,
        "dyn": 0,
        "extendNew": 0,
        "extendRev": 50,
        "id": deck_id,
        "lrnToday": [163, 2],
        "mod": 1425278051,
        "name": name,
        "newToday": [163, 2],
        "revToday": [163, 0],
        "timeToday": [163, 23598],
        "usn": -1,
    }


def _fields(card: Card, renders: Renders | None = None) -> list[str]:
    path = shown(card.path)
    source = html.escape(
        f"{card.title} · {path}:{card.line}" if card.title else f"{path}:{card.line}"
    )
    question, answer = to_html(card.question, renders), to_html(card.answer, renders)
    return [question, answer, source, html.escape(card.id)]


def _tags(card: Card) -> str:
    return _tag_list(card.kind.value, tuple(card.tags))


@lru_cache(maxsize=4096)
def _tag_list(kind: str, tags: tuple[str, ...]) -> str:
    """genanki's tag list: space-separated, a space before and after. (A note's cards share
    its tags, and notes share most: remembered, not made again for each of 50,000 cards.)"""
    listed = [f"mllm-lab::{kind}", *("_".join(tag.split()) for tag in tags)]
    return " " + " ".join(tag for tag in listed if tag) + " "


def plan(cards: Iterable[Card]) -> tuple[list[Card], list[str]]:
    """The cards in the package's order (by stage, the unstaged last, then by place), each
    id once, and the ids left out because an earlier card had them."""
    kept: list[Card] = []
    seen: set[str] = set()
    skipped = []
    for card in sorted(cards, key=order):
        if card.id in seen:
            skipped.append(card.id)
            continue
        seen.add(card.id)
        kept.append(card)
    return kept, skipped


def order(card: Card) -> tuple[bool, int, str, int]:
    return (card.stage is None, card.stage or 0, card.path, card.line)


def _schema(script: str) -> tuple[str, str]:
    """genanki's schema script as its tables and its indexes (each statement on a line of
    its own, as genanki writes them), so that the indexes are made after the rows."""
    statements = [line for line in script.split(";\n") if line.strip()]
    indexes = [s for s in statements if s.strip().upper().startswith("CREATE INDEX")]
    tables = [s for s in statements if s not in indexes]
    return ";\n".join(tables) + ";\n", ";\n".join(indexes) + ";\n"


def _write_collection(
    cards: Iterable[Card],
    collection: Path,
    timestamp: float,
    lang: str,
    root: str,
    renders: Renders | None = None,
) -> tuple[tuple[str, int], ...]:
    """The Anki collection genanki's Package.write_to_db makes of a deck per stage holding
    these cards' notes (in this order, each id once), row for row (tests/test_anki.py checks
    it against genanki), written with one INSERT for all notes and one for all cards, and
    no genanki Note made: at 50,000 cards genanki's note objects held 150 MB. The cards are
    taken one at a time and their fields not kept."""
    decks: dict[int | None, tuple[int, str]] = {}  # by stage: id and name
    counts: dict[int | None, int] = {}
    ids = itertools.count(int(timestamp * 1000))  # note and card ids, as genanki makes them
    mod = int(timestamp)
    placed: list[tuple[int, int, int]] = []  # (card id, note id, deck id) of each card row

    def notes() -> Iterator[tuple[Any, ...]]:
        for card in cards:
            if card.stage not in decks:
                name = deck_name(card.stage, lang, root)
                decks[card.stage] = (stable_id(name), name)
                counts[card.stage] = 0
            counts[card.stage] += 1
            fields = _fields(card, renders)
            note_id = next(ids)
            yield (
                note_id,
                note_guid(card.id),
                MODEL_ID,
                mod,
                -1,  # usn
                _tags(card),
                "\x1f".join(fields),
                card.question or fields[0],  # genanki's sort field: the one given, else the first
                0,  # csum
                0,  # flags
                "",  # data
            )
            if fields[0]:  # the one card of a note whose Question is not empty, as genanki
                placed.append((next(ids), note_id, decks[card.stage][0]))

    connection = sqlite3.connect(collection)
    try:
        # a scratch file, zipped and synced once done: no journal, nothing synced before
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        # pages of 16 KiB, set before the first table: at 50,000 cards the export took 1.69-1.74
        # s of CPU instead of 1.81 (4 KiB pages) and peaked at 116 MB instead of 111; 64 KiB
        # pages, 1.65 s but 139 MB
        connection.execute("PRAGMA page_size = 16384")
        cursor = connection.cursor()
        tables, indexes = _schema(genanki_module("apkg_schema").APKG_SCHEMA)
        cursor.executescript(tables)
        cursor.executescript(genanki_module("apkg_col").APKG_COL)
        cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", notes())
        cursor.executemany(
            "INSERT INTO cards VALUES(?,?,?,0,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')",
            ((card_id, note_id, deck_id, mod) for card_id, note_id, deck_id in placed),
        )
        cursor.executescript(indexes)  # made once, not kept up to date row by row
        if decks:
            (kept_decks,) = cursor.execute("SELECT decks FROM col").fetchone()
            (kept_models,) = cursor.execute("SELECT models FROM col").fetchone()
            all_decks = json.loads(kept_decks)
            described = tr("anki.deck", lang)
            all_decks.update(
                {str(key): deck_json(key, name, described) for key, name in decks.values()}
            )
            models = json.loads(kept_models)
            # genanki writes the model anew with each deck: the last deck's id stays its "did"
            last = list(decks.values())[-1][0]
            models[str(MODEL_ID)] = model_json(lang, timestamp, last)
            cursor.execute(
                "UPDATE col SET decks = ?, models = ?", (json.dumps(all_decks), json.dumps(models))
            )
        connection.commit()
    finally:
        connection.close()
    return tuple((name, counts[stage]) for stage, (_key, name) in decks.items())


def export(
    cards: Iterable[Card],
    path: Path,
    *,
    lang: str,
    timestamp: float,
    root: str = ROOT_DECK,
    renders: Renders | None = None,
) -> Exported:
    """Write the package to `path`, replacing it whole. `timestamp` (seconds since the epoch:
    pass the current time) marks the notes as modified then, so Anki's "update if newer"
    import takes them in."""
    kept, skipped = plan(cards)
    return export_planned(
        kept, skipped, path, lang=lang, timestamp=timestamp, root=root, renders=renders
    )


WORK_PREFIX = ".lab-anki-"  # the folder an export works in, beside the package: + pid + "-"


def _sweep(folder: Path) -> None:
    """The work folders of earlier exports killed before they cleaned up (SIGKILL, SIGTERM: 8 MB
    each at 15,000 cards), removed once the process named in them is gone."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            pid = entry.name[len(WORK_PREFIX) :].split("-", 1)[0]
            if not entry.name.startswith(WORK_PREFIX) or not pid.isdigit():
                continue
            if entry.is_dir(follow_symlinks=False) and process_gone(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def export_planned(
    cards: Iterable[Card],
    skipped: Iterable[str],
    path: Path,
    *,
    lang: str,
    timestamp: float,
    root: str = ROOT_DECK,
    renders: Renders | None = None,
) -> Exported:
    """export() of cards already in the package's order (see plan), each id once; `skipped`:
    the ids plan left out. The cards are taken one at a time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _sweep(path.parent)
        prefix = f"{WORK_PREFIX}{os.getpid()}-"
        with tempfile.TemporaryDirectory(prefix=prefix, dir=path.parent) as work:
            collection = Path(work) / "collection.anki2"
            decks = _write_collection(cards, collection, timestamp, lang, root, renders)
            staged = Path(work) / "package.apkg"
            # the quickest level: at 50,000 cards 0.25 s instead of 0.6 s, for a package 30%
            # bigger (8.5 MB instead of 6.4)
            with zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
                archive.write(collection, "collection.anki2")
                archive.writestr("media", "{}")
            with open(staged, "rb") as done:
                os.fsync(done.fileno())
            os.replace(staged, path)
    except (OSError, sqlite3.Error) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise WriteFailed(str(path), reason) from None
    return Exported(path, decks, tuple(skipped))
