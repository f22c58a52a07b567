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


def is_labs(ws: Workspace, path: str, body: str, now: str) -> bool:
    """A list under a begin marker whose sha is not its own is still lab's when it is the
    list lab would write now (`now`) or the one it last wrote: after a git merge (the lists
    merged, the shas in conflict) or a marker put back by hand, as a refused repair asks. An
    empty one holds nothing of the user's: lab's lines deleted, to have the list made again."""
    body = body.replace("\r\n", "\n")
    return not body.strip() or body == now or body == kept(ws, path)
