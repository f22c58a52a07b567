"""Reading the lab: every note, the reading list and every notebook, parsed once and kept in an
index (.lab/index.bin) keyed by path, mtime, size and inode, so a command re-parses only what
changed. What only `lab check`, `lab review` and the prompts need from a note's body (headings,
links, open questions) is computed on demand and kept apart (mllm_lab.details).

The index is a cache: it can be deleted at any time. It carries a checksum of its content, so
a corrupt, foreign or hand-edited one is rebuilt, never trusted."""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllm_lab.core.labdata import INDEX_VERSION, Record
from mllm_lab.cores import usable_cores
from mllm_lab.lab import Lab
from mllm_lab.messages import Msg
from mllm_lab.parse import as_json, good_digest, make_record, parse_file
from mllm_lab.state import append_state, read_state, truncate_state, write_state
from mllm_lab.walk import Found, Walk, changed_ns, kind_of, walk

INDEX_NAME = "index.bin"
PYTHON = list(sys.version_info[:2])  # marshal's format may change between Python versions
JOURNAL_NAME = "index.log"  # small changes are appended here instead of rewriting the index
JOURNAL_LIMIT = 2000  # lines; past this the index is rewritten and the journal emptied
JOURNAL_BYTES = 256 * 1024  # and past this plus an eighth of the index's size
Progress = Callable[[int, int], None]
__all__ = ["Walk", "kind_of", "make_record", "parse_file", "walk"]  # used through this module


# --- the index files -----------------------------------------------------------------------


Buffer = bytes | bytearray | memoryview


def _checksum(data: Buffer) -> str:
    return hashlib.sha1(data).hexdigest()


def load_cache(lab: Lab, name: str) -> dict[str, Any]:
    """A cache file's `files`, or {} when it is missing, foreign, of another version (of lab
    or of Python), or its checksum does not match (someone or something changed it)."""
    return _read_cache(lab, name)[0]


