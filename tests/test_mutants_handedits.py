"""Hand edits in the generated views (ops/handedits.py), pinned where mutation testing found
them loose (issue 9): which edit of the papers table is a tick (a status cell alone, in any
spelling lab knows) and on which file line, which edits are refused and with what words, both
with the body lab last wrote and without it (a fresh clone: rows matched by key), and, through
`lab sync`, that an edit of another view names its own line and a tick is taken in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Run, read, tree

from mllm_lab.core.regions import find_region, render_region
from mllm_lab.core.views import papers_table
from mllm_lab.errors import HandEdited
from mllm_lab.models import Paper, Status
from mllm_lab.ops.handedits import Tick, hand_ticks

PAPERS = [
    Paper("blip-2", "BLIP-2", Status.UNREAD, topic="multimodal", stage=3, year=2023),
    Paper("a|b", "CLIP | x", Status.READING, topic="multimodal", stage=2, year=2021),
    Paper("vit", "ViT", Status.READ, topic="foundation", stage=1),
]
BODY = papers_table(PAPERS, "en")
TEXT = "# Papers\n\nmy intro\n\n" + render_region("papers", BODY) + "\nmy outro\n"


def edited(old: str, new: str, text: str = TEXT) -> tuple[str, int]:
    """The file with one line's `old` replaced, and that line's number."""
    lines = text.split("\n")
    number = next(n for n, line in enumerate(lines) if old in line)
    lines[number] = lines[number].replace(old, new)
    return "\n".join(lines), number + 1


def ticks(text: str, last: str | None) -> list[Tick]:
    region = find_region(text, "papers")
    assert region is not None
    return hand_ticks(region=region, last=last, now=BODY, path="papers/README.md")


def refused(text: str, last: str | None) -> tuple[int, str]:
    with pytest.raises(HandEdited) as caught:
        ticks(text, last)
    assert caught.value.path == "papers/README.md"
    return caught.value.line, caught.value.what.render("en")


@pytest.mark.parametrize("last", [BODY, None], ids=["with-last", "fresh-clone"])
@pytest.mark.parametrize(
    ("cell", "status"),
    [
        ("✅", Status.READ),
        ("✅\ufe0f", Status.READ),
        ("read", Status.READ),
        (" DONE ", Status.READ),
        ("已读", Status.READ),
        ("📖", Status.READING),
        ("在读", Status.READING),
        ("todo", Status.UNREAD),
    ],
)
def test_a_status_cell_changed_alone_is_a_tick_on_its_file_line(
    last: str | None, cell: str, status: Status
) -> None:
    text, line = edited("| ⬜ | blip-2 |", f"| {cell} | blip-2 |")
    if status is Status.UNREAD:
        text, line = edited("| 📖 | a&#124;b |", f"| {cell} | a&#124;b |")
        assert ticks(text, last) == [Tick("a|b", status, line)]
    else:
        assert ticks(text, last) == [Tick("blip-2", status, line)]


@pytest.mark.parametrize("last", [BODY, None], ids=["with-last", "fresh-clone"])
def test_two_ticks_come_in_table_order(last: str | None) -> None:
    text, first = edited("| 📖 | a&#124;b |", "| ✅ | a&#124;b |")
    text, second = edited("| ⬜ | blip-2 |", "| 📖 | blip-2 |", text)
    assert ticks(text, last) == [
        Tick("a|b", Status.READ, first),
        Tick("blip-2", Status.READING, second),
    ]


def test_an_untouched_region_has_no_ticks() -> None:
    assert ticks(TEXT, BODY) == [] and ticks(TEXT, None) == []


@pytest.mark.parametrize("last", [BODY, None], ids=["with-last", "fresh-clone"])
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("| ⬜ | blip-2 | BLIP-2 |", "| ✅ | blip-2 | BLIP-3 |"),  # a tick and another change
        ("| ⬜ | blip-2 | BLIP-2 |", "| ❓ | blip-2 | BLIP-2 |"),  # not a status lab knows
        ("| ⬜ | blip-2 | BLIP-2 | 2023 |", "| ✅ | blip-2 | BLIP-2 | 2024 |"),
    ],
)
def test_any_other_change_of_a_row_is_refused_on_its_line(
    last: str | None, old: str, new: str
) -> None:
    text, line = edited(old, new)
    where, what = refused(text, last)
    assert where == line
    row = text.split("\n")[line - 1].strip()
    assert what in (
        f"changed line: {row[:60]!r}",
        "this row differs from what the notes give; edit the note or run `lab sync --force`",
    )
    if last is not None:
        assert what == f"changed line: {row[:60]!r}"
    else:
        assert what == (
            "this row differs from what the notes give; edit the note or run `lab sync --force`"
        )


def test_with_the_last_body_a_row_with_a_cell_more_or_a_changed_text_line_is_refused() -> None:
    text, line = edited(
        "| ⬜ | blip-2 | BLIP-2 | 2023 |  |  |  |", "| ✅ | blip-2 | BLIP-2 | 2023 |  |  |  | x |"
    )
    assert refused(text, BODY)[0] == line
    text, line = edited("read 0 / 2", "read 1 / 2")
    assert refused(text, BODY) == (line, "changed line: 'read 1 / 2 · reading 1 · unread 1'")
    text, line = edited("### Multimodal models", "| ✅ | blip-2 | x |")
    assert refused(text, BODY)[0] == line


def test_with_the_last_body_rows_added_or_removed_name_the_first_difference() -> None:
    region = find_region(TEXT, "papers")
    assert region is not None
    lines = TEXT.split("\n")
    row = next(n for n, line in enumerate(lines) if "| blip-2 |" in line)
    removed = "\n".join(lines[:row] + lines[row + 1 :])
    assert refused(removed, BODY) == (row + 1, "rows were added or removed")
    added = "\n".join(
        [*lines[: region.end_line - 1], "| ✅ | new | New |", *lines[region.end_line - 1 :]]
    )
    assert refused(added, BODY) == (region.end_line, "rows were added or removed")


def test_in_a_fresh_clone_counts_and_headings_may_differ_but_not_other_lines() -> None:
    text, _ = edited("read 0 / 2 · reading 1 · unread 1", "read 1 / 2 · reading 0 · unread 1")
    text, _ = edited("### Foundation models", "### Foundations", text)
    text, line = edited("| 📖 | a&#124;b |", "| ✅ | a&#124;b |", text)
    assert ticks(text, None) == [Tick("a|b", Status.READ, line)]
    text, line = edited("my intro", "x")  # outside the region: not looked at
    assert ticks(text, None) == []
    text, line = edited("read 0 / 2", "I have read 0 / 2")
    assert refused(text, None) == (line, "changed line: 'I have read 0 / 2 · reading 1 · unread 1'")
    text, line = edited("| ⬜ | blip-2 |", "| ⬜ | blip-3 |")
    assert refused(text, None) == (line, f"changed line: {text.split(chr(10))[line - 1][:60]!r}")
    text, line = edited("| ⬜ | blip-2 | BLIP-2 | 2023 |  |  |  |", "| x |")
    assert refused(text, None)[0] == line
    # the header row is matched like a row: its words are lab's
    text, line = edited("| Status | Key | Paper |", "| State | Key | Paper |")
    assert refused(text, None)[0] == line


# --- through `lab sync` -------------------------------------------------------------------------


def test_an_edit_of_the_progress_view_names_the_line_it_is_on(en_lab: Path) -> None:
    run = Run(en_lab)
    readme = en_lab / "README.md"
    text = read(readme)
    lines = text.split("\n")
    end = next(n for n, line in enumerate(lines) if line.startswith("<!-- lab:end progress"))
    begin = next(n for n, line in enumerate(lines) if line.startswith("<!-- lab:begin progress"))
    for at, new in ((end, "- [ ] my own stage"), (begin + 2, "- [x] changed")):
        changed = [*lines[:at], new, *lines[at + (0 if new.startswith("- [ ] my") else 1) :]]
        readme.write_text("\n".join(changed), "utf-8")
        before = tree(en_lab)
        result = run("sync")
        assert result.code == 1, result
        assert result.err.startswith(
            f"error: README.md:{at + 1}: the generated region was edited by hand "
            "(the region no longer matches what `lab` wrote); move your text outside"
        ), result.err
        assert tree(en_lab) == before
    readme.write_text(text, "utf-8")
    assert run("sync").ok


def test_a_tick_is_taken_in_and_says_where_it_came_from(en_lab: Path) -> None:
    run = Run(en_lab)
    table = en_lab / "papers/README.md"
    text = read(table)
    match = re.search(r"^\| ⬜ \| (dpo) \|", text, re.M)
    assert match is not None
    line = text.count("\n", 0, match.start()) + 1
    table.write_text(text[: match.start()] + "| ✅ | dpo |" + text[match.end() :], "utf-8")
    check = run("sync", "--check")
    assert check.code == 1
    assert (
        f"papers/README.md:{line}: status of `dpo` changed by hand; run `lab sync` to take it in"
        in check.out
    )
    result = run("sync")
    assert result.ok, result
    assert f"took in the hand edit at papers/README.md:{line}: dpo -> " in result.out + result.err
    assert "| ✅ | dpo |" in read(table)
    assert run("sync", "--check").ok


# --- lab sync --check and --force -----------------------------------------------------------------


def begin_line(path: Path, region: str) -> int:
    lines = read(path).split("\n")
    return next(n for n, line in enumerate(lines, 1) if line.startswith(f"<!-- lab:begin {region}"))


def test_sync_check_names_each_problem_on_its_line_sorted_and_writes_nothing(
    en_lab: Path,
) -> None:
    run = Run(en_lab)
    assert run("sync", "--check").ok
    (en_lab / "notes/README.md").unlink()
    readme = en_lab / "README.md"
    progress = begin_line(readme, "progress")
    ticked = next(n for n, line in enumerate(read(readme).split("\n"), 1) if "- [ ]" in line)
    assert ticked > progress  # the first task line is the region's: the edited line is named
    readme.write_text(read(readme).replace("- [ ]", "- [x]", 1), "utf-8")
    table = en_lab / "papers/README.md"
    papers = begin_line(table, "papers")
    table.write_text(read(table).replace("<!-- lab:end papers -->\n", ""), "utf-8")
    before = tree(en_lab)
    result = run("sync", "--check")
    assert result.code == 1
    assert result.out.strip().split("\n") == [
        f"README.md:{ticked}: the generated region was edited by hand (the region no longer "
        "matches what `lab` wrote); move your text outside the lab:begin/lab:end markers, or run "
        "`lab sync --force` to regenerate it (the old region is kept in .lab-trash/)",
        "notes/README.md:1: missing; run `lab sync` to create it",
        f"papers/README.md:{papers}: damaged generated region: `lab:begin papers` without its "
        "`lab:end papers`; run `lab sync --repair` to fix the markers (nothing outside them is "
        "changed), then `lab sync`",
    ]
    assert tree(en_lab) == before


def test_sync_check_calls_a_view_stale_when_the_data_changed(en_lab: Path) -> None:
    run = Run(en_lab)
    listed = en_lab / "papers/reading-list.yaml"
    text = read(listed)
    assert "title: 'Direct Preference Optimization:" in text
    listed.write_text(text.replace("Preference Optimization:", "Preference Optimisation:"), "utf-8")
    result = run("sync", "--check")
    assert result.code == 1
    line = begin_line(en_lab / "papers/README.md", "papers")
    assert result.out.strip() == f"papers/README.md:{line}: stale; run `lab sync`"
    assert run("sync").ok and run("sync", "--check").ok


def test_sync_force_regenerates_a_hand_edited_view_and_keeps_the_old_region(en_lab: Path) -> None:
    run = Run(en_lab)
    readme = en_lab / "README.md"
    original = read(readme)
    edited_text = original.replace("- [ ]", "- [x] my tick", 1)
    readme.write_text(edited_text, "utf-8")
    assert run("sync").code == 1
    result = run("sync", "--force")
    assert result.ok, result
    assert read(readme) == original
    kept = [p for p in (en_lab / ".lab-trash").rglob("README.md") if p.is_file()]
    assert len(kept) == 1 and "- [x] my tick" in read(kept[0])
    assert "my tick" not in read(readme)
