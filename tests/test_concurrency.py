"""Many `lab` processes at once: the lab lock makes every change land."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from conftest import lab_executable, read


def statuses(lab: Path) -> dict[str, str]:
    table = read(lab / "papers/README.md")
    return {m[2]: m[1] for m in re.finditer(r"^\| (\S+) \| (\S+) \|", table, re.M) if m[2] != "Key"}


def test_twenty_marks_at_once_all_take_effect(lab: Path) -> None:
    entries = yaml.safe_load(read(lab / "papers/reading-list.yaml"))["papers"]
    keys = [entry["key"] for entry in entries][:20]
    assert len(keys) == 20
    processes = [
        subprocess.Popen(
            [lab_executable(), "mark", key, "read"],
            cwd=lab,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key in keys
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
    assert [code for code, _ in results] == [0] * 20, results
    after = yaml.safe_load(read(lab / "papers/reading-list.yaml"))["papers"]
    assert {e["key"] for e in after if e["status"] == "read"} == set(keys)
    table = statuses(lab)
    assert {key for key, emoji in table.items() if emoji == "✅"} == set(keys)
    check = subprocess.run(
        [lab_executable(), "sync", "--check"], cwd=lab, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_marks_on_notes_at_once(lab: Path) -> None:
    for key in ("blip-2", "llava"):
        assert (
            subprocess.run(
                [lab_executable(), "new", "paper", key], cwd=lab, capture_output=True
            ).returncode
            == 0
        )
    processes = [
        subprocess.Popen([lab_executable(), "mark", key, "read"], cwd=lab, stderr=subprocess.PIPE)
        for key in ("blip-2", "llava")
    ]
    assert [p.wait(timeout=60) for p in processes] == [0, 0]
    assert "status: read" in read(lab / "papers/blip-2.md") and "status: read" in read(
        lab / "papers/llava.md"
    )
    assert statuses(lab)["blip-2"] == "✅" and statuses(lab)["llava"] == "✅"
