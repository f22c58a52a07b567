"""Hand edits in the generated views. A status emoji changed in the papers table (⬜ -> ✅ on
GitHub) becomes that paper's status; any other edit inside a region stops every writing
command with `path:line`. To tell a tick from other edits, the body `lab` last wrote is kept
in .lab/regions/<sha> (the sha its begin marker records); without it (a fresh clone) the table
is compared, row by row, with what the notes give now. `lab sync --check` reports the same
problems without writing anything."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from mllm_lab import kinds
from mllm_lab.core import regions, views
from mllm_lab.core.markdown import split_row, unescape_cell
from mllm_lab.errors import DamagedRegion, HandEdited, Unrepairable
from mllm_lab.messages import Msg, tr
from mllm_lab.models import PAPERS_README, READING_LIST, STATUS_ALIASES, Finding, Note, Status
from mllm_lab.ops.views import (
    VIEWS,
    View,
    body,
    current,
    last_body,
    load_state,
    stored_bodies,
)
from mllm_lab.ops.workspace import Workspace

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData
    from mllm_lab.ops.transaction import Transaction


class Tick(NamedTuple):
    key: str
    status: Status
    line: int


def _status_cell(cell: str) -> Status | None:
    return STATUS_ALIASES.get(unescape_cell(cell).strip().lower())


def _first_difference(have: list[str], want: list[str]) -> int:
    for index, (a, b) in enumerate(zip(have, want, strict=False)):
        if a != b:
            return index
    return min(len(have), len(want))


def edited_line(region: regions.Region, want: str) -> int:
    """The line to name for a hand edit of `region`: its first line that differs from what
    lab wrote (`want`), or its begin marker when only the marker's sha was changed."""
    have = region.body.replace("\r\n", "\n")
    if have == want:
        return region.line
    return region.line + 1 + _first_difference(have.split("\n"), want.split("\n"))


def _row(line: str) -> list[str] | None:
    return split_row(line) if line.lstrip().startswith("|") else None


def _shape(line: str) -> str:
    return re.sub(r"[0-9]+", "#", line)


def hand_ticks(region: regions.Region, last: str | None, now: str, path: str) -> list[Tick]:
    """Status changes typed into the papers table by hand; HandEdited for any other edit.

    With `last`, the body lab wrote, lines are compared one by one. Without it (a fresh
    clone), rows are matched by key against `now`, what the notes give today: a row whose
    status alone differs is a tick; any other difference is refused, naming the row."""
    have = region.body.replace("\r\n", "\n").split("\n")
    if last is None:
        return _ticks_by_key(have=have, want=now.split("\n"), offset=region.line + 1, path=path)
    want = last.split("\n")
    offset = region.line + 1
    if len(have) != len(want):
        raise HandEdited(
            path, offset + _first_difference(have, want), Msg.of("region.rows_changed")
        )
    ticks = []
    for number, (line, wanted) in enumerate(zip(have, want, strict=True)):
        if line == wanted:
            continue
        cells, expected = _row(line), _row(wanted)
        status = _status_cell(cells[0]) if cells else None
        if (
            status is None
            or expected is None
            or len(cells or []) != len(expected)
            or (cells or [])[1:] != expected[1:]
        ):
            raise HandEdited(
                path, offset + number, Msg.of("region.line_changed", line=repr(line.strip()[:60]))
            )
        ticks.append(Tick(unescape_cell(expected[views.KEY_COLUMN]), status, offset + number))
    return ticks


