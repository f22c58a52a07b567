"""The checked reference facts the built-in catalog is held to: the shared copy beside this
checkout when there is one (/work/shared/reference for a developer, ../shared/reference in CI),
else the copy under tests/fixtures/reference that a fresh clone carries."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FILES = ("README.md", "papers.yaml", "models.yaml")
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "reference"
_SHARED = (
    Path(__file__).resolve().parents[2] / "shared" / "reference",
    Path("/work/shared/reference"),
)


def shared_reference() -> Path | None:
    return next((path for path in _SHARED if (path / "papers.yaml").is_file()), None)


def reference_dir() -> Path:
    return shared_reference() or FIXTURE


@cache
def load(name: str) -> Any:
    return yaml.safe_load((reference_dir() / name).read_text("utf-8"))


def reference_papers() -> dict[str, dict[str, Any]]:
    return {paper["key"]: paper for paper in load("papers.yaml")["papers"]}


def reference_models() -> dict[str, dict[str, Any]]:
    return {model["key"]: model for model in load("models.yaml")["models"]}
