"""The quiz's review log on disk (reviews/quiz-log.jsonl), read whole. Reading never fails on
content: bytes that are not UTF-8 become U+FFFD, so a damaged line is reported by
core.schedule.parse_log and the others still count. Answers are appended through the one
transaction (ops.quiz.record), never here."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mllm_lab.errors import BrokenNote
from mllm_lab.models import QUIZ_LOG


def read(path: Path) -> str:
    """The log's text; "" when there is no log yet. Opened without blocking, so a pipe or a
    device named like the log is refused instead of hanging the command."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError):
        return ""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise BrokenNote(QUIZ_LOG, 1, "file.folder" if stat.S_ISDIR(mode) else "file.not_a_file")
    with os.fdopen(fd, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")
