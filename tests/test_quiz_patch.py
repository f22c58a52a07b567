"""`lab quiz --json` and `--stats` after notes were edited: the cards they kept (.lab/results/)
are brought up to date by reading the changed notes alone (ops.quiz._patched_columns).
Whatever the edits, what they show must be what study() gives from scratch, and a plain edit
must not read the rest of the lab again."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, read
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_anki import _tables
from test_quiz import CONCEPT, NOON, PAPER, QA, shown_as_study_gives, shown_by_due_now, ws_of
from test_quiz import cards_lab as cards_lab  # the fixture

from mllm_lab.core.schedule import stats
from mllm_lab.lab import Lab
from mllm_lab.ops import cards as ops_cards
from mllm_lab.ops import quiz as ops_quiz
from mllm_lab.ops.cards import template_stamps
from mllm_lab.ops.cardtext import Texts, TextStore
from mllm_lab.ops.quiz import Filter
from mllm_lab.ops.workspace import Workspace
from mllm_lab.results import slot

EVERY = 10_000  # new cards a sitting may take: every card is shown, with its text and stage
REVIEW = "reviews/review-2026-11-25.md"
OTHER = "notes/fundamentals/other-note.md"
SELF_TEST = (
    "1. 「Self-Attention」是什么？（对照 [Self-Attention](../notes/fundamentals/self-attention.md)）"
    "\n\n   答：加权求和。\n"
)


def concept_text(title: str, stage: int, tags: list[str], cards: str) -> str:
    tag_lines = "".join(f"- {tag}\n" for tag in tags)
    return (
        f"---\ntitle: {title}\ncategory: fundamentals\nstage: {stage}\n"
        f"tags:{' []' if not tags else ''}\n{tag_lines}created: 2026-11-20\n---\n\n"
        f"# {title}\n\n{cards}\n"
    )


def shown(lab: Path, which: Filter = Filter()) -> Any:
    found = shown_by_due_now(lab, NOON, which, EVERY, None)
    del found["now"]
    return found


def kept_cards(lab: Path) -> Any:
    """The cards `quiz --json` just kept, card by card, and its notes in their order."""
    ws = ws_of(lab)
    parts = ([], [], ws.lang, template_stamps(ws))
    kept = ws.cached(
        "quiz-cards",
        lambda: pytest.fail("nothing kept"),
        *parts,
        raw="text",
        patch=lambda _: pytest.fail("kept for other files"),
    )
    store = TextStore(ws.lab.state / "results" / f"{slot('quiz-cards', parts)}.text")
    return expanded(kept, store)


def made_cards(lab: Path) -> Any:
    ws = Workspace(Lab.find(str(lab)), use_index=False)
    return expanded(ops_quiz._card_columns(ws, Filter()), None)


def expanded(kept: dict[str, Any], store: TextStore | None) -> Any:
    notes, texts = kept["note"], Texts(kept, store)
    cards = [
        (
            *(kept[name][number] for name in ("id", "kind", "line", "stage", "own", "source")),
            *texts(number),
            kept["paths"][notes[number]],
            kept["title"][notes[number]],
            kept["tags"][kept["tagged"][notes[number]]],
        )
        for number in range(len(kept["id"]))
    ]
    texts.close()
    return cards, kept["paths"], sorted(kept["shadowed"])


def expected(lab: Path, which: Filter = Filter()) -> Any:
    found = shown_as_study_gives(lab, NOON, which, EVERY, None)
    del found["now"]
    return found


def stats_shown(lab: Path, which: Filter = Filter()) -> Any:
    summary, problems = ops_quiz.study_stats(ws_of(lab), NOON, which)
    return summary, [(f.path, f.line, f.msg.as_json()) for f in problems]


def stats_expected(lab: Path, which: Filter = Filter()) -> Any:
    """`lab quiz --stats` as study() would give it: every card made, none kept."""
    found = ops_quiz.study(ws_of(lab))
    ids = [card.id for card in which.apply(found.cards)]
    summary = stats(ids, reviews=found.log.reviews, schedule=found.states, now=NOON)
    return summary, [(f.path, f.line, f.msg.as_json()) for f in found.problems]


def card(name: str | None, number: int) -> str:
    named = f"<!-- card: {name} -->\n" if name else ""
    return f"\n{named}Q: 问题 {number}？\nA: 回答 {number}，含 emoji 🧠 与 $x^2$。\n"


Edit = tuple[str, str, int]  # (what, which note, a number)
NOTES = (CONCEPT, PAPER, OTHER, REVIEW)
edits = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "card",
                "named",
                "answer",
                "stage",
                "tags",
                "title",
                "break",
                "mend",
                "delete",
                "restore",
                "touch",
                "notebook",
                "drop-cards",
                "unstage",
            ]
        ),
        st.sampled_from(NOTES),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=8,
)


def apply(lab: Path, edit: Edit, kept: dict[str, str]) -> None:
    """One hand edit, as a user makes them between two commands."""
    what, relative, number = edit
    path = lab / relative
    if what == "restore":
        if relative in kept and not path.exists():
            path.write_text(kept[relative], "utf-8")
        return
    if what == "notebook":
        (lab / "experiments").mkdir(exist_ok=True)
        (lab / f"experiments/run-{number}.ipynb").write_text("{}", "utf-8")
        return
    if not path.exists():
        return
    text = read(path)
    if what == "card":
        text += card(None, number)
    elif what == "named":  # a name from a few: an id taken twice, across notes too
        text += card(f"shared-{number % 3}", number)
    elif what == "answer":
        text = text.replace("A: ", f"A: 改过 {number} ", 1)
    elif what == "stage" and "stage: " in text:
        old = text.split("stage: ", 1)[1].split("\n", 1)[0]
        text = text.replace(f"stage: {old}", f"stage: {1 + number % 5}", 1)
    elif what == "tags":
        text = (
            text.replace("tags:", f"tags:\n- 标签{number}", 1)
            if "tags: []" not in text
            else (text.replace("tags: []", f"tags:\n- 标签{number}", 1))
        )
    elif what == "title":
        text = text.replace("title: ", f"title: 改{number} ", 1)
    elif what == "break":
        kept[relative] = text
        text = text.replace("---\n", "---\ntitle: [unclosed\n", 1)
    elif what == "mend":
        text = kept.get(relative, text)
    elif what == "delete":
        kept[relative] = text
        path.unlink()
        return
    elif what == "unstage":  # a linked note without a stage: the card keeps its own
        text = re.sub(r"^stage: .*\n", "", text, count=1, flags=re.M)
    elif what == "drop-cards":
        text = text.split("\nQ: ", 1)[0] + "\n"
    path.write_text(text, "utf-8")
    if what == "touch":
        path.touch()


def edit_runs(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A test given `steps`: runs of one to three hand edits each (see `apply`)."""

    def wrap(test: Callable[..., None]) -> Callable[..., None]:
        return settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(given(steps=st.lists(edits, min_size=1, max_size=3))(test))

    return wrap


