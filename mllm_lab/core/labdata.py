"""The lab as data. Each file is *digested* once, when it is parsed: its frontmatter checked and
normalised into plain JSON values that the index keeps. Building the lab from digests is then
cheap, which is what keeps a warm `lab status` on 10,000 notes near the cost of reading them.

Every record has named fields, defined once here; on disk they are JSON lists in that order
(decoding 10,000 dicts would cost more than the rest of a warm command). INDEX_VERSION is
derived from the field names, so a changed record layout can never be read with the old one.
No I/O here."""

from __future__ import annotations

import marshal
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any, NamedTuple, Protocol, runtime_checkable

from mllm_lab import kinds
from mllm_lab.cores import paused_gc
from mllm_lab.kinds import NoteKind
from mllm_lab.messages import Msg
from mllm_lab.models import (
    READING_LIST,
    Experiment,
    Finding,
    Note,
    Paper,
    Status,
)
from mllm_lab.patterns import pattern
from mllm_lab.sha import sha1


class Record(NamedTuple):
    """One indexed file: its stamp, what it holds, or why it could not be read."""

    kind: str  # a kind's name, or "reading-list"
    mtime_ns: int
    size: int
    inode: int
    digest: Any  # NoteDigest, ListDigest or NotebookDigest (as lists), None if broken
    error: Any  # [line, message] when the file cannot be read
    last_good: Any  # the digest from before it broke (its paper keeps its row)

    def stamp(self) -> list[int]:
        """[mtime_ns, size, inode]: what the caches kept per file compare."""
        return [self.mtime_ns, self.size, self.inode]


class NoteFields(NamedTuple):
    title: str
    category: str | None
    stage: int | None
    tags: list[str]
    related: list[str]
    summary: str
    created: str | None


class NoteDigest(NamedTuple):
    note: Any  # NoteFields
    paper: Any  # a paper row, or None
    key: str | None  # a paper note's `key`
    findings: list[Any]  # [line, message] every command reports
    lint: list[Any]  # [line, message] only `lab check` reports


class ListDigest(NamedTuple):
    papers: list[Any]  # paper rows
    findings: list[Any]
    keys: list[Any]  # [key, line] of every entry


class NotebookDigest(NamedTuple):
    title: str
    created: str | None
    topic: str


PAPER_FIELDS = Paper._fields
# What parse.note_detail keeps of a note's body (in .lab/detail.sqlite, under the same version).
DETAIL_FIELDS = (
    "damaged",
    "body_line",
    "headings",
    "links",
    "questions",
    "related",
    "unrendered",
    "sections",
)
_DATES = [PAPER_FIELDS.index(name) for name in ("created", "started", "finished")]
_TUPLES = [PAPER_FIELDS.index(name) for name in ("authors", "tags", "history")]
_STATUS_AT = PAPER_FIELDS.index("status")
# a digest's paper row: [line, message] of its first problem, None when every field reads
PROBLEM_AT = PAPER_FIELDS.index("problem")
_STATUS = {status.value: status for status in Status}


PARSE_REVISION = 6  # one more whenever a parse gives another digest of the same text (2: a
# paper's unknown stage named once; 3: a paper keyed by a file name that is not UTF-8 refused;
# 4: a reading-list entry with a field that does not read keeps a row; 5: its row holds its
# problem; 6: so does a paper note's): records kept by an earlier parse are not used


def _version() -> int:
    records = (Record, NoteFields, NoteDigest, ListDigest, NotebookDigest)
    layout = repr(
        [*(record._fields for record in records), PAPER_FIELDS, DETAIL_FIELDS, PARSE_REVISION]
    )
    return int(sha1(layout.encode()).hexdigest()[:8], 16)


INDEX_VERSION = _version()


def paper_row(paper: Paper) -> list[Any]:
    """A Paper as a JSON list in PAPER_FIELDS order."""
    values: list[Any] = [getattr(paper, name) for name in PAPER_FIELDS]
    for index in _DATES:
        values[index] = values[index].isoformat() if values[index] else None
    for index in _TUPLES:
        values[index] = list(values[index])
    values[_STATUS_AT] = values[_STATUS_AT].value
    return values


