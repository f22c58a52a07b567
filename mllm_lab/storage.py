"""All reading and writing of lab files happens here: one guarded `read_text`, a commit of
several files that a crash leaves either all old or all new, exclusive create, backups of what
is replaced, and the lab lock.

How a commit survives a crash. Every new file is first written in full to `.lab/tmp/` and
flushed; then a journal (`.lab/commit.json`) naming each temp file and its target is written
atomically; only then are the temp files renamed (or, for a file that must not exist yet,
hard-linked) into place, and the journal removed. A crash before the journal exists leaves the
old files and some temp files, which the next command deletes. A crash after it leaves a
journal whose every temp file is complete, so the next command finishes the renames: the lab
is then in the new state. `recover` does that, under the lock, before any command reads."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from mllm_lab.errors import BrokenNote, NoteExists, OutsideLab, SameFile, WriteFailed

MAX_READ_BYTES = 16 * 1024 * 1024
STATE_DIR = ".lab"
TMP_DIR = ".lab/tmp"
JOURNAL = ".lab/commit.json"
TRASH_DIR = ".lab-trash"
CRASH_ENV = "LAB_CRASH_AT"  # tests: SIGKILL the process at the Nth write point
POINTS_ENV = "LAB_WRITE_POINTS"  # tests: print each write point's name to stderr


# --- reading -------------------------------------------------------------------------------


def process_gone(pid: int) -> bool:
    """No process of this pid runs: a temporary file or folder named by it is left behind.
    (A pid of another user's process, or none at all, is not ours to judge: False.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return False


def open_regular(path: Path | str) -> BinaryIO:
    """A file of lab's own state (.lab/) opened to read, refused (OSError) unless it is a
    regular file: opened without blocking, so a pipe put in its place cannot hang a command."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text(path: Path | str, shown: str | None = None, limit: int = MAX_READ_BYTES) -> str:
    """A text file as written (CRLF kept). A file that is too big, not UTF-8, binary, or a
    symlink loop is a BrokenNote naming the line of the problem, never a traceback."""
    shown = shown or str(path)
    try:  # non-blocking, so a pipe named like a note cannot hang the command
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise BrokenNote(shown, 1, "file.folder")
            if not stat.S_ISREG(st.st_mode):
                raise BrokenNote(shown, 1, "file.not_regular")
            data = _read_fd(fd, st.st_size, limit + 1)
        finally:
            os.close(fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise BrokenNote(shown, 1, "file.loop") from None
        if error.errno == errno.EISDIR:
            raise BrokenNote(shown, 1, "file.folder") from None
        raise
    if len(data) > limit:
        raise BrokenNote(shown, 1, "file.too_big", mb=limit // 2**20)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BrokenNote(shown, line, "file.not_utf8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BrokenNote(shown, line, "file.binary")
    return text


def _read_fd(fd: int, size: int, most: int) -> bytes:
    """Up to `most` bytes of an open file, to its end (a read that gives nothing): the
    `size` its stat gave asked for at once, plus a byte. Not a buffered file's read(most):
    that allocates `most` bytes (16 MB) for every note, which made a cold scan of 10,000
    notes 40% slower."""
    first = os.read(fd, min(size + 1, most))
    parts, total = [first], len(first)
    while total < most:  # a file that grew, or a file system that answers in parts
        more = os.read(fd, min(1 << 20, most - total))
        if not more:
            break
        parts.append(more)
        total += len(more)
    return first if len(parts) == 1 else b"".join(parts)


# --- write points (for crash tests) ---------------------------------------------------------

_points = 0


def write_point(name: str) -> None:
    """A place where a crash must leave the lab consistent. Tests list them (LAB_WRITE_POINTS)
    and kill the process at each one in turn (LAB_CRASH_AT=N)."""
    global _points
    _points += 1
    if os.environ.get(POINTS_ENV):
        os.write(2, f"write point {_points}: {name}\n".encode())
    crash_at = os.environ.get(CRASH_ENV)
    if crash_at and crash_at.isdigit() and int(crash_at) == _points:
        import signal  # only crash tests get here

        os.kill(os.getpid(), signal.SIGKILL)


# --- writing -------------------------------------------------------------------------------


def reason_of(error: OSError) -> str:
    """A reason code the message catalog names (no_space, permission), else the OS's words."""
    if error.errno == errno.ENOSPC:
        return "no_space"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission"
    return error.strerror or type(error).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


Pieces = Sequence[bytes | bytearray | memoryview]  # written one after another, not joined


def _write_temp(
    folder: Path, name: str, data: bytes | Pieces, mode: int, sync: bool = True
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / name
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            for piece in (data,) if isinstance(data, bytes) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, mode)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def write_atomic(
    path: Path, text: str | bytes | Pieces, *, shown: str | None = None, sync: bool = True
) -> None:
    """One file (a cache, a config) replaced atomically: temp file beside it, fsync, rename.
    `sync=False` skips the fsync: for caches, which a crash may leave torn (their readers
    check them) but which are then only made again. `text` may be bytes already encoded, or
    pieces of bytes (a big cache is not copied into one)."""
    shown = shown or str(path)
    tmp: Path | None = None
    try:
        mode = os.stat(path).st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        tmp = _write_temp(
            folder=path.parent,
            name=f".{path.name}.{os.getpid()}.lab-tmp",
            data=_encode(text) if isinstance(text, str) else text,
            mode=mode,
            sync=sync,
        )
        os.replace(tmp, path)
        tmp = None
    except OSError as error:
        raise WriteFailed(shown, reason_of(error)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


class Change(NamedTuple):
    """One file of a commit: `path` is lab-relative; `exclusive` means it must not exist yet."""

    path: str
    text: str
    exclusive: bool = False


def commit(root: Path, changes: Sequence[Change]) -> None:
    """Write every change so that a crash or a failed write leaves all of them old or all new.

    A file that must not exist yet and does is NoteExists before anything has changed. A
    write that fails (disk full, permission) before the journal is written leaves every file
    as it was; after it, the next command finishes the commit."""
    if not changes:
        return
    for change in changes:
        if change.exclusive and os.path.lexists(root / change.path):
            raise NoteExists(change.path)
    changes = through_links(root, changes)
    ops = _stage(root, sorted(changes, key=lambda change: not change.exclusive))
    write_point("journal written")
    _claim(root, ops)
    _apply(root, ops)


def through_links(root: Path, changes: Sequence[Change]) -> list[Change]:
    """The changes, each to the file it really writes (see _through_link); SameFile when two
    of them write one file (one a symlink to the other): the second would undo the first."""
    written: dict[str, str] = {}  # by the real path, the change's own
    for change in changes:
        real = _through_link(root, change).path
        if real in written:
            raise SameFile(change.path, written[real])
        written[real] = change.path
    return [change._replace(path=real) for real, change in zip(written, changes, strict=True)]


def _through_link(root: Path, change: Change) -> Change:
    """A file that is a symbolic link is written where the link leads, and the link stays, as
    an editor keeps it (renamed over, the link would become a copy, and the file it led to
    would keep the old text). Lab.path has refused a link that leads out of the lab."""
    where = root / change.path
    if change.exclusive or not os.path.islink(where):
        return change
    real = Path(os.path.realpath(where))
    try:
        inside = real.relative_to(os.path.realpath(root))
    except ValueError:
        raise OutsideLab(change.path) from None
    return change._replace(path=inside.as_posix())


def _stage(root: Path, ordered: Sequence[Change]) -> list[dict[str, object]]:
    """Every new text complete in a temp file, then the journal naming them all."""
    tmp_dir = root / TMP_DIR
    ops: list[dict[str, object]] = []
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    try:
        for number, change in enumerate(ordered):
            target = root / change.path
            try:
                mode = 0o666 & ~_umask() if change.exclusive else os.stat(target).st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~_umask()
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = _write_temp(
                folder=tmp_dir, name=f"{stamp}-{number}.tmp", data=_encode(change.text), mode=mode
            )
            before = None if change.exclusive else _fingerprint(target)
            ops.append(
                {
                    "tmp": tmp.name,
                    "path": change.path,
                    "exclusive": change.exclusive,
                    "before": before,
                }
            )
            write_point(f"temp file for {change.path}")
        write_atomic(root / JOURNAL, json.dumps({"ops": ops}))
    except (OSError, WriteFailed) as error:
        _discard(tmp_dir, ops)
        failed = ordered[len(ops)].path if len(ops) < len(ordered) else ordered[-1].path
        reason = reason_of(error) if isinstance(error, OSError) else error.reason
        raise WriteFailed(failed, reason) from None
    return ops


def _claim(root: Path, ops: list[dict[str, object]]) -> None:
    """Link every new file into place before any existing file changes; if one appeared since
    the check, undo the claims and drop the commit: nothing has changed yet."""
    tmp_dir = root / TMP_DIR
    linked: list[str] = []
    try:
        for op in ops:
            if not op["exclusive"]:
                break
            _link(tmp_dir / str(op["tmp"]), root / str(op["path"]), str(op["path"]))
            linked.append(str(op["path"]))
            write_point(f"created {op['path']}")
    except (NoteExists, OSError) as problem:
        for path in linked:
            with contextlib.suppress(OSError):
                (root / path).unlink()
        _discard(tmp_dir, ops)
        with contextlib.suppress(OSError):
            (root / JOURNAL).unlink()
        if isinstance(problem, NoteExists):
            raise
        raise WriteFailed(str(ops[len(linked)]["path"]), reason_of(problem)) from None


def _link(tmp: Path, target: Path, shown: str) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise NoteExists(shown) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        try:  # no hard links here: claim the name, then fill it from the complete temp file
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~_umask()))
        except FileExistsError:
            raise NoteExists(shown) from None
        shutil.copyfile(tmp, target)


