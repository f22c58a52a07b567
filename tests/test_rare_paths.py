"""Paths no ordinary test walks: the parallel cold scan, duplicate findings, a lock held too
long, and a file system without hard links."""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

import pytest
from conftest import Run, read

from mllm_lab.core.labdata import NoteFields
from mllm_lab.errors import NoteExists
from mllm_lab.lab import Lab
from mllm_lab.scan import scan
from mllm_lab.storage import Change, commit


def test_a_big_cold_scan_in_workers_gives_each_file_its_own_record(lab: Path) -> None:
    folder = lab / "notes/training"
    for number in range(2100):  # past the 2,000 files that start the workers
        (folder / f"n{number}.md").write_text(
            f"---\ntitle: Note {number}\ncategory: training\ncreated: 2026-01-01\n---\n", "utf-8"
        )
    snapshot = scan(Lab.find(str(lab)), use_index=False)
    titles = {
        path: NoteFields(*record.digest[0]).title
        for path, record in snapshot.files.items()
        if path.startswith("notes/training/n")
    }
    assert len(titles) == 2100
    assert all(
        title == f"Note {path[len('notes/training/n') : -3]}" for path, title in titles.items()
    )


def test_check_names_two_notes_with_one_file_name(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "RoPE", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "RoPE", "-c", "training").ok
    result = in_lab("check")
    assert result.code == 1
    assert (
        "notes/training/rope.md:1: slug `rope` 重复（另见 notes/fundamentals/rope.md）；[[rope]] 有歧义"
        in result.out
    )


def test_a_lock_held_too_long_is_one_line_and_changes_nothing(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (lab / ".lab").mkdir(exist_ok=True)
    holder = os.open(lab / ".lab/lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    monkeypatch.setenv("LAB_LOCK_TIMEOUT", "0.2")
    before = read(lab / "papers/reading-list.yaml")
    try:
        result = in_lab("mark", "clip", "read")
    finally:
        os.close(holder)
    assert result.code == 1 and "另一个 lab 命令已占用锁" in result.err
    assert read(lab / "papers/reading-list.yaml") == before
    assert in_lab("mark", "clip", "read").ok  # released: the next one goes through


def test_without_hard_links_new_files_are_still_claimed_exclusively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    commit(tmp_path, [Change("a.md", "first", exclusive=True), Change("b.md", "other")])
    assert read(tmp_path / "a.md") == "first" and read(tmp_path / "b.md") == "other"
    with pytest.raises(NoteExists):
        commit(tmp_path, [Change("a.md", "second", exclusive=True)])
    assert read(tmp_path / "a.md") == "first"
    assert list((tmp_path / ".lab/tmp").iterdir()) == []
