"""Commands. Each parses its options, calls one function in mllm_lab.ops and hands the result
to cli.output; heavy modules are imported inside the command that needs them."""

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from mllm_lab import __version__
from mllm_lab.errors import LabError


class LabGroup(TyperGroup):
    """Turns every user error into one line on stderr and exit 1: never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LabError as problem:
            _fail(str(problem), problem.exit_code)
        except OSError as problem:
            where = f"{problem.filename}: " if problem.filename else ""
            _fail(f"{where}{problem.strerror or problem}", 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)


def _fail(message: str, code: int) -> NoReturn:
    from mllm_lab.cli import output

    output.error(message)
    raise typer.Exit(code)


SETTINGS = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    cls=LabGroup,
    context_settings=SETTINGS,
    no_args_is_help=True,
    add_completion=True,
    help="lab: your multimodal-LLM study lab — notes, papers, progress.\n\n"
    "Example: lab new paper blip-2 && lab mark blip-2 read && lab status",
    rich_markup_mode=None,
)
new_app = typer.Typer(
    cls=LabGroup,
    context_settings=SETTINGS,
    no_args_is_help=True,
    help="Create a note from a template.\n\nExample: lab new paper blip-2",
)
add_app = typer.Typer(
    cls=LabGroup,
    context_settings=SETTINGS,
    no_args_is_help=True,
    help="Put something on a list without a note.\n\nExample: lab add paper dpo",
)
app.add_typer(new_app, name="new")
app.add_typer(add_app, name="add")

ROOT: dict[str, str | None] = {"root": None}

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the note and its path; write nothing.")
]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")]
Edit = Annotated[bool, typer.Option("--edit", "-e", help="Open the new file in $VISUAL / $EDITOR.")]
Slug = Annotated[
    str | None, typer.Option("--slug", help="File name (ASCII) instead of one made from the title.")
]
Tags = Annotated[str | None, typer.Option("--tags", help="Comma-separated tags.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lab (mllm-lab) {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    root: Annotated[
        str | None,
        typer.Option(
            "--root",
            help="The lab's folder (default: search upward; or $LAB_ROOT).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """lab: your multimodal-LLM study lab."""
    ROOT["root"] = root


def workspace() -> Any:
    from mllm_lab.ops.workspace import Workspace

    return Workspace.open(ROOT["root"])


def _created(created: Any, dry_run: bool, edit: bool) -> None:
    from mllm_lab.cli import output

    if dry_run:
        output.info(f"{created.path} (dry run: nothing written)")
        output.result(created.text)
        for path, text in (created.extra or {}).items():
            output.info(f"{path} (dry run: nothing written)")
            output.result(text)
        return
    output.outcomes(created.outcomes[1:])
    output.result(created.path)
    if edit:
        _open_in_editor(workspace().lab.root / created.path)


def _open_in_editor(path: Path) -> None:
    import os
    import shlex
    import subprocess

    from mllm_lab.cli import output

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        output.warn("--edit: set $VISUAL or $EDITOR to open the new file")
        return
    subprocess.call([*shlex.split(editor), str(path)])


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder for the lab (created if missing).")] = Path(
        "."
    ),
    lang: Annotated[
        str, typer.Option("--lang", help="Language of templates and generated text: zh or en.")
    ] = "zh",
    name: Annotated[
        str | None, typer.Option("--name", help="The lab's name (README title).")
    ] = None,
) -> None:
    """Create a lab: README with roadmap, CLAUDE.md, papers/, notes/, templates/…

    Safe to re-run: existing files are never changed.

    Example: lab init ~/mllm-notes --lang zh
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.init import init_lab

    lab, outcomes = init_lab(path, lang, name)
    output.outcomes(outcomes)
    kept = [o.path for o in outcomes if o.action == "kept"]
    made = sum(o.action == "created" for o in outcomes)
    output.info(
        f"lab at {lab.root}: {made} files created, {len(kept)} existing files left as they were"
    )


