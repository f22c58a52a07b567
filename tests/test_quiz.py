"""`lab quiz` without a terminal (--json, --stats, the refusal), `lab status`'s cards, the
review log written through the transaction, the caches of cards and schedule, and one sitting
of the quiz driven in-process (core.session). The interactive loop on a real pseudo-terminal
is in tests/test_quiz_pty.py."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllm_lab.core.cards import card_id
from mllm_lab.core.schedule import LOG_PATH, Rating, Review, build, format_review, parse_log, queue
from mllm_lab.core.session import Session
from mllm_lab.lab import Lab
from mllm_lab.models import Note
from mllm_lab.ops import quiz as ops_quiz
from mllm_lab.ops.cards import CARDS_CACHE, IDS_CACHE, card_ids, lab_cards
from mllm_lab.ops.workspace import Workspace

CONCEPT = "notes/fundamentals/self-attention.md"
PAPER = "papers/blip-2.md"
NOON = datetime.fromisoformat("2026-11-25T12:00:00+08:00")
INTERVIEW = "Self-Attention 让每个 token 的 Query 与所有 Key 点积，softmax 后对 Value 加权求和。"
QA = "Q: 注意力分数为什么要除以 $\\sqrt{d_k}$？\n\nA: 点积的方差随 $d_k$ 增大，不缩放会让 softmax 饱和。\n"
SUMMARY = "用 Q-Former 连接冻结的图像编码器与冻结的 LLM，只训练轻量的桥接模块。"


def write_section(path: Path, heading: str, text: str) -> None:
    body = read(path)
    assert f"{heading}\n" in body, heading
    path.write_text(body.replace(f"{heading}\n", f"{heading}\n\n{text}\n", 1), "utf-8")


@pytest.fixture
def cards_lab(in_lab: Run, lab: Path) -> Path:
    """Three cards: a concept's interview answer and a Q:/A: card (stage 1, tag attention),
    and BLIP-2's one-sentence summary (stage 3)."""
    assert in_lab(
        "new", "concept", "Self-Attention", "-c", "fundamentals", "--tags", "attention"
    ).ok
    assert in_lab("new", "paper", "blip-2").ok
    write_section(lab / CONCEPT, "## 面试口述版", INTERVIEW + "\n\n" + QA)
    write_section(lab / PAPER, "## 一句话总结", SUMMARY)
    return lab


def calls_of(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bool]:
    """One True for each call of ops.quiz's `name` from now on (the cards made or read)."""
    made: list[bool] = []
    real = getattr(ops_quiz, name)
    monkeypatch.setattr(ops_quiz, name, lambda *a, **k: made.append(True) or real(*a, **k))
    return made


def ws_of(lab: Path) -> Workspace:
    return Workspace(Lab.find(str(lab)))


def log_lines(lab: Path) -> list[dict[str, object]]:
    path = lab / LOG_PATH
    return [json.loads(line) for line in read(path).splitlines()] if path.exists() else []


def review(card: str, when: datetime, rating: int = 3, note: str | None = CONCEPT) -> str:
    return format_review(Review(card, when, Rating(rating), note=note))


# --- without a terminal ------------------------------------------------------------------------


def test_no_terminal_refuses_in_one_line(in_lab: Run, cards_lab: Path) -> None:
    result = in_lab("quiz")
    assert result.code == 1
    assert result.err.strip().splitlines() == [
        "错误：`lab quiz` 需要在终端里提问，当前不是终端；`lab quiz --json` 列出到期卡片，`lab quiz --stats` 给出统计"
    ]
    assert not (cards_lab / LOG_PATH).exists()


def test_json_lists_the_new_cards_in_roadmap_order(in_lab: Run, cards_lab: Path) -> None:
    result = in_lab("quiz", "--json")
    assert result.ok, result
    data = json.loads(result.out)
    assert data["schema"] == "mllm-lab/quiz/1" and data["due"] == []
    new = data["new"]
    assert [(c["kind"], c["path"], c["stage"]) for c in new] == [
        ("interview", CONCEPT, 1),
        ("explicit", CONCEPT, 1),
        ("summary", PAPER, 3),
    ]
    assert new[0]["question"] == "用 3-5 句话向面试官解释「Self-Attention」。"
    assert new[0]["answer"] == INTERVIEW and new[0]["id"] == card_id(CONCEPT, "[interview]")
    assert new[1]["answer"] == "点积的方差随 $d_k$ 增大，不缩放会让 softmax 饱和。"
    assert new[2]["answer"] == SUMMARY and new[2]["tags"] == []
    assert data["stats"]["cards"] == 3 and data["stats"]["new"] == 3


