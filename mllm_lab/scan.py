"""Reading the lab: every note, the reading list and every notebook, parsed once and kept in an
index (.lab/index.bin) keyed by path, mtime, size and inode, so a command re-parses only what
changed. What only `lab check`, `lab review` and the prompts need from a note's body (headings,
links, open questions) is computed on demand and kept apart (mllm_lab.details).

The index is a cache: it can be deleted at any time. It carries a checksum of its content, so
a corrupt, foreign or hand-edited one is rebuilt, never trusted."""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import sys
from array import array
from collections.abc import Callable, ItemsView, Iterator, Mapping, MutableMapping, ValuesView
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from mllm_lab.caches import (
    Buffer,
    checksum,
    drop_legacy,
    header_line,
    is_ours,
)
from mllm_lab.core.labdata import BRIEF_BROKEN, Record, brief
from mllm_lab.cores import end_with_parent, paused_gc, usable_cores
from mllm_lab.lab import Lab
from mllm_lab.messages import Msg
from mllm_lab.parse import good_digest, make_record, parse_file
from mllm_lab.state import append_state, read_state, truncate_state, write_state
from mllm_lab.storage import open_regular
from mllm_lab.walk import STAMP_RUN, Found, Walk, changed_ns, kind_of, walk

INDEX_NAME = "index.bin"
JOURNAL_NAME = "index.log"  # small changes are appended here instead of rewriting the index
JOURNAL_LIMIT = 2000  # lines; past this the index is rewritten and the journal emptied
JOURNAL_BYTES = 256 * 1024  # and past this plus an eighth of the index's size
Progress = Callable[[int, int], None]
__all__ = ["Walk", "kind_of", "make_record", "parse_file", "walk"]  # used through this module


# --- the index files -----------------------------------------------------------------------


INDEX_LAYOUT = 6  # the stamps first, then the records each marshalled apart: see _save_index
# (6: a paper note's brief is a digest of what status reads of it, labdata._paper_brief)
_NUMBERS = 6  # per file in the stamps: mtime_ns, size, inode, its record's offset and length,
# and the record's brief (labdata.brief)
CHUNK = 1 << 20  # the records are checksummed a mebibyte at a time: see _Records


class _Records:
    """The index's records, read from its file only when one is asked for and checked a chunk
    at a time against the header's checksums: a command after a body edit reads the record it
    compares, not 23 MB of them at 50,000 notes. The file is opened again for each read and
    must be the one the stamps came from (inode, size, mtime); when it is not (replaced
    since), or a chunk fails its checksum, the records in it are None: parsed again."""

    def __init__(
        self,
        path: Path | None = None,
        identity: tuple[int, int, int] | None = None,
        start: int = 0,
        size: int = 0,
        sums: list[str] | None = None,
    ) -> None:
        self.path, self.identity, self.start, self.size = path, identity, start, size
        self.sums = sums or []
        self._chunks: dict[int, memoryview | None] = {}
        self.whole: memoryview | None = None  # all of them, once load_all found every chunk good

    def get(self, at: int, length: int) -> Buffer | None:
        if not (
            type(at) is int and type(length) is int and at >= 0 and 0 < length <= self.size - at
        ):
            return None
        if self.whole is not None:
            return self.whole[at : at + length]
        first, last = at // CHUNK, (at + length - 1) // CHUNK
        if first == last:  # most records: one chunk, often read already (a paper note's)
            if first not in self._chunks:
                self._load([first])
            chunk = self._chunks[first]
            if chunk is None:
                return None
            offset = at - first * CHUNK
            return chunk[offset : offset + length]
        self._load([n for n in range(first, last + 1) if n not in self._chunks])
        chunks = [self._chunks.get(n) for n in range(first, last + 1)]
        if any(chunk is None for chunk in chunks):
            return None
        offset = at - first * CHUNK
        if first == last:
            return chunks[0][offset : offset + length]  # type: ignore[index]
        return b"".join(chunks)[offset : offset + length]  # type: ignore[arg-type]

    def each(self, spans: list[tuple[int, int]]) -> list[Buffer | None]:
        """`get` of each (at, length), the usual one (in a chunk read already) taken here."""
        got: list[Buffer | None] = []
        whole, chunks = self.whole, self._chunks
        for at, length in spans:
            first = at // CHUNK
            if (
                whole is None
                and 0 < length <= self.size - at
                and first == (at + length - 1) // CHUNK
            ):
                chunk = chunks.get(first)
                if chunk is not None:
                    offset = at - first * CHUNK
                    got.append(chunk[offset : offset + length])
                    continue
            got.append(self.get(at, length))
        return got

    def release(self) -> None:
        """The chunks read so far let go (megabytes at 50,000 notes, whose records are made
        already): a record asked for later is read again from the file."""
        self._chunks.clear()
        self.whole = None

    def load_all(self) -> None:
        """Every chunk, in one read: a command that reads most records (see `whole`)."""
        if self.whole is None and self.sums:
            data = self._load(list(range(len(self.sums))))
            if data is not None and all(chunk is not None for chunk in self._chunks.values()):
                self.whole = data

    def _load(self, numbers: list[int]) -> memoryview | None:
        if not numbers:
            return None
        data = self._read(numbers[0], numbers[-1])
        for number in numbers:
            chunk = None
            if data is not None:
                at = (number - numbers[0]) * CHUNK
                piece = data[at : at + CHUNK]
                if checksum(piece) == self.sums[number]:
                    chunk = piece
            self._chunks[number] = chunk
        return data

    def _read(self, first: int, last: int) -> memoryview | None:
        """Chunks first..last from the file, if it is still the one the stamps came from."""
        if self.path is None or last >= len(self.sums):
            return None
        begin = first * CHUNK
        wanted = min(self.size, (last + 1) * CHUNK) - begin
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if (st.st_ino, st.st_size, st.st_mtime_ns) != self.identity:
                return None
            os.lseek(fd, self.start + begin, os.SEEK_SET)
            data = bytearray()
            while len(data) < wanted:
                piece = os.read(fd, wanted - len(data))
                if not piece:
                    return None
                data += piece
            return memoryview(data)
        except OSError:
            return None
        finally:
            os.close(fd)


