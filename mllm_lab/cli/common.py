"""What every command shares: the group that turns errors into one line, the session's lab and
language, the options several commands take, and the output of a created note. Command
modules import this module; mllm_lab.cli.app imports the command modules (only the one a
line names) and registers them, so nothing imports in a circle."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from mllm_lab import messages
from mllm_lab.cli.complete import values
from mllm_lab.errors import BadInput, LabError
from mllm_lab.messages import tr

SETTINGS = {"help_option_names": ["-h", "--help"]}
ROOT: dict[str, str | None] = {"root": None}
GLOBAL_OPTIONS = ("--root",)  # accepted before or after the subcommand
# The workspaces commands opened, kept until the process ends (mllm_lab.cli.main ends it
# without freeing them: a 50,000-note lab is some 2 million objects, 100 ms to free).
OPENED: list[Any] = []


def _is_text(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(argument: str) -> str:
    """An argument with bytes that are not UTF-8, shown as the bytes they were."""
    raw = argument.encode("utf-8", "surrogateescape" if _escaped(argument) else "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def _escaped(argument: str) -> bool:
    """Undecodable bytes from the command line come as \\udc80-\\udcff (surrogateescape)."""
    return all(not 0xD800 <= ord(ch) <= 0xDFFF or 0xDC80 <= ord(ch) <= 0xDCFF for ch in argument)


def hoist_globals(args: list[str]) -> list[str]:
    """`lab status --root X` as `lab --root X status`: global options anywhere on the line
    (after `--`, everything is an argument)."""
    front: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_OPTIONS and rest:
            front.append(arg)
            if "=" not in arg and index + 1 < len(args):
                front.append(args[index + 1])
                index += 1
        else:
            rest.append(arg)
        index += 1
    return front + rest


def session_language(args: list[str]) -> None:
    """Speak the lab's language from the first message on, even before the lab is opened."""
    from mllm_lab.lab import Lab

    root = next((a.split("=", 1)[1] for a in args if a.startswith("--root=")), None)
    if root is None and "--root" in args and args.index("--root") + 1 < len(args):
        root = args[args.index("--root") + 1]
    try:
        messages.use(Lab.find(root).lang)
    except (LabError, OSError, ValueError):
        messages.use(messages.default_lang())


class LabGroup(TyperGroup):
    """Turns every user error into one line on stderr and exit 1: never a traceback."""

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        if parent is None:
            args = hoist_globals(list(args))
            session_language(args)
        for number, argument in enumerate(args, start=1):
            if isinstance(argument, str) and not _is_text(argument):
                fail(tr("error.argument_not_utf8", number=number, shown=_shown(argument)), 2)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LabError as problem:
            fail(str(problem), problem.exit_code)
        except BrokenPipeError:
            raise
        except OSError as problem:
            where = f"{problem.filename}: " if problem.filename else ""
            fail(f"{where}{problem.strerror or problem}", 1)
        except KeyboardInterrupt:
            fail(tr("error.interrupted"), 130)
        except Exception as problem:  # a bug in lab, or one of Typer's own exits
            if type(problem).__module__.startswith(("typer", "click")):
                if getattr(problem, "exit_code", None) == 2 and hasattr(problem, "format_message"):
                    path = getattr(getattr(problem, "ctx", None), "command_path", "lab")
                    where = " ".join(["lab", *path.split()[1:]])  # as typed, whatever argv[0]
                    from mllm_lab.messages.usage import translate  # only for a usage error

                    text = translate(problem.format_message().rstrip("."), messages.current())
                    fail(tr("error.usage", problem=text, where=where), 2)
                raise
            if os.environ.get("LAB_DEBUG"):
                raise
            fail(tr("error.internal", problem=f"{type(problem).__name__}: {problem}"), 70)


def fail(message: str, code: int) -> NoReturn:
    from mllm_lab.cli import output

    output.error(message)
    raise typer.Exit(code)


def group(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=LabGroup, context_settings=SETTINGS, no_args_is_help=True, help=help_text
    )


def workspace() -> Any:
    from mllm_lab.cli import output
    from mllm_lab.ops.workspace import Workspace

    ws = Workspace.open(ROOT["root"])
    messages.use(ws.lang)
    for notice in ws.notices:
        output.warn(notice)
    OPENED.append(ws)  # see OPENED
    return ws


