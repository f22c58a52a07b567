"""What goes in and out of a lab in other tools' formats: `lab import bibtex` (a .bib file
from Zotero, Better BibTeX or a project's README), `lab export bibtex` (papers to cite) and
`lab export anki` (the cards, for Anki). The planning, the BibTeX and the package are made by
pure code (core.bibtex, anki); here they meet the lab. The import writes only through the
transaction; an export reads the lab and writes one file, atomically, wherever it is asked to,
replacing only a file that an earlier export wrote unless --force."""

from __future__ import annotations

import errno
import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mllm_lab import storage
from mllm_lab.errors import BadInput, BrokenNote
from mllm_lab.models import READING_LIST, Paper
from mllm_lab.ops.workspace import Outcome, Workspace
from mllm_lab.sha import sha1

# The BibTeX side (bibtexparser, the resolver, the reading list's editing) is imported by the
# functions that use it: `lab export anki` does without it (60 ms of imports).
if TYPE_CHECKING:
    from mllm_lab.anki import Renders
    from mllm_lab.core.bibtex import Action, Planned, Problem
    from mllm_lab.ops.transaction import Transaction

# The first line of every .bib file `lab export bibtex -o` writes: such a file may be written
# anew without --force (it is lab's own output); any other existing file is the user's.
BIB_HEADER = "% Exported by `lab export bibtex` (mllm-lab); edit the papers in the lab, not here."
BIB_SHA = "% sha: "  # the second line: a fingerprint of the rest, so a later export sees a hand edit