@pytest.fixture
def patch_lab(cards_lab: Path) -> Path:
    """cards_lab with a second concept note and a review note whose self-test card links the
    first concept (so a stage edited there moves a card of another note)."""
    (cards_lab / OTHER).write_text(
        concept_text("Other", 2, ["attention"], QA + card(None, 100)), "utf-8"
    )
    (cards_lab / REVIEW).parent.mkdir(exist_ok=True)
    (cards_lab / REVIEW).write_text(
        "---\ntitle: Review\nkind: review\nstage: 3\ncreated: 2026-11-25\n---\n\n## 自测问题\n\n"
        + SELF_TEST,
        "utf-8",
    )
    return cards_lab


@edit_runs(40)
@example(  # the note holding the second card of an id no longer reads: the id is taken once
    steps=[[("named", CONCEPT, 1), ("named", PAPER, 1)], [("title", PAPER, 0)]]
)
def test_what_quiz_json_shows_after_any_edits_is_what_study_gives(
    patch_lab: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[list[Edit]]
) -> None:
    lab = tmp_path_factory.mktemp("patch") / "lab"
    shutil.copytree(patch_lab, lab, symlinks=True)
    kept: dict[str, str] = {}
    assert shown(lab) == expected(lab)
    for step in steps:  # some edits, then a command
        for edit in step:
            apply(lab, edit, kept)
        assert shown(lab) == expected(lab), step
        assert kept_cards(lab) == made_cards(lab), step  # as a run without .lab/ keeps them
        assert shown(lab) == expected(lab), step  # the patched cards, kept, read back
        assert stats_shown(lab) == stats_expected(lab), step  # --stats, without the texts
    assert shown(lab, Filter(stages=(2,))) == expected(lab, Filter(stages=(2,)))
    assert stats_shown(lab, Filter(stages=(2,))) == stats_expected(lab, Filter(stages=(2,)))


