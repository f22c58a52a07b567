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
    killed; elsewhere the filelock library does the same job."""
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
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
