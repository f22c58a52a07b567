"""`lab check`: the whole lab linted, each problem one `path:line: message`."""

from __future__ import annotations

import marshal
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mllm_lab.models import QUIZ_LOG
from mllm_lab.ops.views import stamp_of, state_stamp
from mllm_lab.sha import sha1

if TYPE_CHECKING:
    from mllm_lab.core.labdata import LabData
    from mllm_lab.kinds import NoteKind
    from mllm_lab.models import Finding, Note
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
        found = _lint(ws, progress, tree, listing, looked, read)
        return {
            "problems": _once(found),
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


def _once(found: list[Finding]) -> list[Problem]:
    """Each problem once, as [path, line, message]: a file the walk skipped (a pipe) may also
    be named, in the same words, by the read that failed on it."""
    from mllm_lab.messages import tr

    said: dict[tuple[str, int, str], bool] = {}
    for f in found:
        place = (f.path, f.line, f.message)
        said[place] = said.get(place, False) or f.skipped
    return [
        [path, line, tr("check.skipped", message=message) if skipped else message]
        for (path, line, message), skipped in said.items()
    ]


def _listing(tree: Tree) -> str:
    """A digest of the names of every file and folder the tree holds."""
    names = "\n".join(sorted(tree.files)) + "\n\n" + "\n".join(sorted(tree.folders))
    return sha1(names.encode("utf-8", "surrogatepass")).hexdigest()


def _lint(
    ws: Workspace,
    progress: Callable[[int, int], None] | None,
    tree: Tree,
    listing: str,
    looked: dict[str, bool],
    read: dict[str, list[int] | None],
) -> list[Finding]:
    from mllm_lab.core.check import lab_problems
    from mllm_lab.core.papers import status_problems
    from mllm_lab.ops.handedits import check as view_check
    from mllm_lab.ops.quiz import card_problems

    data = ws.data()
    # the cards first: their cache, tens of megabytes at 50,000 notes, is read and let go
    # before the other checks hold theirs
    read[QUIZ_LOG] = stamp_of(ws, QUIZ_LOG)
    cards = card_problems(ws)
    found = lab_problems(data)
    found.update(cards)
    checks = _FileChecks(ws, data, tree, listing, looked)
    checks.notes()
    checks.others(read)
    checks.kept.save()
    found.update(checks.found)
    found.update(checks.templates)
    found.update(template_conflicts(ws))
    del checks  # its kept problems of every file
    found.update(ws.skipped_files())
    found.update(
        f for paper in data.papers if not paper.problem for f in status_problems(paper, ws.today)
    )
    found.update(notebook_findings(ws, [e.path for e in data.experiments], progress))
    found.update(view_check(ws))
    return sorted(found, key=lambda f: (f.path, f.line, f.message))


FILES = "check_files"  # no "-": results._prune groups the per-option slots by what precedes one


class _FileChecks:
    """Each Markdown file's own problems (a note's sections, links and `related:`; another
    file's links), kept per file by its stamp while what they also depend on is unchanged:
    the names of the lab's files, the notes' titles, the required headings. So a check after
    one note was edited reads and checks that note alone. A file with a link into a folder
    that is not walked is checked every time (that folder's files are not in the listing)."""

    def __init__(
        self, ws: Workspace, data: LabData, tree: Tree, listing: str, looked: dict[str, bool]
    ) -> None:
        from mllm_lab import results
        from mllm_lab.core.links import WikiIndex

        self.ws, self.data, self.tree, self.looked = ws, data, tree, looked
        self.required, self.templates = _required(ws)
        # marshal's version 2: the same bytes for equal values, 6 times quicker than JSON
        names = marshal.dumps([[note.path, note.title] for note in data.notes], 2)
        made = results.key(
            FILES,
            str(ws.lab.root),
            listing,
            sha1(names).hexdigest(),
            [[kind.name, headings] for kind, headings in self.required.items()],
        )
        self.kept = results.PerFile(ws.lab.state, FILES, made, ws.use_index)
        self.found: list[Finding] = []
        self.outside = 0  # links looked up on disk so far
        self.wiki = WikiIndex(data.notes)  # made at the first wiki link

    def exists(self, relative: str) -> bool:
        there = self.tree.exists(relative)
        if self.tree.on_disk(relative):
            self.looked[relative] = there
            self.outside += 1
        return there

    def known(self, path: str, stamp: Any) -> bool:
        """Take the file's kept problems if it is as it was when they were found."""
        from mllm_lab.messages import Msg
        from mllm_lab.models import Finding

        made: list[Finding] = []

        def findings(value: Any) -> bool:  # a kept entry of another shape is made again
            made[:] = [Finding(path, line, Msg.from_json(what)) for line, what in value]
            return isinstance(value, list) and all(
                type(f.line) is int and isinstance(f.message, str) for f in made
            )

        if self.kept.get(path, stamp, findings) is None:
            return False
        self.found.extend(made)
        return True

    def add(self, path: str, stamp: Any, problems: list[Finding], outside: int) -> None:
        """A file's problems, found now; kept unless finding them looked on disk (the count
        of such lookups is no longer `outside`)."""
        self.found.extend(problems)
        if self.outside == outside:
            self.kept.put(path, stamp, [[f.line, f.msg.as_json()] for f in problems])

    def notes(self) -> None:
        from mllm_lab.core.check import broken_notes, note_problems
        from mllm_lab.details import FEW

        files = self.ws.files()
        broken = broken_notes(self.data)
        todo: dict[str, tuple[Note, Any]] = {}
        notes = self.data.notes
        paths = [note.path for note in notes]
        # the stamps in one pass (every note is held: its record made it)
        stamps = files.stamps(paths) if all(map(files.__contains__, paths)) else None
        for at, note in enumerate(notes):
            path = note.path
            made = list(stamps[at][:3]) if stamps is not None else files.stamp_of(path)
            stamp = None if made is None else [made, path in broken]
            if not (self.kept.none_at(path, stamp) or self.known(path, stamp)):
                todo[path] = (note, stamp)

        def one(path: str, detail: Mapping[str, Any]) -> None:
            note, stamp = todo.pop(path)
            outside = self.outside
            found = note_problems(
                note, detail, self.required, self.wiki, self.exists, path in broken
            )
            self.add(path, stamp, found, outside)

        if todo:
            # the whole store is read (and rows of deleted notes dropped) unless few notes changed
            every = not self.kept.kept or len(todo) > FEW
            for path, detail in self.ws.each_detail(list(todo), every=every, checked=True):
                if path in todo:
                    one(path, detail)
            for path in list(todo):  # could not be read: checked as having no body
                one(path, {})

    def others(self, read: dict[str, list[int] | None]) -> None:
        """The links of the lab's Markdown files that are not notes (READMEs, the generated
        indexes, CLAUDE.md, resources/…) and not ignored in lab.toml. (An ignored file is
        still there for a link to lead to.) Each file is stamped in `read`; one that cannot
        be read (not UTF-8, too big) is reported with its `path:line`."""
        from mllm_lab.core.check import links
        from mllm_lab.core.regions import conflict_line
        from mllm_lab.errors import BrokenNote, LabError
        from mllm_lab.models import GENERATED_FILES, Finding
        from mllm_lab.parse import links_of
        from mllm_lab.walk import ignore_matcher

        notes = self.ws.files()
        ignored = ignore_matcher(self.ws.lab.config.ignore)
        for path in self.tree.markdown():
            if path in notes or (ignored and ignored(path)):
                continue
            stamp = read[path] = stamp_of(self.ws, path)
            if self.known(path, stamp):
                continue
            outside = self.outside
            try:
                text = self.ws.read(path)
                written = links_of(text, path)
            except BrokenNote as problem:
                self.add(path, stamp, [Finding(path, problem.line, problem.detail)], outside)
                continue
            except (LabError, OSError, ValueError):
                continue
            found = links(path, written, self.wiki, self.exists)
            # a view's own conflict is told with the view's problems
            conflict = None if path in GENERATED_FILES else conflict_line(text)
            if conflict is not None:
                found.append(Finding.of(path, conflict, "check.conflict"))
            self.add(path, stamp, found, outside)


def _required(ws: Workspace) -> tuple[dict[NoteKind, list[tuple[int, str]]], list[Finding]]:
    """The headings each kind's template renders, kept by the templates' stamps; and the
    problems of the templates that do not render (their kinds require no heading meanwhile:
    the lab's notes are checked all the same)."""
    from mllm_lab import kinds, results
    from mllm_lab.errors import TemplateProblem
    from mllm_lab.models import Finding
    from mllm_lab.ops.sections import headings

    wanted = [kind for kind in kinds.KINDS if kind.sections_required]
    made = results.key("headings", str(ws.lab.root), ws.lang, ws.templates_stamp())
    hit, kept = results.load(ws.lab.state, "headings", made) if ws.use_index else (False, None)
    if hit and isinstance(kept, dict) and set(kept) == {kind.name for kind in wanted}:
        return {
            kind: [(int(level), str(title)) for level, title in kept[kind.name]] for kind in wanted
        }, []
    value: dict[NoteKind, list[tuple[int, str]]] = {}
    broken = []
    for kind in wanted:
        try:
            value[kind] = headings(ws, kind)
        except TemplateProblem as problem:
            value[kind] = []
            broken.append(Finding(problem.name, problem.line or 1, problem.problem))
    if ws.use_index and not broken:
        results.save(ws.lab.state, "headings", made, {k.name: v for k, v in value.items()})
    return value, broken


def template_conflicts(ws: Workspace) -> list[Finding]:
    """A git merge conflict left in any of the lab's templates (a prompt's, a notebook's
    skeleton too): each would be copied into what it makes, which is refused."""
    from mllm_lab.core.fm import conflict_in
    from mllm_lab.models import Finding

    found = []
    folder = ws.lab.root / "templates"
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        try:
            line = conflict_in(path.read_text("utf-8")) if path.is_file() else None
        except (OSError, UnicodeDecodeError):
            continue
        if line is not None:
            found.append(Finding.of(ws.lab.relative(path), line, "template.conflict"))
    return found


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
