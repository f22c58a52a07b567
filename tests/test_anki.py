"""`lab export anki`: the package is a zip holding an Anki SQLite collection with a deck per
stage, the notes' fields rendered from Markdown, and guids that stay put across exports."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_python
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mllm_lab.anki import FIELDS, ROOT_DECK, deck_name, export, note_guid, stable_id, to_html
from mllm_lab.core.card import Card, CardKind
from mllm_lab.core.roadmap import stage_name

T0 = 1_795_000_000.0  # a fixed export time


def card(id_: str, stage: int | None, question: str = "Q?", answer: str = "A.") -> Card:
    return Card(
        id_, CardKind.EXPLICIT, question, answer, f"notes/{id_}.md", 3, stage, ("q former",), "T"
    )


CARDS = [
    card(
        "attn",
        1,
        "什么是 $\\sqrt{d_k}$ 缩放？",
        "防止 softmax 饱和：\n\n```python\nx = q @ k.T / d ** 0.5\n```",
    ),
    card(
        "qformer", 3, "Q-Former 输出什么？", "32 个 query：$$Z \\in \\mathbb{R}^{32 \\times 768}$$"
    ),
    Card(
        "blip2",
        CardKind.SUMMARY,
        "Sum up BLIP-2",
        "Frozen ViT + LLM.",
        "papers/blip-2.md",
        9,
        3,
        (),
        "BLIP-2",
    ),
    card("loose", None),
]


def read_package(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        [collection] = [n for n in names if n in ("collection.anki2", "collection.anki21")]
        data = archive.read(collection)
        media = json.loads(archive.read("media"))
    db = path.with_suffix(".sqlite")
    db.write_bytes(data)
    connection = sqlite3.connect(db)
    try:
        decks = json.loads(connection.execute("SELECT decks FROM col").fetchone()[0])
        models = json.loads(connection.execute("SELECT models FROM col").fetchone()[0])
        rows = connection.execute(
            "SELECT n.guid, n.flds, n.tags, c.did FROM notes n JOIN cards c ON c.nid = n.id"
        ).fetchall()
    finally:
        connection.close()
    deck_of = {int(i): d["name"] for i, d in decks.items()}
    notes = {
        guid: {"fields": flds.split("\x1f"), "tags": tags.split(), "deck": deck_of[did]}
        for guid, flds, tags, did in rows
    }
    return {"notes": notes, "decks": set(deck_of.values()), "models": models, "media": media}


def test_the_package_holds_a_deck_per_stage_and_every_card(tmp_path: Path) -> None:
    result = export(CARDS, tmp_path / "out" / "lab.apkg", lang="zh", timestamp=T0)
    assert result.path.is_file() and result.notes == 4 and result.skipped == ()
    package = read_package(result.path)
    assert {f"{ROOT_DECK}::{stage_name(n, 'zh')}" for n in (1, 3)} <= package["decks"]
    assert f"{ROOT_DECK}::未分阶段" in package["decks"]
    assert [name for name, _count in result.decks] == [
        "MLLM Lab::阶段一：Transformer 与 LLM 基础",
        "MLLM Lab::阶段三：多模态对齐与融合",
        "MLLM Lab::未分阶段",
    ]
    notes = package["notes"]
    assert set(notes) == {note_guid(c.id) for c in CARDS}
    for c in CARDS:
        note = notes[note_guid(c.id)]
        assert note["deck"] == deck_name(c.stage, "zh")
        assert note["fields"][3] == c.id and f"{c.path}:{c.line}" in note["fields"][2]
    [model] = package["models"].values()
    assert [f["name"] for f in model["flds"]] == list(FIELDS)
    assert notes[note_guid("attn")]["tags"] == ["mllm-lab::explicit", "q_former"]
    assert package["media"] == {}


def test_fields_are_html_with_code_and_mathjax(tmp_path: Path) -> None:
    notes = read_package(export(CARDS, tmp_path / "lab.apkg", lang="en", timestamp=T0).path)[
        "notes"
    ]
    question, answer = notes[note_guid("attn")]["fields"][:2]
    assert question == '<p>什么是 <span class="math inline">\\(\\sqrt{d_k}\\)</span> 缩放？</p>'
    assert '<pre><code class="language-python">x = q @ k.T / d ** 0.5\n</code></pre>' in answer
    assert "\\[Z \\in \\mathbb{R}^{32 \\times 768}\\]" in notes[note_guid("qformer")]["fields"][1]


def test_a_second_export_keeps_every_guid(tmp_path: Path) -> None:
    first = read_package(export(CARDS, tmp_path / "a.apkg", lang="zh", timestamp=T0).path)
    edited = [*reversed(CARDS[:-1]), card("loose", None, "Q reworded?", "new answer")]
    second_path = export(edited, tmp_path / "b.apkg", lang="zh", timestamp=T0 + 86400).path
    second = read_package(second_path)
    assert set(second["notes"]) == set(first["notes"])
    assert second["decks"] == first["decks"]
    assert second["notes"][note_guid("loose")]["fields"][1] == "<p>new answer</p>"
    ids = {stable_id(name) for name in first["decks"] if name != "Default"}
    assert len(ids) == len(first["decks"] - {"Default"})


def test_a_repeated_card_id_is_exported_once(tmp_path: Path) -> None:
    result = export([*CARDS, card("attn", 2)], tmp_path / "lab.apkg", lang="en", timestamp=T0)
    assert result.skipped == ("attn",) and result.notes == 4


def test_fields_go_in_as_rendered_without_genankis_warning(tmp_path: Path) -> None:
    """genanki's check of a field's HTML ran its tag pattern to the end of the field from
    every tag (20,000 `$x$` on one line: 2.5 s) to warn of hand-written HTML: it is not run,
    and a raw HTML block it would call invalid goes in as markdown-it renders it."""
    raw = "<div>\n<1x> & <a=b>\n</div>"
    maths = " ".join(f"$a_{i}$" for i in range(3000))
    cards = [card("raw", 1, "Raw?", raw), card("maths", 1, "Maths?", maths)]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done = export(cards, tmp_path / "lab.apkg", lang="en", timestamp=T0)
    notes = read_package(done.path)["notes"]
    assert notes[note_guid("raw")]["fields"][1] == to_html(raw) == raw
    assert notes[note_guid("maths")]["fields"][1].count('<span class="math inline">') == 3000


def test_export_replaces_the_file_whole_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "lab.apkg"
    path.write_text("old")
    export(CARDS, path, lang="en", timestamp=T0)
    assert zipfile.is_zipfile(path) and sorted(p.name for p in tmp_path.iterdir()) == ["lab.apkg"]


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("costs $5 and $10", "<p>costs $5 and $10</p>"),
        ("`$x$` stays", "<p><code>$x$</code> stays</p>"),
        ("$a < b$", '<p><span class="math inline">\\(a &lt; b\\)</span></p>'),
        ("$$\nx^2\n$$", '<div class="math block">\n\\[x^2\\]\n</div>'),
    ],
)
def test_markdown_to_anki_html(markdown: str, expected: str) -> None:
    assert to_html(markdown) == expected


_PROSE = [*"ab Z9 1.)-+=#>\n\n\"':%@^{}()", *"用句话「」。"]
_MARKUP = [*"\t\u00a0\u3000\r", *"\\`*_[]<>!&$~|"]
_prose = st.text(st.sampled_from(_PROSE), max_size=40) | st.text(
    st.sampled_from(_PROSE + _MARKUP), max_size=40
)


@settings(max_examples=3000, deadline=None)
@given(_prose)
@example('用 3-5 句话向面试官解释「ALiBi」。\n\n第二段 "引号" 与 it\'s\nnext line')
@example("one\n\n\n\ntwo")
def test_prose_made_without_markdown_it_is_what_markdown_it_makes(text: str) -> None:
    """Cards of plain prose skip markdown-it (most of an export's time): whatever text takes
    that path gets the HTML markdown-it gives it."""
    from mllm_lab.anki import _markdown, _prose_html

    made = _prose_html(text)
    if made is not None:
        assert made == str(_markdown().render(text)).strip()


def test_card_prose_takes_the_path_without_markdown_it() -> None:
    from mllm_lab.anki import _prose_html

    prose = '用 3-5 句话向面试官解释「Q-Former」。\n\nIt\'s the "bridge": 32 queries, 2023.'
    assert _prose_html(prose) == (
        "<p>用 3-5 句话向面试官解释「Q-Former」。</p>\n"
        "<p>It's the &quot;bridge&quot;: 32 queries, 2023.</p>"
    )
    assert _prose_html("**bold**") is None and _prose_html("- item") is None


def test_prose_is_any_text_without_markup_or_white_space_but_spaces_and_line_breaks() -> None:
    """The markup test spells out the white space it refuses: every character, one at a time,
    is refused exactly when it is markup or str.isspace() takes it (bar a space and a line
    break), as `[^\\S \\n]` does."""
    from mllm_lab.anki import _MARKUP

    markup = set("\\`*_[]<>!&$~|\x00")
    wrong = [
        hex(code)
        for code in range(0x110000)
        if bool(_MARKUP.search(chr(code)))
        != (chr(code) in markup or (chr(code).isspace() and chr(code) not in " \n"))
    ]
    assert wrong == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
@example("attn")
@example("")
def test_a_note_guid_is_the_one_genanki_gives(card_id: str) -> None:
    """Anki knows a note by its guid: a guid made another way would turn every note of an
    earlier export into a copy on the next import."""
    import genanki

    assert note_guid(card_id) == genanki.guid_for("mllm-lab", card_id)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**64 - 1))
@example(0)
@example(90)
@example(91)
@example(8280)
@example(8281)
@example(8281 * 91)
@example(2**64 - 1)
def test_base91_is_genankis_digit_by_digit(number: int) -> None:
    """Two digits to a divmod give genanki's digits, without a leading zero digit (numbers of
    an odd and an even count of digits, and 0)."""
    from genanki.util import BASE91_TABLE

    from mllm_lab.anki import base91

    digits = []
    rest = number
    while rest > 0:
        digits.append(BASE91_TABLE[rest % 91])
        rest //= 91
    assert base91(number) == "".join(reversed(digits))


def test_a_note_guid_stays_what_it_was() -> None:
    """The guid of a card id, as genanki 0.13 made it when lab first exported: pinned, so a
    change of either side shows."""
    assert note_guid("attn") == "cw%?3cm?oQ"


# --- the collection, row for row as genanki writes it ----------------------------------------


def _genankis_collection(cards: list[Card], lang: str, db: Path) -> None:
    """What lab wrote through genanki's own objects before it wrote the rows itself: a
    genanki Note per card, a Deck per stage, Package.write_to_db."""
    import html
    import itertools
    import warnings

    import genanki

    from mllm_lab.anki import to_html
    from mllm_lab.messages import tr

    model = _genankis_model(lang)
    decks: dict[int | None, Any] = {}
    seen: set[str] = set()
    for c in sorted(cards, key=lambda c: (c.stage is None, c.stage or 0, c.path, c.line)):
        if c.id in seen:
            continue
        seen.add(c.id)
        if c.stage not in decks:
            name = deck_name(c.stage, lang)
            decks[c.stage] = genanki.Deck(stable_id(name), name, tr("anki.deck", lang))
        source = html.escape(f"{c.title} · {c.path}:{c.line}" if c.title else f"{c.path}:{c.line}")
        tags = [f"mllm-lab::{c.kind.value}", *("_".join(tag.split()) for tag in c.tags)]
        decks[c.stage].add_note(
            genanki.Note(
                model=model,
                fields=[to_html(c.question), to_html(c.answer), source, html.escape(c.id)],
                tags=[tag for tag in tags if tag],
                guid=note_guid(c.id),
                sort_field=c.question,
            )
        )
    connection = sqlite3.connect(db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        genanki.Package(list(decks.values())).write_to_db(
            connection.cursor(), T0, itertools.count(int(T0 * 1000))
        )
    connection.commit()
    connection.close()


def _genankis_model(lang: str) -> Any:
    import genanki

    from mllm_lab.anki import ANSWER, CSS, MODEL_ID, QUESTION
    from mllm_lab.messages import tr

    return genanki.Model(
        MODEL_ID,
        tr("anki.model", lang),
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": "Card", "qfmt": QUESTION, "afmt": ANSWER}],
        css=CSS,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_note_type_and_the_decks_are_genankis_json(lang: str) -> None:
    """lab writes the note type's and the decks' JSON without importing genanki (37 ms of
    imports): it is what genanki's Model and Deck give, `req` (which genanki works out by
    rendering the template) included; so are the guid's digits, read from genanki's file."""
    import genanki
    from genanki.util import BASE91_TABLE

    from mllm_lab.anki import _base91, deck_json, model_json

    assert model_json(lang, T0, 42) == _genankis_model(lang).to_json(T0, 42)
    name = deck_name(3, lang)
    assert deck_json(7, name, "描述") == genanki.Deck(7, name, "描述").to_json()
    assert _base91() == list(BASE91_TABLE)


def test_an_export_does_not_import_genanki(tmp_path: Path) -> None:
    """genanki's package is not imported (PyYAML, chevron and asyncio come with it): its
    schema and collection row are read from its files."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mllm_lab.anki import export\n"
        "from test_anki import CARDS, T0\n"
        f"export(CARDS, Path({str(tmp_path / 'lab.apkg')!r}), lang='zh', timestamp=T0)\n"
        "assert 'genanki' not in sys.modules and 'yaml' not in sys.modules, sorted(sys.modules)\n"
    )
    done = fresh_python(code, timeout=60)
    assert done.returncode == 0, done.stderr
    assert read_package(tmp_path / "lab.apkg")["notes"]


