"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

from collections.abc import Callable

from mllm_lab import kinds
from mllm_lab.core.check import check as check_notes
from mllm_lab.core.notebook import notebook_problem
from mllm_lab.core.papers import status_problems
from mllm_lab.models import Finding
from mllm_lab.ops.handedits import check as view_check
from mllm_lab.ops.quiz import card_problems
from mllm_lab.ops.sections import headings
from mllm_lab.ops.workspace import Workspace


def lint(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    data = ws.data()
    required = {kind: headings(ws, kind) for kind in kinds.KINDS if kind.sections_required}

    def exists(relative: str) -> bool:
        return (ws.lab.root / relative).exists()

    found = check_notes(data, details=ws.details(), required=required, exists=exists)
    found += [Finding(path, 1, message) for path, message in ws.problems]
    found += [
        f for paper in data.papers if not paper.problem for f in status_problems(paper, ws.today)
    ]
    notebooks = [e.path for e in data.experiments]
    for number, path in enumerate(notebooks, start=1):
        problem = notebook_problem(ws.read(path))
        if problem:
            found.append(Finding(path, *problem))
        if progress:
            progress(number, len(notebooks))
    found += [f for f in view_check(ws) if f not in found]
    found += card_problems(ws)
    return sorted(set(found), key=lambda f: (f.path, f.line, f.message))
