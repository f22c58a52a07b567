"""Frontmatter edited in place (see core.fm for reading and emitting it): only the value that
changed is rewritten; comments, key order, quoting and block scalars elsewhere stay byte for
byte, and an edit that cannot be made that way is refused, never re-emitted."""

from __future__ import annotations

from datetime import date
from typing import Any

from mllm_lab.core import fastyaml
from mllm_lab.core.fm import (
    BOM,
    CLOSE,
    FENCE,
    key_lines,
    load_yaml,
    refuse_aliases,
    scalar,
    yaml_kit,
)
from mllm_lab.errors import BrokenNote


class CannotEdit(Exception):
    """An in-place edit would not give exactly the expected mapping."""


def _pairs(fm_text: str, path: str) -> list[tuple[Any, Any]]:
    """(key node, value node) of each top-level key, from libyaml's own positions."""
    yaml, loader, _ = yaml_kit()
    refuse_aliases(fm_text, 2, path)
    node = yaml.compose(fm_text, Loader=loader)
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        raise BrokenNote(path, 2, "fm.not_mapping", kind=type(node).__name__)
    return list(node.value)


def comment_inside(span: str) -> bool:
    """A comment line, or a ` #` comment, among the lines of a value (a ` #` inside a quoted
    name counts too: such a value is refused, never damaged)."""
    return any(part.strip().startswith("#") or " #" in part for part in span.split("\n"))


def edit_mapping(text: str, updates: dict[str, Any], path: str, first_line: int = 1) -> str:
    """`text` (a YAML mapping) with the values of `updates` set: each changed value replaced
    where it stands, new keys appended. Raises CannotEdit if the result would not load back
    to exactly the old mapping plus the updates."""
    fast = plain_edit(text, updates)
    if fast is not None:
        return fast
    yaml = yaml_kit()[0]
    try:
        pairs = _pairs(text, path)
        before = load_yaml(text, path, first_line) or {}
    except yaml.YAMLError as error:
        raise CannotEdit(str(error)) from None
    if not isinstance(before, dict):
        raise CannotEdit("not a mapping")
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    newline = "\r\n" if "\r\n" in text else "\n"
    for key, value in updates.items():
        if key in before and before[key] == value and type(before[key]) is type(value):
            continue
        found = next((pair for pair in pairs if pair[0].value == key), None)
        new = scalar(value)
        if found is None:
            appended.append(block_field(key, value, indent="", newline=newline))
            continue
        key_node, value_node = found
        grown = list_growth(text, value_node, before.get(key), value, newline)
        if grown is not None:  # a block list gains items: new lines after its last one
            edits.append(grown)
            continue
        start, end = value_node.start_mark.index, value_node.end_mark.index
        inline = (
            isinstance(value_node, yaml.ScalarNode)
            and value_node.style in (None, "'", '"')
            and "\n" not in text[start:end]
        )
        if inline and start == end:  # `started:` with nothing after the colon
            colon = text.index(":", key_node.end_mark.index)
            edits.append((colon + 1, colon + 1, f" {new}"))
        elif inline:
            edits.append((start, end, new))
        else:  # a block scalar, a list or a mapping: the whole key is rewritten, up to
            # where its content ends: the comments after it are the user's; a comment
            # among its lines would be lost, so such a value is not edited
            end = content_end(value_node)
            if comment_inside(text[key_node.start_mark.index : end]):
                raise CannotEdit("a comment among its lines would be lost")
            tail = newline if text[start:end].endswith("\n") else ""
            edits.append((key_node.start_mark.index, end, f"{key}: {new}{tail}"))
    result = _applied(text, edits, appended, newline)
    try:
        after = load_yaml(result, path, first_line)
    except BrokenNote as problem:
        raise CannotEdit(problem.detail.render()) from None
    if after != {**before, **updates}:
        raise CannotEdit("the edited YAML would not load back as expected")
    return result


def plain_edit(text: str, updates: dict[str, Any]) -> str | None:
    """The edit edit_mapping makes, made without PyYAML (20 ms to import) for the plain YAML
    fastyaml reads: a one-line value replaced, a block list grown, a new key appended. None
    when the mapping or an edit is anything else: edit_mapping then takes PyYAML's way.
    tests/test_core_frontmatter.py holds the two to the same text."""
    parts = text.split("\n")
    lines = [part.rstrip("\r") for part in parts]
    before = fastyaml.load(lines)
    if before is None:
        return None
    starts = [0]
    for part in parts[:-1]:
        starts.append(starts[-1] + len(part) + 1)
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    for key, value in updates.items():
        old = before.get(key)
        if key in before and old == value and type(old) is type(value):
            continue
        if key not in before:
            appended.append(block_field(key, value, indent="", newline=newline))
            continue
        at = next(i for i, line in enumerate(lines) if top_key(line) == key)
        match = fastyaml.KEY_LINE.match(lines[at])
        if match is None or not lines[at].startswith(f"{key}:"):  # `key :`: PyYAML's way
            return None
        if isinstance(old, list) and isinstance(value, list):
            if not old or len(value) <= len(old) or value[: len(old)] != old:
                return None
            last = _last_item(lines, at)
            if last + 1 >= len(parts):
                return None
            ending = "\r\n" if parts[last].endswith("\r") else "\n"
            dash = " " * (len(lines[last]) - len(lines[last].lstrip(" ")))
            added = "".join(f"{dash}- {scalar(item)}{ending}" for item in value[len(old) :])
            edits.append((starts[last + 1], starts[last + 1], added))
            continue
        if isinstance(old, list) or not isinstance(value, str | int | date | None):
            return None
        raw = match[2]
        if raw is None:  # `key:` with nothing after the colon
            colon = starts[at] + lines[at].index(":")
            edits.append((colon + 1, colon + 1, f" {scalar(value)}"))
        elif (
            raw
            and raw == raw.rstrip(" \t")
            and "#" not in raw
            and "\t" not in lines[at][: match.start(2)]
        ):  # PyYAML rewrites `key:<tab>value` whole
            edits.append((starts[at] + match.start(2), starts[at] + match.end(2), scalar(value)))
        else:
            return None
    result = _applied(text, edits, appended, newline)
    after = fastyaml.load([line.rstrip("\r") for line in result.split("\n")])
    return result if after and after == {**before, **updates} else None  # {}: YAML reads null


