"""The generated views (papers table, architecture comparison, README progress, notes index):
their bodies made from the data, regenerated at the end of every transaction, and a record
(.lab/views.json) of what each was last generated from, so an unchanged view is not even
regenerated. Two views may share a file (papers/README.md holds the table and the comparison).
Hand edits in them are ops/handedits.py's business."""

from __future__ import annotations

import contextlib
import json
import marshal
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from mllm_lab.errors import LabError
from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import tr
from mllm_lab.models import (
    CONNECTORS,
    LAB_README,
    NOTES_README,
    PAPERS_README,
    Status,
)
from mllm_lab.ops.workspace import Workspace
from mllm_lab.results import code_stamp
from mllm_lab.sha import sha1
from mllm_lab.state import prune_state, read_folder, read_state, write_state
from mllm_lab.walk import changed_ns, kind_of

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData
    from mllm_lab.ops.transaction import Transaction
    from mllm_lab.scan import Files

# The core's views, regions and roadmap are imported where a view is made or parsed: a no-op
# `lab sync`, whose views are all current, needs none of them.


class View(NamedTuple):
    region: str
    path: str
    template: str  # renders the whole file when it does not exist yet
    inputs: frozenset[str]  # the kinds of files its content is made from

    def notice(self, lang: str) -> str:
        return tr(f"notice.{self.region}", lang)


VIEWS = (
    View(
        region="papers",
        path=PAPERS_README,
        template="lab/papers-README.md.j2",
        inputs=frozenset({"paper", "reading-list"}),
    ),
    View(  # a second region of the same file, below the table
        region="compare",
        path=PAPERS_README,
        template="lab/papers-README.md.j2",
        inputs=frozenset({"paper", "reading-list"}),
    ),
    View(
        region="progress",
        path=LAB_README,
        template="lab/README.md.j2",
        inputs=frozenset({"paper", "reading-list", "concept"}),
    ),
    View(
        region="notes-index",
        path=NOTES_README,
        template="lab/notes-README.md.j2",
        inputs=frozenset({"concept"}),
    ),
)
STATE = "views.json"
BODIES = "regions"
Before = tuple["LabData", str]  # a lab, and the body a view made of it


def body(ws: Workspace, data: LabData, view: View, before: Before | None = None) -> str:
    """The view's body made from `data`. `before`: an earlier lab and the body made from it,
    which the view reuses where its papers or notes are the same."""
    from mllm_lab.core import views

    if view.region == "papers":
        earlier = (before[0].papers, before[1]) if before else None
        return views.papers_table(data.papers, ws.lang, PAPERS_README, before=earlier)
    if view.region == "compare":
        if before is not None and views.same_but_reading(before[0].papers, data.papers):
            return before[1]
        from mllm_lab.core.compare import compare_region
        from mllm_lab.core.facets import catalog_facets

        return compare_region(
            papers=data.papers, table=catalog_facets(), lang=ws.lang, readme=PAPERS_README
        )
    if view.region == "progress":
        return views.progress(data.papers, data.notes_by_stage(), ws.lang)
    earlier_notes = (before[0].notes, before[1]) if before else None
    return views.notes_index(data.notes, ws.lang, NOTES_README, before=earlier_notes)


def region_text(view: View, content: str, lang: str) -> str:
    from mllm_lab.core import regions

    return regions.render_region(view.region, content, notice=view.notice(lang)).rstrip("\n")