def _chunk_sums(data: Buffer) -> list[str]:
    view = memoryview(data)
    return [checksum(view[at : at + CHUNK]) for at in range(0, len(view), CHUNK)]


_MISSING = object()


@dataclass(eq=False, repr=False)
class _Index:
    """The index with its journal applied: the stamps as stored (each file's place in
    `paths`, `kinds` and `numbers`), the digests of their runs (see Walk.runs; [] when not
    known), the records journaled since (None: gone), and the records."""

    paths: list[str]
    kinds: list[Any]
    numbers: Any  # unsigned 64-bit numbers, _NUMBERS per file (a memoryview cast to "Q")
    runs: list[bytes]
    journaled: dict[str, Any]
    lines: int  # in the journal
    content: str | None  # the content stamp (see `scan`), None when unknown
    bloated: bool  # the journal takes longer to read than the index would to write, or is damaged
    records: _Records
    generation: str | None = None  # this index's own, from its header (see _save_index)
    _position: dict[str, int] | None = None
    _briefs: list[int] | None = None

    @property
    def position(self) -> dict[str, int]:
        """Each stored file's place: made only when a file is not where the walk found it."""
        if self._position is None:
            self._position = dict(zip(self.paths, range(len(self.paths)), strict=True))
        return self._position

    def place(self, path: str, hint: int = -1) -> int | None:
        """Where the index stores `path`: most often where the walk found it (`hint`)."""
        if 0 <= hint < len(self.paths) and self.paths[hint] == path:
            return hint
        return self.position.get(path)

    def record(self, path: str, hint: int = -1) -> Record | None:
        made = self.journaled.get(path, _MISSING)
        if made is not _MISSING:
            return _as_record(made)
        place = self.place(path, hint)
        return None if place is None else self.stored(place)

    def stored(self, place: int) -> Record | None:
        """A stored file's record, read from its bytes (None when they do not read)."""
        numbers = self.numbers[place * _NUMBERS : place * _NUMBERS + _NUMBERS]
        blob = self.records.get(numbers[3], numbers[4])
        if blob is None:
            return None
        try:
            digest, error, last_good = marshal.loads(blob)
        except (ValueError, EOFError, TypeError):
            return None
        return Record(
            self.kinds[place], numbers[0], numbers[1], numbers[2], digest, error, last_good
        )

    def brief_column(self) -> list[int]:
        """Every stored file's brief, by place (see labdata.brief)."""
        if self._briefs is None:
            self._briefs = self.numbers[5::_NUMBERS].tolist()
        return self._briefs

    def brief(self, place: int) -> int:
        return int(self.numbers[place * _NUMBERS + 5])

    def stamp(self, place: int) -> Found:
        numbers = self.numbers[place * _NUMBERS : place * _NUMBERS + 3]
        return (self.paths[place], self.kinds[place], numbers[0], numbers[1], numbers[2])

    def holds(self, path: str) -> bool:
        made = self.journaled.get(path, _MISSING)
        return self.place(path) is not None if made is _MISSING else made is not None

    def held(self) -> list[str]:
        """Every file the index holds a record of."""
        journaled = self.journaled
        return [path for path in self.paths if path not in journaled] + [
            path for path, made in journaled.items() if made is not None
        ]

    def known(self, item: Found, hint: int) -> tuple[Any, bool]:
        """(what the index knows of a walked file: a journaled Record or a stored file's
        place, None when its stamp changed since; whether the index stores the file)."""
        relative, kind, mtime, size, inode = item
        place = self.place(relative, hint)
        made: Any = self.journaled.get(relative, _MISSING) if self.journaled else _MISSING
        if made is not _MISSING:
            if (
                made is not None
                and made[0] == kind
                and made[1] == mtime
                and made[2] == size
                and made[3] == inode
            ):
                return _record(made), place is not None
            return None, place is not None
        if place is None:
            return None, False
        at, numbers = place * _NUMBERS, self.numbers
        if (
            self.kinds[place] == kind
            and numbers[at] == mtime
            and numbers[at + 1] == size
            and numbers[at + 2] == inode
        ):
            return place, True
        return None, True


