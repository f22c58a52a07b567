"""Damaged markers found by a hostile-user pass over `lab sync --repair` (2026-11-27). Before
these fixes each case ended with a view shown twice while `lab sync --check` was clean, or
with messages that sent the user round in a loop. Each case follows the messages the way a
user would and checks: every paper listed once, nothing the user wrote lost, and a refusal
that names the line of the file as it is on disk."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import Run, read, tree

PAPERS = "papers/README.md"


def lines_of(lab: Path, path: str = PAPERS) -> list[str]:
    return read(lab / path).split("\n")


def write_lines(lab: Path, lines: list[str], path: str = PAPERS) -> None:
    (lab / path).write_text("\n".join(lines), "utf-8")


def at(lines: list[str], prefix: str) -> int:
    """The 0-based index of the first line that starts with `prefix`."""
    return next(n for n, line in enumerate(lines) if line.startswith(prefix))


def tick(lines: list[str], key: str) -> None:
    row = at(lines, f"| ⬜ | {key} |")
    lines[row] = lines[row].replace("| ⬜ |", "| ✅ |", 1)


def rows_of(lab: Path, key: str) -> int:
    return len(re.findall(rf"^\| \S+ \| {re.escape(key)} \|", read(lab / PAPERS), re.M))


def test_a_lost_begin_after_a_row_deleted_and_a_line_added_goes_back_where_the_table_began(
    in_lab: Run, lab: Path
) -> None:
    lines = lines_of(lab)
    tick(lines, "transformer")
    del lines[at(lines, "| ⬜ | gpt-2 |")]
    lines.insert(at(lines, "| ⬜ | llava |"), "MY NOTE")
    del lines[at(lines, "<!-- lab:begin papers")]
    write_lines(lab, lines)
    mine = lines.index("MY NOTE") + 1
    refused = in_lab("sync", "--repair")  # the begin was found: the line of mine is refused
    assert refused.code == 1 and f"{PAPERS}:{mine}:" in refused.err
    assert "`lab sync --repair --force`" in refused.err
    assert in_lab("sync", "--repair", "--force").ok
    assert rows_of(lab, "transformer") == 1 and rows_of(lab, "gpt-2") == 1
    assert in_lab("sync", "--check").ok


def test_both_markers_lost_and_a_row_moved_down_is_taken_back_not_appended(
    in_lab: Run, lab: Path
) -> None:
    lines = lines_of(lab)
    row = lines.pop(at(lines, "| ⬜ | gpt-1 |"))
    lines.insert(at(lines, "| ⬜ | clip |"), row)
    lines = [
        line
        for line in lines
        if not line.startswith(("<!-- lab:begin papers", "<!-- lab:end papers"))
    ]
    write_lines(lab, lines)
    in_lab("sync", "--force")
    assert rows_of(lab, "gpt-1") == 1 and rows_of(lab, "transformer") == 1
    assert in_lab("sync", "--check").ok


def test_a_lost_end_after_a_tick_goes_back_where_the_table_ended_and_the_tick_is_taken_in(
    in_lab: Run, lab: Path
) -> None:
    lines = lines_of(lab)
    tick(lines, "transformer")
    del lines[at(lines, "<!-- lab:end papers")]
    write_lines(lab, lines)
    damaged = in_lab("sync")
    assert damaged.code == 1 and "--repair" in damaged.err
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "transformer -> 已读" in repaired.err
    text = read(lab / PAPERS)
    assert rows_of(lab, "transformer") == 1 and text.count("## 架构对比") == 1
    assert re.search(r"^\| ✅ \| transformer \|", text, re.M)
    assert in_lab("sync", "--check").ok


def test_a_line_in_the_second_region_of_a_file_is_refused_at_its_line_with_a_way_out(
    in_lab: Run, lab: Path
) -> None:
    """The compare region after the papers region, its end lost and a line written in the
    middle of it: the refusal named a line of the repaired text and `lab sync --force`, which
    stopped at the markers and said `lab sync --repair`: round and round."""
    lines = lines_of(lab)
    begin, end = at(lines, "<!-- lab:begin compare"), at(lines, "<!-- lab:end compare")
    lines.insert((begin + end) // 2, "MY LINE")
    del lines[end + 1]
    write_lines(lab, lines)
    before = tree(lab)
    refused = in_lab("sync", "--repair")
    assert refused.code == 1 and tree(lab) == before
    assert refused.err.startswith(
        f"错误：{PAPERS}:{lines.index('MY LINE') + 1}: 生成区域被手动修改过"
    )
    assert "`lab sync --repair --force`" in refused.err
    forced = in_lab("sync", "--repair", "--force")
    assert forced.ok and read(lab / PAPERS).count("## 架构对比") == 1
    assert "MY LINE" not in read(lab / PAPERS)
    assert in_lab("sync", "--check").ok


def test_a_line_written_above_a_lost_end_stays_outside_the_region(in_lab: Run, lab: Path) -> None:
    lines = lines_of(lab)
    end = at(lines, "<!-- lab:end compare")
    lines[end] = "MY LINE"
    write_lines(lab, lines)
    assert in_lab("sync", "--repair").ok
    text = read(lab / PAPERS)
    assert "<!-- lab:end compare -->\nMY LINE" in text and text.count("## 架构对比") == 1
    assert in_lab("sync", "--check").ok


def test_a_lost_begin_of_compare_or_progress_alone_is_repaired_as_lab_wrote_it(
    in_lab: Run, lab: Path
) -> None:
    """Only the begin marker deleted: put back with the sha of the body it was found by, so
    an untouched body is not a hand edit; compare's body is looked for too, not only the
    papers table that shares its file."""
    for path, name, heading in (
        (PAPERS, "compare", "## 架构对比"),
        ("README.md", "progress", None),
    ):
        lines = lines_of(lab, path)
        del lines[at(lines, f"<!-- lab:begin {name}")]
        write_lines(lab, lines, path)
        assert in_lab("sync", "--repair").ok
        assert in_lab("sync", "--check").ok
        text = read(lab / path)
        assert text.count(f"<!-- lab:begin {name}") == 1
        if heading:
            assert text.count(heading) == 1


def test_an_extra_end_marker_inside_the_table_is_dropped_a_conflict_is_refused(
    in_lab: Run, lab: Path
) -> None:
    lines = lines_of(lab)
    end = at(lines, "<!-- lab:end papers")
    lines.insert(end, lines[end])  # the end marker line twice
    write_lines(lab, lines)
    assert in_lab("sync", "--repair").ok and in_lab("sync", "--check").ok
    assert read(lab / PAPERS).count("<!-- lab:end papers") == 1
    lines = lines_of(lab)
    lines.insert(at(lines, "<!-- lab:begin papers") + 20, "<!-- lab:end papers -->")
    write_lines(lab, lines)
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "多余的 `lab:end papers`" in repaired.err
    assert rows_of(lab, "llava") == 1 and in_lab("sync", "--check").ok
    # a merge conflict over the table's last lines: which end is right cannot be told, and
    # which side to keep is the user's to say
    lines = lines_of(lab)
    end = at(lines, "<!-- lab:end papers")
    conflict = end - 2 + 1  # the `<<<<<<<` line, 1-based
    lines[end - 2 : end + 1] = [
        "<<<<<<< HEAD",
        *lines[end - 2 : end + 1],
        "=======",
        "",
        "**合计**：已读 1 / 35",
        "<!-- lab:end papers -->",
        ">>>>>>> other",
    ]
    write_lines(lab, lines)
    before = tree(lab)
    for args in (("sync", "--repair"), ("sync", "--repair", "--force")):
        refused = in_lab(*args)
        assert refused.code == 1 and tree(lab) == before
        assert len(refused.err.strip().splitlines()) == 1
        assert refused.err.startswith(f"错误：{PAPERS}:{conflict}: 文件里留着 git 合并冲突")
        assert "lab sync --repair" not in refused.err


def test_a_begin_pasted_below_its_end_is_refused_not_a_second_table(in_lab: Run, lab: Path) -> None:
    lines = lines_of(lab)
    begin = lines.pop(at(lines, "<!-- lab:begin papers"))
    lines.insert(at(lines, "<!-- lab:end papers") + 1, begin)
    write_lines(lab, lines)
    before = tree(lab)
    refused = in_lab("sync", "--repair")
    assert refused.code == 1 and tree(lab) == before
    first_row = at(lines, "| ⬜ |") + 1  # headings and table headers are not lab's own lines
    assert refused.err.startswith(f"错误：{PAPERS}:{first_row}: 无法在不猜测的情况下修复标记")
    assert rows_of(lab, "llava") == 1


def test_a_lost_end_that_was_the_last_line_without_a_newline_goes_back(
    in_lab: Run, lab: Path
) -> None:
    text = read(lab / "README.md")
    lost = text[: text.index("<!-- lab:end progress -->")].rstrip("\n")  # the file ends there
    (lab / "README.md").write_text(lost, "utf-8")
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "lab 上次写入的区域结尾处" in repaired.err
    assert read(lab / "README.md").count("<!-- lab:begin progress") == 1
    assert in_lab("sync", "--check").ok


# --- a second pass: refusals that were false, and views shown twice silently ---------------


def test_a_copy_of_the_progress_list_in_my_intro_does_not_block_a_repair(
    in_lab: Run, lab: Path
) -> None:
    readme = read(lab / "README.md")
    begin = readme.index("<!-- lab:begin progress")
    listed = readme[readme.index("\n", begin) + 1 : readme.index("<!-- lab:end progress")]
    mine = readme.replace("\n## ", f"\n{listed}\n## ", 1)  # pasted into the intro
    (lab / "README.md").write_text(mine.replace("<!-- lab:end progress -->\n", ""), "utf-8")
    assert in_lab("sync", "--repair").ok
    text = read(lab / "README.md")
    assert text.count("<!-- lab:end progress") == 1 and text.count(listed) == 2
    assert in_lab("sync", "--check").ok
    # both markers lost now: two copies, and which one lab wrote cannot be told
    (lab / "README.md").write_text(mine.replace("<!-- lab:end progress -->\n", ""), "utf-8")
    lost = re.sub(r"^<!-- lab:(begin|end) progress.*\n", "", read(lab / "README.md"), flags=re.M)
    (lab / "README.md").write_text(lost, "utf-8")
    before = tree(lab)
    refused = in_lab("sync")
    assert refused.code == 1 and tree(lab) == before
    assert (
        refused.err.startswith("错误：README.md:") and "无法在不猜测的情况下修复标记" in refused.err
    )
    # the pre-commit hook says the same, at the same line: it said "README.md:1: stale, run
    # `lab sync`", and `lab sync` then refused
    where = refused.err.removeprefix("错误：").split(" ", 1)[0]
    checked = in_lab("sync", "--check")
    assert checked.code == 1 and tree(lab) == before
    assert checked.out.startswith(where) and "无法在不猜测的情况下修复标记" in checked.out
    assert "已过期" not in checked.out


def test_an_end_marker_moved_up_into_the_table_is_refused_not_a_half_table_twice(
    in_lab: Run, lab: Path
) -> None:
    """The end marker cut and pasted in the middle of the table, a row below it ticked: the
    markers pair up, so the table was regenerated whole inside them, its lower half stayed
    below (shown twice) and the tick below the marker was lost."""
    lines = lines_of(lab)
    end = lines.pop(at(lines, "<!-- lab:end papers"))
    tick(lines, "dpo")
    moved = at(lines, "### 多模态模型")
    lines.insert(moved, end)
    write_lines(lab, lines)
    first = next(n for n in range(moved + 1, len(lines)) if lines[n].startswith("已读")) + 1
    before = tree(lab)
    for args in (("sync",), ("mark", "clip", "read")):
        refused = in_lab(*args)
        assert refused.code == 1 and tree(lab) == before
        assert refused.err.startswith(f"错误：{PAPERS}:{first}: 无法在不猜测的情况下修复标记")
    checked = in_lab("sync", "--check")
    assert checked.code == 1 and f"{PAPERS}:{first}:" in checked.out


def test_init_in_a_repository_that_holds_the_lists_without_markers_takes_them_back(
    tmp_path: Path,
) -> None:
    made = Run(tmp_path)("init", "first")
    assert made.ok
    repo = tmp_path / "repo"
    repo.mkdir()
    old = read(tmp_path / "first" / "README.md")
    (repo / "README.md").write_text(re.sub(r"^<!-- lab:.*\n", "", old, flags=re.M), "utf-8")
    assert Run(repo)("init", ".").ok
    text = read(repo / "README.md")
    assert text.count("<!-- lab:begin progress") == 1
    assert text.count("阶段一：Transformer 与 LLM 基础 —") == 1
    assert Run(repo)("sync", "--check").ok


def test_a_concept_note_that_lost_its_related_end_marker_is_repaired(
    in_lab: Run, lab: Path
) -> None:
    """It was a dead end: `lab related --write` sent the user to `lab sync --repair`, which
    repaired the markers of the views and weekly logs only."""
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "multimodal-arch", "--related", "blip-2").ok
    note = lab / "notes/multimodal-arch/q-former.md"
    written = read(note)
    mine = written.replace("## ", "## 我的小节\n\n我写的字。\n\n## ", 1)
    note.write_text(mine.replace("<!-- lab:end related -->\n", "", 1), "utf-8")
    refused = in_lab("related", "notes/multimodal-arch/q-former.md", "--write")
    assert refused.code == 1 and "lab sync --repair" in refused.err
    repaired = in_lab("sync", "--repair")
    assert repaired.ok and "notes/multimodal-arch/q-former.md" in repaired.err + repaired.out
    assert read(note) == mine
    assert in_lab("check").ok


def test_a_lost_begin_of_a_notes_list_goes_back_above_the_list_lab_wrote(
    in_lab: Run, lab: Path
) -> None:
    """Put back right before the end, it left lab's list above it as the user's text, and
    the next `lab weekly` or `lab related --write` wrote the list a second time."""
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "multimodal-arch", "--related", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former 训练", "-c", "training").ok
    assert in_lab("weekly").ok
    note = lab / "notes/multimodal-arch/q-former.md"
    log = next((lab / "weekly-log").glob("*.md"))
    written = {path: read(path) for path in (note, log)}
    assert "- [BLIP-2" in written[note] and "Q-Former 训练" in written[log]
    for path, text in written.items():
        kept = [line for line in text.split("\n") if not line.startswith("<!-- lab:begin ")]
        path.write_text("\n".join(kept), "utf-8")
    repaired = in_lab("sync", "--repair")
    assert repaired.ok, repaired.err
    for path, text in written.items():  # the marker is back where it was, with its sha
        begin = next(line for line in text.split("\n") if line.startswith("<!-- lab:begin "))
        back = begin.split(" · ")[0]
        assert [line.split(" · ")[0] for line in read(path).split("\n")] == [
            line.split(" · ")[0] for line in text.split("\n")
        ], path
        assert back in read(path)
    assert in_lab("weekly").ok
    assert read(log) == written[log]  # its list once, the marker as lab writes it
    refreshed = in_lab("related", str(note.relative_to(lab)), "--write")
    assert refreshed.ok and "edited" not in refreshed.out + refreshed.err
    assert read(note).count("- [BLIP-2") == 1
    assert "- [Q-Former 训练](../training/q-former-xun-lian.md)" in read(note)  # made since


def test_a_link_written_above_a_list_that_lost_its_begin_stays_the_users(
    in_lab: Run, lab: Path
) -> None:
    """A hostile review: the repair took any run of note links above the end marker as lab's
    list, so a link the user wrote there went into the region and `lab related --write`
    removed it. Only the list lab wrote is taken."""
    assert in_lab("new", "concept", "Contrastive Loss", "-c", "training").ok
    assert in_lab("new", "concept", "Attention", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "Contrastive Pretraining", "-c", "training").ok
    note = lab / "notes/training/contrastive-loss.md"
    assert in_lab("related", "contrastive-loss", "--write").ok
    written = read(note)
    assert "- [Contrastive Pretraining](contrastive-pretraining.md)" in written
    mine = "- [Attention](../fundamentals/attention.md)"
    lines = written.split("\n")
    begin = at(lines, "<!-- lab:begin related")
    note.write_text("\n".join([*lines[:begin], mine, *lines[begin + 1 :]]), "utf-8")
    assert in_lab("sync", "--repair").ok
    repaired = read(note).split("\n")
    assert repaired[begin] == mine and repaired[begin + 1].startswith("<!-- lab:begin related sha=")
    assert in_lab("related", "contrastive-loss", "--write").ok
    after = read(note)
    assert after.count(mine) == 1 and after.count("(contrastive-pretraining.md)") == 1


def test_a_weekly_list_that_grew_since_lab_wrote_it_is_not_written_twice(
    in_lab: Run, lab: Path
) -> None:
    """The list as lab last wrote it is known (.lab/lists/): the marker goes back above it,
    and `lab weekly` brings it up to date. In a fresh clone, without .lab/, the list as
    lab would write it now is the only one known."""
    assert in_lab("new", "concept", "Attention", "-c", "fundamentals").ok
    assert in_lab("weekly").ok
    log = next((lab / "weekly-log").glob("*.md"))
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok  # the list is stale now
    log.write_text(
        "\n".join(line for line in read(log).split("\n") if "lab:begin done" not in line),
        "utf-8",
    )
    assert in_lab("sync", "--repair").ok
    assert in_lab("weekly").ok
    text = read(log)
    assert text.count("[Attention]") == 1 and text.count("[LoRA]") == 1
    assert re.search(r"<!-- lab:begin done sha=\w+ [^\n]*\n- .*\[Attention\]", text)


def _a_week_with_a_note(in_lab: Run, lab: Path) -> tuple[Path, str]:
    """This week's log, made after one concept note, and its text."""
    assert in_lab("new", "concept", "Attention", "-c", "fundamentals").ok
    assert in_lab("weekly").ok
    log = next((lab / "weekly-log").glob("*.md"))
    return log, read(log)


