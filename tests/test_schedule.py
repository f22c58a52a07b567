"""Scheduling from the review log with a fixed clock: the log's strict parser, schedules rebuilt
from it whatever the order of its lines, the day's queue, the stats, and appending on disk."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mllm_lab import messages, quizlog
from mllm_lab.core.card import Card, CardKind
from mllm_lab.core.schedule import (
    Rating,
    Review,
    Settings,
    build,
    due_today,
    format_review,
    parse_log,
    preview,
    queue,
    quiz_json,
    select,
    stats,
)

BEIJING = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=BEIJING)  # a Wednesday morning in Beijing
DAY = timedelta(days=1)


def card(id_: str, stage: int | None = 1, tags: tuple[str, ...] = (), line: int = 1) -> Card:
    return Card(
        id_, CardKind.EXPLICIT, f"Q {id_}?", f"A {id_}", f"notes/{id_}.md", line, stage, tags
    )


def review(card_id: str, when: datetime, rating: Rating = Rating.GOOD) -> Review:
    return Review(card_id, when, rating)


# --- the log -------------------------------------------------------------------------------

GOOD_LINE = '{"card": "a", "time": "2026-11-25T09:00:00+08:00", "rating": 3}'


def test_a_log_line_reads_back_as_written() -> None:
    text = (
        "\ufeff"
        + GOOD_LINE
        + "\r\n\n"
        + '{"card": "b", "time": "2026-11-25T01:00:00Z", "rating": 1, "duration_ms": 5400, "device": "phone"}\n'
    )
    log = parse_log(text)
    assert log.problems == ()
    assert log.reviews == (
        Review("a", NOW, Rating.GOOD),
        Review("b", datetime(2026, 11, 25, 1, tzinfo=UTC), Rating.AGAIN, 5400),
    )
    assert format_review(log.reviews[0]) == GOOD_LINE + "\n"


BAD_LINES = [
    ("{not json", "not a line of JSON"),
    ("<<<<<<< HEAD", "not a line of JSON"),
    ("[1, 2]", "JSON object"),
    ('{"time": "2026-11-25T09:00:00+08:00", "rating": 3}', "`card`"),
    ('{"card": "a", "time": "2026-11-25T09:00:00", "rating": 3}', "`time`"),
    ('{"card": "a", "time": "2026-11-25", "rating": 3}', "`time`"),
    ('{"card": "a", "time": "0001-01-01T00:00:00+01:00", "rating": 3}', "`time`"),
    ('{"card": "a", "time": "2026-11-25T09:00:00+08:00", "rating": 5}', "`rating`"),
    ('{"card": "a", "time": "2026-11-25T09:00:00+08:00", "rating": true}', "`rating`"),
    ('{"card": "a", "time": "2026-11-25T09:00:00+08:00", "rating": 3.0}', "`rating`"),
    (
        '{"card": "a", "time": "2026-11-25T09:00:00+08:00", "rating": 3, "duration_ms": -1}',
        "`duration_ms`",
    ),
    ('{"card": "a", "card": "b", "time": "2026-11-25T09:00:00+08:00", "rating": 3}', "twice"),
    ("[" * 100_000, "not a line of JSON"),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES)
def test_a_corrupt_line_is_reported_and_the_rest_still_count(line: str, message: str) -> None:
    log = parse_log(
        f"{GOOD_LINE}\n\n{line}\n{GOOD_LINE.replace('09:00', '10:00')}\n", "reviews/quiz-log.jsonl"
    )
    [problem] = log.problems
    assert (problem.path, problem.line) == ("reviews/quiz-log.jsonl", 3)
    assert message in problem.message
    assert [r.time.hour for r in log.reviews] == [9, 10]


def test_problems_are_worded_in_the_labs_language() -> None:
    [problem] = parse_log("{nope\n").problems
    assert str(problem).startswith("reviews/quiz-log.jsonl:1: not a line of JSON")
    messages.use("zh")  # what a command in a zh lab does first
    assert str(problem).startswith("reviews/quiz-log.jsonl:1: 不是一行 JSON")


CARD_IDS = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
TIMES = st.datetimes(datetime(1971, 1, 1), datetime(2998, 12, 31), timezones=OFFSETS)
REVIEWS = st.builds(
    Review, CARD_IDS, TIMES, st.sampled_from(Rating), st.none() | st.integers(0, 10**9), st.none()
)


@given(st.lists(REVIEWS, max_size=20))
def test_the_log_round_trips(reviews: list[Review]) -> None:
    text = "".join(format_review(r) for r in reviews)
    assert parse_log(text) == parse_log(text.replace("\n", "\r\n"))
    log = parse_log(text)
    assert log.problems == () and log.reviews == tuple(reviews)
    assert [r.time.utcoffset() for r in log.reviews] == [r.time.utcoffset() for r in reviews]


# --- schedules -----------------------------------------------------------------------------


def history() -> list[Review]:
    return [
        review("a", NOW - 10 * DAY),
        review("a", NOW - 10 * DAY + timedelta(minutes=10)),
        review("a", NOW - 7 * DAY, Rating.AGAIN),
        review("b", NOW - 3 * DAY, Rating.EASY),
        review("c", NOW - DAY, Rating.HARD),
    ]


def test_the_schedule_is_rebuilt_from_the_log_whatever_its_order() -> None:
    reviews = history()
    shuffled = reviews * 2  # a union merge may repeat lines, and reorder them
    random.Random(7).shuffle(shuffled)
    assert build(shuffled) == build(reviews) == build(reviews)
    a = build(reviews)["a"]
    assert (a.reviews, a.lapses, a.first_review) == (3, 1, (NOW - 10 * DAY).astimezone(UTC))


def test_ratings_space_the_next_review_in_order() -> None:
    first = build([review("a", NOW)])["a"]
    due = preview(first, NOW + 3 * DAY)
    assert due[Rating.AGAIN] < due[Rating.HARD] <= due[Rating.GOOD] < due[Rating.EASY]
    assert build([review("a", NOW, Rating.AGAIN)])["a"].due == NOW + timedelta(minutes=1)


def test_due_cards_at_a_fixed_time() -> None:
    cards = [card("a"), card("b"), card("c"), card("new")]
    schedule = build(history())
    now_due = queue(cards, schedule, NOW, Settings(new_per_day=0))
    later = queue(cards, schedule, NOW + 60 * DAY, Settings(new_per_day=0))
    assert {c.id for c in now_due.due} < {c.id for c in later.due} == {"a", "b", "c"}
    dues = [schedule[c.id].due for c in later.due]
    assert dues == sorted(dues)
    assert queue(cards, schedule, NOW).new == (card("new"),)


def test_a_card_in_its_learning_steps_comes_back_in_the_same_session() -> None:
    schedule = build([review("a", NOW, Rating.AGAIN)])
    assert [c.id for c in queue([card("a")], schedule, NOW).due] == ["a"]  # due in a minute
    assert queue([card("a")], schedule, NOW, Settings(learn_ahead=timedelta(0))).due == ()


def test_new_cards_are_limited_per_day_in_roadmap_order() -> None:
    cards = [card(f"n{i}", stage=5 - i % 5, line=i) for i in range(10)]
    settings = Settings(new_per_day=3)
    first = queue(cards, {}, NOW, settings)
    assert [c.stage for c in first.new] == [1, 1, 2] and first.new_left == 3
    studied = build([review(first.new[0].id, NOW - timedelta(hours=1))])
    assert queue(cards, studied, NOW, settings).new_left == 2
    assert queue(cards, studied, NOW + DAY, settings).new_left == 3  # a new day
    yesterday = build([review("x", NOW - timedelta(hours=10))])  # 23:00 yesterday, Beijing time
    assert queue(cards, yesterday, NOW, settings).new_left == 3


def test_cards_are_chosen_by_stage_and_tag() -> None:
    cards = [card("a", 1, ("RoPE",)), card("b", 2, ("clip",)), card("c", None, ("rope", "x"))]
    assert [c.id for c in select(cards, stages=[1, 2])] == ["a", "b"]
    assert [c.id for c in select(cards, tags=["rope"])] == ["a", "c"]
    assert [c.id for c in select(cards, stages=[2], tags=["rope"])] == []
    assert select(cards) == cards


def test_now_must_carry_a_timezone() -> None:
    with pytest.raises(ValueError, match="timezone"):
        queue([], {}, datetime(2026, 11, 25, 9))


# --- stats ---------------------------------------------------------------------------------


def test_stats_with_a_fixed_clock() -> None:
    reviews = [
        *history(),
        review("b", NOW - timedelta(hours=2)),  # today, recalled (last seen 3 days ago)
        review("c", NOW - timedelta(hours=1), Rating.AGAIN),  # today, forgotten
        review("c", NOW - timedelta(minutes=50)),  # same day: not a recall
        review("d", NOW + timedelta(hours=1)),  # after `now`: not counted
    ]
    cards = [card(x) for x in "abcde"]
    ids = [c.id for c in cards]
    result = stats(ids, reviews, build(r for r in reviews if r.time <= NOW), NOW)
    assert (result.cards, result.new, result.reviews_today) == (5, 2, 3)
    # a's recall 7 days ago was forgotten; b and c today: one of two
    assert (result.recalls, result.retention) == (3, pytest.approx(1 / 3))
    assert result.streak == 2  # today and yesterday (c); none the day before
    assert result.due_today == sum(
        s.due < datetime(2026, 11, 26, tzinfo=BEIJING) for s in build(reviews[:-1]).values()
    )


def test_retention_counts_only_the_last_30_days() -> None:
    old = [review("a", NOW - 40 * DAY), review("a", NOW - 35 * DAY, Rating.AGAIN)]
    result = stats(["a"], old, build(old), NOW)
    assert (result.retention, result.recalls, result.streak) == (None, 0, 0)


def test_the_30_days_of_retention_end_at_now_and_leave_out_their_first_instant() -> None:
    """A recall exactly 30 days before now is out; one exactly at now is in, also when the
    log writes it in another timezone; one a second after now is not a recall yet."""
    in_utc = (NOW - 30 * DAY).astimezone(UTC)
    reviews = [
        review("a", NOW - 40 * DAY),
        review("a", in_utc, Rating.AGAIN),  # the window's first instant: out
        review("b", NOW - 40 * DAY),
        review("b", (NOW - 30 * DAY + timedelta(seconds=1)).astimezone(UTC), Rating.AGAIN),
        review("c", NOW - 2 * DAY),
        review("c", NOW.astimezone(UTC)),  # now: in
        review("d", NOW - 2 * DAY),
        review("d", NOW + timedelta(seconds=1), Rating.AGAIN),  # after now: out
    ]
    result = stats("abcd", reviews, build(reviews), NOW)
    assert (result.recalls, result.retention) == (2, pytest.approx(1 / 2))
    assert result.reviews_today == 1  # c's; d's is still to come


def test_the_streak_counts_days_in_the_learners_timezone() -> None:
    days = [NOW - n * DAY for n in (1, 2, 3, 5)]
    reviews = [review("a", moment) for moment in days]
    assert stats([], reviews, {}, NOW).streak == 3  # not yet today: up to yesterday
    reviews.append(review("a", NOW.replace(hour=0, minute=30)))  # 16:30 UTC yesterday
    assert stats([], reviews, {}, NOW).streak == 4
    in_utc = NOW.astimezone(UTC)  # 01:00 UTC: the 00:30 review is "yesterday" there
    assert stats([], reviews, {}, in_utc).streak == 3


def test_quiz_json_is_one_json_document() -> None:
    cards = [card("a"), card("new")]
    schedule = build(history())
    found = queue(cards, schedule, NOW + 60 * DAY)
    summary = stats([c.id for c in cards], history(), schedule, NOW)
    document = quiz_json(found, schedule, summary, NOW)
    loaded = json.loads(json.dumps(document, ensure_ascii=False))
    assert loaded["schema"] == "mllm-lab/quiz/1"
    assert [c["id"] for c in loaded["due"]] == ["a"] and loaded["new"][0]["state"] == "new"
    assert loaded["stats"]["cards"] == 2


# --- on disk -------------------------------------------------------------------------------


def test_a_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert quizlog.read(tmp_path / "reviews" / "quiz-log.jsonl") == ""


def test_a_line_cut_short_is_reported_and_the_others_count(tmp_path: Path) -> None:
    # appending goes through the transaction (tests/test_quiz.py); reading never fails
    path = tmp_path / "quiz-log.jsonl"
    cut = format_review(review("a", NOW)).encode() + b'{"card": "b", "ti\xff\n'
    path.write_bytes(cut + format_review(review("c", NOW)).encode())
    log = parse_log(quizlog.read(path), "quiz-log.jsonl")
    assert [r.card for r in log.reviews] == ["a", "c"]
    assert [(p.line, "JSON" in p.message) for p in log.problems] == [(2, True)]


def test_a_review_card_is_due_all_the_day_it_falls_due() -> None:

    state = build([review("a", NOW - 3 * DAY, Rating.EASY)])["a"]
    assert state.state == "review"
    for hours, expected in [(-1, True), (6, True), (24, False)]:
        moved = {"a": state._replace(due=NOW + timedelta(hours=hours))}
        assert bool(queue([card("a")], moved, NOW).due) is expected, hours
        assert bool(due_today(["a"], moved, NOW)) is expected, hours


@given(
    places=st.lists(
        st.tuples(st.sampled_from([None, 1, 2, 5]), st.sampled_from(["a", "b"]), st.integers(1, 3)),
        max_size=40,
    ),
    limit=st.integers(0, 50),
)
def test_new_cards_come_in_roadmap_order_ties_as_they_stand(
    places: list[tuple[int | None, str, int]], limit: int
) -> None:
    """The new cards a sitting takes are the first `limit` in roadmap order, as a full sort
    gives them, ties (the same stage, path and line) in the order the cards stand."""
    from mllm_lab.core.card import roadmap_order

    cards = [
        Card(f"c{n}", CardKind.EXPLICIT, "Q?", "A", f"notes/{path}.md", line, stage)
        for n, (stage, path, line) in enumerate(places)
    ]
    taken = queue(cards, {}, NOW, new_limit=limit).new
    assert taken == tuple(sorted(cards, key=roadmap_order)[:limit])


@given(
    places=st.lists(
        st.tuples(
            st.sampled_from([None, 1, 2, 5, 99]),
            st.sampled_from(["a", "b"]),
            st.integers(1, 3),
            st.sampled_from(["x", "y", "z", "w"]),  # the ids: some cards share one
        ),
        max_size=40,
    ),
    answers=st.lists(
        st.tuples(
            st.sampled_from(["x", "y", "z", "q"]), st.integers(-30 * 24, 0), st.sampled_from(Rating)
        ),
        max_size=12,
    ),
    later=st.integers(0, 40 * 24),
    new_limit=st.none() | st.integers(0, 6),
)
@example(places=[(2, "a", 1, "x"), (None, "a", 1, "y")], answers=[], later=0, new_limit=1)
def test_the_queue_takes_what_a_plain_reading_of_its_rules_takes(
    places: list[tuple[int | None, str, int, str]],
    answers: list[tuple[str, int, Rating]],
    later: int,
    new_limit: int | None,
) -> None:
    """queue, which files the unseen cards by stage to sort only the few it takes, takes the
    cards this plain reading takes: due (in review, by the end of the day; learning, by the
    minute plus learn_ahead) earliest first, then the first unseen in roadmap order."""
    from mllm_lab.core.card import roadmap_order
    from mllm_lab.core.schedule import end_of_day

    cards = [
        Card(card_id, CardKind.EXPLICIT, "Q?", "A", f"notes/{path}.md", line, stage)
        for stage, path, line, card_id in places
    ]
    schedule = build([review(i, NOW + timedelta(hours=h), rating) for i, h, rating in answers])
    now, settings = NOW + timedelta(hours=later), Settings(new_per_day=3)
    found = queue(cards, schedule, now, settings, new_limit=new_limit)

    def due_now(card: Card) -> bool:
        state = schedule[card.id]
        if state.state == "review":
            return state.due < end_of_day(now)
        return state.due <= now + settings.learn_ahead

    due = sorted(
        (c for c in cards if c.id in schedule and due_now(c)),
        key=lambda c: (schedule[c.id].due, c.id),
    )
    today = [
        s for s in schedule.values() if s.first_review.astimezone(now.tzinfo).date() == now.date()
    ]
    left = max(3 - len(today), 0) if new_limit is None else new_limit
    unseen = sorted((c for c in cards if c.id not in schedule), key=roadmap_order)
    assert found == (tuple(due), tuple(unseen[:left]), left)
