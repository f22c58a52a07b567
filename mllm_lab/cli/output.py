"""All terminal output: the only module that imports Rich. Results go to stdout, messages to
stderr; colour only on a terminal and never with NO_COLOR. When output is plain (piped, or
NO_COLOR), Rich is not even imported: the markup is stripped here, which keeps scripted and
aliased runs fast."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

ACTION_STYLE = {
    "created": "green",
    "updated": "yellow",
    "unchanged": "dim",
    "kept": "dim",
    "would create": "cyan",
    "would update": "cyan",
}


_TAG_LIKE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")


def escape(text: str) -> str:
    """User text inside markup, escaped exactly as `rich.markup.escape` does (without
    importing Rich): a `[` that could start a tag gets a backslash."""
    text = _TAG_LIKE.sub(lambda m: f"{m[1]}{m[1]}\\{m[2]}", text)
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text


def strip_markup(markup: str) -> str:
    """The plain text Rich shows for markup: tags dropped, escapes undone (a tag after an even
    run of backslashes is a tag; after an odd run it is text)."""

    def one(match: re.Match[str]) -> str:
        slashes, tag = match[1], match[2]
        if len(slashes) % 2 == 0:
            return slashes[: len(slashes) // 2]
        return slashes[: len(slashes) // 2] + tag

    return _TAG_LIKE.sub(one, markup)


@lru_cache(maxsize=2)
def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def plain(stderr: bool = False) -> bool:
    """True when output should carry no styling: piped, or NO_COLOR set."""
    stream = sys.stderr if stderr else sys.stdout
    return bool(os.environ.get("NO_COLOR")) or not stream.isatty()


def say(markup: str, stderr: bool = True) -> None:
    """A line with Rich markup: styled on a terminal, stripped to plain text otherwise."""
    if plain(stderr):
        stream = sys.stderr if stderr else sys.stdout
        stream.write(strip_markup(markup) + "\n")
        stream.flush()
    else:
        console(stderr).print(markup)


def error(message: str) -> None:
    say(f"[bold red]error:[/] {escape(message)}")


def warn(message: str) -> None:
    say(f"[yellow]warning:[/] {escape(message)}")


def info(message: str) -> None:
    say(escape(message))


def result(text: str) -> None:
    """A result on stdout, printed verbatim (no markup, no wrapping)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def outcomes(items: Iterable[Any], quiet_unchanged: bool = True) -> None:
    for item in items:
        if quiet_unchanged and item.action in ("unchanged", "kept"):
            continue
        style = ACTION_STYLE.get(item.action, "")
        detail = f"  ({escape(item.detail)})" if item.detail else ""
        say(f"[{style}]{item.action:>12}[/]  {escape(item.path)}{detail}")


def print_json(data: Any) -> None:
    result(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# East Asian wide and full-width ranges (CJK, Hangul, kana, full-width forms, most emoji):
# counted in C by one regex instead of a Python call per character.
_WIDE = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
    "\U0001f300-\U0001f64f\U0001f900-\U0001f9ff\U00020000-\U0003fffd\u2b1c\u2705\u274c]"
)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def width(text: str) -> int:
    """Terminal cells: wide (CJK, emoji) characters take two."""
    if text.isascii():
        return len(text)
    return len(text) + len(_WIDE.findall(text))


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
    result("\n".join(lines))


def rich_text(markup: str) -> None:
    """Text with Rich markup on stdout: styled on a terminal, the same words plain otherwise."""
    say(markup, stderr=False)


LABELS = {
    "zh": {
        "papers": "论文",
        "notes": "笔记",
        "read": "已读",
        "reading": "在读",
        "unread": "未读",
        "reading_now": "正在读",
        "days": "天",
        "this_week": "本周",
        "started": "开始",
        "finished": "读完",
        "experiments": "实验",
        "log": "周记",
        "missing": "还没有（lab weekly）",
        "next": "接下来读",
        "nothing": "（无）",
        "problems": "个文件有问题，已跳过（lab check 查看）",
    },
    "en": {
        "papers": "papers",
        "notes": "notes",
        "read": "read",
        "reading": "reading",
        "unread": "unread",
        "reading_now": "Reading now",
        "days": "days",
        "this_week": "This week",
        "started": "started",
        "finished": "finished",
        "experiments": "experiments",
        "log": "weekly log",
        "missing": "missing (lab weekly)",
        "next": "Next to read",
        "nothing": "(none)",
        "problems": "files with problems were skipped (see lab check)",
    },
}


