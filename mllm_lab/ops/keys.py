"""Paper keys for shell completion (`lab mark bl<Tab>`), kept in .lab/keys.txt by every command
that builds the lab's data, with the stamps of what they come from (the papers/ folder and
the reading list). Completing then reads one small file and stats two paths: a note added
or removed, or an edited reading list, changes those stamps and the keys are made again."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from mllm_lab.lab import Lab
from mllm_lab.models import READING_LIST
from mllm_lab.state import read_state, write_state

KEYS = "keys.txt"


def _stamps(lab: Lab) -> list[Any]:
    found: list[Any] = []
    for relative in ("papers", READING_LIST):
        try:
            st = os.stat(lab.root / relative)
            found.append([st.st_mtime_ns, st.st_size, st.st_ino])
        except OSError:
            found.append(None)
    return found


def _text(lab: Lab, keys: Iterable[str]) -> str:
    return json.dumps(_stamps(lab)) + "\n" + "".join(f"{key}\n" for key in sorted(set(keys)))


def remember(lab: Lab, keys: Iterable[str]) -> None:
    """Keep the lab's paper keys, if they (or the stamps) changed since last kept."""
    text = _text(lab, keys)
    if read_state(lab.state, KEYS) != text.encode("utf-8", "surrogatepass"):
        write_state(lab.state, KEYS, text)


def kept(lab: Lab) -> list[str] | None:
    """The kept keys, or None when there are none or they may be out of date."""
    raw = read_state(lab.state, KEYS)
    if raw is None:
        return None
    head, _, body = raw.decode("utf-8", "surrogateescape").partition("\n")
    try:
        if json.loads(head) != _stamps(lab):
            return None
    except ValueError:
        return None
    return body.split("\n")[:-1]


def paper_keys(root: str | None) -> list[str]:
    """Every paper key of the lab at `root` (or found from here), sorted."""
    from mllm_lab.ops.workspace import Workspace

    lab = Lab.find(root)
    found = kept(lab)
    if found is not None:
        return found
    ws = Workspace.open(root)
    keys = [paper.key for paper in ws.data().papers]  # building the data keeps them too
    remember(lab, keys)
    return sorted(set(keys))