def lab_context(ws: Workspace, data: LabData) -> dict[str, Any]:
    """Everything the lab-level templates (README, CLAUDE.md, indexes) may use."""
    from mllm_lab.core.markdown import MARKERS
    from mllm_lab.core.roadmap import STAGES, TOPICS, category_name
    from mllm_lab.ops.sections import template_sections  # renders templates: only here

    lang = ws.lang
    made = {view.region: region_text(view, body(ws, data, view), lang) for view in VIEWS}
    return {
        "lab_name": ws.lab.config.name,
        "today": ws.today.isoformat(),
        "stages": [
            {"number": s.number, "name": s.name(lang), "topics": s.topics(lang)} for s in STAGES
        ],
        "topics": [{"key": t.key, "name": t.name(lang)} for t in TOPICS],
        "connectors": list(CONNECTORS),
        "categories": [{"key": c, "name": category_name(c, lang)} for c in CATEGORIES],
        "statuses": [
            {"value": s.value, "emoji": s.emoji, "name": tr(f"status.name.{s.value}", lang)}
            for s in Status
        ],
        "sections": template_sections(ws),
        "markers": list(MARKERS),
        "problems_heading": tr("section.weekly_problems", lang),
        "table": made["papers"],
        "compare": made["compare"],
        "progress": made["progress"],
        "index": made["notes-index"],
    }


# --- what lab last wrote -------------------------------------------------------------------


def stamp_of(ws: Workspace, relative: str) -> list[int] | None:
    try:
        st = ws.lab.path(relative).stat()
    except (OSError, LabError):
        return None
    return [changed_ns(st), st.st_size, st.st_ino]


def load_state(ws: Workspace) -> dict[str, Any]:
    try:
        state = json.loads(read_state(ws.lab.state, STATE) or b"{}")
    except (ValueError, RecursionError):
        return {}
    if not isinstance(state, dict):
        return {}
    views_state = state.get("views")
    if state.get("root") != str(ws.lab.root) or not isinstance(views_state, dict):
        return {}
    return {k: v for k, v in views_state.items() if isinstance(v, dict)}


def known_records(ws: Workspace) -> dict[str, str]:
    """The records digests (see records_of) of the kinds whose files have the stamps they had
    when the digests were last noted, by lab's same code: not worked out again."""
    try:
        state = json.loads(read_state(ws.lab.state, STATE) or b"{}")
        kinds = state["kinds"] if state.get("code") == code_stamp() else {}
        return {
            kind: records
            for kind, (stamps, records) in kinds.items()
            if stamps == ws.walked().stamps([kind]) and isinstance(records, str)
        }
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}


def untouched(ws: Workspace, state: dict[str, Any]) -> set[str]:
    """Views whose file is byte for byte what `lab` wrote there: the same stamp as last time
    or, failing that, the same content as last time or as one of the few times before (a
    `git checkout` of this or another branch wrote those bytes again)."""
    found = set()
    for view in VIEWS:
        kept = state.get(view.region, {})
        if kept.get("file") is None:
            continue
        same = kept["file"] == stamp_of(ws, view.path)
        if same or file_sha(ws, view.path) in {sha for _records, sha in _written(kept)}:
            found.add(view.region)
    return found


def _written(kept: dict[str, Any]) -> list[list[str]]:
    """[records, file sha] of what lab wrote last and, as `history` keeps them, before."""
    history = kept.get("history")
    pairs = [
        [kept.get("records"), kept.get("sha")],
        *(history if isinstance(history, list) else []),
    ]
    return [pair for pair in pairs if _pair(pair)]


def _pair(entry: Any) -> bool:
    return isinstance(entry, list) and len(entry) == 2 and all(isinstance(e, str) for e in entry)


HISTORY = 4  # (records, file sha) pairs kept per view: a few branches' worth
KEPT_PIECES = 4096  # piece digests kept: a few times what a 50,000-note lab has


def file_sha(ws: Workspace, relative: str) -> str | None:
    try:
        return sha1(ws.lab.path(relative).read_bytes()).hexdigest()
    except (OSError, LabError):
        return None


def inputs_of(ws: Workspace, view: View) -> str:
    """A digest of lab's code, the language and the stamp of every file the view is made
    from (the files of its input kinds, as walked): equal means the body would be the same."""
    stamps = ws.walked().stamps(view.inputs)
    return sha1(f"{code_stamp()}:{ws.lang}:{stamps}".encode()).hexdigest()


