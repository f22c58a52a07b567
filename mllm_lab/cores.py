"""What this process runs on: how many cores it may use (its CPU affinity: `taskset`, a
container's cpuset, not the machine's count; on one usable core a worker process only adds its
start and the copying of its answers back), and its garbage collector's pauses."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator


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
