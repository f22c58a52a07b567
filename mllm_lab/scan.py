"""Reading the lab: every note, the reading list and every notebook, parsed once and kept in an
index (.lab/index.json) keyed by path, size, mtime and inode, so a command re-parses only what
changed. The index can always be deleted; a corrupt or foreign one is rebuilt, never trusted."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from mllm_lab.core import fm, markdown
from mllm_lab.errors import BrokenNote
from mllm_lab.lab import Lab
from mllm_lab.models import READING_LIST

INDEX_VERSION = 4
INDEX_NAME = "index.json"
MAX_PARSE_BYTES = 16 * 1024 * 1024
NOTE_DIRS = ("papers", "notes", "weekly-log", "reviews")
Record = dict[str, Any]
Progress = Callable[[int, int], None]


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
    parts = relative.split("/")
    name = parts[-1]
    if relative == READING_LIST:
        return "reading-list"
    if name.endswith(".ipynb"):
        return "experiment" if parts[:2] == ["experiments", "notebooks"] else None
    if not name.endswith(".md") or name.lower() == "readme.md" or name.startswith("."):
        return None
    return {"papers": "paper", "notes": "concept", "weekly-log": "weekly", "reviews": "review"}.get(
        parts[0]
    )


def parse_note(text: str, relative: str) -> Record:
    """The index record of one Markdown note (everything later commands need from it)."""
    parsed = fm.parse(text, relative)
    offset = parsed.body_line - 1
    found = markdown.sections(parsed.body)
    h1 = next((s.title for s in found if s.level == 1), "")
    title = parsed.meta.get("title")
    title = title if isinstance(title, str) else h1
    detail = {
        "headings": [
            [s.level, s.title, s.line + offset, markdown.section_signature(s.content, title)]
            for s in found
        ],
        "links": [
            [link.target, link.line + offset, link.wiki] for link in markdown.links(parsed.body)
        ],
        "questions": [[line + offset, text] for line, text in markdown.open_questions(parsed.body)],
    }
    summary = parsed.meta.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        first = next((s for s in found if s.level == 2), None)
        summary = markdown.first_sentence(first.content) if first else ""
    return {
        "meta": _json_safe(parsed.meta),
        "lines": parsed.key_lines,
        "has_fm": parsed.has_frontmatter,
        "body_line": parsed.body_line,
        "h1": h1,
        "summary": " ".join(summary.split()),
        "detail": json.dumps(detail, ensure_ascii=False),
    }


def parse_reading_list(text: str, relative: str) -> Record:
    data = fm.load_yaml(text) if text.strip() else {}
    entries = data.get("papers") if isinstance(data, dict) else None
    if data and not isinstance(entries, list):
        raise BrokenNote(relative, 1, "expected `papers:` followed by a list of papers")
    lines = [number for number, line in enumerate(text.split("\n"), 1) if line.startswith("- ")]
    return {"meta": {"papers": _json_safe(entries or [])}, "entry_lines": lines}


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
    return {"meta": _json_safe(info if isinstance(info, dict) else {}), "title": title or ""}


def parse_file(lab_root: Path, relative: str, kind: str) -> Record:
    """One file's record; a file that cannot be read or parsed gets `error: [line, message]`."""
    path = lab_root / relative
    try:
        if path.stat().st_size > MAX_PARSE_BYTES:
            return {"error": [1, f"file is larger than {MAX_PARSE_BYTES // 2**20} MB; skipped"]}
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            return {"error": [line, "not UTF-8 text (binary file?)"]}
        if "\x00" in text:
            return {
                "error": [text.count("\n", 0, text.index("\x00")) + 1, "binary file (NUL bytes)"]
            }
        if kind == "experiment":
            return parse_notebook(text)
        if kind == "reading-list":
            return parse_reading_list(text, relative)
        return parse_note(text, relative)
    except BrokenNote as error:
        return {"error": [error.line, error.message]}
    except json.JSONDecodeError as error:
        return {"error": [error.lineno, f"not valid JSON: {error.msg}"]}
    except (ValueError, RecursionError) as error:
        return {"error": [1, str(error) or type(error).__name__]}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        return {"error": [(mark.line + 1) if mark else 1, f"not valid YAML: {error.problem}"]}
    except yaml.YAMLError as error:
        return {"error": [1, f"not valid YAML: {error}"]}
    except OSError as error:
        return {"error": [1, f"cannot read: {error.strerror}"]}


