"""`lab init .` in a repository that has a .gitattributes: kept byte for byte, and the logs
git would not merge by keeping both sides' lines are named, as `git check-attr` says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Run

from mllm_lab.ops.init import UNION_MERGED

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
ADVICE = (
    "; give them `merge=union` (as the line `Prompt_log.md merge=union`), or two clones that "
    "each logged a prompt or a quiz answer conflict when merged)"
)


def _named(repo: Path, *args: str) -> list[str]:
    done = Run(repo)("init", ".", "--lang", "en", *args)
    assert done.ok, done.err
    return [line.strip() for line in done.err.splitlines() if ".gitattributes" in line]


def _said(logs: dict[str, str]) -> list[str]:
    shown = " · ".join(f"{log} (merge: {state})" for log, state in logs.items())
    return [
        "kept  .gitattributes  (git would not merge lab's logs by keeping both sides' lines: "
        + shown
        + ADVICE
    ]


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
        (b"* merge=union\n", {}),  # a glob: git's answer, no false alarm
        (b"*.md merge=union\n*.jsonl merge=union\n", {}),
        (b"/Prompt_log.md merge=union\r\nreviews/*.jsonl merge=union\r\n", {}),
        (
            b"Prompt_log.md merge=union\nreviews/quiz-log.jsonl merge=union\nPrompt_log.md -merge\n",
            {"Prompt_log.md": "unset"},  # a later line unsets it
        ),
        (b"*.png binary\n", dict.fromkeys(UNION_MERGED, "unspecified")),
        (b"# caf\xe9\n*.png binary\n", dict.fromkeys(UNION_MERGED, "unspecified")),  # Latin-1
        # patterns git reads and a .gitignore reader would refuse: git's answer, no crash
        (b"Design\\ Assets/* binary\n[z-a].md merge=union\n* merge=union\n", {}),
        (b"Prompt_log.md merge=union\nreviews/ merge=union\n", {UNION_MERGED[1]: "unspecified"}),
    ],
)
def test_the_logs_git_would_not_union_merge_are_named_and_the_file_kept(
    tmp_path: Path, attributes: bytes, lacking: dict[str, str]
) -> None:
    repo = _repo(tmp_path, attributes)
    for _run in range(2):  # adopting the repository, then a re-run: the same line
        assert _named(repo) == (_said(lacking) if lacking else [])
        assert (repo / ".gitattributes").read_bytes() == attributes
    if lacking:
        assert _named(repo, "-v") == _said(lacking)  # with --verbose too


@needs_git
def test_what_another_attributes_file_of_git_says_is_named_as_git_says_it(tmp_path: Path) -> None:
    """A line of .git/info/attributes outranks the root file: the state git gives is named,
    not a line to add that is there already."""
    repo = _repo(tmp_path, b"Prompt_log.md merge=union\nreviews/quiz-log.jsonl merge=union\n")
    (repo / ".git/info").mkdir(exist_ok=True)
    (repo / ".git/info/attributes").write_text("Prompt_log.md -merge\n", "utf-8")
    assert _named(repo) == _said({"Prompt_log.md": "unset"})


@pytest.mark.parametrize("git", [False, True])
def test_outside_a_repository_or_without_git_nothing_is_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, git: bool
) -> None:
    """No merge can go wrong yet; lab does not guess what git would read (a reading of the
    file that is not git's said a folder pattern covered the log)."""
    if not git:
        monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    repo = _repo(tmp_path, b"*.png binary\n", git=False)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert _named(repo) == []
    assert (repo / "lab.toml").is_file()


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
    assert (repo / "lab.toml").is_file()
    assert target.is_dir() if what == "folder" else target.is_fifo()
