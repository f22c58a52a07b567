"""JSON as `json.dumps(value, ensure_ascii=False, indent=2, default=str)` writes it, byte for
byte, made faster. With an indent, the standard library encodes in Python, through nested
generators: `lab quiz --json` at 50,000 notes (5,000 cards due) spent 91 ms in it, this
recursion 60. tests/test_jsontext.py holds the two equal on any JSON-like value."""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")


def indented(value: Any) -> str:
    """`value` as indented JSON (see the module's docstring)."""
    out: list[str] = []
    _dump(value, "\n", out)
    return "".join(out)


def _dump(value: Any, indent: str, out: list[str]) -> None:
    kind = value.__class__
    if kind is str:
        out.append(encode_basestring(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        _dump_dict(value, indent, out)
    elif kind is list or kind is tuple:
        _dump_list(value, indent, out)
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(encode_basestring(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        _dump_list(value, indent, out)
    elif isinstance(value, dict):
        _dump_dict(value, indent, out)
    else:
        _dump(str(value), indent, out)


def _dump_dict(value: dict[Any, Any], indent: str, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = indent + "  "
    opening = "{" + inner
    between = "," + inner
    first = True
    for key, item in value.items():
        name = key if key.__class__ is str else _key(key)
        out.append((opening if first else between) + encode_basestring(name) + ": ")
        first = False
        _dump(item, inner, out)
    out.append(indent + "}")


def _dump_list(value: list[Any] | tuple[Any, ...], indent: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = indent + "  "
    out.append("[" + inner)
    between = "," + inner
    first = True
    for item in value:
        if not first:
            out.append(between)
        first = False
        _dump(item, inner, out)
    out.append(indent + "]")


def _key(key: Any) -> str:
    """A dict key as json writes it: str, float, bool, None and int keys only."""
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)
