"""`lab quiz` as a learner uses it: the installed `lab` on a real pseudo-terminal (pexpect),
keys pressed one by one. Also a quiz killed at every write point of an answer: the log holds
every earlier answer and never half a line."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pexpect
import pytest
from conftest import Run, lab_executable, read
from test_quiz import CONCEPT, INTERVIEW, PAPER, QA, SUMMARY, write_section

from mllm_lab.core.schedule import LOG_PATH, parse_log

pytestmark = pytest.mark.slow


@pytest.fixture
def cards_lab(in_lab: Run, lab: Path) -> Path:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert in_lab("new", "paper", "blip-2").ok
    write_section(lab / CONCEPT, "## 面试口述版", INTERVIEW + "\n\n" + QA)
    write_section(lab / PAPER, "## 一句话总结", SUMMARY)
    return lab


def spawn(root: Path, *args: str, **env: str) -> pexpect.spawn:
    environment = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", **env}
    child = pexpect.spawn(
        lab_executable(),
        ["quiz", *args],
        cwd=str(root),
        env=environment,
        encoding="utf-8",
        timeout=90,  # a busy machine: the expectations, not the clock, decide
        dimensions=(40, 200),
        # Ctrl-C as on a terminal, however the suite was started: a suite run in the
        # background by a non-interactive shell ignores SIGINT, and its children inherit that
        # (then Python installs no KeyboardInterrupt and the sitting waits on)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return child


def finish(child: pexpect.spawn) -> int | None:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def log_lines(root: Path) -> list[dict[str, object]]:
    path = root / LOG_PATH
    return [json.loads(line) for line in read(path).splitlines()] if path.exists() else []


def test_a_sitting_on_a_terminal(cards_lab: Path) -> None:
    child = spawn(cards_lab)
    child.expect(
        "第 1 张 · 还剩 2 张 · 新卡片 · 阶段一：Transformer 与 LLM 基础 · notes/fundamentals/self-attention.md:"
    )
    child.expect("用 3-5 句话向面试官解释「Self-Attention」。")
    child.expect(re.escape("[回车] 显示答案 · [q] 退出"))
    child.send("x")  # not a key of this prompt: ignored
    child.send("\r")
    child.expect(re.escape(INTERVIEW))
    child.expect(
        r"\[1\] 重来 <1 分钟 · \[2\] 困难 \d+ 分钟 · \[3\] 良好 10 分钟 · \[4\] 简单 \d+ 天 · \[q\] 退出"
    )
    child.send("3")
    child.expect("注意力分数为什么要除以")
    child.send(" ")
    child.expect("不缩放会让 softmax 饱和")
    child.send("1")  # Again
    child.expect("用一句话总结论文「BLIP-2")
    assert len(log_lines(cards_lab)) == 2  # each answer is on disk as soon as it is given
    child.send("\r")
    child.expect(re.escape(SUMMARY))
    child.send("4")
    child.expect("第 4 张 · 还剩 \\d+ 张 · 学习中")  # the Again card comes back in the same sitting
    child.expect("注意力分数为什么要除以")
    child.send("q")
    child.expect(r"本次复习 3 张卡片（重来 1 · 困难 0 · 良好 1 · 简单 1）")
    assert finish(child) == 0
    lines = log_lines(cards_lab)
    assert [(line["rating"], line["note"]) for line in lines] == [
        (3, CONCEPT),
        (1, CONCEPT),
        (4, PAPER),
    ]
    assert all(isinstance(line["duration_ms"], int) for line in lines)
    stats = Run(cards_lab)("quiz", "--stats")
    assert "复习卡片：共 3 张 · 新卡片 0 张 · 今天到期 2 张" in stats.out, stats


def test_ctrl_c_keeps_every_answer_given(cards_lab: Path) -> None:
    child = spawn(cards_lab)
    child.expect("显示答案")
    child.send("\r")
    child.expect(r"\[3\] 良好")
    child.send("3")
    child.expect("注意力分数为什么要除以")
    child.sendintr()
    child.expect(r"已停止：1 个回答已记在 reviews/quiz-log\.jsonl")
    assert finish(child) == 130
    assert [line["rating"] for line in log_lines(cards_lab)] == [3]


def test_keys_typed_ahead_are_not_lost(cards_lab: Path) -> None:
    """Enter and a rating typed in one go (a quick learner, or a paste): the rating waits in
    the terminal's queue while the answer is shown, and counts. Each key read switches the
    terminal to cbreak mode; a switch that flushed pending input dropped it, and a Ctrl-C
    pressed as the next question was shown as well."""
    child = spawn(cards_lab)
    child.expect("显示答案")
    child.send("\r3")
    child.expect("注意力分数为什么要除以", timeout=30)
    child.send("q")
    assert finish(child) == 0
    assert [line["rating"] for line in log_lines(cards_lab)] == [3]


def test_nothing_due_says_when_the_next_card_is(cards_lab: Path) -> None:
    child = spawn(cards_lab, "--stage", "5")
    child.expect("还没有卡片")
    assert finish(child) == 0
    child = spawn(cards_lab, "--limit", "1")
    child.expect("显示答案")
    child.send("\r")
    child.expect(r"\[4\] 简单")
    child.send("4")
    child.expect("本次复习 1 张卡片")
    assert finish(child) == 0
    child = spawn(cards_lab, "--new", "0")
    child.expect(r"现在没有要复习的卡片（共 3 张）。下一张卡片 \d+ 天后到期。")
    assert finish(child) == 0


def test_english_on_a_terminal(run: Run, en_lab: Path) -> None:
    assert run("new", "concept", "Attention", "-c", "fundamentals", cwd=en_lab).ok
    write_section(
        en_lab / "notes/fundamentals/attention.md",
        "## Interview answer",
        "Weights from dot products.",
    )
    child = spawn(en_lab)
    child.expect(re.escape("[Enter] show the answer · [q] quit"))
    child.send("\r")
    child.expect(
        r"\[1\] Again <1 min · \[2\] Hard \d+ min · \[3\] Good 10 min · \[4\] Easy \d+ days · \[q\] quit"
    )
    child.send("2")
    child.expect(r"Reviewed 1 card \(Again 0 · Hard 1 · Good 0 · Easy 0\)|card 2")
    child.send("q")
    assert finish(child) == 0
    assert [line["rating"] for line in log_lines(en_lab)] == [2]


def answer_once(root: Path, **env: str) -> pexpect.spawn:
    child = spawn(root, **env)
    child.expect("显示答案")
    child.send("\r")
    child.expect(r"\[3\] 良好")
    child.send("3")
    return child


def test_a_kill_at_every_write_point_of_an_answer(cards_lab: Path, tmp_path: Path) -> None:
    first = answer_once(cards_lab)  # one answer already in the log
    first.expect("注意力分数为什么要除以")
    first.send("q")
    assert finish(first) == 0
    old = read(cards_lab / LOG_PATH)
    listing = answer_once(cards_lab, LAB_WRITE_POINTS="1")
    listing.expect("注意力分数为什么要除以")
    points = re.findall(r"write point (\d+): ([^\r\n]*)", listing.before or "")
    listing.send("q")
    assert finish(listing) == 0
    assert [name for _, name in points] == [
        "temp file for reviews/quiz-log.jsonl",
        "journal written",
        "replaced reviews/quiz-log.jsonl",
        "journal removed",
    ]
    (cards_lab / LOG_PATH).write_text(old, "utf-8")  # back to one answer
    for number, name in points:
        victim = tmp_path / f"crash-{number}"
        shutil.copytree(cards_lab, victim, symlinks=True)
        child = answer_once(victim, LAB_CRASH_AT=number)
        child.expect(pexpect.EOF)
        child.close()
        assert child.signalstatus == signal.SIGKILL, (number, name)
        assert Run(victim)("quiz", "--stats").ok  # a crashed commit is finished on opening
        text = read(victim / LOG_PATH)
        log = parse_log(text, LOG_PATH)
        assert log.problems == (), (number, name, text)
        assert text == old or (text.startswith(old) and len(log.reviews) == 2), (number, name)
        assert Run(victim)("sync").ok  # the next write clears what a crash left
        assert not (victim / ".lab/commit.json").exists() and not list(
            (victim / ".lab/tmp").glob("*")
        )


def test_a_log_answers_cannot_be_added_to_stops_before_the_first_question(cards_lab: Path) -> None:
    (cards_lab / "reviews").mkdir(exist_ok=True)
    (cards_lab / LOG_PATH).write_bytes(
        b'{"card": "a", "time": "2026-11-24T10:00:00+08:00", "rating": 3}\n\xff\n'
    )
    child = spawn(cards_lab)
    child.expect(r"错误：reviews/quiz-log\.jsonl:2: ")
    assert "显示答案" not in (child.before or "")
    assert finish(child) == 1