@pytest.mark.parametrize(
    ("args", "kinds"),
    [
        (["--stage", "3"], ["summary"]),
        (["--stage", "1", "--stage", "3"], ["interview", "explicit", "summary"]),
        (["--tag", "ATTENTION"], ["interview", "explicit"]),
        (["--new", "1"], ["interview"]),
        (["--new", "0"], []),
        (["--limit", "2"], ["interview", "explicit"]),
    ],
)
def test_json_filters(in_lab: Run, cards_lab: Path, args: list[str], kinds: list[str]) -> None:
    result = in_lab("quiz", "--json", *args)
    assert result.ok, result
    assert [card["kind"] for card in json.loads(result.out)["new"]] == kinds


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stage", "7"], "错误：'--stage' 的值无效：7 不在范围 1<=x<=5 内（见 `lab quiz -h`）"),
        (
            ["--limit", "0"],
            "错误：'--limit' / '-n' 的值无效：0 不在范围 x>=1 内（见 `lab quiz -h`）",
        ),
        (["--new", "-1"], "错误：'--new' 的值无效：-1 不在范围 x>=0 内（见 `lab quiz -h`）"),
    ],
)
def test_bad_options_are_one_line(
    in_lab: Run, cards_lab: Path, args: list[str], message: str
) -> None:
    result = in_lab("quiz", "--json", *args)
    assert result.code == 2 and result.err.strip() == message, result


