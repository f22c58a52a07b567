"""Writes are atomic and exclusive; a failing disk leaves the old file and a one-line error."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from conftest import Run, read, tree

from mllm_lab.errors import NoteExists, OutsideLab, WriteFailed
from mllm_lab.lab import Lab
from mllm_lab.storage import Change, commit, write_atomic


def test_commit_replaces_and_an_existing_exclusive_target_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "old.md").write_text("old")
    commit(tmp_path, [Change("a/old.md", "new"), Change("a/fresh.md", "fresh", exclusive=True)])
    assert read(tmp_path / "a/old.md") == "new" and read(tmp_path / "a/fresh.md") == "fresh"
    with pytest.raises(NoteExists):
        commit(
            tmp_path, [Change("a/old.md", "newer"), Change("a/fresh.md", "again", exclusive=True)]
        )
    assert read(tmp_path / "a/old.md") == "new" and read(tmp_path / "a/fresh.md") == "fresh"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["fresh.md", "old.md"]
    assert list((tmp_path / ".lab/tmp").iterdir()) == []
    assert not (tmp_path / ".lab/commit.json").exists()


def test_write_keeps_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.md"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, "new")
    assert (target.stat().st_mode & 0o777) == 0o600
    commit(tmp_path, [Change("x.md", "newer")])
    assert (target.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.ENOSPC, "no space left on the disk"), (errno.EACCES, "permission denied")],
)
def test_disk_errors_leave_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    target = tmp_path / "x.md"
    target.write_text("precious")

    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(WriteFailed, match=reason):
        write_atomic(target, "half", shown="x.md")
    with pytest.raises(WriteFailed, match=reason):
        commit(tmp_path, [Change("x.md", "half"), Change("y.md", "new", exclusive=True)])
    assert read(target) == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lab", "x.md"]
    assert list((tmp_path / ".lab/tmp").iterdir()) == []


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
    assert result.err.strip() == "错误：papers/blip-2.md：写入失败（磁盘空间不足）；没有任何改动"
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


def test_a_symlinked_note_inside_the_lab_is_written_through_and_stays_a_link(
    in_lab: Run, lab: Path
) -> None:
    """A note kept elsewhere in the lab and linked into papers/: every write goes to the
    file the link leads to, and the link stays (renamed over, it became a copy, and the
    file it led to kept the old status)."""
    assert in_lab("new", "paper", "clip").ok
    shared = lab / "shared"
    shared.mkdir()
    (lab / "papers/clip.md").rename(shared / "clip.md")
    (lab / "papers/clip.md").symlink_to("../shared/clip.md")
    assert in_lab("mark", "clip", "read").ok
    link = lab / "papers/clip.md"
    assert link.is_symlink() and os.readlink(link) == "../shared/clip.md"
    assert "\nstatus: read\n" in read(shared / "clip.md")
    assert "| ✅ | clip |" in read(lab / "papers/README.md")
    forced = in_lab("new", "paper", "clip", "--force")
    assert forced.ok, forced
    assert link.is_symlink() and "\nstatus: read\n" in read(shared / "clip.md")
    kept = [p for p in (lab / ".lab-trash").rglob("clip.md")]
    assert len(kept) == 1 and "\nstatus: read\n" in read(kept[0])
    assert in_lab("mark", "clip", "unread").ok and in_lab("check").ok
    assert link.is_symlink() and "\nstatus: unread\n" in read(shared / "clip.md")


def test_two_files_one_command_writes_that_are_one_file_are_refused(in_lab: Run, lab: Path) -> None:
    """README.md made a link to papers/README.md (which then holds both views): the second
    write of one commit undid the first, and `lab sync --check` called the stale table
    current. Both views linked to one file elsewhere: the same."""
    assert in_lab("new", "paper", "clip").ok
    readme = read(lab / "README.md")
    (lab / "README.md").unlink()
    with (lab / "papers/README.md").open("a", encoding="utf-8") as papers:
        papers.write(readme)
    (lab / "README.md").symlink_to("papers/README.md")

    def refused_as(said: str) -> None:
        before = tree(lab)
        refused = in_lab("mark", "clip", "read")
        assert refused.code == 1 and refused.err.strip() == said
        assert tree(lab) == before and not (lab / ".lab-trash").exists()
        assert (lab / "README.md").is_symlink()

    refused_as(
        "错误：README.md:1: 指向 lab 里另一个文件 papers/README.md 的符号链接，"
        "写入会把这个文件的内容写进那个文件；请让它成为独立的文件，或删掉这个链接"
    )
    (lab / "shared").mkdir()
    (lab / "papers/README.md").rename(lab / "shared/views.md")
    (lab / "papers/README.md").symlink_to("../shared/views.md")
    (lab / "README.md").unlink()
    (lab / "README.md").symlink_to("shared/views.md")
    refused_as(
        "错误：README.md：已拒绝，它和 papers/README.md 是同一个文件（一个是指向另一个的符号链接），"
        "而 lab 两个都要写；请让它们各自成为独立的文件"
    )


def test_a_note_or_view_kept_in_labs_cache_through_a_link_is_refused(
    in_lab: Run, lab: Path
) -> None:
    """.lab/ is lab's cache, which it empties (.lab/tmp/) and rebuilds: a note linked there
    was read as any other, then deleted by the next write, with nothing in .lab-trash/."""
    assert in_lab("new", "paper", "clip").ok and in_lab("status").ok
    kept = lab / ".lab/tmp"
    kept.mkdir(exist_ok=True)
    (lab / "papers/clip.md").rename(kept / "clip.md")
    (lab / "papers/clip.md").symlink_to("../.lab/tmp/clip.md")
    checked = in_lab("check")
    assert (
        "papers/clip.md:1: 指向 .lab/（lab 的缓存，会被清空重建）的符号链接（已跳过）"
        in checked.out
    )
    assert "clip" not in in_lab("list", "papers").out.split()
    (lab / "notes/README.md").rename(kept / "index.md")
    (lab / "notes/README.md").symlink_to("../.lab/tmp/index.md")
    index = read(kept / "index.md")
    refused = in_lab("sync")
    assert refused.code == 1
    assert refused.err.strip() == (
        "错误：notes/README.md：已拒绝，这是指向 .lab/ 的符号链接；.lab/ 是 lab 的缓存，会被清空重建；"
        "请把文件放在 lab 的其他地方"
    )
    assert read(kept / "index.md") == index


def test_symlinked_note_pointing_outside_is_never_written_through(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("outside the lab\n")
    (lab / "papers" / "blip-2.md").symlink_to(victim)
    result = in_lab("new", "paper", "blip-2", "--force")
    assert result.code == 1 and "这个路径会离开 lab" in result.err
    assert read(victim) == "outside the lab\n"


def test_a_new_note_over_a_link_that_leads_nowhere_says_so_even_with_force(
    in_lab: Run, lab: Path
) -> None:
    (lab / "papers/dang.md").symlink_to("nowhere.md")
    before = tree(lab)
    for force in ([], ["--force"]):  # it said "already exists; use --force", --force or not
        refused = in_lab("new", "paper", "dang", *force)
        assert refused.code == 1
        assert refused.err.strip() == "错误：papers/dang.md:1: 符号链接指向的文件不存在"
    assert tree(lab) == before and (lab / "papers/dang.md").is_symlink()


def test_marking_a_paper_whose_note_is_a_link_lab_does_not_follow_names_the_link(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A paper note that is a symlink leading nowhere, or out of the lab, is skipped. `lab
    mark` named the paper "not in the lab yet" for the first, and for a paper on the reading
    list marked its entry, as if the note were not there: it names the link and changes
    nothing."""
    outside = tmp_path / "vit.md"
    outside.write_text("---\nkey: vit\n---\n# ViT\n", "utf-8")
    (lab / "papers/clip.md").symlink_to("gone/clip.md")
    (lab / "papers/vit.md").symlink_to(outside)
    assert "vit:" in read(lab / "papers/reading-list.yaml").replace("key: vit", "vit:")
    before = tree(lab)
    for key, why in (("clip", "符号链接指向的文件不存在"), ("vit", "符号链接指向 lab 之外")):
        refused = in_lab("mark", key, "read")
        assert refused.code == 1, refused.out
        assert refused.err.startswith(f"错误：papers/{key}.md:1: {why}：这是 `{key}` 的笔记")
        assert len(refused.err.strip().splitlines()) == 1
    assert tree(lab) == before
    elsewhere = in_lab("mark", "bert", "read")  # a catalog paper, neither in the lab nor linked
    assert elsewhere.code == 1 and "还不在 lab 里" in elsewhere.err
    # named by a prefix of a listed paper (flash -> flashattention), or in a folder of papers/:
    # the link is still the note the user meant (a review found both marked the list entry)
    (lab / "papers/flash.md").symlink_to(outside)
    (lab / "papers/vision").mkdir()
    (lab / "papers/vision/vit.md").symlink_to(outside)
    (lab / "papers/vit.md").unlink()
    before = tree(lab)
    for key, path in (("flash", "papers/flash.md"), ("vit", "papers/vision/vit.md")):
        refused = in_lab("mark", key, "read")
        assert refused.code == 1, refused.out
        assert refused.err.startswith(f"错误：{path}:1: 符号链接指向 lab 之外：这是 `{key}` 的笔记")
    assert tree(lab) == before
    # a paper whose own note reads is marked, whatever link elsewhere bears its name, in
    # whatever case the key is typed (a review: `mark CLIP` was refused, `mark clip` marked)
    (lab / "papers/clip.md").unlink()
    assert in_lab("new", "paper", "clip").ok
    (lab / "papers/vision/CLIP.md").symlink_to("gone.md")
    for status, typed in (("read", "CLIP"), ("unread", "clip")):
        assert in_lab("mark", typed, status).ok
        assert f"status: {status}" in read(lab / "papers/clip.md")
    # a paper on the list alone: refused however its key is typed, the link's case aside
    (lab / "papers/vision/Flash.md").symlink_to("gone.md")
    (lab / "papers/flash.md").unlink()
    before = tree(lab)
    for typed in ("flash", "FLASH"):
        refused = in_lab("mark", typed, "read")
        assert refused.code == 1 and refused.err.startswith("错误：papers/vision/Flash.md:1:")
    assert tree(lab) == before


