"""A lab opened for one command: today's date, its files scanned once, its data, templates.
Reading goes through here (and so through storage's one `read_text`); writing goes through
`transaction()`, the only way to change a lab."""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from mllm_lab import results, storage
from mllm_lab.core.weeks import parse_date
from mllm_lab.cores import paused_gc
from mllm_lab.errors import BadInput
from mllm_lab.lab import Lab
from mllm_lab.lock import locked
from mllm_lab.messages import tr
from mllm_lab.sha import sha1
from mllm_lab.state import KEYS_FILE, read_state, write_state
from mllm_lab.walk import Walk, walk

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData
    from mllm_lab.models import Brief, Finding, Paper
    from mllm_lab.ops.transaction import Transaction
    from mllm_lab.scan import Files, Progress, Snapshot

# The index and the parsers (mllm_lab.scan, core.labdata) are imported when a command first
# needs the lab's data: a command answered from the result cache never does.

TODAY_ENV = "LAB_TODAY"  # pins "today" for scripts and tests
NOW_ENV = "LAB_NOW"  # pins the quiz's clock: an ISO date-time with its offset
T = TypeVar("T")


def today() -> date:
    """Today: pinned by $LAB_TODAY, else by the day of $LAB_NOW, else the real one."""
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        return parse_date(pinned, f"${TODAY_ENV}")
    if os.environ.get(NOW_ENV):
        return now().date()
    return date.today()


CONTENT_FILE = "content.json"  # the content stamp of the last walk seen (Workspace.content_stamp)
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


class Outcome(NamedTuple):
    path: str
    action: str  # created, updated, unchanged, kept, would create, would update, removed
    detail: str = ""


class Created(NamedTuple):
    """What a `lab new …` or `lab weekly` wrote, or would write with --dry-run."""

    path: str
    text: str
    outcomes: list[Outcome]
    extra: dict[str, str] | None = None  # other files written (path -> text), e.g. --script


@dataclass(eq=False, repr=False)
class KeyLines:
    """What remember_keys made last: each paper's line (the paper kept with it, so that its id
    stays its own) and the text then found in, or written to, .lab/keys.tsv."""

    lines: dict[int, tuple[Paper, str]] = field(default_factory=dict)
    text: str | None = None
    papers: list[Paper] = field(default_factory=list)  # the very papers `text` was made of
    # the file holds the lines of `papers`, by what .lab/keys.json says (`text` not made)
    current: bool = False
    stamp: list[int] | None = None  # the file's, when found to hold them or written


