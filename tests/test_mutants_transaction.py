"""The one write path (ops/transaction.py), pinned where mutation testing found it loose
(issue 9): what each file's outcome says (created, updated, unchanged, would …, with every
detail), that a new file must not exist yet and `force` keeps the old one in numbered backups,
that a dry run and a command that fails write nothing and free the lock, that the transaction
reads its own pending writes back (files and data), and that what it commits is what the next
command reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Run, tree

from mllm_lab import messages
from mllm_lab.core import fm
from mllm_lab.errors import NoteExists, OutsideLab
from mllm_lab.ops.workspace import Outcome, Workspace

NOTE = "---\ntitle: X\ncategory: training\nsummary: an x\n---\n\n# X\n"


@pytest.fixture
def ws(en_lab: Path) -> Workspace:
    messages.reset()
    return Workspace.open(str(en_lab))


def outcome(tx: object, path: str) -> Outcome:
    return next(o for o in tx.outcomes if o.path == path)  # type: ignore[attr-defined]


def test_outcomes_say_what_happened_to_each_file_once(ws: Workspace, en_lab: Path) -> None:
    with ws.transaction() as tx:
        assert tx.write("notes/training/x.md", NOTE, detail="first") == Outcome(
            "notes/training/x.md", "created", "first"
        )
        again = tx.write("notes/training/x.md", NOTE, detail="second")
        assert again == Outcome("notes/training/x.md", "created", "first; second")
        same = tx.write("README.md", tx.read("README.md") or "")
        assert same == Outcome("README.md", "unchanged", "")
        old = (en_lab / "lab.toml").read_text()
        assert tx.write("lab.toml", old + "# mine\n").action == "updated"
        assert tx.write("lab.toml", old + "# mine\n", detail="d").action == "updated"
    assert [o.path for o in tx.outcomes].count("notes/training/x.md") == 1
    assert outcome(tx, "notes/README.md").action == "updated"  # the index has a new entry
    assert (en_lab / "notes/training/x.md").read_text() == NOTE
    assert "[X](training/x.md) - an x" in (en_lab / "notes/README.md").read_text()


def test_a_file_written_anew_in_the_same_transaction_stays_created(ws: Workspace) -> None:
    with ws.transaction() as tx:
        tx.create("notes/training/x.md", NOTE)
        assert tx.write("notes/training/x.md", NOTE + "more\n").action == "created"
        assert tx.read("notes/training/x.md") == NOTE + "more\n"
        assert tx.exists("notes/training/x.md") and not tx.exists("notes/training/y.md")
        assert tx.read("notes/training/y.md") is None


def test_create_refuses_an_existing_file_and_force_keeps_numbered_backups(
    ws: Workspace, en_lab: Path
) -> None:
    target = en_lab / "notes/training/x.md"
    target.write_text("my words\n")
    before = tree(en_lab)
    with pytest.raises(NoteExists), ws.transaction() as tx:
        tx.create("notes/training/x.md", NOTE)
    assert tree(en_lab) == before
    with ws.transaction() as tx:
        first = tx.create("notes/training/x.md", NOTE, force=True)
        second = tx.create("notes/training/x.md", NOTE + "2\n", force=True)
    stamp = tx.started.strftime("%Y-%m-%dT%H-%M-%S")
    where = f".lab-trash/{stamp}/notes/training/x.md"
    assert first == Outcome("notes/training/x.md", "updated", f"the old version is kept in {where}")
    assert second.detail == (
        f"the old version is kept in {where}; the old version is kept in {where}.2"
    )
    assert (en_lab / where).read_text() == "my words\n"
    assert (en_lab / f"{where}.2").read_text() == NOTE
    assert target.read_text() == NOTE + "2\n"


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(ws: Workspace, en_lab: Path) -> None:
    (en_lab / "notes/training/x.md").write_text("mine\n")
    before = tree(en_lab)
    with ws.transaction(dry_run=True) as tx:
        assert tx.create("notes/training/x.md", NOTE, force=True) == Outcome(
            "notes/training/x.md", "would update", "the old version would be kept in .lab-trash/"
        )
        assert tx.write("notes/training/y.md", NOTE).action == "would create"
        assert tx.write("notes/training/y.md", NOTE + "\n").action == "would create"
    assert outcome(tx, "notes/README.md").action == "would update"
    assert tree(en_lab) == before
    assert not (en_lab / ".lab-trash").exists()


def test_a_command_that_fails_writes_nothing_and_frees_the_lock(
    ws: Workspace, en_lab: Path
) -> None:
    before = tree(en_lab)
    with pytest.raises(RuntimeError), ws.transaction() as tx:
        tx.write("notes/training/x.md", NOTE)
        tx.create("lab.toml", "x", force=True)
        raise RuntimeError("the command failed")
    assert tree(en_lab) == before
    assert not (en_lab / ".lab-trash").exists()
    with ws.transaction() as tx:  # the lock was released: this does not wait
        tx.write("notes/training/x.md", NOTE)
    assert (en_lab / "notes/training/x.md").read_text() == NOTE


def test_a_path_outside_the_lab_is_refused(ws: Workspace, en_lab: Path) -> None:
    with ws.transaction() as tx:
        for bad in ("../x.md", "/tmp/x.md"):
            with pytest.raises(OutsideLab):
                tx.write(bad, "x")
            with pytest.raises(OutsideLab):
                tx.create(bad, "x")
    assert not (en_lab.parent / "x.md").exists()


def test_the_data_is_the_lab_as_the_transaction_leaves_it(ws: Workspace, en_lab: Path) -> None:
    paper = next(p for p in ws.data().papers if p.key == "dpo")
    assert paper.note is None and paper.status.value == "unread"
    text = "---\n" + fm.dump({"key": "dpo", "title": "DPO", "status": "read"}) + "---\n# DPO\n"
    with ws.transaction() as tx:
        assert not any(n.path == "notes/training/x.md" for n in tx.data.notes)
        tx.write("notes/training/x.md", NOTE)
        assert any(n.path == "notes/training/x.md" for n in tx.data.notes)
        tx.create("papers/dpo.md", text)
        dpo = [p for p in tx.data.papers if p.key == "dpo"]
        assert [(p.note, p.status.value) for p in dpo] == [("papers/dpo.md", "read")]
        tx.write("lab.toml", (en_lab / "lab.toml").read_text() + "\n")  # not a note: no data
        assert tx.data is tx.data
    table = (en_lab / "papers/README.md").read_text()
    assert "| ✅ | dpo | [DPO](dpo.md) |" in table
    assert [p.status.value for p in ws.data().papers if p.key == "dpo"] == ["read"]
    fresh = Workspace.open(str(en_lab))
    assert [p.note for p in fresh.data().papers if p.key == "dpo"] == ["papers/dpo.md"]


def test_without_views_nothing_else_is_written(ws: Workspace, en_lab: Path) -> None:
    before = tree(en_lab)
    with ws.transaction(views=False) as tx:
        tx.write("notes/training/x.md", NOTE)
    after = tree(en_lab)
    assert {k for k in after if after[k] != before.get(k)} == {"notes/training/x.md"}


def test_a_transaction_with_nothing_to_write_touches_nothing(ws: Workspace, en_lab: Path) -> None:
    ws.transaction().__enter__().__exit__(None, None, None)
    stamps = {p: os.stat(en_lab / p).st_mtime_ns for p in ("README.md", "papers/README.md")}
    before = tree(en_lab)
    with ws.transaction():
        pass
    assert tree(en_lab) == before
    assert {p: os.stat(en_lab / p).st_mtime_ns for p in stamps} == stamps


def test_a_note_lab_writes_from_a_listed_title_with_a_nul_can_be_read_back(en_lab: Path) -> None:
    listed = en_lab / "papers/reading-list.yaml"
    text = listed.read_text()
    start = text.index("title:", text.index("- key: dpo"))
    end = text.index("\n", start)
    listed.write_text(text[:start] + 'title: "Direct\\0 Preference"' + text[end:])
    run = Run(en_lab)
    assert run("new", "paper", "dpo").ok
    result = run("mark", "dpo", "read")
    assert result.ok, result.err  # papers/dpo.md:19: binary file (NUL bytes)