def _fingerprint(path: Path) -> str | None:
    """A hash of a file's bytes (None: it does not exist), to notice a change by someone else."""
    try:
        import hashlib  # OpenSSL's import (5-7 ms) only where it is used

        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _changed_since(tmp: Path, target: Path, op: dict[str, object]) -> bool:
    """While a crashed commit waited, was its target changed by someone else? Then finishing
    the commit would overwrite their work."""
    if op["exclusive"]:
        return os.path.lexists(target) and not os.path.samefile(tmp, target)
    now = _fingerprint(target)
    return now != op.get("before") and now != _fingerprint(tmp)


def _apply(root: Path, ops: list[dict[str, object]], recovering: bool = False) -> list[str]:
    """Finish a journaled commit: rename every temp file that is still there into place. When
    recovering, a target changed since the crash is kept, and lab's version goes to
    .lab-trash/; returns where those versions went."""
    tmp_dir = root / TMP_DIR
    folders = set()
    set_aside: list[str] = []
    for op in ops:
        tmp = tmp_dir / str(op["tmp"])
        target = root / str(op["path"])
        if not tmp.exists():
            continue  # already renamed before a crash
        if recovering and _changed_since(tmp, target, op):
            where = backup_path(
                root=root, relative=f"{op['path']}.unapplied", when=datetime.now(), taken=set()
            )
            backup(root, where, tmp.read_bytes().decode("utf-8", "surrogatepass"))
            tmp.unlink()
            set_aside.append(where)
            continue
        if op["exclusive"]:
            if not os.path.lexists(target):
                _link(tmp, target, str(op["path"]))
            tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.replace(tmp, target)
            except OSError as error:
                if error.errno != errno.EXDEV:
                    raise
                shutil.copyfile(tmp, target)
                tmp.unlink()
        folders.add(target.parent)
        write_point(f"replaced {op['path']}")
    for folder in folders:
        _fsync_dir(folder)
    with contextlib.suppress(FileNotFoundError):
        (root / JOURNAL).unlink()
    write_point("journal removed")
    return set_aside


