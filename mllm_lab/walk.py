"""Walking the lab: every file worth indexing, with its stamp, in one pass that stats each
file once. Kept apart from the index and the parsers, so that a command answered from the
result cache (mllm_lab.results) imports nothing else."""

from __future__ import annotations

import errno
import json
import marshal
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from mllm_lab import kinds
from mllm_lab.lab import Lab
from mllm_lab.messages import Msg
from mllm_lab.models import READING_LIST, STATE_DIR
from mllm_lab.patterns import pattern
from mllm_lab.sha import expect, sha1
from mllm_lab.state import read_state, write_state

READING_LIST_KIND = "reading-list"
KIND_STAMPS = "kind-stamps.json"  # in .lab/: the digests per kind of the last fingerprint
KIND_STAMPS_VERSION = 1
# A file found by `walk`: (lab-relative path, kind, mtime_ns, size, inode). A plain tuple:
# 10,000 of them are made by every command.
Found = tuple[str, str, int, int, int]
STAMP_BYTES = 64  # at least what a file's stamp takes in a run's bytes (about 85 on the bench)
STAMP_RUN = 512  # files whose stamps one digest covers: see Walk.runs
# Temp files a killed run of an older `lab` left beside notes (tempfile.mkstemp's names).
_STRAY = pattern(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def changed_ns(st: os.stat_result) -> int:
    """When a file last changed, for its stamp: the later of its mtime and its ctime, so an
    edit whose mtime was set back (`touch -d`, some sync tools) still changes the stamp."""
    return max(st.st_mtime_ns, st.st_ctime_ns)


def kind_of(relative: str) -> str | None:
    """What a lab file is, from where it lives: a kind's name, "reading-list" or None."""
    if relative == READING_LIST:
        return READING_LIST_KIND
    kind = kinds.kind_of(relative)
    return kind.name if kind else None


@dataclass(eq=False, repr=False)
class Walk:
    """The files of a lab as one walk found them, with what it skipped and why."""

    found: list[Found]
    problems: list[tuple[str, Msg]]  # (path, why) for files that were skipped
    strays: list[str]  # temp files left by a killed older run
    state: Path | None = None  # where the digests per kind are remembered (.lab/)
    _digests: dict[Any, str] = field(default_factory=dict)
    _runs: list[bytes] | None = None
    _fresh: bool = True  # in walk order: nothing added since
    _recalled: bool = False

    def fingerprint(self) -> str:
        """A digest of every file's stamp (path, kind, mtime, size, inode), the files that
        were skipped and why, and the strays: equal fingerprints mean the lab's files are as
        they were (to the index's own standard: a file is re-read when its stamp changes)."""
        if "all" not in self._digests:
            problems = json.dumps([[path, why.as_json()] for path, why in self.problems])
            data = b"".join(self.runs()) + marshal.dumps((problems, self.strays), 2)
            self._digests["all"] = sha1(data).hexdigest()
        return self._digests["all"]

    def runs(self) -> list[bytes]:
        """A digest of the stamps of each run of STAMP_RUN files, in walk order. The index
        keeps those it was saved with, so a scan takes a run whose digest is the same as a
        whole, without comparing its stamps one by one. marshal version 2 writes no
        back-references, so equal values give equal bytes."""
        if self._runs is None:
            found = self.found
            expect(len(found) * STAMP_BYTES)  # a big lab: OpenSSL's SHA-1 from the start
            self._runs = [
                sha1(marshal.dumps(found[at : at + STAMP_RUN], 2)).digest()
                for at in range(0, len(found), STAMP_RUN)
            ]
        return self._runs

    def stamps(self, kind_names: Iterable[str]) -> str:
        """A digest of the stamps of every file of these kinds, in path order (so a file
        created since, wherever a walk finds it, changes nothing but its own part).

        Sorting and hashing 34,000 concept notes' stamps takes 20 ms, so the digests are
        remembered under the walk's fingerprint (a digest of every stamp, in walk order): a
        later walk with the same fingerprint found the very same files, so its digests per
        kind are the same too."""
        names = sorted(kind_names)
        if any(name not in self._digests for name in names):
            self._recall()
        worked_out = False
        for name in names:
            if name not in self._digests:
                files = sorted((f for f in self.found if f[1] == name), key=itemgetter(0))
                self._digests[name] = sha1(marshal.dumps(files, 2)).hexdigest()
                worked_out = True
        if worked_out:
            self._note()
        return " ".join(f"{name}={self._digests[name]}" for name in names)

    def _recall(self) -> None:
        if self._recalled or not self._fresh or self.state is None:
            return
        self._recalled = True
        try:
            kept = json.loads(read_state(self.state, KIND_STAMPS) or b"{}")
            if (
                kept.get("version") == KIND_STAMPS_VERSION
                and kept.get("fingerprint") == self.fingerprint()
                and all(isinstance(v, str) for v in kept["kinds"].values())
            ):
                self._digests.update({k: v for k, v in kept["kinds"].items() if k != "all"})
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            pass

    def _note(self) -> None:
        if not self._fresh or self.state is None:
            return
        kinds_known = {k: v for k, v in self._digests.items() if k != "all"}
        write_state(
            self.state,
            KIND_STAMPS,
            json.dumps(
                {
                    "version": KIND_STAMPS_VERSION,
                    "fingerprint": self.fingerprint(),
                    "kinds": kinds_known,
                }
            ),
        )

    def restamp(self, root: Path, paths: Iterable[str]) -> None:
        """Take in the new stamps of files lab has just written (or removed). A file that was
        there keeps its place, so that after a command that only changed files (`lab mark`)
        the list is the one the next walk finds, and the digests per kind noted for it spare
        that walk working them out again (45 ms at 50,000 notes). A new file goes last, where
        a walk would not put it: nothing is noted for that list (see _note)."""
        changed = {path: kind for path in paths if (kind := kind_of(path)) is not None}
        if not changed:
            return
        stamps: dict[str, Found | None] = {}
        for path, kind in changed.items():
            try:
                st = os.stat(root / path)
            except OSError:
                stamps[path] = None
                continue
            stamps[path] = (path, kind, changed_ns(st), st.st_size, st.st_ino)
        kept: list[Found] = []
        for found in self.found:
            if found[0] in stamps:
                new = stamps.pop(found[0])
                if new is None:
                    continue
                found = new
            kept.append(found)
        added = [found for found in stamps.values() if found is not None]
        if added:
            self._fresh = False
        self.found = kept + added
        self._runs = None
        for name in ("all", *changed.values()):
            self._digests.pop(name, None)

    def clear_strays(self) -> None:
        """The strays were removed."""
        if self.strays:
            self._fresh = False
            self.strays = []
            self._digests.pop("all", None)


def walk(lab: Lab) -> Walk:
    """Every lab file worth indexing. The hot loop of every command: it stats each file once
    and does little else."""
    root = str(lab.root)
    prefix = len(root) + 1
    result = Walk([], [], [], state=lab.state)
    try:
        st = os.stat(os.path.join(root, READING_LIST))
        result.found.append(
            (READING_LIST, READING_LIST_KIND, changed_ns(st), st.st_size, st.st_ino)
        )
    except OSError:
        pass
    slash = os.sep
    state = os.path.join(root, STATE_DIR)  # lab's cache: a note linked into it is not read
    ignored = ignore_matcher(lab.config.ignore)
    stat = os.stat
    found = result.found.append
    kind_folders: list[KindFolder] | None = None  # worked out at the first link met
    # the real paths of files found through a link, and where in `found`: several links to
    # one file or folder elsewhere in the lab find each file once, by its first path in
    # sorted order (not the folders' order on disk, which differs between clones)
    reached: dict[str, int] = {}
    for kind in kinds.KINDS:
        parts = kind.folder.split("/")
        between = [os.path.join(root, *parts[:n]) for n in range(1, len(parts))]
        # (folder, the folders it is inside, its real path when a link led to it)
        stack: list[tuple[str, frozenset[FolderId], str | None]] = [
            (os.path.join(root, *parts), _folder_ids([root, *between]), None)
        ]
        suffix = kind.suffix
        name_of_kind = kind.name
        while stack:
            folder, above, linked = stack.pop()
            # the folder opened once and each file stat-ed by its name in it: the kernel
            # resolves one name per file, not the whole path (a tenth of the walk at 50,000)
            fd = _open_folder(folder)
            try:
                here = _folder_id(folder, fd)
                if here in above:  # a symlinked folder that leads back to one it is inside
                    relative = folder[prefix:].replace(slash, "/")
                    result.problems.append((relative, Msg.of("file.loop")))
                    _close(fd)
                    continue
                entries = list(os.scandir(folder if fd is None else fd))
            except OSError:
                _close(fd)
                continue
            inside = above | {here}
            # the folder's lab-relative path once, each file's name added to it
            here_relative = folder[prefix:].replace(slash, "/") + "/"
            try:
                for entry in entries:
                    name = entry.name
                    if name[0] == ".":
                        if _STRAY.match(name):
                            result.strays.append(here_relative + name)
                        continue
                    real = f"{linked}{slash}{name}" if linked is not None else None
                    if entry.is_symlink():
                        path = f"{folder}{slash}{name}"
                        real = _real(path)
                        cache = real is not None and _inside(real, state, slash)
                        if real is not None and _inside(real, root, slash) and not cache:
                            # a link to a file or folder the walk finds where it is: each
                            # note once (a linked folder counted its notes twice, each slug
                            # twice, and named the link as an unknown category)
                            if kind_folders is None:
                                kind_folders = _kind_folders(root)
                            if _walked_at(real, os.path.isdir(real), kind_folders, ignored):
                                continue
                        else:
                            # named when it would have been a note, or a folder of them (a
                            # figure linked from elsewhere is not), and `ignore` keeps it
                            relative = here_relative + name
                            folder_link = os.path.isdir(path)
                            note = (folder_link and kind.subfolders) or (
                                name.endswith(suffix) and name.lower() != "readme.md"
                            )
                            left_out = ignored and (
                                ignored(relative) or (folder_link and ignored(relative + "/"))
                            )
                            if note and not left_out:
                                why = "file.into_state" if cache else _link_problem(path)
                                result.problems.append((relative, Msg.of(why)))
                            continue
                    if entry.is_dir():
                        if kind.subfolders and not (
                            ignored and ignored(here_relative + name + "/")
                        ):
                            stack.append((f"{folder}{slash}{name}", inside, real))
                        continue
                    if not name.endswith(suffix) or (
                        len(name) == 9 and name.lower() == "readme.md"
                    ):
                        continue
                    relative = here_relative + name
                    if ignored and ignored(relative):
                        continue
                    if not entry.is_file():  # a pipe or device named like a note
                        result.problems.append((relative, Msg.of("file.not_regular")))
                        continue
                    if real is not None:  # found through a link
                        at = reached.get(real)
                        if at is not None:
                            first = result.found[at]
                            if first[1] == name_of_kind and relative < first[0]:
                                result.found[at] = (relative, *first[1:])
                            continue
                        reached[real] = len(result.found)
                    try:
                        st = stat(f"{folder}{slash}{name}") if fd is None else stat(name, dir_fd=fd)
                    except OSError:
                        continue
                    mtime, ctime = st.st_mtime_ns, st.st_ctime_ns
                    found(
                        (
                            relative,
                            name_of_kind,
                            ctime if ctime > mtime else mtime,
                            st.st_size,
                            st.st_ino,
                        )
                    )
            finally:
                _close(fd)
    return result


def ignore_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool] | None:
    """A test for lab-relative paths (a folder ends with "/") against the lab's `ignore`
    patterns, in gitignore syntax (pathspec); None when there are none. Without negations the
    patterns are one regular expression: a few microseconds a file."""
    if not patterns:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    if all(p.include is not False for p in spec.patterns):
        parts = [
            f"(?:{p.regex.pattern.replace('(?P<ps_d>', '(')})"
            for p in spec.patterns
            if p.include and p.regex is not None
        ]
        if not parts:
            return None
        match = re.compile("|".join(parts)).match
        return lambda path: match(path) is not None
    return lambda path: bool(spec.match_file(path))


