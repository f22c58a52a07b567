"""A git merge conflict left in a lab's files: two branches that each marked one paper leave
`<<<<<<<`/`>>>>>>>` lines in the paper's note and in papers/README.md. `lab` names the line and
says how to resolve it, and writes nothing until then; it does not read either side as the
user's edit, nor offer `lab sync --repair`, which would have to guess."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from conftest import Run, tree
from hypothesis import given
from hypothesis import strategies as st

from mllm_lab.core import regions
from mllm_lab.errors import MergeConflict

GIT = [
    "git",
    "-c",
    "user.name=t",
    "-c",
    "user.email=t@example.org",
    "-c",
    "init.defaultBranch=main",
]


def git(root: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*GIT, *args], cwd=root, capture_output=True, text=True)
    assert not ok or done.returncode == 0, done.stderr
    return done


def conflicted(en_lab: Path, run: Run) -> Run:
    """The lab after `git merge` of two branches that marked blip-2 read and unread."""
    lab = Run(en_lab)
    assert lab("new", "paper", "blip-2").ok
    git(en_lab, "init", "-q")
    git(en_lab, "add", "-A")
    git(en_lab, "commit", "-qm", "start")
    git(en_lab, "checkout", "-qb", "other")
    assert lab("mark", "blip-2", "read").ok
    with (en_lab / "papers/README.md").open("a") as readme:
        readme.write("\nMy own line, below lab's regions.\n")  # merged by git without a word
    git(en_lab, "commit", "-qam", "read")
    git(en_lab, "checkout", "-q", "main")
    assert lab("mark", "blip-2", "unread").ok
    git(en_lab, "commit", "-qam", "unread")
    merged = git(en_lab, "merge", "other", ok=False)
    assert merged.returncode != 0 and "CONFLICT" in merged.stdout
    return lab


def line_of(path: Path, start: str) -> int:
    return next(
        n for n, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start)
    )


def test_check_names_each_conflict_and_how_to_resolve_it(en_lab: Path, run: Run) -> None:
    lab = conflicted(en_lab, run)
    table = line_of(en_lab / "papers/README.md", "<<<<<<<")
    note = line_of(en_lab / "papers/blip-2.md", "<<<<<<<")
    before = tree(en_lab)

    checked = lab("check")
    assert checked.code == 1
    assert (
        f"papers/README.md:{table}: a git merge conflict is left in this file, which `lab` "
        "generates; keep the lines you want (inside lab's regions, one side's throughout), "
        "delete the `<<<<<<<`, `=======` and `>>>>>>>` lines, then run `lab sync` (`--force` if it "
        "calls a region edited by hand)"
    ) in checked.out
    assert "git checkout" not in checked.out  # it would throw away what git merged
    assert (
        f"papers/blip-2.md:{note}: a git merge conflict is left in the frontmatter; keep the "
        "lines you want and delete the `<<<<<<<`, `=======` and `>>>>>>>` lines"
    ) in checked.out
    assert "--repair" not in checked.out  # no repair of markers would be right here
    hook = lab("sync", "--check")
    assert hook.code == 1 and f"papers/README.md:{table}: a git merge conflict" in hook.out
    assert tree(en_lab) == before


def test_every_write_refuses_and_changes_nothing(en_lab: Path, run: Run) -> None:
    lab = conflicted(en_lab, run)
    table = line_of(en_lab / "papers/README.md", "<<<<<<<")
    before = tree(en_lab)
    for command in (
        ["sync"],
        ["sync", "--repair"],
        ["sync", "--force"],
        ["mark", "clip", "read"],
        ["weekly"],
        ["new", "concept", "Conflict day", "-c", "training"],
    ):
        refused = lab(*command)
        assert refused.code == 1, command
        assert refused.err.startswith(
            f"error: papers/README.md:{table}: a git merge conflict is left in this file"
        ), (command, refused.err)
        assert "Traceback" not in refused.err
        assert tree(en_lab) == before, command


def keep_ours(path: Path) -> None:
    """Each conflict resolved as the message says: one side's lines throughout (ours)."""
    hunk = re.compile(r"^<<<<<<< [^\n]*\n(.*?)^=======\n.*?^>>>>>>> [^\n]*\n", re.M | re.S)
    path.write_text(hunk.sub(r"\1", path.read_text()))


