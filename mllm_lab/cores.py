"""What this process runs on: how many cores it may use (its CPU affinity: `taskset`, a
container's cpuset, not the machine's count; on one usable core a worker process only adds its
start and the copying of its answers back), and its garbage collector's pauses."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")
AHEAD = 3  # chunks the worker is given before it has answered


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while the index is loaded and the lab built: that
    makes ~200,000 objects which all live until the command ends and hold no cycles, so the
    collector's passes over them are pure cost (about a tenth of a warm command)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # and keep them out of later passes too: they live until the command ends
        if was_enabled:
            gc.enable()


def in_two_processes(
    work: Callable[[Chunk], list[Result]], chunks: Iterable[Chunk]
) -> Iterator[Result]:
    """What `work` makes of every chunk, in no set order, with one worker process: it takes
    chunks from the front while this one works on chunks from the back whenever none of the
    worker's answers is ready, so neither waits for the other, however long a chunk takes or
    whatever this process does with each result between chunks. The worker is given AHEAD
    chunks at a time: its answers never pile up, in it or here (given half of the notes at
    once, a first `lab quiz` at 50,000 notes held 92 MB more while the answer came back).
    A worker that dies (out of memory, a kill) leaves its chunks to this process.
    `work` goes to the worker: a module's function, or a functools.partial of one. The worker
    is a fresh interpreter, not a fork of this one, which it would copy page by page as it
    touched this one's data."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    todo = deque(chunks)
    pending: deque[tuple[Future[list[Result]], Chunk]] = deque()  # given to the worker
    spawn = multiprocessing.get_context("spawn")
    try:
        with contextlib.ExitStack() as stack:
            with quiet_output():  # the worker (and the resource tracker) inherit it
                pool = stack.enter_context(
                    ProcessPoolExecutor(
                        1, mp_context=spawn, initializer=end_with_parent, initargs=(os.getpid(),)
                    )
                )

                def feed() -> None:
                    while todo and len(pending) < AHEAD:
                        pending.append((pool.submit(work, todo[0]), todo[0]))
                        todo.popleft()

                feed()  # the worker starts here
            while pending or todo:
                if pending and (pending[0][0].done() or not todo):
                    done = pending[0][0].result()
                    pending.popleft()
                    feed()
                    yield from done
                else:
                    yield from work(todo.pop())
    except BrokenProcessPool:
        for _, chunk in pending:
            yield from work(chunk)
        for chunk in todo:
            yield from work(chunk)


def end_with_parent(parent: int) -> None:
    """A worker process's start: it ends with the command that started it. On Linux the
    kernel kills it when the command dies (a `kill -9` of a scan's command left its worker
    waiting for ever on a pipe the other workers held open; a `kill` of a first `lab quiz`
    left its worker running), and it does not keep the command's output open either (a
    script reading that output waited for it too)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent and os.getppid() != parent:  # the command died before that took hold
        os._exit(1)
    with contextlib.suppress(OSError):
        quiet = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        os.close(quiet)


@contextlib.contextmanager
def quiet_output() -> Iterator[None]:
    """This process's output (fds 1 and 2) pointed at /dev/null for a moment, while worker
    processes are started: they are born with it. A spawned worker imports lab before
    end_with_parent runs; a Ctrl-C then printed its KeyboardInterrupt traceback under the
    command's own message, and the resource tracker that comes with a spawned pool warned of
    "leaked semaphore objects" when the command was stopped with SIGTERM. Nothing is written
    here meanwhile: the command is starting the pool. A Ctrl-C meanwhile is felt once the
    output is back (raised in the middle of putting it back, it left stderr at /dev/null)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.flush()
    held: list[int] = []
    main = threading.current_thread() is threading.main_thread()
    before = (
        signal.signal(signal.SIGINT, lambda number, _frame: held.append(number)) if main else None
    )
    kept: list[tuple[int, int]] = []
    quiet = -1
    try:
        with contextlib.suppress(OSError):
            quiet = os.open(os.devnull, os.O_WRONLY)
            for fd in (1, 2):
                with contextlib.suppress(OSError):  # a closed stream stays closed
                    kept.append((fd, os.dup(fd)))
                    os.dup2(quiet, fd)
        yield
    finally:
        for fd, copy in kept:
            os.dup2(copy, fd)
            os.close(copy)
        if quiet >= 0:
            os.close(quiet)
        if main:
            signal.signal(signal.SIGINT, before)
            if held:
                signal.raise_signal(signal.SIGINT)  # as the handler in place says: as if now


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
