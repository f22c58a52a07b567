"""The one write path. Every command that changes a lab does it inside

    with ws.transaction() as tx:
        tx.write(path, text)            # or tx.create(...), save_status(tx, paper), ...

which, in this order: takes the lab lock; finishes (or discards) whatever a crash left; reads
and validates every generated view (a damaged marker or a hand edit it cannot take in stops
the command with `path:line` before anything is written); takes in hand ticks of the papers
table; lets the command apply its change, reading its own pending writes back (`tx.data`
is the lab as it will be); regenerates the views from that; and commits every file at once
(storage.commit), so that a crash leaves the old lab or the new one. What a forced write or a
repair replaces is kept in .lab-trash/ first."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mllm_lab import storage
from mllm_lab.errors import BadInput, BrokenNote, MergeConflict, NoteExists
from mllm_lab.messages import tr
from mllm_lab.models import (
    CONFIG_FILE,
    CONFLICT_LINES,
    GENERATED_FILES,
    QUIZ_LOG,
    READING_LIST,
)
from mllm_lab.ops import views
from mllm_lab.ops.views import Digests
from mllm_lab.ops.workspace import Outcome, Workspace
from mllm_lab.walk import kind_of

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData, Record

# The parsers and the index (mllm_lab.scan, core.labdata) are imported when the transaction
# writes a note or needs the lab's data: logging a prompt or writing a review needs neither.


@dataclass(eq=False, repr=False)
class Pending:
    """A file's new text, staged until the transaction commits."""

    text: str
    exclusive: bool  # must not exist yet
    existed: bool  # the file was there before (for the outcome's wording)
    digest: tuple[Any, Any] | None  # (digest, error) of a data file's new text