def test_in_a_fresh_clone_a_list_as_lab_makes_it_now_gets_its_begin_back_above_it(
    in_lab: Run, lab: Path
) -> None:
    import shutil

    log, written = _a_week_with_a_note(in_lab, lab)
    log.write_text(
        "\n".join(line for line in written.split("\n") if "lab:begin done" not in line), "utf-8"
    )
    shutil.rmtree(lab / ".lab")
    assert in_lab("sync", "--repair").ok and in_lab("weekly").ok
    assert read(log) == written


def test_a_list_that_ends_a_line_of_the_users_does_not_get_a_marker_in_that_line(
    in_lab: Run, lab: Path
) -> None:
    """A second hostile review: with the begin marker's line replaced by the user's words
    (no line break), the list's first line began in the middle of theirs, and the repair put
    the marker there, in a concept note as in notes/README.md (the latter before this round)."""
    for title in ("Alpha Attention", "Beta Attention", "Gamma Attention"):
        assert in_lab("new", "concept", title, "-c", "training", "--tags", "attention").ok
    note = lab / "notes/training/gamma-attention.md"
    index = lab / "notes/README.md"

    def lose_begin(path: Path) -> None:
        text = read(path)
        path.write_text(
            re.sub(r"<!-- lab:begin (related|notes-index)[^\n]*-->\n", "Read first: ", text),
            "utf-8",
        )

    written = read(index)
    lose_begin(index)
    before = read(index)
    refused = in_lab("sync", "--repair")  # the index's lines outside its markers: at its line
    assert refused.code == 1 and "notes/README.md:7:" in refused.err
    assert read(index) == before
    index.write_text(written, "utf-8")  # put right by hand, as the message asks

    lose_begin(note)
    assert in_lab("sync", "--repair").ok
    text = read(note)
    assert "Read first: - [" in text and text.count("<!-- lab:begin related") == 1
    assert not re.search(r"\S <!-- lab:begin", text)  # never inside a line


