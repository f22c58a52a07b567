"""`lab check`: every problem in the lab as `path:line: message`. The sections a note must have
come from its template, so a customised template changes the rule."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mllm_lab import kinds
from mllm_lab.core.labdata import LabData, stem
from mllm_lab.core.links import WikiIndex, resolve_relative
from mllm_lab.kinds import NoteKind
from mllm_lab.models import READING_LIST, Finding, Note

Headings = Sequence[tuple[int, str]]


Detail = Mapping[str, Any]


def _sections(note: Note, detail: Detail, required: Mapping[NoteKind, Headings]) -> list[Finding]:
    wanted = required.get(note.kind)
    if not wanted:
        return []
    have = {str(title).strip() for _level, title, *_ in detail.get("headings", [])}
    line = int(detail.get("body_line", 1))
    return [
        Finding(
            note.path,
            line,
            f"missing section `{'#' * level} {title}` (required by the {note.kind.value} template)",
        )
        for level, title in wanted
        if title not in have
    ]


def _links(
    note: Note, detail: Detail, wiki: WikiIndex, exists: Callable[[str], bool]
) -> list[Finding]:
    found = []
    for target, line, is_wiki in detail.get("links", []):
        if is_wiki:
            matches = wiki.resolve(target)
            if not matches:
                found.append(
                    Finding(
                        note.path,
                        line,
                        f"broken wiki link [[{target}]]: no note has that title or name",
                    )
                )
            elif len(matches) > 1:
                found.append(
                    Finding(
                        note.path,
                        line,
                        f"ambiguous wiki link [[{target}]]: {', '.join(sorted(matches))}",
                    )
                )
            continue
        resolved = resolve_relative(note.path, target)
        if resolved == ".." or resolved.startswith("../") or posixpath.isabs(resolved):
            found.append(Finding(note.path, line, f"link to `{target}` leaves the lab"))
        elif not exists(resolved):
            found.append(
                Finding(note.path, line, f"broken link to `{target}` ({resolved} does not exist)")
            )
    return found


def _duplicates(data: LabData) -> list[Finding]:
    found = []
    by_key: dict[str, list[Note]] = defaultdict(list)
    by_slug: dict[str, list[Note]] = defaultdict(list)
    for note in data.notes:
        if note.kind is kinds.PAPER:
            key = str(data.note_keys.get(note.path) or stem(note.path))
            by_key[key.casefold()].append(note)
        if note.kind.study:
            by_slug[stem(note.path)].append(note)
    for key, notes in by_key.items():
        for note in notes[1:]:
            found.append(
                Finding(note.path, 1, f"duplicate paper key `{key}` (also {notes[0].path})")
            )
    for slug, notes in by_slug.items():
        for note in notes[1:]:
            found.append(
                Finding(
                    note.path,
                    1,
                    f"duplicate slug `{slug}` (also {notes[0].path}); [[{slug}]] is ambiguous",
                )
            )
    return found


def _listed_twice(data: LabData) -> list[Finding]:
    noted = {p.key.casefold(): p.note for p in data.papers if p.note}
    found = []
    seen: set[str] = set()
    for key, line in data.listed:
        key = key.casefold()
        if key in noted:
            found.append(
                Finding(
                    READING_LIST,
                    line,
                    f"`{key}` also has a note ({noted[key]}), whose status counts; remove this entry",
                )
            )
        elif key in seen:
            found.append(Finding(READING_LIST, line, f"`{key}` is listed twice"))
        seen.add(key)
    return found


def check(
    data: LabData,
    details: Mapping[str, Detail],
    required: Mapping[NoteKind, Headings],
    exists: Callable[[str], bool],
) -> list[Finding]:
    """Problems of the notes themselves; the caller adds stale views and invalid notebooks."""
    found = list(data.findings) + list(data.lint)
    wiki = WikiIndex(data.notes)
    # a note whose frontmatter is broken is reported for that alone, not for every section too
    broken = {f.path for f in data.findings} | {
        f.path for f in data.lint if f.message.startswith("no frontmatter")
    }
    for note in data.notes:
        detail = details.get(note.path, {})
        if note.path not in broken:
            found += _sections(note, detail, required)
        found += _links(note, detail, wiki, exists)
    found += _duplicates(data) + _listed_twice(data)
    return sorted(set(found), key=lambda f: (f.path, f.line, f.message))