def test_an_edited_note_is_read_alone(patch_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After one note's answer and stage were edited, `quiz --json` reads that note and no
    other (card_rows, which builds the lab and loads every note's cards, is not called),
    and the self-test card of the review note takes the new stage. So does `quiz --stats`."""
    assert shown(patch_lab) == expected(patch_lab)
    assert stats_shown(patch_lab) == stats_expected(patch_lab)
    made: list[bool] = []
    read_notes: list[str] = []
    real_rows, real_chunk = ops_quiz.card_rows, ops_cards.read_chunk

    def chunk(root: str, notes: list[Any], *args: Any, **kwargs: Any) -> Any:
        read_notes.extend(note.path for note in notes)
        return real_chunk(root, notes, *args, **kwargs)

    def counted(edited: list[str], command: Any) -> Any:
        made.clear()
        read_notes.clear()
        with monkeypatch.context() as patched:
            patched.setattr(
                ops_quiz, "card_rows", lambda *a, **k: made.append(True) or real_rows(*a, **k)
            )
            patched.setattr(ops_cards, "read_chunk", chunk)
            found = command(patch_lab)
        assert made == [] and read_notes == edited
        return found

    concept = patch_lab / CONCEPT
    concept.write_text(
        read(concept).replace("stage: 1", "stage: 4").replace("A: ", "A: 新 ", 1), "utf-8"
    )
    found = counted([CONCEPT], shown)
    (selftest,) = [c for c in found["new"] if c["kind"] == "selftest"]
    assert selftest["stage"] == 4 and selftest["path"] == REVIEW
    assert any(c["answer"].startswith("新 ") for c in found["new"])
    assert found == expected(patch_lab)
    other = patch_lab / OTHER
    other.write_text(read(other) + card(None, 7), "utf-8")
    # --stats keeps its own cards, last made before both edits: it reads both notes
    summary, problems = counted([OTHER, CONCEPT], stats_shown)
    assert (summary, problems) == stats_expected(patch_lab)
    assert summary.cards == len(found["new"]) + 1


def test_a_card_id_taken_twice_makes_the_cards_anew(
    patch_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Which of two cards of one id counts depends on notes that did not change: such an
    edit is not patched but made anew, and shows what study() shows."""
    assert shown(patch_lab) == expected(patch_lab)
    made: list[bool] = []
    real_rows = ops_quiz.card_rows
    monkeypatch.setattr(
        ops_quiz, "card_rows", lambda *a, **k: made.append(True) or real_rows(*a, **k)
    )
    for relative, rows_made in ((OTHER, []), (CONCEPT, [True])):
        note = patch_lab / relative
        note.write_text(read(note) + card("twice", 1), "utf-8")
        found = shown(patch_lab)
        assert made == rows_made
        assert found == expected(patch_lab)
        made.clear()
    # the card that counted goes: the other one, in a note that did not change, counts now
    other = patch_lab / OTHER
    other.write_text(read(other).replace("<!-- card: twice -->", ""), "utf-8")
    found = shown(patch_lab)
    assert made == [True] and found == expected(patch_lab)
    (twice,) = [c for c in found["new"] if c["id"] == "twice"]
    assert twice["path"] == CONCEPT


def test_a_damaged_kept_entry_is_made_anew(patch_lab: Path, in_lab: Run) -> None:
    """The entry kept for the patch is checked like any other: flipped bytes in it make the
    cards anew, with no traceback."""
    assert in_lab("quiz", "--json").ok
    (entry,) = (patch_lab / ".lab/results").glob("quiz-cards-*.json")
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))
    concept = patch_lab / CONCEPT
    concept.write_text(read(concept).replace("A: ", "A: 改 ", 1), "utf-8")
    result = in_lab("quiz", "--json")
    assert result.ok and not result.err, result
    assert any(c["answer"].startswith("改 ") for c in json.loads(result.out)["new"])
    assert shown(patch_lab) == expected(patch_lab)