def _ticks_by_key(have: list[str], want: list[str], offset: int, path: str) -> list[Tick]:
    rows = {}
    for line in want:
        cells = _row(line)
        if cells and len(cells) > views.KEY_COLUMN:
            rows[unescape_cell(cells[views.KEY_COLUMN])] = cells
    shapes = {_shape(line) for line in want if _row(line) is None}
    ticks = []
    for number, line in enumerate(have):
        cells = _row(line)
        if cells is None:
            if line.strip() and _shape(line) not in shapes and not line.startswith("### "):
                raise HandEdited(
                    path,
                    offset + number,
                    Msg.of("region.line_changed", line=repr(line.strip()[:60])),
                )
            continue
        key = unescape_cell(cells[views.KEY_COLUMN]) if len(cells) > views.KEY_COLUMN else ""
        expected = rows.get(key)
        if expected is None:
            if _shape(line) in shapes:  # the header and separator rows
                continue
            raise HandEdited(
                path, offset + number, Msg.of("region.line_changed", line=repr(line.strip()[:60]))
            )
        if cells == expected:
            continue
        status = _status_cell(cells[0])
        if status is None or cells[1:] != expected[1:]:  # anything but the status: refused
            raise HandEdited(path, offset + number, Msg.of("region.row_differs"))
        ticks.append(Tick(key, status, offset + number))
    return ticks


def _apply_ticks(tx: Transaction, ticks: list[Tick]) -> None:
    if not ticks:
        return
    from mllm_lab.core.papers import with_status
    from mllm_lab.ops.papers import refuse_broken, save_status

    for tick in ticks:
        paper = next((p for p in tx.data.papers if p.key == tick.key), None)
        if paper is None:
            raise HandEdited(PAPERS_README, tick.line, Msg.of("region.tick_unknown", key=tick.key))
        refuse_broken(paper.key, [paper])  # as `lab mark` does: its note or entry, path:line
        detail = tr(
            "tx.took_in",
            tx.ws.lang,
            path=PAPERS_README,
            line=tick.line,
            key=paper.key,
            status=tr(f"status.name.{tick.status.value}", tx.ws.lang),
        )
        save_status(tx, with_status(paper, tick.status, tx.ws.today), detail=detail)


def _regions_of(
    tx: Transaction,
    path: str,
    text: str,
    view: View | None = None,
    generated: Callable[[], Lists] | None = None,
) -> dict[str, regions.Region]:
    """The file's regions; with --repair, its damaged markers repaired first. A lost begin
    marker goes back above a body lab made (a view's, or `generated`: a note's list)."""
    try:
        return regions.parse(text, path)
    except DamagedRegion:
        if not tx.repair:
            raise
    # every region of the file: a damaged marker of another view sharing it is repaired too
    made = {v.region: body(tx.ws, tx.ws.data(), v) for v in VIEWS if v.path == path} if view else {}
    from mllm_lab.core.repair import repair

    lists = generated() if generated else None
    if view:
        known = [*made.values(), *stored_bodies(tx.ws)]
    else:
        known = lists.right_before_end(text) if lists else []
    names = [*(v.region for v in VIEWS), "done", "related"]  # every region lab writes
    notices = {name: tr(f"notice.{name}", tx.ws.lang) for name in names}
    fixed = repair(text, path, known, notices)
    refuse_copies(path, fixed.text, made)
    if lists:  # a list lab wrote left outside its markers would be written twice
        for written in (lists.last, lists.now):
            if written:
                refuse_copies(path, fixed.text, {lists.name: written})
    done = "; ".join(msg.render(tx.ws.lang) for msg in fixed.done)
    for removed in fixed.removed:
        done += "; " + tx.keep(path, removed)
    tx.write(path, fixed.text, detail=tr("repair.markers", tx.ws.lang, what=done))
    return regions.parse(fixed.text, path)


def refuse_copies(path: str, text: str, made: dict[str, str]) -> None:
    """Unrepairable when lab's lines of a region (`made`, its body now, by region name) would
    stay outside its markers and the view show twice: right next to the markers (a marker
    put back or moved to the wrong place), or anywhere in the file when the region is not
    there at all (both markers lost and the region not found)."""
    for name, wanted in made.items():
        line = displaced_line(text, name, wanted)
        if line is not None:
            what = Msg.of("region.copy_outside", name=name)
            raise Unrepairable(path, line, name, what)


def displaced_line(text: str, name: str, body: str) -> int | None:
    if regions.find_region(text, name) is None:
        return regions.copy_outside(text, body)
    return regions.displaced(text, name, body)


