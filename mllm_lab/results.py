"""Results of read-only work, kept in .lab/results/<name>.json (facts per file in .bin) and
given again while nothing they were made from has changed: the lab's files (the walk's
fingerprint: every file's path and stamp), lab's own code and default templates, and whatever
else the caller names (the day, the language, the options). A warm `lab status` then stats
the files and prints, without loading the index.

A cache like the index: delete it any time. Each entry carries a checksum of its content, so
a damaged or foreign one is recomputed, never trusted; failing to write one costs only time."""

from __future__ import annotations

import contextlib
import json
import marshal
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllm_lab import __version__
from mllm_lab.cores import paused_gc
from mllm_lab.sha import sha1
from mllm_lab.state import PYTHON, read_state, write_state
from mllm_lab.storage import process_gone
from mllm_lab.walk import changed_ns

FOLDER = "results"
FORMAT = 4  # 2: `lab list` keeps rows only up to a screenful; 3: and its text raw; 4: marshal
PACKAGE = Path(__file__).resolve().parent
_CODE_SUFFIXES = (".py", ".yaml", ".j2", ".toml", ".md")


def _stamps(folder: str, out: list[Any], suffixes: tuple[str, ...] | None = _CODE_SUFFIXES) -> None:
    """The stamps of the files under `folder` with these suffixes (None: every file, hidden
    ones too, as a template may include a partial of any name)."""
    skipped = ("__pycache__",) if suffixes is None else (".", "__pycache__")
    stack = [folder]
    while stack:
        try:
            entries = sorted(os.scandir(stack.pop()), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(skipped):
                continue
            if entry.is_dir():
                stack.append(entry.path)
            elif suffixes is None or entry.name.endswith(suffixes):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                out.append([entry.path, changed_ns(st), st.st_size])


@lru_cache(maxsize=1)
def code_stamp() -> str:
    """lab's version and the stamp of every file of its code, data and default templates: a
    result made by other code (an upgrade, or an edit in a source checkout) is not used."""
    found: list[Any] = [__version__]
    _stamps(str(PACKAGE), found)
    _stamps(str(PACKAGE.parent / "templates"), found)  # the defaults, in a source checkout
    return sha1(json.dumps(found).encode("utf-8", "surrogatepass")).hexdigest()


def folder_stamp(folder: Path) -> str:
    """The stamps of every file under `folder` (a lab's own templates/: a template may include
    a partial of any name)."""
    found: list[Any] = []
    _stamps(str(folder), found, suffixes=None)
    return sha1(json.dumps(found).encode("utf-8", "surrogatepass")).hexdigest()


def key(*parts: Any) -> str:
    text = json.dumps([FORMAT, code_stamp(), *parts], default=str, ensure_ascii=False)
    return sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


RESTAMP = 32  # files read again whose facts are as kept, before a cache is saved anew
KEEP = 16  # entries kept per kind of result (one per set of options, the latest ones)


def slot(name: str, options: Any) -> str:
    """Where the result of `name` with these options is kept: each set of options has its
    own entry (`lab list papers` and `lab list notes` do not evict each other)."""
    text = json.dumps(options, default=str, ensure_ascii=False)
    return f"{name}-{sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"


def _name(name: str) -> str:
    return f"{FOLDER}/{name}.json"


def _prune(state: Path, name: str) -> None:
    """Keep the KEEP latest entries of the kind `name` (the part before the slot's hash), each
    with the files kept beside it under its name (another suffix: the texts of `lab quiz
    --json`'s cards, ops.cardtext): an entry and its texts go together."""
    kind = name.rsplit("-", 1)[0] + "-"
    try:
        slots: dict[str, list[os.DirEntry[str]]] = {}
        for entry in os.scandir(state / FOLDER):
            if entry.name.startswith(kind):
                slots.setdefault(entry.name.split(".", 1)[0], []).append(entry)
            elif _left_behind(entry.name):
                os.unlink(entry.path)
        if len(slots) <= KEEP:
            return
        latest = sorted(
            slots.values(),
            key=lambda files: max(file.stat().st_mtime_ns for file in files),
            reverse=True,
        )
        for files in latest[KEEP:]:
            for file in files:
                os.unlink(file.path)
    except OSError:
        pass


def _left_behind(name: str) -> bool:
    """A temporary file (storage.write_atomic's `.NAME.PID.lab-tmp`) whose process is gone: a
    command killed while it saved a result (the texts of 50,000 cards: 38 MB) left it."""
    if not (name.startswith(".") and name.endswith(".lab-tmp")):
        return False
    pid = name[: -len(".lab-tmp")].rsplit(".", 1)[-1]
    return pid.isdigit() and process_gone(int(pid))


def load(state: Path, name: str, wanted: str, raw: str | None = None) -> tuple[bool, Any]:
    """(True, the value) if the entry `name` was made under the key `wanted`; else (False, None).
    `raw`: the field the caller saves raw (see `save`), given back as bytes; an entry that
    names another field is not used (where the field lies is part of the checksum)."""
    return _load(state, name, raw, lambda header: header.get("key") == wanted)[1:]


def load_based(state: Path, name: str, base: str, raw: str | None = None) -> tuple[str, Any]:
    """(its key, the value) of the entry `name` saved with this `base` (see `save`), whatever
    its key; ("", None) when there is none."""
    key, found, value = _load(state, name, raw, lambda header: header.get("base") == base)
    return (key, value) if found else ("", None)


def _load(
    state: Path, name: str, raw: str | None, wanted: Callable[[dict[str, Any]], bool]
) -> tuple[str, bool, Any]:
    data = read_state(state, _name(name))
    if data is None:
        return "", False, None
    cut = data.find(b"\n")
    if cut < 0:
        return "", False, None
    head, body = data[:cut], memoryview(data)[cut + 1 :]  # megabytes: read where they lie
    try:
        header = json.loads(head)
        if not isinstance(header, dict) or not wanted(header):
            return "", False, None
        key = str(header.get("key"))
        if header.get("format") == "marshal":
            named = header.get("field")
            if named is not None and named != raw:
                return "", False, None
            summed = _sum(body, named) if isinstance(named, str) else _sum(body)
            if header.get("python") != PYTHON or header.get("sum") != summed:
                return "", False, None
            with paused_gc():
                return key, True, marshal.loads(body)
        kept = header.get("raw")
        if kept is None:
            if header.get("sum") == _sum(body):
                return key, True, json.loads(bytes(body))
            return "", False, None
        field, size = kept
        if (
            field != raw
            or type(size) is not int
            or not 0 <= size <= len(body)
            or header.get("sum") != _sum(body, field, size)
        ):
            return "", False, None
        value = json.loads(bytes(body[: len(body) - size]))
        if not isinstance(value, dict):
            return "", False, None
        value[field] = bytes(body[len(body) - size :])
        return key, True, value
    except (ValueError, TypeError, EOFError, RecursionError, MemoryError):
        return "", False, None


def _sum(data: bytes | memoryview | list[bytes], field: str | None = None, size: int = 0) -> str:
    """The checksum of an entry's body (in pieces, or whole) and, for a raw field, of where
    that field lies."""
    pieces = data if isinstance(data, list) else [data]
    head = b"" if field is None else f"{field}:{size}\n".encode()
    digest = sha1(head, size=len(head) + sum(map(len, pieces)))
    for piece in pieces:
        digest.update(piece)
    return digest.hexdigest()


def save(
    state: Path, name: str, made: str, value: Any, raw: str | None = None, base: str | None = None
) -> None:
    """Keep `value` (plain data: dicts, lists, strings, numbers, bytes) as the entry `name`,
    with marshal: `lab status` at 50,000 notes keeps a 900 KB report, which JSON took 28 ms
    to write and 18 ms to read, marshal 3 and 8. Given back as it was made (tuples and all).
    A value marshal cannot hold (a str subclass) is kept as JSON instead; then `raw`: a
    field of the dict `value` holding bytes (megabytes of a table's text), kept as they are
    after the JSON instead of inside it, and given back as bytes without decoding them.
    `base`: a key of what the value is made from but the files (see Workspace.cached's
    `patch`), by which `load` finds the entry once its key no longer holds."""
    named = raw if isinstance(value, dict) and isinstance(value.get(raw), bytes) else None
    try:
        packed = marshal.dumps(value)
    except ValueError:
        pass
    else:  # the raw field's name is in the header and its checksum, as in the JSON form
        packed_header = {"key": made, "format": "marshal", "python": PYTHON, "field": named}
        if base is not None:
            packed_header["base"] = base
        packed_header["sum"] = _sum(packed, named) if named else _sum(packed)
        head = json.dumps(packed_header).encode("utf-8") + b"\n"
        write_state(state, _name(name), [head, packed])
        _prune(state, name)
        return
    extra = b""
    header: dict[str, Any] = {"key": made} if base is None else {"key": made, "base": base}
    if raw is not None and isinstance(value, dict) and isinstance(value.get(raw), bytes):
        extra = value[raw]
        value = {k: v for k, v in value.items() if k != raw}
        header["raw"] = [raw, len(extra)]
    try:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):  # bytes besides the raw field: not kept, made again
        return
    data = [body.encode("utf-8", "surrogatepass"), extra]  # written as they are: no copy
    header["sum"] = _sum(data, *header["raw"]) if "raw" in header else _sum(data)
    write_state(state, _name(name), [json.dumps(header).encode("utf-8") + b"\n", *data])
    _prune(state, name)


