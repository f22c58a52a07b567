"""`lab check`: every problem in the lab as `path:line: message`. The sections a note must have
come from its template, so a customised template changes the rule."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from mllm_lab.core.labdata import LabData, stem
from mllm_lab.core.links import WikiIndex, related_candidates, resolve_relative
from mllm_lab.kinds import NoteKind
from mllm_lab.messages import Msg
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
        Finding.of(
            note.path,
            line,
            "check.missing_section",
            heading=f"{'#' * level} {title}",
            kind=Msg.of(f"kind.{note.kind.name}"),
        )
        for level, title in wanted
        if title not in have
    ]


def _wiki_link(path: str, target: str, line: int, matches: set[str]) -> Finding | None:
    if not matches:
        return Finding.of(path, line, "check.wiki_broken", target=target)
    if len(matches) > 1:
        return Finding.of(
            path,
            line,
            "check.wiki_ambiguous",
            target=target,
            matches=", ".join(sorted(matches)),
        )
    return None


def links(
    path: str, found: Detail, wiki: WikiIndex, exists: Callable[[str], bool]
) -> list[Finding]:
    """Broken relative links and [[wiki links]] of one Markdown file, and links GitHub does
    not render: `found` holds its "links" (target, line, is_wiki) and "unrendered" (target,
    line); `exists` answers for lab-relative paths."""
    result: list[Finding | None] = [
        Finding.of(path, line, "check.link_spaces", target=target)
        for target, line in found.get("unrendered", [])
    ]
    written = found.get("links", [])
    wikis = wiki.resolve_all(target for target, _line, is_wiki in written if is_wiki)
    for target, line, is_wiki in written:
        if is_wiki:
            result.append(_wiki_link(path=path, target=target, line=line, matches=wikis[target]))
            continue
        resolved = resolve_relative(path, target)
        if resolved == ".." or resolved.startswith("../") or posixpath.isabs(resolved):
            result.append(Finding.of(path, line, "check.link_leaves", target=target))
        elif not exists(resolved):
            result.append(
                Finding.of(path, line, "check.link_broken", target=target, resolved=resolved)
            )
    return [f for f in result if f is not None]


def _related(note: Note, detail: Detail, exists: Callable[[str], bool]) -> list[Finding]:
    """`related:` entries that name no file, lab-relative or relative to the note."""
    found = []
    lines = {str(entry): int(line) for entry, line in detail.get("related", [])}
    for entry in note.related:
        as_lab = posixpath.normpath(unquote(entry.strip())) if entry.strip() else ""
        candidates = related_candidates(note.path, entry) if entry.strip() else []
        if "://" in entry or any(
            p and p != "." and not p.startswith("../") and exists(p) for p in candidates
        ):
            continue
        found.append(
            Finding.of(
                note.path, lines.get(entry, 1), "check.related_broken", entry=entry, resolved=as_lab
            )
        )
    return found


def _duplicate_slugs(data: LabData) -> list[Finding]:
    notes = data.study_notes()
    names = [stem(note.path) for note in notes]
    if len(set(names)) == len(names):  # the usual lab: no name twice, no list per name made
        return []
    by_slug: dict[str, list[Note]] = defaultdict(list)
    for note, name in zip(notes, names, strict=True):
        by_slug[name].append(note)
    return [
        Finding.of(note.path, 1, "check.duplicate_slug", slug=slug, other=notes[0].path)
        for slug, notes in by_slug.items()
        for note in notes[1:]
    ]


def _listed_twice(data: LabData) -> list[Finding]:
    noted = {p.key.casefold(): p.note for p in data.papers if p.note}
    found = []
    seen: set[str] = set()
    for key, line in data.listed:
        key = key.casefold()
        if key in noted:
            found.append(
                Finding.of(
                    READING_LIST, line, "check.listed_with_note", key=key, note=str(noted[key])
                )
            )
        elif key in seen:
            found.append(Finding.of(READING_LIST, line, "check.listed_twice", key=key))
        seen.add(key)
    return found


def broken_notes(data: LabData) -> set[str]:
    """Notes whose frontmatter is broken: reported for that alone, not for every section too."""
    return {f.path for f in data.findings} | {
        f.path for f in data.lint if f.msg.name == "note.no_frontmatter"
    }


def note_problems(
    note: Note,
    detail: Detail,
    required: Mapping[NoteKind, Headings],
    wiki: WikiIndex,
    exists: Callable[[str], bool],
    broken: bool,
) -> list[Finding]:
    """One note's own problems: missing sections (unless its frontmatter is `broken`), broken
    links and `related:` entries, damaged region markers. They depend on nothing but the note,
    the required headings, the notes' names (`wiki`) and which files exist."""
    found = [] if broken else _sections(note, detail, required)
    found += links(path=note.path, found=detail, wiki=wiki, exists=exists)
    found += _related(note, detail, exists)
    if detail.get("damaged"):
        line, said = detail["damaged"]
        what = Msg.from_json(said)
        name = "check.conflict" if what.name == "region.conflict" else "check.damaged"
        found.append(Finding.of(note.path, line, name, what=what))
    return found


def lab_problems(data: LabData) -> set[Finding]:
    """The problems that are not one note's alone: what reading the lab met, two notes with
    one name, a paper listed twice or listed beside its note."""
    return {*data.findings, *data.lint, *_duplicate_slugs(data), *_listed_twice(data)}


def check(
    data: LabData,
    details: Iterable[tuple[str, Detail]],
    required: Mapping[NoteKind, Headings],
    exists: Callable[[str], bool],
    others: Mapping[str, Detail] | None = None,
) -> set[Finding]:
    """Problems of the notes themselves, unsorted, and broken links in `others` (the lab's
    other Markdown files: path -> {"links": …, "unrendered": …}); the caller adds stale views
    and invalid notebooks. `details`: (path, detail) pairs in any order, each looked at once
    and then dropped (a note with none, one that could not be read, is checked as having no
    body)."""
    found = lab_problems(data)
    wiki = WikiIndex(data.notes)
    broken = broken_notes(data)
    notes = {note.path: note for note in data.notes}
    for path, detail in details:
        note = notes.pop(path, None)
        if note is not None:
            found.update(note_problems(note, detail, required, wiki, exists, path in broken))
    for note in notes.values():
        found.update(note_problems(note, {}, required, wiki, exists, note.path in broken))
    for path, written in (others or {}).items():
        found.update(links(path=path, found=written, wiki=wiki, exists=exists))
    return found