@new_app.command("paper")
def new_paper(
    title_or_key: Annotated[str, typer.Argument(help="Catalog key (blip-2), arXiv id or title.")],
    arxiv: Annotated[str | None, typer.Option("--arxiv", help="arXiv id, e.g. 2301.12597.")] = None,
    authors: Annotated[
        str | None, typer.Option("--authors", help="Comma-separated authors.")
    ] = None,
    year: Annotated[int | None, typer.Option("--year")] = None,
    venue: Annotated[str | None, typer.Option("--venue", help="e.g. 'ICML 2023'.")] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            help="Reading-list group: foundation, llm-arch, multimodal, training, reasoning-eval, vla, or your own.",
        ),
    ] = None,
    stage: Annotated[int | None, typer.Option("--stage", help="Roadmap stage 1-5.")] = None,
    tags: Tags = None,
    status: Annotated[str, typer.Option("--status", help="unread, reading or read.")] = "reading",
    slug: Slug = None,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write papers/<key>.md with metadata filled in; the paper becomes 📖 reading.

    Example: lab new paper blip-2    |    lab new paper "My Paper" --arxiv 2401.00001 --year 2024
    """
    from mllm_lab.ops.notes import new_paper as make
    from mllm_lab.ops.papers import PaperFacts

    facts = PaperFacts(arxiv, authors, year, venue, topic, stage, tags, status)
    _created(
        make(workspace(), title_or_key, facts, slug=slug, force=force, dry_run=dry_run),
        dry_run,
        edit,
    )


@new_app.command("concept")
def new_concept(
    title: Annotated[str, typer.Argument(help="The concept, e.g. 'Cross-Attention'.")],
    category: Annotated[
        str,
        typer.Option(
            "--category",
            "-c",
            help="fundamentals, vision-language, multimodal-arch, training or applications.",
        ),
    ],
    tags: Tags = None,
    related: Annotated[
        str | None, typer.Option("--related", help="Comma-separated paths of related notes.")
    ] = None,
    stage: Annotated[
        int | None, typer.Option("--stage", help="Roadmap stage 1-5 (default: from the category).")
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
    _created(created, dry_run, edit)


@new_app.command("experiment")
def new_experiment(
    title: Annotated[str, typer.Argument(help="What the experiment tests.")],
    script: Annotated[
        bool, typer.Option("--script", help="Also write experiments/scripts/<slug>.py.")
    ] = False,
    slug: Slug = None,
    edit: Edit = False,
    force: Force = False,
    dry_run: DryRun = False,
) -> None:
    """Write experiments/notebooks/<slug>.ipynb: goal, data, model, training, plots, conclusion.

    Example: lab new experiment "Minimal CLIP contrastive loss" --script
    """
    from mllm_lab.ops.notes import new_experiment as make

    _created(
        make(workspace(), title, script=script, slug=slug, force=force, dry_run=dry_run),
        dry_run,
        edit,
    )


@app.command()
def weekly(
    week: Annotated[str | None, typer.Option("--week", help="ISO week, e.g. 2026-W48.")] = None,
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
    from mllm_lab.ops.notes import weekly as make

    ws = workspace()
    created = make(ws, pick_week(week, on, ws.today), dry_run=dry_run)
    if dry_run:
        _created(created, True, False)
        return
    from mllm_lab.cli import output

    output.warnings(ws.data().findings)
    output.outcomes(created.outcomes, quiet_unchanged=False)
    if edit:
        _open_in_editor(ws.lab.root / created.path)


@add_app.command("paper")
def add_paper(
    title_or_key: Annotated[str, typer.Argument(help="Catalog key, arXiv id or title.")],
    arxiv: Annotated[str | None, typer.Option("--arxiv")] = None,
    authors: Annotated[str | None, typer.Option("--authors")] = None,
    year: Annotated[int | None, typer.Option("--year")] = None,
    venue: Annotated[str | None, typer.Option("--venue")] = None,
    topic: Annotated[str | None, typer.Option("--topic")] = None,
    stage: Annotated[int | None, typer.Option("--stage")] = None,
    tags: Tags = None,
    status: Annotated[
        str | None, typer.Option("--status", help="unread (default), reading or read.")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="Key for a paper not in the catalog.")
    ] = None,
) -> None:
    """Put a paper on the reading list as ⬜ unread, without writing a note.

    Example: lab add paper dpo    |    lab add paper 2305.18290
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.papers import PaperFacts
    from mllm_lab.ops.papers import add_paper as add

    facts = PaperFacts(arxiv, authors, year, venue, topic, stage, tags, status)
    ws = workspace()
    paper, outcomes, added = add(ws, title_or_key, facts, key)
    output.warnings(ws.data().findings)
    output.outcomes(outcomes)
    if added:
        output.info(f"{paper.status.emoji} {paper.key}: {paper.title}")
    else:
        output.info(f"already in the lab: {paper.status.emoji} {paper.key}: {paper.title}")


