"""Real processes of the installed `lab` console script: what a user's shell alias runs."""

from __future__ import annotations

from pathlib import Path

from conftest import read


def test_version_help_and_python_m(sh, tmp_path: Path) -> None:
    from mllm_lab import __version__

    version = sh("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == f"lab (mllm-lab) {__version__}"
    helped = sh("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "Example:" in helped.stdout
    for command in ["init", "weekly", "mark", "sync"]:
        assert "Example:" in sh(command, "--help", cwd=tmp_path).stdout, command


def test_init_new_weekly_end_to_end(sh, tmp_path: Path) -> None:
    assert sh("init", "lab", cwd=tmp_path).returncode == 0
    root = tmp_path / "lab"
    made = sh("new", "paper", "llava", cwd=root / "notes")
    assert made.returncode == 0, made.stderr
    assert made.stdout == "papers/llava.md\n"
    assert "status: reading" in read(root / "papers/llava.md")
    assert sh("weekly", cwd=root).returncode == 0
    assert "Visual Instruction Tuning" in read(root / "weekly-log/2026-W48.md")


def test_user_errors_are_one_line_without_traceback(sh, tmp_path: Path) -> None:
    outside = sh("new", "paper", "x", cwd=tmp_path)
    assert outside.returncode == 1 and outside.stdout == ""
    assert outside.stderr.startswith("error: ") and len(outside.stderr.strip().splitlines()) == 1
    assert sh("init", "lab", cwd=tmp_path).returncode == 0
    bad = sh("new", "concept", "X", "--category", "nope", cwd=tmp_path / "lab")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    usage = sh("new", "concept", cwd=tmp_path / "lab")
    assert usage.returncode == 2


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mllm_lab", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and result.stdout.startswith("lab (mllm-lab) ")
