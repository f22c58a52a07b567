"""The generated views (papers table, README progress, notes index): validated and taken in at
the start of every transaction, regenerated at its end, and checked by `lab sync --check`.

The one kind of hand edit with a meaning is a status emoji changed in the papers table (⬜ ->
✅ on GitHub): it becomes that paper's status. To tell a tick from other edits, the body
`lab` last wrote is kept in .lab/regions/<sha> (the sha its begin marker records); without it
(a fresh clone) the table is compared with what the data gives now."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mllm_lab import __version__, kinds
from mllm_lab.core import regions, views
from mllm_lab.core.labdata import LabData
from mllm_lab.core.markdown import split_row, unescape_cell
from mllm_lab.core.papers import with_status
from mllm_lab.core.roadmap import STAGES, TOPICS, category_name
from mllm_lab.errors import DamagedRegion, HandEdited, LabError
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import Msg, tr
from mllm_lab.models import (
    LAB_README,
    NOTES_README,
    PAPERS_README,
    READING_LIST,
    STATUS_ALIASES,
    Finding,
    Status,
)
from mllm_lab.ops.papers import refuse_unreadable_list, save_status
from mllm_lab.ops.sections import template_sections
from mllm_lab.ops.workspace import Workspace
from mllm_lab.storage import prune_state, read_state, write_state

if TYPE_CHECKING:
    from mllm_lab.ops.transaction import Transaction


@dataclass(frozen=True)
class View:
    region: str
    path: str
    template: str  # renders the whole file when it does not exist yet
    inputs: frozenset[str]  # the kinds of files its content is made from

    def notice(self, lang: str) -> str:
        return tr(f"notice.{self.region}", lang)


VIEWS = (
    View(
        "papers",
        PAPERS_README,
        "lab/papers-README.md.j2",
        frozenset({"paper", "reading-list"}),
    ),
    View(
        "progress",
        LAB_README,
        "lab/README.md.j2",
        frozenset({"paper", "reading-list", "concept"}),
    ),
    View(
        "notes-index",
        NOTES_README,
        "lab/notes-README.md.j2",
        frozenset({"concept"}),
    ),
)
STATE = "views.json"
BODIES = "regions"


def body(ws: Workspace, data: LabData, view: View) -> str:
    if view.region == "papers":
        return views.papers_table(data.papers, ws.lang, PAPERS_README)
    if view.region == "progress":
        return views.progress(data.papers, data.notes, ws.lang)
    return views.notes_index(data.notes, ws.lang, NOTES_README)


def region_text(view: View, content: str, lang: str) -> str:
    return regions.render_region(view.region, content, notice=view.notice(lang)).rstrip("\n")


def lab_context(ws: Workspace, data: LabData) -> dict[str, Any]:
    """Everything the lab-level templates (README, CLAUDE.md, indexes) may use."""
    lang = ws.lang
    made = {view.region: region_text(view, body(ws, data, view), lang) for view in VIEWS}
    return {
        "lab_name": ws.lab.config.name,
        "today": ws.today.isoformat(),
        "stages": [
            {"number": s.number, "name": s.name(lang), "topics": s.topics(lang)} for s in STAGES
        ],
        "topics": [{"key": t.key, "name": t.name(lang)} for t in TOPICS],
        "categories": [{"key": c, "name": category_name(c, lang)} for c in CATEGORIES],
        "statuses": [
            {"value": s.value, "emoji": s.emoji, "name": tr(f"status.name.{s.value}", lang)}
            for s in Status
        ],
        "sections": template_sections(ws),
        "table": made["papers"],
        "progress": made["progress"],
        "index": made["notes-index"],
    }


# --- what lab last wrote -------------------------------------------------------------------


def _stamp(ws: Workspace, relative: str) -> list[int] | None:
    try:
        st = ws.lab.path(relative).stat()
    except (OSError, LabError):
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _load_state(ws: Workspace) -> dict[str, Any]:
    try:
        state = json.loads(read_state(ws.lab.state, STATE) or b"{}")
    except ValueError:
        return {}
    views_state = state.get("views") if isinstance(state, dict) else None
    if state.get("root") != str(ws.lab.root) or not isinstance(views_state, dict):
        return {}
    return {k: v for k, v in views_state.items() if isinstance(v, dict)}


def _untouched(ws: Workspace, state: dict[str, Any]) -> set[str]:
    """Views whose file is byte for byte what `lab` last wrote there (same stamp)."""
    return {
        view.region
        for view in VIEWS
        if state.get(view.region, {}).get("file") is not None
        and state[view.region]["file"] == _stamp(ws, view.path)
    }


def _inputs(ws: Workspace, view: View) -> str:
    """A hash of the version, language and every input file's stamp: equal means the view's
    body would be the same."""
    digest = hashlib.sha1(f"{__version__}:{ws.lang}".encode())
    for path, record in ws.files().items():
        if record.kind in view.inputs:
            digest.update(
                f"{path}\t{record.mtime_ns}\t{record.size}\t{record.inode}\n".encode(
                    "utf-8", "surrogatepass"
                )
            )
    return digest.hexdigest()


def _last_body(ws: Workspace, sha: str | None) -> str | None:
    raw = read_state(ws.lab.state, f"{BODIES}/{sha}") if sha and sha.isalnum() else None
    text = raw.decode("utf-8", "replace") if raw is not None else None
    return text if text is not None and regions.body_sha(text) == sha else None


def _keep_body(ws: Workspace, text: str) -> None:
    name = f"{BODIES}/{regions.body_sha(text)}"
    if read_state(ws.lab.state, name) is None:
        write_state(ws.lab.state, name, text)


# --- taking in hand edits ------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
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
        return _ticks_by_key(have, now.split("\n"), region.line + 1, path)
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
    for tick in ticks:
        paper = next((p for p in tx.data.papers if p.key == tick.key), None)
        if paper is None:
            raise HandEdited(PAPERS_README, tick.line, Msg.of("region.tick_unknown", key=tick.key))
        detail = tr(
            "tx.took_in",
            tx.ws.lang,
            path=PAPERS_README,
            line=tick.line,
            key=paper.key,
            status=tr(f"status.name.{tick.status.value}", tx.ws.lang),
        )
        save_status(tx, with_status(paper, tick.status, tx.ws.today), detail=detail)


def _regions_of(tx: Transaction, path: str, text: str) -> dict[str, regions.Region]:
    try:
        return regions.parse(text, path)
    except DamagedRegion:
        if not tx.repair:
            raise
    fixed = regions.repair(text, path)
    done = "; ".join(msg.render(tx.ws.lang) for msg in fixed.done)
    for removed in fixed.removed:
        done += "; " + tx.keep(path, removed)
    tx.write(path, fixed.text, detail=tr("repair.markers", tx.ws.lang, what=done))
    return regions.parse(fixed.text, path)


def take_in(tx: Transaction) -> None:
    """Read and validate every view before anything is written; take in ticks; refuse (or,
    with force, back up and regenerate) any other hand edit."""
    ws = tx.ws
    state = _load_state(ws)
    untouched = _untouched(ws, state)
    tx.views_state = state
    ticks: list[Tick] = []
    for view in VIEWS:
        if view.region in untouched and not tx.repair:
            continue
        current = tx.read(view.path)
        if current is None:
            continue
        region = _regions_of(tx, view.path, current).get(view.region)
        if region is None or not region.hand_edited:
            continue
        last = _last_body(ws, region.sha)
        try:
            if view.region != "papers":
                have = region.body.replace("\r\n", "\n").split("\n")
                want = (last if last is not None else body(ws, ws.data(), view)).split("\n")
                at = region.line + 1 + _first_difference(have, want)
                raise HandEdited(view.path, at, Msg.of("region.not_as_written"))
            ticks += hand_ticks(region, last, body(ws, ws.data(), view), view.path)
        except HandEdited:
            if not tx.force:
                raise
            tx.write(view.path, current, detail=tx.keep(view.path, region.body))
    _apply_ticks(tx, ticks)
    if tx.repair:  # the generated lists of weekly logs have markers too
        for note in ws.data().by_kind(kinds.WEEKLY):
            text = tx.read(note.path)
            if text is not None and "<!-- lab:" in text:
                _regions_of(tx, note.path, text)


# --- regenerating --------------------------------------------------------------------------


def regenerate(tx: Transaction) -> None:
    """Every view from the data as the transaction leaves it; unchanged files are not written."""
    ws = tx.ws
    if not tx.pending and not tx.repair and len(_current(ws, tx.views_state)) == len(VIEWS):
        return
    data = tx.data
    refuse_unreadable_list(data)
    context = None
    for view in VIEWS:
        made = body(ws, data, view)
        text = tx.read(view.path)
        if text is None:
            context = context or lab_context(ws, data)
            new = ws.render(f"{ws.lang}/{view.template}", context)
        else:
            new = regions.replace_region(text, view.region, made, view.notice(ws.lang), view.path)
        tx.write(view.path, new)
        if not tx.dry_run:
            _keep_body(ws, made)


def _current(ws: Workspace, state: dict[str, Any]) -> set[str]:
    """Views whose file is untouched since `lab` wrote it from the very same inputs."""
    untouched = _untouched(ws, state)
    return {
        view.region
        for view in VIEWS
        if view.region in untouched and state.get(view.region, {}).get("data") == _inputs(ws, view)
    }


def remember(tx: Transaction) -> None:
    """After a commit: what each view was generated from, so an unchanged view is not even
    regenerated, and which region bodies are worth keeping."""
    ws = tx.ws
    state = {
        "root": str(ws.lab.root),
        "views": {
            view.region: {"data": _inputs(ws, view), "file": _stamp(ws, view.path)}
            for view in VIEWS
        },
    }
    write_state(ws.lab.state, STATE, json.dumps(state))
    keep = set()
    for view in VIEWS:
        with contextlib.suppress(OSError, LabError):
            region = regions.find_region(ws.read(view.path), view.region, view.path)
            if region is not None and region.sha:
                keep.add(region.sha)
    prune_state(ws.lab.state, BODIES, keep)


# --- lab sync ------------------------------------------------------------------------------


def _view_problem(ws: Workspace, data: LabData, view: View) -> list[Finding]:
    """What is wrong with one view: missing, damaged markers, a hand edit, or stale."""
    if not ws.exists(view.path):
        return [Finding.of(view.path, 1, "check.missing_view")]
    try:
        region = regions.parse(ws.read(view.path), view.path).get(view.region)
    except DamagedRegion as damage:
        return [Finding.of(view.path, damage.line, "check.damaged", what=damage.what)]
    made = body(ws, data, view)
    if region is not None and region.hand_edited:
        try:
            if view.region != "papers":
                raise HandEdited(view.path, region.line, Msg.of("region.not_as_written"))
            ticks = hand_ticks(region, _last_body(ws, region.sha), made, view.path)
        except HandEdited as edit:
            return [
                Finding.of(
                    view.path, edit.line, "check.hand_edited", what=edit.what, remedy=edit.remedy
                )
            ]
        if ticks:
            return [Finding.of(view.path, t.line, "check.ticked", key=t.key) for t in ticks]
    if region is None or region.body.replace("\r\n", "\n") != made:
        return [Finding.of(view.path, region.line if region else 1, "check.stale")]
    return []


def check(ws: Workspace) -> list[Finding]:
    """What `lab sync --check` reports, writing nothing: damaged markers, hand edits, papers
    whose note or list entry cannot be read, and stale views."""
    data = ws.data()
    found = [f for f in data.findings if f.path == READING_LIST or f.path.startswith("papers/")]
    current = _current(ws, _load_state(ws))
    for view in VIEWS:
        if view.region not in current:
            found += _view_problem(ws, data, view)
    return sorted(set(found), key=lambda f: (f.path, f.line, f.message))


def sync(ws: Workspace, *, force: bool = False, repair: bool = False) -> Transaction:
    """`lab sync`: take in ticks (or repair markers), then regenerate every view."""
    with ws.transaction(force=force, repair=repair) as tx:
        pass
    return tx
