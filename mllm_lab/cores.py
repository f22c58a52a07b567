"""How many cores this process may run on: its CPU affinity (`taskset`, a container's cpuset),
not the machine's count. On one usable core a worker process only adds its start and the
copying of its answers back."""

from __future__ import annotations

import os


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
