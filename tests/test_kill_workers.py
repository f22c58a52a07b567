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
from conftest import fresh_python, lab_executable

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
    worker running, holding the command's output: a script reading it waited for ever. And
    the resource tracker of the worker's pool printed a warning of "leaked semaphore
    objects" on the command's stderr once the command was gone."""
    script = tmp_path / "sleeps.py"
    script.write_text(_SLEEPS_IN_A_WORKER, "utf-8")
    command = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
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
        rest, said = command.communicate(timeout=10)  # no worker keeps the output open
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    assert (rest, said, command.returncode) == (b"", b"", -signal.SIGTERM)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), workers


_IMPORTED_SLOWLY_BY_ITS_WORKER = """
import signal, sys, time
from mllm_lab.cores import in_two_processes

if __name__ == "__mp_main__":  # the worker imports this file first: as slowly as lab's modules
    time.sleep(6)


def sleepy(seconds):
    time.sleep(seconds)
    return [seconds]


def main() -> None:
    # as started from a shell: a test runner's worker may have left Ctrl-C ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("started", flush=True)
    try:
        made = list(in_two_processes(sleepy, [0.2] * 8))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    print(len(made))


if __name__ == "__main__":
    main()
"""


def test_ctrl_c_while_the_worker_starts_prints_no_worker_traceback(tmp_path: Path) -> None:
    """Ctrl-C goes to every process of the terminal's foreground group. One that landed while
    a first `lab quiz` or `lab check`'s spawned worker still imported lab printed that
    worker's KeyboardInterrupt traceback under the command's own message: the worker is now
    born with its output at /dev/null. The command's message alone, at once."""
    script = tmp_path / "slow_worker.py"
    script.write_text(_IMPORTED_SLOWLY_BY_ITS_WORKER, "utf-8")
    command = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # a group of its own, as a shell gives a job
    )
    assert command.stdout is not None and command.stdout.readline() == b"started\n"
    time.sleep(1)  # the worker is importing the script
    workers = [
        pid
        for pid in _children(command.pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert workers, "the worker never started"
    os.killpg(command.pid, signal.SIGINT)  # the terminal's Ctrl-C, to all of them
    started = time.monotonic()
    try:
        out, err = command.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(command.pid, signal.SIGKILL)
    took = time.monotonic() - started
    assert (command.returncode, out, err) == (130, b"", b"interrupted\n")
    assert took < 2, f"{took:.1f} s: the command waited for its worker's import"
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and not any(_alive(pid) for pid in workers), workers


def test_a_second_ctrl_c_in_a_clean_up_prints_no_traceback() -> None:
    """Two quick Ctrl-Cs: the second landed while the first closed a generator that waited
    for its worker (details, cards), and Python printed "Exception ignored in: <generator
    ...>" with a KeyboardInterrupt traceback under lab's own message. lab drops exactly
    those; any other exception Python cannot raise is still printed."""
    code = (
        "import sys\n"
        "from mllm_lab import cli\n"
        "sys.argv = ['lab', '--version']\n"
        "cli.main()\n"
        "def clean_up(error):\n"
        "    try:\n"
        "        yield 1\n"
        "    finally:\n"
        "        raise error\n"
        "for error in (KeyboardInterrupt(), ValueError('still said')):\n"
        "    left = clean_up(error)\n"
        "    next(left)\n"
        "    del left\n"
    )
    done = fresh_python(code, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("lab (mllm-lab) ")
    assert "ValueError: still said" in done.stderr
    assert "KeyboardInterrupt" not in done.stderr and done.stderr.count("Exception ignored") == 1


def test_a_ctrl_c_while_the_output_is_quiet_is_felt_once_it_is_back() -> None:
    """quiet_output points fds 1 and 2 at /dev/null while a worker starts. A Ctrl-C raised
    in the middle of putting them back left stderr at /dev/null (lab's own "interrupted"
    message, and a terminal's cursor, were then lost): it is held until both are back."""
    from mllm_lab.cores import quiet_output

    def where(fd: int) -> tuple[int, int]:
        found = os.fstat(fd)
        return found.st_dev, found.st_ino

    before = [where(1), where(2)]
    null = os.stat(os.devnull)
    felt_inside = False
    # Python's own handler, as lab runs with: a test run before this one in the same worker
    # (or the worker itself) may have left another one in place
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), quiet_output():
            assert where(1) == where(2) == (null.st_dev, null.st_ino)
            signal.raise_signal(signal.SIGINT)
            felt_inside = True  # not raised here: held
    finally:
        signal.signal(signal.SIGINT, handler)
    assert felt_inside and [where(1), where(2)] == before
