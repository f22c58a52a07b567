"""A command killed (`kill -9`) while a cold scan's worker processes parse the lab leaves
nothing behind: no worker holding the lab's lock (every later writing command would wait
it out and fail) or the command's output (a script reading it would wait for ever)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import lab_executable

from mllm_lab.cores import usable_cores
from mllm_lab.lock import locked
from mllm_lab.scan import PARALLEL_FROM

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, flock")


def test_a_process_forked_while_the_lock_is_held_does_not_keep_it(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    with locked(path):
        child = os.fork()
        if child == 0:  # the child outlives the lock's holder
            time.sleep(5)
            os._exit(0)
    try:
        other = os.open(path, os.O_RDWR)
        try:
            deadline = time.monotonic() + 2  # the child closes its copy as it starts
            while True:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    assert time.monotonic() < deadline, "the forked child keeps the lock"
                    time.sleep(0.01)
        finally:
            os.close(other)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(n) for n in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    """Running or sleeping: a zombie (which no parent reaps here) holds nothing."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


@pytest.mark.skipif(usable_cores() < 2, reason="a cold scan on one core has no workers")
def test_a_cold_scan_killed_leaves_no_worker_holding_the_lock_or_the_output(lab: Path) -> None:
    folder = lab / "notes" / "training"
    folder.mkdir(parents=True, exist_ok=True)
    body = "---\ntitle: 笔记 {n}\ncategory: training\nstage: 4\n---\n\n# 笔记 {n}\n\ntext {n}\n"
    for n in range(PARALLEL_FROM + 100):
        (folder / f"note-{n}.md").write_text(body.format(n=n), "utf-8")
    env = {**os.environ, "LAB_LOCK_TIMEOUT": "3"}
    made = subprocess.run([lab_executable(), "new", "paper", "blip-2"], cwd=lab, env=env)
    assert made.returncode == 0
    for attempt in range(6):  # until the kill lands while the workers parse
        subprocess.run(["rm", "-rf", str(lab / ".lab")], check=True)
        command = subprocess.Popen(
            [lab_executable(), "mark", "blip-2", "read"],
            cwd=lab,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        workers: list[int] = []
        deadline = time.monotonic() + 20
        while not workers and command.poll() is None and time.monotonic() < deadline:
            workers = _children(command.pid)
            time.sleep(0.005)
        if not workers:
            command.communicate(timeout=60)
            continue
        time.sleep(0.05 * attempt)
        command.kill()
        command.communicate(timeout=10)  # no worker keeps the pipes open
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), workers
        after = subprocess.run(
            [lab_executable(), "mark", "blip-2", "unread"],
            cwd=lab,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert after.returncode == 0, after.stderr
        return
    pytest.fail("the workers never started before the command ended")


def _dies_in_a_worker(parent: int, chunk: list[int]) -> list[int]:
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return [number * 10 for number in chunk]


def test_chunks_given_to_a_worker_that_dies_are_worked_here() -> None:
    """A first `lab quiz` or `lab check` whose card or detail worker was killed (out of
    memory, a kill) was an internal error; the chunks the worker had are now worked in the
    command's own process, and each result comes once."""
    import functools

    from mllm_lab.cores import in_two_processes

    chunks = [[number, number + 1] for number in range(0, 40, 2)]
    made = list(in_two_processes(functools.partial(_dies_in_a_worker, os.getpid()), chunks))
    assert sorted(made) == [number * 10 for number in range(40)]


_SLEEPS_IN_A_WORKER = """
import functools, sys, time
from mllm_lab.cores import in_two_processes

def main() -> None:
    print("started", flush=True)
    list(in_two_processes(functools.partial(time.sleep), [60, 60, 60, 60]))

if __name__ == "__main__":
    main()
"""


def test_a_command_terminated_while_its_worker_works_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """`kill` (SIGTERM) of a first `lab quiz --json` while its worker read cards left the
    worker running, holding the command's output: a script reading it waited for ever."""
    script = tmp_path / "sleeps.py"
    script.write_text(_SLEEPS_IN_A_WORKER, "utf-8")
    command = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert command.stdout is not None and command.stdout.readline() == b"started\n"
    workers: list[int] = []
    deadline = time.monotonic() + 30
    while not workers and time.monotonic() < deadline:
        workers = [
            pid
            for pid in _children(command.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        time.sleep(0.01)
    assert workers, "the worker never started"
    time.sleep(1)  # until it has started and taken a chunk
    command.terminate()
    try:
        rest = command.communicate(timeout=10)[0]  # no worker keeps the output open
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert rest == b"" and command.returncode == -signal.SIGTERM
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), workers
