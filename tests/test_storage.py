"""Writes are atomic and exclusive; a failing disk leaves the old file and a one-line error."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import Run, read, tree

from mllm_lab.errors import NoteExists, OutsideLab, WriteFailed
from mllm_lab.lab import Lab
from mllm_lab.storage import write_atomic


def test_write_atomic_replaces_and_exclusive_refuses(tmp_path: Path) -> None:
    target = tmp_path / "a" / "note.md"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert read(target) == "two"
    with pytest.raises(NoteExists):
        write_atomic(target, "three", exclusive=True)
    assert read(target) == "two"
    assert [p.name for p in target.parent.iterdir()] == ["note.md"]  # no temporary file left


def test_write_keeps_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.md"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert (target.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "no space left on the disk"), (errno.EACCES, "permission denied")],
)
def test_disk_errors_leave_the_previous_file(
    tmp_path: Path, monkeypatch, code: int, reason: str
) -> None:
    target = tmp_path / "x.md"
    target.write_text("precious")

    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteFailed, match=reason):
        write_atomic(target, "half", shown="x.md")
    assert read(target) == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["x.md"]


def test_disk_full_through_the_cli_is_one_line_and_exit_1(
    in_lab: Run, lab: Path, monkeypatch
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    before = tree(lab)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = in_lab("mark", "blip-2", "read")
    assert result.code == 1
    assert (
        result.err.strip()
        == "error: papers/blip-2.md: could not write (no space left on the disk); the previous file is intact"
    )
    assert tree(lab) == before


def test_paths_cannot_leave_the_lab_even_through_symlinks(lab: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (lab / "notes" / "escape").symlink_to(outside)
    opened = Lab.find(str(lab))
    for bad in ["../x.md", "/etc/passwd", "notes/escape/x.md", "notes/../../x.md"]:
        with pytest.raises(OutsideLab):
            opened.path(bad)
    assert opened.path("notes/training/x.md") == lab / "notes/training/x.md"


def test_symlinked_note_pointing_outside_is_never_written_through(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("outside the lab\n")
    (lab / "papers" / "blip-2.md").symlink_to(victim)
    result = in_lab("new", "paper", "blip-2", "--force")
    assert result.code == 1 and "leaves the lab" in result.err
    assert read(victim) == "outside the lab\n"
