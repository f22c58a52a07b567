"""`lab init .` in a repository that was not made by lab: generated blocks go where a reader
expects them, `lab check` is quiet about lab's own views at once, `ignore` in lab.toml leaves
files alone, and notes lab cannot read are summarised once, listed in full by `lab check`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import Run, lab_executable, read, tree

README = """\
# Paper notes of a PhD student

Notes on vision-language papers, kept since 2023.

## How I read

Three passes, then a summary.

## License

MIT, see LICENSE.

## Contributing

Pull requests welcome.
"""

PAPERS_README = """\
# Papers

My own list, by hand:

- CLIP: read twice
- BLIP-2: pending

## 致谢

感谢组里的同学。
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real paper-notes repository: READMEs of its own, notes without frontmatter, file
    names with spaces, `#` and Chinese, and a drafts folder."""
    root = tmp_path / "phd-notes"
    (root / "papers").mkdir(parents=True)
    (root / "notes" / "vision-language" / "drafts").mkdir(parents=True)
    (root / "README.md").write_text(README, "utf-8")
    (root / "papers" / "README.md").write_text(PAPERS_README, "utf-8")
    for index in range(12):
        (root / "papers" / f"old note {index} (v#{index}).md").write_text(
            f"# Old note {index}\n\nplain Markdown, no frontmatter\n", "utf-8"
        )
    (root / "notes" / "vision-language" / "对比学习 笔记.md").write_text("# 对比学习\n", "utf-8")
    (root / "notes" / "vision-language" / "drafts" / "half.md").write_text("# half\n", "utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_init_puts_lab_blocks_before_the_closing_sections(repo: Path) -> None:
    made = Run(repo)("init", ".", "--lang", "en")
    assert made.ok, made.err
    text = read(repo / "README.md")
    assert text.startswith(README.split("## License")[0])  # title, intro, own section first
    assert text.index("<!-- lab:end progress -->") < text.index("## License")
    assert text.endswith(
        "## License\n\nMIT, see LICENSE.\n\n## Contributing\n\nPull requests welcome.\n"
    )
    papers = read(repo / "papers/README.md")
    assert papers.startswith(PAPERS_README.split("## 致谢")[0])
    assert papers.index("<!-- lab:end papers -->") < papers.index("## 致谢")
    assert papers.index("<!-- lab:end compare -->") < papers.index("## 致谢")
    assert "lab's `progress` block added" in made.err


def test_check_after_init_says_nothing_about_lab_views(repo: Path) -> None:
    run = Run(repo)
    assert run("init", ".", "--lang", "en").ok
    checked = run("check")
    assert "stale" not in checked.out and "README.md:1:" not in checked.out
    synced = run("sync", "--check")  # only the notes it cannot read, no view is stale
    assert "README" not in synced.out and synced.out.count("no frontmatter") == 12
    # lab check lists every note it cannot read, in full
    assert checked.out.count("no frontmatter") == 14
    assert "papers/old note 3 (v#3).md:1:" in checked.out


def test_sync_keeps_the_block_where_it_was_put_and_text_around_it(repo: Path) -> None:
    run = Run(repo)
    assert run("init", ".", "--lang", "en").ok
    before = read(repo / "README.md")
    assert run("mark", "blip-2", "read").ok and run("sync").ok
    after = read(repo / "README.md")
    assert after.index("<!-- lab:end progress -->") < after.index("## License")
    assert after.split("<!-- lab:begin")[0] == before.split("<!-- lab:begin")[0]
    assert (
        after.split("<!-- lab:end progress -->")[1] == before.split("<!-- lab:end progress -->")[1]
    )


def test_at_puts_the_block_after_a_heading_or_refuses_naming_the_headings(repo: Path) -> None:
    run = Run(repo)
    before = tree(repo)
    refused = run("init", ".", "--lang", "en", "--at", "Progress")
    assert refused.code == 1
    assert "README.md has no heading `Progress` for --at; its headings:" in refused.err
    assert "How I read" in refused.err and refused.err.count("\n") == 1
    assert tree(repo) == before  # nothing written, not even lab.toml
    assert run("init", ".", "--lang", "en", "--at", "## How I read").ok
    text = read(repo / "README.md")
    assert text.index("## How I read") < text.index("<!-- lab:begin progress")
    assert text.index("<!-- lab:end progress -->") < text.index("Three passes")


def test_many_unreadable_notes_are_one_warning_line_and_ignore_leaves_them_out(
    repo: Path,
) -> None:
    run = Run(repo)
    assert run("init", ".", "--lang", "en").ok
    listed = run("list", "papers")
    assert listed.ok
    warnings = [line for line in listed.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and len(listed.err.splitlines()) == 1
    assert "12 problems found reading the lab (12 paper notes without frontmatter), first " in warnings[0]
    config = repo / "lab.toml"
    config.write_text(
        read(config) + 'ignore = ["papers/old note *", "drafts/", "对比学习*"]\n', "utf-8"
    )
    quiet = run("list", "papers")
    assert quiet.ok and "warning" not in quiet.err
    assert run("sync").ok and run("sync", "--check").ok  # nothing left lab cannot read
    checked = run("check")
    assert "old note" not in checked.out and "drafts" not in checked.out
    listed = run("list", "notes", "--json")
    assert "half.md" not in listed.out


def test_a_bad_ignore_setting_is_named(repo: Path) -> None:
    run = Run(repo)
    assert run("init", ".", "--lang", "en").ok
    config = repo / "lab.toml"
    config.write_text(read(config) + 'ignore = "drafts/"\n', "utf-8")
    refused = run("status")
    assert refused.code == 1
    assert "lab.toml: `ignore` must be a list of patterns in gitignore syntax" in refused.err


def test_the_installed_lab_adopts_a_repository(repo: Path) -> None:
    done = subprocess.run(
        [lab_executable(), "init", ".", "--lang", "en"], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    checked = subprocess.run([lab_executable(), "check"], cwd=repo, capture_output=True, text=True)
    assert "stale" not in checked.stdout and "lab:" not in checked.stdout


@pytest.mark.parametrize(
    ("text", "before"),
    [
        ("# T\n\nintro\n\n## Licence\n\nx\n", "## Licence"),
        ("# T\n\n## 许可证\n\nMIT\n", "## 许可证"),
        ("# T\n\n## Acknowledgements\n\n## Citation\n", "## Acknowledgements"),
        ("# T\n\n```\n## License\n```\n\n## 致谢\n", "## 致谢"),  # not a heading in a fence
        ("# T\n\n## Licensed models we tried\n\n## Cite\n", "## Cite"),  # whole words only
    ],
)
def test_a_new_block_goes_before_the_first_closing_section(text: str, before: str) -> None:
    from mllm_lab.core.regions import insert_region

    placed = insert_region(text=text, name="progress", body="B\n")
    assert placed.index("<!-- lab:end progress -->") < placed.index(before)
    region = {"B"} | {line for line in placed.splitlines() if line.startswith("<!-- lab:")}
    kept = [line for line in placed.splitlines() if line.strip() and line not in region]
    assert kept == [line for line in text.splitlines() if line.strip()]  # nothing lost
