"""The lab's data: statuses, roadmap stages, papers, notes, experiments, weeks."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

from mllm_lab import kinds
from mllm_lab.kinds import NoteKind
from mllm_lab.messages import Msg


def strings(value: object) -> list[str]:
    """A list-of-strings field, also written as one comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return [str(item) for item in value if item is not None]
    return []


class Status(StrEnum):
    UNREAD = "unread"
    READING = "reading"
    READ = "read"

    @property
    def emoji(self) -> str:
        return STATUS_EMOJI[self]


STATUS_EMOJI = {Status.UNREAD: "⬜", Status.READING: "📖", Status.READ: "✅"}
STATUS_ALIASES = {
    **{s.value: s for s in Status},
    **{e: s for s, e in STATUS_EMOJI.items()},
    **{e + "\ufe0f": s for s, e in STATUS_EMOJI.items()},
    "未读": Status.UNREAD,
    "在读": Status.READING,
    "已读": Status.READ,
    "todo": Status.UNREAD,
    "done": Status.READ,
}

LANGS = ("zh", "en")
# Where things live in a lab, relative to its root.
CONFIG_FILE = "lab.toml"
STATE_DIR = ".lab"
READING_LIST = "papers/reading-list.yaml"
QUIZ_LOG = "reviews/quiz-log.jsonl"  # `lab quiz`'s review log, one JSON line per answer
PAPERS_README = "papers/README.md"
NOTES_README = "notes/README.md"
LAB_README = "README.md"
GENERATED_FILES = frozenset({LAB_README, PAPERS_README, NOTES_README})  # the views' files
# the lines git writes around a merge conflict (diff3's `|||||||` too), at a line's start
CONFLICT_LINES = ("<<<<<<<", "|||||||", ">>>>>>>")
STAGE_NUMBERS = (1, 2, 3, 4, 5)
# The architecture facets a paper note's frontmatter holds (see core/facets.py), and the
# reading-list topics whose papers are multimodal models that have them.
FACET_FIELDS = ("vision_encoder", "connector", "llm", "resolution")
FACET_TOPICS = ("multimodal", "vla")
# The connector vocabulary of the checked reference (models.yaml): a connector is one of these.
CONNECTORS: tuple[str, ...] = (
    "linear projection",
    "MLP (2-layer)",
    "MLP (3-layer)",
    "MLP (depth unconfirmed)",
    "Q-Former",
    "Perceiver Resampler + gated cross-attention",
    "cross-attention resampler",
    "gated cross-attention",
    "visual expert",
    "none",
)
# A concept note's stage when none is given: the category's place on the roadmap.
CATEGORY_STAGE = {
    "fundamentals": 1,
    "vision-language": 2,
    "multimodal-arch": 3,
    "training": 4,
    "applications": 5,
}


class Paper(NamedTuple):
    key: str
    title: str
    status: Status = Status.UNREAD
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    arxiv: str | None = None
    doi: str | None = None  # e.g. 10.1109/CVPR52688.2022.01553, as written
    url: str | None = None
    bibkey: str | None = None  # the citation key BibTeX files know it by (`lab import bibtex`)
    topic: str = "other"
    stage: int | None = None
    tags: tuple[str, ...] = ()
    created: date | None = None
    started: date | None = None
    finished: date | None = None
    history: tuple[str, ...] = ()  # "YYYY-MM-DD status", oldest first: every status change
    # architecture facets of a multimodal model (FACET_FIELDS), as its note or list entry says
    vision_encoder: str | None = None
    connector: str | None = None
    llm: str | None = None
    resolution: str | None = None
    note: str | None = None  # lab-relative path of the paper's note, if it has one
    line: int = 1  # where its status is written (note frontmatter or reading list)
    problem: Finding | None = None  # why its note cannot be read (this is its last known row)

    @property
    def link(self) -> str | None:
        if self.url:
            return self.url
        if self.arxiv:
            return f"https://arxiv.org/abs/{self.arxiv}"
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def facets(self) -> dict[str, str]:
        """The architecture facets it has (empty ones left out), in FACET_FIELDS order."""
        found = {name: getattr(self, name) for name in FACET_FIELDS}
        return {name: value for name, value in found.items() if value}


