"""Running one process for the benchmark: wall time, exit code, output, and memory.

- Output goes to a pipe that is read (as with `lab status | less` or an alias in a script), or
  to a pseudo-terminal of 120x40 cells with TERM set and NO_COLOR unset (a user's terminal):
  never /dev/null, so whatever `lab` does to print is timed.
- Wall time runs from just before the fork to the exit of the process (`os.wait4`).
- Memory, in a run of its own so the timed runs are not disturbed: the process tree sampled
  every 2 ms from /proc, RSS summed over the process and all its descendants (an upper bound:
  pages shared between a parent and its forked workers count once per process; a child that
  shares its parent's address space, between vfork and exec, is not counted), at least the
  main process's own high-water mark (VmHWM, which no sampling interval can miss), and PSS
  summed (shared pages split between the processes that share them: what the tree really
  costs the machine). Not `ru_maxrss` from wait4: on Linux it keeps the high-water mark of the
  forked copy of the *benchmark* from before exec, so it reports the benchmark's own size.
Linux only (/proc, and `taskset` for pinning)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import platform
import pty
import selectors
import signal
import struct
import subprocess
import termios
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 0.002  # seconds
TIMEOUT = 900.0  # seconds for one process: a hung command is killed and reported


@dataclass
class Run:
    seconds: float
    code: int
    stdout: str
    stderr: str
    tree_rss_mb: float | None = None  # sampled peak of RSS summed over the tree
    tree_pss_mb: float | None = None  # sampled peak of PSS summed over the tree
    processes: int = 1  # most processes seen at once in the tree (sampled runs)
    timed_out: bool = False


def _tree(pid: int) -> list[int]:
    """The process and all its descendants, from /proc/<pid>/task/<tid>/children."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", "rb") as handle:
                    stack.extend(int(child) for child in handle.read().split())
            except (OSError, ValueError):
                continue
    return found


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm", "rb") as handle:
        return int(handle.read().split()[1]) * PAGE


def _hwm(pid: int) -> int:
    with open(f"/proc/{pid}/status", "rb") as handle:
        for line in handle:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _pss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


_KCMP = {"x86_64": 312, "aarch64": 272, "arm64": 272}.get(platform.machine())
_KCMP_VM = 1


def _same_memory(pid: int, other: int) -> bool:
    """The two processes share one address space: a child between vfork and exec (Python
    starts its spawned workers and the resource tracker so). For that millisecond or so its
    RSS and PSS are its parent's, counted again; sampled then, the peak of a cold `lab check`
    at 50,000 notes came out 30-50 MB higher than in a run where it was missed. kcmp(2); False
    where it is not available."""
    libc = _libc()
    return libc is not None and libc.syscall(_KCMP, pid, other, _KCMP_VM, 0, 0) == 0


@functools.cache
def _libc() -> Any:
    if _KCMP is None:
        return None
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


class TreeSampler:
    """Samples the memory of a process tree in a thread until stopped. A process sharing the
    address space of one already counted (see _same_memory) is not counted again."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.rss = 0
        self.pss = 0
        self.pss_seen = False
        self.processes = 1
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            rss = pss = 0
            alive = 0
            counted: list[int] = []
            for pid in pids:
                if any(_same_memory(pid, other) for other in counted):
                    continue
                try:
                    rss += _rss(pid)
                except (OSError, ValueError, IndexError):
                    continue
                counted.append(pid)
                alive += 1
                one = _pss(pid)
                if one is not None:
                    pss += one
                    self.pss_seen = True
            with contextlib.suppress(OSError, ValueError, IndexError):
                rss = max(rss, _hwm(self.pid))
            self.rss = max(self.rss, rss)
            self.pss = max(self.pss, pss)
            self.processes = max(self.processes, alive)
            self._stop.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _drain(files: dict[int, list[bytes]]) -> threading.Thread:
    """Read every fd in `files` to its end in one thread (EIO ends a pseudo-terminal)."""

    def loop() -> None:
        selector = selectors.DefaultSelector()
        for fd in files:
            selector.register(fd, selectors.EVENT_READ)
        open_fds = set(files)
        while open_fds:
            for key, _ in selector.select():
                try:
                    chunk = os.read(key.fd, 65536)
                except OSError:
                    chunk = b""
                if chunk:
                    files[key.fd].append(chunk)
                else:
                    selector.unregister(key.fd)
                    open_fds.discard(key.fd)
        selector.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def run(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    tty: bool = False,
    sample: bool = False,
) -> Run:
    """Run one process to its end; see the module's docstring for what is measured."""
    if tty:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        streams = {"stdin": slave, "stdout": slave, "stderr": slave}
    else:
        streams = {
            "stdin": subprocess.DEVNULL,
            "stdout": subprocess.PIPE,
            "stderr": subprocess.PIPE,
        }
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, start_new_session=True, **streams)  # type: ignore[call-overload]
    sampler = TreeSampler(process.pid) if sample else None
    if tty:
        os.close(slave)
        chunks: dict[int, list[bytes]] = {master: []}
    else:
        assert process.stdout is not None and process.stderr is not None
        chunks = {process.stdout.fileno(): [], process.stderr.fileno(): []}
    reader = _drain(chunks)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(TIMEOUT, kill)
    timer.start()
    _pid, status, _usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    if sampler:
        sampler.stop()
    reader.join(timeout=10)
    if tty:
        os.close(master)
        stdout, stderr = b"".join(chunks[master]), b""
    else:
        assert process.stdout is not None and process.stderr is not None
        stdout = b"".join(chunks[process.stdout.fileno()])
        stderr = b"".join(chunks[process.stderr.fileno()])
        process.stdout.close()
        process.stderr.close()
    return Run(
        seconds=seconds,
        code=process.returncode,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
        tree_rss_mb=sampler.rss / 2**20 if sampler else None,
        tree_pss_mb=sampler.pss / 2**20 if sampler and sampler.pss_seen else None,
        processes=sampler.processes if sampler else 1,
        timed_out=timed_out.is_set(),
    )
