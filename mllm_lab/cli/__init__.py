"""The `lab` command line: thin Typer commands over mllm_lab.ops."""

from __future__ import annotations

import os
import sys

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


def _quiet_interrupts(unraisable: sys.UnraisableHookArgs) -> None:
    """A second Ctrl-C that lands while a first one is unwinding the command, in a clean-up
    Python cannot raise from (a generator closed as it is let go, waiting for its worker
    process), printed "Exception ignored in: <generator object ...>" and a traceback under
    the command's own message; it is dropped, as the first one already ends the command."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _end_now(code: object) -> None:
    """End the process with `code` once the output is out, without freeing the command's
    objects one by one (cli.common.OPENED keeps them): at 50,000 notes that takes 100 ms of a
    write. Every file lab writes is closed by then (all writes are with-blocks or os-level,
    and its worker pools are shut down); the OS releases the lab's lock. Not under a profiler
    or a tracer (coverage, a debugger), which write their reports at the normal exit."""
    if not (code is None or type(code) is int) or sys.getprofile() or sys.gettrace():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError, ValueError):  # the usual exit deals with those
        return
    os._exit(code or 0)


def main() -> None:
    if "_LAB_COMPLETE" in os.environ:  # a Tab press: answered without importing Typer
        from mllm_lab.cli import complete

        if complete.main():
            return
    _usable_streams()
    sys.unraisablehook = _quiet_interrupts
    if sys.argv[1:] in (["--version"], ["-V"]):  # answered without importing Typer
        from mllm_lab import __version__

        sys.stdout.write(f"lab (mllm-lab) {__version__}\n")
        return
    try:
        from mllm_lab.cli.app import for_line

        for_line(sys.argv[1:])(prog_name="lab")
    except SystemExit as done:
        _end_now(done.code)
        raise
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EX_PIPE)
    except KeyboardInterrupt:  # Ctrl-C before the commands' own handler is in place
        from mllm_lab.messages import tr

        sys.stderr.write(f"{tr('cli.error')}{tr('error.interrupted')}\n")
        sys.exit(130)