def bar(done: int, total: int, size: int = 20) -> str:
    filled = round(size * done / total) if total else 0
    return "█" * filled + "░" * (size - filled)


def show_status(report: dict[str, Any]) -> None:
    """`lab status` for people: stage bars, papers by status, reading now, this week, next."""
    lang = report["lab"]["lang"]
    words = LABELS.get(lang, LABELS["en"])
    out = [f"[bold]{escape(report['lab']['name'])}[/]  {report['today']} · {report['week']}", ""]
    name_width = max(width(s["name"]) for s in report["stages"])
    for stage in report["stages"]:
        style = "green" if stage["done"] else "cyan"
        mark = "✔" if stage["done"] else " "
        counts = f"{stage['papers_read']}/{stage['papers_total']} {words['papers']} · {stage['notes']} {words['notes']}"
        out.append(
            f"{mark} {escape(pad(stage['name'], name_width))}  [{style}]{bar(stage['papers_read'], stage['papers_total'])}[/]  {counts}"
        )
    papers = report["papers"]
    out += [
        "",
        f"{words['papers']}: ✅ {papers['read']} {words['read']} · 📖 {papers['reading']} {words['reading']} · ⬜ {papers['unread']} {words['unread']}",
    ]
    out.append(f"{words['reading_now']}:")
    for paper in report["reading_now"][:10] or [None]:
        if paper is None:
            out.append(f"  {words['nothing']}")
        else:
            days = f" ({paper['days']} {words['days']})" if paper["days"] is not None else ""
            out.append(f"  📖 [bold]{escape(paper['key'])}[/] {escape(paper['title'])}{days}")
    week = report["this_week"]
    log = week["weekly_log"] or words["missing"]
    out.append(
        f"{words['this_week']} ({week['week']}): {week['notes_created']} {words['notes']} · "
        f"{week['papers_started']} {words['started']} · {week['papers_finished']} {words['finished']} · "
        f"{week['experiments_created']} {words['experiments']} · {words['log']}: {escape(log)}"
    )
    out.append(f"{words['next']}:")
    for number, paper in enumerate(report["next"], start=1):
        out.append(
            f"  {number}. [bold]{escape(paper['key'])}[/] {escape(paper['title'])} · {escape(paper['stage_name'])}"
        )
    if not report["next"]:
        out.append(f"  {words['nothing']}")
    if report["problems"]:
        out.append(f"[yellow]⚠ {len(report['problems'])} {words['problems']}[/]")
    rich_text("\n".join(out))


def warnings(findings: Sequence[object], limit: int = 5) -> None:
    """Problems found while reading the lab: shown once, briefly; `lab check` lists them all."""
    for finding in findings[:limit]:
        warn(f"{finding} (skipped)")
    if len(findings) > limit:
        warn(f"… and {len(findings) - limit} more; run `lab check` to see them all")


class ProgressBar:
    """A transient progress bar on stderr, only on a terminal; otherwise it does nothing."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> ProgressBar:
        if sys.stderr.isatty() and not os.environ.get("NO_COLOR"):
            from rich.progress import Progress

            self.bar = Progress(console=console(stderr=True), transient=True)
            self.bar.start()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def copy_to_clipboard(text: str) -> str | None:
    """Copy with the first clipboard tool found; the tool's name, or None if there is none."""
    import shutil
    import subprocess

    for command in (
        ["pbcopy"],
        ["wl-copy"],
        ["xclip", "-selection", "clipboard"],
        ["xsel", "-b", "-i"],
        ["clip.exe"],
    ):
        if shutil.which(command[0]):
            try:
                subprocess.run(command, input=text.encode("utf-8"), check=True, timeout=5)
            except (OSError, subprocess.SubprocessError):
                continue
            return command[0]
    return None
