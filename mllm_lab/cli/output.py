"""All terminal output: the only module that imports Rich. Results go to stdout, messages to
stderr; colour only on a terminal and never with NO_COLOR. When output is plain (piped, or
NO_COLOR), Rich is not even imported: the markup is stripped here, which keeps scripted and
aliased runs fast."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from mllm_lab.core.cells import (
    SCREENFUL,
    TERMINAL_CONTROL,
    aligned,
    terminal_clean,
    terminal_clean_bytes,
    width,
)
from mllm_lab.messages import tr
from mllm_lab.models import WARNINGS_SHOWN, Brief
from mllm_lab.patterns import pattern

ACTION_STYLE = {
    "created": "green",
    "updated": "yellow",
    "unchanged": "dim",
    "kept": "dim",
    "would create": "cyan",
    "would update": "cyan",
    "exists": "red",
}


_TAG_LIKE = pattern(r"(\\*)(\[[a-z#/@][^[]*?])")
_BRACKET = pattern(r"(\\*)(\[(?:[a-z#/@][^[]*?\])?)")  # a `[`, or a tag-like `[...]`


def _escaped_bracket(match: re.Match[str]) -> str:
    """Backslashes and a bracket as Rich reads them back: before a tag-like `[...]` a run of
    backslashes is doubled and one more added; before any other `[`, one is added."""
    slashes, bracket = match[1], match[2]
    if len(bracket) > 1:
        return f"{slashes}{slashes}\\{bracket}"
    return f"{slashes}\\{bracket}" if slashes else bracket


def shown(text: str) -> str:
    """Text as it may reach a terminal."""
    return text if terminal_clean(text) else TERMINAL_CONTROL.sub("\ufffd", text)


def escape(text: str) -> str:
    """User text inside markup, escaped exactly as `rich.markup.escape` does (without
    importing Rich): a `[` that could start a tag gets a backslash. Control characters are
    shown as U+FFFD."""
    text = _BRACKET.sub(_escaped_bracket, shown(text))
    return text + "\\" if text.endswith("\\") and not text.endswith("\\\\") else text


def strip_markup(markup: str) -> str:
    """The plain text Rich shows for markup: tags dropped, escapes undone."""
    return "".join(text for text, _tag in _pieces(markup) if text is not None)


def _pieces(markup: str) -> Iterator[tuple[str | None, str | None]]:
    """(text, None) and (None, tag), in order, as Rich's markup parser reads them: a tag after
    an even run of backslashes is a tag (and half the run is text); after an odd run it is
    text; elsewhere in the text, `\\[` is `[`."""
    at = 0
    for match in _TAG_LIKE.finditer(markup):
        slashes, tag = match[1], match[2]
        if match.start() > at:
            yield markup[at : match.start()].replace("\\[", "["), None
        if len(slashes) > 1:
            yield slashes[: len(slashes) // 2], None
        at = match.end()
        yield (tag, None) if len(slashes) % 2 else (None, tag)
    if at < len(markup):
        yield markup[at:].replace("\\[", "["), None


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
    stream = sys.stderr if stderr else sys.stdout
    if plain(stderr):
        stream.write(strip_markup(markup) + "\n")
        stream.flush()
    elif (styled := ansi(markup)) is not None:
        stream.write(styled + "\n")
        stream.flush()
    else:
        console(stderr).print(markup)


# The styles lab's own markup uses, as Rich writes them (attributes, then the colour).
_ATTRIBUTES = {"bold": "1", "dim": "2"}
_COLOURS = {"red": "31", "green": "32", "yellow": "33", "cyan": "36"}
# what Rich changes: control characters (it expands tabs, drops \r) and :emoji: codes
_RICH_ONLY = pattern(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]|:\S*?:")


def ansi(markup: str) -> str | None:
    """Markup in lab's few styles as Rich prints it on a terminal, without importing Rich
    (40 ms of a 130 ms `lab status`); None for anything else, which Rich prints."""
    if _RICH_ONLY.search(markup) or sys.platform == "win32":
        return None
    if os.environ.get("TERM") in ("dumb", "unknown") or "TTY_COMPATIBLE" in os.environ:
        return None  # Rich's own judgement of the terminal
    out: list[str] = []
    styles: list[tuple[set[str], str]] = []  # (attributes, colour) of each open tag

    def text(part: str) -> None:
        if not part:
            return
        attributes = set().union(*(a for a, _ in styles)) if styles else set()
        colour = next((c for _, c in reversed(styles) if c), "")
        codes = [_ATTRIBUTES[a] for a in _ATTRIBUTES if a in attributes]
        codes += [colour] if colour else []
        for number, line in enumerate(part.split("\n")):  # Rich styles each line apart
            if number:
                out.append("\n")
            if line:
                out.append(f"\x1b[{';'.join(codes)}m{line}\x1b[0m" if codes else line)

    pieces = list(_pieces(markup))
    if any(piece and "\n" in piece for piece, _tag in pieces):
        pieces = _without_empty_spans(pieces)  # Rich drops them when it splits the lines
    pending = ""  # text since the last tag: Rich styles a span in one piece
    for piece, tag in pieces:
        if tag is None:
            pending += piece or ""
            continue
        text(pending)
        pending = ""
        words = tag[1:-1].split()
        if tag == "[/]":
            if not styles:
                return None
            styles.pop()
        elif words and all(w in _ATTRIBUTES or w in _COLOURS for w in words):
            colours = [_COLOURS[w] for w in words if w in _COLOURS]
            styles.append(({w for w in words if w in _ATTRIBUTES}, colours[-1] if colours else ""))
        else:
            return None
    text(pending)
    return "".join(out)


def _without_empty_spans(
    pieces: list[tuple[str | None, str | None]],
) -> list[tuple[str | None, str | None]]:
    """The pieces without tags that open and close around no text (nested ones too)."""
    kept: list[tuple[str | None, str | None]] = []
    for piece, tag in pieces:
        if tag == "[/]" and kept and kept[-1][1] is not None and kept[-1][1] != "[/]":
            kept.pop()  # an open tag with nothing since: the span is empty
            continue
        if tag is None and not piece:
            continue
        kept.append((piece, tag))
    return kept


def one_line(message: str) -> str:
    """Every message is one line, whatever a library put in it."""
    return " ".join(message.split())


def error(message: str) -> None:
    say(f"[bold red]{tr('cli.error')}[/]{escape(one_line(message))}")


def warn(message: str) -> None:
    say(f"[yellow]{tr('cli.warning')}[/]{escape(one_line(message))}")


def info(message: str) -> None:
    say(escape(message))


def result(text: str | bytes, checked: bool = False) -> None:
    """A result on stdout, printed verbatim (no markup, no wrapping; control characters shown
    as U+FFFD). UTF-8 bytes free of control characters go to a UTF-8 stdout as they are;
    `checked`: the caller knows they are (terminal_clean_bytes said so when they were made)."""
    if isinstance(text, bytes):
        if not _utf8_stdout() or not (checked or terminal_clean_bytes(text)):
            try:
                result(text.decode("utf-8", "surrogatepass"))
            except UnicodeDecodeError:  # not what lab wrote: shown, never acted on
                result(text.decode("utf-8", "replace"))
            return
        sys.stdout.flush()
        sys.stdout.buffer.write(text if text.endswith(b"\n") else text + b"\n")
        sys.stdout.buffer.flush()
        return
    text = shown(text)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _utf8_stdout() -> bool:
    """stdout writes text as UTF-8 with no newline translation: bytes that hold no surrogate
    (the only characters its error handler acts on) may bypass it."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return encoding == "utf8" and os.linesep == "\n" and hasattr(sys.stdout, "buffer")