def _empty_index() -> _Index:
    return _Index([], [], memoryview(b"").cast("Q"), [], {}, 0, None, False, _Records())


def _read_index(lab: Lab) -> tuple[_Index, dict[str, Any]]:
    """The stored index (its records still on disk) and its header; an empty one when it
    cannot be used (see load_cache: missing, foreign, of another version, a checksum that does
    not hold, stamps of another shape)."""
    where = lab.state / INDEX_NAME
    try:
        with open_regular(where) as stream:
            head = stream.readline()
            header = json.loads(head)
            split = header.get("stamps") if isinstance(header, dict) else None
            if (
                not is_ours(lab, header)
                or header.get("layout") != INDEX_LAYOUT
                or type(split) is not int
            ):
                return _empty_index(), {}
            stamps = stream.read(split)
            st = os.fstat(stream.fileno())
    except (OSError, ValueError, RecursionError):
        return _empty_index(), {}
    sums, size = header.get("records"), header.get("size")
    with contextlib.suppress(ValueError, EOFError, TypeError, RecursionError, OverflowError):
        if (
            header.get("sum") == checksum(stamps)
            and header.get("chunk") == CHUNK
            and isinstance(sums, list)
            and all(isinstance(s, str) for s in sums)
            and type(size) is int
            and len(sums) == -(-(size - split) // CHUNK)
            and len(head) + size == st.st_size
        ):
            paths, kinds_of, numbers, runs = marshal.loads(stamps)
            if (
                paths.__class__ is list
                and kinds_of.__class__ is list
                and numbers.__class__ is bytes
                and runs.__class__ is list
                and len(paths) == len(kinds_of)
                and len(numbers) == 8 * _NUMBERS * len(paths)
            ):
                records = _Records(
                    where,
                    (st.st_ino, st.st_size, st.st_mtime_ns),
                    len(head) + split,
                    size - split,
                    sums,
                )
                cast = memoryview(numbers).cast("Q")
                index = _Index(paths, kinds_of, cast, runs, {}, 0, None, False, records)
                return index, header
    return _empty_index(), {}


def _load_index(lab: Lab) -> _Index:
    """The index with its journal applied. A torn, foreign or altered line (each carries its
    checksum) is skipped: its file is parsed again."""
    index, header = _read_index(lab)
    content = header.get("content") if isinstance(header.get("content"), str) else None
    generation = header.get("generation")
    index.generation = generation if isinstance(generation, str) else None
    raw = read_state(lab.state, JOURNAL_NAME)
    if raw is None:
        index.content = content
        return index
    lines = raw.split(b"\n")
    noted, since = content, 0  # the last content line's stamp, and record lines since it
    journaled = index.journaled
    damaged = False  # a line that does not read: what a content line after it says is unknown
    for line in lines:
        if not line:
            continue
        total, _, payload = line.partition(b" ")
        if total.decode("ascii", "replace") != checksum(payload)[:12]:
            damaged = True
            continue
        try:
            path, made = json.loads(payload)
        except (ValueError, TypeError, RecursionError):
            damaged = True
            continue
        if path is None:  # a content line (earlier lab skips it: its path is not a string)
            if not isinstance(made, dict) or made.get("index") != index.generation:
                damaged = True  # written for another index: this one does not hold it
                continue
            content = _content_of(made, noted, since)
            noted, since = content, 0
            continue
        if not isinstance(path, str):
            damaged = True
            continue
        content = None  # a record changed, and no content line (yet) says what that means
        since += 1
        # gone, or a line of another shape (None): parsed again if it is there
        journaled[path] = made if made.__class__ is list and len(made) == _SIZE else None
    # a record of the reading list is all of it: a few writes to it make a journal of megabytes
    size = header.get("size")
    index.bloated = len(raw) > JOURNAL_BYTES + (size if type(size) is int else 0) // 8
    # A damaged line may have been a record the stamp after it was made with: that stamp,
    # and the results kept under it, no longer hold (the file is parsed again by its stamp);
    # and the next scan folds the journal into the index, so the damage costs one recompute.
    index.bloated = index.bloated or damaged
    index.lines, index.content = len(lines), None if damaged else content
    return index


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
    lab: Lab,
    changes: dict[str, Any],
    content: str | None = None,
    kept: bool = False,
    generation: Any = _MISSING,
) -> None:
    """Append changed records to the journal in one write (a torn one fails its checksum and
    is ignored when read), then, if given, the content stamp they leave the index with;
    `kept`: the stamp the index had, its records re-read and found unchanged. The content
    line names the index it holds for (`generation`: that of the index the caller read; by
    default, the one on disk now): under another index, or an older one put back, it is
    not believed."""
    lines: list[list[Any]] = [[path, made] for path, made in changes.items()]
    if content is not None:
        if generation is _MISSING:
            generation = _generation(lab)
        note: dict[str, Any] = {"content": content, "index": generation}
        if kept:
            note.update({"from": content, "records": len(changes)})
        lines.append([None, note])
    if not lines:
        return
    out = []
    for line in lines:
        payload = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        data = payload.encode("utf-8", "surrogatepass")
        out.append(checksum(data)[:12].encode() + b" " + data + b"\n")
    append_state(lab.state, JOURNAL_NAME, b"".join(out))