def _read_cache(lab: Lab, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(files, header) as load_cache reads them; ({}, {}) when they cannot be used."""
    opened = _open_cache(lab, name)
    if opened is not None:
        header, body = opened
        with contextlib.suppress(ValueError, EOFError, TypeError, RecursionError):
            if header.get("sum") == _checksum(body):
                files = marshal.loads(body)
                if isinstance(files, dict):
                    return files, header
    return {}, {}


def _open_cache(lab: Lab, name: str) -> tuple[dict[str, Any], bytes] | None:
    """(header, body) of a cache file this lab wrote here, under this version of lab and of
    Python; None for a missing, foreign or unreadable one (the caller checks its checksums)."""
    try:
        with open(lab.state / name, "rb") as stream:  # the header, then the body: no copy of it
            head, body = stream.readline(), stream.read()
        header = json.loads(head)
    except (OSError, ValueError, RecursionError):
        return None
    if (
        isinstance(header, dict)
        and header.get("version") == INDEX_VERSION
        and header.get("python") == PYTHON
        and header.get("root") == str(lab.root)
        and header.get("place") == _place(lab)
    ):
        return header, body
    return None


def _header(lab: Lab, **fields: Any) -> bytes:
    """A cache file's header line: what _open_cache checks, then `fields`."""
    with contextlib.suppress(OSError):
        lab.state.mkdir(exist_ok=True)  # before its inode is taken: the first cache makes it
    header = {
        "version": INDEX_VERSION,
        "python": PYTHON,
        "tool": "mllm-lab",
        "root": str(lab.root),
        "place": _place(lab),
        **fields,
    }
    return json.dumps(header).encode() + b"\n"


def _drop_legacy(lab: Lab, name: str) -> None:
    """Earlier versions kept a cache as JSON, under another name."""
    with contextlib.suppress(OSError):
        (lab.state / (name.removesuffix(".bin") + ".json")).unlink()


def _place(lab: Lab) -> int | None:
    """The inode of this machine's .lab/ folder. marshal is not meant for data from elsewhere,
    and a repository could carry a .lab/ of its own (force-added past its .gitignore): a
    cache is read only in the very folder it was written in, which no one can foresee."""
    try:
        return os.stat(lab.state).st_ino
    except OSError:
        return None


def save_cache(lab: Lab, name: str, files: dict[str, Any], *, shaped: bool = False) -> None:
    """Keep `files` in marshal's format: read back twice as fast as JSON, with each repeated
    string (a kind, a status) made once. What is kept is what JSON would give back (tuples as
    lists), so a record read from the cache is the same whichever way it was kept. `shaped`:
    the caller made `files` so already (as_json on what is new, the rest read from a cache)."""
    data = marshal.dumps(files if shaped else as_json(files))
    head = _header(lab, sum=_checksum(data), size=len(data))
    write_state(lab.state, name, head + data)
    _drop_legacy(lab, name)


INDEX_LAYOUT = 2  # the stamps first, then each record's own marshal: see _save_index
_STORED = 6  # an index entry's length: [kind, mtime_ns, size, inode, offset, length]


@dataclass
class _Index:
    files: dict[str, Any]  # path -> a stored entry (see _STORED) or a journaled record
    lines: int  # in the journal
    content: str | None  # the content stamp (see `scan`), None when unknown
    bloated: bool  # the journal takes longer to read than the index would to write again
    records: Buffer = b""  # the stored entries' records, each at its offset

    def record(self, path: str) -> Record | None:
        return _decoded(self.files.get(path), self.records)


def _decoded(entry: Any, records: Buffer) -> Record | None:
    """The record an index entry stands for: a journaled one as it is, a stored one read from
    its bytes (only then: a command after a body edit compares a stamp or two, not 10,000
    records); None for an entry of another shape or bytes that do not read."""
    if _stored(entry, len(records)):
        kind, mtime, size, inode, at, length = entry
        try:
            digest, error, last_good = marshal.loads(memoryview(records)[at : at + length])
        except (ValueError, EOFError, TypeError):
            return None
        return Record(kind, mtime, size, inode, digest, error, last_good)
    return _as_record(entry)


def _stored(entry: Any, size: int) -> bool:
    """A stored entry whose record lies within the index's `size` bytes of records (one of
    another shape, from a damaged index, is parsed again, never sliced or copied)."""
    if entry.__class__ is not list or len(entry) != _STORED:
        return False
    at, length = entry[4], entry[5]
    return type(at) is int and type(length) is int and at >= 0 and 0 < length <= size - at


def _read_index(lab: Lab) -> tuple[dict[str, Any], Buffer, dict[str, Any]]:
    """(entries, records, header) of the index; ({}, b"", {}) when it cannot be used (see
    load_cache: missing, foreign, of another version, a checksum that does not hold)."""
    opened = _open_cache(lab, INDEX_NAME)
    if opened is not None:
        header, body = opened
        split = header.get("stamps")
        whole = memoryview(body)  # its parts are read where they lie, not copied
        with contextlib.suppress(ValueError, EOFError, TypeError, RecursionError):
            if (
                type(split) is int
                and header.get("layout") == INDEX_LAYOUT
                and header.get("sum") == _checksum(whole[:split])
                and header.get("records") == _checksum(whole[split:])
            ):
                files = marshal.loads(whole[:split])
                if isinstance(files, dict):
                    return files, whole[split:], header
    return {}, b"", {}


def _load_index(lab: Lab) -> _Index:
    """The index with its journal applied. A torn, foreign or altered line (each carries its
    checksum) is skipped: its file is parsed again."""
    files, records, header = _read_index(lab)
    content = header.get("content") if isinstance(header.get("content"), str) else None
    raw = read_state(lab.state, JOURNAL_NAME)
    if raw is None:
        return _Index(files, 0, content, False, records)
    lines = raw.split(b"\n")
    noted, since = content, 0  # the last content line's stamp, and record lines since it
    for line in lines:
        total, _, payload = line.partition(b" ")
        if total.decode("ascii", "replace") != _checksum(payload)[:12]:
            continue
        try:
            path, made = json.loads(payload)
        except (ValueError, TypeError, RecursionError):
            continue
        if path is None:  # a content line (earlier lab skips it: its path is not a string)
            content = _content_of(made, noted, since)
            noted, since = content, 0
            continue
        if not isinstance(path, str):
            continue
        content = None  # a record changed, and no content line (yet) says what that means
        since += 1
        if made.__class__ is list and len(made) == _SIZE:
            files[path] = made
        else:  # gone, or a line of another shape: parsed again if it is there
            files.pop(path, None)
    # a record of the reading list is all of it: a few writes to it make a journal of megabytes
    size = header.get("size")
    bloated = len(raw) > JOURNAL_BYTES + (size if type(size) is int else 0) // 8
    return _Index(files, len(lines), content, bloated, records)


def _content_of(line: Any, noted: str | None, since: int) -> str | None:
    """The stamp a content line leaves. One that keeps a stamp (`from`: a scan found the
    records it re-read unchanged) holds only if nothing came between: the stamp it read is
    the last one noted, and the only records since are the `records` it wrote with it (a
    command that wrote notes meanwhile makes it unknown)."""
    if not isinstance(line, dict) or not isinstance(line.get("content"), str):
        return None
    if "from" in line and (line["from"] != noted or line.get("records") != since):
        return None
    return str(line["content"])


def journal(
    lab: Lab, changes: dict[str, Any], content: str | None = None, kept: bool = False
) -> None:
    """Append changed records to the journal in one write (a torn one fails its checksum and
    is ignored when read), then, if given, the content stamp they leave the index with;
    `kept`: the stamp the index had, its records re-read and found unchanged."""
    lines: list[list[Any]] = [[path, made] for path, made in changes.items()]
    if content is not None:
        note: dict[str, Any] = {"content": content}
        if kept:
            note.update({"from": content, "records": len(changes)})
        lines.append([None, note])
    if not lines:
        return
    out = []
    for line in lines:
        payload = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        data = payload.encode("utf-8", "surrogatepass")
        out.append(_checksum(data)[:12].encode() + b" " + data + b"\n")
    append_state(lab.state, JOURNAL_NAME, b"".join(out))


def _save_index(
    lab: Lab, files: dict[str, Any], content: str | None = None, records: Buffer = b""
) -> None:
    """The index: a header, the stamps of every file with where its record is, then the
    records, each marshalled apart. A command after a body edit reads the stamps alone (a
    tenth of the time) and the record of the file it re-read. A stored entry's bytes
    (`records`: those it was read from) are kept as they are; a new record is kept as it is,
    which is as JSON would give it back (tuples as lists), as the journal's records are."""
    stamps: dict[str, list[Any]] = {}
    body = bytearray()  # the records, one after another: no list of them joined into a copy
    view = memoryview(records)
    for path, entry in files.items():
        if len(entry) == _STORED:
            if not _stored(entry, len(records)):
                continue
            blob: bytes | memoryview = view[entry[4] : entry[4] + entry[5]]
        else:  # as JSON gives it back already: make_record made it so, or it came from JSON
            blob = marshal.dumps(list(entry[4:7]))
        stamps[path] = [*entry[:4], len(body), len(blob)]
        body += blob
    head = marshal.dumps(stamps)
    header = _header(
        lab,
        layout=INDEX_LAYOUT,
        stamps=len(head),
        sum=_checksum(head),
        records=_checksum(body),
        size=len(head) + len(body),
        **({"content": content} if content else {}),
    )
    # The journal goes first: a kill between the two leaves the old index without it, which
    # stamps correct (the files it named are parsed again), never the new index under an old
    # journal whose content line would bring back a stamp of results since made stale.
    truncate_state(lab.state, JOURNAL_NAME)
    write_state(lab.state, INDEX_NAME, (header, head, body))
    _drop_legacy(lab, INDEX_NAME)


def new_content(lab: Lab) -> str:
    """A content stamp no index has had: lab wrote notes (see `scan`); noted in the journal."""
    import uuid

    content = f"w-{uuid.uuid4().hex}"
    journal(lab, {}, content)
    return content


# --- scanning ------------------------------------------------------------------------------


PARALLEL_FROM = 2000  # files to parse before worker processes pay for their start


def _parse_many(
    root: Path, todo: list[Found], old: dict[str, Any], progress: Progress | None
) -> list[Record]:
    """Parse files; a big cold scan is shared with worker processes, one per usable core
    beyond this process's own (up to 4 in all): this one parses a share too, not idling."""
    cores = min(4, usable_cores())
    if len(todo) < PARALLEL_FROM or cores < 2:
        records = []
        for number, found in enumerate(todo, start=1):
            parsed = parse_file(root, found[0], found[1])
            records.append(make_record(found, parsed, _last_good(old.get(found[0]))))
            if progress and number % 200 == 0:
                progress(number, len(todo))
        return records
    from concurrent.futures import ProcessPoolExecutor  # only a big cold scan needs workers
    from concurrent.futures.process import BrokenProcessPool

    chunks = [todo[i::cores] for i in range(cores)]
    mine: list[tuple[str, Record]] | None = None
    try:
        with ProcessPoolExecutor(cores - 1) as pool:
            theirs = [pool.submit(_parse_marshalled, str(root), chunk) for chunk in chunks[1:]]
            mine = parse_chunk(str(root), chunks[0])
            parts = [mine, *(_unmarshalled(part.result()) for part in theirs)]
    except BrokenProcessPool:  # a worker killed (out of memory, a kill): this process parses it
        parts = [mine or parse_chunk(str(root), chunks[0])]
        parts += [parse_chunk(str(root), chunk) for chunk in chunks[1:]]
    by_path = {relative: made for part in parts for relative, made in part}
    if progress:
        progress(len(todo), len(todo))
    return [
        by_path[found[0]]._replace(last_good=_last_good(old.get(found[0])))
        if not good_digest(found[1], by_path[found[0]].digest)
        else by_path[found[0]]
        for found in todo
    ]


def parse_chunk(root: str, chunk: list[Found]) -> list[tuple[str, Record]]:
    return [(found[0], make_record(found, parse_file(root, found[0], found[1]))) for found in chunk]


def _parse_marshalled(root: str, chunk: list[Found]) -> bytes:
    """A worker's share, parsed, as one marshal of [path, *record] lists: what pickle made of
    the records took a worker 15 ms per 1,000 notes, and the scan waited for it."""
    return marshal.dumps([[path, *record] for path, record in parse_chunk(root, chunk)])


def _unmarshalled(data: bytes) -> list[tuple[str, Record]]:
    return [(item[0], _record(item[1:])) for item in marshal.loads(data)]


_SIZE = len(Record._fields)
_record = Record._make


def _as_record(cached: Any) -> Record | None:
    """A record read back from the index (a JSON list), or None if it has another shape."""
    if cached.__class__ is list and len(cached) == _SIZE:
        return _record(cached)
    return cached if isinstance(cached, Record) else None


def _last_good(cached: Any) -> Any:
    """The digest a file had when it last parsed, for a file that is broken now."""
    record = _as_record(cached)
    if record is None:
        return None
    return record.digest if good_digest(record.kind, record.digest) else record.last_good


class Snapshot:
    """The lab's files as scanned: their records (`files`), the files the walk skipped and
    why, stray temporary files, whether anything changed since the index was saved, and the
    content stamp. Records still stored in the index are read from it when `files` is first
    asked for: a command whose result is kept by the content stamp never reads them."""

    def __init__(
        self,
        files: dict[str, Any],
        problems: list[tuple[str, Msg]],
        strays: list[str],
        changed: bool,
        content: str | None = None,
        *,
        root: Path | None = None,
        records: Buffer = b"",
    ) -> None:
        self._entries: dict[str, Any] | None = files
        self._files: dict[str, Record] | None = None
        self.problems = problems  # (path, why) for files that were skipped
        self.strays = strays
        self.changed = changed
        self.content = content  # the content stamp (see `scan`); None without the index
        self._root, self._records = root, records

    @property
    def decoded(self) -> bool:
        return self._files is not None

    @property
    def files(self) -> dict[str, Record]:
        if self._files is None:
            assert self._entries is not None
            files: dict[str, Record] = {}
            for path, entry in self._entries.items():
                record = entry if entry.__class__ is Record else _decoded(entry, self._records)
                if record is None:  # bytes that do not read (a damaged index): parsed again
                    found = (path, entry[0], entry[1], entry[2], entry[3])
                    record = make_record(found, parse_file(self._root or Path(), path, entry[0]))
                files[path] = record
            self._files, self._entries, self._records = files, None, b""
        return self._files


SAME_CONTENT_LIMIT = 200  # files re-read at most, for their records to be compared with the old


def _same_content(before: Any, after: Record) -> bool:
    """The file's record says what it said before (its stamp aside): a body edited, a file
    touched or checked out again."""
    old = _as_record(before)
    if old is None or old.kind != after.kind:
        return False
    try:
        as_kept = json.dumps([old.digest, old.error, old.last_good], ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # a damaged index: not the same
        return False
    return as_kept == json.dumps([after.digest, after.error, after.last_good], ensure_ascii=False)


def scan(
    lab: Lab, use_index: bool = True, progress: Progress | None = None, walked: Walk | None = None
) -> Snapshot:
    """The parsed lab, re-parsing only files whose stamp changed since the index was saved
    (`walked`: the lab's files, if the caller has walked them already).

    The index also keeps a content stamp: the walk's fingerprint when its records last
    changed. A re-read file whose record is the same as before (a body edited, a file touched
    or checked out again) leaves it as it was, so results made from the records alone (the
    status report, the lists) still hold and are not made again."""
    index = _load_index(lab) if use_index else _Index({}, 0, None, False)
    old, content = index.files, index.content
    walked = walked if walked is not None else walk(lab)
    files: dict[str, Any] = {}  # a Record, or an index entry whose record is read when asked
    todo: list[Found] = []
    for item in walked.found:
        relative, kind, mtime, size, inode = item
        entry: Any = old.get(relative)
        if (
            (
                _stored(entry, len(index.records))
                or (entry.__class__ is list and len(entry) == _SIZE)
            )
            and entry[0] == kind
            and entry[1] == mtime
            and entry[2] == size
            and entry[3] == inode
        ):
            files[relative] = entry if len(entry) == _STORED else _record(entry)
        else:
            todo.append(item)
    before = {item[0]: index.record(item[0]) for item in todo}
    for item, made in zip(
        todo, _parse_many(root=lab.root, todo=todo, old=before, progress=progress), strict=True
    ):
        files[item[0]] = made
    gone = [path for path in old if path not in files]
    changed = bool(todo) or bool(gone)
    if not use_index:
        return Snapshot(files, walked.problems, walked.strays, changed)
    same = (
        content is not None
        and not gone
        and len(todo) <= SAME_CONTENT_LIMIT
        and all(_same_content(before[item[0]], files[item[0]]) for item in todo)
    )
    if not same:
        content = walked.fingerprint()
    if changed or index.bloated:
        few = len(todo) + len(gone) <= max(100, len(files) // 50)
        if (
            old
            and few
            and not index.bloated
            and index.lines + len(todo) + len(gone) < JOURNAL_LIMIT
        ):
            changes = {**{item[0]: files[item[0]] for item in todo}, **dict.fromkeys(gone)}
            journal(lab, changes, content, kept=same)
        else:
            _save_index(lab, files, content, index.records)
    elif not same:  # an index without a content stamp (an earlier lab's): it has one now
        journal(lab, {}, content)
    return Snapshot(
        files,
        walked.problems,
        walked.strays,
        changed,
        content,
        root=lab.root,
        records=index.records,
    )


def rebuild(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """Parse every file again and replace the index (it could not be trusted)."""
    snapshot = scan(lab, use_index=False, progress=progress)
    if use_index:
        _save_index(lab, snapshot.files)
    return snapshot


def refresh(
    lab: Lab,
    files: dict[str, Record],
    relative: str,
    digest: tuple[Any, Any] | None = None,
    use_index: bool = True,
) -> None:
    """Take one file into the index after the tool wrote it: its new stamp and, when the
    caller already parsed the text it wrote, that digest (it is not parsed again)."""
    kind = kind_of(relative)
    if kind is None:
        return
    try:
        st = (lab.root / relative).stat()
    except OSError:
        if files.pop(relative, None) is not None and use_index:
            journal(lab, {relative: None})
        return
    found = (relative, kind, changed_ns(st), st.st_size, st.st_ino)
    parsed = digest if digest is not None else parse_file(lab.root, relative, kind)
    files[relative] = make_record(found, parsed, _last_good(files.get(relative)))
    if use_index:
        journal(lab, {relative: files[relative]})  # the caller notes the new content stamp
