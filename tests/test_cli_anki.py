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
