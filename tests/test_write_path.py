"""Issue 8: never lose a word, never lie. One test per finding of the issue, named after it,
each reproducing the rude-but-ordinary edit that used to lose text or make a paper vanish."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import Run, read, tree

from mllm_lab.core import fm

TRASH = ".lab-trash"


def trashed(lab: Path) -> dict[str, str]:
    """Every backup in .lab-trash/, by its path under the dated folder."""
    folder = lab / TRASH
    if not folder.exists():
        return {}
    return {
        "/".join(p.relative_to(folder).parts[1:]): read(p)
        for p in folder.rglob("*")
        if p.is_file() and p.name != ".gitignore"
    }


def set_line(path: Path, pattern: str, new: str) -> None:
    text = read(path)
    changed = re.sub(pattern, new, text, count=1, flags=re.M)
    assert changed != text, pattern
    path.write_text(changed, "utf-8")


# --- 1. a lost end marker -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "region"),
    [("papers/README.md", "papers"), ("README.md", "progress"), ("notes/README.md", "notes-index")],
)
def test_1_lost_end_marker_refuses_then_repair_keeps_user_text(
    in_lab: Run, lab: Path, view: str, region: str
) -> None:
    path = lab / view
    text = read(path).replace(f"<!-- lab:end {region} -->\n", "")
    mine = "\n## My own section\n\nwords I wrote after a bad merge\n"
    path.write_text(text + mine, "utf-8")
    before = tree(lab)
    begin_line = next(
        n
        for n, line in enumerate(text.split("\n"), 1)
        if line.startswith(f"<!-- lab:begin {region}")
    )
    for args in (
        ("mark", "clip", "read"),
        ("mark", "clip", "reading"),
        ("new", "concept", "X", "-c", "training"),
        ("sync",),
    ):
        result = in_lab(*args)
        assert result.code == 1, (args, result)
        assert result.err.startswith(f"错误：{view}:{begin_line}: 生成区域的标记已损坏"), result.err
        assert "lab sync --repair" in result.err
        assert tree(lab) == before  # nothing written, nothing appended
    check = in_lab("sync", "--check")
    assert check.code == 1 and f"{view}:{begin_line}:" in check.out
    repaired = in_lab("sync", "--repair")
    assert repaired.ok, repaired
    assert "放回了丢失的 `lab:end" in repaired.err
    after = read(path)
    assert after.endswith(mine) and after.count(f"<!-- lab:end {region} -->") == 1
    assert in_lab("sync", "--check").ok
    assert in_lab("mark", "clip", "read").ok and read(path).endswith(mine)


def test_1_markers_inside_code_fences_are_text(in_lab: Run, lab: Path) -> None:
    path = lab / "papers/README.md"
    example = "\n```markdown\n<!-- lab:begin papers -->\nexample of the format\n```\n"
    path.write_text(read(path) + example, "utf-8")
    assert in_lab("mark", "clip", "read").ok
    assert read(path).endswith(example)
    assert in_lab("sync", "--check").ok


def test_1_a_duplicated_region_is_refused_and_repair_keeps_the_extra_copy(
    in_lab: Run, lab: Path
) -> None:
    path = lab / "README.md"
    text = read(path)
    region = text[
        text.index("<!-- lab:begin progress") : text.index("<!-- lab:end progress -->") + 26
    ]
    path.write_text(text + "\nmine\n\n" + region, "utf-8")
    before = tree(lab)
    result = in_lab("mark", "vit", "read")
    assert result.code == 1 and "第二个区域 `progress`" in result.err
    assert tree(lab) == before
    assert in_lab("sync", "--repair").ok
    assert read(path).count("<!-- lab:begin progress") == 1 and read(path).endswith("\nmine\n\n")
    assert any("阶段一" in text for text in trashed(lab).values())


# --- 2. every writing command refuses a hand edit inside a region --------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("new", "concept", "Cross-Attention", "-c", "multimodal-arch"),
        ("new", "paper", "blip-2"),
        ("new", "experiment", "toy"),
        ("weekly",),
        ("add", "paper", "dpo"),
        ("mark", "vit", "read"),
        ("sync",),
        ("review",),
    ],
)
def test_2_every_writer_refuses_a_hand_edit_in_a_region(
    in_lab: Run, lab: Path, args: tuple[str, ...]
) -> None:
    readme = lab / "README.md"
    set_line(readme, r"^(- \[ \] 阶段二.*)$", r"\1 (my own remark)")
    line = next(n for n, text in enumerate(read(readme).split("\n"), 1) if "my own remark" in text)
    before = tree(lab)
    result = in_lab(*args)
    assert result.code == 1, result
    assert result.err.startswith(f"错误：README.md:{line}: 生成区域被手动修改过")
    assert "lab sync --force" in result.err
    assert tree(lab) == before
    forced = in_lab("sync", "--force")  # the advice is true
    assert forced.ok and "my own remark" not in read(readme)
    assert "my own remark" in trashed(lab)["README.md"]
    assert f"{TRASH}/" in forced.err


# --- 3. a broken note keeps its place ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("title", "title: BLIP-2: Bootstrapping: x"),
        ("created", "created: 2026/11/30"),
        ("created", "created: 2026-02-30"),
    ],
)
def test_3_broken_note_keeps_its_row_and_every_check_fails(
    in_lab: Run, lab: Path, line: str, value: str
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    counted = next(
        text for text in read(lab / "README.md").split("\n") if "阶段三" in text and "- [" in text
    )
    note = lab / "papers/blip-2.md"
    set_line(note, rf"^{line}: .*$", value)
    number = next(n for n, text in enumerate(read(note).split("\n"), 1) if text == value)
    where = f"papers/blip-2.md:{number}:" if line == "title" else "papers/blip-2.md:"
    check = in_lab("sync", "--check")
    assert check.code == 1 and where in check.out, check
    assert in_lab("check").code == 1
    for args in (
        ("mark", "blip-2", "read"),
        ("add", "paper", "blip-2"),
        ("new", "paper", "blip-2"),
    ):
        result = in_lab(*args)
        assert result.code == 1 and where in result.err and "请先修好它" in result.err, (
            args,
            result,
        )
    assert "blip-2" not in read(lab / "papers/reading-list.yaml")  # never a second entry
    assert in_lab("mark", "vit", "read").ok  # the rest of the lab still works
    table = read(lab / "papers/README.md")
    row = next(text for text in table.split("\n") if "| blip-2 |" in text)
    assert (
        row.startswith("| ⚠️ | blip-2 | [BLIP-2: Bootstrapping Language-Image")
        and "papers/blip-2.md:" in row
    )
    stage3 = next(
        text for text in read(lab / "README.md").split("\n") if "阶段三" in text and "- [" in text
    )
    papers_of = lambda text: text.split("—")[1].split("·")[0]  # noqa: E731
    assert papers_of(stage3) == papers_of(counted)  # still counted in its stage


def test_3_broken_note_without_an_index_still_has_a_row(in_lab: Run, lab: Path) -> None:
    import shutil

    assert in_lab("new", "paper", "blip-2").ok
    set_line(lab / "papers/blip-2.md", r"^title: .*$", "title: A: B: C")
    shutil.rmtree(lab / ".lab")
    assert in_lab("sync").ok
    assert "| ⚠️ | blip-2 | [blip-2](blip-2.md) ⚠️ papers/blip-2.md:3:" in read(
        lab / "papers/README.md"
    )
    assert in_lab("add", "paper", "blip-2").code == 1


# --- 4. an unreadable reading list is refused, never rewritten -----------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("papers:\n  clip: {title: CLIP}\n", 1),
        ("papers: just a string\n", 1),
        ("papers:\n- clip\n- key: vit\n  title: ViT\n", 2),
        ("- key: clip\n", 1),
        ("papers:\n- &a {key: clip, title: C}\n- *a\n", 2),
        ("papers:\n- key: clip\n  key: vit\n", 3),
    ],
)
def test_4_add_paper_refuses_a_reading_list_it_cannot_read(
    in_lab: Run, lab: Path, text: str, line: int
) -> None:
    listed = lab / "papers/reading-list.yaml"
    listed.write_text(text, "utf-8")
    before = tree(lab)
    result = in_lab("add", "paper", "dpo")
    assert result.code == 1 and result.err.startswith(f"错误：papers/reading-list.yaml:{line}:"), (
        result
    )
    assert tree(lab) == before
    assert in_lab("mark", "clip", "read").code == 1
    assert in_lab("sync", "--check").code == 1
    assert read(listed) == text


# --- 5. edits keep comments, block scalars and order ---------------------------------------


def test_5_mark_changes_only_the_status_lines(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    note = lab / "papers/blip-2.md"
    head, rest = read(note).split("\n---\n", 1)
    custom = (
        head + "\n# my comment about this paper\nnotes: |\n  line one\n  line two\n---\n" + rest
    )
    note.write_text(custom, "utf-8")
    assert in_lab("mark", "blip-2", "read").ok
    after = read(note)
    added = "- 2026-11-25 read\n"  # one line more in the history, right after its last
    assert added in after
    before_lines, after_lines = custom.split("\n"), after.replace(added, "", 1).split("\n")
    assert len(before_lines) == len(after_lines)
    changed = [(a, b) for a, b in zip(before_lines, after_lines, strict=True) if a != b]
    assert changed == [
        ("status: reading", "status: read"),
        ("finished: null", "finished: 2026-11-25"),
    ]
    assert "history:\n- 2026-11-25 reading\n- 2026-11-25 read\n" in after
    meta = fm.parse(after, "x").meta
    assert meta["notes"] == "line one\nline two\n" and meta["status"] == "read"


def test_5_duplicate_keys_are_refused_not_rewritten(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    note = lab / "papers/blip-2.md"
    text = read(note).replace("status: reading\n", "status: reading\nstatus: unread\n", 1)
    note.write_text(text, "utf-8")
    result = in_lab("mark", "blip-2", "read")
    assert result.code == 1 and "duplicate key `status`" in result.err
    assert read(note) == text


def test_5_reading_list_edits_keep_comments_and_formatting(in_lab: Run, lab: Path) -> None:
    listed = lab / "papers/reading-list.yaml"
    text = read(listed).replace(
        "- key: clip\n", "# CLIP first: my advisor says so\n- key: clip  # the one\n", 1
    )
    listed.write_text(text, "utf-8")
    assert in_lab("mark", "clip", "reading").ok
    assert in_lab("add", "paper", "mixtral").ok
    assert in_lab("new", "paper", "vit").ok
    after = read(listed)
    assert "# CLIP first: my advisor says so\n- key: clip  # the one\n" in after
    assert after.startswith(text.split("- key: transformer")[0])
    assert "key: vit" not in after and "key: mixtral" in after


# --- 6. --force keeps what it replaces -----------------------------------------------------


def test_6_new_paper_force_keeps_the_old_note_and_its_status(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    note = lab / "papers/blip-2.md"
    note.write_text(read(note) + "\nMy careful notes about Q-Former.\n", "utf-8")
    assert in_lab("mark", "blip-2", "read").ok
    old = read(note)
    forced = in_lab("new", "paper", "blip-2", "--force")
    assert forced.ok, forced
    assert trashed(lab)["papers/blip-2.md"] == old
    assert re.search(r"旧版本保存在 \.lab-trash/[\dT-]+/papers/blip-2\.md", forced.err)
    meta = fm.parse(read(note), "x").meta
    assert meta["status"] == "read" and meta["finished"] == date(2026, 11, 25)


def test_6_backups_live_outside_the_cache(in_lab: Run, lab: Path) -> None:
    import shutil

    assert in_lab("new", "concept", "A", "-c", "training").ok
    assert in_lab("new", "concept", "A", "-c", "training", "--force").ok
    shutil.rmtree(lab / ".lab")  # the cache, which the README says can go any time
    assert "notes/training/a.md" in trashed(lab)
    assert read(lab / TRASH / ".gitignore").strip().endswith("*")


# --- 7. a failed new paper changes nothing; temp files are cleaned -------------------------


def test_7_failed_new_paper_leaves_note_and_list_as_they_were(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    before = tree(lab)
    real = os.replace
    calls = {"n": 0}

    def failing(src: object, dst: object) -> None:
        calls["n"] += 1
        if str(dst).endswith("commit.json"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", failing)
    result = in_lab("new", "paper", "clip")
    assert result.code == 1 and "磁盘空间不足" in result.err
    assert tree(lab) == before  # neither the note nor a changed reading list
    assert list((lab / ".lab/tmp").iterdir()) == []


def test_7_stray_temp_files_of_older_runs_are_removed(in_lab: Run, lab: Path) -> None:
    stray = lab / "papers/.blip-2.md.k3j_a9zq.tmp"
    stray.write_text("half a note", "utf-8")
    (lab / ".lab/tmp").mkdir(parents=True, exist_ok=True)
    (lab / ".lab/tmp/123-0.tmp").write_text("half", "utf-8")
    assert in_lab("mark", "vit", "read").ok
    assert not stray.exists() and list((lab / ".lab/tmp").iterdir()) == []


# --- 8. the tick wins, and only the tick ---------------------------------------------------


def test_8_frontmatter_edit_plus_a_tick_on_another_row(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    set_line(lab / "papers/blip-2.md", r"^status: reading$", "status: read")
    set_line(lab / "papers/README.md", r"^\| ⬜ \| clip \|", "| ✅ | clip |")
    result = in_lab("mark", "vit", "reading")
    assert result.ok, result
    table = read(lab / "papers/README.md")
    assert "| ✅ | clip |" in table and "| ✅ | blip-2 |" in table and "| 📖 | vit |" in table
    assert "采纳了 papers/README.md:" in result.err
    assert in_lab("sync", "--check").ok


def test_8_a_tick_on_the_row_whose_frontmatter_also_changed_wins(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    set_line(lab / "papers/blip-2.md", r"^status: reading$", "status: unread")
    set_line(lab / "papers/README.md", r"^\| 📖 \| blip-2 \|", "| ✅ | blip-2 |")
    assert in_lab("sync").ok
    assert fm.parse(read(lab / "papers/blip-2.md"), "x").meta["status"] == "read"


# --- 9. hangs and tracebacks ---------------------------------------------------------------

BOMB = "---\nkey: bomb\ntitle: Bomb\nstatus: unread\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n---\n"


def test_9_alias_bomb_is_refused_at_once(in_lab: Run, lab: Path) -> None:
    (lab / "papers/bomb.md").write_text(BOMB, "utf-8")
    check = in_lab("check")
    assert check.code == 1
    assert "papers/bomb.md:5: 不允许使用 YAML 锚点和别名（&name、*name）" in check.out


def test_9_symlink_loop_is_reported_and_the_rest_works(in_lab: Run, lab: Path) -> None:
    (lab / "notes/training/a.md").symlink_to(lab / "notes/training/b.md")
    (lab / "notes/training/b.md").symlink_to(lab / "notes/training/a.md")
    assert in_lab("status").ok and in_lab("mark", "vit", "read").ok
    assert "notes/training/a.md:1: 符号链接循环（已跳过）" in in_lab("check").out


@pytest.mark.parametrize(
    "notebook",
    ['{"cells": [], "metadata": []}', '{"cells": [1, "x"], "metadata": {}}', '{"cells": {}}', "[]"],
)
def test_9_odd_notebooks_are_reported_not_crashed_on(in_lab: Run, lab: Path, notebook: str) -> None:
    (lab / "experiments/notebooks/odd.ipynb").write_text(notebook, "utf-8")
    for args in (
        ("status",),
        ("list", "experiments"),
        ("review", "--dry-run"),
        ("weekly", "--dry-run"),
    ):
        assert in_lab(*args).ok, args
    checked = in_lab("check")
    assert checked.code == 1 and "experiments/notebooks/odd.ipynb:1:" in checked.out


def test_9_impossible_date_in_the_reading_list_names_its_line(in_lab: Run, lab: Path) -> None:
    listed = lab / "papers/reading-list.yaml"
    text = read(listed).replace(
        "  status: unread\n", "  status: reading\n  started: 2026-02-30\n", 1
    )
    listed.write_text(text, "utf-8")
    line = text.split("\n").index("  started: 2026-02-30") + 1
    before = tree(lab)
    result = in_lab("new", "paper", "blip-2")
    assert result.code == 1 and result.err.startswith(f"错误：papers/reading-list.yaml:{line}:")
    assert tree(lab) == before


# --- 10. blank titles ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("new", "paper", "  "),
        ("new", "concept", "", "-c", "training"),
        ("add", "paper", ""),
        ("new", "experiment", " \t"),
    ],
)
def test_10_blank_titles_are_refused(in_lab: Run, lab: Path, args: tuple[str, ...]) -> None:
    before = tree(lab)
    result = in_lab(*args)
    assert result.code == 1 and "标题为空" in result.err
    assert tree(lab) == before


# --- 11. YAML every reader reads the same way ----------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "1e3",
        "0o17",
        "1_000",
        ".5",
        "yes",
        "Off",
        "~",
        "2026-01-01",
        "12:30:00",
        "=",
        ".inf",
        "0x1F",
    ],
)
def test_11_titles_that_look_like_numbers_stay_strings(in_lab: Run, lab: Path, title: str) -> None:
    result = in_lab("new", "concept", title, "-c", "training", "--tags", f"{title},0o17")
    assert result.ok, result
    head = read(lab / result.out.strip()).split("---")[1]
    assert yaml.safe_load(head)["title"] == title
    line = next(text for text in head.split("\n") if text.startswith("title:"))
    assert line in (f"title: '{title}'", f'title: "{title}"'), line
    assert "- '0o17'" in head


@pytest.mark.parametrize("cache", [True, False])
def test_1_a_lost_begin_marker_goes_back_where_the_region_began(
    in_lab: Run, lab: Path, cache: bool
) -> None:
    import shutil

    assert in_lab("mark", "clip", "read").ok
    table = lab / "papers/README.md"
    mine = "\nwords of mine\n"
    table.write_text(
        re.sub(r"^<!-- lab:begin papers.*\n", "", read(table), flags=re.M) + mine, "utf-8"
    )
    if not cache:
        shutil.rmtree(lab / ".lab")
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "放回了丢失的 `lab:begin papers`" in repaired.err
    text = read(table)
    assert text.count("| clip |") == 1 and text.endswith(mine)
    assert in_lab("sync", "--check").ok


def test_1_a_lost_begin_after_a_hand_tick_goes_back_and_the_tick_is_taken_in(
    in_lab: Run, lab: Path
) -> None:
    """Found by the stateful test: the region's body no longer matches what lab wrote (a
    ticked row), so the begin marker went right above the end and every row showed twice."""
    table = lab / "papers/README.md"
    ticked = re.sub(r"^\| ⬜ \| blip-2 \|", "| ✅ | blip-2 |", read(table), flags=re.M)
    table.write_text(re.sub(r"^<!-- lab:begin papers.*\n", "", ticked, flags=re.M), "utf-8")
    assert in_lab("sync", "--repair").ok
    text = read(table)
    assert text.count("| blip-2 |") == 1 and text.count("| clip |") == 1
    assert re.search(r"^\| ✅ \| blip-2 \|", text, re.M)
    assert in_lab("sync", "--check").ok and in_lab("check").ok


def test_1_a_lost_begin_after_a_tick_and_a_line_of_mine_is_refused_then_repaired_by_force(
    in_lab: Run, lab: Path
) -> None:
    """Found by the stateful test: a line written above the end marker, a row ticked and the
    begin marker deleted; `sync --repair` put the begin right above the end, and the whole
    table showed twice. The line of mine is a hand edit: repair says so at its line, and
    `--repair --force` (not `--force`, which stops at the markers) keeps it in .lab-trash/."""
    text = re.sub(r"^\| ⬜ \| blip-2 \|", "| ✅ | blip-2 |", read(lab / PAPERS_VIEW), flags=re.M)
    text = text.replace("<!-- lab:end papers -->", "USER words\n<!-- lab:end papers -->")
    text = re.sub(r"^<!-- lab:begin papers.*\n", "", text, flags=re.M)
    refused_at_my_line_then_forced(in_lab, lab, text, "USER words", ["sync", "--repair"])


PAPERS_VIEW = "papers/README.md"


def refused_at_my_line_then_forced(
    in_lab: Run, lab: Path, text: str, mine: str, command: list[str]
) -> None:
    """`text` written to the papers view: `command` refuses at the line `mine` with nothing
    changed and names itself with `--force` as the remedy, which then keeps that line in
    .lab-trash/ and lists each paper once."""
    (lab / PAPERS_VIEW).write_text(text, "utf-8")
    line = text.split("\n").index(mine) + 1
    before = tree(lab)
    refused = in_lab(*command)
    assert refused.code == 1 and tree(lab) == before
    assert refused.err.startswith(f"错误：{PAPERS_VIEW}:{line}: 生成区域被手动修改过")
    assert f"`lab {' '.join([*command, '--force'])}`" in refused.err
    assert in_lab(*command, "--force").ok
    text = read(lab / PAPERS_VIEW)
    assert text.count("| blip-2 |") == 1 and text.count("| llava |") == 1
    assert mine not in text and mine in "".join(trashed(lab).values())
    assert in_lab("sync", "--check").ok


def test_1_both_markers_lost_with_a_line_of_mine_in_the_table_is_refused_then_forced(
    in_lab: Run, lab: Path
) -> None:
    """Both markers deleted, a row ticked and a line written in the middle of the table: the
    table is still found (the line is a hand edit, refused at its line); `--force` keeps the
    line in .lab-trash/ and the table shows once."""
    text = re.sub(r"^\| ⬜ \| blip-2 \|", "| ✅ | blip-2 |", read(lab / PAPERS_VIEW), flags=re.M)
    text = re.sub(r"^(\| ⬜ \| llava \|.*\n)", r"\1MIDDLE words\n", text, flags=re.M)
    text = re.sub(r"^<!-- lab:(begin|end) papers.*\n", "", text, flags=re.M)
    refused_at_my_line_then_forced(in_lab, lab, text, "MIDDLE words", ["sync"])


def test_1_both_markers_lost_after_a_hand_tick_the_table_is_taken_back_with_the_tick(
    in_lab: Run, lab: Path
) -> None:
    """Found by the stateful test: with both markers gone and a row ticked, the old table no
    longer matched what lab wrote, so a new one was appended and every row showed twice."""
    table = lab / "papers/README.md"
    ticked = re.sub(r"^\| ⬜ \| blip-2 \|", "| ✅ | blip-2 |", read(table), flags=re.M)
    table.write_text(re.sub(r"^<!-- lab:(begin|end) papers.*\n", "", ticked, flags=re.M), "utf-8")
    made = in_lab("new", "experiment", "x")
    assert made.ok and "blip-2 -> 已读" in made.err
    text = read(table)
    assert text.count("| blip-2 |") == 1 and text.count("| clip |") == 1
    assert re.search(r"^\| ✅ \| blip-2 \|", text, re.M)
    assert in_lab("sync", "--check").ok


def test_1_swapped_markers_are_swapped_back(in_lab: Run, lab: Path) -> None:
    table = lab / "papers/README.md"
    text = read(table)
    begin = re.search(r"^<!-- lab:begin papers.*$", text, re.M)[0]  # type: ignore[index]
    swapped = (
        text.replace("<!-- lab:end papers -->", "@@")
        .replace(begin, "<!-- lab:end papers -->")
        .replace("@@", begin)
    )
    table.write_text(swapped, "utf-8")
    assert in_lab("mark", "clip", "read").code == 1
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "颠倒" in repaired.err
    assert read(table).count("| clip |") == 1 and in_lab("sync", "--check").ok


def test_swapped_end_markers_after_a_bad_merge_are_repaired_keeping_the_text_between(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    table = lab / "papers/README.md"
    original = read(table)
    papers_end, compare_end = "<!-- lab:end papers -->", "<!-- lab:end compare -->"
    assert papers_end in original and compare_end in original
    swapped = (
        original.replace(papers_end, "@@")
        .replace(compare_end, papers_end)
        .replace("@@", compare_end + "\n\n我在两个表之间写的话")
    )
    table.write_text(swapped, "utf-8")
    refused = in_lab("sync")
    assert refused.code == 1 and "lab sync --repair" in refused.err
    repaired = in_lab("sync", "--repair")
    assert repaired.ok, repaired
    assert read(table) == original.replace(papers_end, papers_end + "\n\n我在两个表之间写的话")
    assert in_lab("sync", "--check").ok


def test_sync_check_and_the_writing_commands_name_the_same_line_of_a_hand_edit(
    in_lab: Run, lab: Path
) -> None:
    readme = lab / "README.md"
    lines = read(readme).split("\n")
    begin = next(i for i, line in enumerate(lines) if line.startswith("<!-- lab:begin progress"))
    edited = begin + 3  # 0-based: the third line of the region's body
    lines[edited] += " 我的补充"
    readme.write_text("\n".join(lines), "utf-8")
    where = f"README.md:{edited + 1}:"
    assert where in in_lab("sync", "--check").out
    assert where in in_lab("sync").err
    assert where in in_lab("new", "concept", "RoPE", "-c", "fundamentals").err
    # only the sha of the begin marker changed (a merge can leave that): its own line is named
    lines[edited] = lines[edited].removesuffix(" 我的补充")
    lines[begin] = re.sub(r"sha=[0-9a-f]+", "sha=000000000000", lines[begin])
    readme.write_text("\n".join(lines), "utf-8")
    where = f"README.md:{begin + 1}:"
    assert where in in_lab("sync", "--check").out
    assert where in in_lab("sync").err
