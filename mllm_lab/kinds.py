"""The kinds of file a lab holds, each defined once. Scanning, checking, indexing, `lab init`'s
folders, the views and the CLI all read this table: adding a kind of note is one entry here,
its templates, and its labels in mllm_lab/messages.py."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

PACKAGE = Path(__file__).resolve().parent


def default_templates() -> Path:
    """Where lab's own templates are (a lab's templates/ overrides them): inside the wheel in
    the package; in a source checkout, beside it."""
    packaged = PACKAGE / "templates"
    return packaged if packaged.is_dir() else PACKAGE.parent / "templates"


CATEGORIES = ("fundamentals", "vision-language", "multimodal-arch", "training", "applications")


class NoteKind(NamedTuple):
    name: str
    folder: str  # where its files live, lab-relative
    suffix: str  # file name ending
    pattern: str  # the path of a new one: {slug}, {category}, {week}, {date}
    template: str  # under templates/<lang>/
    slug_from: str  # what names a new file: key, title, week or date
    required_fields: tuple[str, ...] = ()  # frontmatter `lab check` requires
    sections_required: bool = False  # `lab check` requires the template's headings
    study: bool = False  # a note that counts on the roadmap (progress, review, related notes)
    in_index: bool = False  # listed in notes/README.md
    subfolders: bool = True  # files in subfolders belong to it too
    frontmatter: bool = True  # a Markdown note with YAML frontmatter (not a notebook)

    def __str__(self) -> str:
        return self.name

    @property
    def value(self) -> str:
        return self.name


PAPER = NoteKind(
    name="paper",
    folder="papers",
    suffix=".md",
    pattern="papers/{slug}.md",
    template="paper.md.j2",
    slug_from="key",
    required_fields=("key", "title", "status"),
    sections_required=True,
    study=True,
)
CONCEPT = NoteKind(
    name="concept",
    folder="notes",
    suffix=".md",
    pattern="notes/{category}/{slug}.md",
    template="concept.md.j2",
    slug_from="title",
    required_fields=("title", "category", "created"),
    sections_required=True,
    study=True,
    in_index=True,
)
WEEKLY = NoteKind(
    name="weekly",
    folder="weekly-log",
    suffix=".md",
    pattern="weekly-log/{week}.md",
    template="weekly.md.j2",
    slug_from="week",
    required_fields=("week",),
    sections_required=True,
)
REVIEW = NoteKind(
    name="review",
    folder="reviews",
    suffix=".md",
    pattern="reviews/review-{date}.md",
    template="review.md.j2",
    slug_from="date",
)
EXPERIMENT = NoteKind(
    name="experiment",
    folder="experiments/notebooks",
    suffix=".ipynb",
    pattern="experiments/notebooks/{slug}.ipynb",
    template="experiments/skeleton.py.j2",
    slug_from="title",
    subfolders=False,
    frontmatter=False,
)

KINDS: tuple[NoteKind, ...] = (PAPER, CONCEPT, WEEKLY, REVIEW, EXPERIMENT)
BY_NAME = {kind.name: kind for kind in KINDS}
STUDY = tuple(kind for kind in KINDS if kind.study)
# Folders `lab init` creates besides those of the kinds.
EXTRA_FOLDERS = ("experiments/scripts", "resources")


def init_folders() -> tuple[str, ...]:
    folders: list[str] = []
    for kind in KINDS:
        if "{category}" in kind.pattern:
            folders += [f"{kind.folder}/{category}" for category in CATEGORIES]
        else:
            folders.append(kind.folder)
    return (*folders, *EXTRA_FOLDERS)


def kind_of(relative: str) -> NoteKind | None:
    """The kind of a lab file, from where it lives (None: not a note of any kind)."""
    parts = relative.split("/")
    name = parts[-1]
    if name.startswith(".") or name.lower() == "readme.md":
        return None
    for kind in KINDS:
        depth = kind.folder.count("/") + 1
        if (
            name.endswith(kind.suffix)
            and parts[:depth] == kind.folder.split("/")
            and (len(parts) > depth if kind.subfolders else len(parts) == depth + 1)
        ):
            return kind
    return None
