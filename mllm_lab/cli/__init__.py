"""The `lab` command line: thin Typer commands over mllm_lab.ops."""

from __future__ import annotations

import os
import sys

EX_USAGE = 2
EX_PIPE = 141  # what a shell reports for a process ended by SIGPIPE (`lab list | head -1`)


def _usable_streams() -> None:
    """Output that cannot be encoded (PYTHONIOENCODING=ascii) is escaped, not a crash; a
    closed stdout or stderr (`lab status >&-`) swallows output instead of failing."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
        elif hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _undecodable(argument: str) -> bool:
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def main() -> None:
    _usable_streams()
    for number, argument in enumerate(sys.argv[1:], start=1):
        if _undecodable(argument):
            shown = argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            sys.stderr.write(f"error: argument {number} ({shown}) is not valid UTF-8 text\n")
            sys.exit(EX_USAGE)
    from mllm_lab.cli.app import app

    try:
        app(prog_name="lab")
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EX_PIPE)
