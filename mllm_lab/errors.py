"""Every error a user can cause. Exceptions carry data and never print; the CLI turns them
into one line on stderr and an exit code."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class LabError(Exception):
    """A problem the user can fix. `str(error)` is the one-line message."""

    exit_code = 1


class NotALab(LabError):
    def __init__(self, start: Path) -> None:
        super().__init__(
            f"{start}: not inside a lab (no lab.toml here or above); "
            "run `lab init` to create one, or pass --root / set LAB_ROOT"
        )


class InvalidValue(LabError):
    """A value outside its allowed set; the message lists the valid values."""

    def __init__(self, what: str, value: object, valid: Iterable[str]) -> None:
        self.what, self.value, self.valid = what, value, list(valid)
        super().__init__(f"unknown {what} {value!r}; valid: {', '.join(self.valid)}")


class BadInput(LabError):
    """Malformed input that has no finite set of valid values (a date, a week, a slug)."""


class NoteExists(LabError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path}: already exists; use --force to overwrite, or --slug to pick another name"
        )


class OutsideLab(LabError):
    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: refused, this path leaves the lab")


class PaperNotFound(LabError):
    def __init__(self, query: str) -> None:
        self.query = query
        super().__init__(f"no paper matches {query!r}; `lab list papers` shows them all")


class AmbiguousPaper(LabError):
    def __init__(self, query: str, candidates: list[str]) -> None:
        self.query, self.candidates = query, candidates
        shown = ", ".join(candidates[:10]) + (" …" if len(candidates) > 10 else "")
        super().__init__(
            f"{query!r} matches {len(candidates)} papers: {shown}; give more of the key"
        )


class HandEdited(LabError):
    """A generated region was changed by hand in a way the tool cannot take in."""

    SYNC_REMEDY = (
        "move your text outside the lab:begin/lab:end markers, or run `lab sync --force` "
        "to regenerate it (the old region is kept in .lab-trash/)"
    )

    def __init__(self, path: str, line: int, what: str, remedy: str = SYNC_REMEDY) -> None:
        self.path, self.line = path, line
        super().__init__(
            f"{path}:{line}: the generated region was edited by hand ({what}); {remedy}"
        )


class DamagedRegion(LabError):
    """The markers of a generated region do not pair up; nothing is written until repaired."""

    def __init__(
        self, path: str, line: int, what: str, name: str, problem: str = "", outer: str = ""
    ) -> None:
        self.path, self.line, self.what, self.name = path, line, what, name
        self.problem, self.outer = problem, outer
        super().__init__(
            f"{path}:{line}: damaged generated region: {what}; run `lab sync --repair` to fix "
            "the markers (nothing outside them is changed), then `lab sync`"
        )


class BrokenNote(LabError):
    def __init__(self, path: str, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        super().__init__(f"{path}:{line}: {message}")


class TemplateProblem(LabError):
    def __init__(self, name: str, line: int | None, message: str) -> None:
        where = f"{name}:{line}" if line else name
        super().__init__(f"template {where}: {message}")


class WriteFailed(LabError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: could not write ({reason}); nothing was changed")


class LabBusy(LabError):
    def __init__(self, lock: str, seconds: float) -> None:
        super().__init__(
            f"{lock}: another lab command has held the lock for {seconds:.0f}s; try again"
        )
