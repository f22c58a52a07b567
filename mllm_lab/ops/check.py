"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

from collections.abc import Callable

from mllm_lab.core.check import check as check_notes
from mllm_lab.core.notebook import notebook_problem
from mllm_lab.models import Finding, Kind
from mllm_lab.ops.sections import headings
from mllm_lab.ops.workspace import Workspace


def lint(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    from mllm_lab.ops.views import sync

    data = ws.data()
    required = {kind: headings(ws, kind) for kind in (Kind.PAPER, Kind.CONCEPT, Kind.WEEKLY)}

    def exists(relative: str) -> bool:
        return (ws.lab.root / relative).exists()

    found = check_notes(data, ws.details(), required, exists)
    found += [Finding(path, 1, message) for path, message in ws.problems]
    notebooks = [e.path for e in data.experiments]
    for number, path in enumerate(notebooks, start=1):
        problem = notebook_problem(ws.read(path))
        if problem:
            found.append(Finding(path, *problem))
        if progress:
            progress(number, len(notebooks))
    for outcome in sync(ws, check=True):
        found.append(
            Finding(
                outcome.path,
                1,
                "generated view is stale"
                + (f" ({outcome.detail})" if outcome.detail else "")
                + "; run `lab sync`",
            )
        )
    return sorted(set(found), key=lambda f: (f.path, f.line, f.message))
