"""The `lab` application: the root group, its subgroups, and every command registered in one
place. The commands themselves live in create.py, track.py and study.py; each parses its
options, calls one function in mllm_lab.ops and hands the result to cli.output."""

from typing import Annotated

import typer

from mllm_lab import __version__
from mllm_lab.cli import compare, create, shell, study, track
from mllm_lab.cli.common import ROOT, SETTINGS, LabGroup, group

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
app.add_typer(new_app, name="new")
app.add_typer(add_app, name="add")


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
app.command()(study.check)
app.command("next")(study.next_)
app.command()(shell.alias)
app.command()(compare.catalog)
app.command()(compare.compare)
