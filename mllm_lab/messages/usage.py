"""Click's usage errors ("No such option: --x", "Invalid value for '--stage': 9 is not in the
range 1<=x<=5") come in English only: Typer's click has no message catalog. This puts the
ones a user meets into the lab's language, by pattern; an unknown one stays as it is."""

from __future__ import annotations

import re

from mllm_lab.messages import tr
from mllm_lab.patterns import pattern

_VALUE = [
    (pattern(r"(?P<value>.+) is not in the range (?P<range>\S+?)\.?$"), "usage.range"),
    (pattern(r"(?P<value>.+) is not a valid int(?:eger)?(?: range)?\.?$"), "usage.not_int"),
    (pattern(r"(?P<value>.+) is not a valid float(?: range)?\.?$"), "usage.not_number"),
    (pattern(r"(?P<value>.+) is not one of (?P<choices>.+?)\.?$"), "usage.not_one_of"),
]
_WHOLE = [
    (
        pattern(
            r"No such option: (?P<name>\S+?)(?: Did you mean (?P<like>\S+?)\?)?"
            r"(?: \(Possible options: (?P<options>.+)\))?\.?$"
        ),
        "usage.no_option",
    ),
    (
        pattern(r"No such command '(?P<name>.+?)'\.?(?: Did you mean (?P<like>.+?)\?)?$"),
        "usage.no_command",
    ),
    (pattern(r"Missing argument '(?P<name>.+?)'\.?$"), "usage.missing_argument"),
    (pattern(r"Missing option '(?P<name>.+?)'\.?$"), "usage.missing_option"),
    (pattern(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<extra>.*)\)\.?$"), "usage.extra"),
    (
        pattern(r"Option '(?P<name>.+?)' requires (?:an argument|\d+ arguments)\.?$"),
        "usage.needs_value",
    ),
    (pattern(r"Option '(?P<name>.+?)' does not take a value\.?$"), "usage.takes_no_value"),
]
_INVALID = pattern(r"Invalid value for (?P<param>'.+?'(?: / '.+?')*): (?P<detail>.+)$", re.S)


def translate(problem: str, lang: str) -> str:
    """`problem` (one of click's messages, without its final period) in `lang`."""
    if lang == "en":
        return problem
    invalid = _INVALID.match(problem)
    if invalid:
        detail = invalid["detail"]
        for value, name in _VALUE:
            found = value.match(detail)
            if found:
                detail = tr(name, lang, **found.groupdict())
                break
        return tr("usage.invalid", lang, param=invalid["param"], detail=detail)
    for whole, name in _WHOLE:
        found = whole.match(problem)
        if found:
            params = {k: v or "" for k, v in found.groupdict().items()}
            text = tr(name, lang, **params)
            if params.get("like"):
                text += tr("usage.did_you_mean", lang, like=params["like"])
            if params.get("options"):
                text += tr("usage.possible", lang, options=params["options"])
            return text
    return problem
