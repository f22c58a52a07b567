"""All writing to disk happens here: atomic replace, exclusive create, and the lab lock."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mllm_lab.errors import BrokenNote, LabBusy, NoteExists, WriteFailed

LOCK_TIMEOUT = float(os.environ.get("LAB_LOCK_TIMEOUT", "60"))


def read_text(path: Path, shown: str | None = None) -> str:
    """A text file as written (CRLF kept). Not UTF-8 -> BrokenNote with the line of the bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise BrokenNote(shown or str(path), line, "not UTF-8 text (binary file?)") from None


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return "no space left on the disk"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied"
    return error.strerror or type(error).__name__


def write_atomic(
    path: Path, text: str, *, exclusive: bool = False, shown: str | None = None
) -> None:
    """Write `text` so that `path` holds either its old content or all of the new, never half.

    The text goes to a temporary file in the same folder, is flushed to disk, then renamed over
    `path`. With `exclusive`, an existing `path` is never replaced: the temporary file is
    hard-linked into place, which fails atomically if `path` appeared meanwhile."""
    shown = shown or str(path)
    data = text.encode("utf-8", "surrogatepass")
    folder = path.parent
    tmp: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            _link_into_place(tmp, path, shown)
        else:
            try:
                mode = os.stat(path).st_mode & 0o7777
            except FileNotFoundError:
                mode = 0o666 & ~_umask()
            os.chmod(tmp, mode)
            os.replace(tmp, path)
            tmp = None
    except OSError as error:
        raise WriteFailed(shown, _reason(error)) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _link_into_place(tmp: str, path: Path, shown: str) -> None:
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise NoteExists(shown) from None
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        try:  # a file system without hard links: claim the name first, then fill it atomically
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            raise NoteExists(shown) from None
        os.replace(tmp, path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold the lab's lock: one writer at a time; others wait up to LAB_LOCK_TIMEOUT seconds.

    On POSIX this is flock(2) on .lab/lock, released by the kernel even if the process is
    killed; elsewhere the filelock library does the same job."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        import fcntl
    except ImportError:  # Windows
        from filelock import FileLock, Timeout

        lock = FileLock(str(lock_path), timeout=LOCK_TIMEOUT)
        try:
            lock.acquire()
        except Timeout:
            raise LabBusy(str(lock_path), time.monotonic() - started) from None
        try:
            yield
        finally:
            lock.release()
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - started > LOCK_TIMEOUT:
                    raise LabBusy(str(lock_path), time.monotonic() - started) from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
