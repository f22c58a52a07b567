"""What commands say of the problems they meet while reading the lab: a note that does not
read is said to be skipped only when it is left out; a paper whose note or reading-list entry
does not read keeps its row, marked in `lab list papers` and named in its JSON."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Run

from mllm_lab.models import Finding, in_brief
from mllm_lab.ops.report import LISTED_BROKEN


def _break(lab: Path) -> None:
    """A concept note whose YAML does not parse (left out), a paper note whose year does not
    read and a reading-list entry whose year does not (both keep their rows)."""
    (lab / "notes/fundamentals/bad.md").write_text("---\ntitle: [a\n---\n# Bad\n", "utf-8")
    run = Run(lab)
    assert run("new", "paper", "clip").ok
    note = lab / "papers/clip.md"
    note.write_text(note.read_text("utf-8").replace("year: 2021\n", "year: 2021a\n"), "utf-8")
    listed = lab / "papers/reading-list.yaml"
    text = listed.read_text("utf-8")
    assert "  year: 2017\n" in text
    listed.write_text(text.replace("  year: 2017\n", "  year: 2017x\n", 1), "utf-8")


def test_only_a_problem_that_left_its_file_out_says_skipped(en_lab: Path) -> None:
    _break(en_lab)
    listed = Run(en_lab)("list", "papers")
    assert listed.ok
    warned = [line for line in listed.err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 3
    bad = [line for line in warned if "notes/fundamentals/bad.md:" in line]
    assert len(bad) == 1 and bad[0].endswith("(skipped)")
    kept = [line for line in warned if "papers/" in line]
    assert len(kept) == 2 and not any("skipped" in line for line in kept)
    assert any(line.startswith("warning: papers/clip.md:") for line in kept)
    assert any(line.startswith("warning: papers/reading-list.yaml:") for line in kept)


def test_status_counts_problems_and_the_files_skipped_apart(en_lab: Path) -> None:
    _break(en_lab)
    status = Run(en_lab)("status")
    assert status.ok
    assert "⚠ 3 problems found reading the lab, 1 of them skipped (see lab check)" in status.out
    assert json.loads(Run(en_lab)("status", "--json").out)["skipped"] == 1
    (en_lab / "notes/fundamentals/bad.md").unlink()
    status = Run(en_lab)("status")
    assert "⚠ 2 problems found reading the lab (see lab check)" in status.out
    assert "skipped" not in status.out


def test_a_paper_that_does_not_read_is_marked_in_the_list_and_its_json(en_lab: Path) -> None:
    _break(en_lab)
    run = Run(en_lab)
    rows = {line.split()[1]: line.split()[0] for line in run("list", "papers").out.splitlines()[1:]}
    assert rows["clip"] == LISTED_BROKEN and rows["transformer"] == LISTED_BROKEN
    assert rows["vit"] == "⬜"
    items = _papers(run)
    assert items["clip"]["problem"].startswith("papers/clip.md:")
    assert "2021a" in items["clip"]["problem"]
    assert items["transformer"]["problem"].startswith("papers/reading-list.yaml:")
    assert items["vit"]["problem"] is None
    assert items["clip"]["status"] == "reading"  # the fields that read are still there


def test_many_problems_are_summed_up_with_what_was_skipped(en_lab: Path) -> None:
    _break(en_lab)
    for number in range(3):
        (en_lab / f"papers/plain-{number}.md").write_text(f"# plain {number}\n", "utf-8")
    warned = Run(en_lab)("list", "papers").err.strip().splitlines()
    assert len(warned) == 1
    assert warned[0].startswith(
        "warning: 6 problems found reading the lab (3 paper notes without frontmatter, 1"
        " skipped), first notes/fundamentals/bad.md:"
    )


def test_in_brief_counts_what_was_skipped() -> None:
    findings = [
        Finding.of("notes/a.md", 2, "note.no_frontmatter", fields="x"),
        Finding.of("notes/b.md", 3, "field.missing", field="title")._replace(skipped=True),
        Finding.of("papers/c.md", 1, "field.missing", field="title"),
        Finding.of("papers/d.md", 1, "field.missing", field="title")._replace(skipped=True),
    ]
    brief = in_brief(findings)
    assert (brief.total, brief.skipped, brief.bare) == (4, 2, 1)
    assert [skipped for _text, skipped in brief.shown] == [False, True, False]
    assert brief.shown[1][0] == str(findings[1])


def test_a_note_that_does_not_read_never_hides_a_paper_that_does(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "clip").ok
    # sorts first by name, holds the same key, and its YAML does not parse
    (en_lab / "papers/a-clip.md").write_text("---\nkey: clip\ntitle: [oops\n---\n", "utf-8")
    listed = run("list", "papers", "--json")
    assert listed.ok
    clip = next(item for item in json.loads(listed.out) if item["key"] == "clip")
    assert clip["note"] == "papers/clip.md" and clip["status"] == "reading"
    assert clip["title"].startswith("Learning Transferable Visual Models")
    warned = [
        line for line in run("list", "papers").err.splitlines() if line.startswith("warning:")
    ]
    clash = [line for line in warned if "papers/a-clip.md:1:" in line and "clip" in line]
    assert clash and clash[0].endswith("(skipped)")
    marked = run("mark", "clip", "read")  # which note to write? refused, saying why
    assert marked.code == 1 and marked.err.strip().endswith(
        "more than one note holds the key `clip`; give all but one another key first"
    )


def test_an_entry_without_a_key_and_an_unreadable_list_with_no_history_say_skipped(
    en_lab: Path,
) -> None:
    run = Run(en_lab)
    listed = en_lab / "papers/reading-list.yaml"
    text = listed.read_text("utf-8")
    listed.write_text(text + "- title: No Key Here\n  status: reading\n", "utf-8")
    out = run("list", "papers")
    line = next(line for line in out.err.splitlines() if "missing" in line)
    assert line.startswith("warning: papers/reading-list.yaml:") and line.endswith("(skipped)")
    assert "No Key Here" not in out.out
    assert "1 of them skipped" in run("status").out
    listed.write_text(text.replace("papers:\n", "papers: [\n", 1), "utf-8")
    shutil.rmtree(en_lab / ".lab")  # no earlier reading of the list to show its papers from
    out = run("list", "papers")
    warned = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and warned[0].endswith("(skipped)")
    listed.write_text(text, "utf-8")
    assert run("list", "papers").ok
    listed.write_text(text.replace("papers:\n", "papers: [\n", 1), "utf-8")
    out = run("list", "papers")  # the list it last read: its papers are shown, marked
    warned = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and "skipped" not in warned[0]
    assert "transformer" in out.out


def test_a_paper_note_with_a_field_that_does_not_read_keeps_the_others_in_a_fresh_clone(
    en_lab: Path,
) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "clip").ok
    note = en_lab / "papers/clip-note.md"
    (en_lab / "papers/clip.md").rename(note)  # a file named otherwise than its key
    text = note.read_text("utf-8")
    note.write_text(text.replace("\ncreated: ", "\ncreated: notadate #", 1), "utf-8")
    shutil.rmtree(en_lab / ".lab")  # .lab/ is not committed: a fresh clone has no history
    items = _papers(run)
    clip = items["clip"]
    assert clip["note"] == "papers/clip-note.md" and clip["problem"].startswith(
        "papers/clip-note.md:"
    )
    assert "`created` is not a date" in clip["problem"]
    assert clip["title"].startswith("Learning Transferable Visual Models")
    assert (clip["status"], clip["stage"], clip["year"]) == ("reading", 2, 2021)
    assert json.loads(run("status", "--json").out)["papers"]["reading"] == 1
    marked = run("mark", "clip", "read")
    assert marked.code == 1 and "papers/clip-note.md:" in marked.err
    assert note.read_text("utf-8").count("notadate") == 1  # nothing written
    note.write_text(text, "utf-8")
    assert run("mark", "clip", "read").ok
    items = _papers(run)
    assert items["clip"]["problem"] is None and items["clip"]["status"] == "read"


def _clip_without_status(lab: Path) -> Run:
    """The lab with the note of `clip`, its `status:` line taken out by hand."""
    run = Run(lab)
    assert run("new", "paper", "clip").ok
    note = lab / "papers/clip.md"
    lines = note.read_text("utf-8").splitlines(True)
    note.write_text("".join(line for line in lines if not line.startswith("status:")), "utf-8")
    return run


def _papers(run: Run) -> dict[str, dict[str, Any]]:
    """`lab list papers --json`, by key."""
    return {item["key"]: item for item in json.loads(run("list", "papers", "--json").out)}


def test_a_paper_note_without_a_status_keeps_a_marked_row(en_lab: Path) -> None:
    """It left every table before (its problem is one for `lab check` alone)."""
    run = _clip_without_status(en_lab)
    for fresh in (False, True):
        if fresh:
            shutil.rmtree(en_lab / ".lab")
        items = _papers(run)
        assert items["clip"]["problem"] == "papers/clip.md:1: missing field `status`"
        # its last status while lab has it, else the default
        assert items["clip"]["status"] == ("unread" if fresh else "reading")
    marked = run("mark", "clip", "read")
    assert marked.code == 1 and "papers/clip.md:1: missing field `status`" in marked.err


def test_a_tick_on_the_row_of_a_paper_that_does_not_read_is_refused(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    note.write_text(note.read_text("utf-8").replace("year: 2021\n", "year: 2021a\n"), "utf-8")
    assert run("sync").ok
    readme = en_lab / "papers/README.md"
    text = readme.read_text("utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| ⚠️ | clip |"))
    readme.write_text(text.replace(row, row.replace("| ⚠️ |", "| ✅ |", 1)), "utf-8")
    broken = note.read_bytes()
    synced = run("sync")
    assert synced.code == 1 and "papers/clip.md:" in synced.err and "2021a" in synced.err
    assert note.read_bytes() == broken


def test_no_status_line_is_warned_of_and_a_pipe_is_checked_once(en_lab: Path) -> None:
    run = _clip_without_status(en_lab)
    listed = run("list", "papers")
    assert "warning: papers/clip.md:1: missing field `status`" in listed.err
    assert json.loads(run("status", "--json").out)["problems"] == [
        "papers/clip.md:1: missing field `status`"
    ]
    os.mkfifo(en_lab / "notes/fundamentals/pipe.md")
    lines = run("check").out.splitlines()
    piped = [line for line in lines if line.startswith("notes/fundamentals/pipe.md:")]
    assert piped == [
        "notes/fundamentals/pipe.md:1: not a regular file (a pipe or device?) (skipped)"
    ]


def test_files_the_walk_skips_are_counted_by_status_and_warned_of(en_lab: Path) -> None:
    run = Run(en_lab)
    (en_lab / "notes/fundamentals/dangle.md").symlink_to("nothere.md")
    os.mkfifo(en_lab / "notes/fundamentals/pipe.md")
    assert (
        "⚠ 2 problems found reading the lab, 2 of them skipped (see lab check)" in run("status").out
    )
    report = json.loads(run("status", "--json").out)
    assert report["skipped"] == 2 and sorted(report["problems"]) == [
        "notes/fundamentals/dangle.md:1: symlink to a file that does not exist",
        "notes/fundamentals/pipe.md:1: not a regular file (a pipe or device?)",
    ]
    warned = [line for line in run("list", "notes").err.splitlines() if line.startswith("warning:")]
    assert sorted(warned) == [
        "warning: notes/fundamentals/dangle.md:1: symlink to a file that does not exist (skipped)",
        "warning: notes/fundamentals/pipe.md:1: not a regular file (a pipe or device?) (skipped)",
    ]
    (en_lab / "notes/fundamentals/dangle.md").unlink()
    (en_lab / "notes/fundamentals/pipe.md").unlink()
    assert "problems found" not in run("status").out  # the kept report says nothing of them
    assert json.loads(run("status", "--json").out)["skipped"] == 0


def test_a_warm_status_names_skipped_files_without_reading_the_index(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk, which every command makes, knows them: the index is not loaded for them (10
    ms of a 10,000-note `lab status`, which its kept report otherwise answers alone)."""
    from mllm_lab.ops.workspace import Workspace

    run = Run(en_lab)
    (en_lab / "notes/fundamentals/dangle.md").symlink_to("nothere.md")
    assert run("status").ok and run("list", "papers").ok  # their results kept

    def unread(self: Workspace) -> None:
        raise AssertionError("the index was read")

    monkeypatch.setattr(Workspace, "snapshot", unread)
    status = run("status")
    assert status.ok and "1 problem found reading the lab, 1 of them skipped" in status.out
    assert (
        "dangle.md:1: symlink to a file that does not exist (skipped)" in run("list", "papers").err
    )


