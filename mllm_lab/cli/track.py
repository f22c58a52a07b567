"""Commands that keep reading status true and show it: add, mark, sync, status, list."""

from typing import Annotated, Any

import typer

from mllm_lab.cli.common import (
    Arxiv,
    Authors,
    Connector,
    Encoder,
    Json,
    NewPaper,
    PaperKey,
    Stage,
    Tags,
    TitleOrKey,
    Topic,
    Venue,
    Year,
    look_up,
    workspace,
)
from mllm_lab.cli.complete import values
from mllm_lab.messages import tr


def add_paper(
    title_or_key: TitleOrKey,
    arxiv: Arxiv = None,
    authors: Authors = None,
    year: Year = None,
    venue: Venue = None,
    topic: Topic = None,
    stage: Stage = None,
    tags: Tags = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="unread (default), reading or read.",
            autocompletion=values("status"),
        ),
    ] = None,
    key: PaperKey = None,
    new: NewPaper = False,
) -> None:
    """Put a paper on the reading list as ⬜ unread, without writing a note.

    Example: lab add paper dpo    |    lab add paper 2305.18290
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.papers import PaperFacts
    from mllm_lab.ops.papers import add_paper as add

    facts = PaperFacts(
        arxiv=arxiv,
        authors=authors,
        year=year,
        venue=venue,
        topic=topic,
        stage=stage,
        tags=tags,
        status=status,
    )
    ws = workspace()
    fetched = look_up(ws, title_or_key)
    paper, outcomes, added = add(ws, title_or_key, facts, key=key, new=new, fetched=fetched)
    output.warnings(ws.shown_findings())
    output.outcomes(outcomes)
    if added:
        output.info(tr("cli.added", emoji=paper.status.emoji, key=paper.key, title=paper.title))
    else:
        output.info(
            tr("cli.already_in_lab", emoji=paper.status.emoji, key=paper.key, title=paper.title)
        )


def mark(
    key: Annotated[
        str,
        typer.Argument(
            help="Key, arXiv id or title (a unique prefix is enough).",
            autocompletion=values("paper"),
        ),
    ],
    status: Annotated[
        str,
        typer.Argument(
            help="unread, reading or read (or ⬜ 📖 ✅).", autocompletion=values("status")
        ),
    ],
) -> None:
    """Change a paper's status and dates, and update every table that shows it.

    Example: lab mark blip-2 read
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.papers import mark as do_mark

    ws = workspace()
    marked = do_mark(ws, key, status)
    output.warnings(ws.shown_findings())
    output.outcomes(marked.outcomes)
    before, after = marked.before, marked.after
    if before.status is after.status and before != after:
        output.info(
            tr(
                "cli.dates_fixed",
                key=after.key,
                emoji=after.status.emoji,
                status=status_name(after),
            )
        )
    elif before == after:
        output.info(
            tr(
                "cli.already_status",
                key=after.key,
                emoji=after.status.emoji,
                status=status_name(after),
            )
        )
    else:
        output.info(
            tr(
                "cli.marked",
                key=after.key,
                before_emoji=before.status.emoji,
                before=status_name(before),
                after_emoji=after.status.emoji,
                after=status_name(after),
            )
        )


def status_name(paper: Any) -> str:
    return tr(f"status.name.{paper.status.value}")


def sync(
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 and name each problem as path:line."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Regenerate regions edited by hand (the old text goes to .lab-trash/)."
        ),
    ] = False,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Fix damaged region markers (a lost lab:end, a duplicate region) first.",
        ),
    ] = False,
) -> None:
    """Regenerate papers/README.md, the README progress and notes/README.md from the data.

    Example: lab sync --check   (in a pre-commit hook or CI)    |    lab sync --repair
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.views import sync as do_sync

    ws = workspace()
    if check:
        from mllm_lab.ops.handedits import check as check_views

        found = check_views(ws)
        if found:
            output.result("\n".join(str(f) for f in found))
            raise typer.Exit(1)
        output.info(tr("cli.views_current"))
        return
    tx = do_sync(ws, force=force, repair=repair)
    output.warnings(ws.shown_findings())
    output.outcomes(tx.outcomes)
    if all(o.action in ("unchanged", "kept") for o in tx.outcomes):
        output.info(tr("cli.views_current"))


def status(json_output: Json = False) -> None:
    """Where you stand: progress per roadmap stage, what you are reading, this week, what's next.

    Example: lab status    |    lab status --json | jq .next
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.report import status as report

    ws = workspace()
    data = report(ws)
    if json_output:
        output.print_json(data)
        return
    output.show_status(data)


def list_(
    what: Annotated[
        str,
        typer.Argument(help="papers, notes, experiments or weeks.", autocompletion=values("list")),
    ],
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Papers only: unread, reading or read.",
            autocompletion=values("status"),
        ),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            help="Papers: reading-list topic; notes: category.",
            autocompletion=values("list_topic"),
        ),
    ] = None,
    stage: Stage = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    connector: Connector = None,
    encoder: Encoder = None,
    json_output: Json = False,
) -> None:
    """A table of papers, notes, experiments or weekly logs (JSON with --json).

    Example: lab list papers --status reading    |    lab list papers --connector q-former
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.report import Filters, shown_list

    ws = workspace()
    wanted = Filters(
        status=status, topic=topic, stage=stage, tag=tag, connector=connector, encoder=encoder
    )
    found = shown_list(ws, what, wanted, as_json=json_output)
    if json_output:
        output.print_json(found["items"])
        return
    from mllm_lab.models import Brief

    output.warnings(Brief(*found["warnings"]))
    if not found["count"]:
        output.info(tr("cli.no_match", what=what))
        return
    if found["rows"] and output.rich_table(found["rows"]):
        output.table(found["headers"], found["rows"])
    else:
        output.result(found["text"], checked=found.get("clean") is True)
