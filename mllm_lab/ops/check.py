"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mllm_lab.ops.views import state_stamp

if TYPE_CHECKING:
    from mllm_lab.models import Finding
    from mllm_lab.ops.workspace import Workspace

Problem = list[Any]  # [path, line, message]: a Finding as `lab check` shows it


def lint(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> list[Problem]:
    """Every problem, sorted, as [path, line, message]; kept while nothing it was made from
    changed: the lab's files, its templates, the views and what lab knows of them, and
    whether each file a link points to outside the notes is still there (or still missing)."""
    root = ws.lab.root

    def compute() -> dict[str, Any]:
        looked: dict[str, bool] = {}
        found = _lint(ws, progress, looked)
        return {
            "problems": [[f.path, f.line, f.message] for f in found],
            "looked": sorted(looked.items()),
        }

    def still(value: dict[str, Any]) -> bool:
        return all((root / path).exists() == there for path, there in value["looked"])

    made = ws.cached("check", compute, ws.templates_stamp(), state_stamp(ws), valid=still)
    return made["problems"]  # type: ignore[no-any-return]


def _lint(
    ws: Workspace, progress: Callable[[int, int], None] | None, looked: dict[str, bool]
) -> list[Finding]:
    from mllm_lab import kinds
    from mllm_lab.core.check import check as check_notes
    from mllm_lab.core.notebook import notebook_problem
    from mllm_lab.core.papers import status_problems
    from mllm_lab.models import Finding
    from mllm_lab.ops.handedits import check as view_check
    from mllm_lab.ops.sections import headings

    data = ws.data()
    required = {kind: headings(ws, kind) for kind in kinds.KINDS if kind.sections_required}
    walked = {found[0] for found in ws.walked().found}

    def exists(relative: str) -> bool:  # the notes the walk found exist; others are looked at
        if relative in walked:
            return True
        if relative not in looked:
            looked[relative] = (ws.lab.root / relative).exists()
        return looked[relative]

    details = ws.each_detail(note.path for note in data.notes)
    found = check_notes(data, details=details, required=required, exists=exists)
    found.update(Finding(path, 1, message) for path, message in ws.problems)
    found.update(
        f for paper in data.papers if not paper.problem for f in status_problems(paper, ws.today)
    )
    notebooks = [e.path for e in data.experiments]
    for number, path in enumerate(notebooks, start=1):
        problem = notebook_problem(ws.read(path))
        if problem:
            found.add(Finding(path, *problem))
        if progress:
            progress(number, len(notebooks))
    found.update(view_check(ws))
    return sorted(found, key=lambda f: (f.path, f.line, f.message))
