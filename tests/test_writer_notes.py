"""What a writing command notes in .lab/ for the next one (the digests per kind of the files'
stamps, the content stamp, what each view was made from and the sha of its region) is what a
command working it all out from nothing finds, after any mix of writes and hand edits. Those
notes are taken on trust by the next command, so a wrong one would hide a change."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from conftest import Run, read

from mllm_lab.core import regions
from mllm_lab.ops import views as ops_views
from mllm_lab.ops.views import VIEWS, Pieces
from mllm_lab.ops.workspace import Workspace
from mllm_lab.walk import Walk, walk


def _state(lab: Path, name: str) -> dict:
    return json.loads((lab / ".lab" / name).read_text("utf-8"))


def _noted_true(lab: Path) -> bool:
    """Check every note against a fresh workspace; True when the walk's digests per kind
    were noted for the very files the next walk finds (the writer's shortcut taken)."""
    fresh_walk = walk(Workspace.open(str(lab)).lab)
    fingerprint = fresh_walk.fingerprint()
    fresh_walk.state = None  # worked out here, not recalled from what is being checked
    kinds = _state(lab, "kind-stamps.json")
    same_walk = kinds["fingerprint"] == fingerprint
    if same_walk:
        for kind, digest in kinds["kinds"].items():
            assert fresh_walk.stamps([kind]) == f"{kind}={digest}", kind
    content = _state(lab, "content.json")
    if content["walk"] == fingerprint:
        (lab / ".lab" / "content.json").rename(lab / ".lab" / "content.kept")
        try:
            assert Workspace.open(str(lab)).content_stamp() == content["stamp"]
        finally:
            (lab / ".lab" / "content.kept").replace(lab / ".lab" / "content.json")
    noted = _state(lab, "views.json")["views"]
    ws = Workspace.open(str(lab))
    for view in VIEWS:
        kept = noted[view.region]
        assert kept["records"] == ops_views.records_of(ws, view, {}, Pieces()), view.region
        data = (lab / view.path).read_bytes()
        assert kept["sha"] == hashlib.sha1(data).hexdigest(), view.region
        begin = re.search(rf"<!-- lab:begin {view.region} sha=(\w+) ", data.decode("utf-8"))
        assert begin is not None and kept["region"] == begin[1], view.region
    return same_walk


def _edit_summary(note: Path, text: str) -> None:
    lines = read(note).split("\n")
    at = next(n for n, line in enumerate(lines) if line.startswith("summary:"))
    lines[at] = f"summary: {text}"
    note.write_text("\n".join(lines), "utf-8")


def test_what_writers_note_for_the_next_command_is_what_it_would_work_out(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "paper", "llava").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "multimodal-arch").ok
    assert in_lab("sync").ok
    _noted_true(lab)
    concept = next((lab / "notes/multimodal-arch").glob("*.md"))
    steps = [
        (["mark", "blip-2", "read"], True),  # only files changed: the walk is the next one's
        (["mark", "blip-2", "reading"], True),
        (["mark", "llava", "read"], True),
        ("edit", None),
        (["weekly"], False),  # a new file: it goes last in the walk's list
        ("edit", None),
        (["mark", "llava", "unread"], True),
        (["new", "concept", "LoRA", "-c", "training"], False),
        ("edit", None),
        (["new", "concept", "Attention", "-c", "fundamentals"], False),
        (["add", "paper", "clip"], True),
        (["mark", "clip", "reading"], True),
        (["new", "paper", "flamingo"], False),
        (["mark", "flamingo", "read"], True),
    ]
    for number, (args, shortcut) in enumerate(steps):
        if args == "edit":
            _edit_summary(concept, f"edited by hand {number}")
            continue
        assert in_lab(*args).ok, args
        assert _noted_true(lab) is shortcut, args


def test_a_writer_that_only_changed_files_spares_the_next_command_the_digests(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `lab mark`, the next command recalls the digests per kind of its walk instead
    of working them out again: they were noted under the very fingerprint it walks to."""
    keys = ("blip-2", "llava", "flamingo", "clip")
    for key in keys:
        assert in_lab("new", "paper", key).ok
    recalled: list[set[str]] = []
    original = Walk._recall

    def spy(self: Walk) -> None:
        before = set(self._digests)
        original(self)
        recalled.append(set(self._digests) - before)

    monkeypatch.setattr(Walk, "_recall", spy)
    for key in keys:  # whichever place each paper note has in the walk
        assert in_lab("mark", key, "read").ok
        recalled.clear()
        assert in_lab("mark", key, "unread").ok
        assert recalled and {"paper", "concept"} <= recalled[0], (key, recalled)


def test_the_sha_noted_for_a_region_is_the_one_its_begin_marker_holds() -> None:
    for body in ("", "a\n", "a", "x\r\ny\r\n", "中文 | 表格\n" * 50):
        rendered = regions.render_region("papers", body)
        assert f"sha={regions.region_sha(body)} " in rendered
        fresh = "".join(list(body))  # another object of the same text
        assert regions.region_sha(fresh) == regions.region_sha(body)
    assert regions.region_sha("a") == regions.body_sha("a\n")
    assert regions.region_sha("a\n") != regions.region_sha("b\n")