def _tables(db: Path) -> dict[str, Any]:
    connection = sqlite3.connect(db)
    try:
        decks, models = connection.execute("SELECT decks, models FROM col").fetchone()
        return {
            "schema": sorted(connection.execute("SELECT type, name, sql FROM sqlite_master")),
            "col": connection.execute("SELECT * FROM col").fetchone()[:9],
            "decks": json.loads(decks),
            "models": json.loads(models),
            "notes": connection.execute("SELECT * FROM notes ORDER BY id").fetchall(),
            "cards": connection.execute("SELECT * FROM cards ORDER BY id").fetchall(),
        }
    finally:
        connection.close()


def _lab_collection(cards: list[Card], lang: str, tmp: Path) -> Path:
    path = export(cards, tmp / "lab.apkg", lang=lang, timestamp=T0).path
    with zipfile.ZipFile(path) as archive:
        (tmp / "lab.anki2").write_bytes(archive.read("collection.anki2"))
    return tmp / "lab.anki2"


_card_text = st.text(st.sampled_from([*"ab 1\n$`*<>&\"'", "问", "\t"]), max_size=12)
_cards = st.lists(
    st.builds(
        Card,
        id=st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        kind=st.sampled_from(list(CardKind)),
        question=_card_text,
        answer=_card_text,
        path=st.sampled_from(["notes/a.md", "papers/b.md", "notes/t/c.md"]),
        line=st.integers(1, 40),
        stage=st.sampled_from([None, 1, 2, 3, 5]),
        tags=st.lists(st.sampled_from(["q former", "vlm", "", " x\ty "]), max_size=2).map(tuple),
        title=st.sampled_from(["", "BLIP-2", "注意 <b>"]),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(_cards, st.sampled_from(["zh", "en"]))
@example([card("empty", 2, "", "an answer"), *CARDS], "zh")
def test_the_collection_is_genankis_row_for_row(cards: list[Card], lang: str) -> None:
    """lab writes the notes and cards rows itself (one INSERT each for all, and no genanki
    Note kept): every row, deck and model is what genanki's Package.write_to_db writes for
    the same cards, a note whose question is empty holding no card, as genanki makes it."""
    import tempfile

    with tempfile.TemporaryDirectory() as work:
        tmp = Path(work)
        _genankis_collection(cards, lang, tmp / "genanki.anki2")
        assert _tables(_lab_collection(cards, lang, tmp)) == _tables(tmp / "genanki.anki2")


def test_the_collection_is_a_sound_database_of_16_kib_pages(tmp_path: Path) -> None:
    """Bigger pages write a 50,000-card collection quicker; the pragma only takes when it
    comes before the first table, so this checks it took, and that SQLite finds the file
    sound."""
    db = _lab_collection(CARDS, "zh", tmp_path)
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA page_size").fetchone()[0] == 16384
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


def test_a_note_with_an_empty_question_is_a_note_without_a_card(tmp_path: Path) -> None:
    tables = _tables(_lab_collection([card("empty", 2, "", "A."), CARDS[0]], "en", tmp_path))
    assert len(tables["notes"]) == 2 and len(tables["cards"]) == 1


def test_the_work_folder_of_a_killed_export_goes_with_the_next_one(tmp_path: Path) -> None:
    """An export killed before it cleaned up (SIGKILL, SIGTERM) leaves its work folder beside
    the package, 8 MB at 15,000 cards: the next export removes it once its process is gone,
    and leaves alone one whose process runs and any folder that is not an export's."""
    import os
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    dead = tmp_path / f".lab-anki-{ended}-abc123"
    running = tmp_path / f".lab-anki-{os.getpid()}-def456"
    other = tmp_path / ".lab-anki-notes"
    for folder in (dead, running, other):
        folder.mkdir()
        (folder / "collection.anki2").write_bytes(b"half written")
    export(CARDS, tmp_path / "lab.apkg", lang="en", timestamp=T0)
    assert not dead.exists() and running.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["lab.apkg", running.name, other.name]
    )


def test_the_renderers_stamp_changes_with_any_file_of_markdown_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renders kept from an earlier export are used only under the same stamp: a change to
    any file of markdown-it or its plugins (a source install pulled, a patched module deep in
    the package, not only its __init__.py) is a new stamp."""
    import importlib.machinery
    import importlib.util
    import os

    from mllm_lab.anki import renderer_stamp

    packages = {name: tmp_path / name for name in ("markdown_it", "mdit_py_plugins")}
    for folder in packages.values():
        (folder / "rules_inline").mkdir(parents=True)
        (folder / "__init__.py").write_text("__version__ = '1'\n", "utf-8")
        (folder / "rules_inline" / "emphasis.py").write_text("TAG = 'em'\n", "utf-8")

    def find_spec(name: str, package: str | None = None) -> Any:
        folder = packages[name]
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        return spec

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    before = renderer_stamp()
    assert renderer_stamp() == before
    deep = packages["mdit_py_plugins"] / "rules_inline" / "emphasis.py"
    deep.write_text("TAG = 'i' \n", "utf-8")
    os.utime(deep, ns=(1, 1))
    assert renderer_stamp() != before
