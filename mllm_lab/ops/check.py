"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mllm_lab.models import QUIZ_LOG
from mllm_lab.ops.views import stamp_of, state_stamp

if TYPE_CHECKING:
    from mllm_lab.models import Finding
    from mllm_lab.ops.workspace import Workspace
    from mllm_lab.tree import Tree

Problem = list[Any]  # [path, line, message]: a Finding as `lab check` shows it


def lint(ws: Workspace, progress: Callable[[int, int], None] | None = None) -> list[Problem]:
    """Every problem, sorted, as [path, line, message]; kept while nothing it was made from
    changed: the lab's files (the notes by their stamps, every other file and folder by
    name), its templates, the views and what lab knows of them, the other Markdown files
    whose links were checked, the quiz's log, and whether each file a link points to inside
    a folder that is not walked (.git, a virtual environment) is still there or missing."""
    from mllm_lab.tree import walk

    tree = walk(ws.lab.root)
    listing = _listing(tree)

    def compute() -> dict[str, Any]:
        looked: dict[str, bool] = {}
        read: dict[str, list[int] | None] = {}
        found = _lint(ws, progress, tree, looked, read)
        return {
            "problems": [[f.path, f.line, f.message] for f in found],
            "listing": listing,
            "looked": sorted(looked.items()),
            "read": sorted(read.items()),
        }

    def still(value: dict[str, Any]) -> bool:
        return (
            value["listing"] == listing
            and all(tree.exists(path) == there for path, there in value["looked"])
            and all(stamp_of(ws, path) == stamp for path, stamp in value["read"])
        )

    made = ws.cached("check", compute, ws.templates_stamp(), state_stamp(ws), valid=still)
    return made["problems"]  # type: ignore[no-any-return]


def _listing(tree: Tree) -> str:
    """A digest of the names of every file and folder the tree holds."""
    names = "\n".join(sorted(tree.files)) + "\n\n" + "\n".join(sorted(tree.folders))
    return hashlib.sha1(names.encode("utf-8", "surrogatepass")).hexdigest()


def _lint(
    ws: Workspace,
    progress: Callable[[int, int], None] | None,
    tree: Tree,
    looked: dict[str, bool],
    read: dict[str, list[int] | None],
) -> list[Finding]:
    from mllm_lab import kinds
    from mllm_lab.core.check import check as check_notes
    from mllm_lab.core.papers import status_problems
    from mllm_lab.models import Finding
    from mllm_lab.ops.handedits import check as view_check
    from mllm_lab.ops.quiz import card_problems
    from mllm_lab.ops.sections import headings

    data = ws.data()
    required = {kind: headings(ws, kind) for kind in kinds.KINDS if kind.sections_required}

    def exists(relative: str) -> bool:
        there = tree.exists(relative)
        if tree.on_disk(relative):
            looked[relative] = there
        return there

    details = ws.each_detail(note.path for note in data.notes)
    unreadable: list[Finding] = []
    others = other_links(ws, tree, read, unreadable)
    found = check_notes(data, details=details, required=required, exists=exists, others=others)
    found.update(Finding(path, 1, message) for path, message in ws.problems)
    found.update(unreadable)
    found.update(
        f for paper in data.papers if not paper.problem for f in status_problems(paper, ws.today)
    )
    found.update(notebook_findings(ws, [e.path for e in data.experiments], progress))
    found.update(view_check(ws))
    read[QUIZ_LOG] = stamp_of(ws, QUIZ_LOG)
    found.update(card_problems(ws))
    return sorted(found, key=lambda f: (f.path, f.line, f.message))


def notebook_findings(
    ws: Workspace, notebooks: list[str], progress: Callable[[int, int], None] | None
) -> list[Finding]:
    """Each notebook validated by nbformat (100 ms to import, then a schema per notebook);
    kept by the notebooks' own stamps, so a check after a note was edited does not validate
    them again."""
    from mllm_lab import results
    from mllm_lab.core.notebook import notebook_problem
    from mllm_lab.messages import Msg
    from mllm_lab.models import Finding

    made = results.key("notebooks", ws.walked().stamps(["experiment"]), str(ws.lab.root))
    hit, kept = results.load(ws.lab.state, "notebooks", made) if ws.use_index else (False, None)
    value: list[list[Any]] = kept if hit and isinstance(kept, list) else []
    if not hit:
        for number, path in enumerate(notebooks, start=1):
            problem = notebook_problem(ws.read(path))
            if problem:
                value.append([path, problem[0], problem[1].as_json()])
            if progress:
                progress(number, len(notebooks))
        if ws.use_index:
            results.save(ws.lab.state, "notebooks", made, value)
    return [Finding(path, line, Msg.from_json(what)) for path, line, what in value]


def other_links(
    ws: Workspace,
    tree: Tree,
    read: dict[str, list[int] | None],
    unreadable: list[Finding],
) -> dict[str, dict[str, list[list[Any]]]]:
    """The links of the lab's Markdown files that are not notes (READMEs, the generated
    indexes, CLAUDE.md, resources/…) and not ignored in lab.toml: read here, as the scan
    does not index them. (An ignored file is still there for a link to lead to.) Each file
    read is stamped in `read`; one that cannot be read (not UTF-8, too big) is added to
    `unreadable` with its `path:line`."""
    from mllm_lab.errors import BrokenNote, LabError
    from mllm_lab.models import Finding
    from mllm_lab.parse import links_of
    from mllm_lab.walk import ignore_matcher

    notes = ws.files()
    ignored = ignore_matcher(ws.lab.config.ignore)
    found = {}
    for path in tree.markdown():
        if path in notes or (ignored and ignored(path)):
            continue
        read[path] = stamp_of(ws, path)
        try:
            found[path] = links_of(ws.read(path), path)
        except BrokenNote as problem:
            unreadable.append(Finding(path, problem.line, problem.detail))
        except (LabError, OSError, ValueError):
            continue
    return found
