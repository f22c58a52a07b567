"""`lab quiz`: the cards of the notes, one by one on the terminal, scheduled with FSRS. Each
answer is written to the review log the moment it is given (ops.quiz.record)."""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from mllm_lab.cli.common import Json, workspace
from mllm_lab.cli.complete import values
from mllm_lab.messages import tr

QUIT = ("q", "Q", "\x04", "\x1b")  # q, Ctrl-D, Esc
REVEAL = ("\r", "\n", " ")


def quiz(
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit", "-n", min=1, help="Study at most N cards (due ones first, then new)."
        ),
    ] = None,
    stage: Annotated[
        list[int] | None,
        typer.Option(
            "--stage",
            min=1,
            max=5,
            help="Only cards of this roadmap stage (1-5); repeat for more.",
            autocompletion=values("stage"),
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only cards of notes with this tag; repeat for more."),
    ] = None,
    new: Annotated[
        int | None,
        typer.Option("--new", min=0, help="Take N new cards now (default: up to 20 new a day)."),
    ] = None,
    show_stats: Annotated[
        bool, typer.Option("--stats", help="Cards due today, retention and streak; no quiz.")
    ] = False,
    json_output: Json = False,
) -> None:
    """Review the cards of your notes with spaced repetition (FSRS): Enter shows the answer,
    1-4 rates it (Again, Hard, Good, Easy), q stops. Cards: docs/cards.md; every answer is
    appended to reviews/quiz-log.jsonl as you give it.

    Example: lab quiz    |    lab quiz --stage 3 --limit 20    |    lab quiz --stats
    """
    from mllm_lab.ops.quiz import Filter
    from mllm_lab.ops.workspace import now

    which = Filter(stages=tuple(stage or ()), tags=tuple(t.strip() for t in tag or () if t.strip()))
    if not (show_stats or json_output or _interactive()):
        from mllm_lab.errors import BadInput

        raise BadInput("quiz.no_tty")
    ws = workspace()
    clock = now()
    if show_stats:
        _stats(ws, clock=clock, which=which, json_output=json_output)
    elif json_output:
        _json(ws, clock, which, new=new, limit=limit)
    else:
        _session(ws, which, new=new, limit=limit)


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stdout.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return False


def _stats(ws: Any, *, clock: datetime, which: Any, json_output: bool) -> None:
    from mllm_lab.cli import output
    from mllm_lab.ops.quiz import study_stats

    summary, problems = study_stats(ws, clock, which)
    if json_output:
        output.print_json(
            {"schema": "mllm-lab/quiz-stats/1", "now": clock.isoformat(), **summary._asdict()}
        )
        return
    output.problems(problems)
    if summary.retention is None:
        retention = tr("quiz.stats.no_retention")
    else:
        retention = tr(
            "quiz.stats.retention", percent=round(100 * summary.retention), n=summary.recalls
        )
    output.result(
        "\n".join(
            [
                tr("quiz.stats.cards", cards=summary.cards, new=summary.new, due=summary.due_today),
                tr(
                    "quiz.stats.reviews",
                    today=summary.reviews_today,
                    retention=retention,
                    streak=tr("quiz.stats.streak", n=summary.streak),
                ),
            ]
        )
    )


def _json(ws: Any, clock: datetime, which: Any, *, new: int | None, limit: int | None) -> None:
    from mllm_lab.cli import output
    from mllm_lab.core.schedule import quiz_json
    from mllm_lab.ops.quiz import due_now

    found = due_now(ws, clock, which, new=new, limit=limit)
    output.print_json(quiz_json(found.queue, schedule=found.states, summary=found.stats, now=clock))


# --- the sitting ---------------------------------------------------------------------------


def _session(ws: Any, which: Any, *, new: int | None, limit: int | None) -> None:
    from mllm_lab.cli import output
    from mllm_lab.core.session import Session
    from mllm_lab.ops.quiz import check_log, study
    from mllm_lab.ops.workspace import now

    check_log(ws)
    found = study(ws)
    output.problems(found.problems)
    sitting = Session.of(
        found.queue(now(), which, new), found.states, limit=limit, settings=found.settings
    )
    if not sitting.left:
        _nothing_due(found, sitting, which)
        return
    stopped = False
    try:
        stopped = _ask_all(ws, sitting)
    except KeyboardInterrupt:
        stopped = True
        output.result("")
        output.info(tr("quiz.stopped", n=sitting.answered, path=_log_path()))
        raise typer.Exit(130) from None
    _finish(sitting, which.apply(found.cards), stopped)