class Note(NamedTuple):
    """A Markdown note of any kind: concept, paper, weekly log or review."""

    path: str  # lab-relative, with forward slashes
    kind: NoteKind
    title: str
    category: str | None = None
    stage: int | None = None
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    created: date | None = None


class Experiment(NamedTuple):
    path: str
    title: str
    created: date | None = None
    topic: str = ""


class Week:
    """An ISO week, named by its ISO year: 2027-01-01 is 2026-W53. A plain class: as a frozen,
    ordered dataclass it cost 1 ms of every command's start (Python 3.11 compiles each of a
    dataclass's ten generated methods on import)."""

    __slots__ = ("_days", "number", "year")

    def __init__(self, year: int, number: int) -> None:
        self.year = year
        self.number = number
        self._days: tuple[date, date] | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Week):
            return NotImplemented
        return (self.year, self.number) == (other.year, other.number)

    def __hash__(self) -> int:
        return hash((self.year, self.number))

    def __repr__(self) -> str:
        return f"Week(year={self.year}, number={self.number})"

    @property
    def name(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def log_path(self) -> str:
        """The week's log in the lab (kinds.WEEKLY's pattern)."""
        return kinds.WEEKLY.pattern.format(week=self.name)

    @property
    def monday(self) -> date:
        return self.days[0]

    @property
    def sunday(self) -> date:
        return self.days[1]

    @property
    def days(self) -> tuple[date, date]:
        """Its Monday and Sunday, worked out once (`contains` is asked of every note)."""
        if self._days is None:
            self._days = (
                date.fromisocalendar(self.year, self.number, 1),
                date.fromisocalendar(self.year, self.number, 7),
            )
        return self._days

    def contains(self, day: date | None) -> bool:
        if day is None:
            return False
        monday, sunday = self.days
        return monday <= day <= sunday

    @classmethod
    def of(cls, day: date) -> Week:
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def valid(self) -> bool:
        """Both ends of the week are dates Python can hold (year 1 to 9999)."""
        try:
            return self.monday <= self.sunday
        except (ValueError, OverflowError):
            return False


class Finding(NamedTuple):
    """One problem found in the lab, reported as `path:line: message`."""

    path: str
    line: int
    msg: Msg
    skipped: bool = False  # the file makes nothing for it: no note, or no paper for a paper note

    @classmethod
    def of(cls, path: str, line: int, name: str, /, **params: Any) -> Finding:
        return cls(path, line, Msg.of(name, **params))

    @property
    def message(self) -> str:
        return self.msg.render()

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


WARNINGS_SHOWN = 3  # problems a command names before summing them up in one line


class Brief(NamedTuple):
    """What a command says of the problems it met while reading the lab (see in_brief)."""

    shown: list[tuple[str, bool]]  # the first few, as text, and whether their file was skipped
    total: int
    skipped: int  # files left out (Finding.skipped)
    bare: int  # paper notes without frontmatter


def in_brief(findings: list[Finding]) -> Brief:
    """The first few problems as text, how many there are, how many left their file out of
    the lab (a note other than a paper's that does not read), and how many are paper notes
    without frontmatter (a repository lab did not write). The others keep what still reads:
    a paper's row, marked ⚠️; a note, without the field that does not read."""
    shown = [(str(f), f.skipped) for f in findings[:WARNINGS_SHOWN]]
    skipped = sum(f.skipped for f in findings)
    bare = sum(f.msg.name == "note.no_frontmatter" for f in findings)
    return Brief(shown, len(findings), skipped, bare)


def with_skipped_files(skipped: list[Finding], brief: Brief) -> Brief:
    """`brief` (of what the lab's records say) with the files the walk skipped before it (a
    pipe, a dangling symlink: the walk finds them every time, no record holds them)."""
    if not skipped:
        return brief
    shown = [*((str(f), True) for f in skipped), *brief.shown][:WARNINGS_SHOWN]
    return Brief(shown, brief.total + len(skipped), brief.skipped + len(skipped), brief.bare)