def content_key(ws: Workspace) -> str:
    """lab's code, the language and the index's content stamp (Workspace.content_stamp): equal
    means every view's body would be the same, whatever the files' stamps say."""
    return sha1(f"{code_stamp()}:{ws.lang}:{ws.content_stamp()}".encode()).hexdigest()


def records_of(
    ws: Workspace, view: View, made: dict[str, str], pieces: Pieces | None = None
) -> str:
    """A digest of what the index holds of the files the view is made from (their paths and
    parsed frontmatter, not their stamps): equal means the body would be the same, even after
    an edit of a note's body or a `git checkout`. `made`: the digests per kind so far;
    `pieces`: the digests of pieces of files worked out before (see _kind_digest)."""
    parts = []
    for kind in sorted(view.inputs):
        if kind not in made:
            made[kind] = _kind_digest(ws.files(), kind, pieces or Pieces())
        parts.append(f"{kind}={made[kind]}")
    return sha1(f"{code_stamp()}:{ws.lang}:{parts}".encode()).hexdigest()


@dataclass(eq=False, repr=False)
class Pieces:
    """The records digests of pieces of a kind's files, by a digest of their paths and stamps
    (and, for a file that does not read, what its record keeps from before): `known` as read
    from .lab/views.json, `used` those of this command, to keep."""

    known: dict[str, str] = field(default_factory=dict)
    used: dict[str, str] = field(default_factory=dict)


PIECE = 64  # a piece of a kind's files (in path order) ends after a path whose crc32 is a
# multiple of it: a file added or removed changes its own piece alone. Pieces vary in size
# (the 3,000 paper notes of the 10,000-note benchmark lab: 7 pieces of up to 1,663 at 256, 38
# of up to 266 at 64), and a changed file's whole piece is read again.


def _kind_digest(files: Files, kind: str, pieces: Pieces) -> str:
    """The records of every file of `kind`, in path order, digested a piece at a time: a
    piece whose files have the stamps they had is not digested again (a `lab mark` at 50,000
    notes digests some 64 of the 15,000 paper notes' records, and reads no other record)."""
    paths = sorted(files.by_kind().get(kind, ()))
    stamps = files.stamps(paths)
    digest = sha1()
    start = 0
    for at, path in enumerate(paths):
        if at == len(paths) - 1 or not zlib.crc32(path.encode("utf-8", "surrogatepass")) % PIECE:
            piece = slice(start, at + 1)
            digest.update(_piece_digest(files, kind, paths[piece], stamps[piece], pieces))
            start = at + 1
    return digest.hexdigest()


def _piece_digest(
    files: Files,
    kind: str,
    paths: list[str],
    stamps: list[tuple[int, int, int, bool]],
    pieces: Pieces,
) -> bytes:
    # a record made for a write before its file had a stamp (0) names no content
    stamped = all(stamp[0] for stamp in stamps)
    if not any(stamp[3] for stamp in stamps):  # the usual piece: no file in it is broken
        said: list[Any] = [kind, paths, stamps]
    else:
        said = [
            kind,
            paths,
            [
                [*stamp[:3], _plain(files.peek(path)[5:]) if stamp[3] else []]
                for path, stamp in zip(paths, stamps, strict=True)
            ],
        ]
    key = sha1(marshal.dumps(said, 2)).hexdigest() if stamped else None
    if key is not None and key in pieces.known:
        pieces.used[key] = pieces.known[key]
        return bytes.fromhex(pieces.known[key])
    made = sha1(marshal.dumps(paths, 2) + files.held(paths)).hexdigest()
    if key is not None:
        pieces.used[key] = made
    return bytes.fromhex(made)


@dataclass(eq=False, repr=False)
class Digests:
    """The records digests per kind (see records_of) and the pieces a command has worked out
    so far: `current` fills them before the transaction writes, and `remember` takes those of
    the kinds it did not write instead of working them out again (70 ms at 50,000 notes
    after a concept note was edited)."""

    made: dict[str, str] | None = None
    pieces: Pieces | None = None

    def kept(self, ws: Workspace) -> tuple[dict[str, str], Pieces]:
        if self.made is None:
            self.made = known_records(ws)
        if self.pieces is None:
            self.pieces = known_pieces(ws)
        return self.made, self.pieces


