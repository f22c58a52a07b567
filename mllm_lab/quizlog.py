"""The quiz's review log on disk (reviews/quiz-log.jsonl): read whole, appended one review at a
time. Reading never fails on content: bytes that are not UTF-8 become U+FFFD, so a damaged
line is reported by core.schedule.parse_log and the others still count."""

from __future__ import annotations

import os
from pathlib import Path

from mllm_lab.core.schedule import Review, format_review
from mllm_lab.errors import WriteFailed


def read(path: Path) -> str:
    """The log's text; "" when there is no log yet."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def append(path: Path, review: Review, shown: str | None = None) -> None:
    """One line added at the end with a single O_APPEND write, then fsync. A previous line cut
    short by a crash is closed first, so the new review is not glued to it."""
    shown = shown or str(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags, 0o666)
        try:
            data = format_review(review).encode("utf-8")
            size = os.fstat(fd).st_size
            if size and os.lseek(fd, size - 1, os.SEEK_SET) >= 0 and os.read(fd, 1) != b"\n":
                data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as error:
        raise WriteFailed(shown, error.strerror or type(error).__name__) from None
