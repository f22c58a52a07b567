"""Text laid out in terminal cells: a character's width by Unicode's East Asian Width, and a
table as aligned plain text (what `lab list` prints when piped or longer than a screen)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from mllm_lab.patterns import pattern

SCREENFUL = 300  # rows a terminal table is drawn with Rich up to; longer ones are plain text

# Control characters a terminal would act on (an escape sequence in a hand-edited title can
# recolour or retitle the terminal): shown as U+FFFD. Tabs and line breaks are kept.
TERMINAL_CONTROL = pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_C0_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])  # its C0 and DEL
_C1_BYTES = pattern(b"\xc2[\x80-\x9f]")  # its C1 controls in UTF-8 (\xc2 only ever leads)


def terminal_clean(text: str) -> bool:
    """No character TERMINAL_CONTROL matches. A long text (`lab list notes` prints
    megabytes) is checked on its UTF-8 bytes, three times quicker than the regular
    expression: C0 controls and DEL are single bytes, and C1 controls (U+0080-U+009F) are
    \xc2 then \x80-\x9f."""
    if len(text) < 65536:
        return TERMINAL_CONTROL.search(text) is None
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _C0_BYTES)) != len(data):
        return False
    return _C1_BYTES.search(data) is None


def terminal_clean_bytes(data: bytes) -> bool:
    """Valid UTF-8 holding no character TERMINAL_CONTROL matches and no lone surrogate,
    checked on the bytes. (Valid UTF-8 also means no stray byte a terminal could read as an
    8-bit control.)"""
    if len(data.translate(None, _C0_BYTES)) != len(data):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")  # strict: a surrogate, or any byte out of place, fails
        except UnicodeDecodeError:
            return False
    return _C1_BYTES.search(data) is None


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
