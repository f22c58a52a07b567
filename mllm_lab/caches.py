"""The files lab keeps in .lab/ besides the views' record: the index, the card and schedule
caches. Each begins with a JSON header line saying which lab wrote it, where, and under which
version of lab and of Python, and carries a checksum of its body, so a foreign, stale or
damaged one is made again, never trusted. Its body is marshal's format. Apart from scan.py so
that a command that reads a cache (`lab quiz`) does not import the parsers."""

from __future__ import annotations

import contextlib
import json
import marshal
import os
from typing import Any

from mllm_lab.core.labdata import INDEX_VERSION
from mllm_lab.lab import Lab
from mllm_lab.sha import sha1
from mllm_lab.state import PYTHON, write_state
from mllm_lab.storage import open_regular

Buffer = bytes | bytearray | memoryview


def checksum(data: Buffer) -> str:
    return sha1(data).hexdigest()


def load_cache(lab: Lab, name: str) -> dict[str, Any]:
    """A cache file's `files`, or {} when it is missing, foreign, of another version (of lab
    or of Python), or its checksum does not match (someone or something changed it)."""
    opened = _open_cache(lab, name)
    if opened is not None:
        header, body = opened
        with contextlib.suppress(ValueError, EOFError, TypeError, RecursionError):
            if header.get("sum") == checksum(body):
                files = marshal.loads(body)
                if isinstance(files, dict):
                    return files
    return {}


def _open_cache(lab: Lab, name: str) -> tuple[dict[str, Any], bytes] | None:
    """(header, body) of a cache file this lab wrote here, under this version of lab and of
    Python; None for a missing, foreign or unreadable one (the caller checks its checksums)."""
    try:
        with open_regular(lab.state / name) as stream:  # the header, then the body: no copy of it
            head, body = stream.readline(), stream.read()
        header = json.loads(head)
    except (OSError, ValueError, RecursionError):
        return None
    return (header, body) if is_ours(lab, header) else None


def is_ours(lab: Lab, header: Any) -> bool:
    """A cache file's header says this lab wrote it here, under this version of lab and of
    Python."""
    return (
        isinstance(header, dict)
        and header.get("version") == INDEX_VERSION
        and header.get("python") == PYTHON
        and header.get("root") == str(lab.root)
        and header.get("place") == _place(lab)
    )


def header_line(lab: Lab, **fields: Any) -> bytes:
    """A cache file's header line: what _open_cache checks, then `fields`."""
    with contextlib.suppress(OSError):
        lab.state.mkdir(exist_ok=True)  # before its inode is taken: the first cache makes it
    header = {
        "version": INDEX_VERSION,
        "python": PYTHON,
        "tool": "mllm-lab",
        "root": str(lab.root),
        "place": _place(lab),
        **fields,
    }
    return json.dumps(header).encode() + b"\n"


def drop_legacy(lab: Lab, name: str) -> None:
    """Earlier versions kept a cache as JSON, under another name."""
    with contextlib.suppress(OSError):
        (lab.state / (name.removesuffix(".bin") + ".json")).unlink()


def _place(lab: Lab) -> int | None:
    """The inode of this machine's .lab/ folder. marshal is not meant for data from elsewhere,
    and a repository could carry a .lab/ of its own (force-added past its .gitignore): a
    cache is read only in the very folder it was written in, which no one can foresee."""
    try:
        return os.stat(lab.state).st_ino
    except OSError:
        return None


def save_cache(lab: Lab, name: str, files: dict[str, Any], *, shaped: bool = False) -> None:
    """Keep `files` in marshal's format: read back twice as fast as JSON, with each repeated
    string (a kind, a status) made once. What is kept is what JSON would give back (tuples as
    lists), so a record read from the cache is the same whichever way it was kept. `shaped`:
    the caller made `files` so already (as_json on what is new, the rest read from a cache)."""
    data = marshal.dumps(files if shaped else as_json(files))
    head = header_line(lab, sum=checksum(data), size=len(data))
    write_state(lab.state, name, [head, data])  # not joined: a copy of 44 MB at 50,000 notes
    drop_legacy(lab, name)


def as_json(value: Any) -> Any:
    """`value` as JSON gives it back: tuples as lists."""
    return json.loads(json.dumps(value, ensure_ascii=False))
