"""`lab init .` in a repository that has a .gitattributes: kept byte for byte, and the logs
git would not merge by keeping both sides' lines are named, as git itself decides."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Run
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core.gitattributes import merge_attribute
from mllm_lab.ops.init import UNION_MERGED

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")
LACKS = "(does not merge lab's logs: add "


def _named(repo: Path, *args: str) -> list[str]:
    done = Run(repo)("init", ".", "--lang", "en", *args)
    assert done.ok, done.err
    return [line.strip() for line in done.err.splitlines() if ".gitattributes" in line]


def _repo(tmp_path: Path, attributes: bytes, git: bool = True) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    if git:
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitattributes").write_bytes(attributes)
    return repo


@needs_git
@pytest.mark.parametrize(
    ("attributes", "lacking"),
    [
        (b"* merge=union\n", []),  # a glob git matches: no false alarm
        (b"*.md merge=union\n*.jsonl merge=union\n", []),
        (b"/Prompt_log.md merge=union\r\nreviews/*.jsonl merge=union\r\n", []),
        (
            b"Prompt_log.md merge=union\nreviews/quiz-log.jsonl merge=union\nPrompt_log.md -merge\n",
            ["Prompt_log.md"],
        ),  # a later line unsets it
        (b"*.png binary\n", list(UNION_MERGED)),
        (b"# caf\xe9\n*.png binary\n", list(UNION_MERGED)),  # Latin-1: read, not refused
    ],
)
def test_the_logs_git_would_not_union_merge_are_named_and_the_file_kept(
    tmp_path: Path, attributes: bytes, lacking: list[str]
) -> None:
    repo = _repo(tmp_path, attributes)
    for _run in range(2):  # adopting the repository, then a re-run: the same line
        named = _named(repo)
        if lacking:
            wanted = " · ".join(f"{log} merge=union" for log in lacking)
            assert named == [
                f"kept  .gitattributes  {LACKS}{wanted}, or two clones that each "
                "logged a prompt or a quiz answer conflict when merged)"
            ]
        else:
            assert named == []
        assert (repo / ".gitattributes").read_bytes() == attributes
    if lacking:
        assert _named(repo, "-v")[0].startswith("kept  .gitattributes  " + LACKS)  # -v too


def test_without_git_the_file_is_read_as_git_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    repo = _repo(
        tmp_path,
        b"\xef\xbb\xbfPrompt_log.md   merge=union\n# reviews/quiz-log.jsonl merge=union\n",
        git=False,
    )
    assert _named(repo) == [
        f"kept  .gitattributes  {LACKS}reviews/quiz-log.jsonl merge=union, or two clones that "
        "each logged a prompt or a quiz answer conflict when merged)"
    ]


@pytest.mark.parametrize("what", ["folder", "fifo"])
def test_a_gitattributes_that_is_not_a_file_does_not_stop_init(tmp_path: Path, what: str) -> None:
    """It stopped `lab init .` with 'is a folder, not a file' (a review of the first version):
    the lab is made and the thing by that name left as it is."""
    repo = tmp_path / "repo"
    repo.mkdir()
    target = repo / ".gitattributes"
    if what == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    done = Run(repo)("init", ".", "--lang", "en")
    assert done.ok, done.err
    assert (repo / "lab.toml").is_file() and (
        target.is_dir() if what == "folder" else target.is_fifo()
    )


PATTERNS = [
    "*",
    "*.md",
    "*.jsonl",
    "Prompt_log.md",
    "/Prompt_log.md",
    "reviews/*",
    "reviews/quiz-log.jsonl",
    "**/quiz-log.jsonl",
    "quiz-log.jsonl",
    "*.txt",
    "P*",
]
ATTRIBUTES = ["merge=union", "merge", "-merge", "!merge", "binary", "merge=ours", "text", "-diff"]


@needs_git
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(PATTERNS), st.lists(st.sampled_from(ATTRIBUTES), max_size=3)),
        max_size=5,
    )
)
def test_reading_the_file_agrees_with_git_check_attr(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, list[str]]]
) -> None:
    repo = tmp_path_factory.mktemp("attributes")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    text = "".join(f"{pattern} {' '.join(attributes)}\n" for pattern, attributes in lines)
    (repo / ".gitattributes").write_text(text, "utf-8")
    asked = subprocess.run(
        ["git", "check-attr", "merge", "--", *UNION_MERGED],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    said = dict(line.rpartition(": merge: ")[::2] for line in asked.stdout.splitlines())
    assert {log: merge_attribute(text, log) for log in UNION_MERGED} == said, text
