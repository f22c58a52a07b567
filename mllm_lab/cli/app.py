"""The `lab` application: the root group, its subgroups, and every command registered in one
place. The commands themselves live in create.py, track.py, study.py, quiz.py and
exchange.py; each parses its options, calls one function in mllm_lab.ops and hands the
result to cli.output."""

import copy
from typing import Annotated

import typer
from typer.main import get_command_name
from typer.models import CommandInfo

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
    name = _command_word(hoist_globals(list(args)))
    if name is None:
        return app
    commands = [c for c in app.registered_commands if _name_of(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


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
