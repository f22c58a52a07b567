"""YAML frontmatter: split, parse with `path:line` errors, emit, and edit fields in place.

Parsing uses a fast reader for plain frontmatter and libyaml for the rest. YAML anchors and
aliases are refused before they are expanded (an "alias bomb" costs gigabytes), and so are
duplicate keys (which value counts is a guess). Emitting quotes every string that any YAML 1.1
or 1.2 reader (PyYAML, pandoc, Hugo, js-yaml, Obsidian) would read as something else. Editing
changes only the value that changed: comments, key order, quoting and block scalars elsewhere
stay byte for byte, and an edit that cannot be made that way is refused, never re-emitted
(core.fmedit)."""

from __future__ import annotations

import re
from datetime import date, time
from functools import lru_cache
from typing import Any, NamedTuple

from mllm_lab.core import fastyaml
from mllm_lab.errors import BrokenNote
from mllm_lab.models import CONFLICT_LINES
from mllm_lab.patterns import pattern


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def ambiguous(text: str) -> bool:
    """True when `text`, written plain, would not load back as that string everywhere."""
    return fastyaml.NOT_A_STRING.match(text) is not None


@lru_cache(maxsize=1)
def yaml_kit() -> tuple[Any, type, type]:
    """PyYAML, our loader and our dumper: imported only when a note needs the full parser or
    something is written (40 ms that `lab status` on a warm index does not pay)."""
    import yaml  # ~40 ms: a warm `lab status` never needs it

    base_loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base_dumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class Loader(base_loader):  # type: ignore[misc]
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue
                if key in seen:
                    error = yaml.MarkedYAMLError(
                        problem=f"duplicate key `{key}`", problem_mark=key_node.start_mark
                    )
                    error.also_on = seen[key]  # type: ignore[attr-defined]  # a Mark, for load_yaml
                    raise error
                seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    Loader.add_constructor("tag:yaml.org,2002:map", Loader.construct_mapping)

    class Dumper(base_dumper):  # type: ignore[misc]
        """Never writes anchors and aliases (`&id001`): each value is spelled out where used."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    def represent_str(dumper: Any, data: str) -> Any:
        # Characters YAML might read as blank or break on: double quotes, escaped.
        risky = any(not ch.isprintable() or (ch.isspace() and ch != " ") for ch in data)
        style = '"' if risky else ("'" if ambiguous(data) else None)
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, represent_str)
    return yaml, Loader, Dumper


def yaml_errors() -> tuple[type[Exception], type[Exception]]:
    """(YAMLError, MarkedYAMLError), for callers that catch them."""
    yaml = yaml_kit()[0]
    return yaml.YAMLError, yaml.MarkedYAMLError


def refuse_aliases(text: str, first_line: int, path: str) -> None:
    """Anchors and aliases are refused before anything is built from them."""
    if "&" not in text and "*" not in text:
        return
    yaml, loader, _ = yaml_kit()
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = first_line + line_of(text, event.start_mark)
            raise BrokenNote(path, line, "yaml.aliases")


_YAML_ONLY_BREAKS = ("\u2028", "\u2029", "\x85")


def line_of(text: str, mark: Any) -> int:
    """The 0-based line of a YAML mark as editors count lines: YAML also breaks lines at
    U+2028, U+2029 and U+0085, which editors and GitHub show inside a line."""
    if not any(ch in text for ch in _YAML_ONLY_BREAKS):
        return int(mark.line)
    return text.count("\n", 0, mark.index)


def conflict_row(lines: list[str]) -> int | None:
    """The index of the first line a git merge conflict left (`<<<<<<<`, `|||||||`, `>>>>>>>`)."""
    for index, line in enumerate(lines):
        if line.startswith(CONFLICT_LINES) and line[7:8] in ("", " ", "\t", "\r"):
            return index
    return None


def conflict_in(text: str) -> int | None:
    """The line (1-based) of the first line a git merge conflict left in `text` (a YAML, TOML
    or BibTeX file, a template: no Markdown code blocks to tell apart)."""
    if not any(mark in text for mark in CONFLICT_LINES):  # at C speed, the usual answer
        return None
    row = conflict_row(text.split("\n"))
    return None if row is None else row + 1


def load_yaml(
    text: str, path: str = "<yaml>", first_line: int = 1, what: str = "yaml.invalid"
) -> Any:
    """Any YAML document, PyYAML-compatible, anchors/aliases and duplicate keys refused.
    Errors are BrokenNote with the line, counted from `first_line`."""
    # a merge's conflict, named as such (YAML stumbles on the line after, or reads it)
    conflict = conflict_in(text)
    if conflict is not None:
        raise BrokenNote(path, first_line + conflict - 1, "yaml.conflict")
    yaml, loader, _ = yaml_kit()
    try:
        refuse_aliases(text, first_line, path)
        return yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + (line_of(text, mark) if mark else 0)
        problem = error.problem or error.context or "invalid YAML"
        if hasattr(error, "also_on"):
            problem += f" (also on line {first_line + line_of(text, error.also_on)})"
        raise BrokenNote(path, line, what, problem=one_line(problem)) from None
    except yaml.YAMLError as error:
        raise BrokenNote(path, first_line, what, problem=one_line(str(error))) from None
    except (ValueError, OverflowError) as error:  # a date that does not exist: 2026-02-30
        line = first_line + _bad_date_line(text)
        raise BrokenNote(path, line, what, problem=one_line(str(error))) from None
    except RecursionError:
        raise BrokenNote(path, first_line, what, problem="nested too deeply") from None


_DATE_LIKE = pattern(
    r"(?<![\w.-])([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[+-][0-9]{1,2}(?::?[0-9]{2})?))?)?(?![\w.-])"
)


def _bad_date_line(text: str) -> int:
    """The 0-based line of the first date- or timestamp-shaped value that is not a real one
    (2026-02-30, 2026-11-25T25:00:00)."""
    for number, line in enumerate(text.split("\n")):
        for match in _DATE_LIKE.finditer(line):
            try:
                date(int(match[1]), int(match[2]), int(match[3]))
                if match[4] is not None:
                    time(int(match[4]), int(match[5]), int(match[6]))
            except ValueError:
                return number
    return 0


# --- split and parse -----------------------------------------------------------------------

FENCE = pattern(r"^---[ \t]*$")
CLOSE = pattern(r"^(?:---|\.\.\.)[ \t]*$")
# The closing fence as a line of a whole text (the line's CRs are not part of it, as in CLOSE).
_CLOSE_LINE = pattern(r"^(?:---|\.\.\.)[ \t]*\r*$", re.M)
_TOP_KEY = pattern(r"^(?P<key>[^\s#:'\"\-][^:\n]*?|'[^']*'|\"[^\"]*\")[ \t]*:(?:[ \t]|$)")
BOM = "\ufeff"


class Parsed(NamedTuple):
    meta: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the first body line
    key_lines: dict[str, int]
    has_frontmatter: bool = False


class _Split(NamedTuple):  # made for every note a scan reads: a tuple is made quicker
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
    if not FENCE.match(first):
        return None
    offset = first_end + 1 if first_end >= 0 else len(text)
    close = _CLOSE_LINE.search(text, offset)  # a search, not a split: a 5 MB note stays whole
    if close is None:
        raise ValueError("unclosed")
    written = text[offset : close.start()]
    fm_lines = written.split("\n")[:-1] if written else []
    if "\r" in written:
        fm_lines = [line.rstrip("\r") for line in fm_lines]
    end = close.end()
    body = text[end + 1 :] if end < len(text) else ""
    return _Split(prefix, newline, fm_lines, body, len(fm_lines) + 3)


def key_lines(fm_lines: list[str]) -> dict[str, int]:
    """Line numbers (in the file) of each top-level key."""
    result: dict[str, int] = {}
    for index, line in enumerate(fm_lines):
        match = _TOP_KEY.match(line)
        if match:
            result.setdefault(match["key"].strip("'\""), index + 2)
    return result


def body_of(text: str, path: str) -> tuple[str, int]:
    """A note's body and the file line it starts on, without reading the frontmatter's YAML
    (for readers of the body alone, such as the cards). BrokenNote if the frontmatter is
    never closed."""
    try:
        split = _split(text)
    except ValueError:
        raise BrokenNote(path, 1, "fm.unclosed") from None
    if split is None:
        return (text[1:] if text.startswith(BOM) else text), 1
    return split.body, split.body_line


def parse(text: str, path: str) -> Parsed:
    """Frontmatter and body of a note. Raises BrokenNote with the line of the problem."""
    try:
        split = _split(text)
    except ValueError:
        raise BrokenNote(path, 1, "fm.unclosed") from None
    if split is None:
        if conflict_row(text.split("\n", 1)[:1]) == 0:  # the frontmatter's `---` in a conflict
            raise BrokenNote(path, 1, "fm.conflict")
        body = text[1:] if text.startswith(BOM) else text
        return Parsed({}, body, 1, {})
    fast = fastyaml.load_with_lines(split.fm_lines)  # PyYAML only when it gives up
    if fast is not None:  # every key a plain word on a line of its own: their lines are known
        meta, lines = fast[0], {key: index + 2 for key, index in fast[1].items()}
        return Parsed(meta, split.body, split.body_line, lines, has_frontmatter=True)
    conflict = conflict_row(split.fm_lines)  # a merge's, which YAML may even read
    if conflict is not None:
        raise BrokenNote(path, conflict + 2, "fm.conflict")
    meta = load_yaml(
        text="\n".join(split.fm_lines) + "\n",
        path=path,
        first_line=2,
        what="yaml.frontmatter_invalid",
    )
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        kind = type(meta).__name__
        raise BrokenNote(path, 2, "fm.not_mapping", kind=kind)
    meta = {str(key): value for key, value in meta.items()}
    return Parsed(
        meta=meta,
        body=split.body,
        body_line=split.body_line,
        key_lines=key_lines(split.fm_lines),
        has_frontmatter=True,
    )


# --- emit ----------------------------------------------------------------------------------


def dump(meta: Any) -> str:
    """YAML for `meta`, keys in the given order, ending with a newline; loads back equal,
    in PyYAML and in any YAML 1.2 reader."""
    simple = _dump_simple(meta)
    if simple is not None:
        return simple
    yaml, _, dumper = yaml_kit()
    text: str = yaml.dump(meta, Dumper=dumper, sort_keys=False, allow_unicode=True, width=2**31 - 1)
    return text if text.endswith("\n") else text + "\n"


_KEY = pattern(r"[A-Za-z_][A-Za-z0-9_]*")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_DECIMAL = pattern(r"[0-9]+\.[0-9]+")  # PyYAML reads it as a float: an arXiv id, quoted


def _block_plain(value: str) -> bool:
    """PyYAML's own test (Emitter.analyze_scalar) of a one-line string of printable
    characters for the plain style in a block mapping or sequence: no indicator first, no
    ": " or " #" inside, no ":" or space at an end, no document marker; and `ambiguous`
    strings (which some reader takes for a number, a date, a bool…) aside."""
    first = value[0]
    return not (
        first in _FIRST_INDICATORS
        or (first in "?:-" and value[1:2] in ("", " "))
        or first == " "
        or value[-1] == " "
        or ": " in value
        or value[-1] == ":"
        or " #" in value
        or value.startswith(("---", "..."))
        or ambiguous(value)
    )


def _simple_string(value: str) -> str | None:
    """`value` as PyYAML writes it in a block mapping or sequence (plain, or single-quoted
    with '' for a quote: a paper's title with a colon), or None when only PyYAML knows: a
    tab, a line break, a character str.isprintable refuses or one past the Basic Multilingual
    Plane (libyaml escapes those), a string some reader takes for another type."""
    if value == "":
        return "''"
    if not value.isprintable() or max(value) > "\uffff":
        return None
    if _block_plain(value):
        return value
    if ambiguous(value) and not _DECIMAL.fullmatch(value):
        return None  # PyYAML may write it plain, lab's own dumper quotes it
    return "'" + value.replace("'", "''") + "'"


def _dump_simple(meta: Any) -> str | None:
    """What PyYAML writes for a flat mapping of simple strings (_simple_string), whole
    numbers, dates, nulls and lists of such strings (a new note's frontmatter), without
    importing PyYAML (20 ms); None for anything else. tests/test_core_frontmatter.py
    compares the two."""
    if type(meta) is list:  # a list of such mappings (a reading-list entry)
        items = [_dump_simple(item) if type(item) is dict and item else None for item in meta]
        if not items or any(item is None for item in items):
            return None
        lines = []
        for item in items:
            first, *rest = str(item).rstrip("\n").split("\n")
            lines += [f"- {first}", *(f"  {line}" for line in rest)]
        return "\n".join(lines) + "\n"
    if not isinstance(meta, dict):
        return None
    lines = []
    for key, value in meta.items():
        if type(key) is not str or not _KEY.fullmatch(key) or ambiguous(key):
            return None
        if value is None:
            lines.append(f"{key}: null")
        elif type(value) is int:
            lines.append(f"{key}: {value}")
        elif type(value) is date:
            lines.append(f"{key}: {value.isoformat()}")
        elif type(value) is str:
            written = _simple_string(value)
            if written is None:
                return None
            lines.append(f"{key}: {written}")
        elif type(value) is list:
            if not value:
                lines.append(f"{key}: []")
                continue
            items = [_simple_string(v) if type(v) is str else None for v in value]
            if any(item is None for item in items):
                return None
            lines.append(f"{key}:")
            lines += [f"- {item}" for item in items]
        else:
            return None
    return "\n".join(lines) + "\n" if lines else None


def scalar(value: Any) -> str:
    """One value as a single-line YAML scalar (or flow list), e.g. for a template or an edit."""
    if value is None:
        return "null"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    plain = isinstance(value, str) and value and not ambiguous(value)
    if plain and fastyaml.load([f"k: {value}"]) == {"k": value}:
        return str(value)
    if isinstance(value, list | tuple) and not value:
        return "[]"
    text = dump({"k": value})
    if isinstance(value, list | tuple | dict):
        yaml, _, dumper = yaml_kit()
        text = yaml.dump(
            {"k": list(value) if isinstance(value, tuple) else value},
            Dumper=dumper,
            default_flow_style=True,
            allow_unicode=True,
            width=2**31 - 1,
        )
        return str(text.strip()[len("{k: ") : -1])
    return text[len("k: ") :].rstrip("\n")
