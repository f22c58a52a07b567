"""A lab opened for one command: today's date, its files scanned once, its data, templates.
Reading goes through here (and so through storage's one `read_text`); writing goes through
`transaction()`, the only way to change a lab."""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mllm_lab import storage
from mllm_lab.core.labdata import LabData, Record, build
from mllm_lab.core.weeks import parse_date
from mllm_lab.errors import BadInput
from mllm_lab.lab import Lab
from mllm_lab.lock import locked
from mllm_lab.messages import Msg, tr
from mllm_lab.models import Paper
from mllm_lab.scan import Progress, Snapshot, details, rebuild, scan
from mllm_lab.state import KEYS_FILE, read_state, write_state

if TYPE_CHECKING:
    from mllm_lab.ops.transaction import Transaction

TODAY_ENV = "LAB_TODAY"  # pins "today" for scripts and tests
NOW_ENV = "LAB_NOW"  # pins the quiz's clock: an ISO date-time with its offset


def today() -> date:
    pinned = os.environ.get(TODAY_ENV)
    return parse_date(pinned, f"${TODAY_ENV}") if pinned else date.today()


_STARTED = time.monotonic()


def now() -> datetime:
    """The time, with its timezone. Pinned by $LAB_NOW (`2026-11-25T09:30:00+08:00`), else
    by $LAB_TODAY (that day at noon, local time), plus the time this process has run: a
    pinned clock that still moves, so two answers of one quiz never share an instant."""
    moment = os.environ.get(NOW_ENV)
    if moment:
        try:
            start = datetime.fromisoformat(moment.strip())
        except ValueError:
            start = None
        if start is None or start.utcoffset() is None:
            raise BadInput("quiz.bad_now", name=NOW_ENV, value=repr(moment))
    elif os.environ.get(TODAY_ENV):
        day = parse_date(os.environ[TODAY_ENV], f"${TODAY_ENV}")
        start = datetime.combine(day, datetime.min.time()).replace(hour=12).astimezone()
    else:
        return datetime.now().astimezone()
    return start + timedelta(seconds=time.monotonic() - _STARTED)


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
    action: str  # created, updated, unchanged, kept, would create, would update, removed
    detail: str = ""


@dataclass
class Workspace:
    lab: Lab
    today: date = field(default_factory=today)
    use_index: bool = True
    progress: Progress | None = None  # called while a cold scan parses files
    _snapshot: Snapshot | None = None
    _data: LabData | None = None
    notices: list[str] = field(default_factory=list)  # what the command should tell the user

    @classmethod
    def open(cls, root: str | None = None) -> Workspace:
        ws = cls(Lab.find(root))
        if storage.pending_commit(ws.lab.root):  # a crash interrupted a commit: finish it
            with ws.lock():
                for where in storage.recover(ws.lab.root):
                    ws.notices.append(tr("tx.set_aside", ws.lang, where=where))
        return ws

    @property
    def lang(self) -> str:
        return self.lab.lang

    def snapshot(self) -> Snapshot:
        """Every lab file's index record: scanned once per command."""
        if self._snapshot is None:
            with _no_gc():
                self._snapshot = scan(self.lab, self.use_index, self.progress)
        return self._snapshot

    def files(self) -> dict[str, Record]:
        return self.snapshot().files

    @property
    def problems(self) -> list[tuple[str, Msg]]:
        return self.snapshot().problems

    def data(self) -> LabData:
        """The lab as data. Should a cached record not build (a damaged index), the lab is
        parsed again from its files."""
        if self._data is None:
            files = self.files()
            with _no_gc():
                try:
                    self._data = build(files)
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    self._snapshot = rebuild(self.lab, self.use_index, self.progress)
                    self._data = build(self._snapshot.files)
            remember_keys(self.lab, self._data.papers)
        return self._data

    def details(self, paths: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Headings, links and open questions of notes (all notes when `paths` is None)."""
        wanted = [n.path for n in self.data().notes] if paths is None else list(paths)
        return details(self.lab, files=self.files(), paths=wanted, use_index=self.use_index)

    def render(self, name: str, context: dict[str, Any]) -> str:
        from mllm_lab.render import render  # Jinja, ~85 ms: only commands that render

        return render(self.lab.root / "templates", name, context)

    def exists(self, relative: str) -> bool:
        return self.lab.path(relative).exists()

    def read(self, relative: str) -> str:
        return storage.read_text(self.lab.path(relative), relative)

    def lock(self) -> Any:
        return locked(self.lab.state / "lock")

    def transaction(self, **options: Any) -> Transaction:
        from mllm_lab.ops.transaction import Transaction  # read-only commands skip the write path

        return Transaction(self, **options)

    def forget(self) -> None:
        """Scan again on the next read (after a transaction changed the files)."""
        self._snapshot = None
        self._data = None


def remember_keys(lab: Lab, papers: Iterable[Paper]) -> None:
    """.lab/keys.tsv: each paper's key and title, all that completing a key needs to read
    (cli/complete.py); written only when it changed."""
    text = "".join(f"{p.key}\t{' '.join(p.title.split())}\n" for p in papers)
    if read_state(lab.state, KEYS_FILE) != text.encode("utf-8"):
        write_state(lab.state, KEYS_FILE, text)
