"""The `merge` attribute a .gitattributes gives a path, read as git reads the file: the last
line whose pattern matches the path and names the attribute wins (`merge=union`, `merge`,
`-merge`, `!merge`, and the built-in macro `binary`, which unsets it). Used when git itself
cannot be asked (no git, or no repository yet)."""

from __future__ import annotations

from collections.abc import Iterable

UNSET, UNSPECIFIED, SET = "unset", "unspecified", "set"


def merge_attribute(text: str, path: str) -> str:
    """`path`'s merge attribute: "union" or another driver's name, SET, UNSET or UNSPECIFIED,
    as `git check-attr merge -- PATH` prints it for this file alone."""
    import pathspec

    state = UNSPECIFIED
    for pattern, attributes in _lines(text):
        effect = _merge_effect(attributes)
        if effect is None or pattern.startswith("!"):  # git ignores negative patterns
            continue
        if pathspec.GitIgnoreSpec.from_lines([pattern]).match_file(path):
            state = effect
    return state


def _lines(text: str) -> Iterable[tuple[str, list[str]]]:
    for line in text.removeprefix("\ufeff").splitlines():
        words = line.split()
        if words and not words[0].startswith(("#", '"', "[attr]")):  # quoted: left alone
            yield words[0], words[1:]


def _merge_effect(attributes: list[str]) -> str | None:
    """What a line does to the merge attribute (None: nothing); the last word naming it wins."""
    effect = None
    for word in attributes:
        if word == "merge":
            effect = SET
        elif word.startswith("merge="):
            effect = word.removeprefix("merge=")
        elif word in ("-merge", "binary"):
            effect = UNSET
        elif word == "!merge":
            effect = UNSPECIFIED
    return effect