def _save_index(
    lab: Lab,
    files: Mapping[str, Any],
    content: str | None = None,
    index: _Index | None = None,
    walked: Walk | None = None,
) -> _Index:
    """The index: a header, the stamps of every file with where its record is, then the
    records, each marshalled apart. A command after a body edit reads the stamps alone and the
    record of the file it re-read. A stored file's record (an int in `files`: its place in
    `index`, the one it was read from) is kept as its bytes are; a new record is kept as it
    is, which is as JSON would give it back (tuples as lists), as the journal's records are.
    The stamps are lists (paths, kinds, six unsigned 64-bit numbers a file), read back in a
    seventh of the time a list per file takes; and when `files` are the files of `walked`,
    stored in its order, the digests of its runs of stamps (see Walk.runs). A record packed
    by a big scan (_Packed) is kept as its bytes are too. Gives the new index as written,
    its records still in memory (see _Records.whole), with its generation: what the
    journal's content lines name (see `journal`)."""
    paths: list[str] = []
    kinds_of: list[Any] = []
    numbers = array("Q")
    body = bytearray()  # the records, one after another: no list of them joined into a copy
    if index is not None:
        index.records.load_all()
    order = [item[0] for item in walked.found] if walked is not None else list(files)
    for path in order:
        entry = files[path]
        if entry.__class__ is int:
            if index is None:
                continue
            at = entry * _NUMBERS
            blob = index.records.get(index.numbers[at + 3], index.numbers[at + 4])
            if blob is None:  # bytes that do not read: the file is parsed again next time
                continue
            stamp, said = index.stamp(entry)[1:], index.brief(entry)
        elif entry.__class__ is _Packed:
            blob, stamp, said = entry.blob, entry[:4], entry.brief
        else:  # as JSON gives it back already: make_record made it so, or it came from JSON
            blob = marshal.dumps(list(entry[4:7]))
            stamp, said = tuple(entry[:4]), brief(entry)
        size = len(numbers)
        try:
            numbers.extend((*stamp[1:4], len(body), len(blob), said))
        except (OverflowError, TypeError):  # a stamp no file has: parsed again next time
            del numbers[size:]
            continue
        paths.append(path)
        kinds_of.append(stamp[0])
        body += blob
    whole = walked is not None and len(paths) == len(walked.found) == len(files)
    runs = walked.runs() if whole and walked is not None else []
    head = marshal.dumps((paths, kinds_of, numbers.tobytes(), runs))
    sums = _chunk_sums(body)
    header = header_line(
        lab,
        layout=INDEX_LAYOUT,
        stamps=len(head),
        sum=checksum(head),
        chunk=CHUNK,
        records=sums,
        size=len(head) + len(body),
        generation=(generation := os.urandom(8).hex()),  # what content lines are written for
        **({"content": content} if content else {}),
    )
    # The journal goes first: a kill between the two leaves the old index without it, which
    # stamps correct (the files it named are parsed again), never the new index under an old
    # journal whose content line would bring back a stamp of results since made stale.
    truncate_state(lab.state, JOURNAL_NAME)
    where = lab.state / INDEX_NAME
    write_state(lab.state, INDEX_NAME, (header, head, body))
    drop_legacy(lab, INDEX_NAME)
    try:
        st = where.stat()  # a record read after `release` comes from the file, if it is this one
        identity: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        identity = None
    records = _Records(where, identity, len(header) + len(head), len(body), sums)
    records.whole = memoryview(body)
    return _Index(
        paths, kinds_of, memoryview(numbers), runs, {}, 0, content, False, records, generation
    )