def look_up(ws: Any, query: str) -> Any:
    """arXiv's facts for an id or URL nobody knows yet (ops/lookup.py), said in one line."""
    from mllm_lab.cli import output
    from mllm_lab.ops.lookup import fetch

    fetched = fetch(ws, query)
    if fetched is not None:
        (output.info if fetched.found else output.warn)(fetched.notice)
    return fetched


def split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


# --- options several commands share -------------------------------------------------------

DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Print the note and its path; write nothing.")
]
Force = Annotated[
    bool,
    typer.Option("--force", help="Write an existing file anew (the old one goes to .lab-trash/)."),
]
Edit = Annotated[bool, typer.Option("--edit", "-e", help="Open the new file in $VISUAL / $EDITOR.")]
Slug = Annotated[
    str | None, typer.Option("--slug", help="File name (ASCII) instead of one made from the title.")
]
PaperKey = Annotated[
    str | None,
    typer.Option("--key", help="The paper's key (and file name) instead of one made for it."),
]
NewPaper = Annotated[
    bool,
    typer.Option(
        "--new", help="It is really a new paper, though its name is close to a known one."
    ),
]
Tags = Annotated[str | None, typer.Option("--tags", help="Comma-separated tags.")]
Connector = Annotated[
    str | None,
    typer.Option(
        "--connector",
        help='A connector of the vocabulary, or part of one: Q-Former, "MLP (2-layer)", mlp.',
        autocompletion=values("connector"),
    ),
]
Encoder = Annotated[
    str | None, typer.Option("--encoder", help="Part of the vision encoder: SigLIP, CLIP.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TitleOrKey = Annotated[
    str,
    typer.Argument(
        help="Catalog key (blip-2), arXiv id or title.", autocompletion=values("any_paper")
    ),
]
Arxiv = Annotated[str | None, typer.Option("--arxiv", help="arXiv id, e.g. 2301.12597.")]
Authors = Annotated[str | None, typer.Option("--authors", help="Comma-separated authors.")]
Year = Annotated[int | None, typer.Option("--year")]
Venue = Annotated[str | None, typer.Option("--venue", help="e.g. 'ICML 2023'.")]
Topic = Annotated[
    str | None,
    typer.Option(
        "--topic",
        help="Reading-list group: a roadmap topic (multimodal, vla…) or your own (letters, "
        "digits and -).",
        autocompletion=values("topic"),
    ),
]
Stage = Annotated[
    int | None,
    typer.Option(
        "--stage", min=1, max=5, help="Roadmap stage 1-5.", autocompletion=values("stage")
    ),
]


# --- a created note -------------------------------------------------------------------------


def show_created(result: Any, dry_run: bool, editor: list[str] | None) -> None:
    from mllm_lab.cli import output

    if dry_run:
        output.outcomes([o for o in result.outcomes if o.action == "exists"])
        output.info(tr("cli.dry_run", path=result.path))
        output.result(result.text)
        for path, text in (result.extra or {}).items():
            output.info(tr("cli.dry_run", path=path))
            output.result(text)
        return
    output.outcomes([o for o in result.outcomes if o.path != result.path or o.detail])
    output.result(result.path)
    if editor:
        open_in_editor(editor, workspace().lab.root, result.path)


def editor_command(edit: bool) -> list[str] | None:
    """The command of $VISUAL or $EDITOR, checked before anything is written (None: no --edit)."""
    import shlex

    from mllm_lab.cli import output

    if not edit:
        return None
    name = "VISUAL" if os.environ.get("VISUAL") else "EDITOR"
    editor = os.environ.get(name)
    if not editor:
        output.warn(tr("cli.no_editor"))
        return None
    try:
        command = shlex.split(editor)
    except ValueError as problem:
        raise BadInput(
            "error.editor_quote", name=name, value=repr(editor), problem=str(problem)
        ) from None
    if not command:
        raise BadInput("error.editor_blank", name=name)
    return command


def open_in_editor(command: list[str], root: Path, relative: str) -> None:
    """The new file in the user's editor. It is written already: an editor that fails (`:cq`
    in vim) or removes the file is said, and the command exits 1, not 0."""
    import subprocess

    path = root / relative
    try:
        code = subprocess.call([*command, str(path)])
    except OSError as problem:
        raise BadInput(
            "error.editor_run", command=repr(command[0]), problem=problem.strerror
        ) from None
    if not path.exists():
        raise BadInput("error.editor_removed", command=repr(command[0]), path=relative)
    if code != 0:
        raise BadInput("error.editor_failed", command=repr(command[0]), code=code, path=relative)
