"""A lab opened for one command: today's date, its data (scanned once), templates, and
compare-then-write of its files. Every operation in ops/ works through one of these."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from mllm_lab.core.labdata import LabData, build
from mllm_lab.core.weeks import parse_date
from mllm_lab.lab import Lab
from mllm_lab.storage import read_text, write_atomic

TODAY_ENV = "LAB_TODAY"  # pins "today" for scripts and tests


def today() -> date:
    pinned = os.environ.get(TODAY_ENV)
    return parse_date(pinned, TODAY_ENV) if pinned else date.today()


@dataclass(frozen=True)
class Outcome:
    path: str
    action: str  # created, updated, unchanged, kept, would create, would update
    detail: str = ""


@dataclass
class Workspace:
    lab: Lab
    today: date = field(default_factory=today)
    use_index: bool = True
    _data: LabData | None = None
    progress: Callable[[int, int], None] | None = None  # called while a cold scan parses files
    problems: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def open(cls, root: str | None = None) -> Workspace:
        return cls(Lab.find(root))

    @property
    def lang(self) -> str:
        return self.lab.lang

    def data(self) -> LabData:
        if self._data is None:
            from mllm_lab.scan import scan

            snapshot = scan(self.lab, self.use_index, self.progress)
            self.problems = snapshot.problems
            self._data = build(snapshot.files)
        return self._data

    def forget(self) -> None:
        """Drop the scanned data after a write, so the next read sees it."""
        self._data = None

    def render(self, name: str, context: dict[str, Any]) -> str:
        from mllm_lab.render import render

        return render(self.lab.root / "templates", name, context)

    def exists(self, relative: str) -> bool:
        return self.lab.path(relative).exists()

    def read(self, relative: str) -> str:
        return read_text(self.lab.path(relative), relative)

    def write(
        self, relative: str, text: str, *, exclusive: bool = False, dry_run: bool = False
    ) -> Outcome:
        """Write if the content differs; `exclusive` never replaces an existing file."""
        path = self.lab.path(relative)
        old: str | None = None
        if path.exists() and not exclusive:
            old = read_text(path, relative)
            if old == text:
                return Outcome(relative, "unchanged")
        if dry_run:
            return Outcome(relative, "would update" if old is not None else "would create")
        write_atomic(path, text, exclusive=exclusive, shown=relative)
        self.forget()
        return Outcome(relative, "updated" if old is not None else "created")

    def lock(self) -> Any:
        from mllm_lab.storage import locked

        return locked(self.lab.state / "lock")

    def templates_dir(self) -> Path:
        return self.lab.root / "templates"