def outcomes(items: Iterable[Any], quiet_unchanged: bool = True) -> None:
    for item in items:
        if quiet_unchanged and item.action in ("unchanged", "kept"):
            continue
        style = ACTION_STYLE.get(item.action, "")
        detail = tr("cli.detail", detail=escape(one_line(item.detail))) if item.detail else ""
        action = tr(f"action.{item.action}")
        say(f"[{style}]{' ' * max(0, 12 - width(action))}{action}[/]  {escape(item.path)}{detail}")


def print_json(data: Any) -> None:
    from mllm_lab.core.jsontext import indented  # json.dumps' bytes, a third quicker

    result(indented(data))


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], title: str | None = None) -> None:
    """A table: Rich on a terminal for a screenful of rows, aligned plain text otherwise
    (Rich takes seconds for thousands of rows, and scripts want plain text)."""
    if not plain() and len(rows) <= SCREENFUL:
        from rich.table import Table

        grid = Table(title=title, title_justify="left", header_style="bold")
        for header in headers:
            grid.add_column(header, overflow="fold")
        for row in rows:
            grid.add_row(*(escape(cell) for cell in row))
        console().print(grid)
        return
    result(aligned(headers, rows, title))


def rich_table(rows: Sequence[Sequence[str]]) -> bool:
    """Whether `table` would draw these rows with Rich (a screenful, on a terminal)."""
    return not plain() and len(rows) <= SCREENFUL


