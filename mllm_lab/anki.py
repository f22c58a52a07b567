"""`lab export anki`: the lab's cards as an Anki package (.apkg), one sub-deck per roadmap stage
("MLLM Lab::阶段三：多模态对齐与融合"). A note's guid comes from its card id, so importing a
newer export updates the notes it already holds instead of adding copies. Markdown becomes HTML
(markdown-it-py) with code blocks kept, and $...$ / $$...$$ become MathJax \\(...\\) / \\[...\\],
which Anki typesets itself."""

from __future__ import annotations

import hashlib
import html
import itertools
import os
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllm_lab.core.card import Card
from mllm_lab.core.roadmap import stage_name
from mllm_lab.errors import WriteFailed
from mllm_lab.messages import tr

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
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest()
    return (1 << 30) + int.from_bytes(digest, "big") % (1 << 30)


def note_guid(card_id: str) -> str:
    """genanki.guid_for("mllm-lab", card_id), made with one divmod a digit instead of two
    big-number operations and a len(): 50,000 of them are a tenth of a second less."""
    number = int.from_bytes(hashlib.sha256(f"mllm-lab__{card_id}".encode()).digest()[:8], "big")
    table = _base91()
    digits = []
    while number:
        number, digit = divmod(number, 91)
        digits.append(table[digit])
    return "".join(reversed(digits))


@lru_cache(maxsize=1)
def _base91() -> list[str]:
    from genanki.util import BASE91_TABLE  # only `lab export anki`

    assert len(BASE91_TABLE) == 91
    return list(BASE91_TABLE)


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


def to_html(markdown: str) -> str:
    plain = _prose_html(markdown)
    return plain if plain is not None else str(_markdown().render(markdown)).strip()


# What starts an inline rule or a table, and any white space but a space or a line break
# (each character str.isspace() takes, spelled out: one class is three times quicker than
# the same with `|[^\S \n]`, and prose is most of an export's text).
_OTHER_SPACE = "\t\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_MARKUP = re.compile(f"[\\\\`*_\\[\\]<>!&$~|\\x00{_OTHER_SPACE}]")
_BLOCK_START = frozenset("#>-+=0123456789")  # a heading, quote, list, rule or underline
_PARAGRAPHS = re.compile("\n{2,}")


def _prose_html(text: str) -> str | None:
    """What markdown-it renders for paragraphs of plain prose, made without it (most cards
    are such, and rendering them was most of an export's time); None for any text with
    something markdown could read as markup, which goes through markdown-it."""
    if not text or _MARKUP.search(text):
        return None
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(text.strip("\n")):
        lines = paragraph.split("\n")
        for line in lines:
            if not line or line[0] == " " or line[-1] == " " or line[0] in _BLOCK_START:
                return None
        paragraphs.append("<p>" + paragraph.replace('"', "&quot;") + "</p>")
    return "\n".join(paragraphs)


# --- the package ---------------------------------------------------------------------------


def _model(lang: str) -> Any:
    import genanki  # only `lab export anki`

    return genanki.Model(
        MODEL_ID,
        tr("anki.model", lang),
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Card", "qfmt": QUESTION, "afmt": ANSWER}],
        css=CSS,
    )


@lru_cache(maxsize=1)
def _note_class() -> Any:
    import genanki  # only `lab export anki`

    class Note(genanki.Note):  # type: ignore[misc]
        def _check_invalid_html_tags_in_fields(self) -> None:
            """Not done: the fields are markdown-it's HTML and escaped text, and genanki's
            check runs its tag pattern to the end of the field from every tag with an
            attribute (20,000 `$x$` on one line: 2.5 s, 4x for each doubling), to print a
            warning about HTML a user wrote by hand into a raw HTML block."""

    return Note


def _note(card: Card, model: Any) -> Any:
    source = html.escape(
        f"{card.title} · {card.path}:{card.line}" if card.title else f"{card.path}:{card.line}"
    )
    tags = [f"mllm-lab::{card.kind.value}", *("_".join(tag.split()) for tag in card.tags)]
    return _note_class()(
        model=model,
        fields=[to_html(card.question), to_html(card.answer), source, html.escape(card.id)],
        tags=[tag for tag in tags if tag],
        guid=note_guid(card.id),
        sort_field=card.question,
    )


def build(cards: Sequence[Card], lang: str, root: str = ROOT_DECK) -> tuple[Any, Exported]:
    """The genanki package: a deck per stage that has cards, each card once by id."""
    import genanki  # only `lab export anki`

    model = _model(lang)
    decks: dict[int | None, Any] = {}
    seen: set[str] = set()
    skipped = []
    for card in sorted(cards, key=lambda c: (c.stage is None, c.stage or 0, c.path, c.line)):
        if card.id in seen:
            skipped.append(card.id)
            continue
        seen.add(card.id)
        if card.stage not in decks:
            name = deck_name(card.stage, lang, root)
            decks[card.stage] = genanki.Deck(stable_id(name), name, tr("anki.deck", lang))
        decks[card.stage].add_note(_note(card, model))
    counts = tuple((deck.name, len(deck.notes)) for deck in decks.values())
    return genanki.Package(list(decks.values())), Exported(Path(), counts, tuple(skipped))


def _write_collection(package: Any, collection: Path, timestamp: float) -> None:
    """genanki's own writer leaves its temporary database behind; this one is ours to clean."""
    connection = sqlite3.connect(collection)
    try:
        connection.execute("PRAGMA journal_mode = OFF")  # a scratch file: no journal to sync
        ids = itertools.count(int(timestamp * 1000))  # note and card ids, as genanki makes them
        package.write_to_db(connection.cursor(), timestamp, ids)
        connection.commit()
    finally:
        connection.close()


def export(
    cards: Sequence[Card], path: Path, *, lang: str, timestamp: float, root: str = ROOT_DECK
) -> Exported:
    """Write the package to `path`, replacing it whole. `timestamp` (seconds since the epoch:
    pass the current time) marks the notes as modified then, so Anki's "update if newer"
    import takes them in."""
    package, exported = build(cards, lang, root)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".lab-anki-", dir=path.parent) as work:
            collection = Path(work) / "collection.anki2"
            _write_collection(package, collection, timestamp)
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
    return Exported(path, exported.decks, exported.skipped)