def new_content(lab: Lab, generation: Any = _MISSING) -> str:
    """A content stamp no index has had: lab wrote notes (see `scan`); noted in the journal
    (`generation`: of the index the caller read, see `journal`)."""
    import uuid

    content = f"w-{uuid.uuid4().hex}"
    journal(lab, {}, content, generation=generation)
    return content


def _generation(lab: Lab) -> str | None:
    """The generation of the index on disk now (see _save_index); None without one."""
    try:
        with open_regular(lab.state / INDEX_NAME) as stream:
            header = json.loads(stream.readline())
    except (OSError, ValueError, RecursionError):
        return None
    generation = header.get("generation") if isinstance(header, dict) else None
    return generation if isinstance(generation, str) else None


# --- scanning ------------------------------------------------------------------------------


PARALLEL_FROM = 2000  # files to parse before worker processes pay for their start
WORKER_PIECE = 2500  # files a worker parses and sends back at a time


class _Packed(NamedTuple):
    """A file's record as the index stores it (see _save_index): its stamp, the bytes of
    what it holds, and its brief. A scan that parses many files keeps them so until the index
    is written and read back from it after: at 50,000 notes, the records made as objects held
    80 MB, a quarter of them as bytes 20 MB."""

    kind: str
    mtime_ns: int
    size: int
    inode: int
    blob: bytes
    brief: int


def _packed(record: Record) -> _Packed:
    return _Packed(*record[:4], marshal.dumps(list(record[4:7])), brief(record))


def _unpacked(entry: _Packed) -> Record:
    return Record(*entry[:4], *marshal.loads(entry.blob))


def _parse_many(
    root: Path,
    todo: list[Found],
    old: dict[str, Any],
    progress: Progress | None,
    packed: bool = False,
) -> list[Any]:
    """Parse files, each made a Record (`packed`: a _Packed); a big cold scan is shared with
    worker processes, one per usable core beyond this process's own (up to 4 in all): this one
    parses a share too, not idling."""
    cores = min(4, usable_cores())
    pack = _packed if packed else _as_is
    if len(todo) < PARALLEL_FROM or cores < 2:
        records = []
        for number, found in enumerate(todo, start=1):
            parsed = parse_file(root, found[0], found[1])
            records.append(pack(make_record(found, parsed, _last_good(old.get(found[0])))))
            if progress and number % 200 == 0:
                progress(number, len(todo))
        return records
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor  # only a big cold scan needs workers
    from concurrent.futures.process import BrokenProcessPool

    # forked on Linux, as Python 3.11 does by default (3.14 starts workers from a server): a
    # worker's parent is then this process, which it checks it has not lost already
    forked = sys.platform.startswith("linux")
    context = multiprocessing.get_context("fork") if forked else None

    chunks = [todo[i::cores] for i in range(cores)]
    # the workers' shares in pieces: a worker holds one piece's records at a time, not its
    # whole share (at 50,000 notes on two cores, ~25 MB less at the scan's peak)
    pieces = [
        chunk[at : at + WORKER_PIECE]
        for chunk in chunks[1:]
        for at in range(0, len(chunk), WORKER_PIECE)
    ]
    mine: list[tuple[str, Any]] | None = None
    try:
        with ProcessPoolExecutor(
            cores - 1,
            mp_context=context,
            initializer=end_with_parent,
            initargs=(os.getpid() if forked else 0,),
        ) as pool:
            theirs = [
                pool.submit(_parse_marshalled, str(root), piece, packed) for piece in pieces
            ]
            mine = parse_chunk(str(root), chunks[0], packed)
            parts = [mine, *(_unmarshalled(part.result(), packed) for part in theirs)]
    except BrokenProcessPool:  # a worker killed (out of memory, a kill): this process parses it
        parts = [mine or parse_chunk(str(root), chunks[0], packed)]
        parts += [parse_chunk(str(root), chunk, packed) for chunk in chunks[1:]]
    by_path = {relative: made for part in parts for relative, made in part}
    if progress:
        progress(len(todo), len(todo))
    made = []
    for found in todo:
        entry = by_path[found[0]]
        last_good = _last_good(old.get(found[0])) if old else None
        if last_good is not None:  # what a file held before it broke: a worker cannot know it
            record = _unpacked(entry) if packed else entry
            if not good_digest(found[1], record.digest):
                entry = pack(record._replace(last_good=last_good))
        made.append(entry)
    return made


def _as_is(record: Record) -> Record:
    return record