def test_doing_as_the_message_says_brings_the_lab_back_and_keeps_every_word(
    en_lab: Path, run: Run
) -> None:
    lab = conflicted(en_lab, run)
    keep_ours(en_lab / "papers/README.md")
    synced = lab("sync")  # the note still has its conflict: its last row is kept, marked
    assert synced.ok, synced
    assert "papers/blip-2.md:" in synced.err and "merge conflict" in synced.err
    keep_ours(en_lab / "papers/blip-2.md")  # unread, as on main
    assert lab("sync").ok
    assert lab("check").ok
    assert "My own line, below lab's regions." in (en_lab / "papers/README.md").read_text()
    row = next(
        r for r in (en_lab / "papers/README.md").read_text().splitlines() if "| blip-2 |" in r
    )
    assert row.startswith("| ⬜ |")


def test_a_conflict_in_a_weekly_log_or_a_concept_note_is_named_at_its_line(
    en_lab: Path, run: Run
) -> None:
    lab = Run(en_lab)
    assert lab("weekly").ok
    assert lab("new", "concept", "Attention maps", "-c", "fundamentals").ok
    log = en_lab / "weekly-log/2026-W48.md"
    concept = en_lab / "notes/fundamentals/attention-maps.md"
    for path in (log, concept):
        lines = path.read_text().splitlines(keepends=True)
        lines[-1:-1] = ["<<<<<<< HEAD\n", "mine\n", "=======\n", "theirs\n", ">>>>>>> other\n"]
        path.write_text("".join(lines))
    at = {path: line_of(path, "<<<<<<<") for path in (log, concept)}
    checked = lab("check")
    assert checked.code == 1
    for path, line in at.items():
        shown = path.relative_to(en_lab).as_posix()
        assert (
            f"{shown}:{line}: a git merge conflict is left in this file; keep the lines"
            in checked.out
        )
    before = tree(en_lab)
    refused = lab("weekly")
    assert refused.code == 1
    assert refused.err.startswith(f"error: weekly-log/2026-W48.md:{at[log]}: a git merge conflict")
    written = lab("related", "notes/fundamentals/attention-maps.md", "--write")
    assert written.code == 1 and f"attention-maps.md:{at[concept]}: a git merge" in written.err
    assert tree(en_lab) == before


def test_a_conflict_line_shown_in_code_is_text_a_whole_conflict_there_is_not(
    en_lab: Path, run: Run
) -> None:
    """A note may show a line of a conflict in a code block; a whole one in a diagram's block
    (every paper note has a Mermaid diagram) is a merge's, and was let through."""
    lab = Run(en_lab)
    assert lab("new", "concept", "Git merges", "-c", "fundamentals").ok
    note = en_lab / "notes/fundamentals/git-merges.md"
    shown = "\n```text\n<<<<<<< HEAD\n```\n\n~~~\n>>>>>>> other\n||||||| base\n~~~\n"
    note.write_text(note.read_text() + shown)
    assert "merge conflict" not in lab("check").out
    assert lab("related", "notes/fundamentals/git-merges.md", "--write").ok
    assert lab("new", "paper", "clip").ok
    paper = en_lab / "papers/clip.md"
    text = paper.read_text()
    assert "```mermaid\n" in text
    head, tail = text.split("```mermaid\n", 1)
    diagram = "<<<<<<< HEAD\n  a --> b\n=======\n  a --> c\n>>>>>>> other\n"
    paper.write_text(head + "```mermaid\n" + diagram + tail)
    at = line_of(paper, "<<<<<<<")
    assert f"papers/clip.md:{at}: a git merge conflict" in lab("check").out
    before = tree(en_lab)
    refused = lab("mark", "clip", "read")
    assert refused.code == 1 and f"papers/clip.md:{at}: a git merge conflict" in refused.err
    assert tree(en_lab) == before


