"""Every error a user can cause. Exceptions carry data and a message by name (rendered in the
session's language when shown) and never print; the CLI turns them into one line on stderr
and an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mllm_lab.messages import Msg
from mllm_lab.models import GENERATED_FILES


class LabError(Exception):
    """A problem the user can fix. `str(error)` is the one-line message."""

    exit_code = 1

    def __init__(self, name: str, /, **params: Any) -> None:
        self.msg = Msg.of(name, **params)
        super().__init__(name)

    def __str__(self) -> str:
        return self.msg.render()


class NotALab(LabError):
    def __init__(self, start: Path) -> None:
        super().__init__("error.not_a_lab", start=str(start))


class InvalidValue(LabError):
    """A value outside its allowed set; the message lists the valid values."""

    def __init__(self, what: str, value: object, valid: Iterable[str]) -> None:
        self.what, self.value, self.valid = what, value, list(valid)
        super().__init__(
            "error.invalid_value",
            what=Msg.of(f"what.{what}"),
            value=repr(value),
            valid=", ".join(self.valid),
        )


class BadInput(LabError):
    """Malformed input that has no finite set of valid values (a date, a week, a slug)."""


class NoteExists(LabError):
    """`rename`: the option that picks another name for this kind of file, if it has one."""

    def __init__(self, path: str, rename: str | None = None) -> None:
        self.path = path
        if rename:
            super().__init__("error.note_exists_rename", path=path, rename=rename)
        else:
            super().__init__("error.note_exists", path=path)


class OutsideLab(LabError):
    def __init__(self, path: str) -> None:
        super().__init__("error.outside_lab", path=path)


class IntoState(OutsideLab):
    """A lab file that is a symlink into .lab/, lab's cache, which lab empties and rebuilds."""

    def __init__(self, path: str) -> None:
        LabError.__init__(self, "error.into_state", path=path)


class SameFile(LabError):
    """Two files one command writes are one file (a symlink leads from one to the other):
    the second write would undo the first."""

    def __init__(self, path: str, other: str) -> None:
        super().__init__("error.same_file", path=path, other=other)


class PaperNotFound(LabError):
    def __init__(self, query: str, suggestions: str = "") -> None:
        self.query = query
        if suggestions:
            super().__init__(
                "error.paper_not_found_suggest", query=repr(query), suggestions=suggestions
            )
        else:
            super().__init__("error.paper_not_found", query=repr(query))


class AmbiguousPaper(LabError):
    def __init__(self, query: str, candidates: list[str]) -> None:
        """`candidates`: how each paper is shown ("blip-2 (BLIP-2: …)"), best first."""
        self.query, self.candidates = query, candidates
        shown = ", ".join(candidates[:5]) + (" …" if len(candidates) > 5 else "")
        super().__init__("error.paper_ambiguous", query=repr(query), n=len(candidates), shown=shown)


class HandEdited(LabError):
    """A generated region was changed by hand in a way the tool cannot take in."""

    def __init__(self, path: str, line: int, what: Msg, remedy: Msg | None = None) -> None:
        self.path, self.line = path, line
        remedy = remedy or Msg.of("remedy.sync_force")
        self.what, self.remedy = what, remedy
        super().__init__("error.hand_edited", path=path, line=line, what=what, remedy=remedy)


class DamagedRegion(LabError):
    """The markers of a generated region do not pair up; nothing is written until repaired."""

    def __init__(
        self, path: str, line: int, what: Msg, name: str, problem: str = "", outer: str = ""
    ) -> None:
        self.path, self.line, self.what, self.name = path, line, what, name
        self.problem, self.outer = problem, outer
        super().__init__("error.damaged_region", path=path, line=line, what=what)

    @property
    def check(self) -> str:
        """The message `lab check` gives it by (`what` as its parameter)."""
        return "check.damaged"


class MergeConflict(DamagedRegion):
    """A line git writes for a merge conflict (`<<<<<<< HEAD`, `>>>>>>> branch`) left in a
    file: which side to keep is the user's to say, so nothing is read from the file or written
    to it until then (`lab sync --repair` does not guess either)."""

    def __init__(self, path: str, line: int) -> None:
        self.path, self.line, self.name = path, line, ""
        self.problem, self.outer = "conflict", ""
        self.generated = path in GENERATED_FILES
        self.what = Msg.of("region.conflict")
        LabError.__init__(
            self,
            "error.conflict_view" if self.generated else "error.conflict",
            path=path,
            line=line,
        )

    @property
    def check(self) -> str:
        return "check.conflict_view" if self.generated else "check.conflict"


class Unrepairable(LabError):
    """Damaged markers `lab sync --repair` cannot put right without guessing."""

    def __init__(self, path: str, line: int, name: str, what: Msg) -> None:
        self.path, self.line, self.what = path, line, what
        super().__init__("error.unrepairable", path=path, line=line, name=name, what=what)


class BrokenNote(LabError):
    """A file `lab` cannot read in the shape it expects, at `path:line`."""

    def __init__(self, path: str, line: int, name: str, /, **params: Any) -> None:
        self.path, self.line = path, line
        self.detail = Msg.of(name, **params)
        super().__init__("error.at", path=path, line=line, what=self.detail)

    @property
    def message(self) -> str:
        return self.detail.render()


class TemplateProblem(LabError):
    def __init__(self, name: str, line: int | None, problem: Msg) -> None:
        self.name, self.line, self.problem = name, line, problem
        where = f"{name}:{line}" if line else name
        super().__init__("error.template", where=where, problem=problem)


class WriteFailed(LabError):
    def __init__(self, path: str, reason: str) -> None:
        self.reason = reason
        super().__init__(
            "error.write_failed",
            path=path,
            reason=Msg.of(f"reason.{reason}") if reason in REASONS else reason,
        )


REASONS = ("no_space", "permission", "no_hard_links")


class LabBusy(LabError):
    def __init__(self, lock: str, seconds: float) -> None:
        super().__init__("error.busy", lock=lock, seconds=f"{seconds:.0f}")