@dataclass(frozen=True)
class Found:
    relative: str
    kind: str
    stamp: list[int]  # mtime_ns, size, inode


def walk(lab: Lab) -> Iterator[Found | tuple[str, str]]:
    """Every lab file worth indexing; symlinks leaving the lab are yielded as (path, problem)."""
    root = str(lab.root)
    stack = [os.path.join(root, name) for name in (*NOTE_DIRS, "experiments/notebooks")]
    stack.append(os.path.join(root, READING_LIST))
    while stack:
        current = stack.pop()
        if current.endswith(".yaml"):
            try:
                st = os.stat(current)
            except OSError:
                continue
            yield Found(READING_LIST, "reading-list", [st.st_mtime_ns, st.st_size, st.st_ino])
            continue
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            relative = os.path.relpath(entry.path, root).replace(os.sep, "/")
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if real != root and not real.startswith(root + os.sep):
                    yield (relative, "symlink points outside the lab; skipped")
                    continue
            if entry.is_dir():
                if not entry.name.startswith("."):
                    stack.append(entry.path)
                continue
            kind = kind_of(relative)
            if kind is None:
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            yield Found(relative, kind, [st.st_mtime_ns, st.st_size, st.st_ino])


def load_index(lab: Lab) -> dict[str, Record]:
    try:
        data = json.loads((lab.state / INDEX_NAME).read_text("utf-8"))
        if (
            isinstance(data, dict)
            and data.get("version") == INDEX_VERSION
            and data.get("root") == str(lab.root)
            and isinstance(data.get("files"), dict)
        ):
            return {k: v for k, v in data["files"].items() if isinstance(v, dict) and "stamp" in v}
    except (OSError, ValueError):
        pass
    return {}


def save_index(lab: Lab, files: dict[str, Record]) -> None:
    from mllm_lab.storage import write_atomic

    payload = {"version": INDEX_VERSION, "tool": "mllm-lab", "root": str(lab.root), "files": files}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    try:
        write_atomic(lab.state / INDEX_NAME, text)
        gitignore = lab.state / ".gitignore"
        if not gitignore.exists():
            write_atomic(gitignore, "*\n")
    except Exception:
        pass


def _parse_many(root: Path, todo: list[Found], progress: Progress | None = None) -> list[Record]:
    if len(todo) < 1500 or (os.cpu_count() or 1) < 2:
        records = []
        for number, found in enumerate(todo, start=1):
            records.append(parse_file(root, found.relative, found.kind))
            if progress and number % 100 == 0:
                progress(number, len(todo))
        return records
    from concurrent.futures import ProcessPoolExecutor

    workers = min(4, os.cpu_count() or 2)
    chunks = [todo[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_parse_chunk, [str(root)] * workers, chunks))
    by_path = {found.relative: record for part in parts for found, record in part}
    return [by_path[found.relative] for found in todo]


def _parse_chunk(root: str, chunk: list[Found]) -> list[tuple[Found, Record]]:
    return [(found, parse_file(Path(root), found.relative, found.kind)) for found in chunk]


@dataclass
class Snapshot:
    files: dict[str, Record]  # path -> record, with "kind" and "stamp"
    problems: list[tuple[str, str]]  # (path, message) for files that were skipped
    changed: bool


def scan(lab: Lab, use_index: bool = True, progress: Progress | None = None) -> Snapshot:
    """The parsed lab, re-parsing only files whose stamp changed since the index was saved."""
    old = load_index(lab) if use_index else {}
    files: dict[str, Record] = {}
    todo: list[Found] = []
    problems: list[tuple[str, str]] = []
    for item in walk(lab):
        if isinstance(item, tuple):
            problems.append(item)
            continue
        record = old.get(item.relative)
        if (
            record is not None
            and record.get("stamp") == item.stamp
            and record.get("kind") == item.kind
        ):
            files[item.relative] = record
        else:
            todo.append(item)
    for found, record in zip(todo, _parse_many(lab.root, todo, progress), strict=True):
        record["kind"], record["stamp"] = found.kind, found.stamp
        files[found.relative] = record
    changed = bool(todo) or len(files) != len(old)
    if changed and use_index:
        save_index(lab, files)
    return Snapshot(files, problems, changed)