def known_pieces(ws: Workspace) -> Pieces:
    """The piece digests noted in .lab/views.json by lab's same code."""
    try:
        state = json.loads(read_state(ws.lab.state, STATE) or b"{}")
        kept = state.get("pieces") if state.get("code") == code_stamp() else None
        if isinstance(kept, dict):
            return Pieces({k: v for k, v in kept.items() if isinstance(v, str) and _sha1_hex(v)})
    except (ValueError, TypeError, AttributeError, RecursionError):
        pass
    return Pieces()


def _sha1_hex(text: str) -> bool:
    return len(text) == 40 and all(c in "0123456789abcdef" for c in text)


def _plain(value: Any) -> Any:
    """A digest just parsed (tuples) as the index keeps it (JSON: lists), so that both give
    one digest."""
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def state_stamp(ws: Workspace) -> list[Any]:
    """The stamps of the views' files and of what lab keeps about them (.lab/views.json and
    .lab/regions/): what `lab sync --check` reads besides the notes."""
    stamps: list[Any] = [stamp_of(ws, view.path) for view in VIEWS]
    for name in (STATE, BODIES):
        try:
            st = (ws.lab.state / name).stat()
            stamps.append([changed_ns(st), st.st_size, st.st_ino])
        except OSError:
            stamps.append(None)
    return stamps


def last_body(ws: Workspace, sha: str | None) -> str | None:
    from mllm_lab.core import regions

    raw = read_state(ws.lab.state, f"{BODIES}/{sha}") if sha and sha.isalnum() else None
    text = raw.decode("utf-8", "replace") if raw is not None else None
    return text if text is not None and regions.body_sha(text) == sha else None


def stored_bodies(ws: Workspace) -> list[str]:
    """Every region body lab still keeps (the last one of each view)."""
    return [data.decode("utf-8", "replace") for data in read_folder(ws.lab.state, BODIES)]


def keep_body(ws: Workspace, text: str) -> None:
    from mllm_lab.core import regions

    name = f"{BODIES}/{regions.region_sha(text)}"  # the same as body_sha for a view's body
    if not (ws.lab.state / name).is_file():  # kept already: not read (megabytes at 50,000)
        write_state(ws.lab.state, name, text)


# --- regenerating --------------------------------------------------------------------------


def stale(tx: Transaction, fresh: set[str] | None = None) -> list[View]:
    """The views this transaction must regenerate: all of them on repair; else those not
    current (see `current`; `fresh` is given those that are), those made from a kind of file
    it writes, and those it writes."""
    if tx.repair:
        return list(VIEWS)
    if fresh is None:
        fresh = current(
            tx.ws, tx.views_state, confirmed=tx.views_confirmed, digests=tx.views_digests
        )
    written = {kind_of(path) for path in tx.pending}
    return [
        view
        for view in VIEWS
        if view.region not in fresh or view.inputs & written or view.path in tx.pending
    ]