def fields(title: str, pairs: Sequence[tuple[str, str]]) -> None:
    """A record on stdout: a bold title, then `label  value` lines aligned on the labels."""
    size = max((width(name) for name, _ in pairs), default=0)
    lines = [f"[bold]{escape(title)}[/]"]
    lines += [f"  [cyan]{escape(pad(name, size))}[/]  {escape(value)}" for name, value in pairs]
    rich_text("\n".join(lines))


def rich_text(markup: str) -> None:
    """Text with Rich markup on stdout: styled on a terminal, the same words plain otherwise."""
    say(markup, stderr=False)


def bar(done: int, total: int, size: int = 20) -> str:
    filled = round(size * done / total) if total else 0
    return "█" * filled + "░" * (size - filled)


def show_status(report: dict[str, Any]) -> None:
    """`lab status` for people: stage bars, papers by status, reading now, this week, next."""
    out = [f"[bold]{escape(report['lab']['name'])}[/]  {report['today']} · {report['week']}", ""]
    name_width = max(width(s["name"]) for s in report["stages"])
    for stage in report["stages"]:
        style = "green" if stage["done"] else "cyan"
        mark = "✔" if stage["done"] else " "
        counts = f"{stage['papers_read']}/{stage['papers_total']} {tr('status.papers')} · {stage['notes']} {tr('status.notes')}"
        out.append(
            f"{mark} {escape(pad(stage['name'], name_width))}  [{style}]{bar(stage['papers_read'], stage['papers_total'])}[/]  {counts}"
        )
    papers = report["papers"]
    out += [
        "",
        f"{tr('status.papers')}: ✅ {papers['read']} {tr('status.read')} · 📖 {papers['reading']} {tr('status.reading')} · ⬜ {papers['unread']} {tr('status.unread')}",
        f"{tr('status.reading_now')}:",
    ]
    for paper in report["reading_now"][:10] or [None]:
        if paper is None:
            out.append(f"  {tr('status.nothing')}")
        else:
            days = f" ({tr('status.days', n=paper['days'])})" if paper["days"] is not None else ""
            out.append(f"  📖 [bold]{escape(paper['key'])}[/] {escape(paper['title'])}{days}")
    week = report["this_week"]
    log = week["weekly_log"] or tr("status.missing_log")
    out.append(
        f"{tr('status.this_week')} ({week['week']}): {week['notes_created']} {tr('status.notes')} · "
        f"{week['papers_started']} {tr('status.started')} · {week['papers_finished']} {tr('status.finished')} · "
        f"{week['experiments_created']} {tr('status.experiments')} · {tr('status.log')}: {escape(log)}"
    )
    cards = report.get("cards")
    if cards is not None:
        if cards["log"] is None:
            out.append(tr("quiz.status_none"))
        else:
            out.append(tr("quiz.status", n=cards["due"], reviewed=cards["reviewed_today"]))
    out.append(f"{tr('status.next')}:")
    for number, paper in enumerate(report["next"], start=1):
        out.append(
            f"  {number}. [bold]{escape(paper['key'])}[/] {escape(paper['title'])} · {escape(paper['stage_name'])}"
        )
    if not report["next"]:
        out.append(f"  {tr('status.nothing')}")
    if report["problems"]:
        said = tr("status.problems", n=len(report["problems"]))
        if report["skipped"]:
            said += tr("status.files_skipped", n=report["skipped"])
        out.append(f"[yellow]⚠ {escape(said + tr('status.see_check'))}[/]")
    rich_text("\n".join(out))


def problems(findings: Sequence[object]) -> None:
    """Problems that are not skipped files (a card id used twice, an unreadable line of the
    quiz's log): a few shown as they are, the count of the others; `lab check` lists them."""
    for finding in findings[:WARNINGS_SHOWN]:
        warn(str(finding))
    if len(findings) > WARNINGS_SHOWN:
        warn(tr("cli.more_problems", n=len(findings) - WARNINGS_SHOWN))


def warnings(brief: Brief) -> None:
    """Problems found while reading the lab (models.in_brief): a few shown as they are (those
    that left their file out say so), many summarised in one line (a repository full of notes
    lab did not write); `lab check` lists them all."""
    if brief.total <= WARNINGS_SHOWN:
        for text, skipped in brief.shown:
            warn(tr("cli.skipped", finding=text) if skipped else text)
        return
    counted = [
        tr(name, n=n)
        for name, n in (("cli.bare", brief.bare), ("cli.files_skipped", brief.skipped))
        if n
    ]
    among = tr("cli.among", counts=tr("cli.joiner").join(counted)) if counted else ""
    warn(tr("cli.problems_many", n=brief.total, among=among, first=brief.shown[0][0]))


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
