"""What `lab` writes, pinned: every generated note kind and lab file in both languages, and
every command's --help. A change shows as a diff of tests/golden/ in review; refresh it on
purpose with `pytest tests/test_golden.py --update-golden`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import typer.main
from conftest import Run, read
from typer.testing import CliRunner

from mllm_lab.cli.app import app

Golden = Callable[[str, str], None]


def stable(text: str) -> str:
    """The lab's own path and the time of day are not the note's business."""
    return re.sub(r"/\S*/(?:lab|en-lab)\b", "<lab>", text)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_generated_file(lang: str, tmp_path: Path, golden: Golden) -> None:
    root = tmp_path / "lab"
    assert CliRunner().invoke(app, ["init", str(root), "--lang", lang]).exit_code == 0
    run = Run(root)
    assert run("new", "paper", "blip-2").ok
    assert run("new", "paper", "My Own Paper: a | b", "--year", "2025").ok
    assert run(
        "new", "concept", "Cross-Attention", "-c", "multimodal-arch", "--tags", "attention"
    ).ok
    assert run("new", "experiment", "Minimal CLIP contrastive loss").ok
    assert run("mark", "blip-2", "read").ok
    assert run("weekly").ok
    assert run("review", "--seed", "7").ok
    made = {
        "paper.md": "papers/blip-2.md",
        "paper-new.md": "papers/my-own-paper.md",
        "concept.md": "notes/multimodal-arch/cross-attention.md",
        "weekly.md": "weekly-log/2026-W48.md",
        "review.md": "reviews/review-2026-11-25.md",
        "README.md": "README.md",
        "CLAUDE.md": "CLAUDE.md",
        "papers-README.md": "papers/README.md",
        "notes-README.md": "notes/README.md",
        "reading-list.yaml": "papers/reading-list.yaml",
        "awesome-mllm.md": "resources/awesome-mllm.md",
    }
    for name, path in made.items():
        golden(f"{lang}/{name}", stable(read(root / path)))
    notebook = json.loads(read(root / "experiments/notebooks/minimal-clip-contrastive-loss.ipynb"))
    cells = "\n\n".join(
        f"# --- {c['cell_type']}\n{''.join(c['source'])}" for c in notebook["cells"]
    )
    golden(f"{lang}/experiment-cells.txt", cells + "\n")


def commands() -> list[list[str]]:
    found: list[list[str]] = [[]]

    def walk(command: object, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


@pytest.mark.parametrize("command", commands(), ids=lambda c: "lab " + " ".join(c))
def test_help_of_every_command(
    command: list[str], golden: Golden, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="lab")
    assert result.exit_code == 0
    assert "Example" in result.stdout or not command  # every command shows an example
    golden(f"help/{'-'.join(command) or 'lab'}.txt", result.stdout)
