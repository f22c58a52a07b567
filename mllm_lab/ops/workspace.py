"""A lab opened for one command: today's date, its data (scanned once), templates, and
compare-then-write of its files. Every operation in ops/ works through one of these."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mllm_lab.core.labdata import LabData, build
from mllm_lab.core.weeks import parse_date
from mllm_lab.lab import Lab
from mllm_lab.models import Paper
from mllm_lab.storage import read_text, write_atomic

TODAY_ENV = "LAB_TODAY"  # pins "today" for scripts and tests


def today() -> date:
    pinned = os.environ.get(TODAY_ENV)
    return parse_date(pinned, TODAY_ENV) if pinned else date.today()


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the index is loaded and the lab built: that
    makes ~200,000 objects which all live until the command ends and hold no cycles, so the
    collector's passes over them are pure cost (about a tenth of a warm command)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # and keep them out of later passes too: they live until the command ends
        if was_enabled:
            gc.enable()


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
    _files: dict[str, Any] | None = None  # the index records of this command's scan
    _stamps_version: int = 0  # moves whenever a file's stamp in _files does
    progress: Callable[[int, int], None] | None = None  # called while a cold scan parses files
    cache: dict[Any, Any] = field(default_factory=dict)  # results derived from the data
    problems: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def open(cls, root: str | None = None) -> Workspace:
        return cls(Lab.find(root))

    @property
    def lang(self) -> str:
        return self.lab.lang

    def files(self) -> dict[str, Any]:
        """The index records of every lab file: scanned once per command."""
        if self._files is None:
            from mllm_lab.scan import scan

            with _no_gc():
                snapshot = scan(self.lab, self.use_index, self.progress)
            self.problems = snapshot.problems
            self._files = snapshot.files
        return self._files

    def data(self) -> LabData:
        """The lab as data, kept current with what the command writes. Should a cached record
        not build (a damaged index), the lab is parsed again from its files."""
        if self._data is None:
            files = self.files()
            with _no_gc():
                try:
                    self._data = build(files)
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    self._rebuild_index()
                    self._data = build(self.files())
        return self._data

    def _rebuild_index(self) -> None:
        from mllm_lab.scan import rebuild

        snapshot = rebuild(self.lab, self.use_index, self.progress)
        self.problems = snapshot.problems
        self._files = snapshot.files
        self._stamps_version += 1

    def fingerprint(self, kinds: frozenset[str]) -> str:
        """A hash of the path and stamp of every indexed file of these kinds: equal means the
        data made from them is the same. (In walk order: a changed order only costs a redo.)"""
        import hashlib

        cached = self.cache.get("fingerprints")
        if cached is None or cached[0] != self._stamps_version:
            lines: dict[str, list[str]] = {}
            for path, r in self.files().items():
                lines.setdefault(r[0], []).append(f"{path}\t{r[1]}\t{r[2]}\t{r[3]}")
            cached = (self._stamps_version, lines)
            self.cache["fingerprints"] = cached
        text = "\n".join(f"{kind}\n" + "\n".join(cached[1].get(kind, [])) for kind in sorted(kinds))
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()

    def details(self, paths: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Headings, links and open questions of notes (all notes when `paths` is None)."""
        from mllm_lab.scan import details

        files = self.files()
        wanted = [n.path for n in self.data().notes] if paths is None else list(paths)
        return details(self.lab, files, wanted, self.use_index)

    def forget(self, relative: str | None = None) -> None:
        """After a write: re-read that one file (or everything) so later reads see it.
        Files that are not data (the views, templates) change nothing."""
        from mllm_lab.scan import kind_of, refresh

        if relative is not None and kind_of(relative) is None:
            return
        self._data = None
        self._stamps_version += 1
        if relative is None or self._files is None:
            self._files = None
            return
        refresh(self.lab, self._files, relative, self.use_index)

    def render(self, name: str, context: dict[str, Any]) -> str:
        from mllm_lab.render import render

        return render(self.lab.root / "templates", name, context)

    def exists(self, relative: str) -> bool:
        return self.lab.path(relative).exists()

    def read(self, relative: str) -> str:
        return read_text(self.lab.path(relative), relative)

    def write(
        self,
        relative: str,
        text: str,
        *,
        exclusive: bool = False,
        dry_run: bool = False,
        keep_data: bool = False,
    ) -> Outcome:
        """Write if the content differs; `exclusive` never replaces an existing file.

        Afterwards the file is re-read into the data, unless `keep_data`: then the caller has
        already updated the data in memory (see `replace_paper`) and only the stamp moves."""
        path = self.lab.path(relative)
        old: str | None = None
        if path.exists() and not exclusive:
            old = read_text(path, relative)
            if old == text:
                return Outcome(relative, "unchanged")
        if dry_run:
            return Outcome(relative, "would update" if old is not None else "would create")
        write_atomic(path, text, exclusive=exclusive, shown=relative)
        if keep_data and self._files is not None:
            from mllm_lab.scan import refresh

            self._stamps_version += 1
            refresh(self.lab, self._files, relative, self.use_index)
        else:
            self.forget(relative)
        return Outcome(relative, "updated" if old is not None else "created")

    def replace_paper(self, paper: Paper) -> None:
        """Put a paper's new state into the data in memory (after its file was written)."""
        data = self.data()
        data.papers = [paper if p.key == paper.key else p for p in data.papers]
        for key in [key for key in self.cache if key[0] == "body"]:
            del self.cache[key]

    def lock(self) -> Any:
        from mllm_lab.storage import locked

        return locked(self.lab.state / "lock")