def paper_of(row: list[Any]) -> Paper:
    values = list(row)
    for index in _DATES:
        values[index] = _fromiso(values[index]) if values[index] else None
    for index in _TUPLES:
        values[index] = tuple(values[index])
    values[_STATUS_AT] = _STATUS[values[_STATUS_AT]]
    if len(values) != len(PAPER_FIELDS):
        raise ValueError("a paper row of another layout")
    return Paper._make(values)


_fromiso = date.fromisoformat


def _date(text: str | None) -> date | None:
    return _fromiso(text) if text else None


_LONE_SURROGATE = pattern("[\ud800-\udfff]")


def shown(text: str) -> str:
    """`text` as UTF-8 can hold it: a lone surrogate (a byte of a file name that is not UTF-8,
    as os.fsdecode escapes it) becomes U+FFFD. For a name shown as text: a link keeps the
    byte itself (href percent-encodes it)."""
    return text if text.isascii() else _LONE_SURROGATE.sub("\ufffd", text)


def stem(path: str) -> str:
    """The file's name without its extension (as posixpath.splitext: leading dots are not
    one), made by hand as every note's name is taken on every command."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 and name[:dot].lstrip(".") else name


# --- the lab -------------------------------------------------------------------------------


# Kinds whose files add notes and problems only (no paper, key or experiment): their records
# are kept as they are and made into Notes the first time a command asks for the notes, so a
# command that changes papers alone (mark, new paper, add paper) does not make 35,000 Notes of
# a 50,000-note lab. What every command needs of them (problems, study notes by stage) is
# read off the records as the lab is built.
NOTES_ONLY = frozenset(
    kind.name for kind in kinds.KINDS if kind is not kinds.PAPER and kind is not kinds.EXPERIMENT
)
_BY_PATH = attrgetter("path")
_BY_PLACE = attrgetter("path", "line")


@dataclass(eq=False, repr=False)
class LabData:
    """What the lab's records say: its papers, experiments and problems (the notes on demand)."""

    papers: list[Paper] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # shown as warnings by every command
    note_keys: dict[str, str] = field(default_factory=dict)  # paper note path -> its `key`
    listed: list[tuple[str, int]] = field(default_factory=list)  # reading-list keys and lines
    reading_list_problem: Finding | None = None  # the reading list cannot be read at all
    from_list: _FromList | None = None  # what the reading list's record added (for patch)
    noted: list[Paper] = field(default_factory=list)  # every note's paper, those a key clash hid
    own_notes: list[Note] = field(default_factory=list)  # notes of the other kinds, by path
    own_lint: list[Finding] = field(default_factory=list)
    deferred: dict[str, Any] = field(default_factory=dict)  # NOTES_ONLY records, by path
    # (an int: not read yet, only its brief; the record is in `source`, the lab's records)
    source: Briefed | None = None
    deferred_facts: Counter[Fact] = field(default_factory=Counter)  # their notes' facts
    _made: tuple[list[Note], list[Finding]] | None = None
    _notes: list[Note] | None = None

    @property
    def notes(self) -> list[Note]:
        """Every note, by path."""
        if self._notes is None:
            made = self._deferred_made()[0]
            self._notes = sorted([*self.own_notes, *made], key=_BY_PATH) if made else self.own_notes
        return self._notes

    @property
    def lint(self) -> list[Finding]:  # shown by `lab check` only
        return sorted([*self.own_lint, *self._deferred_made()[1]], key=_BY_PLACE)

    def _deferred_made(self) -> tuple[list[Note], list[Finding]]:
        if self._made is None:
            parts = _Parts()
            source = self.source
            with paused_gc():  # 35,000 notes of a 50,000-note lab, which live to the end
                for path, record in self.deferred.items():
                    # each record read when its note is made, and not kept: all of them at
                    # once held 60 MB of that lab beside the notes
                    if record.__class__ is int:
                        record = source.peek(path)  # type: ignore[union-attr]
                    _add(parts, path, record)
            if source is not None:
                source.release()
            self._made = (parts.notes, parts.lint)
        return self._made

    def notes_by_stage(self) -> Counter[int | None]:
        """How many study notes (those that count on the roadmap) each stage has."""
        counts: Counter[int | None] = Counter()
        for (kind, stage, _day), count in self.note_facts().items():
            if kinds.BY_NAME[kind].study:
                counts[stage] += count
        return counts

    def note_facts(self) -> Counter[Fact]:
        """How many notes there are of each kind, stage and creation day: what `lab status`
        counts, without making a Note of each."""
        facts = Counter(
            (note.kind.name, note.stage, note.created.toordinal() if note.created else 0)
            for note in self.own_notes
        )
        facts.update(self.deferred_facts)
        return facts

    def notes_created(self, first: date, last: date) -> list[Note]:
        """The notes created from `first` to `last`, by path (a week's, for its log): of the
        notes kept for later, only those made then are made now."""
        if self._made is None and self.source is not None:
            low, high = first.toordinal(), last.toordinal()
            parts = _Parts()
            for path, kept in self.deferred.items():
                if kept.__class__ is int:
                    if not low <= kept >> _DAY_SHIFT <= high:
                        continue
                    kept = self.source[path]
                _add(parts, path, kept)
            notes = sorted([*self.own_notes, *parts.notes], key=_BY_PATH)
        else:
            notes = self.notes
        return [note for note in notes if note.created and first <= note.created <= last]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabData):
            return NotImplemented
        return self._compared() == other._compared()

    def _compared(self) -> tuple[Any, ...]:
        return (
            self.papers,
            self.notes,
            self.experiments,
            self.findings,
            self.lint,
            self.note_keys,
            self.listed,
            self.reading_list_problem,
            self.from_list,
        )

    def paper_notes(self) -> dict[str, Paper]:
        return {p.note: p for p in self.papers if p.note}

    def by_kind(self, kind: NoteKind) -> list[Note]:
        return [note for note in self.notes if note.kind is kind]

    def study_notes(self) -> list[Note]:
        return [note for note in self.notes if note.kind.study]


