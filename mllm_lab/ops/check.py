"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mllm_lab import kinds
from mllm_lab.core.check import check as check_notes
from mllm_lab.core.notebook import notebook_problem
from mllm_lab.core.papers import status_problems
from mllm_lab.errors import LabError
from mllm_lab.models import Finding
from mllm_lab.ops.handedits import check as view_check
from mllm_lab.ops.quiz import card_problems
from mllm_lab.ops.sections import headings
from mllm_lab.ops.workspace import Workspace
from mllm_lab.parse import links_of
from mllm_lab.scan import ignore_matcher
from mllm_lab.tree import Tree, walk


def other_links(ws: Workspace, tree: Tree) -> dict[str, dict[str, list[list[Any]]]]:
    """The links of the lab's Markdown files that are not notes (READMEs, the generated
    indexes, CLAUDE.md, resources/…) and not ignored in lab.toml: read here, as the scan
    does not index them. (An ignored file is still there for a link to lead to.)"""
    notes = ws.files()
    ignored = ignore_matcher(ws.lab.config.ignore)
    found = {}
    for path in tree.markdown():
        if path in notes or (ignored and ignored(path)):
            continue
        try:
            found[path] = links_of(ws.read(path), path)
        except (LabError, OSError, ValueError):
            continue  # unreadable: not a note, so nothing else reports it either
    return found


def lint(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    data = ws.data()
    required = {kind: headings(ws, kind) for kind in kinds.KINDS if kind.sections_required}

    tree = walk(ws.lab.root)
    found = check_notes(
        data,
        details=ws.details(),
        required=required,
        exists=tree.exists,
        others=other_links(ws, tree),
    )
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
