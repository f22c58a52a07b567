"""papers/reading-list.yaml: the papers that have no note yet. Read strictly (a shape `lab`
does not expect is refused with its line, never rewritten) and edited in place: a changed field,
an appended entry or a removed entry touch only their own lines, so comments, order and quoting
elsewhere stay byte for byte. Every edit is read back and compared before it is accepted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from mllm_lab.core import fastyaml, fm, fmedit
from mllm_lab.errors import BrokenNote
from mllm_lab.messages import Msg

PATH = "papers/reading-list.yaml"
HEADER = (
    "# Reading list: papers that have no note yet, with their status (unread/reading/read).\n"
    "# Written by `lab add paper` and `lab mark`; edit it by hand freely (comments are kept).\n"
    "# When a paper gets a note (`lab new paper KEY`), its entry moves into the note's frontmatter.\n"
)


class ReadingList(NamedTuple):
    text: str
    entries: list[dict[str, Any]]
    lines: list[int]  # 1-based line of each entry's `- `
    plain: bool = False  # read by read_plain: each entry's lines are YAML of their own


def text_of(entries: list[dict[str, Any]]) -> str:
    """A new reading list holding `entries`."""
    return HEADER + (fm.dump({"papers": entries}) if entries else "papers: []\n")


def _document(text: str) -> tuple[Any, Any]:
    """(the loaded data, the composed node) of the reading list."""
    data = fm.load_yaml(text, PATH) if text.strip() else None
    return data, _node(text) if data is not None else None


def _node(text: str) -> Any:
    """The composed node of a reading list that loads (where each entry's lines are)."""
    yaml, loader, _ = fm.yaml_kit()
    return yaml.compose(text, Loader=loader)


def read_plain(text: str) -> ReadingList | None:
    """The reading list as `lab` writes it, read without PyYAML: comment lines, one
    `papers:` line, then entries, each a `- ` line and lines indented by two spaces holding
    the plain fields the fast frontmatter reader takes (it gives what PyYAML gives). None
    for anything else, which PyYAML then reads."""
    if "\r" in text or "\t" in text:
        return None
    blocks: list[list[str]] = []
    lines: list[int] = []
    listed = False
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("- ") and listed:
            if not line[2:].strip(" "):
                return None  # an entry whose fields start on the next line
            blocks.append([line[2:]])
            lines.append(number)
        elif line.startswith("  ") and blocks:
            blocks[-1].append(line[2:])
        elif not line.strip(" ") or line.startswith("#"):
            continue
        elif line.rstrip(" ") == "papers:" and not listed:
            listed = True
        else:
            return None
    if not listed:
        return None
    entries = []
    for block in blocks:
        entry = fastyaml.load(block)
        if not entry:
            return None
        entries.append(entry)
    return ReadingList(text, entries, lines, plain=True)


def _entry_node(reading: ReadingList, index: int) -> Any:
    """The composed node of entry `index`, its marks where they are in the whole list. Of a
    list as lab writes it, only that entry's lines are composed (PyYAML's composer takes a
    quarter of a second for the list of a 10,000-note lab)."""
    if not reading.plain:
        return _papers_node(_node(reading.text))[1].value[index]
    text, lines = reading.text, reading.lines
    start = _line_start(text, lines[index])
    end = _line_start(text, lines[index + 1]) if index + 1 < len(lines) else len(text)
    head = "papers:\n"
    item = _papers_node(_node(head + text[start:end]))[1].value[0]
    yaml = fm.yaml_kit()[0]
    offset, line_offset = start - len(head), lines[index] - 2

    def moved(mark: Any) -> Any:
        return yaml.Mark(
            mark.name, mark.index + offset, mark.line + line_offset, mark.column, None, None
        )

    nodes = [item]
    while nodes:  # a node's marks are replaced, not changed: nodes may share a mark
        node = nodes.pop()
        node.start_mark, node.end_mark = moved(node.start_mark), moved(node.end_mark)
        if isinstance(node.value, list):
            for child in node.value:
                nodes += child if isinstance(child, tuple) else [child]
    return item


def _line_start(text: str, line: int) -> int:
    """Where 1-based `line` of `text` starts."""
    return len(text) - len(text.split("\n", line - 1)[-1])


def _papers_node(node: Any) -> Any:
    for key_node, value_node in node.value:
        if key_node.value == "papers":
            return key_node, value_node
    return None


def parse(text: str) -> ReadingList:
    """The reading list, or BrokenNote naming the line where its shape is not the expected one.
    (An edit's result is read back, then read again when it is written: the last few are
    remembered; each caller gets its own entries.)"""
    read = _READ.get(text)
    if read is None:
        read = _remember(_parse(text))
    return _own(read)


def _own(read: ReadingList) -> ReadingList:
    return ReadingList(read.text, [dict(e) for e in read.entries], list(read.lines), read.plain)


_READ: dict[str, ReadingList] = {}  # the last few lists read, by their text
_KEPT = 4


def _remember(read: ReadingList) -> ReadingList:
    if read.text not in _READ and len(_READ) >= _KEPT:
        del _READ[next(iter(_READ))]
    _READ[read.text] = read
    return read


def _edited(before: ReadingList, text: str, start: int, stop: int) -> ReadingList | None:
    """`text` read back, when it is `before.text` with its lines from `start` to `stop` (each
    where an entry's `- ` line begins, or the end) replaced, and both are lists as lab writes
    them (read_plain): the entries of the replaced lines read, the others taken as they were
    read, their lines moved. (Of such a list each entry is its own lines: those before
    `start` and from `stop` on read the same wherever they are.) None when that does not
    hold: the whole text is read."""
    old = before.text
    added = len(text) - len(old)
    end = stop + added
    if not before.plain or not 0 <= start <= stop <= len(old) or end < start:
        return None
    if text[:start] != old[:start] or text[end:] != old[stop:]:
        return None
    if not (_entry_starts(old, start) and _entry_starts(old, stop)):
        return None
    window = text[start:end]
    if window and (not window.startswith("- ") or not window.endswith("\n")):
        return None
    read = read_plain("papers:\n" + window) if window else ReadingList("", [], [], plain=True)
    if read is None:
        return None
    first = old.count("\n", 0, start) + 1  # the line `start` begins
    last = old.count("\n", start, stop) + first  # the line `stop` begins
    moved = text.count("\n", start, end) - (last - first)
    kept = [n for n, line in enumerate(before.lines) if line < first]
    after = [n for n, line in enumerate(before.lines) if line >= last]
    return ReadingList(
        text,
        [dict(before.entries[n]) for n in kept]
        + read.entries
        + [dict(before.entries[n]) for n in after],
        [before.lines[n] for n in kept]
        + [line - 2 + first for line in read.lines]
        + [before.lines[n] + moved for n in after],
        plain=True,
    )


def _entry_starts(text: str, at: int) -> bool:
    """An entry's `- ` line begins at `at` in a list read_plain read (where any such line is
    an entry's), or `at` is its end, after a last line break."""
    if at <= 0 or text[at - 1] != "\n":
        return False
    return at == len(text) or text.startswith("- ", at)


def _next_entry(text: str, at: int) -> int:
    """Where the entry after the one whose line begins at `at` begins, or the end."""
    found = text.find("\n- ", at)
    return len(text) if found < 0 else found + 1


def _parse(text: str) -> ReadingList:
    fast = read_plain(text)
    if fast is not None:
        return fast
    data, node = _document(text)
    if data is None:
        return ReadingList(text, [], [])
    if not isinstance(data, dict):
        raise BrokenNote(PATH, 1, "list.shape")
    found = _papers_node(node)
    if found is None:  # `Papers:` or any other key: not a reading list lab can read
        raise BrokenNote(
            PATH,
            fm.line_of(text, node.value[0][0].start_mark) + 1 if node.value else 1,
            "list.shape",
        )
    papers = data.get("papers")
    if papers is None:
        return ReadingList(text, [], [])
    assert found is not None
    key_node, value_node = found
    if not isinstance(papers, list):
        raise BrokenNote(PATH, fm.line_of(text, key_node.start_mark) + 1, "list.shape")
    lines = []
    for entry, item in zip(papers, value_node.value, strict=True):
        line = fm.line_of(text, item.start_mark) + 1
        if not isinstance(entry, dict):
            raise BrokenNote(PATH, line, "list.entry_shape")
        lines.append(line)
    return ReadingList(text, [dict(entry) for entry in papers], lines)


def _refuse(line: int, what: str) -> BrokenNote:
    return BrokenNote(PATH, line, "list.cannot_edit", what=Msg.of(f"list.{what}"))


def _check(
    text: str,
    expected: list[dict[str, Any]],
    line: int,
    what: str,
    edit: tuple[ReadingList, int, int] | None = None,
) -> ReadingList:
    """`text` read back, refused unless it holds `expected`. `edit`: the list it was made
    from and where its lines were replaced (_edited): only those are read again."""
    try:
        made = _READ.get(text) or (_edited(*edit[:1], text, *edit[1:]) if edit else None)
        after = _own(_remember(made)) if made is not None else parse(text)
    except BrokenNote:
        raise _refuse(line, what) from None
    if after.entries != expected:
        raise _refuse(line, what)
    return after


def set_fields(reading: ReadingList, index: int, updates: dict[str, Any]) -> ReadingList:
    """Entry `index` with `updates` applied (a None value removes that field)."""
    text = reading.text
    plain = _plain_fields(reading, index, updates)
    if plain is not None:
        result, entry = plain
        start = _line_start(text, reading.lines[index])
        expected = [*reading.entries[:index], entry, *reading.entries[index + 1 :]]
        replaced = (reading, start, _next_entry(text, start))
        return _check(
            text=result, expected=expected, line=reading.lines[index], what="update", edit=replaced
        )
    item = _entry_node(reading, index)
    line = reading.lines[index]
    entry = dict(reading.entries[index])
    yaml = fm.yaml_kit()[0]
    if not isinstance(item, yaml.MappingNode) or item.flow_style:
        raise _refuse(line, "flow_entry")
    pairs = {key.value: (key, value) for key, value in item.value}
    newline = "\r\n" if "\r\n" in text else "\n"
    column = item.value[0][0].start_mark.column if item.value else 2
    edits: list[tuple[int, int, str]] = []
    appended = []
    for key, value in updates.items():
        if entry.get(key) == value and (value is not None or key not in entry):
            continue
        if key in pairs:
            key_node, value_node = pairs[key]
            start = text.rfind("\n", 0, key_node.start_mark.index) + 1
            end = value_node.end_mark.index
            if value is None:  # remove the whole line of this field
                if start < item.start_mark.index or text[end : end + 1] not in ("\n", "\r", ""):
                    raise _refuse(line, "remove_field")
                stop = text.find("\n", end)
                edits.append((start, len(text) if stop < 0 else stop + 1, ""))
                entry.pop(key, None)
                continue
            s, e = value_node.start_mark.index, value_node.end_mark.index
            one_line = "\n" not in text[s:e]
            if isinstance(value_node, yaml.ScalarNode) and one_line:
                if s == e:
                    colon = text.index(":", key_node.end_mark.index)
                    edits.append((colon + 1, colon + 1, f" {fm.scalar(value)}"))
                else:
                    edits.append((s, e, fm.scalar(value)))
            elif grown := fmedit.list_growth(text, value_node, entry.get(key), value, newline):
                edits.append(grown)
            elif isinstance(value_node, yaml.SequenceNode) and isinstance(value, list):
                # a list (`history:`) becomes one flow line; _check proves it loads back.
                # It ends with its last item: the comments after it are the user's, and a
                # comment among its lines would be lost, so such a list is refused.
                stop = fmedit.content_end(value_node)
                if fmedit.comment_inside(text[key_node.start_mark.index : stop]):
                    raise _refuse(line, "block_value")
                edits.append((key_node.start_mark.index, stop, f"{key}: {fm.scalar(value)}"))
            else:
                raise _refuse(line, "block_value")
        elif value is not None:
            appended.append(fmedit.block_field(key, value, indent=" " * column, newline=newline))
        if value is not None:
            entry[key] = value
    result = text
    if appended:  # right after the entry's last line, not after comments that follow it
        last = item.value[-1][1] if item.value else item
        stop = result.find("\n", max(fmedit.content_end(last) - 1, item.start_mark.index))
        end = len(result) if stop < 0 else stop + 1
        if end > 0 and result[end - 1] != "\n":
            result = result[:end] + newline + result[end:]
            end += len(newline)
        edits.append((end, end, newline.join(appended) + newline))
    # from the end backwards; of two insertions at one place, the one listed first stays first
    order = sorted(range(len(edits)), key=lambda i: (edits[i][0], edits[i][1], i), reverse=True)
    for start, end, new in (edits[i] for i in order):
        result = result[:start] + new + result[end:]
    expected = [*reading.entries[:index], entry, *reading.entries[index + 1 :]]
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    edit = (reading, start, _next_entry(text, start)) if reading.plain else None
    return _check(text=result, expected=expected, line=line, what="update", edit=edit)


def _plain_fields(
    reading: ReadingList, index: int, updates: dict[str, Any]
) -> tuple[str, dict[str, Any]] | None:
    """The text set_fields makes, and the entry, made without PyYAML (10 ms to import, then
    composing the entry) for a list read_plain reads: the entry's own lines taken out, a
    one-line field removed where a value is None, the rest edited as frontmatter is (fmedit's
    plain edit: a value replaced, a block list grown, a field added) and put back two spaces
    in. None for anything else (a comment among the entry's lines, a list that is not only
    grown, a field on the entry's `- ` line removed), which PyYAML's way then does.
    tests/test_fast_paths.py holds the two to the same text."""
    if not reading.plain:
        return None
    entry = dict(reading.entries[index])
    text = reading.text
    start, lines, own = _entry_lines(reading, index)
    if own == len(lines):  # the file's last line, without its newline: PyYAML's way adds it
        return None
    if any(line.strip(" ") and not line.startswith("#") for line in lines[own:]):
        return None
    fields = [lines[0][2:], *(line[2:] for line in lines[1:own])]
    if not _bare(lines[1:own]):
        return None  # PyYAML's way adds a field before a comment that ends the entry
    wanted: dict[str, Any] = {}
    for key, value in updates.items():
        if value is not None:
            wanted[key] = value
        elif key in entry:  # the field's one line goes, as PyYAML's way takes it out
            at = next((i for i, line in enumerate(fields) if fmedit.top_key(line) == key), 0)
            below = fields[at + 1] if at + 1 < len(fields) else ""
            if at == 0 or below.startswith((" ", "-")):
                return None
            del fields[at]
            del entry[key]
    edited = fmedit.plain_edit("\n".join(fields) + "\n", wanted)
    if edited is None or fastyaml.load(edited.removesuffix("\n").split("\n")) != {
        **entry,
        **wanted,
    }:
        return None
    made = edited.removesuffix("\n").split("\n")
    block = "\n".join(["- " + made[0], *("  " + line for line in made[1:])])
    end = start + len("\n".join(lines[:own]))
    entry.update(wanted)
    return text[:start] + block + text[end:], entry


def append(reading: ReadingList, entry: dict[str, Any]) -> ReadingList:
    """The reading list with `entry` added at the end, in the file's own indentation."""
    return extend(reading, [entry])


def extend(reading: ReadingList, entries: Sequence[dict[str, Any]]) -> ReadingList:
    """The reading list with `entries` added at the end, in order, read back once (an import
    of many papers does not read the list once per paper). Into an empty list they go under
    its `papers:` key, wherever it is, the comment on that key's line kept."""
    if not entries:
        return reading
    text = reading.text
    newline = "\r\n" if "\r\n" in text else "\n"
    block = fm.dump(list(entries)).rstrip("\n").split("\n")
    if not reading.entries:
        data, node = _document(text)
        found = _papers_node(node) if node is not None and isinstance(data, dict) else None
        body = newline.join(["papers:", *block]) + newline
        if found is None:
            if not text.strip():
                result = HEADER.replace("\n", newline) + body
            else:
                result = text + ("" if text.endswith("\n") else newline) + body
        else:  # `papers:` or `papers: []`: rewrite just that key
            key_node, value_node = found
            start = text.rfind("\n", 0, key_node.start_mark.index) + 1
            end = value_node.end_mark.index
            stop = text.find("\n", end)
            comment = text[end : len(text) if stop < 0 else stop].rstrip("\r")  # `# none yet`
            body = newline.join([f"papers:{comment.rstrip()}", *block]) + newline
            result = text[:start] + body + ("" if stop < 0 else text[stop + 1 :])
        return _check(text=result, expected=list(entries), line=1, what="add")
    dash = _dash_of_first(reading)
    lines = [dash + item for item in block]
    result = text + ("" if text.endswith("\n") else newline) + newline.join(lines) + newline
    return _check(
        text=result,
        expected=[*reading.entries, *entries],
        line=text.count("\n") + 1,
        what="add",
        edit=(reading, len(text), len(text)),
    )


def _dash_of_first(reading: ReadingList) -> str:
    """The spaces before the first entry's `- `, when that line also holds its first key (as
    lab writes it: no YAML parser needed); else where PyYAML finds the entry's first key."""
    text, number = reading.text, reading.lines[0]
    lines = text.split("\n")
    # the entry's line as YAML counts lines: only where "\n" alone breaks them
    plain_breaks = not any(ch in text.replace("\r\n", "\n") for ch in "\r\x85\u2028\u2029")
    if plain_breaks and 0 < number <= len(lines):
        first_line = lines[number - 1]
        dash = first_line[: len(first_line) - len(first_line.lstrip(" "))]
        rest = first_line[len(dash) :]
        if rest.startswith("- ") and rest[2:].strip(" \r") and rest[2] != " ":
            return dash
    first = _papers_node(_node(reading.text))[1].value[0]
    line_start = reading.text.rfind("\n", 0, first.start_mark.index) + 1
    indent = reading.text[line_start : first.start_mark.index]
    return indent[: len(indent) - len(indent.lstrip(" "))]


def remove(reading: ReadingList, index: int) -> ReadingList:
    """The reading list without entry `index` (its lines deleted, nothing else)."""
    text = reading.text
    expected = [*reading.entries[:index], *reading.entries[index + 1 :]]
    own = _own_lines(reading, index)
    if own is not None:  # `lab new paper KEY`: PyYAML composed the whole list (0.25 s at 10k)
        start, stop = own
        return _check(
            text=text[:start] + text[stop:],
            expected=expected,
            line=reading.lines[index],
            what="remove",
            edit=(reading, start, stop),
        )
    items = _papers_node(_node(text))[1].value
    item = items[index]
    line = reading.lines[index]
    start = text.rfind("\n", 0, item.start_mark.index) + 1
    if not text[start : item.start_mark.index].strip().startswith("-"):
        raise _refuse(line, "remove")
    # up to the end of the line of its last value: comments after it belong to what follows
    last = item.value[-1][1] if getattr(item, "value", None) else item
    stop = text.find("\n", max(last.end_mark.index - 1, item.start_mark.index))
    end = len(text) if stop < 0 else stop + 1
    return _check(text=text[:start] + text[end:], expected=expected, line=line, what="remove")


def _own_lines(reading: ReadingList, index: int) -> tuple[int, int] | None:
    """Where entry `index` of a list read_plain reads lies, when its lines are all that lies
    between its `- ` line and the next entry (or the end, after a line break): its `- ` line
    and the two-space lines under it, no comment or blank line among or after them. None
    otherwise: PyYAML then says where its last value ends."""
    if not reading.plain:
        return None
    start, lines, own = _entry_lines(reading, index)
    if own != len(lines) - 1 or lines[-1] != "" or not _bare(lines[1:own]):
        return None
    return start, _next_entry(reading.text, start)


def _entry_lines(reading: ReadingList, index: int) -> tuple[int, list[str], int]:
    """Of entry `index` of a list read_plain reads: where its `- ` line starts, the lines
    from there to the next entry (or the end), and how many of them are its own (the `- `
    line and the two-space lines right after it, before any other line)."""
    start = _line_start(reading.text, reading.lines[index])
    lines = reading.text[start : _next_entry(reading.text, start)].split("\n")
    own = 1
    while own < len(lines) and lines[own].startswith("  "):
        own += 1
    return start, lines, own


def _bare(lines: list[str]) -> bool:
    """No blank line and no comment among an entry's own lines."""
    return all(line.strip(" ") and not line.lstrip(" ").startswith("#") for line in lines)


def find(reading: ReadingList, key: str) -> int | None:
    wanted = key.casefold()
    for index, entry in enumerate(reading.entries):
        if str(entry.get("key", "")).casefold() == wanted:
            return index
    return None
