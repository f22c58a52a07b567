"""Reading the lab: every note, the reading list and every notebook, parsed once and kept in an
index (.lab/index.json) keyed by path, mtime, size and inode, so a command re-parses only what
changed. What only `lab check`, `lab review` and the prompts need from a note's body (headings,
links, open questions) is computed on demand and kept apart (.lab/detail.json).

Both files are caches: they can be deleted at any time. Each carries a checksum of its content,
so a corrupt, foreign or hand-edited one is rebuilt, never trusted."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mllm_lab import kinds
from mllm_lab.core import fm, markdown, readinglist, regions
from mllm_lab.core.labdata import (
    INDEX_VERSION,
    NotebookDigest,
    Record,
    digest_note,
    digest_reading_list,
)
from mllm_lab.core.weeks import as_date
from mllm_lab.errors import BrokenNote, DamagedRegion
from mllm_lab.lab import Lab
from mllm_lab.messages import Msg
from mllm_lab.models import READING_LIST
from mllm_lab.storage import read_text, write_atomic

INDEX_NAME = "index.json"
JOURNAL_NAME = "index.log"  # small changes are appended here instead of rewriting the index
JOURNAL_LIMIT = 2000  # lines; past this the index is rewritten and the journal emptied
DETAIL_NAME = "detail.json"
READING_LIST_KIND = "reading-list"
Progress = Callable[[int, int], None]
_H1 = re.compile(r"^# +(.+?)[ #]*$", re.M)
_H2 = re.compile(r"^## ", re.M)
_NEXT_HEADING = re.compile(r"^#{1,6} ", re.M)
# Temp files a killed run of an older `lab` left beside notes (tempfile.mkstemp's names).
_STRAY = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def kind_of(relative: str) -> str | None:
    """What a lab file is, from where it lives: a kind's name, "reading-list" or None."""
    if relative == READING_LIST:
        return READING_LIST_KIND
    kind = kinds.kind_of(relative)
    return kind.name if kind else None


# --- parsing one file ----------------------------------------------------------------------


def _summary(body: str) -> str:
    """The first sentence of the first `##` section: the one-line summary of the notes index."""
    match = _H2.search(body)
    if match is None:
        return ""
    start = body.find("\n", match.start())
    if start < 0:
        return ""
    following = _NEXT_HEADING.search(body, start)
    return markdown.first_sentence(body[start : following.start() if following else start + 4000])


def parse_note(text: str, relative: str, kind: kinds.NoteKind) -> list[Any]:
    parsed = fm.parse(text, relative)
    head = _H1.search(parsed.body, 0, 20000)
    summary = parsed.meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        summary = _summary(parsed.body) if kind.in_index else ""
    digest = digest_note(
        relative,
        kind,
        parsed.meta,
        parsed.key_lines,
        head[1] if head else "",
        " ".join(summary.split()),
        parsed.has_frontmatter,
    )
    return [list(digest.note), *digest[1:]]


def parse_reading_list(text: str) -> list[Any]:
    reading = readinglist.parse(text)
    return list(digest_reading_list(reading.entries, reading.lines))


def parse_notebook(text: str) -> list[Any]:
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise BrokenNote("", 1, "notebook.no_cells")
    metadata = data.get("metadata")
    info = metadata.get("mllm_lab") if isinstance(metadata, dict) else None
    info = info if isinstance(info, dict) else {}
    title = info.get("title") if isinstance(info.get("title"), str) else None
    if not title:
        for cell in data["cells"]:
            if not isinstance(cell, dict):
                continue
            source = cell.get("source", "")
            source = "".join(map(str, source)) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "markdown" and source.lstrip().startswith("#"):
                title = source.lstrip().split("\n", 1)[0].lstrip("# ").strip()
                break
    return list(
        NotebookDigest(
            str(title or ""), _created(info.get("created")), str(info.get("topic") or "")
        )
    )