@app.command()
def mark(
    key: Annotated[str, typer.Argument(help="Key, arXiv id or title (a unique prefix is enough).")],
    status: Annotated[str, typer.Argument(help="unread, reading or read (or ⬜ 📖 ✅).")],
) -> None:
    """Change a paper's status and dates, and update every table that shows it.

    Example: lab mark blip-2 read
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.papers import mark as do_mark

    ws = workspace()
    marked = do_mark(ws, key, status)
    output.warnings(ws.data().findings)
    output.outcomes(marked.outcomes)
    before, after = marked.before, marked.after
    if before == after:
        output.info(f"{after.key} is already {after.status.emoji} {after.status.value}")
    else:
        output.info(
            f"{after.key}: {before.status.emoji} {before.status.value} -> {after.status.emoji} {after.status.value}"
        )


@app.command()
def sync(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 and name each stale file.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Regenerate regions edited by hand (a backup goes to .lab/backup/)."
        ),
    ] = False,
) -> None:
    """Regenerate papers/README.md, the README progress and notes/README.md from the data.

    Example: lab sync --check   (in a pre-commit hook or CI)
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.views import sync as do_sync

    ws = workspace()
    outcomes = do_sync(ws, check=check, force=force)
    output.warnings(ws.data().findings)
    if check:
        for outcome in outcomes:
            output.info(
                f"{outcome.path}: stale{' (' + outcome.detail + ')' if outcome.detail else ''}; run `lab sync`"
            )
        if outcomes:
            raise typer.Exit(1)
        output.info("all views are up to date")
        return
    output.outcomes(outcomes)
    if all(o.action == "unchanged" for o in outcomes):
        output.info("all views are up to date")


@app.command()
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


@app.command("list")
def list_(
    what: Annotated[str, typer.Argument(help="papers, notes, experiments or weeks.")],
    status: Annotated[
        str | None, typer.Option("--status", help="Papers only: unread, reading or read.")
    ] = None,
    topic: Annotated[
        str | None, typer.Option("--topic", help="Papers: reading-list topic; notes: category.")
    ] = None,
    stage: Annotated[int | None, typer.Option("--stage", help="Roadmap stage 1-5.")] = None,
    tag: Annotated[str | None, typer.Option("--tag")] = None,
    json_output: Json = False,
) -> None:
    """A table of papers, notes, experiments or weekly logs (JSON with --json).

    Example: lab list papers --status reading    |    lab list notes --stage 3 --json
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.report import Filters, listing

    ws = workspace()
    found = listing(ws, what, Filters(status, topic, stage, tag))
    if json_output:
        output.print_json(found.items)
        return
    output.warnings(ws.data().findings)
    if not found.rows:
        output.info(f"no {what} match")
        return
    output.table(found.headers, found.rows)


@app.command()
def prompt(
    kind: Annotated[
        str, typer.Argument(help="init, paper, concept, experiment, weekly or review.")
    ],
    target: Annotated[
        str | None,
        typer.Argument(help="paper: key; concept: note or new title; experiment: topic."),
    ] = None,
    week: Annotated[
        str | None, typer.Option("--week", help="weekly: ISO week, e.g. 2026-W48.")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", "-c", help="concept: category of a new note.")
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
        ws, kind, target, week=parse_week(week) if week else None, category=category
    )
    output.result(text)
    if copy:
        tool = output.copy_to_clipboard(text)
        if tool:
            output.info(f"copied to the clipboard ({tool})")
        else:
            output.warn("--copy: no clipboard tool found (pbcopy, wl-copy, xclip, xsel, clip.exe)")
    if not no_log:
        if kind == "weekly":
            from mllm_lab.models import Week

            target = (parse_week(week) if week else Week.of(ws.today)).name
        log_prompt(ws, kind, target)


@app.command()
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
    from mllm_lab.ops.review import review as make

    ws = workspace()
    start = parse_date(since, "--since date") if since else None
    _created(make(ws, since=start, seed=seed, force=force, dry_run=dry_run), dry_run, edit)


@app.command()
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
            [{"path": f.path, "line": f.line, "message": f.message} for f in findings]
        )
    elif findings:
        output.result("\n".join(str(f) for f in findings))
        output.info(f"{len(findings)} problems")
    else:
        output.info("no problems found")
    if findings:
        raise typer.Exit(1)


@app.command("next")
def next_(count: Annotated[int, typer.Option("--count", "-n", help="How many steps.")] = 5) -> None:
    """The best next steps in roadmap order, one a line, with why.

    Example: lab next -n 3
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.review import steps

    found = steps(workspace(), count)
    if not found:
        output.info("nothing left on the roadmap: every paper is read and every topic has a note")
        return
    output.result(
        "\n".join(f"{number}. {step.what} — {step.why}" for number, step in enumerate(found, 1))
    )
