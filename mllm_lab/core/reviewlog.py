"""The quiz's review log: JSON Lines, one review a line, only ever appended. Two clones that
both studied merge by keeping both sides' lines (`merge=union`), so order means nothing and an
exact duplicate counts once (core.schedule replays it). A line that cannot be read is a
problem at `path:line`; the others still count. Pure: text in, reviews out."""

from __future__ import annotations

import json
from datetime import datetime
from enum import IntEnum
from typing import Any, NamedTuple

from mllm_lab.models import QUIZ_LOG, Finding
from mllm_lab.patterns import pattern

LOG_PATH = QUIZ_LOG


class Rating(IntEnum):
    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class Review(NamedTuple):
    card: str
    time: datetime  # timezone-aware, as written
    rating: Rating
    duration_ms: int | None = None
    note: str | None = None  # the note the card stood in (a hint: ids are what count)


class Log(NamedTuple):
    reviews: tuple[Review, ...]
    problems: tuple[Finding, ...]  # one per line that could not be read; the rest still count


class _BadLine(Exception):
    def __init__(self, message: str, **values: str) -> None:
        super().__init__(message)
        self.message, self.values = message, values


def format_review(review: Review) -> str:
    """The review as one log line, newline included: fixed key order, UTF-8 kept."""
    entry: dict[str, Any] = {
        "card": review.card,
        "time": review.time.isoformat(),
        "rating": int(review.rating),
    }
    if review.duration_ms is not None:
        entry["duration_ms"] = review.duration_ms
    if review.note is not None:
        entry["note"] = review.note
    return json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")) + "\n"


def parse_log(text: str, path: str = LOG_PATH, lang: str = "en") -> Log:
    """Every well-formed line is a review; every other non-blank line is a problem at
    `path:line`. Keys other than card, time, rating, duration_ms and note are ignored."""
    reviews, problems = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        try:
            reviews.append(_review(line))
        except _BadLine as bad:
            problems.append(Finding.of(path, number, f"log.{bad.message}", **bad.values))
    return Log(tuple(reviews), tuple(problems))


# A line as format_review writes it, no string holding an escape: most of a long log. It is
# taken apart without the JSON decoder, which calls a Python hook per line to find duplicate
# keys (a line so written has none); anything else is decoded.
_STRING = r'"([^"\\\x00-\x1f]*)"'
_AS_WRITTEN = pattern(
    rf'\{{"card": {_STRING}, "time": {_STRING}, "rating": ([1-4])'
    rf'(?:, "duration_ms": (0|[1-9][0-9]*))?(?:, "note": {_STRING})?\}}'
)


def _review(line: str) -> Review:
    written = _AS_WRITTEN.fullmatch(line)
    if written is None or not written[1].strip():
        return _decoded(line)
    card, when, rating, duration, note = written.groups()
    return Review(
        card,
        _aware(when),
        _RATINGS[int(rating)],
        int(duration) if duration is not None else None,
        note or None,
    )


def _decoded(line: str) -> Review:
    try:
        entry = _DECODER.decode(line)
    except ValueError as error:  # JSONDecodeError, and lone surrogates
        raise _BadLine("json", error=str(error)) from None
    except RecursionError:
        raise _BadLine("json", error="nested too deeply") from None
    if not isinstance(entry, dict):
        raise _BadLine("object")
    card, when, rating = entry.get("card"), entry.get("time"), entry.get("rating")
    duration = entry.get("duration_ms")
    if not isinstance(card, str) or not card.strip():
        raise _BadLine("card")
    if type(rating) is not int or not 1 <= rating <= 4:
        raise _BadLine("rating")
    if duration is not None and (type(duration) is not int or duration < 0):
        raise _BadLine("duration")
    note = entry.get("note")
    return Review(
        card=card,
        time=_aware(when),
        rating=_RATINGS[rating],
        duration_ms=duration,
        note=note if isinstance(note, str) and note else None,
    )


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _BadLine("duplicate_key", name=key)
        result[key] = value
    return result


# made once: json.loads with a hook makes a decoder per call, half of a long log's parse
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)
_RATINGS = {int(rating): rating for rating in Rating}


def _aware(value: object) -> datetime:
    """A date-time with its offset; years outside 1970-2999 are typos (and would overflow
    once a century-long interval is added)."""
    if not isinstance(value, str) or "T" not in value.upper():
        raise _BadLine("time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _BadLine("time") from None
    if parsed.utcoffset() is None or not 1970 <= parsed.year < 3000:
        raise _BadLine("time")
    return parsed
