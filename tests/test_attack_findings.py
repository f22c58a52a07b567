"""What a hostile-user review of the write path found, one test each (F1-F16 of that review),
so none of it comes back."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import Run, lab_executable, read, tree

from mllm_lab.core import fm


def set_line(path: Path, pattern: str, new: str) -> None:
    text = read(path)
    changed = re.sub(pattern, new, text, count=1, flags=re.M)
    assert changed != text, pattern
    path.write_text(changed, "utf-8")


def test_f1_comments_after_a_moved_entry_stay(in_lab: Run, lab: Path) -> None:
    listed = lab / "papers/reading-list.yaml"
    text = read(listed)
    after_blip = text.index("\n- key:", text.index("- key: blip-2")) + 1
    listed.write_text(text[:after_blip] + "# MY HEADER\n" + text[after_blip:], "utf-8")
    assert in_lab("new", "paper", "blip-2").ok
    assert "# MY HEADER\n" in read(listed) and "key: blip-2" not in read(listed)


def test_f2_without_a_stored_body_only_a_status_change_is_a_tick(en_lab: Path) -> None:
    run = Run(en_lab)
    table = en_lab / "papers/README.md"
    set_line(table, r"^\| ⬜ \| dpo \| (.*) \|  \|  \|$", r"| ✅ | dpo | \1 |  | 2026-11-20 |")
    before = tree(en_lab)
    result = run("sync")
    assert result.code == 1 and "papers/README.md:" in result.err and "differs" in result.err
    assert tree(en_lab) == before
    set_line(table, r"^\| ✅ \| dpo \| (.*) \|  \| 2026-11-20 \|$", r"| ✅ | dpo | \1 |  |  |")
    assert run("sync").ok
    assert "| ✅ | dpo |" in read(table) and "status: read" in read(
        en_lab / "papers/reading-list.yaml"
    )


def test_f3_a_reading_list_without_its_papers_key_is_refused(en_lab: Path) -> None:
    run = Run(en_lab)
    listed = en_lab / "papers/reading-list.yaml"
    listed.write_text(read(listed).replace("papers:", "Papers:", 1), "utf-8")
    before = tree(en_lab)
    for args in (("sync",), ("add", "paper", "mixtral"), ("mark", "clip", "read")):
        result = run(*args)
        assert result.code == 1 and "papers/reading-list.yaml:" in result.err, (args, result)
    assert run("sync", "--check").code == 1 and run("check").code == 1
    assert tree(en_lab) == before


def test_f5_an_edit_made_after_a_crash_is_not_overwritten(en_lab: Path) -> None:
    env = {**os.environ, "LAB_CRASH_AT": "6"}
    killed = subprocess.run(
        [lab_executable(), "mark", "dpo", "read"], cwd=en_lab, env=env, capture_output=True
    )
    assert killed.returncode == -signal.SIGKILL
    assert (en_lab / ".lab/commit.json").exists()
    readme = en_lab / "README.md"
    readme.write_text(read(readme) + "MINE\n", "utf-8")
    result = Run(en_lab)("status")
    assert result.ok and "MINE" in read(readme)
    assert "was not finished because the file was edited since" in result.err
    kept = list((en_lab / ".lab-trash").rglob("README.md.unapplied"))
    assert len(kept) == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t + "\n<!-- lab:begin papers -->\n",  # a stray begin after the region
        lambda t: (
            t.replace("<!-- lab:end papers -->", "@@")
            .replace(
                t[
                    t.index("<!-- lab:begin papers") : t.index(
                        "-->", t.index("<!-- lab:begin papers")
                    )
                    + 3
                ],
                "<!-- lab:end papers -->",
            )
            .replace("@@", "<!-- lab:begin papers -->")
        ),  # begin and end swapped
    ],
)
def test_f6_repair_never_crashes_and_never_touches_text_outside(
    en_lab: Path, damage: object
) -> None:
    table = en_lab / "papers/README.md"
    text = read(table).replace("# ", "# MINE ", 1)
    table.write_text(damage(text), "utf-8")  # type: ignore[operator]
    run = Run(en_lab)
    result = run("sync", "--repair")
    assert result.code in (0, 1) and "internal error" not in result.err, result
    assert "# MINE " in read(table)
    if result.ok:
        assert run("sync").ok and run("sync", "--check").ok


def test_f7_a_pipe_named_like_a_note_is_skipped_not_waited_for(en_lab: Path) -> None:
    os.mkfifo(en_lab / "notes/training/pipe.md")
    result = subprocess.run(
        [lab_executable(), "status"], cwd=en_lab, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    checked = Run(en_lab)("check")
    assert "notes/training/pipe.md:1: not a regular file" in checked.out


def test_f8_repair_and_check_see_a_weekly_logs_markers(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("weekly").ok
    log = en_lab / "weekly-log/2026-W48.md"
    log.write_text(read(log).replace("<!-- lab:end done -->\n", ""), "utf-8")
    failed = run("weekly")
    assert failed.code == 1 and "lab sync --repair" in failed.err
    assert "weekly-log/2026-W48.md:" in run("check").out
    assert run("sync", "--repair").ok
    assert run("weekly").ok and run("check").ok


def test_f9_a_broken_note_named_apart_from_its_key_still_holds_the_key(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok
    (en_lab / "papers/blip-2.md").rename(en_lab / "papers/my-blip.md")  # renamed by hand
    set_line(en_lab / "papers/my-blip.md", r"^title: .*$", "title: A: B: C")
    shutil.rmtree(en_lab / ".lab")
    result = run("new", "paper", "blip-2")
    assert result.code == 1 and "papers/my-blip.md:" in result.err
    assert not (en_lab / "papers/blip-2.md").exists()
    assert run("mark", "blip-2", "read").code == 1


def test_f10_two_notes_with_one_key_are_named_not_guessed(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok
    shutil.copy(en_lab / "papers/blip-2.md", en_lab / "papers/blip-2-v2.md")
    before = tree(en_lab)
    marked = run("mark", "blip-2", "read")
    assert marked.code == 1 and "papers/blip-2-v2.md" in marked.err
    assert tree(en_lab) == before
    check = run("sync", "--check")
    assert check.code == 1 and "duplicate paper key `blip-2`" in check.out
    assert run("sync").ok
    assert read(en_lab / "papers/README.md").count("| blip-2 |") == 1


def test_f11_a_new_field_goes_inside_its_entry(en_lab: Path) -> None:
    listed = en_lab / "papers/reading-list.yaml"
    text = read(listed)
    after_dpo = text.index("\n- key:", text.index("- key: dpo")) + 1
    listed.write_text(text[:after_dpo] + "\n# --- next section ---\n" + text[after_dpo:], "utf-8")
    assert Run(en_lab)("mark", "dpo", "reading").ok
    entry = read(listed)[read(listed).index("- key: dpo") :].split("# --- next section ---")[0]
    assert "status: reading" in entry and "started: 2026-11-25" in entry


def test_f12_a_template_that_drops_the_facts_is_refused(en_lab: Path) -> None:
    template = en_lab / "templates/en/paper.md.j2"
    template.write_text("# {{ paper.title }}\n\nmy own layout\n", "utf-8")
    before = tree(en_lab)
    result = Run(en_lab)("new", "paper", "dpo")
    assert (
        result.code == 1
        and "templates/en/paper.md.j2" in result.err
        and "frontmatter" in result.err
    )
    assert tree(en_lab) == before  # the reading-list entry, and its facts, are still there


def test_f13_mark_keeps_a_dotted_closing_line_and_odd_line_ends(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok
    note = en_lab / "papers/blip-2.md"
    text = (
        read(note)
        .replace("\n---\n", "\n...\n", 1)
        .replace("topic: multimodal\n", "topic: multimodal\r\n")
    )
    note.write_bytes(text.encode())
    assert run("mark", "blip-2", "read").ok
    after = note.read_bytes().decode()
    assert "\n...\n" in after and "topic: multimodal\r\n" in after
    assert (
        after.replace("status: read", "status: reading")
        .replace("finished: 2026-11-25", "finished: null")
        .replace("- 2026-11-25 read\n", "", 1)
        == text
    )


def test_f14_ticking_a_broken_row_is_one_line(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok
    set_line(en_lab / "papers/blip-2.md", r"^title: .*$", "title: A: B: C")
    assert run("sync").ok
    set_line(en_lab / "papers/README.md", r"^\| ⚠️ \| blip-2 \|", "| ✅ | blip-2 |")
    result = run("sync")
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1


def test_f15_ctrl_c_while_starting_is_one_line(en_lab: Path) -> None:
    process = subprocess.Popen(
        [lab_executable(), "status"], cwd=en_lab, stderr=subprocess.PIPE, text=True
    )
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 1


def test_f16_force_keeps_a_read_papers_status(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok and run("mark", "blip-2", "read").ok
    assert run("new", "paper", "blip-2", "--force").ok
    meta = fm.parse(read(en_lab / "papers/blip-2.md"), "x").meta
    assert meta["status"] == "read" and str(meta["finished"]) == "2026-11-25"


def test_a_note_in_a_subfolder_is_named_not_forced(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "blip-2").ok
    (en_lab / "papers/2023").mkdir()
    shutil.move(en_lab / "papers/blip-2.md", en_lab / "papers/2023/blip-2.md")
    result = run("new", "paper", "blip-2", "--force")
    assert result.code == 1 and "blip-2 already has a note: papers/2023/blip-2.md" in result.err


def test_a_tick_with_a_variation_selector_counts(en_lab: Path) -> None:
    set_line(en_lab / "papers/README.md", r"^\| ⬜ \| dpo \|", "| ✅\ufe0f | dpo |")
    assert Run(en_lab)("sync").ok
    assert (
        "status: read"
        in read(en_lab / "papers/reading-list.yaml").split("key: dpo")[1].split("- key:")[0]
    )


# --- a later hostile review (round 36) ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bad", "title", "counted"),
    [
        ("year: 2017", "year: 2017a", "Attention Is All You Need", True),
        ("status: read", "status: maybe", "Attention Is All You Need", False),
        ("status: read", "status:", "Attention Is All You Need", False),
        ("stage: 1", "stage: 9", "Attention Is All You Need", False),
        ("title: Attention Is All You Need", "title: [a, b]", "transformer", True),
    ],
)
def test_a_reading_list_entry_with_a_field_lab_cannot_read_keeps_a_marked_row(
    en_lab: Path, field: str, bad: str, title: str, counted: bool
) -> None:
    """One typo in one entry used to take the paper out of every table, with exit 0 and a
    warning: the entry keeps the row of the fields that read (its title, or its key), marked
    with the problem, as a paper note that does not read keeps its last row; its status and
    stage still count; `lab mark` on it names the entry's line; once the typo is fixed the
    row is the paper's own again."""
    run = Run(en_lab)
    listed, table, readme = (
        en_lab / "papers/reading-list.yaml",
        en_lab / "papers/README.md",
        en_lab / "README.md",
    )
    assert run("mark", "transformer", "read").ok
    total = re.findall(r"\*\*Total\*\*.*", read(table))
    progress = re.findall(r"^- \[ \] .*", read(readme), re.M)
    text = read(listed)
    at = text.index(field, text.index("- key: transformer"))
    listed.write_text(text[:at] + bad + text[at + len(field) :], "utf-8")
    synced = run("sync")
    assert synced.ok and "papers/reading-list.yaml:5:" in synced.err
    row = re.search(
        r"^\| ⚠️ \| transformer \| (.*) ⚠️ papers/reading-list\.yaml:5: ", read(table), re.M
    )
    assert row is not None and row[1].startswith((f"[{title}]", title)), read(table)
    if "status" not in field:  # a status that does not read is no status
        assert re.findall(r"\*\*Total\*\*.*", read(table)) == total
    assert (re.findall(r"^- \[ \] .*", read(readme), re.M) == progress) == counted
    marked = run("mark", "transformer", "unread")
    assert marked.code == 1 and marked.err.startswith("error: papers/reading-list.yaml:5: ")
    assert "reading-list entry of `transformer`" in marked.err
    exported = run("export", "bibtex", "transformer")
    assert exported.code == 1 and "papers/reading-list.yaml:5: " in exported.err
    every = run("export", "bibtex")
    assert every.ok and "{transformer" not in every.out and "Vaswani" not in every.out
    assert run("check").code == 1
    listed.write_text(text, "utf-8")
    assert run("sync").ok
    assert "| ✅ | transformer | [Attention Is All You Need]" in read(table)
    assert run("mark", "transformer", "unread").ok