def test_a_link_to_another_note_is_not_written_through(in_lab: Run, lab: Path) -> None:
    """papers/clip.md linked to a concept note: the walk reads that note where it is, so the
    lab has no paper clip, and `lab new paper clip --force` (as the refusals led) wrote the
    paper template into the concept note."""
    assert in_lab("new", "concept", "CLIP idea", "-c", "fundamentals").ok
    concept = lab / "notes/fundamentals/clip-idea.md"
    concept.write_text(read(concept) + "\nmy own words\n", "utf-8")
    (lab / "papers/clip.md").symlink_to("../notes/fundamentals/clip-idea.md")
    before = tree(lab)
    for force in ([], ["--force"]):
        refused = in_lab("new", "paper", "clip", *force)
        assert refused.code == 1
        assert refused.err.strip() == (
            "错误：papers/clip.md:1: 指向 lab 里另一个文件 notes/fundamentals/clip-idea.md 的符号链接，"
            "写入会把这个文件的内容写进那个文件；请让它成为独立的文件，或删掉这个链接"
        )
    assert tree(lab) == before and "my own words" in read(concept)


def test_a_link_to_a_view_or_to_lab_toml_is_not_written_through(in_lab: Run, lab: Path) -> None:
    """`lab new concept X --force` over a link to papers/README.md made the table a concept
    note; over a link to lab.toml, every later command failed."""
    for target in ("../../papers/README.md", "../../lab.toml"):
        (lab / "notes/fundamentals/index.md").unlink(missing_ok=True)
        (lab / "notes/fundamentals/index.md").symlink_to(target)
        before = tree(lab)
        refused = in_lab("new", "concept", "Index", "-c", "fundamentals", "--force")
        assert refused.code == 1
        assert refused.err.startswith("错误：notes/fundamentals/index.md:1: 指向 lab 里另一个文件 ")
        assert tree(lab) == before
    assert in_lab("status").ok