def test_a_diff3_leftover_and_a_conflicted_template_are_named(en_lab: Path) -> None:
    lab = Run(en_lab)
    assert lab("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    note.write_text(note.read_text() + "\nmine\n||||||| 9de7d12\nthe old line\n")
    leftover = line_of(note, "|||||||")
    assert f"papers/clip.md:{leftover}: a git merge conflict" in lab("check").out
    template = en_lab / "templates/en/paper.md.j2"
    lines = template.read_text().splitlines(keepends=True)
    lines[5:5] = ["<<<<<<< HEAD\n", "desktop\n", "=======\n", "laptop\n", ">>>>>>> other\n"]
    template.write_text("".join(lines))
    prompt = en_lab / "templates/prompts/en/weekly.md.j2"
    prompt.write_text(prompt.read_text() + "<<<<<<< HEAD\n=======\n>>>>>>> other\n")
    prompt_at = line_of(prompt, "<<<<<<<")
    before = tree(en_lab)
    refused = lab("new", "paper", "vit")  # the conflict is not copied into a new note
    assert refused.code == 1
    assert refused.err.startswith(
        "error: template templates/en/paper.md.j2:6: a git merge conflict is left in this "
        "template; keep the lines you want"
    )
    checked = lab("check")  # every problem listed, not only the first template's
    assert checked.code == 1
    for where in (
        "templates/en/paper.md.j2:6",
        f"templates/prompts/en/weekly.md.j2:{prompt_at}",
        f"papers/clip.md:{leftover}",
    ):
        assert f"{where}: a git merge conflict is left in this" in checked.out, where
    assert "missing section" not in checked.out
    assert tree(en_lab) == before


def test_conflict_line_follows_git_diff_check() -> None:
    found = regions.conflict_line
    assert found("a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> x\n") == 2
    assert found("a\r\n<<<<<<<\r\nb\r\n") == 2  # no label, CRLF
    assert found("a\n>>>>>>> theirs\n") == 2  # a `<<<<<<<` already deleted by hand
    assert found("Title\n=======\n") is None  # a heading's underline
    assert found("<<<<<<<< eight\n>>>>>>>>\n") is None
    assert found("say <<<<<<< HEAD here\n") is None  # not at the start of a line
    assert found("```\n<<<<<<< HEAD\n```\n>>>>>>> x\n") == 4
    assert found("a\n||||||| base\n") == 2  # diff3's, left when the others were deleted
    assert found("```mermaid\n<<<<<<< a\n=======\n>>>>>>> b\n```\n") == 2  # in a diagram
    assert found("```diff\n<<<<<<< a\n=======\n>>>>>>> b\n```\n") is None  # an example
    assert found("~~~ Mermaid\n<<<<<<< a\n~~~\n=======\n~~~mermaid\n>>>>>>> b\n~~~\n") is None
    assert found("```\n>>>>>>> a\n=======\n<<<<<<< b\n```\n") is None  # not in that order
    assert found("```\n<<<<<<< a\n>>>>>>> b\n```\n") is None  # no =======: shown lines


LINE = st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30)


@given(st.lists(LINE, max_size=12), st.integers(min_value=0), st.sampled_from("<>"))
def test_a_conflict_line_is_found_where_it_is(lines: list[str], at: int, side: str) -> None:
    plain = [
        line
        for line in lines
        if not line.startswith(("<<<<<<<", ">>>>>>>", "|||||||", "```", "~~~"))
    ]
    text = "\n".join(plain)
    assert regions.conflict_line(text) is None
    where = at % (len(plain) + 1)
    plain.insert(where, side * 7 + " branch")
    assert regions.conflict_line("\n".join(plain)) == where + 1


def test_parse_raises_merge_conflict_with_the_files_path() -> None:
    try:
        regions.parse("x\n<<<<<<< HEAD\n", "notes/a.md")
    except MergeConflict as conflict:
        assert (conflict.path, conflict.line) == ("notes/a.md", 2)
        assert conflict.check == "check.conflict"
    else:
        raise AssertionError("no MergeConflict")