# Where the OS can list a folder and stat a name by an open descriptor (not Windows).
_BY_FD = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd


def _open_folder(path: str) -> int | None:
    if not _BY_FD:
        return None
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None  # os.scandir says why, or lists it by its path after all


FolderId = tuple[int, int]  # (st_dev, st_ino)


def _folder_id(path: str, fd: int | None) -> FolderId:
    st = os.stat(path) if fd is None else os.fstat(fd)
    return st.st_dev, st.st_ino


def _folder_ids(paths: list[str]) -> frozenset[FolderId]:
    """The lab's folder and those between it and a kind's folder: a symlink into any of them
    from below is a loop (nothing the walk can list ends)."""
    found = set()
    for path in paths:
        try:
            found.add(_folder_id(path, None))
        except OSError:
            continue
    return frozenset(found)


def _close(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


def _real(path: str) -> str | None:
    try:
        return os.path.realpath(path, strict=True)
    except OSError:
        return None


def _inside(real: str, root: str, slash: str) -> bool:
    return real == root or real.startswith(root + slash)


KindFolder = tuple[str, str, bool, str]  # real path, lab-relative path, subfolders, suffix


def _kind_folders(root: str) -> list[KindFolder]:
    """Where the walk looks for each kind's files, as real paths."""
    return [
        (
            os.path.realpath(os.path.join(root, *kind.folder.split("/"))),
            kind.folder,
            kind.subfolders,
            kind.suffix,
        )
        for kind in kinds.KINDS
    ]


def _walked_at(
    real: str, is_folder: bool, folders: list[KindFolder], ignored: Callable[[str], bool] | None
) -> bool:
    """Whether the walk reaches `real` (a file or folder) by a path without links: in a kind's
    folder (any depth where the kind has subfolders), in no hidden folder, not left out by
    `ignore`, and, a file, named as the kind's files are."""
    slash = os.sep
    for folder, relative, deep, suffix in folders:
        if real == folder:
            return True
        if not real.startswith(folder + slash):
            continue
        parts = real[len(folder) + 1 :].split(slash)
        within = parts if is_folder else parts[:-1]  # the folders from the kind's down to it
        if any(part.startswith(".") for part in parts) or (within and not deep):
            continue
        name = parts[-1]
        if not is_folder and (not name.endswith(suffix) or name.lower() == "readme.md"):
            continue
        if ignored is not None:
            steps = [relative + "/" + "/".join(within[: n + 1]) + "/" for n in range(len(within))]
            if not is_folder:
                steps.append(relative + "/" + "/".join(parts))
            if any(ignored(step) for step in steps):
                continue
        return True
    return False


def _link_problem(path: str) -> str:
    try:
        os.path.realpath(path, strict=True)
    except OSError as error:
        return "file.loop" if error.errno == errno.ELOOP else "file.dangling"
    return "file.outside"