# --- the cards' texts, in a file of their own (ops.cardtext) ---------------------------------


def text_file(lab: Path) -> Path:
    (found,) = (lab / ".lab/results").glob("quiz-cards-*.text")
    return found


def damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "flip":  # a byte of the last card's answer (no header, no other card's start)
        data[-3] ^= 0x01
    elif how == "cut":
        del data[len(data) // 2 :]
    elif how == "token":  # another lab's file, or one made anew by another process
        data[:16] = b"0" * 16
    elif how == "junk":  # what another process appended meanwhile: not damage at all
        data += "另一个进程追加的文字\n".encode()
    path.write_bytes(bytes(data))
    if how == "gone":
        path.unlink()


@pytest.mark.parametrize("how", ["flip", "cut", "token", "junk", "gone"])
def test_a_damaged_text_file_makes_the_cards_anew(patch_lab: Path, in_lab: Run, how: str) -> None:
    """A card whose bytes are not what the columns say (a changed byte, a cut or replaced
    file) is never shown: `quiz --json` makes its cards anew and shows what a run without
    .lab/ shows, with no warning or traceback; text another process appended is harmless."""
    assert in_lab("quiz", "--json").ok
    reference = expected(patch_lab)
    damage(text_file(patch_lab), how)
    assert shown(patch_lab) == reference
    result = in_lab("quiz", "--json", "--new", "100")
    assert result.ok and not result.err, result
    found = json.loads(result.out)
    del found["now"]
    assert found == reference
    # and an edit after that is patched again, as if nothing had happened
    concept = patch_lab / CONCEPT
    concept.write_text(read(concept).replace("A: ", "A: 又改 ", 1), "utf-8")
    assert shown(patch_lab) == expected(patch_lab)
    assert kept_cards(patch_lab) == made_cards(patch_lab)


def test_the_text_file_does_not_grow_without_bound(
    patch_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each edit appends its note's texts; the ones no card names any more are dropped when
    the file would hold twice what the cards use (here without the megabyte of slack): the
    cards are then made anew, in a new file."""
    from mllm_lab.ops import cardtext

    monkeypatch.setattr(cardtext, "SLACK", 0)
    assert shown(patch_lab) == expected(patch_lab)
    concept = patch_lab / CONCEPT
    sizes = []
    for number in range(12):
        concept.write_text(read(concept).replace("A: ", f"A: 第{number}次 ", 1), "utf-8")
        assert shown(patch_lab) == expected(patch_lab)
        sizes.append(text_file(patch_lab).stat().st_size)
    used = sum(
        len(c["question"].encode()) + len(c["answer"].encode()) for c in shown(patch_lab)["new"]
    )
    assert max(sizes) <= 2 * used + 17 + 200
    assert any(later < earlier for earlier, later in pairwise(sizes))  # made anew


def test_the_next_day_patches_the_cards_kept_the_day_before(
    patch_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept cards do not depend on the day: the first `quiz --json` of a new day, after
    an edit, reads the edited note alone, and shows what study() shows."""
    from mllm_lab.core.schedule import quiz_json

    tomorrow = NOON + timedelta(days=1)

    def json_of(day: date, now: datetime) -> Any:
        ws = Workspace(Lab.find(str(patch_lab)), today=day)
        found = ops_quiz.due_now(ws, now, Filter(), new=EVERY, limit=None)
        shown = quiz_json(found.queue, schedule=found.states, summary=found.stats, now=now)
        del shown["now"]
        return shown

    json_of(NOON.date(), NOON)
    concept = patch_lab / CONCEPT
    concept.write_text(read(concept).replace("A: ", "A: 第二天 ", 1), "utf-8")
    made: list[bool] = []
    real_rows = ops_quiz.card_rows
    with monkeypatch.context() as patched:
        patched.setattr(
            ops_quiz, "card_rows", lambda *a, **k: made.append(True) or real_rows(*a, **k)
        )
        found = json_of(tomorrow.date(), tomorrow)
    assert made == []
    reference = shown_as_study_gives(patch_lab, tomorrow, Filter(), EVERY, None)
    del reference["now"]
    assert found == reference
    assert any(c["answer"].startswith("第二天 ") for c in found["new"])


def test_each_filter_keeps_its_cards_with_their_texts(
    patch_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nine sets of options in turn each keep their cards and texts: an entry and its text
    file count as one of the 16 kept (the texts counted apart, only 8 sets stayed), and go
    together when an older set is dropped."""
    options = [Filter(), *(Filter(stages=(stage,)) for stage in range(1, 6))]
    options += [Filter(tags=("attention",)), Filter(tags=("x",)), Filter((1,), ("attention",))]
    for which in options:
        shown(patch_lab, which)
    made: list[bool] = []
    real = ops_quiz._card_columns
    monkeypatch.setattr(
        ops_quiz, "_card_columns", lambda *a, **k: made.append(True) or real(*a, **k)
    )
    for which in options:
        assert shown(patch_lab, which) == expected(patch_lab, which)
    assert made == []
    for number in range(20):  # many more sets: the oldest go, each with its texts
        shown(patch_lab, Filter(tags=(f"t{number}",)))
    results = patch_lab / ".lab/results"
    entries = {p.stem for p in results.glob("quiz-cards-*.json")}
    texts = {p.stem for p in results.glob("quiz-cards-*.text")}
    assert len(entries) == 16 and texts <= entries


def test_a_text_file_made_anew_does_not_keep_the_old_ones_mode(patch_lab: Path) -> None:
    """A text file that could not be read (mode 000) is not the pattern of the next one."""
    shown(patch_lab)
    text_file(patch_lab).chmod(0)
    concept = patch_lab / CONCEPT
    concept.write_text(read(concept) + card("new-one", 1), "utf-8")
    text_file(patch_lab).write_bytes(b"0" * 17)  # another token: the cards are made anew
    text_file(patch_lab).chmod(0)
    assert shown(patch_lab) == expected(patch_lab)
    assert text_file(patch_lab).stat().st_mode & 0o400


def test_stats_stop_warning_once_the_second_card_of_an_id_is_gone(patch_lab: Path) -> None:
    """A hostile pass found it: the card that lost its id to another was removed, and a warm
    `quiz --stats` kept naming the duplicate."""
    for relative in (OTHER, CONCEPT):
        note = patch_lab / relative
        note.write_text(read(note) + card("twice", 1), "utf-8")
    assert stats_shown(patch_lab) == stats_expected(patch_lab)
    assert stats_shown(patch_lab)[1]
    concept = patch_lab / CONCEPT  # the later path: its card is the one that lost the id
    concept.write_text(read(concept).replace("<!-- card: twice -->", ""), "utf-8")
    assert stats_shown(patch_lab) == stats_expected(patch_lab)
    assert stats_shown(patch_lab)[1] == []


# --- `lab export anki`: the package made from the kept columns ------------------------------


def exported(lab: Path, tmp: Path) -> Any:
    """What `lab export anki` writes now: the package's rows, ids and times left out."""
    from mllm_lab.ops.exchange import export_anki

    done = export_anki(ws_of(lab), tmp / "lab.apkg", "lab.apkg", force=True)
    return None if done is None else (_package_rows(done.path, tmp), done.skipped)


def exported_from_every_card(lab: Path, tmp: Path) -> Any:
    """The package made of lab_cards as study() makes them, from scratch (no .lab/)."""
    from mllm_lab import anki
    from mllm_lab.ops.cards import lab_cards

    ws = Workspace(Lab.find(str(lab)), use_index=False)
    found = lab_cards(ws).cards
    if not found:
        return None
    done = anki.export(found, tmp / "every.apkg", lang=ws.lang, timestamp=1_795_000_000.0)
    return _package_rows(done.path, tmp), done.skipped


def _package_rows(path: Path, tmp: Path) -> Any:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        (tmp / "rows.anki2").write_bytes(archive.read("collection.anki2"))
    found = _tables(tmp / "rows.anki2")
    notes = [row[1:3] + row[4:] for row in found["notes"]]  # no id, no time
    by_note = {row[0]: row[1] for row in found["notes"]}  # note id -> guid
    cards = [(by_note[row[1]], row[2]) for row in found["cards"]]  # (guid, deck)
    return notes, cards, found["decks"], sorted(found["models"])


@edit_runs(25)
def test_an_anki_export_after_any_edits_holds_what_every_card_gives(
    patch_lab: Path, tmp_path_factory: pytest.TempPathFactory, steps: list[list[Edit]]
) -> None:
    """`lab export anki` takes the cards from the columns `quiz --json` keeps (patched after
    edits, made anew past them) and, when an id is taken twice, from every card: whatever
    the edits, the package holds what one made of every card from scratch holds, in the
    same order, with the same decks."""
    lab = tmp_path_factory.mktemp("export") / "lab"
    shutil.copytree(patch_lab, lab, symlinks=True)
    out = tmp_path_factory.mktemp("out")
    kept: dict[str, str] = {}
    assert shown(lab) == expected(lab)  # the columns kept, as a quiz leaves them
    for step in steps:
        for edit in step:
            apply(lab, edit, kept)
        assert exported(lab, out) == exported_from_every_card(lab, out), step


def test_an_export_after_a_quiz_reads_the_kept_texts_and_not_the_notes(
    patch_lab: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """After `quiz --json` kept the cards, an export makes no card of the notes (card_rows
    is not called) and reads the texts file once; a damaged texts file makes the cards anew
    and the package is still the right one."""
    assert shown(patch_lab) == expected(patch_lab)
    made: list[bool] = []
    real_rows = ops_quiz.card_rows
    monkeypatch.setattr(
        ops_quiz, "card_rows", lambda *a, **k: made.append(True) or real_rows(*a, **k)
    )
    right = exported_from_every_card(patch_lab, tmp_path)
    assert exported(patch_lab, tmp_path) == right and made == []
    [text] = (patch_lab / ".lab" / "results").glob("quiz-cards-*.text")
    data = bytearray(text.read_bytes())
    data[-3] ^= 0x55  # a flipped byte in the last card's answer
    text.write_bytes(bytes(data))
    assert exported(patch_lab, tmp_path) == right and made == [True]


@pytest.mark.parametrize("kept", ["quiz-cards-*.text", "quiz-cards-*.json", "../index.bin"])
def test_a_pipe_in_place_of_what_lab_keeps_is_not_waited_on(
    patch_lab: Path, sh: Any, tmp_path: Path, kept: str
) -> None:
    """A pipe put where lab keeps the cards' texts, the cards or the index (reading one waits
    for a writer) used to hang `quiz --json` and `export anki`: it is passed over like a
    damaged file, and what they give is what they give without it."""
    results = patch_lab / ".lab" / "results"
    assert sh("quiz", "--json", cwd=patch_lab).returncode == 0
    right = exported_from_every_card(patch_lab, tmp_path)
    [where] = results.glob(kept)
    where.unlink()
    os.mkfifo(where)
    shown = sh("quiz", "--json", cwd=patch_lab, timeout=30)
    assert shown.returncode == 0 and '"schema": "mllm-lab/quiz/1"' in shown.stdout, shown.stderr
    done = sh("export", "anki", str(tmp_path / "lab.apkg"), "--force", cwd=patch_lab, timeout=30)
    assert done.returncode == 0, done.stderr
    assert (_package_rows(tmp_path / "lab.apkg", tmp_path), ()) == right
