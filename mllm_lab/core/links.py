"""How notes connect, and the links lab writes between them.

Every relative link lab writes (the indexes, weekly logs, reviews, related-notes sections,
prompts) is made by `href`: the relative path from one lab file to another, percent-encoded
so that GitHub, markdown-it, Obsidian and VS Code all read it as that path (spaces, `#`,
parentheses, `%` and non-ASCII letters included). `resolve_relative` is its inverse, used by
`lab check` and the concept map for links written by hand too."""

from __future__ import annotations

import posixpath
from collections.abc import Container, Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote

from mllm_lab.models import Note
from mllm_lab.patterns import pattern


def relative_path(from_file: str, to_path: str) -> str:
    """The relative path from one lab file to another (both lab-relative, "/"-separated)."""
    base = from_file.rsplit("/", 1)[0] + "/" if "/" in from_file else ""
    if to_path.startswith(base):
        return to_path[len(base) :]
    here, there = base.rstrip("/").split("/"), to_path.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    return "../" * (len(here) - common) + "/".join(there[common:])


def encode_path(path: str) -> str:
    """A relative path as a link destination: everything but ASCII letters, digits, `-._~`
    and `/` percent-encoded (UTF-8), so no character can end the link, start an anchor (`#`)
    or a query (`?`), read as a scheme (`:`), an entity (`&`) or an escape (`\\`)."""
    if _AS_IT_IS.fullmatch(path):  # what quote() would give back unchanged: most paths
        return path
    return quote(path, safe="/", errors="surrogateescape")


_AS_IT_IS = pattern(r"[A-Za-z0-9_.~/-]*")  # quote()'s always-safe characters, and "/"


def href(from_file: str, to_path: str) -> str:
    """The link destination, written in `from_file`, that leads to `to_path`."""
    return encode_path(relative_path(from_file, to_path))


def resolve_relative(from_path: str, target: str) -> str:
    """The lab-relative path a relative link points to (may be outside: starts with ..)."""
    return _resolve_in(from_path[: from_path.rfind("/") + 1], target)


@lru_cache(maxsize=4096)
def _resolve_in(folder: str, target: str) -> str:
    """Notes of one folder link the same files: a check of every note of the benchmark's
    10,000-note lab resolves 77,000 links, 43% of them resolved before. (`folder`: the file's
    folder with its trailing "/", which posixpath.join then adds nothing to.)"""
    target = unquote(target.strip(), errors="surrogateescape")
    return posixpath.normpath(posixpath.join(folder, target))


def without_extension(path: str) -> str:
    """posixpath.splitext(path)[0], made by hand: a big lab's wiki index takes it for every
    note (a name of dots alone has no extension: `.md` stays `.md`)."""
    slash, dot = path.rfind("/"), path.rfind(".")
    return path[:dot] if dot > slash and path[slash + 1 : dot].lstrip(".") else path