def test_ignore_and_non_notes_keep_skipped_files_quiet(en_lab: Path) -> None:
    run = Run(en_lab)
    config = en_lab / "lab.toml"
    config.write_text(
        config.read_text("utf-8") + 'ignore = ["notes/p.md", "*.lnk.md", "gone/"]\n', "utf-8"
    )
    os.mkfifo(en_lab / "notes/p.md")  # left out by a file pattern
    (en_lab / "notes/fundamentals/a.lnk.md").symlink_to("nothere.md")  # and by a glob
    outside = en_lab.parent / "elsewhere"
    (outside / "notes").mkdir(parents=True)
    (outside / "fig.png").write_bytes(b"png")
    (en_lab / "notes/fundamentals/fig.png").symlink_to(outside / "fig.png")  # not a note
    (en_lab / "notes/linked").symlink_to(outside / "notes")  # a folder of notes: named
    (en_lab / "notes/training/gone").symlink_to(outside / "notes")  # unless ignored as a folder
    (en_lab / "notes/training/README.md").symlink_to(outside / "fig.png")  # never a note
    (en_lab / "experiments/notebooks/data").symlink_to(outside)  # notebooks have no subfolders
    report = json.loads(run("status", "--json").out)
    assert report["problems"] == ["notes/linked:1: symlink points outside the lab"]
    assert report["skipped"] == 1
    assert run("check").out.splitlines() == [
        "notes/linked:1: symlink points outside the lab (skipped)"
    ]