def _ask_all(ws: Any, sitting: Any) -> bool:
    """Ask until no card is left; True if the learner stopped first."""
    from mllm_lab.core.schedule import Rating
    from mllm_lab.ops.quiz import record
    from mllm_lab.ops.workspace import now

    while (card := sitting.next(now())) is not None:
        new = card.id not in sitting.states
        _show_question(card, sitting, new)
        started = time.monotonic()
        if _wait_for(REVEAL) is None:
            return True
        _show_answer(card, sitting.intervals(card, now()))
        key = _wait_for(("1", "2", "3", "4"))
        if key is None:
            return True
        spent = int((time.monotonic() - started) * 1000)
        review = sitting.answer(card, Rating(int(key)), now(), duration_ms=spent)
        record(ws, review)
    return False


def _show_question(card: Any, sitting: Any, new: bool) -> None:
    from mllm_lab.cli import output
    from mllm_lab.core.roadmap import stage_name

    state = sitting.states.get(card.id)
    kind = tr("quiz.kind.new") if new or state is None else tr(f"quiz.kind.{state.state}")
    header = tr(
        "quiz.header",
        number=sitting.answered + 1,
        left=sitting.left,
        kind=kind,
        stage=stage_name(card.stage, None),
        where=f"{card.path}:{card.line}",
    )
    output.rich_text(f"\n[dim]── {output.escape(header)} ──[/]")
    output.rich_text(f"[bold]{output.escape(shown(card.question))}[/]")
    output.rich_text(f"[dim]{output.escape(tr('quiz.reveal'))}[/]")


def _show_answer(card: Any, due: dict[Any, datetime]) -> None:
    from mllm_lab.cli import output
    from mllm_lab.ops.workspace import now

    output.rich_text(output.escape(shown(card.answer)))
    moment = now()
    choices = [tr(f"quiz.rating.{rating.value}", when=span(due[rating] - moment)) for rating in due]
    output.rich_text(f"[cyan]{output.escape(' · '.join([*choices, tr('quiz.quit')]))}[/]")


def _nothing_due(found: Any, sitting: Any, which: Any) -> None:
    from mllm_lab.cli import output
    from mllm_lab.ops.workspace import now

    cards = which.apply(found.cards)
    if not cards:
        output.info(tr("quiz.no_cards"))
        return
    soonest = sitting.next_due(cards)
    after = tr("quiz.next_due", when=span(soonest - now())) if soonest else ""
    output.info(tr("quiz.nothing_due", n=len(cards), next=after).strip())


def _finish(sitting: Any, cards: Any, stopped: bool) -> None:
    from mllm_lab.cli import output
    from mllm_lab.core.schedule import Rating
    from mllm_lab.ops.workspace import now

    counts = " · ".join(
        f"{tr(f'quiz.name.{rating.value}')} {sitting.ratings[rating]}" for rating in Rating
    )
    lines = [tr("quiz.done", n=sitting.answered, ratings=counts)]
    soonest = sitting.next_due(cards)
    if soonest is not None:
        lines.append(tr("quiz.next_due", when=span(soonest - now())))
    if stopped:
        lines.append(tr("quiz.left_for_later", n=sitting.left))
    output.result("")
    output.info(" ".join(lines))


def _log_path() -> str:
    from mllm_lab.core.schedule import LOG_PATH

    return LOG_PATH


def shown(text: str) -> str:
    """A card's text for the terminal: control characters (an escape sequence pasted into a
    note) are dropped, so a note cannot move the cursor or change the terminal's colours."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def span(delta: timedelta) -> str:
    """A time span as the learner reads it: `<1 min`, `10 min`, `3 h`, `4 days`, `2 mo`."""
    minutes = delta.total_seconds() / 60
    if minutes < 1:
        return tr("quiz.span.now")
    if minutes < 60:
        return tr("quiz.span.minutes", n=round(minutes))
    if minutes < 24 * 60:
        return tr("quiz.span.hours", n=round(minutes / 60))
    days = minutes / (24 * 60)
    if days < 30:
        return tr("quiz.span.days", n=round(days))
    if days < 365:
        return tr("quiz.span.months", n=round(days / 30))
    return tr("quiz.span.years", n=round(days / 365, 1))


# --- keys ----------------------------------------------------------------------------------


def _wait_for(keys: tuple[str, ...]) -> str | None:
    """The first of `keys` pressed; None for q, Ctrl-D or Esc. Other keys are ignored."""
    while True:
        key = _read_key()
        if key in QUIT or key == "":
            return None
        if key in keys:
            return key


def _read_key() -> str:
    """One key press, without waiting for Enter (cbreak mode for just this read, so Ctrl-C
    and Ctrl-Z still work); "" at the end of input. The mode changes at once (TCSANOW), not
    after flushing pending input as tty.setcbreak does by default: keys typed ahead are
    kept."""
    if os.name == "nt":
        import msvcrt

        return str(msvcrt.getwch())  # type: ignore[attr-defined,unused-ignore]
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        data = os.read(fd, 1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    return data.decode("utf-8", "replace")