class Transaction:
    def __init__(
        self,
        ws: Workspace,
        *,
        force: bool = False,
        dry_run: bool = False,
        views: bool = True,
        repair: bool = False,
    ) -> None:
        self.ws = ws
        self.force = force  # regenerate views over hand edits (kept in .lab-trash/)
        self.dry_run = dry_run
        self.views = views  # validate and regenerate the generated views
        self.repair = repair  # fix damaged region markers instead of refusing
        self.pending: dict[str, Pending] = {}
        self.outcomes: list[Outcome] = []
        self.notes: list[str] = []  # what the transaction did besides writing (repairs, take-ins)
        self.backups: list[tuple[str, str]] = []  # (where in .lab-trash/, text) to keep
        self.started = datetime.now()
        self._lock: Any = None
        self._data: LabData | None = None
        self._dirty: set[str] = set()
        self._disk: dict[str, str | None] = {}  # files read, as they were (under the lock)
        self.views_state: Any = None  # owned by ops.views
        self.views_made: list[str] = []  # the views regenerated (ops.views)
        self.views_confirmed: list[str] = []  # found current by their records (ops.views)
        self.views_digests = Digests()  # records digests worked out (ops.views)
        self.views_shas: dict[str, str] = {}  # the sha of each region regenerated (ops.views)

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Transaction:
        if not self.dry_run:
            self._lock = self.ws.lock()
            self._lock.__enter__()
        try:
            if not self.dry_run:
                storage.recover(self.ws.lab.root)
                walked = self.ws.walked()
                if walked.strays:
                    storage.remove_strays(self.ws.lab.root, walked.strays)
                    walked.clear_strays()
            if self.views:
                self.views_state = views.load_state(self.ws)
                as_written = views.untouched(self.ws, self.views_state)
                if self.repair or any(view.region not in as_written for view in views.VIEWS):
                    from mllm_lab.ops import handedits  # it parses views: only for touched ones

                    handedits.take_in(self, as_written)
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                if self.views:
                    views.regenerate(self)
                self._commit()
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.__exit__(None, None, None)

    # --- reading what will be --------------------------------------------------------------

    def read(self, path: str) -> str | None:
        """The file's text as this transaction leaves it (None: it does not exist)."""
        if path in self.pending:
            return self.pending[path].text
        if path not in self._disk:  # a view file is looked at several times: read it once
            self._disk[path] = self.ws.read(path) if self.ws.exists(path) else None
        return self._disk[path]

    def forget(self, path: str) -> None:
        """The file's text as read for this transaction let go (a view's: megabytes at 50,000
        notes); read again if it is asked for."""
        self._disk.pop(path, None)

    def exists(self, path: str) -> bool:
        return path in self.pending or self.ws.exists(path)

    @property
    def data(self) -> LabData:
        """The lab with this transaction's writes applied."""
        from mllm_lab.core.labdata import patch

        base = self.ws.data()
        if not self._dirty:
            return self._data or base
        files = self.ws.files()
        records = {}
        for path in {*self._dirty, READING_LIST}:
            if path in self.pending and self.pending[path].digest is not None:
                records[path] = self._record(path)
            elif path in files:
                records[path] = files[path]
        self._data = patch(self._data or base, records, self._dirty)
        self._dirty = set()
        return self._data

    def _record(self, path: str) -> Record:
        from mllm_lab.scan import make_record

        kind = kind_of(path)
        assert kind is not None
        digest = self.pending[path].digest
        assert digest is not None
        return make_record((path, kind, 0, 0, 0), digest)

    # --- writing ---------------------------------------------------------------------------

    def write(self, path: str, text: str, *, detail: str = "") -> Outcome:
        """Replace (or create) a file; unchanged text is not written."""
        where = self.ws.lab.path(path)  # refuses a path that leaves the lab
        old = self.read(path)
        if old is not None and path not in self.pending:
            _refuse_conflict(path, old)
            self._refuse_link_to_labs_file(path, where)
        existed = old is not None if path not in self.pending else self.pending[path].existed
        if old == text:
            return self._outcome(Outcome(path, "unchanged", detail))
        exclusive = self.pending[path].exclusive if path in self.pending else False
        self._stage(path, text, exclusive=exclusive, existed=existed)
        return self._outcome(Outcome(path, self._verb(existed), detail))

    def append(self, path: str, text: str, *, detail: str = "") -> Outcome:
        """`text` (whole lines) added at the end of a file, created if missing. A last line
        left without its newline (by an editor, a merge, an older writer) is closed first, so
        the new line is never glued to it. Committed like any write, the whole file replaced
        at once: a kill leaves the file without the new lines or with all of them."""
        old = self.read(path) or ""
        if old and not old.endswith("\n"):
            old += "\r\n" if "\r\n" in old else "\n"
        return self.write(path, old + text, detail=detail)

    def create(
        self,
        path: str,
        text: str,
        *,
        force: bool = False,
        detail: str = "",
        rename: str | None = None,
    ) -> Outcome:
        """A new file that must not exist yet; with `force`, an existing one is replaced and
        its old text kept in .lab-trash/ (the outcome names the backup). A dry run says that
        the file exists instead of refusing: it shows what would be written all the same.
        `rename`: the option that gives the file another name, for the refusal."""
        where = self.ws.lab.path(path)
        _refuse_ignored(self.ws, path)
        old = self.read(path)
        if old is None and where.is_symlink():  # --force or not, it leads nowhere
            raise BrokenNote(path, 1, "file.dangling")
        if old is not None:
            self._refuse_link_to_labs_file(path, where)
        if old is not None and not force:
            if self.dry_run:
                return self._outcome(Outcome(path, "exists", tr("tx.needs_force", self.ws.lang)))
            raise NoteExists(path, rename)
        if old is not None:
            detail = self.keep(path, old)
        self._stage(path, text, exclusive=old is None, existed=old is not None)
        return self._outcome(Outcome(path, self._verb(old is not None), detail))

    def _refuse_link_to_labs_file(self, path: str, where: Path) -> None:
        """A file that is a symlink to another file lab reads by its own name (a note the walk
        reads where it is, passing the link over; a view, lab.toml, a log, a template) is not
        written through: that file would be given this one's text (`lab new paper clip
        --force` over a concept note, `lab new concept --force` over papers/README.md)."""
        if not where.is_symlink():
            return
        real = os.path.realpath(where)
        root = os.path.realpath(self.ws.lab.root)
        other = os.path.relpath(real, root).replace(os.sep, "/")
        if other == path:
            return
        if other in LABS_OWN or other.startswith("templates/") or other in self.ws.files():
            raise BrokenNote(path, 1, "file.link_to_note", note=other)

    def keep(self, path: str, text: str) -> str:
        """Keep `text` (about to be replaced) in .lab-trash/ when the transaction commits,
        before anything is replaced; returns what to tell the user."""
        if self.dry_run:
            return tr("tx.would_keep", self.ws.lang)
        where = storage.backup_path(
            root=self.ws.lab.root,
            relative=path,
            when=self.started,
            taken={p for p, _ in self.backups},
        )
        self.backups.append((where, text))
        return tr("tx.kept", self.ws.lang, where=where)

    def _stage(self, path: str, text: str, *, exclusive: bool, existed: bool) -> None:
        kind = kind_of(path)
        digest = None
        if kind:
            from mllm_lab.scan import parse_file

            digest = parse_file(root=self.ws.lab.root, relative=path, kind=kind, text=text)
        self.pending[path] = Pending(text=text, exclusive=exclusive, existed=existed, digest=digest)
        self._disk.pop(path, None)  # its old text is not read again (a view file: megabytes)
        if kind:
            self._dirty.add(path)

    def _verb(self, existed: bool) -> str:
        if self.dry_run:
            return "would update" if existed else "would create"
        return "updated" if existed else "created"

    def _outcome(self, outcome: Outcome) -> Outcome:
        """One outcome per file: the latest action that changed it, with every detail."""
        for index, old in enumerate(self.outcomes):
            if old.path == outcome.path:
                action = old.action if outcome.action in ("unchanged", "kept") else outcome.action
                details = [d for d in (old.detail, outcome.detail) if d]
                detail = "; ".join(dict.fromkeys(details))
                self.outcomes[index] = Outcome(outcome.path, action, detail)
                return self.outcomes[index]
        self.outcomes.append(outcome)
        return outcome

    # --- commit ----------------------------------------------------------------------------

    def _commit(self) -> None:
        if self.dry_run or not self.pending:
            if self.views and self._views_checked():
                views.remember(self)  # so the next command need not regenerate them to see
            return
        root = self.ws.lab.root
        changes = [storage.Change(path, p.text, p.exclusive) for path, p in self.pending.items()]
        storage.through_links(root, changes)  # two of them one file: refused before any backup
        for where, text in self.backups:
            storage.backup(root, where, text)
        storage.commit(root, changes)
        self._after_commit()

    def _views_checked(self) -> bool:
        """The views this transaction regenerated (or found current by their records) came
        out as they are on disk, from inputs it does not change (nothing of theirs is
        pending): what lab knows of them may be noted even when nothing is written (`lab sync`
        with nothing to do, a dry run)."""
        written = {kind_of(path) for path in self.pending}
        checked = {*self.views_made, *self.views_confirmed}
        made = [view for view in views.VIEWS if view.region in checked]
        return bool(made) and not any(
            view.path in self.pending or view.inputs & written for view in made
        )

    def _adds_no_findings(self) -> bool:
        """The lab's problems are what they were before this transaction wrote: it only
        created notes that no other file's problems depend on (no paper note, whose key may
        clash, nor the reading list or a notebook), each of which reads without a problem
        (`lab weekly` creating this week's log). What the command said of them before it
        wrote still holds: the lab is not read again to say it (60 ms at 50,000 notes)."""
        from mllm_lab.core.labdata import NOTES_ONLY, NoteDigest

        for path, pending in self.pending.items():
            if pending.existed or kind_of(path) not in NOTES_ONLY or pending.digest is None:
                return False
            digest, error = pending.digest
            if error is not None or digest is None or NoteDigest(*digest).findings:
                return False
        return True

    def _after_commit(self) -> None:
        """Take the written files into the index (their digests are already made) and note
        what the views were generated from."""
        if not self._adds_no_findings():
            self.ws._findings = None
        self.ws.walked().restamp(self.ws.lab.root, self.pending)
        if self.ws._snapshot is not None:
            from mllm_lab.scan import new_content, refresh

            files = self.ws.files()
            wrote = False
            for path, pending in self.pending.items():
                if pending.digest is not None:
                    refresh(
                        lab=self.ws.lab,
                        files=files,
                        relative=path,
                        digest=pending.digest,
                        use_index=self.ws.use_index,
                    )
                    wrote = True
            if wrote:  # records changed: results made from them no longer hold
                snapshot = self.ws._snapshot
                snapshot.content = (
                    new_content(self.ws.lab, snapshot.generation) if self.ws.use_index else None
                )
        if self.views:
            views.remember(self)
        if self.ws._data is not None:
            self.ws._data = self.data
            self.ws.keep_keys()