def test_a_link_to_a_folder_or_note_the_walk_finds_anyway_counts_each_note_once(
    en_lab: Path,
) -> None:
    """A symlinked folder (or note) inside the lab is read where it really is: its notes were
    counted twice, each slug was "used twice" and the link was named as an unknown category."""
    run = Run(en_lab)
    assert run("new", "concept", "Alpha attention", "-c", "training").ok
    assert run("new", "concept", "Beta", "-c", "training").ok
    before = json.loads(run("status", "--json").out)
    (en_lab / "notes/alias").symlink_to("training")
    (en_lab / "notes/fundamentals/beta.md").symlink_to("../training/beta.md")
    (en_lab / "notes/papers").symlink_to("../papers")  # paper notes are not concept notes
    (en_lab / "resources/more").mkdir(parents=True)
    (en_lab / "resources/more/gamma.md").write_text(
        "---\ntitle: Gamma\ncategory: training\n---\n\n# Gamma\n", "utf-8"
    )
    (en_lab / "notes/training/more").symlink_to("../../resources/more")  # found only so
    (en_lab / "notes/fundamentals/also").symlink_to("../../resources/more")  # gamma again
    (en_lab / "notes/gamma.md").symlink_to("../resources/more/gamma.md")  # and again
    # notes the walk does not read where they are: found through the link, as before
    for hidden, name in ((".drafts", "draft.md"), ("training/.wip", "wip.txt")):
        (en_lab / "notes" / hidden).mkdir()
        text = f"---\ntitle: {name}\ncategory: training\n---\n\n# {name}\n"
        (en_lab / "notes" / hidden / name).write_text(text, "utf-8")
    (en_lab / "notes/training/draft.md").symlink_to("../.drafts/draft.md")
    (en_lab / "notes/training/wip.md").symlink_to(".wip/wip.txt")
    listed = run("list", "notes")
    assert listed.ok and listed.err == ""
    paths = [line.split()[0] for line in listed.out.splitlines()[1:]]
    assert len(paths) == 5 and sum("gamma" in path for path in paths) == 1
    assert {
        "notes/training/alpha-attention.md",
        "notes/training/beta.md",
        "notes/training/draft.md",
        "notes/training/wip.md",
    } <= set(paths)
    report = json.loads(run("status", "--json").out)
    assert report["problems"] == [] and report["skipped"] == 0
    assert report["papers"] == before["papers"]
    # lab check finds only what the hand-made gamma note lacks and the views it makes stale
    assert {line.split(":")[0] for line in run("check").out.splitlines()[:-1]} == {
        "README.md",
        "notes/README.md",
        *(path for path in paths if "gamma" in path or "draft" in path or "wip" in path),
    }