class WikiIndex:
    """[[wiki link]] targets by note title, file name or path (case-insensitive). The first
    few notes' links are looked up by going through the notes, a note's links in one pass; a
    table of every name is made only when more come (`lab check` after one note's edit
    resolves that note's links alone)."""

    SCANS = 4  # passes over the notes for lookups, before the table is made

    def __init__(self, notes: Iterable[Note]) -> None:
        self.notes = notes
        self._names: dict[str, str | set[str]] | None = None
        self._scans = 0

    @staticmethod
    def _keys(note: Note) -> tuple[str, ...]:
        """The note's title, file name, path and path without extension, as looked up
        (written out, not a generator: every note's, for one note's links)."""
        path = note.path
        base = without_extension(path)
        return (
            note.title.casefold().strip(),
            base[base.rfind("/") + 1 :].casefold().strip(),
            path.casefold().strip(),
            base.casefold().strip(),
        )

    @property
    def names(self) -> dict[str, str | set[str]]:
        """The notes each name is held by: its path when one note holds it (the usual case; a
        set for each of the 165,000 names of a 50,000-note lab made the table 53 MB, not 19),
        else their set."""
        if self._names is None:
            names: dict[str, str | set[str]] = {}
            for note in self.notes:
                path = note.path
                for key in self._keys(note):
                    held = names.get(key)
                    if held is None:
                        names[key] = path
                    elif isinstance(held, str):
                        if held != path:
                            names[key] = {held, path}
                    else:
                        held.add(path)
            self._names = names
        return self._names

    def resolve(self, target: str) -> set[str]:
        return self.resolve_all([target])[target]

    def resolve_all(self, targets: Iterable[str]) -> dict[str, set[str]]:
        """The notes each target names, else those its stem names (a file named with another
        extension): a note's links are looked up together, in one pass over the notes."""
        wanted = {}
        for target in targets:
            name = target.strip().casefold()
            wanted[target] = (name, posixpath.splitext(name)[0])
        if not wanted:
            return {}
        names: Mapping[str, str | set[str]]
        if self._names is None and self._scans < self.SCANS:
            self._scans += 1
            names = self._scan({key for pair in wanted.values() for key in pair})
        else:
            names = self.names
        found = {}
        for target, (name, stem) in wanted.items():
            held = names.get(name) or names.get(stem) or set()
            found[target] = {held} if isinstance(held, str) else held
        return found

    def _scan(self, keys: set[str]) -> dict[str, set[str]]:
        """The part of the table of every name that `keys` looks up, made in one pass. A
        note's three keys made of its path are parts of its casefolded path (casefold maps
        each character alone): a path holding none of `keys` needs its title's key alone,
        which spares making the others for all but a few of 50,000 notes."""
        found: dict[str, set[str]] = {}
        wanted = tuple(keys)
        for note in self.notes:
            folded = note.path.casefold()
            for key in wanted:
                if key in folded:
                    break
            else:
                title = note.title.casefold().strip()
                if title in keys:
                    found.setdefault(title, set()).add(note.path)
                continue
            for key in self._keys(note):
                if key in keys:
                    found.setdefault(key, set()).add(note.path)
        return found


def related_target(note_path: str, entry: str, known: Container[str]) -> str | None:
    """The lab file a `related:` entry names: a lab-relative path, or one relative to the
    note (as a link would be); None when neither is a known file."""
    entry = entry.strip()
    if not entry or "://" in entry:
        return None
    for candidate in related_candidates(note_path, entry):
        if candidate in known:
            return candidate
    return None


def related_candidates(note_path: str, entry: str) -> list[str]:
    """The lab files a `related:` entry may name, in order: the path as written (a file may
    be called `p%20q.md`), the path percent-decoded, and the path relative to the note."""
    entry = entry.strip()
    return list(
        dict.fromkeys(
            [
                posixpath.normpath(entry),
                posixpath.normpath(unquote(entry)),
                resolve_relative(note_path, entry),
            ]
        )
    )


def targets(
    note: Note, detail: Mapping[str, Any], wiki: WikiIndex, known: Container[str]
) -> list[str]:
    """The known files a note points to, in the order written: its body's links (a wiki
    link only when it names one note), then its `related:` entries."""
    found: dict[str, None] = {}
    written = detail.get("links", [])
    wikis = wiki.resolve_all(target for target, _line, is_wiki in written if is_wiki)
    for target, _line, is_wiki in written:
        if is_wiki:
            resolved = wikis[target]
            if len(resolved) == 1:
                found[next(iter(resolved))] = None
        else:
            found[resolve_relative(note.path, target)] = None
    for entry in note.related:
        resolved_entry = related_target(note.path, entry, known)
        if resolved_entry is not None:
            found[resolved_entry] = None
    return [path for path in found if path in known and path != note.path]


def edges(pointed: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
    """Links between notes, each pair once, in a stable order; `pointed`: each note's path and
    the notes it points to (as `targets` finds them)."""
    # sorted a note at a time: the same order as sorting every pair, without comparing
    # hundreds of thousands of tuples at 50,000 notes
    return [(path, target) for path in sorted(pointed) for target in sorted(set(pointed[path]))]