def _discard(tmp_dir: Path, ops: list[dict[str, object]]) -> None:
    for op in ops:
        with contextlib.suppress(OSError):
            (tmp_dir / str(op["tmp"])).unlink()


def recover(root: Path) -> list[str]:
    """Finish a commit a crash interrupted, and delete temp files left by any other crash.
    Returns where lab's version of a file changed since the crash was set aside. Call it
    holding the lock."""
    journal = root / JOURNAL
    done: list[str] = []
    if journal.exists():
        try:
            ops = json.loads(journal.read_text("utf-8"))["ops"]
            if not isinstance(ops, list):
                raise ValueError
        except (OSError, ValueError, KeyError, TypeError):
            ops = []  # written atomically, so unreadable means foreign: nothing to finish
        if ops:
            done = _apply(root, ops, recovering=True)
        with contextlib.suppress(FileNotFoundError):
            journal.unlink()
    tmp_dir = root / TMP_DIR
    if tmp_dir.is_dir():
        for leftover in tmp_dir.iterdir():
            if leftover.name.endswith(".tmp"):  # lab's own: nothing else is deleted there
                with contextlib.suppress(OSError):
                    leftover.unlink()
    return done


def remove_strays(root: Path, strays: Sequence[str]) -> None:
    """Delete temp files a killed older version left beside notes (`.NAME.xxxxxxxx.tmp`)."""
    for stray in strays:
        with contextlib.suppress(OSError):
            (root / stray).unlink()


def pending_commit(root: Path) -> bool:
    return (root / JOURNAL).exists()


# --- backups -------------------------------------------------------------------------------


def backup_path(root: Path, relative: str, when: datetime, taken: set[str]) -> str:
    """Where a backup of `relative` goes: .lab-trash/<time>/<relative>, numbered if needed."""
    folder = f"{TRASH_DIR}/{when.strftime('%Y-%m-%dT%H-%M-%S')}"
    where = f"{folder}/{relative}"
    number = 1
    while where in taken or (root / where).exists():
        number += 1
        where = f"{folder}/{relative}.{number}"
    return where


def backup(root: Path, where: str, text: str) -> None:
    """Keep `text` (what a forced write or a repair replaces) at `where` under .lab-trash/,
    which is not a cache: nothing deletes it."""
    target = root / where
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        ignore = root / TRASH_DIR / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# backups kept by `lab`; never committed, never deleted by lab\n*\n")
        target.write_bytes(_encode(text))
    except OSError as error:
        raise WriteFailed(TRASH_DIR, reason_of(error)) from None
    write_point(f"backup of {where}")