def test_a_key_listed_twice_is_marked_where_it_is_shown(en_lab: Path) -> None:
    """The first of two entries of one key is the one the table shows and `lab mark` writes:
    when it does not read, mark is refused with its line rather than writing into one entry
    while the table shows the other (exit 0, nothing changed to see)."""
    run = Run(en_lab)
    listed, table = en_lab / "papers/reading-list.yaml", en_lab / "papers/README.md"
    with listed.open("a", encoding="utf-8") as stream:
        stream.write("- key: dupk\n  title: Dup Bad\n  year: 2024a\n  status: read\n")
        stream.write("- key: dupk\n  title: Dup Good\n  year: 2024\n  status: read\n")
    assert run("sync").ok
    assert re.search(r"^\| ⚠️ \| dupk \| Dup Bad ⚠️ ", read(table), re.M)
    marked = run("mark", "dupk", "reading")
    assert marked.code == 1 and "papers/reading-list.yaml:" in marked.err
    text = read(listed)
    listed.write_text(text.replace("  year: 2024a\n", "  year: 2023\n"), "utf-8")
    assert run("mark", "dupk", "reading").ok
    assert "| 📖 | dupk | Dup Bad |" in read(table)
    first = read(listed).split("key: dupk")[1]
    assert "status: reading" in first and "Dup Bad" in first


