"""`lab weekly`: the week's log, made from its template with a generated "done this week"
list, or that list alone brought up to date. Apart from ops/notes.py, which imports the
paper lookups and the related-notes search that a weekly log does not need."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mllm_lab.core import fm, regions, views
from mllm_lab.errors import HandEdited
from mllm_lab.messages import Msg, tr
from mllm_lab.models import Week
from mllm_lab.ops import lists
from mllm_lab.ops.workspace import Created, Outcome, Workspace

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData


def done_body(ws: Workspace, data: Callable[[], LabData], week: Week) -> str:
    """The week's "done" list, made from the lab's records alone (titles, dates, statuses):
    kept while they are what they were, so a `lab weekly` run again after notes' bodies
    were written does not build the lab's data (`data` is asked for only to make it)."""

    def compute() -> str:
        return done_list(ws, data(), week, week.log_path)

    return ws.cached("done", compute, week.name, ws.lang, records_only=True)


def done_list(ws: Workspace, lab: LabData, week: Week, log_path: str) -> str:
    """The week's "done" list made now, its links relative to `log_path`."""
    return views.done_this_week(
        week=week,
        papers=lab.papers,
        notes=lab.notes_created(week.monday, week.sunday),
        experiments=lab.experiments,
        lang=ws.lang,
        log_path=log_path,
    )


def weekly_context(ws: Workspace, week: Week, done: str) -> dict[str, Any]:
    meta = {"week": week.name, "start": week.monday, "end": week.sunday, "created": ws.today}
    return {
        "frontmatter": fm.dump(meta),
        "week": week.name,
        "monday": week.monday.isoformat(),
        "sunday": week.sunday.isoformat(),
        "done": regions.render_region("done", done, notice=tr("notice.done", ws.lang)).rstrip("\n"),
        "today": ws.today.isoformat(),
    }


def weekly(ws: Workspace, week: Week, *, dry_run: bool = False) -> Created:
    """Create the week's log, or refresh only its generated "done" list."""
    path = week.log_path
    with ws.transaction(dry_run=dry_run) as tx:
        done = done_body(ws, lambda: tx.data, week)
        if not dry_run:  # what to say of the lab's problems, while it is as last read (a
            ws.shown_findings()  # new log adds none: see Transaction._adds_no_findings)
        old = tx.read(path)
        if old is None:
            text = ws.render(f"{ws.lang}/weekly.md.j2", weekly_context(ws, week, done))
            tx.create(path, text)
            _keep(ws, path, done, dry_run)
            return Created(path, text, tx.outcomes)
        region = regions.parse(old, path).get("done")
        if region is None:
            tx.outcomes.append(Outcome(path, "kept", tr("tx.no_done_region", ws.lang)))
            return Created(path, old, tx.outcomes)
        if region.hand_edited and not lists.is_labs(ws, path, region.body, done):
            if _only_lines_of(region.body, done):  # some of lab's lines deleted, none written
                line, what, remedy = (
                    _first_missing(region.body, done),
                    "weekly_deleted",
                    "weekly_deleted",
                )
            else:
                line, what, remedy = _first_changed(region.body), "weekly_text", "weekly"
            raise HandEdited(
                path=path,
                line=region.line + 1 + line,
                what=Msg.of(f"region.{what}"),
                remedy=Msg.of(f"remedy.{remedy}"),
            )
        new = regions.replace_region(
            text=old, name="done", body=done, notice=tr("notice.done", ws.lang), path=path
        )
        tx.write(path, new)
        _keep(ws, path, done, dry_run)
    return Created(path, new, tx.outcomes)


def _keep(ws: Workspace, path: str, done: str, dry_run: bool) -> None:
    if not dry_run:
        lists.keep(ws, path, done)


def _only_lines_of(body: str, done: str) -> bool:
    """The region holds lines of lab's list alone, fewer of them: lines were deleted."""
    lab = set(done.split("\n"))
    return all(line in lab for line in body.replace("\r\n", "\n").split("\n") if line.strip())


def _first_missing(body: str, done: str) -> int:
    """The line of the region where the first line of lab's list that is not there was."""
    have, want = body.replace("\r\n", "\n").split("\n"), done.split("\n")
    return next(
        (n for n, (a, b) in enumerate(zip(have, want, strict=False)) if a != b), len(have) - 1
    )


def _first_changed(body: str) -> int:
    """Where a hand edit in a generated list most likely is: its first non-list line."""
    for number, line in enumerate(body.replace("\r\n", "\n").split("\n")):
        if line.strip() and not line.lstrip().startswith("- "):
            return number
    return 0