def test_a_stale_list_left_outside_its_markers_in_a_fresh_clone_is_refused_at_its_line(
    in_lab: Run, lab: Path
) -> None:
    import shutil

    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Attention", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok
    assert in_lab("weekly").ok
    assert in_lab("mark", "blip-2", "read").ok  # the log's list is stale now
    log = next((lab / "weekly-log").glob("*.md"))
    lines = read(log).split("\n")
    begin = at(lines, "<!-- lab:begin done")
    log.write_text("\n".join(lines[:begin] + lines[begin + 1 :]), "utf-8")
    before = read(log)
    shutil.rmtree(lab / ".lab")
    refused = in_lab("sync", "--repair")
    assert refused.code == 1
    assert f"{log.relative_to(lab).as_posix()}:{begin + 1}:" in refused.err
    assert "`done`" in refused.err and "lab sync" in refused.err
    assert read(log) == before  # nothing written


def test_a_list_under_a_marker_without_its_sha_is_lab_s_when_it_is_lab_s_list(
    in_lab: Run, lab: Path
) -> None:
    """A third hostile review: after a git merge (the lists merged, the shas in conflict) or
    a begin marker put back by hand as a refused repair asks, `lab weekly` said the list
    was edited by hand and told the user to move text that was not there."""
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "training").ok
    assert in_lab("new", "concept", "Q-Former 训练", "-c", "training").ok
    assert in_lab("weekly").ok
    log = next((lab / "weekly-log").glob("*.md"))
    note = lab / "notes/training/q-former.md"
    assert in_lab("related", "notes/training/q-former.md", "--write").ok
    written = {path: read(path) for path in (log, note)}
    for path in (log, note):  # the marker as the refusal's message writes it: no sha
        path.write_text(
            re.sub(
                r"<!-- lab:begin (done|related) [^\n]*-->", r"<!-- lab:begin \1 -->", read(path)
            ),
            "utf-8",
        )
    assert in_lab("weekly").ok and read(log) == written[log]
    refreshed = in_lab("related", "notes/training/q-former.md", "--write")
    assert refreshed.ok and read(note) == written[note], refreshed.out
    # the list lab last wrote, under a marker with another sha (a merge's), a note made since
    stale = read(log)
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok
    log.write_text(re.sub(r"sha=\w+", "sha=0123456789ab", stale), "utf-8")
    assert in_lab("weekly").ok
    assert read(log).count("[LoRA]") == 1 and read(log).count("[Q-Former]") == 1
    # a list edited by hand is still refused at its line
    lines = read(log).split("\n")
    item = at(lines, "- ")
    lines[item] += " (loved it)"
    log.write_text("\n".join(lines), "utf-8")
    refused = in_lab("weekly")
    assert refused.code == 1 and f":{item + 1}:" in refused.err


