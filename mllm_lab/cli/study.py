"""The study loop: lab prompt, lab review, lab check, lab next."""

from typing import Annotated

import typer

from mllm_lab.cli.common import (
    DryRun,
    Edit,
    Force,
    Json,
    editor_command,
    show_created,
    workspace,
)
from mllm_lab.cli.complete import values
from mllm_lab.messages import tr


def prompt(
    kind: Annotated[
        str,
        typer.Argument(
            help="init, paper, concept, experiment, weekly or review.",
            autocompletion=values("prompt"),
        ),
    ],
    target: Annotated[
        str | None,
        typer.Argument(
            help="paper: key; concept: note or new title; experiment: topic.",
            autocompletion=values("prompt_target"),
        ),
    ] = None,
    week: Annotated[
        str | None,
        typer.Option(
            "--week", help="weekly: ISO week, e.g. 2026-W48.", autocompletion=values("week")
        ),
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            "-c",
            help="concept: category of a new note.",
            autocompletion=values("category"),
        ),
    ] = None,
    copy: Annotated[
        bool, typer.Option("--copy", help="Also copy it to the clipboard, where one exists.")
    ] = False,
    no_log: Annotated[
        bool, typer.Option("--no-log", help="Do not record it in Prompt_log.md.")
    ] = False,
) -> None:
    """Print one of the six study prompts with the lab's facts filled in, ready to paste.

    Example: lab prompt paper blip-2 | pbcopy    |    lab prompt weekly    |    lab prompt review
    """
    from mllm_lab.cli import output
    from mllm_lab.core.weeks import parse_week
    from mllm_lab.ops.prompts import log_prompt, render_prompt

    ws = workspace()
    text = render_prompt(
        ws, kind, target, week=parse_week(week) if week is not None else None, category=category
    )
    output.result(text)
    if copy:
        tool = output.copy_to_clipboard(text)
        if tool:
            output.info(tr("cli.copied", tool=tool))
        else:
            output.warn(tr("cli.no_clipboard"))
    if not no_log:
        if kind == "weekly":
            from mllm_lab.models import Week

            target = (parse_week(week) if week is not None else Week.of(ws.today)).name
        log_prompt(ws, kind, target)


def review(
    since: Annotated[
        str | None, typer.Option("--since", help="Only notes created on or after YYYY-MM-DD.")
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed for the self-test questions (default: today)."),
    ] = None,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write reviews/review-YYYY-MM-DD.md: concept map, weak spots, 5 self-test questions, 3 directions.

    Example: lab review --since 2026-11-01 --seed 7
    """
    from mllm_lab.core.weeks import parse_date
    from mllm_lab.errors import BadInput
    from mllm_lab.ops.review import review as make

    ws = workspace()
    start = parse_date(since, "--since") if since is not None else None
    if start is not None and start > ws.today:
        raise BadInput("error.since_future", value=start.isoformat(), today=ws.today.isoformat())
    editor = editor_command(edit)
    show_created(make(ws, since=start, seed=seed, force=force, dry_run=dry_run), dry_run, editor)


def related(
    note: Annotated[str, typer.Argument(help="The note: its path, file name, title or paper key.")],
    count: Annotated[
        int, typer.Option("--count", "-n", min=0, help="How many found notes (besides links).")
    ] = 5,
    write: Annotated[
        bool, typer.Option("--write", help="Refresh the note's generated list of related notes.")
    ] = False,
    json_output: Json = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --write: say what would change; write nothing.")
    ] = False,
) -> None:
    """Notes related to NOTE, best first, with why: its links, tags naming a paper or note,
    shared tags, rare words of the titles. --write refreshes the list in the note (never one
    you edited).

    Example: lab related notes/fundamentals/self-attention.md    |    lab related q-former --write
    """
    from mllm_lab.cli import output
    from mllm_lab.ops import related as ops

    ws = workspace()
    if write:
        output.outcomes(ops.refresh(ws, note, limit=count, dry_run=dry_run), quiet_unchanged=False)
        return
    found = ops.for_note(ws, note, count)
    if json_output:
        output.print_json(
            [
                {"path": r.path, "title": r.title, "score": r.score, "reasons": list(r.reasons)}
                for r in found
            ]
        )
    elif found:
        output.result("\n".join(f"{r.path} — {r.title} ({ops.why(r, ws.lang)})" for r in found))
    else:
        output.info(tr("related.none", ws.lang))


def check(json_output: Json = False) -> None:
    """Lint the lab: frontmatter, required sections, links, duplicates, stale views, notebooks.

    Prints one `path:line: message` per problem and exits 1 if there is any.
    Example: lab check    |    lab check --json
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.check import lint

    ws = workspace()
    with output.ProgressBar("checking") as bar:
        ws.progress = bar
        findings = lint(ws, bar)
    if json_output:
        output.print_json(
            [{"path": path, "line": line, "message": message} for path, line, message in findings]
        )
    elif findings:
        output.result("\n".join(f"{path}:{line}: {message}" for path, line, message in findings))
        output.info(tr("cli.problems", n=len(findings)))
    else:
        output.info(tr("cli.no_problems"))
    if findings:
        raise typer.Exit(1)


def next_(
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many steps.")] = 5,
) -> None:
    """The best next steps in roadmap order, one a line, with why.

    Example: lab next -n 3
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.report import next_steps

    found = next_steps(workspace(), count)
    if not found:
        output.info(tr("cli.nothing_left"))
        return
    output.result(
        "\n".join(f"{number}. {what} — {why}" for number, (what, why) in enumerate(found, 1))
    )