def regenerate(tx: Transaction) -> None:
    """The views from the data as the transaction leaves it; unchanged files are not written.
    A view that is current and made from nothing the transaction writes is left alone (and
    the lab's data is not even built when that is every view: the reading list, which every
    view checked when it was last written, has not changed since). A view that was current
    before the transaction is made again from its own body where the papers are the same."""
    ws = tx.ws
    fresh = (
        set()
        if tx.repair
        else current(ws, tx.views_state, confirmed=tx.views_confirmed, digests=tx.views_digests)
    )
    todo = stale(tx, fresh)
    tx.views_made = [view.region for view in todo]
    if not todo:
        return
    from mllm_lab.core import regions
    from mllm_lab.ops.papers import refuse_unreadable_list

    data = tx.data
    refuse_unreadable_list(data)
    written = set(tx.pending)  # before any view: a view file among them is not as lab wrote it
    reused = [view for view in todo if view.region in fresh and view.path not in written]
    # a region below another one of its file is taken now, from the file as it is, not
    # from the text made once the one above is replaced (megabytes to parse again)
    shared = {
        view.region: _earlier_body(tx, view)
        for view in reused
        if any(other.path == view.path for other in todo[: todo.index(view)])
    }
    context = None
    for view in todo:
        if view.region in shared:
            before = shared.pop(view.region)
        else:
            before = _earlier_body(tx, view) if view in reused else None
        made = body(ws, data, view, before=(ws.data(), before) if before else None)
        before = None  # megabytes at 50,000 notes: not kept while the file is made
        text = tx.read(view.path)
        if text is None:
            context = context or lab_context(ws, data)
            new = ws.render(f"{ws.lang}/{view.template}", context)
            if regions.find_region(new, view.region, view.path) is None:
                # a template of the lab's own without the view (or with it in a code block):
                # the region goes where a file's own would when its markers are gone
                new = regions.replace_region(
                    text=new, name=view.region, body=made, notice=view.notice(ws.lang)
                )
        else:
            if regions.find_region(text, view.region, view.path) is None:
                known = [body(ws, ws.data(), view), *stored_bodies(ws)]
                adopted = regions.adopt(
                    text=text, name=view.region, bodies=known, notice=view.notice(ws.lang)
                )
                if adopted == text:  # not found as lab wrote it: a new region must not repeat it
                    from mllm_lab.ops.handedits import refuse_copies

                    refuse_copies(view.path, text, {view.region: known[0]})
                text = adopted
            new = regions.replace_region(
                text=text, name=view.region, body=made, notice=view.notice(ws.lang), path=view.path
            )
        tx.write(view.path, new)
        tx.views_shas[view.region] = regions.region_sha(made)
        if not tx.dry_run:
            keep_body(ws, made)
        if not any(later.path == view.path for later in todo[todo.index(view) + 1 :]):
            tx.forget(view.path)  # nothing reads it again: the views are made
        text = new = made = ""  # megabytes each, not kept while the next view is made
    regions.forget_region_sha()


def _earlier_body(tx: Transaction, view: View) -> str | None:
    """The view's body as its file holds it, if lab wrote it so (its sha): the view was current
    before the transaction, so this is what its data made. (Another region of the same file
    may have been made again since; this one has not.)"""
    from mllm_lab.core import regions

    if view.region == "progress":
        return None
    try:
        region = regions.find_region(tx.read(view.path) or "", view.region, view.path)
    except (OSError, LabError):
        return None
    if region is None or region.sha is None or region.hand_edited:
        return None
    return region.body.replace("\r\n", "\n")


def current(
    ws: Workspace,
    state: dict[str, Any],
    confirmed: list[str] | None = None,
    digests: Digests | None = None,
) -> set[str]:
    """Views whose file is untouched since `lab` wrote it from the very same inputs: the
    same files by their stamps or, failing that, the same frontmatter by the index (those
    are added to `confirmed`: noting their stamps now spares the next command that check).
    `digests`: where the records digests worked out are kept (for `remember`)."""
    as_written = untouched(ws, state)
    digests = Digests() if digests is None else digests
    content: str | None = None
    found = set()
    for view in VIEWS:
        kept = state.get(view.region, {})
        if view.region not in as_written:
            continue
        last = kept.get("file") == stamp_of(ws, view.path) or (
            kept.get("sha") is not None and kept["sha"] == file_sha(ws, view.path)
        )  # the file lab wrote last, not an older one a checkout brought back
        if last and kept.get("data") == inputs_of(ws, view):
            found.add(view.region)
            continue
        if last and kept.get("content") is not None:  # the records, as the index stamps them
            content = content or content_key(ws)
            if kept["content"] == content:
                found.add(view.region)
                if confirmed is not None:
                    confirmed.append(view.region)
                continue
        made, pieces = digests.kept(ws)
        sha = kept["sha"] if last and kept.get("sha") is not None else file_sha(ws, view.path)
        if [records_of(ws, view, made, pieces), sha] in _written(kept):
            found.add(view.region)
            if confirmed is not None:
                confirmed.append(view.region)
    return found


