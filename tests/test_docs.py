"""Every command has short help with an example, and the README names every command."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from mllm_lab.cli.app import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    found = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found += [[name, sub] for sub in subcommands]
        else:
            found.append([name])
    return found


def test_there_are_the_commands_the_issues_ask_for() -> None:
    names = {" ".join(c) for c in commands()}
    assert {
        "init",
        "new paper",
        "new concept",
        "new experiment",
        "weekly",
        "add paper",
        "mark",
        "sync",
        "status",
        "list",
        "prompt",
        "review",
        "check",
        "next",
        "catalog",
        "compare",
    } <= names


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    runner = CliRunner()
    for command in commands():
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, command
        assert "Example:" in result.output, command
        assert f"`lab {' '.join(command)}" in README, command
