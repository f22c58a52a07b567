"""The benchmark must keep running as the package changes: a smoke run on a tiny lab (no timing
is judged here), and the generator must keep producing a lab that `lab` reads without
complaint, apart from the broken links it plants on purpose."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent
LAB = str(Path(sys.executable).with_name("lab"))


def bench_module(name: str) -> ModuleType:
    """A module of the benchmark's folder (a script's folder, not a package)."""
    sys.path.insert(0, str(HERE))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(HERE))


@pytest.mark.slow
def test_generated_lab_is_clean_and_committed(tmp_path: Path) -> None:
    make_lab = bench_module("make_lab")
    build, git = make_lab.build, make_lab.git
    root = tmp_path / "lab"
    manifest = build(root, 2600)
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert manifest.mark_key and manifest.complete_matches > 0 and manifest.broken_links >= 1
    env = {**os.environ, "LAB_TODAY": "2026-11-25"}
    check = subprocess.run([LAB, "check"], cwd=root, env=env, capture_output=True, text=True)
    problems = check.stdout.splitlines()
    assert problems and all("deleted-note.md" in line for line in problems), check.stdout[-2000:]
    synced = subprocess.run([LAB, "sync", "--check"], cwd=root, env=env, capture_output=True)
    assert synced.returncode == 0, synced.stdout


@pytest.mark.slow
def test_bench_quick_smoke(tmp_path: Path) -> None:
    rows = (
        "lab status",
        "lab status [tty]",
        "lab status, a note edited",
        "lab mark KEY read|unread",
        "lab new paper",
        "lab check",
        "complete `lab mark bl`",
        "lab new paper, vs hugo new",
    )
    readme = tmp_path / "README.md"
    readme.write_text("# lab\n\n<!-- bench:begin -->\nold table\n<!-- bench:end -->\n\nmine\n")
    done = subprocess.run(
        [
            *(sys.executable, str(HERE / "bench.py"), "--quick", "--sizes", "300", "--runs", "1"),
            *("--only", ",".join(rows), "--cache", str(tmp_path), "--markdown", str(readme)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for row in rows:
        assert f"| {row.replace('|', chr(92) + '|')} |" in done.stdout
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    # every row of the table has its 7 columns on GitHub: a `|` in a name is escaped
    assert table and all(line.replace("\\|", "").count("|") in (7, 8) for line in table)
    assert "ERROR" not in done.stdout and "FAIL (output)" not in done.stdout, done.stdout
    text = readme.read_text()
    assert "old table" not in text and text.endswith("<!-- bench:end -->\n\nmine\n")
    assert "| lab status |" in text and "load average at start" in text


def test_the_report_goes_between_the_markers_or_into_its_own_file(tmp_path: Path) -> None:
    write_markdown = bench_module("report").write_markdown
    readme = tmp_path / "README.md"
    readme.write_bytes(b"intro\r\n<!-- bench:begin -->\nold\n<!-- bench:end -->\r\nafter\n")
    write_markdown(readme, "| new |\n")
    assert readme.read_bytes() == (
        b"intro\r\n<!-- bench:begin -->\n| new |\n<!-- bench:end -->\r\nafter\n"
    )
    alone = tmp_path / "bench.md"
    write_markdown(alone, "| new |")
    assert alone.read_text() == "<!-- bench:begin -->\n| new |\n<!-- bench:end -->\n"
    broken = tmp_path / "broken.md"
    broken.write_text("<!-- bench:begin -->\n")
    with pytest.raises(SystemExit, match="one bench marker"):
        write_markdown(broken, "x")
    assert broken.read_text() == "<!-- bench:begin -->\n"


def test_hugos_copy_of_the_notes_differs_only_in_the_url_key(tmp_path: Path) -> None:
    hugo_content, git = bench_module("bench").hugo_content, bench_module("make_lab").git
    root = tmp_path / "lab"
    (root / "papers").mkdir(parents=True)
    (root / ".lab").mkdir()
    note = "---\ntitle: A\nurl: https://arxiv.org/abs/1\n---\n\nurl: in the body stays\n"
    (root / "papers" / "a.md").write_text(note, "utf-8")
    (root / ".lab" / "x.md").write_text("not a note", "utf-8")
    (root / "lab.toml").write_text("", "utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "base")
    copy = hugo_content(tmp_path / "cache", root)
    assert (copy / "papers" / "a.md").read_text("utf-8") == note.replace("\nurl:", "\nlink:", 1)
    assert not (copy / ".lab").exists() and not (copy / "lab.toml").exists()
    (root / "papers" / "a.md").write_text(note.replace("title: A", "title: B"), "utf-8")
    git(root, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qam", "next")
    assert "title: B" in (hugo_content(tmp_path / "cache", root) / "papers" / "a.md").read_text()


def test_every_command_every_prompt_and_every_list_is_timed() -> None:
    """Issue 13: every command is in the benchmark (and each of the six prompts and the four
    lists, whose work differs): a command added later without a row fails here."""
    import typer.main

    from mllm_lab.cli.app import app
    from mllm_lab.ops.prompts import KINDS as PROMPTS
    from mllm_lab.ops.report import LISTS

    cases = bench_module("cases").CASES
    timed = [case.args for case in cases]

    def leaves(command: object, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        children = getattr(command, "commands", None)
        if not children:
            return [path]
        return [leaf for name, child in children.items() for leaf in leaves(child, (*path, name))]

    commands = leaves(typer.main.get_command(app), ())
    assert len(commands) > 20
    wanted = [" ".join(path) for path in commands]
    wanted += [f"prompt {kind}" for kind in PROMPTS] + [f"list {what}" for what in LISTS]
    missing = [name for name in wanted if not any(args.startswith(name) for args in timed)]
    assert not missing, missing
    assert any(case.env for case in cases)  # shell completion, which has no arguments


def test_the_memory_of_a_forked_worker_is_counted_and_a_shared_address_space_once() -> None:
    """A worker forked by the command has its own address space: what it allocates is counted
    in the tree's peak. A process sharing the address space of one counted already (a child
    between vfork and exec, as Python starts a spawned worker) is not counted twice."""
    runner = bench_module("runner")
    if runner._KCMP is None:
        pytest.skip("kcmp(2) is known here for x86_64 and aarch64 only")
    assert runner._same_memory(os.getpid(), os.getpid())
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    held = bytearray(120 * 2**20)\n"
        "    time.sleep(1.0)\n"
        "    os._exit(0)\n"
        "os.wait()\n"
    )
    done = runner.run([sys.executable, "-c", code], HERE, dict(os.environ), sample=True)
    assert done.code == 0
    assert done.tree_rss_mb >= 120 and done.processes == 2
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not runner._same_memory(os.getpid(), child.pid)
    finally:
        child.kill()
        child.wait()
