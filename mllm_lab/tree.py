"""Every file and folder of a lab by name, listed once (one `scandir` per folder, no `stat` per
file): what `lab check` resolves links against, so a lab of 10,000 notes with 40,000 links
costs one walk, not 40,000 system calls. Folders of tools (.git, .lab, virtual environments,
node_modules, caches) are not walked; a link into one is looked up on disk."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mllm_lab import kinds
from mllm_lab.storage import TRASH_DIR

# Folders never walked (their contents are not the lab's): by name, anywhere.
SKIPPED = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".lab",
        TRASH_DIR,
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".tox",
        ".ipynb_checkpoints",
        "site-packages",
    }
)
# Where the lab's own Markdown lives, besides the files at its top level.
LAB_FOLDERS = tuple(
    dict.fromkeys(
        [k.folder.split("/")[0] for k in kinds.KINDS]
        + [f.split("/")[0] for f in kinds.EXTRA_FOLDERS]
        + ["templates"]
    )
)


@dataclass(eq=False, repr=False)
class Tree:
    """Every file and folder under a lab's root that `lab check` looks at."""

    root: Path
    files: set[str] = field(default_factory=set)  # lab-relative, "/"-separated
    folders: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)  # folders not walked
    symlinks: set[str] = field(default_factory=set)  # files that are symbolic links
    _skipped_prefixes: tuple[set[str], tuple[str, ...]] = field(
        default=(set(), ()), init=False
    )

    def exists(self, relative: str) -> bool:
        """Whether a lab-relative path names a file or folder of the lab."""
        relative = relative.rstrip("/") or "."
        if relative in self.files or relative in self.folders:
            return True
        if self.on_disk(relative):
            return os.path.lexists(self.root / relative)
        return False

    def on_disk(self, relative: str) -> bool:
        """Whether `exists` looks this path up on disk: it is inside a folder not walked."""
        if not self.skipped:
            return False
        relative = relative.rstrip("/") or "."
        return relative in self.skipped or relative.startswith(self._inside_skipped())

    def _inside_skipped(self) -> tuple[str, ...]:
        """What the paths inside a folder not walked start with (made once per set of such
        folders: `lab check` asks for every link of every note)."""
        if self._skipped_prefixes[0] != self.skipped:
            self._skipped_prefixes = (set(self.skipped), tuple(s + "/" for s in self.skipped))
        return self._skipped_prefixes[1]

    def markdown(self) -> list[str]:
        """The lab's Markdown files: those at its top level and in its own folders
        (notes/, papers/, weekly-log/, reviews/, experiments/, resources/, templates/),
        sorted."""
        return sorted(
            path
            for path in self.files
            if path.lower().endswith((".md", ".markdown"))
            and ("/" not in path or path.split("/", 1)[0] in LAB_FOLDERS)
            and path not in self.symlinks
        )


def walk(root: Path, skip: Iterable[str] = SKIPPED) -> Tree:
    """The lab's files and folders, by name."""
    tree = Tree(root)
    tree.folders.add(".")
    skipped = frozenset(skip)
    prefix = len(str(root)) + 1
    stack = [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            relative = entry.path[prefix:].replace(os.sep, "/")
            try:
                is_dir = entry.is_dir()  # follows a symlink, as a link on disk would
            except OSError:
                is_dir = False
            if is_dir:
                tree.folders.add(relative)
                if entry.name in skipped or entry.is_symlink():
                    tree.skipped.add(relative)
                else:
                    stack.append(entry.path)
            else:
                tree.files.add(relative)
                if entry.is_symlink():
                    tree.symlinks.add(relative)
    return tree