class _FromList(NamedTuple):
    """What the reading list's record adds to the lab: kept with the lab's data, so that a
    command that writes a note but not the list does not turn every entry into a Paper again."""

    record: Any  # the very record it was made from
    papers: list[Paper]
    findings: list[Finding]
    keys: list[tuple[str, int]]
    problem: Finding | None


@dataclass(eq=False, repr=False)
class _Parts:
    """What one file adds to the lab."""

    notes: list[Note] = field(default_factory=list)
    papers: list[Paper] = field(default_factory=list)  # from notes (listed ones come last)
    listed: list[Paper] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    lint: list[Finding] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    list_keys: list[tuple[str, int]] = field(default_factory=list)
    list_problem: Finding | None = None
    from_list: _FromList | None = None


def _broken_paper(path: str, problem: Finding, last_good: Any, key: str | None = None) -> Paper:
    """The last known row of a paper whose note cannot be read now, marked with the problem;
    without one, a row named by its `key:` line (or file name) keeps its place."""
    if last_good is not None:
        row = NoteDigest(*last_good).paper
        if row is not None:
            return paper_of(row)._replace(problem=problem, note=path)
    name = key or stem(path)
    return Paper(key=name, title=name, note=path, problem=problem)


def _add(parts: _Parts, path: str, record: Any) -> None:
    """What one index record (a Record, or the JSON list it is stored as) adds to the lab."""
    kind, _mtime, _size, _inode, digest, error, last_good = record
    if kind == "reading-list":
        _take_list(parts, _from_list(path, record))
        return
    if error:  # a paper note keeps a row (marked ⚠️); any other file makes nothing
        problem = Finding(
            path, int(error[0]), Msg.from_json(error[1]), skipped=kind != kinds.PAPER.name
        )
        parts.findings.append(problem)
        if kind == kinds.PAPER.name:
            hint = error[2] if len(error) > 2 else None
            parts.papers.append(
                _broken_paper(path=path, problem=problem, last_good=last_good, key=hint)
            )
        return
    if kind == kinds.EXPERIMENT.name:
        notebook = NotebookDigest(*digest)
        parts.experiments.append(
            Experiment(
                path=path,
                title=notebook.title,
                created=_date(notebook.created),
                topic=notebook.topic,
            )
        )
    else:
        note, paper, key, findings, lint = digest  # a NoteDigest, unpacked: the hot path
        title, category, stage, tags, related, summary, created = note  # NoteFields
        parts.notes.append(
            Note(
                path,
                kinds.BY_NAME[kind],
                title,
                category,
                stage,
                tuple(tags),
                tuple(related),
                summary,
                _fromiso(created) if created else None,
            )
        )
        if paper is not None:
            said = paper[PROBLEM_AT]
            if said is None or last_good is None:  # the fields that read, marked if one does not
                parts.papers.append(_listed_paper(path, paper))
            else:  # a field does not read: the row it last had, marked
                problem = Finding(path, int(said[0]), Msg.from_json(said[1]))
                parts.papers.append(_broken_paper(path, problem, last_good, key=key))
        elif kind == kinds.PAPER.name and findings:  # no frontmatter: its last row, or its key
            line, message = findings[0]
            parts.papers.append(
                _broken_paper(path, Finding(path, line, Msg.from_json(message)), last_good)
            )
        if key is not None:
            parts.keys[path] = key
        if findings:
            parts.findings += [Finding(path, line, Msg.from_json(m)) for line, m in findings]
        if lint:
            parts.lint += [Finding(path, line, Msg.from_json(m)) for line, m in lint]


