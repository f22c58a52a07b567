"""The `lab` command line: thin Typer commands over mllm_lab.ops."""

from __future__ import annotations


def main() -> None:
    from mllm_lab.cli.app import app

    app(prog_name="lab")
