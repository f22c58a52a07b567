"""The `lab` application: the root group, its subgroups, and every command registered in one
place. The commands themselves live in create.py, track.py, study.py, quiz.py and
exchange.py; each parses its options, calls one function in mllm_lab.ops and hands the
result to cli.output."""

import copy
from collections.abc import Callable
from typing import Annotated

import typer
from typer.main import get_command_name
from typer.models import CommandInfo, TyperInfo

from mllm_lab import __version__
from mllm_lab.cli import compare, create, exchange, quiz, shell, study, track
from mllm_lab.cli.common import GLOBAL_OPTIONS, ROOT, SETTINGS, LabGroup, group, hoist_globals

app = typer.Typer(
    cls=LabGroup,
    context_settings=SETTINGS,
    no_args_is_help=True,
    add_completion=False,  # `lab alias` prints completion that never offers files for values
    help="lab: your multimodal-LLM study lab — notes, papers, progress.\n\n"
    "Example: lab new paper blip-2 && lab mark blip-2 read && lab status",
    rich_markup_mode=None,
)
new_app = group("Create a note from a template.\n\nExample: lab new paper blip-2")
add_app = group("Put something on a list without a note.\n\nExample: lab add paper dpo")
export_app = group(
    "Write the lab's papers or cards in another tool's format.\n\n"
    "Example: lab export bibtex --status read -o refs.bib"
)
import_app = group("Bring papers in from another tool.\n\nExample: lab import bibtex refs.bib")
app.add_typer(new_app, name="new")
app.add_typer(add_app, name="add")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")


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
            metavar="PATH",
            help="The lab's folder (default: search upward; or $LAB_ROOT). Anywhere on the line.",
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


app.command()(create.init)
new_app.command("paper")(create.new_paper)
new_app.command("concept")(create.new_concept)
new_app.command("experiment")(create.new_experiment)
app.command()(create.weekly)
add_app.command("paper")(track.add_paper)
app.command()(track.mark)
app.command()(track.sync)
app.command()(track.status)
app.command("list")(track.list_)
app.command()(study.prompt)
app.command()(study.review)
app.command()(study.related)
app.command()(study.check)
app.command("next")(study.next_)
app.command()(shell.alias)
app.command()(compare.catalog)
app.command()(compare.compare)
app.command()(quiz.quiz)
export_app.command("anki")(exchange.export_anki)
export_app.command("bibtex")(exchange.export_bibtex)
import_app.command("bibtex")(exchange.import_bibtex)


def for_line(args: list[str]) -> typer.Typer:
    """The app with only the command the line names. Typer builds the parser of every
    registered command before it runs one (10 ms for lab's 25, a tenth of a warm `lab status`),
    so a line that names a command exactly gets an app that holds that command alone. A line
    that names none, or names one wrongly, gets the whole app: its help, its "No such command"."""
    line = hoist_globals(list(args))
    name = _command_word(line)
    if name is None:
        return _listing() if _asks_for_root_help(line) else app
    commands = [c for c in app.registered_commands if _name_of(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def _asks_for_root_help(line: list[str]) -> bool:
    """`lab`, `lab -h`, `lab --help`, with or without `--root PATH` before."""
    if not line:
        return True
    if line[:1] == ["--root"]:
        line = line[2:]
    elif line[0].startswith("--root="):
        line = line[1:]
    return line in (["-h"], ["--help"])


def _listing() -> typer.Typer:
    """The app as `lab --help` shows it: each command by its name and help alone, no parser
    built from its options (they are not shown there)."""
    listing = copy.copy(app)
    listing.registered_commands = [
        CommandInfo(
            name=_name_of(command),
            callback=_stub(command),
            help=command.help,
            short_help=command.short_help,
            hidden=command.hidden,
            deprecated=command.deprecated,
            context_settings=command.context_settings,
        )
        for command in app.registered_commands
    ]
    listing.registered_groups = [
        TyperInfo(
            typer.Typer(cls=LabGroup, help=group.typer_instance.info.help),
            name=group.name,
        )
        for group in app.registered_groups
        if group.typer_instance is not None
    ]
    return listing


def _stub(command: CommandInfo) -> Callable[[], None]:
    def stub() -> None:  # never run: the listing only shows help
        raise AssertionError

    stub.__doc__ = command.callback.__doc__ if command.callback else None
    return stub


def _command_word(args: list[str]) -> str | None:
    """The line's first word that is not a global option or its value; None when an option
    (`--help`, `-V`, a typo) comes first."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in GLOBAL_OPTIONS:
            index += 2
        elif arg.split("=", 1)[0] in GLOBAL_OPTIONS:
            index += 1
        else:
            return None if arg.startswith("-") else arg
    return None


def _name_of(command: CommandInfo) -> str:
    if command.name:
        return command.name
    return get_command_name(command.callback.__name__) if command.callback else ""