def note_at(path: str, record: Any) -> Note | None:
    """The Note one file's record makes, as the lab's notes hold it (None: the file makes no
    note: it does not read, or it is a notebook or the reading list)."""
    parts = _Parts()
    _add(parts, path, record)
    return parts.notes[0] if parts.notes else None


# A NOTES_ONLY record in brief, as the index keeps it beside the file's stamp (see brief):
# whether it is broken or has problems (then the record itself is read), and the note's kind,
# stage and creation day, each in its own bits.
BRIEF_BROKEN, BRIEF_PROBLEMS = 1, 2
_BRIEF_KINDS = ("concept", "review", "weekly")  # numbered from 1; a change needs a new layout
_KIND_SHIFT, _STAGE_SHIFT, _DAY_SHIFT = 2, 5, 13  # kind 3 bits, the stage + 1 8 bits, the day
_STAGES = 254  # stages 0-253 (the roadmap has 1-5); any other is read

Fact = tuple[str, "int | None", int]  # a note's kind, stage and creation day (ordinal, 0: none)


def brief(record: Any) -> int:
    """What every command needs of a NOTES_ONLY record, as one number (see BRIEF_*): the
    index keeps it, so that a command that changes papers alone reads no concept note's
    record, and one that counts notes (status) or wants a week's (weekly) reads only those.
    A record that does not fit is marked as having problems: it is read."""
    kind, _mtime, _size, _inode, digest, error, last_good = record
    if error:
        return BRIEF_BROKEN
    if kind == kinds.PAPER.name:
        return _paper_brief(digest, last_good)
    try:
        stage, created, findings = digest[0][2], digest[0][6], digest[3]
        code = _BRIEF_KINDS.index(kind) + 1
        day = _fromiso(created).toordinal() if created else 0
    except (TypeError, IndexError, ValueError, AttributeError):
        return BRIEF_PROBLEMS
    if findings or not (stage is None or (type(stage) is int and 0 <= stage < _STAGES)):
        return BRIEF_PROBLEMS
    stage_bits = 0 if stage is None else stage + 1
    return code << _KIND_SHIFT | stage_bits << _STAGE_SHIFT | day << _DAY_SHIFT


