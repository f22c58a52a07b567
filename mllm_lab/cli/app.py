"""Commands. Each parses its options, calls one function in mllm_lab.ops and hands the result
to cli.output; heavy modules are imported inside the command that needs them."""

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from mllm_lab import __version__
from mllm_lab.errors import BadInput, LabError


class LabGroup(TyperGroup):
    """Turns every user error into one line on stderr and exit 1: never a traceback."""

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        for number, argument in enumerate(args, start=1):
            if isinstance(argument, str) and not _is_text(argument):
                shown = argument.encode(
                    "utf-8", "surrogateescape" if _escaped(argument) else "backslashreplace"
                )
                _fail(
                    f"argument {number} ({shown.decode('utf-8', 'backslashreplace')}) is not valid UTF-8 text",
                    2,
                )
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LabError as problem:
            _fail(str(problem), problem.exit_code)
        except BrokenPipeError:
            raise
        except OSError as problem:
            where = f"{problem.filename}: " if problem.filename else ""
            _fail(f"{where}{problem.strerror or problem}", 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as problem:  # a bug in lab, not the user's mistake
            if type(problem).__module__.startswith(("typer", "click")):
                if getattr(problem, "exit_code", None) == 2 and hasattr(problem, "format_message"):
                    where = getattr(getattr(problem, "ctx", None), "command_path", "lab")
                    _fail(f"{problem.format_message().rstrip('.')} (see `{where} -h`)", 2)
                raise  # Typer's own exits
            import os

            if os.environ.get("LAB_DEBUG"):
                raise
            _fail(
                f"internal error ({type(problem).__name__}: {problem}); please report it, "
                "with the command; LAB_DEBUG=1 shows the traceback",
                70,
            )


def _is_text(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _escaped(argument: str) -> bool:
    """Undecodable bytes from the command line come as \udc80-\udcff (surrogateescape)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in argument)


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
# A paper's facts, for `new paper` and `add paper` (the catalog fills them for known papers).
TitleOrKey = Annotated[str, typer.Argument(help="Catalog key (blip-2), arXiv id or title.")]
Arxiv = Annotated[str | None, typer.Option("--arxiv", help="arXiv id, e.g. 2301.12597.")]
Authors = Annotated[str | None, typer.Option("--authors", help="Comma-separated authors.")]
Year = Annotated[int | None, typer.Option("--year")]
Venue = Annotated[str | None, typer.Option("--venue", help="e.g. 'ICML 2023'.")]
Topic = Annotated[
    str | None,
    typer.Option(
        "--topic",
        help="Reading-list group: foundation, llm-arch, multimodal, training, reasoning-eval, vla, or your own.",
    ),
]
Stage = Annotated[int | None, typer.Option("--stage", help="Roadmap stage 1-5.")]


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
            metavar="PATH",
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


def _created(created: Any, dry_run: bool, editor: list[str] | None) -> None:
    from mllm_lab.cli import output

    if dry_run:
        output.info(f"{created.path} (dry run: nothing written)")
        output.result(created.text)
        for path, text in (created.extra or {}).items():
            output.info(f"{path} (dry run: nothing written)")
            output.result(text)
        return
    output.outcomes([o for o in created.outcomes if o.path != created.path or o.detail])
    output.result(created.path)
    if editor:
        open_in_editor(editor, workspace().lab.root / created.path)


def editor_command(edit: bool) -> list[str] | None:
    """The command of $VISUAL or $EDITOR, checked before anything is written (None: no --edit)."""
    import os
    import shlex

    from mllm_lab.cli import output

    if not edit:
        return None
    name = "VISUAL" if os.environ.get("VISUAL") else "EDITOR"
    editor = os.environ.get(name)
    if not editor:
        output.warn("--edit: set $VISUAL or $EDITOR to open the new file")
        return None
    try:
        command = shlex.split(editor)
    except ValueError as problem:
        raise BadInput(f"${name}={editor!r}: {problem}") from None
    if not command:
        raise BadInput(f"${name} is blank")
    return command


def open_in_editor(command: list[str], path: Path) -> None:
    import subprocess

    try:
        subprocess.call([*command, str(path)])
    except OSError as problem:
        raise BadInput(f"cannot run the editor {command[0]!r} ({problem.strerror})") from None


# The commands live in modules by group; importing them registers them on `app`.
from mllm_lab.cli import create  # noqa: E402, F401

# isort: split
from mllm_lab.cli import track  # noqa: E402, F401

# isort: split
from mllm_lab.cli import study  # noqa: E402, F401
