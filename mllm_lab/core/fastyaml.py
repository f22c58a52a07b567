"""A fast reader for the plain YAML most frontmatter is made of (`key: value`, `[a, b]`,
`- item` lists, single-quoted strings), giving exactly what PyYAML's SafeLoader gives. Anything
else returns None and the caller falls back to PyYAML; a property test holds it to that.

Why: libyaml still builds every value in Python and costs ~55 µs a note; this costs ~10 µs,
which is the difference between an instant and a slow first run on a 10,000-note lab."""

from __future__ import annotations

from datetime import date
from typing import Any

from mllm_lab.patterns import pattern

KEY_LINE = pattern(r"([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*))?$")
ITEM_LINE = pattern(r"( *)- (.*)$")
_INT = pattern(r"-?(?:0|[1-9][0-9]*)")
_DATE = pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
_RESERVED_KEYS = {word.casefold() for word in (*_BOOLS, "null", "y", "n")}
_FIRST_UNSAFE = set("-?:,[]{}#&*!|>'\"%@`+. \t")
# Strings a YAML 1.1 or 1.2 reader takes for a null, bool, number, date or merge key (what
# PyYAML resolves, and more): a plain value that starts with a digit is a string unless it
# is one of these (`2026-W48`, `3D 视觉`, `2026-11-26 reading` are strings).
NOT_A_STRING = pattern(
    r"""(?x)^(?:
      ~|null|Null|NULL
    | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
    | [-+]?(?:0|[1-9][0-9_]*)
    | [-+]?0[0-7_]+ | [-+]?0o[0-7_]+ | [-+]?0x[0-9a-fA-F_]+ | [-+]?0b[01_]+
    | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
    | [-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}
        (?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?
    | = | <<
    )$"""
)
_FLOW_UNSAFE = set(",[]{}'\"#:")
# In a comment: a character PyYAML refuses, or a line break only YAML counts (CR alone, NEL,
# U+2028, U+2029), after which PyYAML reads the rest of the "comment" as a line of its own.
# (Spelled as the characters refused, not as the complement of those allowed: the complement's
# charset takes 5 ms to compile, a tenth of a warm command's own time.)
_NOT_IN_A_COMMENT = pattern("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_LONGEST_KEY = 1000  # PyYAML refuses a simple key past 1,024 characters


class _Fallback(Exception):
    pass


def _plain(text: str, flow: bool = False) -> Any:
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.fullmatch(text) and len(text) < 19:
        return int(text)
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise _Fallback from None
    if (
        text[0] in _FIRST_UNSAFE
        or (text[0].isdigit() and (not text[0].isascii() or NOT_A_STRING.match(text)))
        or text[-1] in " \t:"
        or ": " in text
        or ":\t" in text
        or " #" in text
        or "\t#" in text
        or text in ("<<", "=")
        or not text.isprintable()
        or (flow and any(ch in _FLOW_UNSAFE for ch in text))
    ):
        raise _Fallback
    return text


_STEP_ASIDE = object()  # a value known to need PyYAML
_MISSING = object()
_KNOWN: dict[str, Any] = {}  # value text -> what it reads as: most values repeat (statuses,
# tags, dates, categories, `related:` paths), three in four of a synthetic lab's
_KNOWN_MAX = 8192  # then forgotten, all at once: a bound on memory, and still most hits
_KEYS: dict[str, bool] = {}  # key -> whether the fast reader may take it


def _scalar(text: str) -> Any:
    """A value as PyYAML reads it (a flow list is made anew each time: lists are mutable)."""
    known = _KNOWN.get(text, _MISSING)
    if known is _MISSING:
        try:
            known = _read_scalar(text)
        except _Fallback:
            known = _STEP_ASIDE
        if known.__class__ is list:
            return known
        if len(_KNOWN) >= _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN[text] = known
    if known is _STEP_ASIDE:
        raise _Fallback
    return known


def _read_scalar(text: str) -> Any:
    text = text.rstrip(" \t")
    if text.startswith("'"):
        inner = text[1:-1]
        if (
            len(text) < 2
            or not text.endswith("'")
            or "'" in inner.replace("''", "")
            or not inner.isprintable()
        ):
            raise _Fallback
        return inner.replace("''", "'")
    if text.startswith("["):
        if not text.endswith("]"):
            raise _Fallback
        inner = text[1:-1].strip(" \t")
        if not inner:
            return []
        items = [item.strip(" \t") for item in inner.split(",")]
        if any(not item for item in items):
            raise _Fallback
        return [_plain(item, flow=True) for item in items]
    return _plain(text)


def load(lines: list[str]) -> dict[str, Any] | None:
    """The mapping these frontmatter lines hold, or None when they need a full YAML parser."""
    found = load_with_lines(lines)
    return None if found is None else found[0]


def load_with_lines(lines: list[str]) -> tuple[dict[str, Any], dict[str, int]] | None:
    """The mapping, and the 0-based index of the line each key is on (what fm.key_lines
    works out again with a regex per line otherwise), or None as `load`."""
    result: dict[str, Any] = {}
    where: dict[str, int] = {}
    try:
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            match = KEY_LINE.match(line)  # first: a key line is neither blank nor a comment
            if match is None:
                if line.startswith("#"):
                    if _NOT_IN_A_COMMENT.search(line):
                        return None
                    continue
                if not line.strip(" "):
                    continue
                return None  # not a key line (a tab in a blank line: YAML has opinions)
            key, value = match[1], match[2]
            usable = _KEYS.get(key)
            if usable is None:
                usable = key.casefold() not in _RESERVED_KEYS and len(key) <= _LONGEST_KEY
                if len(_KEYS) < _KNOWN_MAX:
                    _KEYS[key] = usable
            if not usable:
                return None
            if key in result:
                return None  # a duplicate key: PyYAML's loader reports it with its line
            where[key] = index - 1
            if value is not None and value.strip(" \t"):
                result[key] = _scalar(value)
                continue
            items: list[Any] = []
            indent: str | None = None
            while index < len(lines):
                item = ITEM_LINE.match(lines[index])
                if item is None:
                    if not lines[index].strip(" "):
                        index += 1
                        continue
                    if lines[index][0] in " \t":
                        return None
                    break
                if indent is None:
                    indent = item[1]
                if item[1] != indent or not item[2].strip(" \t"):
                    return None
                items.append(_scalar(item[2]))
                index += 1
            result[key] = items if indent is not None else None
    except _Fallback:
        return None
    return result, where
