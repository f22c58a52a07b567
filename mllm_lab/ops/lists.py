"""The list lab last wrote in each note's generated region (a weekly log's "done this week",
a concept note's related notes), kept in .lab/lists/ by the note's path: what `lab sync
--repair` puts a lost begin marker back above. A cache like the rest of .lab/: a list that
is not found there is only a list the repair cannot tell from the user's lines."""

from __future__ import annotations

from mllm_lab.ops.workspace import Workspace
from mllm_lab.sha import sha1
from mllm_lab.state import read_state, write_state

LISTS = "lists"


def _name(path: str) -> str:
    return f"{LISTS}/{sha1(path.encode('utf-8', 'surrogatepass')).hexdigest()[:20]}"


def keep(ws: Workspace, path: str, body: str) -> None:
    """`body`, the list now written in the note at `path`."""
    write_state(ws.lab.state, _name(path), body)


def kept(ws: Workspace, path: str) -> str | None:
    raw = read_state(ws.lab.state, _name(path))
    return raw.decode("utf-8", "replace") if raw is not None else None