def top_key(line: str) -> str | None:
    match = fastyaml.KEY_LINE.match(line)
    return match[1] if match else None


def _last_item(lines: list[str], at: int) -> int:
    """The line of the last item of the block list whose key is on line `at`."""
    last = at
    for index in range(at + 1, len(lines)):
        if fastyaml.ITEM_LINE.match(lines[index]):
            last = index
        elif lines[index].strip(" "):
            break
    return last


def _applied(
    text: str, edits: list[tuple[int, int, str]], appended: list[str], newline: str
) -> str:
    """`text` with each (start, end, new) edit made, then the `appended` fields at its end."""
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    if appended:
        if text and not text.endswith("\n"):
            text += newline
        text += newline.join(appended) + newline
    return text


def block_field(key: str, value: Any, indent: str, newline: str) -> str:
    """`key: value` for a new field; a list as a block list, one item a line (what fm.dump
    writes, and what a later change adds one line to)."""
    if isinstance(value, list | tuple) and value:
        items = newline.join(f"{indent}- {scalar(item)}" for item in value)
        return f"{indent}{key}:{newline}{items}"
    return f"{indent}{key}: {scalar(value)}"


def list_growth(
    text: str, node: Any, old: Any, new: Any, newline: str
) -> tuple[int, int, str] | None:
    """The edit that appends `new`'s extra items to the block list `node` (holding `old`) as
    lines in its own indentation; None unless `new` is `old` with items added at its end."""
    yaml = yaml_kit()[0]
    if not (isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value):
        return None
    if not (isinstance(old, list) and isinstance(new, list) and len(new) > len(old)):
        return None
    if new[: len(old)] != old:
        return None
    end = content_end(node)
    stop = text.find("\n", end)
    at = len(text) if stop < 0 else stop + 1
    lead = "" if stop >= 0 else newline
    if stop >= 0:  # the line ending of the list's own last line, in a file of mixed ones
        newline = "\r\n" if text[stop - 1 : stop] == "\r" else "\n"
    dash = " " * node.start_mark.column
    lines = "".join(f"{dash}- {scalar(item)}{newline}" for item in new[len(old) :])
    return (at, at, lead + lines)


def content_end(node: Any) -> int:
    """Where a node's own text ends. A block list or mapping's end mark lies after the
    comments that follow it; its last item's does not. A flow one ends at its bracket."""
    while isinstance(node.value, list) and node.value and not node.flow_style:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    return int(node.end_mark.index)


def _span(text: str) -> tuple[int, int] | None:
    """[start, end) of the frontmatter's own lines in `text`, fences excluded."""
    start = len(BOM) if text.startswith(BOM) else 0
    first_end = text.find("\n", start)
    if first_end < 0 or not FENCE.match(text[start:first_end].rstrip("\r")):
        return None
    offset = first_end + 1
    while offset < len(text):
        end = text.find("\n", offset)
        line = text[offset : end if end >= 0 else len(text)].rstrip("\r")
        if CLOSE.match(line):
            return first_end + 1, offset
        offset = end + 1 if end >= 0 else len(text)
    return None


def set_fields(text: str, updates: dict[str, Any], path: str = "<note>") -> str:
    """`text` with top-level frontmatter fields set, every other byte kept (the closing
    `...`, line endings, comments). A note whose frontmatter cannot be edited that way is
    refused with `path:line`, never rewritten."""
    span = _span(text)
    if span is None:
        raise BrokenNote(path, 1, "fm.none_to_edit")
    start, end = span
    try:
        edited = edit_mapping(text[start:end], updates, path, first_line=2)
    except CannotEdit as problem:
        lines = key_lines(text[start:end].replace("\r", "").split("\n"))
        line = min((lines[key] for key in updates if key in lines), default=2)
        raise BrokenNote(
            path, line, "fm.cannot_edit", fields=", ".join(updates), problem=str(problem)
        ) from None
    return text[:start] + edited + text[end:]