_TAGS_AT = PAPER_FIELDS.index("tags")
TITLE_AT = PAPER_FIELDS.index("title")


def _paper_brief(digest: Any, last_good: Any) -> int:
    """A paper note's record in brief: a digest of all that `lab status` counts by, which
    is all of it but the titles (the note's and the paper's), the tags, the note's summary
    and the lint (what a learner edits most). The index keeps it, so a paper's title or
    summary edited in place leaves the counts as they were; status takes the titles of the
    few papers it shows from their records again (report.status). A line added above its
    `status:` moves the line status names in a key clash: it changes the brief. An index
    kept by an older lab holds briefs with the titles in: they differ from those made now,
    which can only make a kept status be made again. BRIEF_PROBLEMS is set: no reader
    takes it for a NOTES_ONLY brief."""
    try:
        note, paper, key, findings, _lint = digest
        _title, category, stage, _tags, related, _summary, created = note
        row = list(paper) if paper is not None else None
        if row is not None:
            row[_TAGS_AT] = row[TITLE_AT] = None
        said = [category, stage, related, created, row, key, findings, last_good]
        # version 2: the same bytes for equal values, whichever objects they share
        sha = sha1(marshal.dumps(said, 2)).hexdigest()
    except (TypeError, ValueError, IndexError):
        return BRIEF_PROBLEMS
    return int(sha[:15], 16) << 2 | BRIEF_PROBLEMS  # 62 bits: the index keeps 64


def _brief_fact(said: int) -> Fact:
    stage = (said >> _STAGE_SHIFT) & 0xFF
    kind = _BRIEF_KINDS[((said >> _KIND_SHIFT) & 7) - 1]
    return kind, stage - 1 if stage else None, said >> _DAY_SHIFT


def _fact(kind: str, note: Any) -> Fact:
    """The fact of a note's fields (NoteFields, as a list)."""
    created = note[6]
    return kind, note[2], _fromiso(created).toordinal() if created else 0


@runtime_checkable
class Briefed(Protocol):
    """Records that can say a record's brief without reading it (scan.Files)."""

    def __getitem__(self, path: str) -> Any: ...

    def peek(self, path: str) -> Any: ...

    def by_kind(self) -> dict[str, list[str]]: ...

    def briefs(self, paths: list[str]) -> list[int]: ...

    def read_all(self) -> None: ...

    def release(self) -> None: ...  # the bytes the records were read from let go


def _defer(
    parts: _Parts,
    deferred: dict[str, Any],
    facts: Counter[Fact],
    path: str,
    record: Any,
) -> None:
    """A NOTES_ONLY record kept for later (see NOTES_ONLY): what every command needs of it now
    (its problems, its note's fact), and its fields unpacked as _add unpacks them, so that a
    damaged index fails here, where the lab is parsed again, and not later."""
    kind, _mtime, _size, _inode, digest, error, _last_good = record
    deferred[path] = record
    if error:
        parts.findings.append(Finding(path, int(error[0]), Msg.from_json(error[1]), skipped=True))
        return
    note, _paper, _key, findings, _lint = digest
    _title, _category, _stage, tags, related, _summary, created = note
    if type(tags) is not list or type(related) is not list or not isinstance(created, str | None):
        raise TypeError("a record of another layout")
    facts[_fact(kind, note)] += 1
    if findings:
        parts.findings += [Finding(path, line, Msg.from_json(m)) for line, m in findings]


def _defer_briefly(
    parts: _Parts,
    deferred: dict[str, Any],
    facts: Counter[Fact],
    paths: list[str],
    records: Briefed,
) -> None:
    """As _defer for each of `paths`, from its record's brief when that says all: the record
    stays unread (its brief in `deferred`: read from `records` when the notes are made)."""
    sound: list[int] = []
    for path, said in zip(paths, records.briefs(paths), strict=True):
        if said & (BRIEF_BROKEN | BRIEF_PROBLEMS):
            _defer(parts, deferred, facts, path, records[path])
            continue
        deferred[path] = said
        sound.append(said)
    for said, count in Counter(sound).items():
        facts[_brief_fact(said)] += count