def _as_found(edit: HandEdited, as_found: str, marked: str, repaired: bool) -> HandEdited:
    """A hand edit found once markers were put back (`marked`), told at its line in the file
    as it is, for nothing is written. After a repair, `--force` alone would stop at the
    damaged markers: the remedy says `--repair --force`."""
    line = edit.line
    matcher = SequenceMatcher(None, as_found.split("\n"), marked.split("\n"), autojunk=False)
    for tag, first, _, second, second_end in matcher.get_opcodes():
        if tag == "equal" and second < edit.line <= second_end:
            line = edit.line - second + first
    remedy = Msg.of("remedy.repair_force") if repaired else edit.remedy
    return HandEdited(edit.path, line, edit.what, remedy)


def take_in(tx: Transaction, as_written: set[str]) -> None:
    """Read and validate every view but those `as_written` (byte for byte what lab wrote)
    before anything is written; take in ticks; refuse (or, with force, back up and
    regenerate) any other hand edit."""
    ws = tx.ws
    ticks: list[Tick] = []
    found: dict[str, str | None] = {}  # each file before any of its views: two may share one
    for view in VIEWS:
        if view.region in as_written and not tx.repair:
            continue
        as_found = found.setdefault(view.path, tx.read(view.path))
        if as_found is None:
            continue
        region = _regions_of(
            tx=tx, path=view.path, text=tx.read(view.path) or as_found, view=view
        ).get(view.region)
        text = tx.read(view.path) or as_found  # with its markers repaired, if they were
        repaired = text != as_found
        if region is None:  # both markers deleted: take back what lab wrote, ticks and all
            known = [body(ws, ws.data(), view), *stored_bodies(ws)]
            adopted = regions.adopt(
                text=text, name=view.region, bodies=known, notice=view.notice(ws.lang)
            )
            if adopted != text:
                tx.write(view.path, adopted)
                text = adopted
                region = regions.parse(adopted, view.path).get(view.region)
            else:  # not found as lab wrote it: a new region must not repeat an old copy
                refuse_copies(view.path, text, {view.region: known[0]})
        if region is None or not region.hand_edited:
            continue
        now = body(ws, ws.data(), view)
        refuse_copies(view.path, text, {view.region: now})  # an end marker moved into it
        last = last_body(ws, region.sha)
        try:
            if view.region != "papers":
                want = last if last is not None else now
                raise HandEdited(
                    view.path, edited_line(region, want), Msg.of("region.not_as_written")
                )
            ticks += hand_ticks(region=region, last=last, now=now, path=view.path)
        except HandEdited as edit:
            if not tx.force:
                raise (
                    edit if text == as_found else _as_found(edit, as_found, text, repaired)
                ) from None
            tx.write(view.path, text, detail=tx.keep(view.path, region.body))
    _apply_ticks(tx, ticks)
    if tx.repair:  # the generated lists of weekly logs and concept notes have markers too
        data = ws.data()
        for note in [*data.by_kind(kinds.WEEKLY), *data.by_kind(kinds.CONCEPT)]:
            log = tx.read(note.path)
            if log is not None and "<!-- lab:" in log:
                _regions_of(tx, note.path, log, generated=partial(_lists_of, ws, data, note))


class Lists(NamedTuple):
    """A note's generated list: its region's name, the list lab last wrote in the note (see
    ops.lists) and the one it would write now."""

    name: str
    last: str | None
    now: str

    def right_before_end(self, text: str) -> list[str]:
        """Those of the two that stand right before the region's end marker in `text`, each
        from the start of a line: what a lost begin marker goes back above."""
        text = "\n" + text.replace("\r\n", "\n")
        end = f"<!-- lab:end {self.name} "
        return [body for body in (self.last, self.now) if body and f"\n{body}{end}" in text]