def test_bad_pinned_clock_is_one_line(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_NOW", "2026-11-25 09:00")  # no offset
    result = in_lab("quiz", "--stats")
    assert result.code == 1 and result.err.startswith(
        "错误：$LAB_NOW='2026-11-25 09:00'：应为带时区"
    )


def test_stats_before_any_review(in_lab: Run, cards_lab: Path) -> None:
    result = in_lab("quiz", "--stats")
    assert result.ok, result
    assert result.out.splitlines() == [
        "复习卡片：共 3 张 · 新卡片 3 张 · 今天到期 0 张",
        "今天复习 0 次 · 近 30 天记住率：还没有回忆记录 · 连续学习：0 天",
    ]


def test_stats_from_a_log(in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    interview = card_id(CONCEPT, "[interview]")
    summary = card_id(PAPER, "[summary]")
    days = [NOON - timedelta(days=n) for n in (3, 2, 1)]
    log = "".join(review(interview, day, 3) for day in days) + review(summary, days[0], 3, PAPER)
    log += review(summary, days[2], 1, PAPER)  # forgotten two days later
    (cards_lab / LOG_PATH).write_text(log, "utf-8")
    monkeypatch.setenv("LAB_NOW", NOON.isoformat())
    text = in_lab("quiz", "--stats")
    assert text.ok, text
    assert text.out.splitlines() == [
        "复习卡片：共 3 张 · 新卡片 1 张 · 今天到期 1 张",
        "今天复习 0 次 · 近 30 天记住率：67%（3 次回忆） · 连续学习：3 天",
    ]
    data = json.loads(in_lab("quiz", "--stats", "--json").out)
    assert data["schema"] == "mllm-lab/quiz-stats/1"
    assert (data["cards"], data["new"], data["recalls"], data["streak"]) == (3, 1, 3, 3)
    assert data["retention"] == pytest.approx(2 / 3)


def test_stats_keep_the_card_ids_while_no_note_changed(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab quiz --stats` keeps its cards' ids by the lab's files: run again, it makes no card,
    and an answer added to the log counts at once. A card added to a note, an id taken twice
    (the first card counts, in the stage filter too) and a stage filter come out as a run
    without .lab/ gives them."""
    import shutil

    monkeypatch.setenv("LAB_NOW", NOON.isoformat())
    made = calls_of(monkeypatch, "card_rows")

    def stats(*options: str) -> tuple[str, str]:
        result = in_lab("quiz", "--stats", *options)
        assert result.ok, result
        return result.out, result.err

    def cold(*options: str) -> tuple[str, str]:
        shutil.rmtree(cards_lab / ".lab")
        return stats(*options)

    first = stats()
    assert made == [True] and stats() == first and made == [True]
    (cards_lab / LOG_PATH).write_text(review(card_id(CONCEPT, "[interview]"), NOON), "utf-8")
    assert json.loads(stats("--json")[0])["reviews_today"] == 1 and made == [True]
    assert stats()[0].splitlines()[0] == "复习卡片：共 3 张 · 新卡片 2 张 · 今天到期 1 张"

    named = "<!-- card: scaling -->\nQ: 为什么缩放？\nA: 防止饱和。\n"
    paper, concept = cards_lab / PAPER, cards_lab / CONCEPT
    concept.write_text(read(concept) + "\n" + named, "utf-8")  # stage 1, first
    paper.write_text(read(paper) + "\n" + named + "\nQ: 新的问题？\nA: 新的回答。\n", "utf-8")
    for options in ((), ("--stage", "3"), ("--stage", "1")):
        warm = stats(*options)
        assert "卡片 id `scaling`" in warm[1]
        assert warm == cold(*options), options
    assert stats("--stage", "3")[0].splitlines()[0].startswith("复习卡片：共 2 张")


def shown_as_study_gives(lab: Path, now: datetime, which: Any, new: Any, limit: Any) -> Any:
    """What `lab quiz --json` printed before due_now: every card made by study(), queued,
    cut to --limit, and the stats of the filtered cards."""

    from mllm_lab.core.schedule import quiz_json, stats

    found = ops_quiz.study(ws_of(lab))
    due = found.queue(now, which, new)
    if limit is not None:
        kept = due.due[:limit]
        due = due._replace(due=kept, new=due.new[: limit - len(kept)])
    ids = [card.id for card in which.apply(found.cards)]
    summary = stats(ids, reviews=found.log.reviews, schedule=found.states, now=now)
    return quiz_json(due, schedule=found.states, summary=summary, now=now)


def shown_by_due_now(lab: Path, now: datetime, which: Any, new: Any, limit: Any) -> Any:
    from mllm_lab.core.schedule import quiz_json

    found = ops_quiz.due_now(ws_of(lab), now, which, new=new, limit=limit)
    return quiz_json(found.queue, schedule=found.states, summary=found.stats, now=now)


def test_json_keeps_the_cards_while_no_note_changed(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab quiz --json` keeps the lab's cards by its files: run again, it makes no card, and
    an answer added to the log counts at once. After edits (an answer's text, a note's tags,
    a card added, an id taken twice) and with every option, what it shows, warm or without
    .lab/, is what study() gives: the same cards, texts, order and stats."""
    import shutil

    from mllm_lab.ops.quiz import Filter

    monkeypatch.setenv("LAB_NOW", NOON.isoformat())
    made = calls_of(monkeypatch, "card_rows")

    def listed(*options: str) -> dict[str, Any]:
        result = in_lab("quiz", "--json", *options)
        assert result.ok, result
        data = json.loads(result.out)
        del data["now"]  # the pinned clock plus the time the command has run
        return data  # type: ignore[no-any-return]

    first = listed()
    assert made == [True] and listed() == first and made == [True]
    interview = card_id(CONCEPT, "[interview]")
    (cards_lab / LOG_PATH).write_text(review(interview, NOON - timedelta(days=3), 1), "utf-8")
    due = listed()
    assert [card["id"] for card in due["due"]] == [interview] and made == [True]
    assert due["due"][0]["answer"] == INTERVIEW and due["stats"]["due_today"] == 1

    concept, paper = cards_lab / CONCEPT, cards_lab / PAPER
    concept.write_text(
        read(concept)
        .replace(INTERVIEW, "改过的回答：𝑄𝐾ᵀ/√d，带 emoji 🧠。")
        .replace("tags:\n- attention\n", "tags:\n- attention\n- 新标签\n"),
        "utf-8",
    )
    named = "<!-- card: scaling -->\nQ: 为什么缩放？\nA: 防止饱和。\n"
    concept.write_text(read(concept) + "\n" + named, "utf-8")
    paper.write_text(read(paper) + "\n" + named + "\nQ: 新的问题？\nA: 新的回答。\n", "utf-8")
    cases: list[tuple[tuple[str, ...], Filter, int | None, int | None]] = [
        ((), Filter(), None, None),
        (("--stage", "3"), Filter(stages=(3,)), None, None),
        (("--tag", "新标签"), Filter(tags=("新标签",)), None, None),
        (("--limit", "1"), Filter(), None, 1),
        (("--new", "1", "--limit", "2"), Filter(), 1, 2),
    ]
    for options, which, new, limit in cases:
        warm = listed(*options)
        expected = shown_as_study_gives(cards_lab, NOON, which, new, limit)
        del expected["now"]
        assert warm == expected, options
        shutil.rmtree(cards_lab / ".lab")
        assert listed(*options) == expected, options
    tagged = listed("--tag", "新标签")
    assert tagged["due"][0]["answer"] == "改过的回答：𝑄𝐾ᵀ/√d，带 emoji 🧠。"
    assert tagged["due"][0]["tags"] == ["attention", "新标签"]


def test_english_lab_speaks_english(run: Run, en_lab: Path) -> None:
    assert run("new", "concept", "Attention", "-c", "fundamentals", cwd=en_lab).ok
    write_section(
        en_lab / "notes/fundamentals/attention.md",
        "## Interview answer",
        "Weights from dot products.",
    )
    stats = run("quiz", "--stats", cwd=en_lab)
    assert stats.out.splitlines()[0] == "Cards: 1 · new 1 · due today 0", stats
    refused = run("quiz", cwd=en_lab)
    assert refused.err.startswith("error: `lab quiz` asks its questions on a terminal")
    status = run("status", cwd=en_lab)
    assert "Cards: no reviews yet (lab quiz)" in status.out


# --- lab status --------------------------------------------------------------------------------


def test_status_counts_the_cards_due_today(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "复习卡片：还没有复习记录（lab quiz）" in in_lab("status").out
    none = json.loads(in_lab("status", "--json").out)["cards"]
    assert none == {"due": 0, "reviewed_today": 0, "log": None}
    interview = card_id(CONCEPT, "[interview]")
    summary = card_id(PAPER, "[summary]")
    gone = card_id(CONCEPT, "a question since deleted")
    week_ago = NOON - timedelta(days=7)
    log = (
        review(interview, week_ago, 1)
        + review(summary, week_ago, 1, PAPER)
        + review(gone, week_ago, 1)
    )
    log += review(summary, NOON - timedelta(hours=1), 4, PAPER)  # Easy today: due in days
    (cards_lab / LOG_PATH).write_text(log, "utf-8")
    monkeypatch.setenv("LAB_NOW", NOON.isoformat())
    cards = json.loads(in_lab("status", "--json").out)["cards"]
    assert cards == {"due": 1, "reviewed_today": 1, "log": LOG_PATH}  # the deleted card is not due
    assert "复习卡片：今天到期 1 张 · 今天已复习 1 张（lab quiz）" in in_lab("status").out
    concept = cards_lab / CONCEPT  # the interview answer deleted: its card is gone
    concept.write_text(read(concept).replace(INTERVIEW, ""), "utf-8")
    assert json.loads(in_lab("status", "--json").out)["cards"]["due"] == 0
    concept.write_text(
        read(concept).replace("## 面试口述版\n", f"## 面试口述版\n\n{INTERVIEW}\n"), "utf-8"
    )
    assert json.loads(in_lab("status", "--json").out)["cards"]["due"] == 1
    (cards_lab / "notes/fundamentals/attention.md").write_bytes((cards_lab / CONCEPT).read_bytes())
    (cards_lab / CONCEPT).unlink()  # renamed: a card id is its note's path and question
    assert json.loads(in_lab("status", "--json").out)["cards"]["due"] == 0


def test_the_cards_due_line_follows_the_log_the_day_and_the_timezone(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due count is kept between runs: an answer appended, the next day, another
    timezone or a lab's own template each give the count made afresh (no .lab/ at all)."""
    import shutil

    interview = card_id(CONCEPT, "[interview]")
    summary = card_id(PAPER, "[summary]")
    log_path = cards_lab / LOG_PATH
    log_path.write_text(review(interview, NOON - timedelta(days=7), 1), "utf-8")

    def due(moment: datetime) -> dict[str, object]:
        monkeypatch.setenv("LAB_NOW", moment.isoformat())
        kept = json.loads(in_lab("status", "--json").out)["cards"]
        again = json.loads(in_lab("status", "--json").out)["cards"]
        shutil.rmtree(cards_lab / ".lab")
        fresh = json.loads(in_lab("status", "--json").out)["cards"]
        assert kept == again == fresh, (kept, again, fresh)
        return fresh

    assert due(NOON) == {"due": 1, "reviewed_today": 0, "log": LOG_PATH}
    with log_path.open("a", encoding="utf-8") as log:
        log.write(review(interview, NOON - timedelta(hours=1), 4))  # Easy: due in days
        log.write(review(summary, NOON - timedelta(hours=2), 1, PAPER))
    assert due(NOON) == {"due": 1, "reviewed_today": 2, "log": LOG_PATH}
    assert due(NOON + timedelta(days=1))["reviewed_today"] == 0
    # 23:30 at +08:00 is still today there, but already tomorrow at +09:00
    late = datetime.fromisoformat("2026-11-25T23:30:00+08:00")
    assert due(late)["reviewed_today"] == 2
    assert due(late.astimezone(timezone(timedelta(hours=9))))["reviewed_today"] == 0
    # the same date in two timezones: an answer at 02:00 +08:00 was yesterday in UTC
    log_path.write_text(review(interview, NOON - timedelta(hours=10), 3), "utf-8")
    assert due(NOON)["reviewed_today"] == 1
    assert due(NOON.replace(tzinfo=UTC))["reviewed_today"] == 0
    # rewritten in place, same size, its future mtime given back (touch -d, cp -p, rsync -t)
    log_path.write_text(review(interview, NOON - timedelta(days=1), 4), "utf-8")
    future = (4_102_444_800, 4_102_444_800)  # 2100-01-01
    os.utime(log_path, future)
    assert due(NOON)["due"] == 0  # Easy yesterday: not due yet
    in_lab("status", "--json")  # kept again
    with log_path.open("r+b") as log:
        again = log.read().replace(b'"rating": 4', b'"rating": 1')
        log.seek(0)
        log.write(again)
    os.utime(log_path, future)
    assert due(NOON)["due"] == 1  # Again yesterday: due today


def test_status_finds_a_named_card_that_moved_to_another_note(
    in_lab: Run, cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paper = cards_lab / PAPER
    paper.write_text(
        read(paper)
        + "\n<!-- card: qformer-queries -->\nQ: Q-Former 输出多少个 query？\nA: 32 个。\n",
        "utf-8",
    )
    (cards_lab / LOG_PATH).write_text(
        review("qformer-queries", NOON - timedelta(days=9), 1, CONCEPT), "utf-8"
    )
    monkeypatch.setenv("LAB_NOW", NOON.isoformat())
    assert json.loads(in_lab("status", "--json").out)["cards"]["due"] == 1


# --- the log, written through the transaction --------------------------------------------------


def test_each_answer_is_one_complete_line_even_after_a_cut_one(cards_lab: Path) -> None:
    path = cards_lab / LOG_PATH
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        '{"card": "abc", "time": "2026-11-24T10:00:00+08:00", "rating": 3}\n{"card": "x", "ti',
        "utf-8",
    )
    ws = ws_of(cards_lab)
    ops_quiz.record(ws, Review("def", NOON, Rating.GOOD, duration_ms=1200, note=CONCEPT))
    lines = read(path).split("\n")
    assert lines[1] == '{"card": "x", "ti'  # left as it was, closed
    assert json.loads(lines[2])["card"] == "def" and lines[3] == ""
    log = parse_log(read(path), LOG_PATH)
    assert [r.card for r in log.reviews] == ["abc", "def"]
    (problem,) = log.problems
    assert str(problem).startswith("reviews/quiz-log.jsonl:2: ")
    assert not list((cards_lab / ".lab" / "tmp").glob("*"))


_LOG_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_REVIEWS = st.builds(
    Review,
    card=_LOG_TEXT,
    time=st.datetimes(
        datetime(1969, 12, 30),
        datetime(3000, 1, 2),
        # offsets in whole seconds, as local time has them: isoformat writes a sub-second
        # offset that datetime.fromisoformat does not read back (Hypothesis found +1 µs)
        timezones=st.builds(
            timezone,
            st.integers(-(23 * 3600 + 59 * 60), 23 * 3600 + 59 * 60).map(
                lambda seconds: timedelta(seconds=seconds)
            ),
        ),
    ),
    rating=st.sampled_from(list(Rating)),
    duration_ms=st.none() | st.integers(-5, 10**12),
    note=st.none() | _LOG_TEXT,
)


def _read_line(read_one: Any, line: str) -> Review | str:
    from mllm_lab.core import reviewlog

    try:
        return read_one(line)
    except reviewlog._BadLine as bad:
        return f"{bad.message} {bad.values}"


@settings(max_examples=400, deadline=None)
@given(
    review=_REVIEWS,
    cut=st.integers(0, 200),
    insert=st.sampled_from(["", " ", '"', "\\", "\n", "\t", "x", "0", ",", "}", '"rating": 2, ']),
)
def test_a_log_line_as_lab_writes_it_is_read_as_the_json_decoder_reads_it(
    review: Review, cut: int, insert: str
) -> None:
    """The log's fast reading (a line as format_review writes it, taken apart by a pattern)
    gives the very review, or the very problem, that decoding the line as JSON gives: for
    lines lab writes and for the same lines cut into or edited by hand."""
    from mllm_lab.core import reviewlog

    written = format_review(review).strip()
    for line in (written, written[:cut] + insert + written[cut:]):
        line = line.strip()
        fast, decoded = (_read_line(f, line) for f in (reviewlog._review, reviewlog._decoded))
        assert fast == decoded
        if isinstance(fast, Review) and isinstance(decoded, Review):
            assert fast.time.utcoffset() == decoded.time.utcoffset()
    if 1970 <= review.time.year < 3000 and review.card.strip() and (review.duration_ms or 0) >= 0:
        assert parse_log(written + "\n").reviews == (review._replace(note=review.note or None),)


def test_a_broken_log_line_is_a_warning_and_the_rest_count(in_lab: Run, cards_lab: Path) -> None:
    interview = card_id(CONCEPT, "[interview]")
    (cards_lab / LOG_PATH).write_text(
        "not json\n" + review(interview, NOON - timedelta(days=1)), "utf-8"
    )
    result = in_lab("quiz", "--stats")
    assert result.ok, result
    assert "reviews/quiz-log.jsonl:1: " in result.err
    assert "新卡片 2 张" in result.out


def test_a_log_that_is_not_utf8_stops_the_quiz_with_its_line(cards_lab: Path) -> None:
    (cards_lab / LOG_PATH).write_bytes(
        b'{"card": "a", "time": "2026-11-24T10:00:00+08:00", "rating": 3}\n\xff\xfe\n'
    )
    from mllm_lab.errors import BrokenNote

    with pytest.raises(BrokenNote) as caught:
        ops_quiz.record(ws_of(cards_lab), Review("b", NOON, Rating.GOOD))
    assert str(caught.value).startswith("reviews/quiz-log.jsonl:2:")


# --- caches --------------------------------------------------------------------------------------


def test_cards_are_cached_and_only_changed_notes_are_read_again(
    cards_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = lab_cards(ws_of(cards_lab)).cards
    assert (cards_lab / ".lab" / CARDS_CACHE).exists()
    assert card_ids(ws_of(cards_lab)) == {c.id for c in first}
    assert (cards_lab / ".lab" / IDS_CACHE).exists()
    read_notes: list[str] = []
    import mllm_lab.ops.cards as module

    real = module.read_chunk

    def spy(root: str, notes: list[Note], signatures: Any, text: bool = True) -> Any:
        read_notes.extend(n.path for n in notes)
        return real(root, notes, signatures, text)

    monkeypatch.setattr(module, "read_chunk", spy)
    assert lab_cards(ws_of(cards_lab)).cards == first
    assert read_notes == []
    write_section(cards_lab / PAPER, "## 直觉理解", "Q: 新问题？\nA: 新答案。")
    again = lab_cards(ws_of(cards_lab)).cards
    assert read_notes == [PAPER] and len(again) == 4


def test_a_changed_template_counts_a_section_as_unwritten_again(cards_lab: Path) -> None:
    assert len(lab_cards(ws_of(cards_lab)).cards) == 3
    template = cards_lab / "templates/zh/paper.md.j2"
    template.write_text(
        read(template).replace("## 一句话总结\n", f"## 一句话总结\n\n{SUMMARY}\n", 1), "utf-8"
    )
    kinds = [c.kind.value for c in lab_cards(ws_of(cards_lab)).cards]
    assert kinds == ["interview", "explicit"]  # the summary now equals the template's text


def test_a_changed_partial_of_a_template_counts_too(in_lab: Run, cards_lab: Path) -> None:
    """A card section may come from a partial the template includes: changing the partial
    alone changes which sections are unwritten, for the kept cards as for a run without
    .lab/ (found by a hostile-user helper: the caches stamped the template files alone)."""
    import shutil

    def kinds() -> list[str]:
        listed = in_lab("quiz", "--json")
        assert listed.ok, listed
        return [card["kind"] for card in json.loads(listed.out)["new"]]

    template, partial = cards_lab / "templates/zh/paper.md.j2", cards_lab / "templates/zh/_tldr.j2"
    partial.write_text(SUMMARY + "\n", "utf-8")
    template.write_text(
        read(template).replace(
            "## 一句话总结\n", '## 一句话总结\n\n{% include "zh/_tldr.j2" %}\n', 1
        ),
        "utf-8",
    )
    assert kinds() == ["interview", "explicit"]  # the summary is the template's text
    assert len(lab_cards(ws_of(cards_lab)).cards) == 2
    partial.write_text("另一段占位文字\n", "utf-8")
    assert kinds() == ["interview", "explicit", "summary"]
    assert len(lab_cards(ws_of(cards_lab)).cards) == 3
    shutil.rmtree(cards_lab / ".lab")
    assert kinds() == ["interview", "explicit", "summary"]


def test_a_self_test_card_takes_the_stage_of_the_note_it_links_now(cards_lab: Path) -> None:
    review_note = cards_lab / "reviews/review-2026-11-25.md"
    review_note.parent.mkdir(exist_ok=True)
    review_note.write_text(
        "---\ntitle: Review\nkind: review\ncreated: 2026-11-25\n---\n\n## 自测问题\n\n"
        "1. 「Self-Attention」是什么？（对照 [Self-Attention](../notes/fundamentals/self-attention.md)）\n\n"
        "   答：加权求和。\n",
        "utf-8",
    )
    (card,) = [c for c in lab_cards(ws_of(cards_lab)).cards if c.kind.value == "selftest"]
    assert card.stage == 1 and card.source == CONCEPT
    concept = cards_lab / CONCEPT
    concept.write_text(read(concept).replace("stage: 1", "stage: 2"), "utf-8")
    (card,) = [c for c in lab_cards(ws_of(cards_lab)).cards if c.kind.value == "selftest"]
    assert card.stage == 2  # the review note did not change: its cached card still follows


def history(cards: list[str], count: int, seed: int) -> list[Review]:
    import random

    rng = random.Random(seed)
    start = NOON - timedelta(days=60)
    return [
        Review(
            rng.choice(cards),
            start + timedelta(minutes=rng.randrange(80000)),
            Rating(rng.randrange(1, 5)),
        )
        for _ in range(count)
    ]


@given(st.integers(0, 40), st.integers(0, 20), st.integers(0, 1000))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_cached_schedule_is_the_log_replayed(
    tmp_path_factory: pytest.TempPathFactory, first: int, more: int, seed: int
) -> None:
    root = tmp_path_factory.mktemp("lab")
    (root / "lab.toml").write_text('[lab]\nlang = "en"\nname = "t"\n', "utf-8")
    ws = Workspace(Lab.find(str(root)))
    reviews = history(["a", "b", "c"], first + more, seed)
    early = sorted(reviews, key=lambda r: r.time)
    text = "".join(format_review(r) for r in early[:first])
    assert ops_quiz.schedule(ws, text)[0] == build(early[:first])
    appended = text + "".join(format_review(r) for r in early[first:])  # later reviews
    assert ops_quiz.schedule(ws, appended)[0] == build(early)
    shuffled = "".join(format_review(r) for r in reviews)  # a merge: any order
    assert ops_quiz.schedule(ws, shuffled)[0] == build(reviews)


# --- a sitting, in-process -----------------------------------------------------------------------


def test_a_sitting_shows_due_then_new_and_brings_again_back(cards_lab: Path) -> None:
    ws = ws_of(cards_lab)
    found = ops_quiz.study(ws)
    session = Session.of(found.queue(NOON, ops_quiz.Filter()), found.states)
    shown = []
    clock = NOON
    while (card := session.next(clock)) is not None and len(shown) < 10:
        shown.append((card.kind.value, card.id in session.states))
        rating = Rating.AGAIN if card.kind.value == "explicit" and len(shown) < 3 else Rating.EASY
        ops_quiz.record(ws, session.answer(card, rating, clock))
        clock += timedelta(minutes=2)
    assert shown == [
        ("interview", False),
        ("explicit", False),
        ("explicit", True),  # Again: due again a minute later, before the waiting cards
        ("summary", False),
    ]
    lines = log_lines(cards_lab)
    assert [line["rating"] for line in lines] == [4, 1, 4, 4]
    assert [line["note"] for line in lines] == [CONCEPT, CONCEPT, CONCEPT, PAPER]
    after = ops_quiz.study(ws_of(cards_lab))
    assert after.states == build(parse_log(read(cards_lab / LOG_PATH)).reviews)
    assert queue(after.cards, after.states, clock).due == ()  # all Easy: due in days


def test_limit_caps_a_sitting(cards_lab: Path) -> None:
    found = ops_quiz.study(ws_of(cards_lab))
    session = Session.of(found.queue(NOON, ops_quiz.Filter()), found.states, limit=2)
    assert session.left == 2


def test_lab_check_names_a_card_id_used_twice_and_a_broken_log_line(
    in_lab: Run, cards_lab: Path
) -> None:
    paper = cards_lab / PAPER
    named = "<!-- card: scaling -->\nQ: 为什么缩放？\nA: 防止饱和。\n"
    paper.write_text(
        read(paper) + "\n" + named + "\n" + named.replace("为什么缩放", "缩放的作用"), "utf-8"
    )
    (cards_lab / LOG_PATH).write_text("{oops\n", "utf-8")
    result = in_lab("check")
    assert result.code == 1
    assert re.search(
        r"^papers/blip-2\.md:\d+: 卡片 id `scaling` 与 papers/blip-2\.md:\d+ 重复", result.out, re.M
    )
    assert re.search(r"^reviews/quiz-log\.jsonl:1: ", result.out, re.M)


def test_card_ids_used_twice_are_found_from_the_rows_as_from_the_cards(cards_lab: Path) -> None:
    """`lab check` finds a card id used twice from the cached rows, without making the cards:
    the same findings, in the same order, as the cards give."""
    from mllm_lab.ops.cards import card_duplicates, lab_cards

    named = "<!-- card: scaling -->\nQ: 为什么缩放？\nA: 防止饱和。\n"
    for where in (cards_lab / PAPER, cards_lab / CONCEPT):
        where.write_text(read(where) + "\n" + named + "\n" + named + "\n", "utf-8")
    found = card_duplicates(ws_of(cards_lab))
    assert len(found) == 3 and found == lab_cards(ws_of(cards_lab), text=False).problems
    assert [f.path for f in found] == [CONCEPT, PAPER, PAPER]


@given(st.text(max_size=200))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_in_a_note_lists_or_exports_without_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, lab: Path, text: str
) -> None:
    concept = lab / "notes/fundamentals/any.md"
    concept.write_text(
        f"---\ntitle: Any\ncategory: fundamentals\ncreated: 2026-11-25\n---\n\n## 面试口述版\n\n{text}\n\nQ: {text}\nA: {text}\n",
        "utf-8",
        errors="surrogatepass",
    )
    listed = Run(lab)("quiz", "--json")
    assert listed.ok, listed
    data = json.loads(listed.out)
    assert all(card["path"] == "notes/fundamentals/any.md" for card in data["new"])
    which, now = ops_quiz.Filter(), datetime.now(UTC)
    expected = shown_as_study_gives(lab, now, which, None, None)
    assert shown_by_due_now(lab, now, which, None, None) == expected  # kept in .lab/ now
    assert shown_by_due_now(lab, now, which, None, None) == expected  # and read back
    target = tmp_path_factory.mktemp("anki") / "any.apkg"
    exported = Run(lab)("export", "anki", str(target))
    assert exported.ok, exported


def test_control_characters_in_a_card_do_not_reach_the_terminal() -> None:
    from mllm_lab.cli.quiz import shown

    assert shown("a\x1b[2Jb\x07\n\tc") == "a[2Jb\n\tc"


def test_many_unreadable_log_lines_are_counted_as_problems_not_skipped_files(
    in_lab: Run, cards_lab: Path
) -> None:
    log = cards_lab / "reviews/quiz-log.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text("not json\n" * 12, "utf-8")
    result = in_lab("quiz", "--stats")
    assert result.ok, result
    assert "reviews/quiz-log.jsonl:1:" in result.err
    assert "还有 9 个" in result.err and "文件" not in result.err


def test_lab_now_alone_pins_today_as_well(in_lab: Run, cards_lab: Path, monkeypatch) -> None:
    monkeypatch.delenv("LAB_TODAY")
    monkeypatch.setenv("LAB_NOW", "2031-05-04T09:30:00+08:00")
    assert in_lab("weekly").ok
    assert (cards_lab / "weekly-log/2031-W18.md").exists()


def test_a_note_edited_below_its_cards_leaves_the_ids_cache_unwritten_until_it_pays(
    cards_lab: Path, in_lab: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab check` reads an edited note's cards again; when they are the ones kept (an edit
    below them) the ids cache, megabytes at 50,000 notes, is not written again, and the
    check says what a run without it says. A card added, or more than RESTAMP such notes,
    and it is saved."""
    import os
    import shutil

    from mllm_lab.ops import cards

    named = "<!-- card: scaling -->\nQ: 为什么缩放？\nA: 防止饱和。\n"
    for where in (cards_lab / PAPER, cards_lab / CONCEPT):
        where.write_text(read(where) + "\n" + named + "\n", "utf-8")
    first = in_lab("check")
    assert "scaling" in first.out and first.code == 1
    cache = cards_lab / ".lab" / IDS_CACHE
    kept = cache.read_bytes()
    os.utime(cache, ns=(1, 1))
    concept = cards_lab / CONCEPT
    concept.write_text(read(concept) + "\nmore of my own words\n", "utf-8")
    again = in_lab("check")
    assert again.out == first.out and cache.stat().st_mtime_ns == 1  # not written
    assert cache.read_bytes() == kept
    cold = cards_lab.parent / "cold"
    shutil.copytree(cards_lab, cold, ignore=shutil.ignore_patterns(".lab"))
    assert Run(cold)("check").out == again.out
    concept.write_text(read(concept) + "\nQ: 又一个？\nA: 是的。\n", "utf-8")  # a card more
    assert in_lab("check").code == 1 and cache.stat().st_mtime_ns != 1
    os.utime(cache, ns=(1, 1))
    monkeypatch.setattr(cards, "RESTAMP", 1)
    for where in (cards_lab / PAPER, concept):
        where.write_text(read(where) + "\nbelow the cards\n", "utf-8")
    assert in_lab("check").code == 1 and cache.stat().st_mtime_ns != 1  # two read again