def test_several_links_to_one_note_keep_its_first_path_whatever_the_folders_order(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note reached through three links is found once, by the first of its paths in sorted
    order: which one was kept followed the order the folders list their entries on disk, which
    can differ between two clones of one lab."""
    from mllm_lab.lab import Lab
    from mllm_lab.walk import walk

    (en_lab / "resources/more").mkdir(parents=True)
    (en_lab / "resources/more/gamma.md").write_text("---\ntitle: Gamma\n---\n\n# Gamma\n", "utf-8")
    (en_lab / "notes/training/more").symlink_to("../../resources/more")
    (en_lab / "notes/gamma.md").symlink_to("../resources/more/gamma.md")
    (en_lab / "notes/fundamentals/also").symlink_to("../../resources/more")

    def gamma() -> list[str]:
        return [path for path, *_ in walk(Lab.find(str(en_lab))).found if "gamma" in path]

    assert gamma() == ["notes/fundamentals/also/gamma.md"]
    listing = os.scandir
    for order in (lambda entries: entries[::-1], sorted_by_name, lambda e: sorted_by_name(e)[::-1]):
        monkeypatch.setattr(os, "scandir", lambda where, order=order: order(list(listing(where))))
        assert gamma() == ["notes/fundamentals/also/gamma.md"]


def sorted_by_name(entries: list[os.DirEntry[str]]) -> list[os.DirEntry[str]]:
    return sorted(entries, key=lambda entry: entry.name)
