"""Reading the lab: every note, the reading list and every notebook, parsed once and kept in an
index (.lab/index.json) keyed by path, mtime, size and inode, so a command re-parses only what
changed. What only `lab check` and `lab review` need from a note's body (headings, links, open
questions) is computed on demand and kept apart (.lab/detail.json). Both files are caches: they
can be deleted at any time, and a corrupt or foreign one is rebuilt, never trusted."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mllm_lab.core import fm, markdown
from mllm_lab.core.labdata import digest_note, digest_reading_list
from mllm_lab.core.weeks import as_date
from mllm_lab.errors import BrokenNote
from mllm_lab.lab import Lab
from mllm_lab.models import READING_LIST

INDEX_VERSION = 7
INDEX_NAME = "index.json"
JOURNAL_NAME = "index.log"  # small changes are appended here instead of rewriting the index
JOURNAL_LIMIT = 2000  # lines; past this the index is rewritten and the journal emptied
DETAIL_NAME = "detail.json"
MAX_PARSE_BYTES = 16 * 1024 * 1024
NOTE_DIRS = {"papers": "paper", "notes": "concept", "weekly-log": "weekly", "reviews": "review"}
Record = list[Any]  # [kind, mtime_ns, size, inode, digest, error]
Progress = Callable[[int, int], None]
_H1 = re.compile(r"^# +(.+?)[ #]*$", re.M)
_H2 = re.compile(r"^## ", re.M)
_NEXT_HEADING = re.compile(r"^#{1,6} ", re.M)


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10] if type(value) is date else value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def kind_of(relative: str) -> str | None:
    """What a lab file is, from where it lives."""
    if relative == READING_LIST:
        return "reading-list"
    parts = relative.split("/")
    name = parts[-1]
    if name.endswith(".ipynb"):
        return (
            "experiment" if parts[:2] == ["experiments", "notebooks"] and len(parts) == 3 else None
        )
    if not name.endswith(".md") or name.lower() == "readme.md" or name.startswith("."):
        return None
    return NOTE_DIRS.get(parts[0]) if len(parts) > 1 else None


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


def parse_note(text: str, relative: str, kind: str) -> Record:
    """The index record of one Markdown note: its digest, what every command needs."""
    parsed = fm.parse(text, relative)
    head = _H1.search(parsed.body, 0, 20000)
    summary = parsed.meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        summary = _summary(parsed.body) if kind == "concept" else ""
    return digest_note(
        relative,
        kind,
        parsed.meta,
        parsed.key_lines,
        head[1] if head else "",
        " ".join(summary.split()),
        parsed.has_frontmatter,
    )


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
    return {
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


def parse_reading_list(text: str, relative: str) -> Record:
    yaml_error, marked_error = fm.yaml_errors()
    try:
        data = fm.load_yaml(text) if text.strip() else {}
    except marked_error as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 1) if mark else 1
        raise BrokenNote(
            relative, line, f"not valid YAML: {getattr(error, 'problem', error)}"
        ) from None
    except yaml_error as error:
        raise BrokenNote(relative, 1, f"not valid YAML: {error}") from None
    entries = data.get("papers") if isinstance(data, dict) else None
    if data and not isinstance(entries, list):
        raise BrokenNote(relative, 1, "expected `papers:` followed by a list of papers")
    lines = [number for number, line in enumerate(text.split("\n"), 1) if line.startswith("- ")]
    return digest_reading_list(entries or [], lines)


def parse_notebook(text: str) -> Record:
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no `cells` list)")
    info = data.get("metadata", {}).get("mllm_lab", {})
    title = info.get("title") if isinstance(info, dict) else None
    if not title:
        for cell in data["cells"]:
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            if cell.get("cell_type") == "markdown" and source.lstrip().startswith("#"):
                title = source.lstrip().split("\n", 1)[0].lstrip("# ").strip()
                break
    info = info if isinstance(info, dict) else {}
    return [str(title or ""), _created(info.get("created")), str(info.get("topic") or "")]


def _created(value: Any) -> str | None:
    try:
        day = as_date(value)
    except (ValueError, TypeError):
        return None
    return day.isoformat() if day else None


def read_text(lab_root: Path, relative: str) -> str:
    """A lab file as text; BrokenNote for a file too big, not UTF-8, or binary."""
    path = lab_root / relative
    if path.stat().st_size > MAX_PARSE_BYTES:
        raise BrokenNote(relative, 1, f"file is larger than {MAX_PARSE_BYTES // 2**20} MB; skipped")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BrokenNote(
            relative, raw.count(b"\n", 0, error.start) + 1, "not UTF-8 text (binary file?)"
        ) from None
    if "\x00" in text:
        raise BrokenNote(
            relative, text.count("\n", 0, text.index("\x00")) + 1, "binary file (NUL bytes)"
        )
    return text


def parse_file(lab_root: Path, relative: str, kind: str) -> tuple[Any, list[Any] | None]:
    """(digest, None), or (None, [line, message]) for a file that cannot be read or parsed."""
    try:
        text = read_text(lab_root, relative)
        if kind == "experiment":
            return parse_notebook(text), None
        if kind == "reading-list":
            return parse_reading_list(text, relative), None
        return parse_note(text, relative, kind), None
    except BrokenNote as error:
        return None, [error.line, error.message]
    except json.JSONDecodeError as error:
        return None, [error.lineno, f"not valid JSON: {error.msg}"]
    except (ValueError, RecursionError) as error:
        return None, [1, str(error) or type(error).__name__]
    except OSError as error:
        return None, [1, f"cannot read: {error.strerror}"]


def record(found: Found, parsed: tuple[Any, list[Any] | None]) -> Record:
    """An index record: [kind, mtime_ns, size, inode, digest, error]."""
    return [found[1], found[2], found[3], found[4], *parsed]


# A file found by `walk`: (lab-relative path, kind, mtime_ns, size, inode). A plain tuple:
# 10,000 of them are made by every command.
Found = tuple[str, str, int, int, int]


def walk(lab: Lab) -> tuple[list[Found], list[tuple[str, str]]]:
    """Every lab file worth indexing, and (path, problem) for symlinks that leave the lab.
    The hot loop of every command: it stats each file once and does little else."""
    root = str(lab.root)
    prefix = len(root) + 1
    found: list[Found] = []
    problems: list[tuple[str, str]] = []
    try:
        st = os.stat(os.path.join(root, READING_LIST))
        found.append((READING_LIST, "reading-list", st.st_mtime_ns, st.st_size, st.st_ino))
    except OSError:
        pass
    tops = [(os.path.join(root, top), kind, ".md") for top, kind in NOTE_DIRS.items()]
    tops.append((os.path.join(root, "experiments", "notebooks"), "experiment", ".ipynb"))
    slash = os.sep
    for top, kind, suffix in tops:
        stack = [top]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    continue
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if real != root and not real.startswith(root + slash):
                        problems.append(
                            (
                                entry.path[prefix:].replace(slash, "/"),
                                "symlink points outside the lab; skipped",
                            )
                        )
                        continue
                if entry.is_dir():
                    if kind != "experiment":
                        stack.append(entry.path)
                    continue
                if not name.endswith(suffix) or name.lower() == "readme.md":
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                relative = entry.path[prefix:]
                if slash != "/":
                    relative = relative.replace(slash, "/")
                found.append((relative, kind, st.st_mtime_ns, st.st_size, st.st_ino))
    return found, problems


def _load_cache(lab: Lab, name: str) -> dict[str, Any]:
    try:
        data = json.loads((lab.state / name).read_bytes())
        if (
            isinstance(data, dict)
            and data.get("version") == INDEX_VERSION
            and data.get("root") == str(lab.root)
            and isinstance(data.get("files"), dict)
        ):
            return data["files"]  # type: ignore[no-any-return]
    except (OSError, ValueError):
        pass
    return {}


def _save_cache(lab: Lab, name: str, files: dict[str, Any]) -> None:
    from mllm_lab.storage import write_atomic

    payload = {"version": INDEX_VERSION, "tool": "mllm-lab", "root": str(lab.root), "files": files}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        write_atomic(lab.state / name, text)
        gitignore = lab.state / ".gitignore"
        if not gitignore.exists():
            write_atomic(gitignore, "*\n")
    except Exception:
        pass


def _parse_many(root: Path, todo: list[Found], progress: Progress | None = None) -> list[Record]:
    """Parse files; a big cold scan is split over worker processes (one per core, up to 4)."""
    workers = min(4, os.cpu_count() or 1)
    if len(todo) < 2000 or workers < 2:
        records = []
        for number, found in enumerate(todo, start=1):
            records.append(record(found, parse_file(root, found[0], found[1])))
            if progress and number % 200 == 0:
                progress(number, len(todo))
        return records
    from concurrent.futures import ProcessPoolExecutor

    chunks = [todo[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_parse_chunk, [str(root)] * workers, chunks))
    by_path = {relative: made for part in parts for relative, made in part}
    if progress:
        progress(len(todo), len(todo))
    return [by_path[found[0]] for found in todo]


def _parse_chunk(root: str, chunk: list[Found]) -> list[tuple[str, Record]]:
    return [
        (found[0], record(found, parse_file(Path(root), found[0], found[1]))) for found in chunk
    ]


@dataclass
class Snapshot:
    files: dict[str, Record]  # path -> [kind, mtime_ns, size, inode, digest, error]
    problems: list[tuple[str, str]]  # (path, message) for files that were skipped
    changed: bool


def _load_index(lab: Lab) -> tuple[dict[str, Any], int]:
    """The index with its journal applied, and the journal's length. A torn or foreign line
    (a crash mid-append) is skipped: its file is simply parsed again."""
    files = _load_cache(lab, INDEX_NAME)
    try:
        raw = (lab.state / JOURNAL_NAME).read_bytes()
    except OSError:
        return files, 0
    lines = raw.split(b"\n")
    for line in lines:
        try:
            path, made = json.loads(line)
        except (ValueError, TypeError):
            continue
        if not isinstance(path, str):
            continue
        if made is None:
            files.pop(path, None)
        else:
            files[path] = made
    return files, len(lines)


def journal(lab: Lab, changes: dict[str, Record | None]) -> None:
    """Append changed records to the journal in one write (O_APPEND: concurrent writers
    interleave whole writes; a torn one is ignored when read)."""
    if not changes:
        return
    text = "".join(
        json.dumps([path, made], ensure_ascii=False, separators=(",", ":")) + "\n"
        for path, made in changes.items()
    )
    try:
        lab.state.mkdir(exist_ok=True)
        fd = os.open(lab.state / JOURNAL_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, text.encode("utf-8", "surrogatepass"))
        finally:
            os.close(fd)
    except OSError:
        pass  # a cache: the next command parses these files again


def _save_index(lab: Lab, files: dict[str, Record]) -> None:
    _save_cache(lab, INDEX_NAME, files)
    with contextlib.suppress(OSError):
        os.truncate(lab.state / JOURNAL_NAME, 0)


def scan(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """The parsed lab, re-parsing only files whose stamp changed since the index was saved."""
    old, journal_lines = _load_index(lab) if use_index else ({}, 0)
    found, problems = walk(lab)
    files: dict[str, Record] = {}
    todo: list[Found] = []
    for item in found:
        relative, kind, mtime, size, inode = item
        cached = old.get(relative)
        if (
            cached.__class__ is list
            and len(cached) == 6
            and cached[0] == kind
            and cached[1] == mtime
            and cached[2] == size
            and cached[3] == inode
        ):
            files[relative] = cached
        else:
            todo.append(item)
    for item, made in zip(todo, _parse_many(lab.root, todo, progress), strict=True):
        files[item[0]] = made
    gone = [path for path in old if path not in files]
    changed = bool(todo) or bool(gone)
    if changed and use_index:
        few = len(todo) + len(gone) <= max(100, len(files) // 50)
        if old and few and journal_lines + len(todo) + len(gone) < JOURNAL_LIMIT:
            journal(lab, {**{item[0]: files[item[0]] for item in todo}, **dict.fromkeys(gone)})
        else:
            _save_index(lab, files)
    return Snapshot(files, problems, changed)


def rebuild(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """Parse every file again and replace the index (it could not be trusted)."""
    snapshot = scan(lab, use_index=False, progress=progress)
    if use_index:
        _save_index(lab, snapshot.files)
    return snapshot


def refresh(lab: Lab, files: dict[str, Record], relative: str, use_index: bool = True) -> None:
    """Re-read one file after the tool wrote it, so the same command (and, through the
    journal, the next one) sees the new content without parsing it again."""
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
    files[relative] = record(found, parse_file(lab.root, relative, kind))
    if use_index:
        journal(lab, {relative: files[relative]})


def details(
    lab: Lab, files: dict[str, Record], paths: Iterable[str], use_index: bool = True
) -> dict[str, dict[str, Any]]:
    """Body details of the given notes, from .lab/detail.json where the stamp still matches."""
    cache = _load_cache(lab, DETAIL_NAME) if use_index else {}
    result: dict[str, dict[str, Any]] = {}
    changed = False
    for path in paths:
        made = files.get(path)
        if made is None or made[5] or made[0] in ("experiment", "reading-list"):
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
            detail = note_detail(read_text(lab.root, path), path)
        except (BrokenNote, OSError, ValueError):
            continue
        cache[path] = {"stamp": stamp, "detail": detail}
        result[path] = detail
        changed = True
    if changed and use_index:
        _save_cache(lab, DETAIL_NAME, {k: v for k, v in cache.items() if k in files})
    return result