@dataclass(eq=False, repr=False)
class Workspace:
    """What one command knows of its lab: the walk, the index, the lab's data, as it asks."""

    lab: Lab
    today: date = field(default_factory=today)
    use_index: bool = True
    progress: Progress | None = None  # called while a cold scan parses files
    _walked: Walk | None = None
    _snapshot: Snapshot | None = None
    _data: LabData | None = None
    _key_lines: KeyLines = field(default_factory=KeyLines)
    _findings: Brief | None = None  # shown_findings', until a write
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

    def walked(self) -> Walk:
        """The lab's files and their stamps: walked once per command (and told what lab wrote)."""
        if self._walked is None:
            with paused_gc():
                self._walked = walk(self.lab)
        return self._walked

    def cached(
        self,
        name: str,
        compute: Callable[[], T],
        *parts: object,
        valid: Callable[[T], bool] | None = None,
        raw: str | None = None,
        records_only: bool = False,
        briefly: Callable[[], str] | None = None,
        refresh: Callable[[T], T | None] | None = None,
        patch: Callable[[T], T | None] | None = None,
    ) -> T:
        """`compute()`, or the value it gave last time when nothing it depends on changed:
        the lab's files, lab's code, today, the lab and its settings, `parts` (the command's
        options, other files' stamps) and, if given, whatever `valid(value)` checks. The
        value must be plain JSON (dicts, lists, strings, numbers), so that what is given
        back is exactly what was computed; `raw` names a field of bytes kept as they are
        (results.save). `records_only`: the value is made from the index's records alone
        (no note's body), so it is kept by the content stamp instead of the files' stamps:
        it still holds after a body is edited or a file touched. `briefly`: besides, a stamp
        of the little the value reads of the records (counts_stamp, findings_stamp), so it
        also holds after what that stamp leaves out changed, a note's title or summary (a
        second entry, kept by that stamp, is looked at when the first does not hold).
        `refresh(value)`: a value of that second entry with what the brief stamp leaves out
        but the value shows taken again (None: it cannot be, the value is made again).
        `patch(value)`: the value last kept for these options, whatever files it was made
        from (the same code, lab and `parts`, on any day: the value must not depend on the
        day), brought up to the files as they are now (None: it cannot be, the value is made
        again)."""
        if not self.use_index:
            return compute()
        context = (self.today.isoformat(), str(self.lab.root), self.lab.config, *parts)
        made = results.key(
            name,
            self.content_stamp() if records_only or briefly else self.walked().fingerprint(),
            *context,
        )
        where = results.slot(name, parts)
        # the day left out: a new day's first `quiz --json` patches yesterday's cards
        base = results.key(name, "base", *context[1:]) if patch is not None else None
        hit = False
        value: Any = None
        if patch is not None and base is not None:  # one read of the entry, whatever its key
            kept_key, last = results.load_based(self.lab.state, where, base, raw=raw)
            if kept_key == made and (valid is None or valid(last)):
                return last  # type: ignore[no-any-return]
            if kept_key:
                with paused_gc():
                    patched = patch(last)
                del last  # megabytes: not held while the patched value is saved
                if patched is not None and (valid is None or valid(patched)):
                    results.save(self.lab.state, where, made, patched, raw=raw, base=base)
                    return patched
        else:
            hit, value = results.load(self.lab.state, where, made, raw=raw)
            if hit and (valid is None or valid(value)):
                return value  # type: ignore[no-any-return]
        counted = counted_where = None
        if briefly is not None:  # the content changed: what the value reads may not have
            counted = results.key(name, "counts", briefly(), *context)
            counted_where = results.slot(f"{name}_counts", parts)
            hit, value = results.load(self.lab.state, counted_where, counted, raw=raw)
            if hit and refresh is not None and (valid is None or valid(value)):
                refreshed = refresh(value)
                hit, value = refreshed is not None, refreshed
        if not (hit and (valid is None or valid(value))):
            with paused_gc():  # many objects, few cycles: the collector's passes are pure cost
                value = compute()
            if counted is not None and counted_where is not None:
                results.save(self.lab.state, counted_where, counted, value, raw=raw)
        results.save(self.lab.state, where, made, value, raw=raw, base=base)
        return value  # type: ignore[no-any-return]

    def counts_stamp(self) -> str:
        """What `lab status` (the lab's counts and problems) reads of the index's records:
        see _brief_stamp."""
        return self._brief_stamp(counts=True)

    def findings_stamp(self) -> str:
        """What the lab's problems are made from (the problems of status, without its
        counts): a note added, or one whose stage or creation day changed, leaves it as it
        was, as long as no problem came or went."""
        return self._brief_stamp(counts=False)

    def _brief_stamp(self, counts: bool) -> str:
        """What `lab status` (the lab's counts and problems) reads of the index's records:
        the experiments and the reading list by their stamps; the paper notes by their
        briefs (all but their tags and summary: labdata._paper_brief); with `counts`, the
        other notes by their briefs (kind, stage, creation day); and the records of those
        that do not read or, for the other notes, have problems. Equal means status would
        say the same (without `counts`: name the same problems), though a concept note's
        title, tags, summary or body changed, or a paper note's tags, summary or body."""
        from collections import Counter

        from mllm_lab.core.labdata import BRIEF_BROKEN, BRIEF_PROBLEMS, NOTES_ONLY
        from mllm_lab.kinds import PAPER

        walked, files = self.walked(), self.files()
        counted: Counter[int] = Counter()
        read: list[Any] = []
        by_kind = files.by_kind()
        papers: list[Any] = []
        for kind in sorted(by_kind):
            paths = by_kind[kind] if kind != PAPER.name else sorted(by_kind[kind])
            said = files.briefs(paths)
            tally = Counter(said)  # 35,000 briefs counted at C speed, not one by one
            if kind in NOTES_ONLY:
                odd = {b for b in tally if b & (BRIEF_BROKEN | BRIEF_PROBLEMS)}
                counted.update({b: n for b, n in tally.items() if b not in odd})
            else:  # a paper's, an experiment's, the reading list's brief: read it, or broken
                odd = {b for b in tally if b & BRIEF_BROKEN}
            if kind == PAPER.name:  # each paper note by what status reads of it
                papers = [paths, said]
            if odd:
                read += [[p, list(files[p])] for p, b in zip(paths, said, strict=True) if b in odd]
        others = sorted(kind for kind in by_kind if kind not in NOTES_ONLY and kind != PAPER.name)
        problems = [[path, why.as_json()] for path, why in walked.problems]
        pieces = [walked.stamps(others).encode()]
        if counts:  # a NOTES_ONLY brief without BRIEF_PROBLEMS says its record has none
            briefs = sorted(counted)  # ints sort at C speed; (brief, count) pairs do not
            pieces.append(marshal.dumps([briefs, list(map(counted.__getitem__, briefs))], 2))
        pieces.append(marshal.dumps(papers, 2))
        text = json.dumps([read, problems], default=str, ensure_ascii=False)
        pieces.append(text.encode("utf-8", "surrogatepass"))
        digest = sha1(size=sum(map(len, pieces)))
        for piece in pieces:
            digest.update(piece)
        return digest.hexdigest()

    def content_stamp(self) -> str:
        """What the index's records are, as scan.scan stamps them, with the files the walk
        skipped; found by the walk's fingerprint in .lab/content.json without loading the
        index when this walk has been seen before."""
        walked = self.walked()
        fingerprint = walked.fingerprint()
        if self._snapshot is None:
            with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
                kept = json.loads(read_state(self.lab.state, CONTENT_FILE) or b"{}")
                if kept.get("walk") == fingerprint and isinstance(kept.get("stamp"), str):
                    return str(kept["stamp"])
        snapshot = self.snapshot()
        content = snapshot.content or fingerprint
        skipped = json.dumps([[path, why.as_json()] for path, why in walked.problems])
        stamp = sha1(f"{content}:{skipped}".encode("utf-8", "surrogatepass")).hexdigest()
        if self._snapshot is snapshot and snapshot.content:
            write_state(
                self.lab.state, CONTENT_FILE, json.dumps({"walk": fingerprint, "stamp": stamp})
            )
        return stamp

    def templates_stamp(self) -> str:
        """The stamps of the lab's own templates (they override the defaults)."""
        return results.folder_stamp(self.lab.root / "templates")

    def snapshot(self) -> Snapshot:
        """Every lab file's index record: scanned once per command."""
        if self._snapshot is None:
            from mllm_lab.scan import scan

            with paused_gc():
                self._snapshot = scan(self.lab, self.use_index, self.progress, self.walked())
        return self._snapshot

    def files(self) -> Files:
        """Every lab file's record, each read from the index when asked for (see Files)."""
        return self.snapshot().files

    def skipped_files(self) -> list[Finding]:
        """The files the walk skipped (a pipe, a symlink loop or one that leads nowhere or out
        of the lab), as problems: no record holds them, so no kept result does either. From
        the walk, which every command makes: not the index (10 ms at 10,000 notes)."""
        from mllm_lab.models import Finding

        return [Finding(path, 1, why, skipped=True) for path, why in self.walked().problems]

    def data(self) -> LabData:
        """The lab as data. Should a cached record not build (a damaged index), the lab is
        parsed again from its files."""
        if self._data is None:
            from mllm_lab.core.labdata import build
            from mllm_lab.scan import rebuild

            files = self.files()
            with paused_gc():
                try:
                    self._data = build(files)
                except (TypeError, ValueError, KeyError, IndexError, AttributeError):
                    self._snapshot = rebuild(self.lab, self.use_index, self.progress)
                    self._data = build(self.files())
            self.files().release()  # the data holds what it needs of the records now
            self.keep_keys()
        return self._data

    def shown_findings(self) -> Brief:
        """The problems met reading the lab, in brief (models.in_brief); kept with the results
        (a `lab sync` with nothing to do does not build the lab's data just to say that
        nothing is wrong), and for the rest of the command unless a write changes them (see
        Transaction._after_commit)."""
        from mllm_lab.models import Brief, in_brief, with_skipped_files

        def compute() -> list[Any]:
            return list(in_brief(self.data().findings))

        if self._findings is None:
            shown, total, skipped, bare = self.cached(
                "findings", compute, briefly=self.findings_stamp
            )
            brief = Brief([(text, out) for text, out in shown], total, skipped, bare)
            self._findings = with_skipped_files(self.skipped_files(), brief)
        return self._findings

    def keep_keys(self) -> None:
        """Keep the paper keys for shell completion (see remember_keys)."""
        if self._data is not None:
            content = self._snapshot.content if self._snapshot is not None else None
            remember_keys(self.lab, self._data.papers, self._key_lines, content=content)

    def details(self, paths: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Headings, links, open questions and question sections of a few notes, by path."""
        from mllm_lab.details import some

        return some(self.lab, files=self.files(), paths=list(paths), use_index=self.use_index)

    def each_detail(
        self,
        paths: Iterable[str],
        every: bool = True,
        checked: bool = False,
        questions: bool = True,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The same for many notes, as a stream: (path, detail), each decoded when reached
        (`every`: the whole store is read; `checked`: what `lab check` needs is enough;
        `questions`: the open questions are wanted too; see details.each)."""
        from mllm_lab.details import each

        return each(
            self.lab,
            files=self.files(),
            paths=list(paths),
            use_index=self.use_index,
            every=every,
            checked=checked,
            questions=questions,
        )

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
        self._walked = None
        self._snapshot = None
        self._data = None
        self._findings = None


KEYS_MADE = "keys.json"  # what .lab/keys.tsv was made from: see remember_keys


def remember_keys(
    lab: Lab, papers: Iterable[Paper], known: KeyLines | None = None, content: str | None = None
) -> None:
    """.lab/keys.tsv: each paper's key and title, all that completing a key needs to read
    (cli/complete.py); written only when it changed. `known`: the lines made last time in this
    process, by paper: a write patches a few papers and keeps the others, so their lines are
    not made again, and the file is not read again when the text is the one last seen.
    `content`: the index's content stamp the papers were built from. .lab/keys.json notes
    the stamp the file was last made from (with lab's code and the file's own stamp): while
    they are the same, the file holds these papers' lines and none is made (20,000 lines, 25
    ms of a `lab mark` at 50,000 notes); after a write, only the papers it changed are."""
    known = known if known is not None else KeyLines()
    papers = list(papers)
    if known.text is None and not known.current and content is not None:
        said = _keys_said(lab, content)
        if said is not None and _keys_made(lab) == said:
            known.papers, known.current, known.stamp = papers, True, said[2]
            return
    if _same_lines(papers, known):
        if content is not None:
            _note_keys(lab, content, known)
        known.papers = papers
        return  # a write that changed no paper's line (`lab weekly`, `lab mark`)
    made: dict[int, tuple[Paper, str]] = {}
    lines = []
    for paper in papers:
        hit = known.lines.get(id(paper))
        if hit is None or hit[0] is not paper:
            hit = (paper, _key_line(paper))
        made[id(paper)] = hit
        lines.append(hit[1])
    text = "".join(lines)
    known.lines, known.current = made, False
    held = True
    if text != known.text and read_state(lab.state, KEYS_FILE) != text.encode("utf-8"):
        write_state(lab.state, KEYS_FILE, text)  # never raises: a cache
        held = read_state(lab.state, KEYS_FILE) == text.encode("utf-8")
    known.text, known.papers = text, papers
    said = _keys_said(lab, content or "") if held else None
    known.stamp = said[2] if said is not None else None
    if content is not None:
        _note_keys(lab, content, known)


def _key_line(paper: Paper) -> str:
    from mllm_lab.core.labdata import shown

    # a key from a file name that is not UTF-8 (a paper refused) cannot be typed
    typed = shown(paper.key) == paper.key
    return f"{paper.key}\t{' '.join(paper.title.split())}\n" if typed else ""


def _same_lines(papers: list[Paper], known: KeyLines) -> bool:
    """`papers` have the lines of the papers the file was last made of (or found to hold):
    the same papers, or at each place one whose line is the same."""
    if not (known.text is not None or known.current) or len(papers) != len(known.papers):
        return False
    return all(
        paper is last or _key_line(paper) == _key_line(last)
        for paper, last in zip(papers, known.papers, strict=True)
    )


def _keys_said(lab: Lab, content: str) -> list[Any] | None:
    """What .lab/keys.json says when keys.tsv, as it is now, was made from `content`."""
    try:
        st = (lab.state / KEYS_FILE).stat()
    except OSError:
        return None
    return [content, results.code_stamp(), [st.st_mtime_ns, st.st_size, st.st_ino]]


def _keys_made(lab: Lab) -> Any:
    try:
        return json.loads(read_state(lab.state, KEYS_MADE) or b"null")
    except (ValueError, RecursionError):
        return None


def _note_keys(lab: Lab, content: str, known: KeyLines) -> None:
    """Note that keys.tsv holds the lines of the papers built from `content`, unless the
    file is no longer the one this process found or wrote (another command replaced it)."""
    said = _keys_said(lab, content)
    if said is None or said[2] != known.stamp:
        return
    if _keys_made(lab) != said:
        write_state(lab.state, KEYS_MADE, json.dumps(said))