def test_the_refusals_other_way_out_empty_markers_gives_the_list_back(
    in_lab: Run, lab: Path
) -> None:
    log, written = _a_week_with_a_note(in_lab, lab)
    lines = written.split("\n")
    begin, end = at(lines, "<!-- lab:begin done"), at(lines, "<!-- lab:end done")
    empty = [*lines[:begin], "<!-- lab:begin done -->", *lines[end:]]
    log.write_text("\n".join(empty), "utf-8")
    assert in_lab("weekly").ok and read(log) == written


def test_lines_deleted_from_a_weekly_list_are_told_as_such_and_emptying_it_gives_it_back(
    in_lab: Run, lab: Path
) -> None:
    """The third review: a line deleted from the list was refused as "text was written
    inside the generated list; move it below the lab:end marker", advice that cannot be
    followed. It is told as a deletion, with the way out that works: the two markers with
    nothing between them (the begin marker as lab wrote it, sha and all)."""
    log, _ = _a_week_with_a_note(in_lab, lab)
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok
    assert in_lab("weekly").ok
    full = read(log)
    lines = full.split("\n")
    begin = at(lines, "<!-- lab:begin done")
    assert lines[begin + 1].startswith("- ") and lines[begin + 2].startswith("- ")
    log.write_text("\n".join([*lines[: begin + 1], *lines[begin + 2 :]]), "utf-8")
    refused = in_lab("weekly")
    assert refused.code == 1
    assert f"{log.relative_to(lab).as_posix()}:{begin + 2}:" in refused.err
    assert "删掉" in refused.err and "lab:end 标记下面" not in refused.err
    end = at(lines, "<!-- lab:end done")
    log.write_text("\n".join([*lines[: begin + 1], *lines[end:]]), "utf-8")  # emptied
    assert in_lab("weekly").ok and read(log) == full


def test_a_begin_marker_put_back_says_what_it_is_in_the_labs_language(
    in_lab: Run, lab: Path
) -> None:
    """The begin marker a repair puts back carries the notice lab writes in that lab (here in
    Chinese), not an English stand-in left until the next write."""
    assert in_lab("weekly").ok
    log = "weekly-log/2026-W48.md"
    for path, name in ((PAPERS, "papers"), (log, "done")):
        lines = lines_of(lab, path)
        written = lines[at(lines, f"<!-- lab:begin {name}")]
        del lines[at(lines, f"<!-- lab:begin {name}")]
        write_lines(lab, lines, path)
        repaired = in_lab("sync", "--repair")
        assert repaired.ok, repaired
        put_back = lines_of(lab, path)[at(lines_of(lab, path), f"<!-- lab:begin {name}")]
        assert put_back == written
        assert "由 `lab" in put_back and "generated by" not in put_back
    assert in_lab("sync", "--check").ok and in_lab("check").ok
