"""The lab lock: one writing command at a time; others wait up to $LAB_LOCK_TIMEOUT seconds."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from mllm_lab.errors import BadInput, LabBusy, WriteFailed
from mllm_lab.storage import reason_of

LOCK_ENV = "LAB_LOCK_TIMEOUT"
_HELD: set[int] = set()  # descriptors of the locks this process holds


def _forget_in_child() -> None:
    """A process forked while the lock is held (a cold scan's workers) closes its copy of
    the lock's descriptor: flock(2) belongs to the open file, so a worker left alive by a
    `kill -9` of the command would hold the lock for every later command."""
    for fd in _HELD:
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_in_child)


def lock_timeout() -> float:
    raw = os.environ.get(LOCK_ENV, "60")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 10**6:
        raise BadInput("error.lock_timeout", name=LOCK_ENV, value=repr(raw))
    return value


@contextlib.contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold the lab's lock: one writer at a time; others wait up to $LAB_LOCK_TIMEOUT seconds.

    On POSIX this is flock(2) on .lab/lock, released by the kernel even if the process is
    killed (a process it forks does not keep it: _forget_in_child); elsewhere the filelock
    library does the same job."""
    timeout = lock_timeout()
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WriteFailed(str(lock_path.parent), reason_of(error)) from None
    started = time.monotonic()
    try:
        import fcntl  # POSIX; Windows has no fcntl
    except ImportError:  # Windows
        from filelock import FileLock, Timeout

        lock = FileLock(str(lock_path), timeout=timeout)
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
                if time.monotonic() - started >= timeout:
                    raise LabBusy(str(lock_path), time.monotonic() - started) from None
                time.sleep(0.01)
        _HELD.add(fd)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)  # closing the descriptor releases the lock
