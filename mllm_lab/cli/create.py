"""Commands that make files: lab init, lab new paper|concept|experiment, lab weekly."""

from pathlib import Path
from typing import Annotated

import typer

from mllm_lab.cli.common import (
    Arxiv,
    Authors,
    DryRun,
    Edit,
    Force,
    NewPaper,
    PaperKey,
    Slug,
    Stage,
    Tags,
    TitleOrKey,
    Topic,
    Venue,
    Year,
    editor_command,
    look_up,
    open_in_editor,
    show_created,
    split,
    workspace,
)
from mllm_lab.cli.complete import values
from mllm_lab.messages import tr


def init(
    path: Annotated[
        Path,
        typer.Argument(
            help="Folder for the lab (created if missing).", autocompletion=values("dir")
        ),
    ] = Path("."),
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="Language of templates and generated text: zh (default) or en.",
            autocompletion=values("lang"),
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The lab's name (README title).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List every file.")] = False,
    nested: Annotated[
        bool, typer.Option("--nested", help="Allow a lab inside another lab's folder.")
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="HEADING",
            help="In an existing README.md, put lab's progress block right after this heading "
            "(default: before License, Contributing… or at the end).",
        ),
    ] = None,
) -> None:
    """Create a lab: README with roadmap, CLAUDE.md, papers/, notes/, templates/…

    Safe to re-run: existing files are never changed.

    Example: lab init ~/mllm-notes --lang zh
    """
    from mllm_lab import messages
    from mllm_lab.cli import output
    from mllm_lab.ops.init import init_lab

    lab, outcomes = init_lab(path, lang, name, nested=nested, at=at)
    messages.use(lab.lang)
    # every file with --verbose; else files of the user's that lab changed; and always one
    # kept though it lacks something lab needs (a .gitattributes)
    output.outcomes(
        [
            o
            for o in outcomes
            if (o.detail if o.action in ("kept", "unchanged") else verbose or o.action == "updated")
        ],
        quiet_unchanged=False,
    )
    made = sum(o.action == "created" for o in outcomes)
    kept = sum(o.action == "kept" for o in outcomes)
    output.info(
        tr(
            "cli.init_done",
            root=lab.root,
            created=tr("cli.files_created", n=made),
            kept=tr("cli.files_kept", n=kept),
        )
    )
    output.info(tr("cli.init_next", root=lab.root))


def new_paper(
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
            help="unread, reading or read (default: reading, or as it was).",
            autocompletion=values("status"),
        ),
    ] = None,
    key: PaperKey = None,
    new: NewPaper = False,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write papers/<key>.md with metadata filled in; the paper becomes 📖 reading.

    Example: lab new paper blip-2    |    lab new paper "My Paper" --arxiv 2401.00001 --year 2024
    """
    from mllm_lab.ops.notes import new_paper as make
    from mllm_lab.ops.papers import PaperFacts

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
    editor = editor_command(edit)
    ws = workspace()
    fetched = look_up(ws, title_or_key)
    created = make(
        ws, title_or_key, facts, key=key, new=new, force=force, dry_run=dry_run, fetched=fetched
    )
    show_created(created, dry_run, editor)


def new_concept(
    title: Annotated[str, typer.Argument(help="The concept, e.g. 'Cross-Attention'.")],
    category: Annotated[
        str,
        typer.Option(
            "--category",
            "-c",
            help="fundamentals, vision-language, multimodal-arch, training or applications.",
            autocompletion=values("category"),
        ),
    ],
    tags: Tags = None,
    related: Annotated[
        str | None, typer.Option("--related", help="Comma-separated paths of related notes.")
    ] = None,
    stage: Annotated[
        int | None,
        typer.Option(
            "--stage",
            min=1,
            max=5,
            help="Roadmap stage 1-5 (default: from the category).",
            autocompletion=values("stage"),
        ),
    ] = None,
    slug: Slug = None,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write notes/<category>/<slug>.md, linked to related notes already in the lab.

    Example: lab new concept "Cross-Attention 在多模态模型中的作用" -c multimodal-arch --tags attention
    """
    from mllm_lab.ops.notes import new_concept as make

    editor = editor_command(edit)
    created = make(
        workspace(),
        title,
        category,
        tags=split(tags),
        related=split(related),
        stage=stage,
        slug=slug,
        force=force,
        dry_run=dry_run,
    )
    show_created(created, dry_run, editor)


def new_experiment(
    title: Annotated[str, typer.Argument(help="What the experiment tests.")],
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="attention, vit-patch, clip-loss, lora, bpe or skeleton (default: from the title).",
            autocompletion=values("experiment_kind"),
        ),
    ] = None,
    script: Annotated[
        bool, typer.Option("--script", help="Also write experiments/scripts/<slug>.py.")
    ] = False,
    slug: Slug = None,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write experiments/notebooks/<slug>.ipynb that runs on a CPU in under a minute: goal,
    data, model, training, plots, conclusion. The kind fits the title, or use --kind.

    Example: lab new experiment "Minimal CLIP contrastive loss" --script
    """
    from mllm_lab.ops.experiments import new_experiment as make

    editor = editor_command(edit)
    show_created(
        make(workspace(), title, kind=kind, script=script, slug=slug, force=force, dry_run=dry_run),
        dry_run,
        editor,
    )


def weekly(
    week: Annotated[
        str | None,
        typer.Option("--week", help="ISO week, e.g. 2026-W48.", autocompletion=values("week")),
    ] = None,
    on: Annotated[
        str | None, typer.Option("--date", help="Any day of the week, YYYY-MM-DD.")
    ] = None,
    edit: Edit = False,
    dry_run: DryRun = False,
) -> None:
    """Write weekly-log/YYYY-WXX.md with "done this week" filled in from the lab.

    Re-running refreshes only that list and keeps everything you wrote.

    Example: lab weekly    |    lab weekly --date 2027-01-01   (-> 2026-W53)
    """
    from mllm_lab.core.weeks import pick_week
    from mllm_lab.ops.weekly import weekly as make

    ws = workspace()
    editor = editor_command(edit)
    created = make(ws, pick_week(week, on, ws.today), dry_run=dry_run)
    if dry_run:
        show_created(created, True, None)
        return
    from mllm_lab.cli import output

    output.warnings(ws.shown_findings())
    output.outcomes(created.outcomes, quiet_unchanged=False)
    if editor:
        open_in_editor(editor, ws.lab.root, created.path)
