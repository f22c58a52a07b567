"""Repairing damaged region markers (see core.regions): a lost end marker put back where the
body as lab last wrote it ends, a lost begin marker put back before the body it opened, a
duplicate or nested region taken apart; what is taken out is given back to be backed up."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from mllm_lab.core.regions import (
    NOTICE,
    Marker,
    body_sha,
    closest_block,
    edited_body,
    end_by_sha,
    markers,
    nearly,
    newline_of,
    offset_of,
    parse,
)
from mllm_lab.errors import DamagedRegion, MergeConflict, Unrepairable
from mllm_lab.messages import Msg


class Repair(NamedTuple):
    text: str
    done: list[Msg]  # what was done, one line each
    removed: list[str]  # generated text taken out from between markers (to back up)


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def repair(
    text: str,
    path: str = "<text>",
    bodies: Sequence[str] = (),
    notices: Mapping[str, str] | None = None,
) -> Repair:
    """Fix every damaged marker pair of `text` without touching a byte outside the markers.
    `bodies` are what a region's body may have been (lab's last one, what the data gives
    now): a lost begin marker goes back where such a body starts, with the notice `notices`
    gives its region (in the lab's language) or NOTICE."""
    done: list[Msg] = []
    removed: list[str] = []
    seen = {text}
    first: DamagedRegion | None = None  # lines are told as in the file as it is
    for _ in range(1000):  # each pass fixes one problem
        try:
            parse(text, path)
            return Repair(text, done, removed)
        except MergeConflict:  # which side to keep is the user's to say
            raise
        except DamagedRegion as damage:
            first = first or damage
            try:
                text, note, cut = _fix(text, damage, bodies, notices or {})
            except _Guess as guess:
                raise Unrepairable(path, first.line, damage.name, guess.what) from None
            if text in seen:  # one fix undoes another: no repair without a guess
                what = Msg.of("region.repair_cycle", name=damage.name)
                raise Unrepairable(path, first.line, damage.name, what) from None
            seen.add(text)
            done.append(Msg.of("repair.at", path=path, line=damage.line, what=note))
            removed += cut
    raise Unrepairable(path, 1, "", Msg.of("region.too_many"))


Fixed = tuple[str, Msg, list[str]]  # the new text, what was done, generated text removed


def _fix(
    text: str, damage: DamagedRegion, bodies: Sequence[str], notices: Mapping[str, str]
) -> Fixed:
    found = markers(text)
    marker = next(m for m in found if m.line == damage.line)
    end = next(
        (m for m in found if m.kind == "end" and m.name == marker.name and m.start > marker.start),
        None,
    )
    if damage.problem == "nested":
        if damage.outer != marker.name:  # the outer region may have lost its end (a ticked row)
            lost_end = _lost_end_of_outer(text, marker, found, bodies)
            if lost_end is not None:
                return lost_end
        return _fix_nested(text=text, marker=marker, end=end, outer=damage.outer)
    if damage.problem == "duplicate":
        return _fix_duplicate(text, marker, end, found)
    if damage.problem == "no-begin":
        notice = notices.get(marker.name, NOTICE)
        return _fix_no_begin(text=text, marker=marker, found=found, bodies=bodies, notice=notice)
    return _fix_no_end(text, marker, bodies)


def _fix_no_begin(
    text: str, marker: Marker, found: list[Marker], bodies: Sequence[str], notice: str = NOTICE
) -> Fixed:
    """An end without its begin: begin and end swapped (the begin comes later, alone), or the
    begin lost (put it back where a known body starts, else right before the end)."""
    swapped_ends = _fix_swapped_ends(text, marker, found)
    if swapped_ends is not None:
        return swapped_ends
    name = marker.name
    closed = _closed_before(found, marker)
    if closed is not None:
        return _fix_second_end(text, closed, marker, bodies)
    later = [m for m in found if m.name == name and m.start > marker.start]
    if later and later[0].kind == "begin" and not any(m.kind == "end" for m in later[1:]):
        begin = later[0]
        swapped = _swap_lines(text, marker, begin)
        return swapped, Msg.of("repair.swapped", name=name, first=marker.line, last=begin.line), []
    newline = newline_of(text)
    before = text[: marker.start].replace("\r\n", "\n")
    at = marker.start
    sha = ""  # of the body found: the region is as lab wrote it, or shows what was edited
    for body in bodies:
        wanted = body.replace("\r\n", "\n")
        first = len(before) - len(wanted)
        # from the start of a line: a body that ends a line of the user's is theirs
        if wanted and before.endswith(wanted) and (first == 0 or before[first - 1] == "\n"):
            at, sha = offset_of(text, first), f" sha={body_sha(wanted)}"
            break
    else:  # a body edited since (a hand tick): where nearly all its lines end the text
        for body in bodies:
            wanted = body.replace("\r\n", "\n")
            start = _near_suffix(before, wanted)
            if start is not None:
                at, sha = offset_of(text, start), f" sha={body_sha(wanted)}"
                break
    begin_text = f"<!-- lab:begin {name}{sha} · {notice} -->{newline}"
    note = "repair.begin_restored" if at != marker.start else "repair.no_begin"
    return text[:at] + begin_text + text[at:], Msg.of(note, name=name, line=_line_at(text, at)), []


def _lost_end_of_outer(
    text: str, marker: Marker, found: list[Marker], bodies: Sequence[str]
) -> Fixed | None:
    """A region that begins inside another: if the other's body as lab wrote it (edited a
    little: ticks) ends before this begin, the other lost its end marker there: put it back."""
    outer = [m for m in found if m.start < marker.start][-1]  # its begin: nothing in between
    if outer.kind != "begin":
        return None
    fixed, note, _ = _fix_no_end(text[: marker.start], outer, bodies)
    if note.name != "repair.end_restored":
        return None
    return fixed + text[marker.start :], note, []


def _closed_before(found: list[Marker], marker: Marker) -> tuple[Marker, Marker] | None:
    """The region of the same name closed before `marker`, an end with no begin of its own,
    when nothing stands between them: (its begin, its end)."""
    before = [m for m in found if m.start < marker.start]
    if len(before) < 2:
        return None
    begin, end = before[-2:]
    if begin.kind == "begin" and end.kind == "end" and begin.name == end.name == marker.name:
        return begin, end
    return None


def _fix_second_end(
    text: str, closed: tuple[Marker, Marker], marker: Marker, bodies: Sequence[str]
) -> Fixed:
    """Two end markers for one begin (a bad merge, an end pasted into the table): the one
    that leaves the body lab wrote (by its sha, or nearly a known body) is kept."""
    begin, first = closed
    if not text[first.stop : marker.start].strip():  # the end marker twice: one is enough
        return (
            _drop(text, marker),
            Msg.of("repair.stray_end", name=marker.name, line=marker.line),
            [],
        )
    whole = text[begin.stop : first.start] + text[first.stop : marker.start]
    part = text[begin.stop : first.start]

    def is_body(candidate: str) -> bool:
        candidate = candidate.replace("\r\n", "\n")
        if begin.sha is not None and body_sha(candidate) == begin.sha:
            return True
        lines = candidate.splitlines(keepends=True)
        return any(
            nearly(lines, body.replace("\r\n", "\n").splitlines(keepends=True)) for body in bodies
        )

    if is_body(whole) and not is_body(part):
        done = Msg.of("repair.stray_end", name=marker.name, line=first.line)
        return _drop(text, first), done, []
    if is_body(part) and not is_body(whole):
        done = Msg.of("repair.stray_end", name=marker.name, line=marker.line)
        return _drop(text, marker), done, []
    raise _Guess(Msg.of("region.two_ends", name=marker.name, first=first.line, last=marker.line))


class _Guess(Exception):
    """Markers that can be paired up more than one way, or none lab can tell."""

    def __init__(self, what: Msg) -> None:
        self.what = what


def _fix_swapped_ends(text: str, marker: Marker, found: list[Marker]) -> Fixed | None:
    """Two regions one after the other whose end markers were swapped (a bad merge):
    begin A, end B, begin B, end A. Each end goes back to its own region; the text between
    the two regions stays where it is, outside both."""
    opened: Marker | None = None
    for m in found:
        if m.start >= marker.start:
            break
        if m.kind == "begin":
            opened = m
        elif opened is not None and m.name == opened.name:
            opened = None
    after = [m for m in found if m.start > marker.start][:2]
    if opened is None or opened.name == marker.name or len(after) < 2:
        return None
    begin, end = after
    if not (begin.kind == "begin" and begin.name == marker.name):
        return None
    if not (end.kind == "end" and end.name == opened.name):
        return None
    fixed = _swap_lines(text, marker, end)
    note = Msg.of(
        "repair.ends_swapped", first=opened.name, second=marker.name, a=marker.line, b=end.line
    )
    return fixed, note, []


def _near_suffix(before: str, body: str) -> int | None:
    """Where `body` starts in `before` if `before` ends with it edited by hand a little (see
    `nearly`: ticked rows, a line written above the end marker); else None. Of several such
    starts, the one holding most of its lines."""
    lines, wanted = before.splitlines(keepends=True), body.splitlines(keepends=True)
    size = _near_size(len(lines), wanted, lambda size: lines[-size:])
    return None if size is None else len(before) - len("".join(lines[-size:]))


def _near_prefix(after: str, body: str) -> int | None:
    """Where `body` ends in `after` if `after` starts with it edited by hand a little (see
    `nearly`, read from the last line up); else None."""
    lines, wanted = after.splitlines(keepends=True), body.splitlines(keepends=True)
    size = _near_size(len(lines), wanted[::-1], lambda size: lines[:size][::-1])
    return None if size is None else len("".join(lines[:size]))


def _near_size(available: int, wanted: list[str], block: Callable[[int], list[str]]) -> int | None:
    """The size of the `block` (of `available` lines at most) that is nearly `wanted`."""
    count = len(wanted)
    if not count:
        return None
    allowed = max(1, count // 5)
    likeness = {
        size: nearly(block(size), wanted)
        for size in range(max(1, count - allowed), min(available, count + allowed) + 1)
    }
    return closest_block(count, likeness)


def _swap_lines(text: str, first: Marker, last: Marker) -> str:
    """`text` with the two marker lines exchanged, each line ending left where it was."""
    (one, one_eol), (other, other_eol) = _split_line(text, first), _split_line(text, last)
    return (
        text[: first.start]
        + other
        + one_eol
        + text[first.stop : last.start]
        + one
        + other_eol
        + text[last.stop :]
    )


def _split_line(text: str, marker: Marker) -> tuple[str, str]:
    """A marker's line and its line ending."""
    line = text[marker.start : marker.stop]
    content = line.rstrip("\r\n")
    return content, line[len(content) :]


def _drop(text: str, marker: Marker) -> str:
    return text[: marker.start] + text[marker.stop :]


def _fix_nested(text: str, marker: Marker, end: Marker | None, outer: str) -> Fixed:
    name = marker.name
    if name == outer:  # a second begin of the same region: drop it
        return _drop(text, marker), Msg.of("repair.second_begin", name=name), []
    if end is None:
        return _drop(text, marker), Msg.of("repair.stray_begin", name=name), []
    kept = text[: marker.start] + text[marker.stop : end.start] + text[end.stop :]
    done = Msg.of("repair.unnested", name=name, first=marker.line, last=end.line, outer=outer)
    return kept, done, []


def _fix_duplicate(text: str, marker: Marker, end: Marker | None, found: list[Marker]) -> Fixed:
    """A region a bad merge left more than once: every copy but one is removed at once (so
    each is named by its lines in the file as it is), never the one that holds hand edits
    (ticks); copies edited differently are refused, naming them, rather than one chosen."""
    if end is None:  # a stray begin after the region: it begins nothing
        return _drop(text, marker), Msg.of("repair.stray_begin", name=marker.name), []
    name = marker.name
    copies = _copies(found, name) or []
    if not any(begin is marker for begin, _ in copies):  # laid out otherwise: this copy goes
        copies = [(marker, end)]
        keeper = None
    else:

        def body(copy: tuple[Marker, Marker]) -> str:
            return text[copy[0].stop : copy[1].start].replace("\r\n", "\n")

        # as lab wrote it: its sha holds; a copy without one but the same body is no hand edit
        written = [copy for copy in copies if not edited_body(copy[0].sha, body(copy))]
        edited = [c for c in copies if c not in written and body(c) not in map(body, written)]
        if len(set(map(body, edited))) > 1:
            lines = ", ".join(str(b.line) for b, _ in edited)
            raise _Guess(Msg.of("region.copies_differ", name=name, lines=lines))
        keeper = edited[0] if edited else written[0] if written else copies[0]
    gone = [copy for copy in copies if copy is not keeper]
    kept, at = [], 0
    for begin, stop in gone:
        kept.append(text[at : begin.start])
        at = stop.stop
    kept.append(text[at:])
    lines = ", ".join(f"{begin.line}-{stop.line}" for begin, stop in gone)
    done = Msg.of("repair.duplicate", name=name, lines=lines)
    return "".join(kept), done, [text[begin.stop : stop.start] for begin, stop in gone]


def _copies(found: list[Marker], name: str) -> list[tuple[Marker, Marker]] | None:
    """The copies of region `name`, when its markers are begin, end, begin, end… (None when
    they are not laid out so)."""
    mine = [m for m in found if m.name == name]
    kinds = [m.kind for m in mine]
    if len(mine) % 2 or kinds != ["begin", "end"] * (len(mine) // 2):
        return None
    return list(zip(mine[::2], mine[1::2], strict=True))


def _fix_no_end(text: str, marker: Marker, bodies: Sequence[str] = ()) -> Fixed:
    """Put the end marker back where the region lab wrote ended (its sha says where, or,
    after a hand tick, where nearly all of a known body's lines end), or right after the
    begin marker when that cannot be known."""
    newline = newline_of(text)
    end_text = f"<!-- lab:end {marker.name} -->{newline}"
    at = end_by_sha(text, marker)
    if at is None:
        after = text[marker.stop :].replace("\r\n", "\n")
        for body in bodies:
            stop = _near_prefix(after, body.replace("\r\n", "\n"))
            if stop is not None:
                at = offset_of(text, len(text[: marker.stop].replace("\r\n", "\n")) + stop)
                break
    if at is None:
        return (
            text[: marker.stop] + end_text + text[marker.stop :],
            Msg.of("repair.end_added", name=marker.name),
            [],
        )
    if at == len(text) and text and not text.endswith("\n"):
        end_text = newline + end_text
    done = Msg.of("repair.end_restored", name=marker.name, line=_line_at(text, at))
    return text[:at] + end_text + text[at:], done, []