class PerFile:
    """Facts about each file, kept in one entry by the file's stamp while the entry's key
    (what the facts also depend on) holds: a command after one note was edited works out that
    note's facts alone. `get` gives a file's facts if its stamp is the one they were made at;
    `put` records new ones; `save` writes the entry when anything changed (files gone since
    are dropped, as only files met by `get` or `put` are kept).

    Kept with marshal, not JSON, in results/<name>.bin: at 50,000 notes the entry is 20 MB,
    and encoding it again after one note changed took 450 ms as JSON, 45-95 ms with marshal.
    Like every entry it carries a checksum, checked before a byte of it is decoded, and the
    Python version that wrote it. (As with the index: the checksum finds damage, not a file
    made on purpose, and marshal trusts the sizes such a file gives.)"""

    def __init__(self, state: Path, name: str, made: str, use: bool = True) -> None:
        self.state, self.name, self.made, self.use = state, name, made, use
        kept = _load_marshal(state, f"{FOLDER}/{name}.bin", made) if use else None
        self.kept: dict[str, Any] = kept if isinstance(kept, dict) else {}
        self.now: dict[str, Any] = {}
        self.restamped = 0  # files `put` again with the facts kept for them, at a new stamp
        self.changed = False  # a file `put` with other facts than those kept, or none kept

    def get(self, path: str, stamp: Any, shape: Callable[[Any], bool]) -> Any | None:
        """The file's facts if they were made at `stamp` and have the `shape` the caller
        makes (an entry of another shape is made again, never trusted)."""
        entry = self.kept.get(path)
        if stamp is None or not isinstance(entry, list) or len(entry) != 2 or entry[0] != stamp:
            return None
        try:
            if not shape(entry[1]):
                return None
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return None
        self.now[path] = entry
        return entry[1]

    def none_at(self, path: str, stamp: Any) -> bool:
        """The file had no facts (an empty list) at `stamp`: kept, and True. The usual case,
        met 50,000 times by a check after one note was edited, made without a call to
        `shape`."""
        entry = self.kept.get(path)
        if stamp is None or entry.__class__ is not list or len(entry) != 2:
            return False
        if entry[1] != [] or entry[0] != stamp:
            return False
        self.now[path] = entry
        return True

    def put(self, path: str, stamp: Any, facts: Any) -> None:
        if stamp is not None:
            self.now[path] = [stamp, facts]
            entry = self.kept.get(path)
            if entry.__class__ is list and len(entry) == 2 and entry[1] == facts:
                self.restamped += 1
            else:
                self.changed = True

    def save(self, restamp: int = 0) -> None:
        """Write the entry if it changed. `restamp`: while no more than that many files were
        `put` again with the facts kept for them (a note edited in a way that changed none of
        its facts) and nothing else changed, the entry, megabytes at 50,000 notes, is left as
        it was: those few files are worked out again next time."""
        if not self.use:
            return
        if not self.changed and self.restamped <= restamp and len(self.now) == len(self.kept):
            return
        if self.now != self.kept:
            try:
                body = marshal.dumps(self.now)
            except ValueError:  # a value marshal cannot hold (a str subclass): made again
                return
            header = {"key": self.made, "python": PYTHON, "sum": _sum(body)}
            head = json.dumps(header).encode() + b"\n"
            write_state(self.state, f"{FOLDER}/{self.name}.bin", [head, body])  # no copy
            with contextlib.suppress(OSError):  # the JSON entry of lab 0.1.0 and before
                (self.state / FOLDER / f"{self.name}.json").unlink()


def _load_marshal(state: Path, name: str, wanted: str) -> Any:
    """The value kept as `name` under the key `wanted`, or None."""
    data = read_state(state, name)
    cut = -1 if data is None else data.find(b"\n")
    if data is None or cut < 0:
        return None
    body = memoryview(data)[cut + 1 :]
    try:
        header = json.loads(data[:cut])
        if not isinstance(header, dict) or header.get("key") != wanted:
            return None
        if header.get("python") != PYTHON or header.get("sum") != _sum(body):
            return None
        with paused_gc():  # tens of thousands of lists that live until the command ends
            return marshal.loads(body)
    except (ValueError, TypeError, EOFError, RecursionError, MemoryError):
        return None