LABS_OWN = frozenset(
    {*GENERATED_FILES, CONFIG_FILE, READING_LIST, QUIZ_LOG, "Prompt_log.md", "CLAUDE.md"}
)  # the files lab reads or writes by their own names, besides the notes and templates


def _refuse_conflict(path: str, text: str) -> None:
    """A file with a git merge conflict left in it is not written over, even where the change
    is far from the conflict (a note's frontmatter, a log's last line): which side to keep is
    the user's to say first (MergeConflict, with the line)."""
    if any(mark in text for mark in CONFLICT_LINES):  # at C speed: no parser for most files
        from mllm_lab.core.regions import conflict_line

        line = conflict_line(text)
        if line is not None:
            raise MergeConflict(path, line)


def _refuse_ignored(ws: Workspace, path: str) -> None:
    """A note `ignore` in lab.toml leaves out would be written and then read by no command:
    refused, naming the setting. Asked as the walk asks it: of the file, and of each folder
    between its kind's folder and the file (a kind's own folder is always walked into)."""
    from mllm_lab import kinds

    kind = kinds.kind_of(path)
    if not ws.lab.config.ignore or kind is None:
        return
    from mllm_lab.walk import ignore_matcher

    ignored = ignore_matcher(ws.lab.config.ignore)
    parts = path.split("/")
    below = range(kind.folder.count("/") + 2, len(parts))
    asked = [*("/".join(parts[:depth]) + "/" for depth in below), path]
    if ignored is not None and any(ignored(each) for each in asked):
        raise BadInput("error.ignored_path", path=path)
