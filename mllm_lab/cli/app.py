"""The `lab` application: the root group, its subgroups, and every command registered in one
place. The commands themselves live in create.py, track.py, study.py, quiz.py and
exchange.py; each parses its options, calls one function in mllm_lab.ops and hands the
result to cli.output."""

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.main import get_command_name
from typer.models import CommandInfo, TyperInfo

from mllm_lab import __version__
from mllm_lab.cli.common import GLOBAL_OPTIONS, ROOT, SETTINGS, LabGroup, group, hoist_globals

GROUPS = (
    ("new", "Create a note from a template.\n\nExample: lab new paper blip-2"),
    ("add", "Put something on a list without a note.\n\nExample: lab add paper dpo"),
    (
        "export",
        "Write the lab's papers or cards in another tool's format.\n\n"
        "Example: lab export bibtex --status read -o refs.bib",
    ),
    ("import", "Bring papers in from another tool.\n\nExample: lab import bibtex refs.bib"),
)
# (group, command, module in mllm_lab.cli, function), in the order `lab --help` lists them.
COMMANDS = (
    (None, "init", "create", "init"),
    ("new", "paper", "create", "new_paper"),
    ("new", "concept", "create", "new_concept"),
    ("new", "experiment", "create", "new_experiment"),
    (None, "weekly", "create", "weekly"),
    ("add", "paper", "track", "add_paper"),
    (None, "mark", "track", "mark"),
    (None, "sync", "track", "sync"),
    (None, "status", "track", "status"),
    (None, "list", "track", "list_"),
    (None, "prompt", "study", "prompt"),
    (None, "review", "study", "review"),
    (None, "related", "study", "related"),
    (None, "check", "study", "check"),
    (None, "next", "study", "next_"),
    (None, "alias", "shell", "alias"),
    (None, "catalog", "compare", "catalog"),
    (None, "compare", "compare", "compare"),
    (None, "quiz", "quiz", "quiz"),
    ("export", "anki", "exchange", "export_anki"),
    ("export", "bibtex", "exchange", "export_bibtex"),
    ("import", "bibtex", "exchange", "import_bibtex"),
)
WORDS = {group_name or name for group_name, name, _module, _function in COMMANDS}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lab (mllm-lab) {__version__}")
        raise typer.Exit()


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


def _made(only: str | None = None) -> typer.Typer:
    """The app with every command, or with only the command or group named `only`: only
    its module is imported (the others' imports are a few milliseconds of every command)."""
    made = typer.Typer(
        cls=LabGroup,
        context_settings=SETTINGS,
        no_args_is_help=True,
        add_completion=False,  # `lab alias` prints completion that never offers files for values
        help="lab: your multimodal-LLM study lab — notes, papers, progress.\n\n"
        "Example: lab new paper blip-2 && lab mark blip-2 read && lab status",
        rich_markup_mode=None,
    )
    made.callback()(main)
    groups = {}
    for name, help_text in GROUPS:
        if only in (None, name):
            groups[name] = group(help_text)
            made.add_typer(groups[name], name=name)
    for group_name, name, module, function in COMMANDS:
        if only in (None, group_name or name):
            callback = getattr(import_module(f"mllm_lab.cli.{module}"), function)
            (groups[group_name] if group_name else made).command(name)(callback)
    return made


@cache
def whole() -> typer.Typer:
    """The app with every command: for help, a line that names none, and the tests."""
    return _made()


def __getattr__(name: str) -> Any:
    if name == "app":
        return whole()
    raise AttributeError(name)


def for_line(args: list[str]) -> typer.Typer:
    """The app with only the command the line names. Typer builds the parser of every
    registered command before it runs one (10 ms for lab's 25, a tenth of a warm `lab status`),
    and their modules take a few milliseconds more to import, so a line that names a command
    exactly gets an app that holds that command alone. A line that names none, or names one
    wrongly, gets the whole app: its help, its "No such command"."""
    line = hoist_globals(list(args))
    name = _command_word(line)
    if name is None:
        return _listing() if _asks_for_root_help(line) else whole()
    return _made(only=name) if name in WORDS else whole()


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
    app = whole()
    listing = _made(only="")  # the root alone: its name, help and options
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