def test_the_installed_lab_refuses_with_a_one_line_error(
    en_lab: Path, run: Run, sh: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    conflicted(en_lab, run)
    done = sh("mark", "blip-2", "read", cwd=en_lab)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "papers/README.md:" in done.stderr
    assert "a git merge conflict is left in this file" in done.stderr


def test_a_note_or_a_log_with_a_conflict_is_not_written_even_far_from_it(en_lab: Path) -> None:
    """`lab mark` changes a note's frontmatter and `lab prompt` appends to Prompt_log.md: a
    conflict left lower down is no less the user's to resolve first."""
    lab = Run(en_lab)
    assert lab("new", "paper", "clip").ok and lab("prompt", "weekly").ok
    hunk = "<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> other\n"
    for name in ("papers/clip.md", "Prompt_log.md"):
        with (en_lab / name).open("a") as file:
            file.write("\n" + hunk)
    at = {name: line_of(en_lab / name, "<<<<<<<") for name in ("papers/clip.md", "Prompt_log.md")}
    before = tree(en_lab)
    for command, name in (
        (["mark", "clip", "read"], "papers/clip.md"),
        (["prompt", "weekly"], "Prompt_log.md"),
    ):
        refused = lab(*command)
        assert refused.code == 1
        assert refused.err.startswith(f"error: {name}:{at[name]}: a git merge conflict"), refused
    assert tree(en_lab) == before
    checked = lab("check").out
    for name, line in at.items():
        assert f"{name}:{line}: a git merge conflict is left in this file" in checked


def test_a_conflict_in_the_reading_list_or_above_the_frontmatter_is_named_as_one(
    en_lab: Path,
) -> None:
    lab = Run(en_lab)
    assert lab("new", "paper", "clip").ok
    listed = en_lab / "papers/reading-list.yaml"
    text = listed.read_text()
    first = text.index("\n- ") + 1  # the first entry, as git would wrap it
    listed.write_text(text[:first] + "<<<<<<< HEAD\n" + text[first:] + "=======\n>>>>>>> other\n")
    note = en_lab / "papers/clip.md"
    note.write_text("<<<<<<< HEAD\n" + note.read_text() + "=======\n>>>>>>> other\n")
    listed_at = line_of(listed, "<<<<<<<")
    checked = lab("check")
    assert checked.code == 1
    assert (
        f"papers/reading-list.yaml:{listed_at}: a git merge conflict is left in this file; "
        "keep the lines you want"
    ) in checked.out
    assert "papers/clip.md:1: a git merge conflict is left in the frontmatter" in checked.out
    refused = lab("mark", "transformer", "read")
    assert refused.code == 1 and f"reading-list.yaml:{listed_at}: a git merge" in refused.err


def test_a_conflict_in_lab_toml_or_in_a_bib_file_to_import_is_named_at_its_line(
    en_lab: Path, tmp_path: Path
) -> None:
    lab = Run(en_lab)
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{li2023,\n  title={BLIP-2},\n<<<<<<< HEAD\n  year={2024},\n=======\n"
        "  year={2023},\n>>>>>>> other\n}\n"
    )
    before = tree(en_lab)
    refused = lab("import", "bibtex", str(bib))
    assert refused.code == 1
    assert refused.err.startswith(f"error: {bib}:3: a git merge conflict is left in this file")
    config = en_lab / "lab.toml"
    config.write_text(config.read_text() + "<<<<<<< HEAD\nname = 'a'\n=======\n>>>>>>> other\n")
    at = line_of(config, "<<<<<<<")
    refused = lab("status")
    assert refused.code == 1
    assert refused.err.startswith(
        f"error: lab.toml:{at}: a git merge conflict is left in this file"
    )
    config.write_text(config.read_text().split("<<<<<<<")[0])
    assert tree(en_lab) == before


def test_two_clones_logging_prompts_and_answers_merge_without_a_conflict(en_lab: Path) -> None:
    """`lab init` writes .gitattributes: lab's two append-only logs merge by keeping both
    sides' lines, so they never hold a conflict that stops `lab prompt` or `lab quiz`."""
    assert "Prompt_log.md merge=union" in (en_lab / ".gitattributes").read_text()
    lab = Run(en_lab)
    assert lab("prompt", "weekly").ok
    git(en_lab, "init", "-q")
    git(en_lab, "add", "-A")
    git(en_lab, "commit", "-qm", "start")
    git(en_lab, "checkout", "-qb", "other")
    assert lab("prompt", "init").ok
    git(en_lab, "commit", "-qam", "a prompt")
    git(en_lab, "checkout", "-q", "main")
    assert lab("prompt", "review").ok
    git(en_lab, "commit", "-qam", "another")
    merged = git(en_lab, "merge", "-q", "other", "-m", "merge")
    assert merged.returncode == 0
    log = (en_lab / "Prompt_log.md").read_text()
    assert all(f"| {kind} |" in log for kind in ("weekly", "init", "review"))
    assert lab("prompt", "weekly").ok and "merge conflict" not in lab("check").out


def test_an_example_in_a_code_block_or_a_line_begun_with_a_space_blocks_nothing(
    en_lab: Path,
) -> None:
    """A whole conflict shown in a ```diff block of the README (outside lab's regions)
    stopped every writing command; a quote seven levels deep is written with a space first,
    as the message says."""
    lab = Run(en_lab)
    assert lab("new", "paper", "clip").ok
    example = (
        "\n```diff\n<<<<<<< HEAD\nstatus: read\n=======\nstatus: reading\n>>>>>>> laptop\n```\n"
    )
    with (en_lab / "README.md").open("a") as readme:
        readme.write(example + "\n >>>>>>> a quote, seven levels deep\n")
    assert lab("mark", "clip", "read").ok and lab("sync").ok
    assert "merge conflict" not in lab("check").out
