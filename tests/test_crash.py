"""A crash at any write point leaves the old lab or the new one, never a mix, and the next
command cleans up. The storage layer names its write points (LAB_WRITE_POINTS=1 lists them);
LAB_CRASH_AT=N SIGKILLs `lab` at the Nth, so every point is hit exactly, not by a lucky sleep."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, lab_executable, tree

pytestmark = pytest.mark.slow


def lab(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [lab_executable(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def files(root: Path) -> dict[str, bytes]:
    """The lab as a user sees it: every file but the cache and the dated backups."""
    return {k: v for k, v in tree(root).items() if not k.startswith(".lab-trash/")}


def leftovers(root: Path) -> list[str]:
    """Temp files anywhere, and anything pending in .lab/."""
    found = [p.relative_to(root).as_posix() for p in root.rglob("*.tmp")]
    found += [p.relative_to(root).as_posix() for p in root.rglob("*.lab-tmp")]
    if (root / ".lab/commit.json").exists():
        found.append(".lab/commit.json")
    return found


def tick_clip(root: Path) -> None:
    table = root / "papers/README.md"
    table.write_text(table.read_text("utf-8").replace("| ⬜ | clip |", "| ✅ | clip |"), "utf-8")


SCENARIOS: dict[str, tuple[Callable[[Path], None] | None, list[str]]] = {
    "new paper": (None, ["new", "paper", "clip"]),
    "new paper --force": (
        lambda root: lab(root, "new", "paper", "blip-2"),
        ["new", "paper", "blip-2", "--force", "--status", "read"],
    ),
    "mark": (lambda root: lab(root, "new", "paper", "blip-2"), ["mark", "blip-2", "read"]),
    "mark a listed paper": (None, ["mark", "vit", "reading"]),
    "sync taking in a tick": (tick_clip, ["sync"]),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_kill_at_every_write_point_leaves_old_or_new(
    scenario: str, lab_dir: Path, tmp_path: Path
) -> None:
    prepare, args = SCENARIOS[scenario]
    if prepare:
        prepare(lab_dir)
    old = files(lab_dir)
    finished = tmp_path / "finished"
    shutil.copytree(lab_dir, finished, symlinks=True)
    listed = lab(finished, *args, LAB_WRITE_POINTS="1")
    assert listed.returncode == 0, listed.stderr
    points = re.findall(r"^write point (\d+): (.*)$", listed.stderr, re.M)
    assert len(points) >= 4, listed.stderr  # temp files, journal, renames, journal removed
    new = files(finished)
    assert new != old
    old_check = lab(lab_dir, "sync", "--check").returncode  # a ticked table is "to take in"
    for number, name in points:
        victim = tmp_path / f"crash-{number}"
        shutil.copytree(lab_dir, victim, symlinks=True)
        killed = lab(victim, *args, LAB_CRASH_AT=number)
        assert killed.returncode == -signal.SIGKILL, (number, name, killed.stderr)
        after_crash = files(victim)
        assert after_crash in (old, new) or ".lab/commit.json" in leftovers(victim), (number, name)
        run = Run(victim)  # the next commands run in-process: only the crash needs a process
        status = run("status")  # the next command finishes or rolls back
        assert status.ok, (number, name, status)
        state = files(victim)
        assert state in (old, new), (
            number,
            name,
            sorted(set(state.items()) ^ set(old.items()))[:4],
        )
        checked = run("sync", "--check").code
        assert checked == (0 if state == new else old_check), (number, name)
        assert run("sync").ok  # the next write cleans up what is left (and may finish the job)
        assert leftovers(victim) == [], (number, name)
        assert files(victim) in (state, new)
        shutil.rmtree(victim)


@pytest.fixture
def lab_dir(lab: Path) -> Path:
    return lab
