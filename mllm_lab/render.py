"""The one Jinja environment: sandboxed, strict about undefined variables, the lab's own
templates/ first and the packaged defaults second."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import signal
import threading
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mllm_lab.core.fm import dump
from mllm_lab.core.markdown import (
    escape_cell,
    link,
    mermaid_id,
    mermaid_label,
    without_controls,
)
from mllm_lab.errors import TemplateProblem
from mllm_lab.kinds import default_templates
from mllm_lab.messages import Msg
from mllm_lab.patterns import pattern

if TYPE_CHECKING:
    from jinja2 import Environment


def _yaml_scalar(value: object) -> str:
    return dump({"v": value})[3:].rstrip("\n")


MAX_OUTPUT = 4 * 2**20  # characters a template may add to the text it is given (see _limit)
MAX_SECONDS = 10  # seconds a template may run
MAX_ITEMS = 100_000  # length of a string or list a template may build with * or **


class _TooBig(Exception):
    def __init__(self, msg: Msg) -> None:
        super().__init__(msg.name)
        self.msg = msg


def _one_line(error: object) -> str:
    return " ".join(str(error).split())


FILTERS: dict[str, Callable[..., Any]] = {
    "yaml": _yaml_scalar,
    "cell": escape_cell,
    "mdlink": link,
    "json": json.dumps,
    "mermaid_id": mermaid_id,
    "mermaid_label": mermaid_label,
    "pystr": repr,
    "shell": shlex.quote,
}


def folders(lab_templates: Path | None) -> tuple[str, ...]:
    """Where templates are looked for, in order: the lab's templates/ (if it is a folder now),
    then lab's own. Asked on every render, so that Jinja and plain_render look in the same
    places even in a process that outlives a templates/ folder made or removed."""
    lab = (str(lab_templates),) if lab_templates and lab_templates.is_dir() else ()
    return (*lab, str(default_templates()))


def environment(lab_templates: Path | None) -> Environment:
    return _environment(folders(lab_templates))


@lru_cache(maxsize=4)
def _environment(search: tuple[str, ...]) -> Environment:
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, Undefined
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        """Jinja's sandbox, which also refuses `"x" * 10**9` and `9 ** 10**9`."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int) and abs(right) > 64:
                raise _TooBig(Msg.of("template.too_big", expression=f"{left!r} ** {right!r}"))
            if operator == "*":
                sizes = [len(x) for x in (left, right) if isinstance(x, str | list | tuple)]
                counts = [x for x in (left, right) if isinstance(x, int)]
                if sizes and counts and sizes[0] * max(counts[0], 0) > MAX_ITEMS:
                    raise _TooBig(Msg.of("template.too_many"))
            return super().call_binop(context, operator, left, right)

    def strict(applied: Callable[..., Any]) -> Callable[..., Any]:
        """A filter given an undefined name says so, as Jinja says it elsewhere: `{{ x | cell }}`
        gave a TypeError from inside the filter."""

        def filtered(*values: Any, **named: Any) -> Any:
            for value in (*values, *named.values()):
                if isinstance(value, Undefined):
                    value._fail_with_undefined_error()
            return applied(*values, **named)

        return filtered

    env = Sandbox(
        loader=ChoiceLoader([FileSystemLoader(folder) for folder in search]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_printable,
    )
    env.filters.update({name: strict(applied) for name, applied in FILTERS.items()})
    return env


def _printable(value: Any) -> Any:
    """Every value a template writes, without control characters (a NUL from a hand-edited
    reading list would make the note unreadable)."""
    return without_controls(value) if isinstance(value, str) else value


def _shown(filename: str | None, name: str, lab_templates: Path | None) -> str:
    """A template as the user knows it: the lab's own file by its path, else the default's name."""
    if filename and lab_templates and Path(filename).is_relative_to(lab_templates):
        return Path(filename).relative_to(lab_templates.parent).as_posix()
    return f"{name} (default)"


def render(lab_templates: Path | None, name: str, context: dict[str, Any]) -> str:
    _refuse_conflict(lab_templates, name)
    plain = plain_render(lab_templates, name, context)
    if plain is not None:
        return plain
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

    env = environment(lab_templates)
    filename = None

    def shown() -> str:  # the file, also when Jinja failed before it gave its name
        return _shown(filename or _template_path(folders(lab_templates), name), name, lab_templates)

    try:
        template = env.get_template(name)
        filename = template.filename
        with _time_limit(MAX_SECONDS):
            return _bounded(template.generate(**context), _limit(context))
    except _TooBig as error:
        raise TemplateProblem(
            shown(), _template_line(error), Msg.of("template.refused", problem=error.msg)
        ) from None
    except (OverflowError, MemoryError, SyntaxError) as error:  # SyntaxError: Python's own
        # limits on the code Jinja makes (99 ifs or 21 loops nested in one another)
        problem = Msg.of("template.error", problem=_one_line(error))
        raise TemplateProblem(
            shown(), _template_line(error), Msg.of("template.refused", problem=problem)
        ) from None
    except RecursionError:
        raise TemplateProblem(shown(), None, Msg.of("template.recursion")) from None
    except TemplateNotFound as error:  # the template itself, or one it includes
        missing = error.name if isinstance(error.name, str) else name
        raise TemplateProblem(missing, None, Msg.of("template.not_found")) from None
    except TemplateSyntaxError as error:
        where = _shown(error.filename, name, lab_templates)
        problem = Msg.of("template.error", problem=_one_line(error.message or "syntax error"))
        raise TemplateProblem(where, error.lineno, problem) from None
    except (TemplateError, TypeError, ValueError) as error:  # ValueError: not UTF-8, too
        # many digits; TypeError: a filter given what it cannot take (`{{ x | mdlink }}`)
        problem = Msg.of("template.error", problem=_one_line(error))
        raise TemplateProblem(shown(), _template_line(error), problem) from None


def _refuse_conflict(lab_templates: Path | None, name: str) -> None:
    """A template with a git merge conflict left in it would copy the conflict into every
    new note (which lab then refuses to write): refused, at the conflict's line."""
    from mllm_lab.core.fm import conflict_in

    source = _template_source(lab_templates, name)  # read again by the renderer: a few KB
    line = conflict_in(source) if source is not None else None
    if line is not None:
        where = _shown(_template_path(folders(lab_templates), name), name, lab_templates)
        raise TemplateProblem(where, line, Msg.of("template.conflict"))


# --- templates of values, ifs and loops: rendered without Jinja --------------------------------

_TAG = pattern(r"\{[{%#]")  # where Jinja's lexer sees a tag begin
_SPACE = r"[ \t\n]*"  # the source is read with universal newlines, as Jinja's loader reads it
_GAP = r"[ \t\n]+"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_PATH = rf"{_NAME}(?:\.{_NAME})*"
_STRING = r"\"[^\"\\{}\n]*\"|'[^'\\{}\n]*'"  # no escapes, no braces, no newlines: read as written
_FILL = pattern(
    rf"\{{\{{{_SPACE}({_PATH})(?:{_GAP}or{_GAP}({_STRING})|((?:{_SPACE}\|{_SPACE}{_NAME})*))"
    rf"{_SPACE}\}}\}}"
)
_STATEMENT = pattern(
    rf"\{{%{_SPACE}(?:if{_GAP}(not{_GAP})?({_PATH})|for{_GAP}({_NAME}){_GAP}in{_GAP}({_PATH})"
    rf"|(else|endif|endfor)){_SPACE}%\}}\n?"  # trim_blocks: the newline after a tag goes
)
_BLANK = pattern(r"\s+")  # what lstrip_blocks takes from before a tag, as Jinja's lexer does
_FILTER_NAME = pattern(_NAME)
# names an expression does not take from the context: Jinja's constants, operators and the
# names it gives a meaning of its own
_NOT_FROM_CONTEXT = frozenset(
    {"true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if"}
    | {"else", "self", "super", "loop", "varargs", "kwargs", "caller"}
)
_PLAIN_VALUES = (str, int, float, date, type(None))
_TESTED_VALUES = (*_PLAIN_VALUES, list, tuple, dict)  # whose truth is Python's, as in Jinja
MAX_PLAIN_DEPTH = 8  # blocks inside one another: deeper, Jinja renders (or meets Python's limits)
MAX_PLAIN_STEPS = 200_000  # parts written and loop turns (about 0.1 s): more, Jinja renders
# within its time and size limits, and says so when they are passed


class _NotPlain(Exception):
    """A template, or a value in it, that plain_render leaves to Jinja."""


@dataclasses.dataclass
class _Block:
    kind: str  # "if" or "for" (the template itself: "for" with no name)
    path: str = ""
    name: str = ""  # the for loop's variable; for an if, "not" if negated
    body: list[Any] = dataclasses.field(default_factory=list)  # text, fills (tuples), blocks
    other: list[Any] | None = None  # an if's else part


def plain_render(lab_templates: Path | None, name: str, context: dict[str, Any]) -> str | None:
    """What `render` gives for a template made only of text, `{{ a.b }}` (or `{{ a | f }}`
    with lab's own filters, or `{{ a or "text" }}`), `{% if [not] a.b %}...{% else %}...{%
    endif %}` and `{% for x in a.b %}...{% endfor %}` over a list, such as the default paper
    note's, made without Jinja, whose import and compile are a fifth of a `lab new paper`;
    None for anything else, which Jinja renders (or refuses, with its own message): another
    tag or expression, a comment, whitespace control, a name the context lacks, an attribute
    a dict does not hold as a key, a value other than text, numbers, dates and None (and for
    an if or a loop, lists and dicts), a filter that fails, a file that does not read as
    UTF-8, blocks nested deeper than MAX_PLAIN_DEPTH, loops that would take more than
    MAX_PLAIN_STEPS or write past the limit (Jinja then refuses them in one line, in its time
    limit). tests/test_render.py holds the two equal on any text."""
    source = _template_source(lab_templates, name)
    if source is None:
        return None
    try:
        template = _parsed(source)
        parts: list[str] = []
        _write(template.body, [context], parts, _Budget(_limit(context), MAX_PLAIN_STEPS))
    except _NotPlain:
        return None
    return "".join(parts)


def _parsed(source: str) -> _Block:
    """The template's text, fills and blocks, its whitespace taken as Jinja's lexer takes it
    with trim_blocks and lstrip_blocks (tests/test_render.py compares the two)."""
    template = _Block("for")
    open_blocks = [template]
    at = 0
    line_starting = True  # the last tag ended a line (or there was none): see lstrip_blocks
    while (tag := _TAG.search(source, at)) is not None:
        text = source[at : tag.start()]
        fill = _FILL.match(source, tag.start())
        statement = None if fill else _STATEMENT.match(source, tag.start())
        if statement is not None:  # lstrip_blocks: the blanks before it on its line go
            line_start = text.rfind("\n") + 1
            if (line_start > 0 or line_starting) and _BLANK.fullmatch(text, line_start):
                text = text[:line_start]
        block = open_blocks[-1]
        parts = block.body if block.other is None else block.other
        parts.append(text)
        if fill is not None:
            filters = _FILTER_NAME.findall(fill[3] or "")
            if not _known(fill[1]) or any(name not in FILTERS for name in filters):
                raise _NotPlain
            parts.append((fill[1], fill[2], filters))
            at, line_starting = fill.end(), False
            continue
        if statement is None:
            raise _NotPlain
        negated, tested, name, listed, word = statement.groups()
        if not _known(tested or listed or "") or name in _NOT_FROM_CONTEXT:
            raise _NotPlain  # Jinja refuses `for loop in` even where it is never run
        if tested is not None or listed is not None:
            if len(open_blocks) > MAX_PLAIN_DEPTH:
                raise _NotPlain
            opened = (
                _Block("if", tested, "not" if negated else "")
                if tested is not None
                else _Block("for", listed, name)
            )
            parts.append(opened)
            open_blocks.append(opened)
        elif word == "else" and block.kind == "if" and block.other is None:
            block.other = []
        elif (word == "endif" and block.kind == "if") or (
            word == "endfor" and block.kind == "for" and len(open_blocks) > 1
        ):
            open_blocks.pop()
        else:
            raise _NotPlain
        at, line_starting = statement.end(), statement.group().endswith("\n")
    if len(open_blocks) > 1:
        raise _NotPlain
    template.body.append(source[at:])
    return template


@dataclasses.dataclass
class _Budget:
    chars: int  # characters the template may still write (see _limit)
    steps: int  # parts and loop turns left


def _write(parts: list[Any], scopes: list[dict[str, Any]], out: list[str], budget: _Budget) -> None:
    for part in parts:
        budget.steps -= 1
        if budget.steps < 0:
            raise _NotPlain
        if isinstance(part, str):
            written = part
        elif isinstance(part, tuple):
            written = _filled(part[0], part[1], part[2], scopes)
        elif part.kind == "if":
            value = _value(part.path, scopes)
            if not isinstance(value, _TESTED_VALUES):
                raise _NotPlain
            chosen = part.body if bool(value) != (part.name == "not") else part.other
            _write(chosen or [], scopes, out, budget)
            continue
        else:
            items = _value(part.path, scopes)
            if not isinstance(items, list | tuple):
                raise _NotPlain
            for item in items:
                _write(part.body, [*scopes, {part.name: item}], out, budget)
            continue
        budget.chars -= len(written)
        if budget.chars < 0:
            raise _NotPlain
        out.append(written)


def _known(path: str) -> bool:
    """Whether each name of `a.b.c` is one the context could hold (not Jinja's own)."""
    return not any(name in _NOT_FROM_CONTEXT for name in path.split("."))


def _value(path: str, scopes: list[dict[str, Any]]) -> Any:
    """What `a.b.c` is, as the sandbox's getattr finds it in dicts; _NotPlain where Jinja
    would find something else (a method, an attribute) or nothing."""
    first, *attributes = path.split(".")
    scope = next((scope for scope in reversed(scopes) if first in scope), None)
    if scope is None:
        raise _NotPlain
    value = scope[first]
    for attribute in attributes:
        if (
            type(value) is not dict
            or attribute.startswith("_")
            or hasattr(dict, attribute)
            or attribute not in value
        ):
            raise _NotPlain
        value = value[attribute]
    return value


def _filled(
    path: str, default: str | None, filters: list[str], scopes: list[dict[str, Any]]
) -> str:
    """What `{{ path or default }}` or `{{ path | filters }}` writes, as Jinja's finalize and
    str() make it; _NotPlain when Jinja should say it."""
    value = _value(path, scopes)
    if default is not None:
        if not isinstance(value, _TESTED_VALUES):
            raise _NotPlain
        value = value or default[1:-1]
    if not isinstance(value, _PLAIN_VALUES):
        raise _NotPlain
    for filter_name in filters:
        try:
            value = FILTERS[filter_name](value)
        except Exception:  # Jinja renders it again and says what went wrong
            raise _NotPlain from None
        if not isinstance(value, _PLAIN_VALUES):
            raise _NotPlain
    try:
        return str(_printable(value))
    except ValueError:  # an int of more digits than str() writes: Jinja says so
        raise _NotPlain from None


def _template_source(lab_templates: Path | None, name: str) -> str | None:
    """The template's text as Jinja's loaders find and read it (the lab's templates/, then
    lab's own), or None where they would not: Jinja says why."""
    where = _template_path(folders(lab_templates), name)
    if where is None:
        return None
    try:
        with open(where, encoding="utf-8") as stream:
            return stream.read()
    except (OSError, UnicodeDecodeError):
        return None


def _template_path(search: tuple[str, ...], name: str) -> str | None:
    """The file Jinja's loaders take for `name` (None: none, or a name they refuse)."""
    pieces = [piece for piece in name.split("/") if piece and piece != "."]
    if any(piece == ".." or os.sep in piece for piece in pieces):
        return None
    for folder in search:
        where = os.path.join(folder, *pieces)
        if os.path.isfile(where):
            return where
    return None


def _text_in(value: Any, depth: int = 0) -> int:
    """Characters of text in a template's context (strings in dicts, lists and dataclasses)."""
    if isinstance(value, str):
        return len(value)
    if depth > 8:
        return 0
    if isinstance(value, dict):
        return sum(_text_in(k, depth + 1) + _text_in(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return sum(_text_in(item, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_text_in(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return 0


def _limit(context: dict[str, Any]) -> int:
    """The most a template may write: MAX_OUTPUT beyond what it is given, each value counted
    twice (a title in the frontmatter and the heading). A big lab's own text (a review of
    50,000 notes) can never hit it; a template that loops or multiplies text still does."""
    return MAX_OUTPUT + 2 * _text_in(context)


def _bounded(chunks: Any, limit: int) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _TooBig(Msg.of("template.output", mb=-(-limit // 2**20)))
        parts.append(chunk)
    return "".join(parts)


def _time_limit(seconds: int) -> Any:
    """A deadline for rendering (POSIX, main thread only; elsewhere no limit)."""

    @contextlib.contextmanager
    def limit() -> Any:
        usable = (
            hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
        )
        if not usable:
            yield
            return

        def expire(signum: int, frame: Any) -> None:
            raise _TooBig(Msg.of("template.time", seconds=seconds))

        previous = signal.signal(signal.SIGALRM, expire)
        signal.alarm(seconds)
        try:
            yield
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)

    return limit()


def _template_line(error: BaseException) -> int | None:
    """The template line an error came from, read off the traceback Jinja rewrites."""
    tb = error.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
