"""How notes connect: related notes by shared tags and title words, and the links between
notes (relative Markdown links, [[wiki links]], `related:` in frontmatter)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

from mllm_lab.core.labdata import stem
from mllm_lab.models import Note

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[\u3400-\u9fff]+")
_STOP = {
    "the",
    "and",
    "for",
    "with",
    "from",
    "into",
    "what",
    "how",
    "why",
    "role",
    "in",
    "of",
    "a",
    "an",
    "on",
    "to",
    "is",
    "are",
    "its",
}


def title_words(title: str) -> set[str]:
    """Words of a title for finding related notes: English words, and Chinese character pairs."""
    words = set()
    for token in _WORD.findall(title.casefold()):
        if token[0] >= "\u3400":
            words |= {token[i : i + 2] for i in range(len(token) - 1)} or {token}
        elif len(token) > 2 and token not in _STOP:
            words.add(token)
            words |= {part for part in token.split("-") if len(part) > 2 and part not in _STOP}
    return words


def related_notes(
    notes: Iterable[Note], title: str, tags: tuple[str, ...], limit: int = 5
) -> list[Note]:
    """Concept and paper notes sharing tags (each worth two) or title words with `title`."""
    wanted_words = title_words(title)
    wanted_tags = {tag.casefold() for tag in tags}
    scored = []
    for note in notes:
        if not note.kind.study:
            continue
        shared_tags = wanted_tags & {t.casefold() for t in note.tags}
        score = 2 * len(shared_tags) + len(wanted_words & title_words(note.title))
        if score:
            scored.append((-score, note.path, note))
    return [note for _, _, note in sorted(scored)[:limit]]


def resolve_relative(from_path: str, target: str) -> str:
    """The lab-relative path a relative link points to (may be outside: starts with ..)."""
    target = unquote(target.strip())
    return posixpath.normpath(posixpath.join(posixpath.dirname(from_path), target))


class WikiIndex:
    """[[wiki link]] targets by note title, file name or path (case-insensitive)."""

    def __init__(self, notes: Iterable[Note]) -> None:
        self.names: dict[str, set[str]] = {}
        for note in notes:
            for name in {note.title, stem(note.path), note.path, posixpath.splitext(note.path)[0]}:
                self.names.setdefault(name.casefold().strip(), set()).add(note.path)

    def resolve(self, target: str) -> set[str]:
        name = target.strip().casefold()
        return self.names.get(name) or self.names.get(posixpath.splitext(name)[0]) or set()


def edges(notes: list[Note], details: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Links between notes, both ends known notes, each pair once, in a stable order."""
    known = {note.path for note in notes}
    wiki = WikiIndex(notes)
    found: set[tuple[str, str]] = set()
    for note in notes:
        targets: set[str] = set()
        for target, _line, is_wiki in details.get(note.path, {}).get("links", []):
            if is_wiki:
                resolved = wiki.resolve(target)
                targets |= resolved if len(resolved) == 1 else set()
            else:
                targets.add(resolve_relative(note.path, target))
        targets |= {path for path in note.related if path in known}
        targets |= {resolve_relative(note.path, path) for path in note.related}
        found |= {
            (note.path, target) for target in targets if target in known and target != note.path
        }
    return sorted(found)