def _bib_sha(rest: str) -> str:
    return sha1(rest.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def read_input(path: Path, shown: str) -> str:
    """A file named on the command line, as text; a missing one is one clear line."""
    try:
        return storage.read_text(path, shown)
    except FileNotFoundError:
        raise BadInput("export.no_file", path=shown) from None
    except PermissionError:
        raise BadInput("export.unreadable", path=shown) from None


# --- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Imported:
    plan: list[Planned]
    problems: list[Problem]  # what could not be read in the file, each at its line
    outcomes: list[Outcome]

    def count(self, action: Action) -> int:
        return sum(planned.action is action for planned in self.plan)


def import_bibtex(ws: Workspace, path: Path, shown: str, *, dry_run: bool) -> Imported:
    """Every entry of the file planned against the lab (create, update or skip, with the
    reason), then applied in one transaction; a dry run plans and writes nothing."""
    from mllm_lab.catalog import catalog  # parses the catalog's YAML: only when asked
    from mllm_lab.core.bibtex import parse_bibtex, plan_import
    from mllm_lab.core.fm import conflict_in
    from mllm_lab.ops.papers import refuse_unreadable_list

    text = read_input(path, shown)
    conflict = conflict_in(text)
    if conflict is not None:  # both sides' entries would be imported, or half of each
        raise BrokenNote(shown, conflict, "yaml.conflict")
    entries, problems = parse_bibtex(text)
    with ws.transaction(dry_run=dry_run) as tx:
        refuse_unreadable_list(tx.data)
        plan = plan_import(entries, tx.data.papers, today=ws.today, catalog=catalog())
        _apply(tx, plan)
    return Imported(plan, problems, tx.outcomes)


def _changed_fields(planned: Planned) -> dict[str, Any]:
    """The frontmatter (or reading-list) values of the fields an update changes."""
    paper = planned.paper
    assert paper is not None
    values = {field: getattr(paper, field) for field in planned.changes}
    if "authors" in values:
        values["authors"] = list(paper.authors)
    return values


def _apply(tx: Transaction, plan: Sequence[Planned]) -> None:
    from mllm_lab.core import fmedit, readinglist
    from mllm_lab.core.bibtex import Action
    from mllm_lab.ops.papers import list_entry, reading_list

    listed = reading_list(tx)
    before = listed.text
    # The new papers first, in one edit at the end of the list: an update names a paper the
    # lab had before (the plan finds no other), and a refusal names a line as it is on disk.
    created = [p.paper for p in plan if p.action is Action.CREATE and p.paper is not None]
    listed = readinglist.extend(listed, [list_entry(paper) for paper in created])
    for planned in plan:
        paper = planned.paper
        if planned.action is not Action.UPDATE or paper is None:
            continue
        if paper.note:
            text = tx.read(paper.note)
            if text is None:
                raise BrokenNote(paper.note, 1, "error.gone")
            tx.write(paper.note, fmedit.set_fields(text, _changed_fields(planned), paper.note))
        else:
            index = readinglist.find(listed, paper.key)
            if index is None:
                raise BrokenNote(READING_LIST, 1, "error.gone")
            listed = readinglist.set_fields(listed, index, _changed_fields(planned))
    if listed.text != before:
        tx.write(READING_LIST, listed.text)


# --- export --------------------------------------------------------------------------------


def chosen_papers(
    ws: Workspace,
    *,
    keys: Sequence[str],
    status: str | None,
    stage: int | None,
    left_out: list[Paper] | None = None,
) -> list[Paper]:
    """The papers to cite: those the keys name (through the one resolver, in the order given),
    else all of them in roadmap order; then only those of `status` and `stage`. A paper whose
    note or list entry does not read is not cited (its row is its last known one, or only what
    reads): named by a key it is refused with that file's `path:line`, else left out (and put
    in `left_out`, for the command to say)."""
    from mllm_lab.core.papers import parse_status
    from mllm_lab.core.resolve import resolve_one
    from mllm_lab.core.views import roadmap_order
    from mllm_lab.ops.papers import refuse_broken

    papers = ws.data().papers
    if keys:
        for key in keys:
            refuse_broken(key, papers)
        chosen = list({(p := resolve_one(key, papers)).key: p for key in keys}.values())
    else:
        chosen = sorted(papers, key=roadmap_order)
    wanted = parse_status(status) if status else None
    kept = [
        paper
        for paper in chosen
        if (wanted is None or paper.status is wanted) and (stage is None or paper.stage == stage)
    ]
    if left_out is not None:
        left_out += [paper for paper in kept if paper.problem]
    return [paper for paper in kept if not paper.problem]


def bibtex_text(papers: Sequence[Paper]) -> str:
    from mllm_lab.core.bibtex import export_bibtex

    rest = f"\n{export_bibtex(papers)}" if papers else ""
    return f"{BIB_HEADER}\n{BIB_SHA}{_bib_sha(rest)}\n{rest}"


def bibtex_export(
    ws: Workspace, *, keys: Sequence[str], status: str | None, stage: int | None
) -> tuple[int, str, list[list[str]]]:
    """How many papers `lab export bibtex` cites, its text, and [key, problem] of each paper
    it leaves out (its note or list entry does not read): made from the papers' records
    alone, so kept by what the index holds (an export asked for again builds no lab data)."""

    def compute() -> list[Any]:
        left_out: list[Paper] = []
        papers = chosen_papers(ws, keys=keys, status=status, stage=stage, left_out=left_out)
        said = [[paper.key, str(paper.problem)] for paper in left_out]
        return [len(papers), bibtex_text(papers), said]

    count, text, left = ws.cached("bibtex", compute, list(keys), status, stage, records_only=True)
    return count, text, left


def write_bibtex(path: Path, shown: str, text: str, *, force: bool) -> None:
    """The export written to `path` at once (temp file, fsync, rename); through a symlink to
    the file it names (renamed over, the link would become a file, its target left as it was)."""
    path = through_link(path, shown)
    check_target(path, shown, force=force, ours="bib")
    storage.write_atomic(path, text, shown=shown)


def through_link(path: Path, shown: str) -> Path:
    """The file a symlink names (followed to the end, made if it is missing), or `path`
    itself; an empty name, or a loop of links, is refused."""
    if not shown:
        raise BadInput("export.no_name")
    if not path.is_symlink():
        return path
    try:
        return Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:  # a link to a file not made yet: made where it points
        return Path(os.path.realpath(path))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise BadInput("export.link_loop", path=shown) from None
        raise BadInput("export.bad_link", path=shown, problem=storage.reason_of(error)) from None


def check_target(path: Path, shown: str, *, force: bool, ours: str) -> None:
    """An export may replace a file lab exported before; any other existing file needs
    --force (it may be the user's own .bib or .apkg)."""
    if path.is_dir():
        raise BadInput("export.folder", path=shown)
    if path.exists() and not path.is_file():  # a pipe would block the read below; a device
        raise BadInput("export.not_a_file", path=shown)  # would be replaced, --force or not
    if not path.exists() or force:
        return
    if ours == "bib":
        try:
            lines = path.read_text("utf-8", errors="replace").split("\n", 2)
        except OSError:
            lines = []
        if lines and lines[0].rstrip("\r").lstrip("\ufeff") == BIB_HEADER:  # an editor's BOM
            said = lines[1].rstrip("\r") if len(lines) == 3 else ""
            if said == BIB_SHA + _bib_sha(lines[2]):
                return
            # an export edited since (or made before exports had a fingerprint)
            raise BadInput("export.edited", path=shown)
    elif ours == "apkg" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            if "collection.anki2" in archive.namelist():
                return
    raise BadInput("export.exists", path=shown)


# --- Anki ----------------------------------------------------------------------------------


def export_anki(ws: Workspace, path: Path, shown: str, *, force: bool) -> Any:
    """Every card of the lab in an Anki package at `path` (anki.Exported); None when the lab
    has no card yet (nothing is written). The cards come from the columns `lab quiz --json`
    keeps, one at a time, their texts read as they are written; when an id is taken twice,
    from every card of the notes (anki.plan keeps the first of each id in its own order)."""
    import time

    from mllm_lab import anki
    from mllm_lab.cores import paused_gc
    from mllm_lab.ops.cardtext import DamagedText
    from mllm_lab.ops.quiz import Filter, card_columns, package_cards

    target = through_link(path, shown)
    if path.suffix.lower() != ".apkg":
        raise BadInput("anki.bad_suffix", path=shown)
    if target.suffix.lower() != ".apkg":  # a link named .apkg to a file that is not
        raise BadInput("anki.link_suffix", path=shown, target=str(target))
    path = target
    check_target(path, shown, force=force, ours="apkg")
    renders = _kept_renders(ws)
    # 100,000 objects at 50,000 notes that hold no cycles: the collector's passes over them
    # took a fifth of the time
    with paused_gc():
        for anew in (False, True):
            kept, store = card_columns(ws, Filter(), anew=anew)
            ws.forget()  # the columns hold all the package needs: the lab's data goes
            if not kept["id"]:
                return None
            cards = package_cards(kept, store)
            if cards is None:
                break
            try:
                done = anki.export_planned(
                    cards, (), path, lang=ws.lang, timestamp=time.time(), renders=renders
                )
            except DamagedText:
                continue
            _keep_renders(ws, renders)
            return done
        done = _export_every_card(ws, path, renders)
        _keep_renders(ws, renders)
        return done


def _export_every_card(ws: Workspace, path: Path, renders: Renders) -> Any:
    import time

    from mllm_lab import anki
    from mllm_lab.ops.cards import lab_cards

    found = lab_cards(ws)
    ws.forget()
    return anki.export(found.cards, path, lang=ws.lang, timestamp=time.time(), renders=renders)


ANKI_HTML = "anki-html.bin"  # in .lab/: the fields markdown-it rendered (anki.Renders)


def _kept_renders(ws: Workspace) -> Renders:
    """What earlier exports rendered (anki.Renders), if this code and these markdown-it
    packages rendered it."""
    from mllm_lab import anki
    from mllm_lab.caches import load_cache

    kept = load_cache(ws.lab, ANKI_HTML) if ws.use_index else {}
    made = kept.get("html")
    if kept.get("made") != anki.renderer_stamp() or not isinstance(made, dict):
        made = {}
    return anki.Renders(made)


def _keep_renders(ws: Workspace, renders: Renders) -> None:
    """The renders this export used, for the next one (when they are not those kept)."""
    from mllm_lab import anki
    from mllm_lab.caches import save_cache

    if ws.use_index and renders.changed():
        kept = {"made": anki.renderer_stamp(), "html": renders.used}
        save_cache(ws.lab, ANKI_HTML, kept, shaped=True)
