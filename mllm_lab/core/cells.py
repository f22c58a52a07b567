"""Text laid out in terminal cells: a character's width by Unicode's East Asian Width, and a
table as aligned plain text (what `lab list` prints when piped or longer than a screen)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

SCREENFUL = 300  # rows a terminal table is drawn with Rich up to; longer ones are plain text


def width(text: str) -> int:
    """Terminal cells, by Unicode's East Asian Width: wide and full-width characters (CJK,
    most emoji such as 🚀 ⭐ ✅) take two, combining marks and variation selectors none."""
    if text.isascii():
        return len(text)
    return sum(_cells(ch) for ch in text)


@lru_cache(maxsize=4096)
def _cells(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufe0e\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def aligned(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> str:
    """The table as plain text, columns aligned by terminal cells."""
    cells = [list(headers), *rows]
    widths = [[width(cell) for cell in row] for row in cells]
    sizes = [max(column) for column in zip(*widths, strict=True)]
    last = len(sizes) - 1
    lines = [title] if title else []
    for row, row_widths in zip(cells, widths, strict=True):
        parts = [
            cell if index == last else cell + " " * (sizes[index] - cell_width)
            for index, (cell, cell_width) in enumerate(zip(row, row_widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)
