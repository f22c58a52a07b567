"""The quiz's review log on disk (reviews/quiz-log.jsonl), read whole. Reading never fails on
content: bytes that are not UTF-8 become U+FFFD, so a damaged line is reported by
core.schedule.parse_log and the others still count. Answers are appended through the one
transaction (ops.quiz.record), never here."""

from __future__ import annotations

from pathlib import Path


def read(path: Path) -> str:
    """The log's text; "" when there is no log yet."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return ""
