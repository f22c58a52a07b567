"""Lab's own state under .lab/: the index and its journal, the detail cache, the views' record
and the region bodies. All of it can be deleted at any time; a failure to read or write it
only costs time, so these functions never raise for the disk's sake."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from mllm_lab.errors import WriteFailed
from mllm_lab.storage import Pieces, open_regular, write_atomic

PYTHON = list(sys.version_info[:2])  # marshal's format may change between Python versions

KEYS_FILE = "keys.tsv"  # each paper's key and title, for shell completion (cli/complete.py)


def read_state(state: Path, name: str) -> bytes | None:
    try:
        with open_regular(state / name) as stream:
            return stream.read()
    except OSError:
        return None


def read_folder(state: Path, folder: str) -> list[bytes]:
    found = []
    with contextlib.suppress(OSError):
        for stored in sorted((state / folder).iterdir()):
            with contextlib.suppress(OSError):
                found.append(stored.read_bytes())
    return found


def write_state(state: Path, name: str, text: str | bytes | Pieces) -> None:
    with contextlib.suppress(OSError, WriteFailed):
        state.mkdir(exist_ok=True)
        ignore = state / ".gitignore"
        if not ignore.exists():
            write_atomic(ignore, "*\n")
        (state / name).parent.mkdir(parents=True, exist_ok=True)
        write_atomic(state / name, text, sync=False)  # a cache: checked when read, not synced


def append_state(state: Path, name: str, data: bytes) -> None:
    """One write with O_APPEND: concurrent writers interleave whole writes."""
    with contextlib.suppress(OSError):
        state.mkdir(exist_ok=True)
        fd = os.open(state / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


def truncate_state(state: Path, name: str) -> None:
    with contextlib.suppress(OSError):
        os.truncate(state / name, 0)


def prune_state(state: Path, folder: str, keep: set[str]) -> None:
    with contextlib.suppress(OSError):
        for stored in (state / folder).iterdir():
            if stored.name not in keep:
                stored.unlink()