def _fact_of(kept: Any) -> Fact | None:
    """The fact of a record kept for later, or of its brief (None: it makes no note)."""
    if kept.__class__ is int:
        return _brief_fact(kept)
    kind, _mtime, _size, _inode, digest, error, _last_good = kept
    return None if error else _fact(kind, digest[0])


def _from_list(path: str, record: Any) -> _FromList:
    _kind, _mtime, _size, _inode, digest, error, last_good = record
    if error:  # its papers are those it last gave, if any: else every entry is left out
        problem = Finding(
            path, int(error[0]), Msg.from_json(error[1]), skipped=last_good is None
        )
        kept = ListDigest(*last_good).papers if last_good is not None else []
        papers = [paper_of(row)._replace(problem=problem) for row in kept]
        return _FromList(record, papers, [problem], [], problem)
    listed = ListDigest(*digest)
    return _FromList(
        record=record,
        papers=[_listed_paper(path, row) for row in listed.papers],
        findings=[_list_finding(path, line, m) for line, m in listed.findings],
        keys=[(key, line) for key, line in listed.keys],
        problem=None,
    )


def _list_finding(path: str, line: int, said: Any) -> Finding:
    """A problem of one reading-list entry: an entry without a key has no row (skipped); any
    other keeps the row of the fields that read."""
    msg = Msg.from_json(said)
    keyless = msg.name == "field.missing" and dict(msg.params).get("field") == "key"
    return Finding(path, line, msg, skipped=keyless)


def _listed_paper(path: str, row: list[Any]) -> Paper:
    """A reading-list row's Paper. An entry with a field lab cannot read has the fields that
    do read and its first problem ([line, message]): it shows them marked ⚠️, as a paper
    note that does not read keeps its last row."""
    said = row[PROBLEM_AT]
    if said is None:
        return paper_of(row)
    values = list(row)
    values[PROBLEM_AT] = None
    return paper_of(values)._replace(problem=Finding(path, int(said[0]), Msg.from_json(said[1])))


def _take_list(parts: _Parts, made: _FromList) -> None:
    parts.listed += made.papers
    parts.findings += made.findings
    parts.list_keys += made.keys
    parts.list_problem = made.problem
    parts.from_list = made


def _one_per_key(parts: _Parts) -> list[Paper]:
    """Papers from notes, one per key: two notes holding one key keep the first (by path) of
    those that read, marked broken, and both files are named until one of them is changed;
    the other's paper is left out (skipped). A note that does not read never hides one that
    does."""
    first: dict[str, Paper] = {}
    ordered = sorted(parts.papers, key=lambda p: p.note or "")
    if any(paper.problem for paper in ordered):  # those that read first, each part by note
        ordered.sort(key=lambda p: p.problem is not None)  # (a tuple key: 4x the time)
    for paper in ordered:
        key = paper.key.casefold()
        if key not in first:
            first[key] = paper
            continue
        kept = first[key]
        clash = Finding.of(
            paper.note or "", 1, "paper.duplicate_key", key=paper.key, other=kept.note or ""
        )._replace(skipped=True)
        parts.findings.append(clash)
        if not kept.problem:
            first[key] = kept._replace(problem=clash)
    return list(first.values())


def _combine(
    parts: _Parts,
    deferred: dict[str, Any] | None = None,
    facts: Counter[Fact] | None = None,
    source: Briefed | None = None,
) -> LabData:
    """A paper with a note counts once, from its note; the reading list adds the others."""
    papers = _one_per_key(parts)
    noted = {paper.key.casefold() for paper in papers}
    for paper in parts.listed:
        if paper.key.casefold() not in noted:
            papers.append(paper)
            noted.add(paper.key.casefold())
    parts.notes.sort(key=_BY_PATH)
    parts.findings.sort(key=_BY_PLACE)
    return LabData(
        papers=papers,
        experiments=parts.experiments,
        findings=parts.findings,
        note_keys=parts.keys,
        listed=parts.list_keys,
        reading_list_problem=parts.list_problem,
        from_list=parts.from_list,
        noted=parts.papers,
        own_notes=parts.notes,
        own_lint=parts.lint,
        deferred=deferred if deferred is not None else {},
        deferred_facts=facts if facts is not None else Counter(),
        source=source,
    )