def parse_chunk(root: str, chunk: list[Found], packed: bool = False) -> list[tuple[str, Any]]:
    pack = _packed if packed else _as_is
    return [
        (found[0], pack(make_record(found, parse_file(root, found[0], found[1]))))
        for found in chunk
    ]


def _parse_marshalled(root: str, chunk: list[Found], packed: bool = False) -> bytes:
    """A worker's share, parsed, as one marshal of [path, *record] lists: what pickle made of
    the records took a worker 15 ms per 1,000 notes, and the scan waited for it."""
    return marshal.dumps([[path, *record] for path, record in parse_chunk(root, chunk, packed)])


def _unmarshalled(data: bytes, packed: bool = False) -> list[tuple[str, Any]]:
    make = _Packed._make if packed else _record
    return [(item[0], make(item[1:])) for item in marshal.loads(data)]


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


class Files(MutableMapping[str, Record]):
    """The lab's records by path. A record still stored in the index is read from it when it
    is first asked for, and all of them at once by `read_all` (or anything that goes over
    them all: items, values): a command that changes papers alone reads the paper notes'
    records, and of the concept notes only what the index keeps beside their stamps (their
    kinds, `by_kind`, and briefs, `briefs`), not 35,000 records at 50,000 notes."""

    def __init__(
        self, entries: dict[str, Any], root: Path | None = None, index: _Index | None = None
    ) -> None:
        self._entries = entries  # a Record, or a place in `index`
        self._root = root or Path()
        self._index = index  # None once every record is read
        self._by_kind: dict[str, list[str]] | None = None

    def release(self) -> None:
        """The index's bytes read so far let go (see _Records.release)."""
        if self._index is not None:
            self._index.records.release()

    def __getitem__(self, path: str) -> Record:
        entry = self._entries[path]
        if entry.__class__ is int:
            entry = self._entries[path] = self._read(path, entry)
        return entry  # type: ignore[no-any-return]

    def peek(self, path: str) -> Record:
        """The file's record, as `files[path]` gives it, but not kept when it is read from the
        index: the paper notes' records, once the lab is built of them, would hold 35 MB of
        a 50,000-note lab for the rest of the command."""
        entry = self._entries[path]
        return self._read(path, entry) if entry.__class__ is int else entry

    def __setitem__(self, path: str, record: Record) -> None:
        if path not in self._entries:  # a file's kind is its place's: only a new path moves
            self._by_kind = None
        self._entries[path] = record

    def __delitem__(self, path: str) -> None:
        del self._entries[path]
        self._by_kind = None

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def items(self) -> ItemsView[str, Record]:
        self.read_all()
        return self._entries.items()

    def values(self) -> ValuesView[Record]:
        self.read_all()
        return self._entries.values()

    def by_kind(self) -> dict[str, list[str]]:
        """The paths of each kind, in the order of the walk."""
        if self._by_kind is None:
            kind_of = self._index.kinds if self._index is not None else []
            grouped: dict[str, list[str]] = {}
            for path, entry in self._entries.items():
                kind = kind_of[entry] if entry.__class__ is int else entry.kind
                if kind in grouped:
                    grouped[kind].append(path)
                else:
                    grouped[kind] = [path]
            self._by_kind = grouped
        return self._by_kind

    def briefs(self, paths: list[str]) -> list[int]:
        """The brief of each file's record (labdata.brief), stored ones left unread. Taken
        at C speed (itemgetter over the index's column of briefs): status counts 35,000
        concept notes by them after every edit; only the records read or made since (a
        few) are briefed one by one."""
        if not paths:
            return []
        entries = self._entries
        got = list(itemgetter(*paths)(entries)) if len(paths) > 1 else [entries[paths[0]]]
        fresh = [at for at, entry in enumerate(got) if entry.__class__ is not int]
        if self._index is None or len(fresh) == len(got):
            return [brief(entry) for entry in got]
        records = [got[at] for at in fresh]
        stored = next(entry for entry in got if entry.__class__ is int)
        for at in fresh:
            got[at] = stored  # a place that exists: its brief is replaced below
        column = self._index.brief_column()
        said = list(itemgetter(*got)(column)) if len(got) > 1 else [column[got[0]]]
        for at, record in zip(fresh, records, strict=True):
            said[at] = brief(record)
        return said

    def held(self, paths: list[str]) -> bytes:
        """What the records of `paths` hold (digest, error, last good digest), one list each,
        marshalled in version 2: the same records give the same bytes however they were made
        (parsed, read back from the journal's JSON or from the index, whose bytes, marshal's
        version 4, vary with references and interned strings), as a record is as JSON gives
        it back. A stored record is read from its bytes, not made a Record: the views' records
        digests go over every file of a kind (see views._piece_digest), 0.35 s at 50,000
        notes when each was made a Record and marshalled again."""
        index, entries = self._index, self._entries
        got = [entries[path] for path in paths]
        stored = [at for at, entry in enumerate(got) if entry.__class__ is int]
        if stored:
            assert index is not None  # a place in the index: there is one
            numbers, loads = index.numbers, marshal.loads
            places = [got[at] * _NUMBERS for at in stored]
            spans = [(numbers[place + 3], numbers[place + 4]) for place in places]
            for at, blob in zip(stored, index.records.each(spans), strict=True):
                try:
                    held = loads(blob) if blob is not None else None
                except (ValueError, EOFError, TypeError):
                    held = None
                # as _Index.stored takes it; bytes that do not read: the file parsed again
                ok = held.__class__ is list and len(held) == 3
                got[at] = held if ok else self.peek(paths[at])
        said: list[Any] = []
        for entry in got:
            if entry.__class__ is _Packed:
                entry = _unpacked(entry)
            said.append(entry if entry.__class__ is list else list(entry[4:7]))
        return marshal.dumps(said, 2)

    def broken(self, path: str) -> bool:
        """The file does not read (its record keeps why, and what it held before)."""
        entry = self._entries[path]
        if entry.__class__ is int:
            return bool(self._index.brief(entry) & BRIEF_BROKEN)  # type: ignore[union-attr]
        return bool(entry.error)

    def stamp(self, path: str) -> tuple[str, int, int, int]:
        """The file's kind and stamp (mtime_ns, size, inode), its record left unread."""
        entry = self._entries[path]
        if entry.__class__ is int:
            return self._index.stamp(entry)[1:]  # type: ignore[union-attr]
        return entry[0], entry[1], entry[2], entry[3]

    def stamps(self, paths: list[str]) -> list[tuple[int, int, int, bool]]:
        """(mtime_ns, size, inode, broken) of each file, as `stamp` and `broken` say them, in
        one pass: the views' records digests go over every file of a kind."""
        entries, index = self._entries, self._index
        numbers = index.numbers if index is not None else None
        made: list[tuple[int, int, int, bool]] = []
        for entry in map(entries.__getitem__, paths):
            if entry.__class__ is int:
                at = entry * _NUMBERS
                made.append(
                    (
                        numbers[at],  # type: ignore[index]
                        numbers[at + 1],  # type: ignore[index]
                        numbers[at + 2],  # type: ignore[index]
                        bool(numbers[at + 5] & BRIEF_BROKEN),  # type: ignore[index]
                    )
                )
            else:
                made.append((entry[1], entry[2], entry[3], bool(entry.error)))
        return made

    def stamp_of(self, path: str) -> list[int] | None:
        """[mtime_ns, size, inode] as the record's stamp() gives it (what the caches kept per
        file compare), None for a file not held; its record left unread."""
        if path not in self._entries:
            return None
        _kind, mtime, size, inode = self.stamp(path)
        return [mtime, size, inode]

    def read_all(self) -> None:
        index = self._index
        if index is None:
            return
        with paused_gc():  # 50,000 records that live until the command ends
            index.records.load_all()
            entries = self._entries
            for path, entry in entries.items():
                if entry.__class__ is int:
                    entries[path] = self._read(path, entry)
        self._index = None

    def _read(self, path: str, place: int) -> Record:
        assert self._index is not None
        record = self._index.stored(place)
        if record is None:  # bytes that do not read (a damaged index): parsed again
            _, kind, mtime, size, inode = self._index.stamp(place)
            record = make_record(
                (path, kind, mtime, size, inode), parse_file(self._root, path, kind)
            )
        return record


