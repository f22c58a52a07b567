"""All terminal output: the only module that imports Rich. Results go to stdout, messages to
stderr; colour only on a terminal and never with NO_COLOR."""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from rich.console import Console
from rich.markup import escape

ACTION_STYLE = {
    "created": "green",
    "updated": "yellow",
    "unchanged": "dim",
    "kept": "dim",
    "would create": "cyan",
    "would update": "cyan",
}


@lru_cache(maxsize=2)
def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def plain() -> bool:
    """True when output should carry no styling: piped, or NO_COLOR set."""
    return bool(os.environ.get("NO_COLOR")) or not sys.stdout.isatty()


def error(message: str) -> None:
    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")


def warn(message: str) -> None:
    console(stderr=True).print(f"[yellow]warning:[/] {escape(message)}")


def info(message: str) -> None:
    console(stderr=True).print(escape(message))


def result(text: str) -> None:
    """A result on stdout, printed verbatim (no markup, no wrapping)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def outcomes(items: Iterable[Any], quiet_unchanged: bool = True) -> None:
    err = console(stderr=True)
    for item in items:
        if quiet_unchanged and item.action in ("unchanged", "kept"):
            continue
        style = ACTION_STYLE.get(item.action, "")
        detail = f"  ({escape(item.detail)})" if item.detail else ""
        err.print(f"[{style}]{item.action:>12}[/]  {escape(item.path)}{detail}")


def print_json(data: Any) -> None:
    result(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """A table: Rich on a terminal for a screenful of rows, aligned plain text otherwise
    (Rich takes seconds for thousands of rows, and scripts want plain text)."""
    if not plain() and len(rows) <= 300:
        from rich.table import Table

        grid = Table(title=title, title_justify="left", header_style="bold")
        for header in headers:
            grid.add_column(header, overflow="fold")
        for row in rows:
            grid.add_row(*(escape(cell) for cell in row))
        console().print(grid)
        return
    sizes = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [title] if title else []
    lines.append("  ".join(_pad(h, s) for h, s in zip(headers, sizes, strict=True)).rstrip())
    lines += [
        "  ".join(_pad(c, s) for c, s in zip(row, sizes, strict=True)).rstrip() for row in rows
    ]
    result("\n".join(lines))


def rich_text(markup: str) -> None:
    """Text with Rich markup on a terminal; the same words without styling when plain."""
    if plain():
        from rich.text import Text

        result(Text.from_markup(markup).plain)
    else:
        console().print(markup)