def _lists_of(ws: Workspace, data: LabData, note: Note) -> Lists:
    """The list of a weekly log ("done this week") or a concept note (its related notes).
    Its lost begin marker goes back above the lines right before the end marker that are
    that list as lab last wrote it or would write it now; else right before the end marker,
    and the repair is refused while lab's list stays outside the markers. (Put back right
    before the end, it left lab's list outside the region as the user's, and `lab weekly`
    or `lab related --write` wrote the list a second time.) Any other line is the user's: a
    link written above the list, even one to a lab note, stays outside the region."""
    from mllm_lab.ops import lists

    if note.kind is kinds.CONCEPT:
        return Lists("related", lists.kept(ws, note.path), _related_now(ws, data, note))
    return Lists("done", lists.kept(ws, note.path), _done_now(ws, data, note))


def _related_now(ws: Workspace, data: LabData, note: Note) -> str:
    from mllm_lab.core.links import related_target
    from mllm_lab.ops.related import find, items, region_body

    known = {n.path for n in data.notes}
    asked = [p for e in note.related if (p := related_target(note.path, e, known))]
    found = find(ws, data, title=note.title, tags=note.tags, path=note.path)
    return region_body(items(note.path, [*asked, *(r.path for r in found)], data))


def _done_now(ws: Workspace, data: LabData, note: Note) -> str:
    from mllm_lab.core.weeks import parse_week
    from mllm_lab.errors import LabError

    try:
        week = parse_week(posixpath.basename(note.path).removesuffix(".md"))
    except LabError:  # a log not named by its week: lab made no list for it
        return ""
    from mllm_lab.ops.weekly import done_list

    return done_list(ws, data, week, note.path)


# --- lab sync --check ------------------------------------------------------------------------


def _view_problem(ws: Workspace, data: LabData, view: View) -> list[Finding]:
    """What is wrong with one view: missing, damaged markers, a hand edit, or stale."""
    if not ws.exists(view.path):
        return [Finding.of(view.path, 1, "check.missing_view")]
    text = ws.read(view.path)
    try:
        region = regions.parse(text, view.path).get(view.region)
    except DamagedRegion as damage:
        check, what = damage.check, damage.what
        return [Finding.of(view.path, damage.line, check, what=what, path=view.path)]
    made = body(ws, data, view)
    if region is None:  # both markers lost: what `lab sync` would make of the file
        adopted = regions.adopt(
            text=text,
            name=view.region,
            bodies=[made, *stored_bodies(ws)],
            notice=view.notice(ws.lang),
        )
        try:
            if adopted == text:
                refuse_copies(view.path, text, {view.region: made})
        except Unrepairable as refusal:
            name = view.region
            what = refusal.what
            return [Finding.of(view.path, refusal.line, "check.unrepairable", what=what, name=name)]
        return [Finding.of(view.path, 1, "check.stale")]  # `lab sync` puts the region back
    if region.hand_edited:
        line = regions.displaced(text, view.region, made)
        if line is not None:
            what = Msg.of("region.copy_outside", name=view.region)
            return [Finding.of(view.path, line, "check.unrepairable", what=what, name=view.region)]
        try:
            if view.region != "papers":
                last = last_body(ws, region.sha)
                at = edited_line(region, last if last is not None else made)
                raise HandEdited(view.path, at, Msg.of("region.not_as_written"))
            ticks = hand_ticks(
                region=region, last=last_body(ws, region.sha), now=made, path=view.path
            )
        except HandEdited as edit:
            return [
                Finding.of(
                    view.path, edit.line, "check.hand_edited", what=edit.what, remedy=edit.remedy
                )
            ]
        if ticks:
            return [Finding.of(view.path, t.line, "check.ticked", key=t.key) for t in ticks]
    if region.body.replace("\r\n", "\n") != made:
        return [Finding.of(view.path, region.line, "check.stale")]
    return []


def check(ws: Workspace) -> list[Finding]:
    """What `lab sync --check` reports, writing nothing: damaged markers, hand edits, papers
    whose note or list entry cannot be read, and stale views."""
    data = ws.data()
    found = [f for f in data.findings if f.path == READING_LIST or f.path.startswith("papers/")]
    fresh = current(ws, load_state(ws))
    for view in VIEWS:
        if view.region not in fresh:
            found += _view_problem(ws, data, view)
    return sorted(set(found), key=lambda f: (f.path, f.line, f.message))