def _created(value: Any) -> str | None:
    try:
        day = as_date(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return day.isoformat() if day else None


def note_detail(text: str, relative: str) -> dict[str, Any]:
    """What `lab check`, `lab review` and the weekly prompt need from a note's body, with the
    file's line numbers: headings (with a fingerprint of what is written under each), links,
    and open questions."""
    parsed = fm.parse(text, relative)
    offset = parsed.body_line - 1
    found = markdown.sections(parsed.body)
    h1 = next((s.title for s in found if s.level == 1), "")
    title = parsed.meta.get("title")
    title = title if isinstance(title, str) else h1
    damaged = None
    try:
        regions.parse(text, relative)
    except DamagedRegion as damage:
        damaged = [damage.line, damage.what.as_json()]
    return {
        "damaged": damaged,
        "body_line": parsed.body_line,
        "headings": [
            [s.level, s.title, s.line + offset, markdown.section_signature(s.content, title)]
            for s in found
        ],
        "links": [
            [link.target, link.line + offset, link.wiki] for link in markdown.links(parsed.body)
        ],
        "questions": [[line + offset, text] for line, text in markdown.open_questions(parsed.body)],
    }


def parse_text(text: str, relative: str, kind: str) -> list[Any]:
    """The digest of one file's text."""
    if kind == kinds.EXPERIMENT.name:
        return parse_notebook(text)
    if kind == READING_LIST_KIND:
        return parse_reading_list(text)
    return parse_note(text, relative, kinds.BY_NAME[kind])


_KEY_LINE = re.compile(r"^key:[ \t]*['\"]?([^'\"\s#]+)", re.M)


def parse_file(root: Path, relative: str, kind: str, text: str | None = None) -> tuple[Any, Any]:
    """(digest, None), or (None, [line, message, key]) for a file that cannot be read or
    parsed; `key` is what a broken paper note's `key:` line still says, if anything."""
    line, msg = 1, None
    try:
        if text is None:
            text = read_text(root / relative, relative)
        return parse_text(text, relative, kind), None
    except BrokenNote as error:
        line, msg = error.line, error.detail
    except json.JSONDecodeError as error:
        line, msg = error.lineno, Msg.of("file.json", problem=error.msg)
    except RecursionError:
        msg = Msg.of("file.nested")
    except (ValueError, TypeError, OverflowError) as error:
        msg = Msg.of("file.invalid", problem=" ".join(str(error).split()) or type(error).__name__)
    except OSError as error:
        msg = Msg.of("file.unreadable", problem=error.strerror or type(error).__name__)
    hint = _KEY_LINE.search(text[:4000]) if text and kind == kinds.PAPER.name else None
    return None, [line, msg.as_json(), hint[1] if hint else None]


# A file found by `walk`: (lab-relative path, kind, mtime_ns, size, inode). A plain tuple:
# 10,000 of them are made by every command.
Found = tuple[str, str, int, int, int]


def _good(kind: str, digest: Any) -> bool:
    """A digest worth remembering: it parsed, and a paper note's gave a paper."""
    return digest is not None and (kind != kinds.PAPER.name or digest[1] is not None)


def make_record(found: Found, parsed: tuple[Any, Any], last_good: Any = None) -> list[Any]:
    digest, error = parsed
    kept = None if _good(found[1], digest) else last_good
    return list(Record(found[1], found[2], found[3], found[4], digest, error, kept))


# --- walking -------------------------------------------------------------------------------


@dataclass
class Walk:
    found: list[Found]
    problems: list[tuple[str, Msg]]  # (path, why) for files that were skipped
    strays: list[str]  # temp files left by a killed older run


def walk(lab: Lab) -> Walk:
    """Every lab file worth indexing. The hot loop of every command: it stats each file once
    and does little else."""
    root = str(lab.root)
    prefix = len(root) + 1
    result = Walk([], [], [])
    try:
        st = os.stat(os.path.join(root, READING_LIST))
        result.found.append(
            (READING_LIST, READING_LIST_KIND, st.st_mtime_ns, st.st_size, st.st_ino)
        )
    except OSError:
        pass
    slash = os.sep
    for kind in kinds.KINDS:
        stack = [os.path.join(root, *kind.folder.split("/"))]
        suffix = kind.suffix
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    if _STRAY.match(name):
                        result.strays.append(entry.path[prefix:].replace(slash, "/"))
                    continue
                if entry.is_symlink() and not _inside(entry.path, root, slash):
                    result.problems.append(
                        (entry.path[prefix:].replace(slash, "/"), Msg.of(_link_problem(entry.path)))
                    )
                    continue
                if entry.is_dir():
                    if kind.subfolders:
                        stack.append(entry.path)
                    continue
                if not name.endswith(suffix) or name.lower() == "readme.md":
                    continue
                if not entry.is_file():  # a pipe or device named like a note
                    relative = entry.path[prefix:].replace(slash, "/")
                    result.problems.append((relative, Msg.of("file.not_regular")))
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                relative = entry.path[prefix:]
                if slash != "/":
                    relative = relative.replace(slash, "/")
                result.found.append((relative, kind.name, st.st_mtime_ns, st.st_size, st.st_ino))
    return result


def _inside(path: str, root: str, slash: str) -> bool:
    try:
        real = os.path.realpath(path, strict=True)
    except OSError:
        return False
    return real == root or real.startswith(root + slash)


def _link_problem(path: str) -> str:
    try:
        os.path.realpath(path, strict=True)
    except OSError as error:
        return "file.loop" if error.errno == errno.ELOOP else "file.dangling"
    return "file.outside"


# --- the index files -----------------------------------------------------------------------


def _checksum(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def load_cache(lab: Lab, name: str) -> dict[str, Any]:
    """A cache file's `files`, or {} when it is missing, foreign, of another version, or its
    checksum does not match (someone or something changed it)."""
    try:
        raw = (lab.state / name).read_bytes()
        head, _, body = raw.partition(b"\n")
        header = json.loads(head)
        if (
            isinstance(header, dict)
            and header.get("version") == INDEX_VERSION
            and header.get("root") == str(lab.root)
            and header.get("sum") == _checksum(body)
        ):
            files = json.loads(body)
            if isinstance(files, dict):
                return files
    except (OSError, ValueError):
        pass
    return {}


def save_cache(lab: Lab, name: str, files: dict[str, Any]) -> None:
    body = json.dumps(files, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )
    header = {
        "version": INDEX_VERSION,
        "tool": "mllm-lab",
        "root": str(lab.root),
        "sum": _checksum(body),
    }
    try:
        lab.state.mkdir(exist_ok=True)
        ignore = lab.state / ".gitignore"
        if not ignore.exists():
            write_atomic(ignore, "*\n")
        write_atomic(
            lab.state / name, json.dumps(header) + "\n" + body.decode("utf-8", "surrogatepass")
        )
    except Exception:
        pass  # a cache: the next command parses these files again


def _load_index(lab: Lab) -> tuple[dict[str, Any], int]:
    """The index with its journal applied, and the journal's length. A torn, foreign or
    altered line (each carries its checksum) is skipped: its file is parsed again."""
    files = load_cache(lab, INDEX_NAME)
    try:
        raw = (lab.state / JOURNAL_NAME).read_bytes()
    except OSError:
        return files, 0
    lines = raw.split(b"\n")
    for line in lines:
        total, _, payload = line.partition(b" ")
        if total.decode("ascii", "replace") != _checksum(payload)[:12]:
            continue
        try:
            path, made = json.loads(payload)
        except (ValueError, TypeError):
            continue
        if not isinstance(path, str):
            continue
        if made is None:
            files.pop(path, None)
        else:
            files[path] = made
    return files, len(lines)


def journal(lab: Lab, changes: dict[str, Any]) -> None:
    """Append changed records to the journal in one write (O_APPEND: concurrent writers
    interleave whole writes; a torn one fails its checksum and is ignored when read)."""
    if not changes:
        return
    out = []
    for path, made in changes.items():
        payload = json.dumps([path, made], ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
        out.append(_checksum(payload)[:12].encode() + b" " + payload + b"\n")
    try:
        lab.state.mkdir(exist_ok=True)
        fd = os.open(lab.state / JOURNAL_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, b"".join(out))
        finally:
            os.close(fd)
    except OSError:
        pass  # a cache: the next command parses these files again


def _save_index(lab: Lab, files: dict[str, Any]) -> None:
    save_cache(lab, INDEX_NAME, files)
    with contextlib.suppress(OSError):
        os.truncate(lab.state / JOURNAL_NAME, 0)


# --- scanning ------------------------------------------------------------------------------


def _parse_many(
    root: Path, todo: list[Found], old: dict[str, Any], progress: Progress | None
) -> list[list[Any]]:
    """Parse files; a big cold scan is split over worker processes (one per core, up to 4)."""
    workers = min(4, os.cpu_count() or 1)
    if len(todo) < 2000 or workers < 2:
        records = []
        for number, found in enumerate(todo, start=1):
            records.append(
                make_record(
                    found, parse_file(root, found[0], found[1]), _last_good(old.get(found[0]))
                )
            )
            if progress and number % 200 == 0:
                progress(number, len(todo))
        return records
    from concurrent.futures import ProcessPoolExecutor

    chunks = [todo[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(parse_chunk, [str(root)] * workers, chunks))
    by_path = {relative: made for part in parts for relative, made in part}
    if progress:
        progress(len(todo), len(todo))
    records = [by_path[found[0]] for found in todo]
    for found, made in zip(todo, records, strict=True):
        if not _good(found[1], made[4]) and found[0] in old:
            made[6] = _last_good(old[found[0]])
    return records


def parse_chunk(root: str, chunk: list[Found]) -> list[tuple[str, list[Any]]]:
    return [
        (found[0], make_record(found, parse_file(Path(root), found[0], found[1])))
        for found in chunk
    ]


def _last_good(cached: Any) -> Any:
    """The digest a file had when it last parsed, for a file that is broken now."""
    if cached.__class__ is not list or len(cached) != len(Record._fields):
        return None
    return cached[4] if _good(cached[0], cached[4]) else cached[6]


@dataclass
class Snapshot:
    files: dict[str, list[Any]]  # path -> a Record, as a list
    problems: list[tuple[str, Msg]]  # (path, why) for files that were skipped
    strays: list[str]
    changed: bool


_RECORD_SIZE = len(Record._fields)


def scan(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """The parsed lab, re-parsing only files whose stamp changed since the index was saved."""
    old, journal_lines = _load_index(lab) if use_index else ({}, 0)
    walked = walk(lab)
    files: dict[str, list[Any]] = {}
    todo: list[Found] = []
    for item in walked.found:
        relative, kind, mtime, size, inode = item
        cached = old.get(relative)
        if (
            cached.__class__ is list
            and len(cached) == _RECORD_SIZE
            and cached[0] == kind
            and cached[1] == mtime
            and cached[2] == size
            and cached[3] == inode
        ):
            files[relative] = cached
        else:
            todo.append(item)
    for item, made in zip(todo, _parse_many(lab.root, todo, old, progress), strict=True):
        files[item[0]] = made
    gone = [path for path in old if path not in files]
    changed = bool(todo) or bool(gone)
    if changed and use_index:
        few = len(todo) + len(gone) <= max(100, len(files) // 50)
        if old and few and journal_lines + len(todo) + len(gone) < JOURNAL_LIMIT:
            journal(lab, {**{item[0]: files[item[0]] for item in todo}, **dict.fromkeys(gone)})
        else:
            _save_index(lab, files)
    return Snapshot(files, walked.problems, walked.strays, changed)


def rebuild(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """Parse every file again and replace the index (it could not be trusted)."""
    snapshot = scan(lab, use_index=False, progress=progress)
    if use_index:
        _save_index(lab, snapshot.files)
    return snapshot


def refresh(
    lab: Lab,
    files: dict[str, list[Any]],
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
    found = (relative, kind, st.st_mtime_ns, st.st_size, st.st_ino)
    parsed = digest if digest is not None else parse_file(lab.root, relative, kind)
    files[relative] = make_record(found, parsed, _last_good(files.get(relative)))
    if use_index:
        journal(lab, {relative: files[relative]})


def details(
    lab: Lab, files: dict[str, list[Any]], paths: Iterable[str], use_index: bool = True
) -> dict[str, dict[str, Any]]:
    """Body details of the given notes, from .lab/detail.json where the stamp still matches."""
    cache = load_cache(lab, DETAIL_NAME) if use_index else {}
    result: dict[str, dict[str, Any]] = {}
    changed = False
    for path in paths:
        made = files.get(path)
        if made is None or made[5] or made[0] in (kinds.EXPERIMENT.name, READING_LIST_KIND):
            continue
        stamp = made[1:4]
        cached = cache.get(path)
        if (
            isinstance(cached, dict)
            and cached.get("stamp") == stamp
            and isinstance(cached.get("detail"), dict)
        ):
            result[path] = cached["detail"]
            continue
        try:
            detail = note_detail(read_text(lab.root / path, path), path)
        except (BrokenNote, OSError, ValueError, RecursionError):
            continue
        cache[path] = {"stamp": stamp, "detail": detail}
        result[path] = detail
        changed = True
    if changed and use_index:
        save_cache(lab, DETAIL_NAME, {k: v for k, v in cache.items() if k in files})
    return result