class Snapshot:
    """The lab's files as scanned: their records (`files`), the files the walk skipped and
    why, stray temporary files, whether anything changed since the index was saved, and the
    content stamp. Records still stored in the index are read from it when they are asked for
    (see Files): a command whose result is kept by the content stamp never reads them."""

    def __init__(
        self,
        files: dict[str, Any],
        problems: list[tuple[str, Msg]],
        strays: list[str],
        changed: bool,
        content: str | None = None,
        *,
        root: Path | None = None,
        index: _Index | None = None,
    ) -> None:
        self.files = Files(files, root, index)
        self.problems = problems  # (path, why) for files that were skipped
        self.strays = strays
        self.changed = changed
        self.content = content  # the content stamp (see `scan`); None without the index
        self.generation = index.generation if index is not None else None  # see journal


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


def _same_runs(walked: Walk, index: _Index) -> set[int]:
    """The runs of files (see Walk.runs) the walk found as the index stored them."""
    if not index.runs:
        return set()
    return {n for n, (a, b) in enumerate(zip(walked.runs(), index.runs, strict=False)) if a == b}


def scan(
    lab: Lab, use_index: bool = True, progress: Progress | None = None, walked: Walk | None = None
) -> Snapshot:
    """The parsed lab, re-parsing only files whose stamp changed since the index was saved
    (`walked`: the lab's files, if the caller has walked them already).

    The index also keeps a content stamp: the walk's fingerprint when its records last
    changed. A re-read file whose record is the same as before (a body edited, a file touched
    or checked out again) leaves it as it was, so results made from the records alone (the
    status report, the lists) still hold and are not made again."""
    index = _load_index(lab) if use_index else _empty_index()
    content = index.content
    walked = walked if walked is not None else walk(lab)
    files: dict[str, Any] = {}  # a Record, or a stored file's place in the index (read if asked)
    todo: list[tuple[int, Found]] = []  # (where the walk found it, the file) to parse
    found, paths = walked.found, index.paths
    seen = 0  # files the index stores that the walk found again
    same = _same_runs(walked, index)
    for start in range(0, len(found), STAMP_RUN):
        end = min(start + STAMP_RUN, len(found))
        if start // STAMP_RUN in same:  # the same files, stamps and places as when saved
            files.update(zip(paths[start:end], range(start, end), strict=True))
            seen += end - start
            continue
        for place in range(start, end):
            entry, stored = index.known(found[place], place)
            seen += stored
            if entry is None:
                todo.append((place, found[place]))
            else:
                files[found[place][0]] = entry
    for path in index.journaled:  # taken with its run by the stamp it was saved with: the
        taken = files.get(path)  # journal's record is the one that holds, if any does
        if taken.__class__ is int:
            del files[path]
            entry, _ = index.known(found[taken], taken)
            if entry is None:
                todo.append((taken, found[taken]))
            else:
                files[path] = entry
    before = {item[0]: index.record(item[0], place) for place, item in todo}
    parsed = [item for _, item in todo]
    # So many that the whole index is written below (see `few`), and no record is compared
    # with the one before (SAME_CONTENT_LIMIT): the records are kept packed until then.
    packed = use_index and len(todo) > max(SAME_CONTENT_LIMIT, 100, len(found) // 50)
    for item, made in zip(
        parsed,
        _parse_many(root=lab.root, todo=parsed, old=before, progress=progress, packed=packed),
        strict=True,
    ):
        files[item[0]] = made
    if seen == len(paths) and all(
        path in files for path, made in index.journaled.items() if made is not None
    ):
        gone = []  # every file the index holds was found again: no need to look for them
    else:
        gone = [path for path in index.held() if path not in files]
    changed = bool(todo) or bool(gone)
    if not use_index:
        return Snapshot(files, walked.problems, walked.strays, changed)
    kept = (
        content is not None
        and not gone
        and len(todo) <= SAME_CONTENT_LIMIT
        and all(_same_content(before[item[0]], files[item[0]]) for item in parsed)
    )
    if not kept:
        content = walked.fingerprint()
    if changed or index.bloated:
        few = len(todo) + len(gone) <= max(100, len(files) // 50)
        if (
            (paths or index.journaled)
            and few
            and not index.bloated
            and index.lines + len(todo) + len(gone) < JOURNAL_LIMIT
        ):
            changes = {**{item[0]: files[item[0]] for item in parsed}, **dict.fromkeys(gone)}
            journal(lab, changes, content, kept=kept, generation=index.generation)
        else:
            saved = _save_index(lab, files, content, index, walked)
            index.generation = saved.generation
            if packed:
                files = _read_back(files, saved, Files(files, lab.root, index))
                index = saved
    elif not kept:  # an index without a content stamp (an earlier lab's): it has one now
        journal(lab, {}, content, generation=index.generation)
    return Snapshot(
        files,
        walked.problems,
        walked.strays,
        changed,
        content,
        root=lab.root,
        index=index,
    )


def _read_back(files: dict[str, Any], saved: _Index, before: Files) -> dict[str, Any]:
    """The files of a scan whose records were packed, each now a place in the index just
    written (`saved`), read from it when asked for, as a later command's are. A file the
    index left out (a stamp no file has, a stored record that no longer read) keeps its
    record, read as `before` (the scan's files) reads it."""
    placed: dict[str, Any] = dict(zip(saved.paths, range(len(saved.paths)), strict=True))
    if len(placed) == len(files):
        return placed
    for path, entry in files.items():
        if path not in placed:
            placed[path] = _unpacked(entry) if entry.__class__ is _Packed else before.peek(path)
    return placed


def rebuild(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """Parse every file again and replace the index (it could not be trusted)."""
    snapshot = scan(lab, use_index=False, progress=progress)
    if use_index:
        snapshot.generation = _save_index(lab, snapshot.files).generation
    return snapshot


def refresh(
    lab: Lab,
    files: MutableMapping[str, Record],
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