def remember(tx: Transaction) -> None:
    """After a commit: what each view was generated from, so an unchanged view is not even
    regenerated, and which region bodies are worth keeping. Nothing to do when no view was
    regenerated, confirmed by their records or written: what lab knows of them still holds."""
    ws = tx.ws
    if (
        not tx.views_made
        and not tx.views_confirmed
        and not any(view.path in tx.pending for view in VIEWS)
    ):
        return
    made, pieces = known_records(ws), tx.views_digests.pieces or known_pieces(ws)
    # what `current` worked out before the transaction holds for the kinds it did not write
    written = {kind_of(path) for path in tx.pending} if not tx.dry_run else set()
    earlier = tx.views_digests.made or {}
    made.update({kind: records for kind, records in earlier.items() if kind not in written})
    before = load_state(ws)
    content = content_key(ws)
    state: dict[str, Any] = {"root": str(ws.lab.root), "code": code_stamp(), "views": {}}
    for view in VIEWS:
        kept = before.get(view.region, {})
        stamp = stamp_of(ws, view.path)
        # a file this command did not write, as lab last noted it: its sha and region are
        # those noted then (the notes index of a 50,000-note lab is 5 MB to read and parse)
        same = view.path not in tx.pending and stamp is not None and kept.get("file") == stamp
        sha = kept.get("sha") if same else None
        sha = sha if isinstance(sha, str) else file_sha(ws, view.path)
        region = kept.get("region") if same else None
        records = records_of(ws, view, made, pieces)
        earlier = kept.get("history")
        pairs = [[records, sha], *(e for e in earlier or [] if _pair(e))]
        state["views"][view.region] = {
            "data": inputs_of(ws, view),
            "content": content,
            "records": records,
            "file": stamp,
            "sha": sha,
            "region": region if isinstance(region, str) else _region_sha(tx, view),
            "history": [list(p) for p in dict.fromkeys(map(tuple, pairs))][:HISTORY],
        }
    state["kinds"] = {kind: [ws.walked().stamps([kind]), records] for kind, records in made.items()}
    # the pieces of this command first, then older ones (a kind not digested now keeps its own)
    digests = {**pieces.used, **{k: v for k, v in pieces.known.items() if k not in pieces.used}}
    state["pieces"] = dict(list(digests.items())[:KEPT_PIECES])
    write_state(ws.lab.state, STATE, json.dumps(state))
    keep = {noted["region"] for noted in state["views"].values() if noted["region"]}
    prune_state(ws.lab.state, BODIES, keep)


def _region_sha(tx: Transaction, view: View) -> str:
    """The sha in the begin marker of the view's region as its file now holds it ("": none,
    or the file does not read): the body lab keeps for it is not pruned."""
    from mllm_lab.core import regions

    written = tx.pending.get(view.path)
    sha = tx.views_shas.get(view.region)
    if sha is not None and (written is None or not tx.dry_run):
        return sha  # regenerate made the region so, and wrote it or found it so already
    with contextlib.suppress(OSError, LabError):
        text = written.text if written is not None and not tx.dry_run else tx.ws.read(view.path)
        region = regions.find_region(text, view.region, view.path)
        if region is not None and region.sha:
            return region.sha
    return ""


# --- lab sync ------------------------------------------------------------------------------


def sync(ws: Workspace, *, force: bool = False, repair: bool = False) -> Transaction:
    """`lab sync`: take in ticks (or repair markers), then regenerate every view."""
    with ws.transaction(force=force, repair=repair) as tx:
        pass
    return tx
