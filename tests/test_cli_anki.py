"""`lab export anki` on a real lab: the package it writes is opened (a zip holding Anki's
SQLite collection) and its notes, fields, decks and ids are checked; a second export keeps
every id; files that are not lab's own are not replaced."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from conftest import Run, read
from test_anki import read_package
from test_quiz import CONCEPT, INTERVIEW, PAPER, QA, SUMMARY, write_section

from mllm_lab.anki import ROOT_DECK, note_guid
from mllm_lab.core.cards import card_id


@pytest.fixture
def cards_lab(in_lab: Run, lab: Path) -> Path:
    assert in_lab(
        "new", "concept", "Self-Attention", "-c", "fundamentals", "--tags", "attention"
    ).ok
    assert in_lab("new", "paper", "blip-2").ok
    code = (
        "```python\nscores = q @ k.T / d ** 0.5\n```\n"  # fenced right under the answer: its part
    )
    write_section(
        lab / CONCEPT, "## 面试口述版", INTERVIEW + "\n\n" + QA.rstrip("\n") + "\n" + code
    )
    write_section(lab / PAPER, "## 一句话总结", SUMMARY)
    return lab


def test_the_package_holds_every_card_in_a_deck_per_stage(in_lab: Run, cards_lab: Path) -> None:
    result = in_lab("export", "anki", "study.apkg")
    assert result.ok, result
    assert "study.apkg：3 张卡片，每个路线图阶段一个牌组" in result.err
    assert "  MLLM Lab::阶段一：Transformer 与 LLM 基础：2" in result.err
    package = read_package(cards_lab / "study.apkg")
    interview = package["notes"][note_guid(card_id(CONCEPT, "[interview]"))]
    assert interview["deck"] == f"{ROOT_DECK}::阶段一：Transformer 与 LLM 基础"
    question, answer, source, card = interview["fields"]
    assert question == "<p>用 3-5 句话向面试官解释「Self-Attention」。</p>"
    heading = read(cards_lab / CONCEPT).split("\n").index("## 面试口述版") + 1
    assert answer == f"<p>{INTERVIEW}</p>"
    assert source == f"Self-Attention · {CONCEPT}:{heading}"
    assert card == card_id(CONCEPT, "[interview]")
    assert "mllm-lab::interview" in interview["tags"] and "attention" in interview["tags"]
    explicit = next(n for n in package["notes"].values() if "mllm-lab::explicit" in n["tags"])
    assert explicit["fields"][0] == (
        '<p>注意力分数为什么要除以 <span class="math inline">\\(\\sqrt{d_k}\\)</span>？</p>'
    )
    assert '<pre><code class="language-python">scores = q @ k.T / d ** 0.5' in explicit["fields"][1]
    summary = package["notes"][note_guid(card_id(PAPER, "[summary]"))]
    assert summary["deck"] == f"{ROOT_DECK}::阶段三：多模态对齐与融合"
    assert package["decks"] >= {
        f"{ROOT_DECK}::阶段一：Transformer 与 LLM 基础",
        f"{ROOT_DECK}::阶段三：多模态对齐与融合",
    }


def test_a_second_export_keeps_every_id_and_takes_in_edits(in_lab: Run, cards_lab: Path) -> None:
    assert in_lab("export", "anki").ok  # ./mllm-lab.apkg by default
    first = read_package(cards_lab / "mllm-lab.apkg")["notes"]
    concept = cards_lab / CONCEPT
    concept.write_text(
        read(concept).replace(
            "## 直觉理解\n", "## 直觉理解\n\n像查字典：Query 查 Key，取回 Value。\n"
        ),
        "utf-8",
    )
    write_section(cards_lab / PAPER, "## 直觉理解", "Q: Q-Former 有多少个 query？\nA: 32 个。")
    assert in_lab("export", "anki").ok  # the earlier export is lab's own: replaced
    second = read_package(cards_lab / "mllm-lab.apkg")["notes"]
    assert set(first) < set(second) and len(second) == 4
    for guid in first:  # the same question, answer and id; only `path:line` moved
        assert second[guid]["fields"][:2] == first[guid]["fields"][:2]
        assert second[guid]["fields"][3] == first[guid]["fields"][3]


def test_no_cards_no_package(in_lab: Run, lab: Path) -> None:
    result = in_lab("export", "anki", "empty.apkg")
    assert result.ok and "还没有卡片" in result.err
    assert not (lab / "empty.apkg").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("cards.zip", "错误：cards.zip：Anki 卡片包的文件名应以 .apkg 结尾"),
        ("notes.apkg", "错误：notes.apkg：已存在，且不是 lab 导出的文件；用 --force 覆盖"),
    ],
)
def test_refuses_what_is_not_an_anki_package(
    in_lab: Run, cards_lab: Path, target: str, message: str
) -> None:
    (cards_lab / "notes.apkg").write_text("my own notes, not a package\n", "utf-8")
    result = in_lab("export", "anki", target)
    assert result.code == 1 and result.err.strip() == message
    assert read(cards_lab / "notes.apkg") == "my own notes, not a package\n"
    assert in_lab("export", "anki", "notes.apkg", "--force").ok
    assert len(read_package(cards_lab / "notes.apkg")["notes"]) == 3


def test_english_decks_in_a_real_process(
    sh: Callable[..., CompletedProcess[str]], run: Run, en_lab: Path
) -> None:
    assert run("new", "concept", "Attention", "-c", "training", cwd=en_lab).ok
    write_section(
        en_lab / "notes/training/attention.md", "## Interview answer", "Weights from dot products."
    )
    done = sh("export", "anki", "out/en.apkg", cwd=en_lab)
    assert done.returncode == 0, done.stderr
    assert "out/en.apkg: 1 card, a deck per roadmap stage" in done.stderr
    package = read_package(en_lab / "out/en.apkg")
    assert package["decks"] >= {f"{ROOT_DECK}::Stage 4: Training methods"}


def test_an_anki_export_runs_without_the_bibtex_side(cards_lab: Path) -> None:
    """`lab export anki` does not import bibtexparser, the resolver or the reading list's
    editing (60 ms of imports it has no use for): an import of bibtexparser would fail."""
    import subprocess
    import sys

    from conftest import lab_executable

    code = (
        "import sys, runpy; sys.argv = ['lab', 'export', 'anki', 'cards.apkg']; "
        "sys.modules['bibtexparser'] = None; "
        f"runpy.run_path({lab_executable()!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cards_lab, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert (cards_lab / "cards.apkg").is_file() and read_package(cards_lab / "cards.apkg")


def _export_in_a_process(lab: Path, target: str) -> bool:
    """`lab export anki target` in a process of its own; whether it imported markdown-it."""
    import subprocess
    import sys

    from conftest import lab_executable

    code = (  # lab ends with os._exit (cli._end_now): the check goes in before it
        "import os, sys, runpy; import mllm_lab.cli as cli; end = cli._end_now; "
        "cli._end_now = lambda code: os._exit(9) if 'markdown_it' in sys.modules else end(code); "
        f"sys.argv = ['lab', 'export', 'anki', {target!r}]; "
        f"runpy.run_path({lab_executable()!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=lab, timeout=60
    )
    assert done.returncode in (0, 9), done.stderr
    return done.returncode == 9


def test_a_second_export_takes_the_markup_fields_from_the_first_without_markdown_it(
    cards_lab: Path,
) -> None:
    """The fields markdown-it rendered (the explicit card's maths and code) are kept in .lab/:
    the next export writes the same notes without importing markdown-it."""
    assert _export_in_a_process(cards_lab, "first.apkg")
    assert (cards_lab / ".lab/anki-html.bin").is_file()
    assert not _export_in_a_process(cards_lab, "second.apkg")
    first, second = read_package(cards_lab / "first.apkg"), read_package(cards_lab / "second.apkg")
    assert second["notes"] == first["notes"]
    assert any("\\(\\sqrt{d_k}\\)" in n["fields"][0] for n in second["notes"].values())


def _kept_html(lab: Path) -> dict[str, str]:
    from mllm_lab.caches import load_cache
    from mllm_lab.lab import Lab

    kept = load_cache(Lab.find(str(lab)), "anki-html.bin")
    return dict(kept["html"])


def _keep_html(lab: Path, html: dict[str, str], made: str) -> None:
    from mllm_lab.caches import save_cache
    from mllm_lab.lab import Lab

    save_cache(Lab.find(str(lab)), "anki-html.bin", {"made": made, "html": html}, shaped=True)


def test_renders_kept_are_used_only_when_made_by_this_code(in_lab: Run, cards_lab: Path) -> None:
    """A render kept under this code's stamp stands for markdown-it's (the cache is used); one
    kept under another stamp (an upgrade of lab or of markdown-it) is rendered again."""
    from mllm_lab.anki import renderer_stamp

    assert in_lab("export", "anki", "a.apkg").ok
    kept = _kept_html(cards_lab)
    question = next(text for text in kept if "sqrt{d_k}" in text)
    marked = {**kept, question: "<p>KEPT</p>"}

    def first_fields() -> list[str]:
        notes = read_package(cards_lab / "a.apkg")["notes"].values()
        return [n["fields"][0] for n in notes if "mllm-lab::explicit" in n["tags"]]

    _keep_html(cards_lab, marked, made=renderer_stamp())
    assert in_lab("export", "anki", "a.apkg").ok
    assert first_fields() == ["<p>KEPT</p>"]
    _keep_html(cards_lab, marked, made="another version")
    assert in_lab("export", "anki", "a.apkg").ok
    assert first_fields() == [kept[question]] and "KEPT" not in kept[question]
    assert _kept_html(cards_lab) == kept  # rendered again and kept under this code's stamp


def test_the_renders_kept_are_those_of_the_last_export(in_lab: Run, cards_lab: Path) -> None:
    """A field no card has any more is not kept: the file holds the last export's renders."""
    assert in_lab("export", "anki", "a.apkg").ok
    before = _kept_html(cards_lab)
    gone = [text for text in before if "d_k" in text]  # the explicit card's two fields
    assert len(gone) == 2
    text = read(cards_lab / CONCEPT)
    (cards_lab / CONCEPT).write_text(text.replace(QA.rstrip("\n"), ""), "utf-8")
    assert in_lab("export", "anki", "a.apkg").ok
    after = _kept_html(cards_lab)
    assert after and not set(gone) & set(after)
