"""YAML frontmatter: split, parse with `path:line` errors, emit, and edit single fields in place.

Parsing uses libyaml when present (10x faster than pure Python on a large lab); emitting goes
through python-frontmatter's YAML handler so every value is quoted by a real YAML emitter."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mllm_lab.core import fastyaml
from mllm_lab.errors import BrokenNote


@lru_cache(maxsize=1)
def _yaml() -> tuple[Any, type, type]:
    """PyYAML, its loader and our dumper: imported only when a note needs the full parser or
    something is written (40 ms that `lab status` on a warm index does not pay)."""
    import yaml

    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Dumper(base):  # type: ignore[misc]
        """Never writes anchors and aliases (`&id001`): each value is spelled out where used."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    def represent_str(dumper: Any, data: str) -> Any:
        # Double-quote strings holding a character YAML might read as blank or break on
        # (no-break space, line separators, control characters): they then load back exactly.
        risky = any(not ch.isprintable() or (ch.isspace() and ch != " ") for ch in data)
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if risky else None)

    Dumper.add_representer(str, represent_str)
    return yaml, loader, Dumper


_FENCE = re.compile(r"^---[ \t]*$")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_TOP_KEY = re.compile(r"^(?P<key>[^\s#:'\"\-][^:\n]*?|'[^']*'|\"[^\"]*\")[ \t]*:(?:[ \t]|$)")
BOM = "\ufeff"


@dataclass(frozen=True)
class Parsed:
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the first body line
    key_lines: dict[str, int] = field(default_factory=dict)
    has_frontmatter: bool = False


@dataclass(frozen=True)
class _Split:
    prefix: str  # BOM, if any
    newline: str
    fm_lines: list[str]  # without line endings
    body: str  # with the file's own line endings
    body_line: int


def _split(text: str) -> _Split | None:
    prefix = BOM if text.startswith(BOM) else ""
    start = len(prefix)
    first_end = text.find("\n", start)
    newline = "\r\n" if first_end > start and text[first_end - 1] == "\r" else "\n"
    first = text[start : first_end if first_end >= 0 else len(text)].rstrip("\r")
    if not _FENCE.match(first):
        return None
    fm_lines: list[str] = []
    offset = first_end + 1 if first_end >= 0 else len(text)
    while offset < len(text):  # line by line: a 5 MB note is not split whole
        end = text.find("\n", offset)
        line = text[offset : end if end >= 0 else len(text)].rstrip("\r")
        offset = end + 1 if end >= 0 else len(text)
        if _CLOSE.match(line):
            return _Split(prefix, newline, fm_lines, text[offset:], len(fm_lines) + 3)
        fm_lines.append(line)
    raise ValueError("unclosed")


def key_lines(fm_lines: list[str]) -> dict[str, int]:
    """Line numbers (in the file) of each top-level key."""
    result: dict[str, int] = {}
    for index, line in enumerate(fm_lines):
        match = _TOP_KEY.match(line)
        if match:
            result.setdefault(match["key"].strip("'\""), index + 2)
    return result


def load_yaml(text: str) -> Any:
    yaml, loader, _ = _yaml()
    return yaml.load(text, Loader=loader)


def yaml_errors() -> tuple[type[Exception], type[Exception]]:
    """(YAMLError, MarkedYAMLError), for callers that catch them."""
    yaml = _yaml()[0]
    return yaml.YAMLError, yaml.MarkedYAMLError


def load_lines(fm_lines: list[str]) -> Any:
    """The frontmatter mapping: the fast reader when it can, PyYAML otherwise."""
    fast = fastyaml.load(fm_lines)
    return fast if fast is not None else load_yaml("\n".join(fm_lines))


def parse(text: str, path: str) -> Parsed:
    """Frontmatter and body of a note. Raises BrokenNote with the line of the problem."""
    try:
        split = _split(text)
    except ValueError:
        raise BrokenNote(
            path, 1, "frontmatter opens with --- but has no closing --- line"
        ) from None
    if split is None:
        body = text[1:] if text.startswith(BOM) else text
        return Parsed({}, body, 1)
    meta = fastyaml.load(split.fm_lines)
    if meta is None:
        meta = _load_reporting(split.fm_lines, path)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise BrokenNote(
            path, 2, f"frontmatter must be a mapping of `key: value` lines, not a {kind}"
        )
    meta = {str(key): value for key, value in meta.items()}
    return Parsed(meta, split.body, split.body_line, key_lines(split.fm_lines), True)


def _load_reporting(fm_lines: list[str], path: str) -> Any:
    yaml = _yaml()[0]
    try:
        return load_yaml("\n".join(fm_lines))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = 2 + (mark.line if mark else 0)
        problem = error.problem or error.context or "invalid YAML"
        raise BrokenNote(path, line, f"frontmatter is not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise BrokenNote(path, 2, f"frontmatter is not valid YAML: {error}") from None
    except ValueError as error:  # a date that does not exist, e.g. 2026-02-30
        raise BrokenNote(path, 2, f"frontmatter is not valid YAML: {error}") from None


def dump(meta: dict[str, Any]) -> str:
    """YAML for `meta`, keys in the given order, ending with a newline; loads back equal."""
    from frontmatter.default_handlers import YAMLHandler

    dumper = _yaml()[2]
    text: str = YAMLHandler().export(meta, Dumper=dumper, sort_keys=False, width=2**31 - 1)
    return text + "\n"


def _key_span(fm_lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) indexes of a top-level key and its continuation lines."""
    for index, line in enumerate(fm_lines):
        match = _TOP_KEY.match(line)
        if match and match["key"].strip("'\"") == key:
            end = index + 1
            while end < len(fm_lines) and (
                fm_lines[end][:1] in (" ", "\t", "-") or not fm_lines[end].strip()
            ):
                end += 1
            return index, end
    return None


def _field_lines(key: str, value: Any) -> list[str]:
    """`key: value` as YAML lines; simple values are spelled without loading the YAML emitter
    (checked by reading them back), anything else goes through it."""
    from datetime import date

    if value is None or isinstance(value, date | str | int):
        text = (
            "null"
            if value is None
            else value.isoformat()
            if isinstance(value, date)
            else str(value)
        )
        line = f"{key}: {text}"
        if fastyaml.load([line]) == {key: value}:
            return [line]
    return dump({key: value}).rstrip("\n").split("\n")


def set_fields(text: str, updates: dict[str, Any], path: str = "<note>") -> str:
    """`text` with top-level frontmatter fields set, every other byte kept where possible.

    Each field's lines are replaced in place (or appended to the frontmatter); if the result
    does not load back to exactly the expected mapping, the frontmatter is emitted anew."""
    parsed = parse(text, path)
    expected = {**parsed.meta, **updates}
    split = _split(text)
    if split is None:
        return "---\n" + dump(expected) + "---\n" + text.removeprefix(BOM)
    lines = list(split.fm_lines)
    for key, value in updates.items():
        new = _field_lines(key, value)
        span = _key_span(lines, key)
        if span is None:
            lines.extend(new)
        else:
            lines[span[0] : span[1]] = new + [
                x for x in lines[span[0] + 1 : span[1]] if not x.strip()
            ]
    try:
        same = load_lines(lines) == expected
    except (*yaml_errors(), ValueError):
        same = False
    if not same:
        lines = dump(expected).rstrip("\n").split("\n")
    newline = split.newline
    head = newline.join(["---", *lines, "---"]) + newline
    return split.prefix + head + split.body