@pytest.mark.parametrize(
    "args",
    [
        ["new", "paper", "My Notes On X", "--key", "readme"],
        ["new", "concept", "X", "-c", "training", "--slug", "readme"],
        ["new", "concept", "README", "-c", "training"],
    ],
)
def test_a_note_named_readme_which_lab_would_never_read_is_refused(
    en_lab: Path, args: list[str]
) -> None:
    """A folder's readme.md (any case) is not a note to the walk: a note written under that
    name was created with exit 0 and then seen by no command. It is refused, nothing written."""
    run = Run(en_lab)
    before = tree(en_lab)
    result = run(*args)
    assert result.code == 1 and "cannot name a note" in result.err, result.err
    assert tree(en_lab) == before


def test_a_paper_key_made_from_a_title_is_never_readme(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("add", "paper", "README").ok
    assert "- key: readme-2\n" in read(en_lab / "papers/reading-list.yaml")
    assert run("new", "paper", "readme-2").ok and (en_lab / "papers/readme-2.md").is_file()
    assert "| readme-2 |" in read(en_lab / "papers/README.md")


def _region_twice(table: Path, tick_in: str) -> None:
    """papers/README.md after a bad merge: its table region twice, one copy ticked by hand."""
    text = read(table)
    begin = text.index("<!-- lab:begin papers")
    end = text.index("<!-- lab:end papers -->") + len("<!-- lab:end papers -->\n")
    region = text[begin:end]
    ticked = region.replace("| ⬜ | transformer |", "| ✅ | transformer |")
    assert ticked != region
    first, second = (ticked, region) if tick_in == "first" else (region, ticked)
    table.write_text(text[:begin] + first + "\n" + second + text[end:], "utf-8")


@pytest.mark.parametrize("tick_in", ["first", "second"])
def test_a_repaired_duplicate_region_keeps_the_copy_ticked_by_hand(
    en_lab: Path, tick_in: str
) -> None:
    """`lab sync --repair` removed the second copy of a duplicated region whatever it held: a
    tick made in that copy was lost. The copy with hand edits is kept, and its tick taken in."""
    run = Run(en_lab)
    table = en_lab / "papers/README.md"
    _region_twice(table, tick_in)
    assert run("sync").code == 1
    repaired = run("sync", "--repair")
    assert repaired.ok, repaired.err
    assert read(table).count("<!-- lab:begin papers") == 1
    assert "| ✅ | transformer |" in read(table)
    listed = read(en_lab / "papers/reading-list.yaml")
    assert "status: read" in listed.split("key: transformer")[1].split("- key:")[0]
    assert len(list((en_lab / ".lab-trash").rglob("*"))) > 0


def test_two_copies_of_a_region_both_ticked_differently_are_refused(en_lab: Path) -> None:
    run = Run(en_lab)
    table = en_lab / "papers/README.md"
    _region_twice(table, "second")
    text = read(table)
    first_end = text.index("<!-- lab:end papers -->")
    text = text[:first_end].replace("| ⬜ | gpt-1 |", "| ✅ | gpt-1 |") + text[first_end:]
    table.write_text(text, "utf-8")
    begins = [n for n, line in enumerate(read(table).split("\n"), 1) if "lab:begin papers" in line]
    before = tree(en_lab)
    repaired = run("sync", "--repair")
    assert repaired.code == 1 and f"papers/README.md:{begins[1]}:" in repaired.err
    assert f"the copies at lines {begins[0]}, {begins[1]} were edited by hand and differ" in (
        repaired.err
    )
    assert tree(en_lab) == before


def test_three_copies_of_a_region_are_named_by_their_lines_in_the_file_as_it_is(
    en_lab: Path,
) -> None:
    """The refusal names the edited copies where the user will look for them, not where they
    would be once an untouched copy was taken out; with one edited copy, it is the one kept."""
    run = Run(en_lab)
    table = en_lab / "papers/README.md"
    text = read(table)
    begin = text.index("<!-- lab:begin papers")
    end = text.index("<!-- lab:end papers -->") + len("<!-- lab:end papers -->\n")
    region = text[begin:end]
    two = region.replace("| ⬜ | gpt-2 |", "| ✅ | gpt-2 |")
    three = region.replace("| ⬜ | gpt-3 |", "| ✅ | gpt-3 |")
    table.write_text(text[:begin] + "\n".join([region, two, three]) + text[end:], "utf-8")
    begins = [n for n, line in enumerate(read(table).split("\n"), 1) if "lab:begin papers" in line]
    refused = run("sync", "--repair")
    assert refused.code == 1 and f"the copies at lines {begins[1]}, {begins[2]} were" in refused.err
    table.write_text(text[:begin] + "\n".join([region, region, three]) + text[end:], "utf-8")
    assert run("sync", "--repair").ok
    assert read(table).count("<!-- lab:begin papers") == 1 and "| ✅ | gpt-3 |" in read(table)


@pytest.mark.parametrize(
    ("ignore", "args", "path"),
    [
        (
            '["papers/draft-*"]',
            ["new", "paper", "Draft Thing", "--key", "draft-one"],
            "papers/draft-one.md",
        ),
        ('["*.tmp.md"]', ["new", "paper", "Draft Thing", "--key", "foo.tmp"], "papers/foo.tmp.md"),
        ('["notes/training/"]', ["new", "concept", "Y", "-c", "training"], "notes/training/y.md"),
    ],
)
def test_a_note_that_ignore_leaves_out_is_refused(
    en_lab: Path, ignore: str, args: list[str], path: str
) -> None:
    """`ignore` in lab.toml leaves files out of every command: a note written where it points
    was created with exit 0, put in the table, and gone from it at the next `lab sync`."""
    config = en_lab / "lab.toml"
    config.write_text(read(config) + f"ignore = {ignore}\n", "utf-8")
    run = Run(en_lab)
    assert run("status").ok
    before = tree(en_lab)
    result = run(*args)
    assert result.code == 1 and f"error: {path} is left out by `ignore` in lab.toml" in result.err
    assert tree(en_lab) == before


def test_entries_on_one_line_are_marked_each_for_its_own_problem(en_lab: Path) -> None:
    """A reading list in flow style holds every entry on one line: the problem of one entry
    marks that entry's row, not its neighbour's."""
    run = Run(en_lab)
    listed, table = en_lab / "papers/reading-list.yaml", en_lab / "papers/README.md"
    listed.write_text(
        "papers: [{key: a1, title: A One, year: 2024a, status: read},"
        " {key: b1, title: B One, status: reading}]\n",
        "utf-8",
    )
    assert run("sync").ok
    assert re.search(r"^\| ⚠️ \| a1 \| A One ⚠️ papers/reading-list\.yaml:1: ", read(table), re.M)
    assert "| 📖 | b1 | B One |" in read(table)
    assert run("prompt", "paper", "b1").ok


def test_a_note_an_ignore_negation_takes_back_is_not_refused(en_lab: Path) -> None:
    """The walk never asks `ignore` about a kind's own folder, so `!papers/keep-*.md` after
    `papers/` gives those notes back: creating one is not refused."""
    config = en_lab / "lab.toml"
    config.write_text(read(config) + 'ignore = ["papers/", "!papers/keep-*.md"]\n', "utf-8")
    run = Run(en_lab)
    assert run("new", "paper", "Keep A", "--key", "keep-a").ok
    assert "| keep-a |" in read(en_lab / "papers/README.md")
    listed = run("list", "papers")
    assert listed.ok and "keep-a" in listed.out
    refused = run("new", "paper", "Drop A", "--key", "drop-a")
    assert refused.code == 1 and "papers/drop-a.md is left out by `ignore`" in refused.err


def test_an_export_says_which_papers_it_leaves_out(en_lab: Path, tmp_path: Path) -> None:
    run = Run(en_lab)
    listed = en_lab / "papers/reading-list.yaml"
    text = read(listed)
    listed.write_text(text.replace("  year: 2017\n", "  year: 2017a\n", 1), "utf-8")
    out = tmp_path / "refs.bib"
    result = run("export", "bibtex", "-o", str(out))
    assert result.ok and "{transformer" not in read(out)
    said = [line for line in result.err.splitlines() if "left out" in line]
    assert said == [
        "warning: papers/reading-list.yaml:5: `year` is not a year: '2017a'"
        " (`transformer` is left out until it is fixed)"
    ]


def test_a_copy_without_its_sha_but_as_lab_wrote_it_is_no_hand_edit(en_lab: Path) -> None:
    """Three copies of the README's progress after a bad merge, one of them without the sha
    in its begin marker (CRLF, text of the user's between them): they are the same, so the
    one whose sha holds is kept and no --force is needed."""
    readme = en_lab / "README.md"
    text = read(readme)
    found = re.search(r"<!-- lab:begin progress.*?<!-- lab:end progress -->\n", text, re.S)
    assert found is not None
    region = found[0]
    bare = re.sub(r" sha=[0-9a-f]+", "", region, count=1)
    merged = text[: found.end()] + "\nhand A\n\n" + bare + "\nhand B\n\n" + region
    readme.write_bytes((merged + text[found.end() :]).replace("\n", "\r\n").encode("utf-8"))
    run = Run(en_lab)
    repaired = run("sync", "--repair")
    assert repaired.ok, repaired.err
    after = readme.read_bytes().decode("utf-8")
    assert after.count("<!-- lab:begin progress sha=") == 1 and "lab:begin progress ·" not in after
    assert "hand A\r\n" in after and "hand B\r\n" in after
    assert run("sync", "--check").ok


@pytest.mark.parametrize("order", ["sha tick bare", "tick bare sha", "sha bare tick bare"])
def test_one_ticked_copy_among_untouched_ones_is_kept_in_any_order(
    en_lab: Path, order: str
) -> None:
    """Copies of the papers table after a bad merge: one ticked by hand, the others as lab
    wrote them (one without its sha). All but the ticked one go in one repair, whatever their
    order (removing them one at a time lost the copy a sha-less one was compared with, and
    two copies were then said to differ, at lines of a half-repaired text)."""
    table = en_lab / "papers/README.md"
    text = read(table)
    found = re.search(r"<!-- lab:begin papers.*?<!-- lab:end papers -->\n", text, re.S)
    assert found is not None
    region = found[0]
    copies = {
        "sha": region,
        "bare": re.sub(r" sha=[0-9a-f]+", "", region, count=1),
        "tick": region.replace("| ⬜ | transformer |", "| ✅ | transformer |"),
    }
    merged = "\nhand\n\n".join(copies[name] for name in order.split())
    table.write_text(text[: found.start()] + merged + text[found.end() :], "utf-8")
    begins = [n for n, line in enumerate(read(table).split("\n"), 1) if "lab:begin papers" in line]
    run = Run(en_lab)
    repaired = run("sync", "--repair")
    assert repaired.ok, repaired.err
    gone = [b for b, name in zip(begins, order.split(), strict=True) if name != "tick"]
    assert f"papers/README.md:{begins[1]}: removed the other copies of region `papers`" in (
        repaired.err
    )
    assert all(f"{line}-" in repaired.err for line in gone)
    assert read(table).count("<!-- lab:begin papers") == 1
    assert "| ✅ | transformer |" in read(table)
    assert read(table).count("\nhand\n") == len(order.split()) - 1
    assert run("sync", "--check").ok