def build(records: Mapping[str, Any]) -> LabData:
    """The lab from the index records. Records that can be read one at a time (Briefed) are:
    a NOTES_ONLY record whose brief says all is not read."""
    parts = _Parts()
    deferred: dict[str, Any] = {}
    facts: Counter[Fact] = Counter()
    if isinstance(records, Briefed):
        for kind, paths in records.by_kind().items():
            if kind in NOTES_ONLY:
                _defer_briefly(parts, deferred, facts, paths, records)
            elif kind == "reading-list":  # kept: patch knows it by its record
                for path in paths:
                    _add(parts, path, records[path])
            else:  # made into papers and notes, not needed again
                for path in paths:
                    _add(parts, path, records.peek(path))
        return _combine(parts, deferred, facts, records)
    for path, record in records.items():
        if record[0] in NOTES_ONLY:
            _defer(parts, deferred, facts, path, record)
        else:
            _add(parts, path, record)
    return _combine(parts, deferred, facts)


def patch(data: LabData, records: Mapping[str, Any], changed: Iterable[str]) -> LabData:
    """`data` with the files in `changed` taken from `records` again (a file missing from
    `records` was deleted): what a command that wrote a few files sees afterwards, without
    building the whole lab again. The reading list is always taken again: which of its
    entries count depends on which papers have notes. Records kept for later (NOTES_ONLY)
    stay so: the notes made of them are kept too when none of them changed."""
    changed = set(changed) | ({READING_LIST} if READING_LIST in records else set())
    parts = _Parts(
        notes=[n for n in data.own_notes if n.path not in changed],
        # every note's paper, not only those shown: a paper hidden by a key clash comes back
        # when the note that won is changed; the clashes are all worked out again
        papers=[p for p in data.noted if p.note not in changed],
        experiments=[e for e in data.experiments if e.path not in changed],
        findings=[
            f
            for f in data.findings
            if f.path not in changed and f.msg.name != "paper.duplicate_key"
        ],
        lint=[f for f in data.own_lint if f.path not in changed],
        keys={k: v for k, v in data.note_keys.items() if k not in changed},
    )
    deferred, facts = data.deferred, data.deferred_facts
    if any(
        path in deferred or (path in records and records[path][0] in NOTES_ONLY) for path in changed
    ):
        facts = Counter(facts)
        for path in changed & deferred.keys():
            fact = _fact_of(deferred[path])
            if fact is not None:
                facts[fact] -= 1
        facts = +facts  # no fact left at 0
        deferred = {path: record for path, record in deferred.items() if path not in changed}
    for path in sorted(changed):
        if path not in records:
            continue
        if path == READING_LIST and data.from_list and data.from_list.record is records[path]:
            _take_list(parts, data.from_list)  # the same record: the same papers
        elif records[path][0] in NOTES_ONLY:
            _defer(parts, deferred, facts, path, records[path])
        else:
            _add(parts, path, records[path])
    patched = _combine(parts, deferred, facts, data.source)
    if deferred is data.deferred:  # none of them changed: the notes made of them still hold
        patched._made = data._made
    elif data._made is not None:  # those of the unchanged ones still do (the same objects,
        # which tells the notes index which of its categories it can keep)
        notes, lint = data._made
        again = _Parts()
        for path in sorted(changed & deferred.keys()):
            _add(again, path, deferred[path])
        patched._made = (
            [note for note in notes if note.path not in changed] + again.notes,
            [finding for finding in lint if finding.path not in changed] + again.lint,
        )
    return patched
