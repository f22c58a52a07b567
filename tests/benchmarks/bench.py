"""Benchmark of every `lab` command as a whole process, each judged against a floor that does
the same kind of work, on synthetic labs of 1,000, 10,000 and 50,000 notes.

    .venv/bin/python tests/benchmarks/bench.py                # 1k, 10k and 50k notes, 5 runs each
    .venv/bin/python tests/benchmarks/bench.py --quick        # 1k notes, 3 runs (CI)
    .venv/bin/python tests/benchmarks/bench.py --sizes 10000 --runs 7 --only status,mark
    .venv/bin/python tests/benchmarks/bench.py --markdown README.md   # and put the report there

How it keeps honest:

- Floors (tests/benchmarks/floors.py says why each is the right comparison): a plain-help
  hello-world Typer app for `--version`/`--help`; "import Typer + stat every note" for warm
  commands, which only stat the notes and load the index; "import Typer + read every note"
  for cold commands and for `check`/`review`, which read bodies; a hello-world Typer
  completion (and `python -c pass`, shown for reference) for shell completion; `hugo new`
  on the same lab for `lab new paper`, when Hugo is installed (else the row says so).
- `lab` keeps results while the lab's files are unchanged (.lab/results/). Rows marked "a
  note edited" change one concept note before every run, so they measure the work itself
  with the index warm for every other note: what a command costs right after an edit. The
  edit adds a line to the note's body; `status`, `list` and `next` keep their results by
  what the index holds, which a body edit leaves as it was, so one row ("a note's
  frontmatter edited") changes a concept note's summary instead, which status keeps its
  counts through, and another ("a paper's frontmatter edited") the title of a paper note
  that status shows (the first paper being read): status keeps its counts through it too,
  and reads that title again from the note's record. (A paper's summary is not what status
  reads: a summary line added there left the report as it was from the second run on.)
- Each command alternates with its own floor in one series, F C F C ... (after one untimed
  warm-up of each), so load that comes and goes hits both alike; the table gives the medians
  with min-max and the ratio of the medians.
- Output goes to a pipe that is read, never /dev/null, and NO_COLOR is never set; `status`
  and `list papers` are also run on a pseudo-terminal with TERM set (Rich's path), floor too.
- Cold runs delete `.lab/` (the index) before every run, and are run on two cores and pinned
  to one (`taskset -c 0`; the floor pinned the same way). The OS page cache stays warm (no
  root needed to drop it): "cold" means no index, not a cold disk.
- Commands that write do the same work every run: `mark` toggles a paper between two statuses
  (each run writes); the others run on the lab's git baseline and are undone after every run
  (`git checkout`/`git clean`, then an untimed `lab sync`, which writes no file: the lab is
  as a previous `lab` command leaves it, its index warm and its views' stamps noted). The
  row "after a git checkout" runs `lab status` instead: the first write after a checkout
  gave the views new stamps, when lab checks them against what the index holds.
- Peak memory: one extra run of each command with the process tree sampled every 2 ms; the
  table shows RSS summed over `lab` and all its worker processes (an upper bound: shared pages
  count once per process; but a child between vfork and exec, which shares its parent's
  address space, is not counted again), PSS summed in parentheses; judged on the RSS sum,
  < 200 MB.
- A command must also give the right output: a regex per row (completion must offer a paper
  key, `sync` must find nothing to do, ...). A row that exits with an unexpected code is an
  ERROR.
- Python's bytecode cache is on, as on any install (PYTHONDONTWRITEBYTECODE is removed).

Every command is one line of CASES (cases.py). Labs are built once and cached under /tmp (see --cache),
keyed by the generator's version, size and seed; a cached lab is reset to its git baseline
before use, so repeated runs are quick. Growth from one size to the next is reported as the
exponent log(t_big/t_small)/log(big/small): 1 is linear, and above 1 FAILs.

With --markdown PATH the report also goes into PATH: between `<!-- bench:begin -->` and
`<!-- bench:end -->` if the file has them (README.md does), else as the whole file.

Exit status: 2 if a command failed to run (any mode); otherwise, without --quick, 1 if any
target was missed; --quick never fails on a ratio. Not part of the test suite."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import shlex
import shutil
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import CASES, FLOORS, HUGO, PROGRAMS, Case, Floor
from floors import write_scripts
from make_lab import GENERATOR_VERSION, MANIFEST, TODAY, build, git
from report import Row, busy, growth, load, machine, table, write_markdown
from runner import Run, run

TERM = "xterm-256color"
EDIT = "\n<!-- bench: an edit, {nonce} -->\n"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # real.bib, for `lab import bibtex`


class Bench:
    def __init__(
        self, root: Path, manifest: dict[str, object], scripts: dict[str, Path], lab: str, runs: int
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.scripts = scripts
        self.lab = lab
        self.runs = runs
        self.env = clean_env()
        self.counter = 0

    def fields(self) -> dict[str, str]:
        self.counter += 1
        return {
            "key": str(self.manifest["mark_key"]),
            "listed": str(self.manifest["list_key"]),
            "toggle": ("read", "unread")[self.counter % 2],
            "nonce": f"{self.counter}-{uuid.uuid4().hex[:6]}",
            "prefix": str(self.manifest["complete_prefix"]),
            "note": str(self.manifest["edit_path"]),
            "bib": str(FIXTURES / "real.bib"),
        }

    def pin(self, cores: int | None) -> list[str] | None:
        """The taskset prefix for `cores`, [] for none, None if this machine cannot."""
        if cores is None:
            return []
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < cores or not shutil.which("taskset"):
            return None
        return ["taskset", "-c", ",".join(str(cpu) for cpu in usable[:cores])]

    def command(self, case: Case, prefix: list[str]) -> tuple[list[str], dict[str, str]]:
        values = self.fields()
        argv = [*prefix, self.lab, *(part.format(**values) for part in shlex.split(case.args))]
        env = {**self.env, **{k: v.format(**values) for k, v in case.env}}
        return argv, env

    def floor_command(self, floor: Floor, prefix: list[str]) -> tuple[list[str], dict[str, str]]:
        return [*prefix, *floor.argv(self.scripts)], {**self.env, **dict(floor.env)}

    def before(self, case: Case) -> None:
        if case.cold:
            shutil.rmtree(self.root / ".lab", ignore_errors=True)
        if case.edit:
            path = self.root / str(self.manifest["edit_path"])
            if case.edit == "paper field":  # a paper note status shows (it reads its title)
                path = self.root / str(self.manifest["shown_note"])
            nonce = uuid.uuid4().hex[:8]
            if case.edit == "paper field":  # its title, which status shows: made again
                text = path.read_text("utf-8")
                quote = next(q for q in ("'", '"', "") if f"\ntitle: {q}" in text)
                edited = text.replace(f"\ntitle: {quote}", f"\ntitle: {quote}Bench {nonce} ", 1)
                path.write_text(edited, "utf-8")
            elif case.edit == "field":  # the note's summary: its record changes
                text = path.read_text("utf-8")
                head, rule, rest = text.partition("\n---")
                lines = [
                    f"summary: bench edit {nonce}" if line.startswith("summary:") else line
                    for line in head.split("\n")
                ]
                if not any(line.startswith("summary:") for line in head.split("\n")):
                    lines.insert(1, f"summary: bench edit {nonce}")
                path.write_text("\n".join(lines) + rule + rest, "utf-8")
            else:
                with open(path, "a", encoding="utf-8") as note:
                    note.write(EDIT.format(nonce=nonce))

    def after(self, case: Case) -> None:
        if case.writes == "reset" or case.edit:
            self.reset(case.warm_with)

    def reset(self, warm_with: str = "sync") -> None:
        """Back to the git baseline; an untimed `lab sync` (or `warm_with`) makes the index
        warm again."""
        if git(self.root, "status", "--porcelain", "--untracked-files=all"):
            git(self.root, "checkout", "-q", "--", ".")
            git(self.root, "clean", "-fdq")
            run([self.lab, warm_with], self.root, self.env)

    def check(self, row: Row, done: Run, expect: str | None, what: str) -> None:
        text = done.stdout + done.stderr
        if done.timed_out or (done.code not in row.case.ok and what == "lab"):
            row.error = (
                row.error
                or f"exit {done.code}{' (timed out)' if done.timed_out else ''}: {text.strip()[-300:]}"
            )
        elif what == "floor" and done.code != 0:
            row.error = row.error or f"floor exit {done.code}: {text.strip()[-300:]}"
        elif expect and not re.search(expect, text):
            shown = text.strip().replace("\n", " | ")[:160] or "(no output)"
            if what == "floor":
                row.error = row.error or f"floor gave no expected output: {shown}"
            else:
                row.wrong_output = row.wrong_output or f"expected /{expect}/, got: {shown}"

    def measure(self, case: Case) -> Row:
        floor = FLOORS[case.floor]
        row = Row(case, floor)
        prefix = self.pin(case.cores)
        if prefix is None:
            row.skipped = f"needs {case.cores} cores and taskset"
            return row
        if floor.needs and not (PROGRAMS.get(floor.needs) or shutil.which(floor.needs)):
            row.skipped = f"{floor.needs} is not installed"
            return row
        expect = case.expect.format(**self.fields()) if case.expect else None
        self.reset(case.warm_with)
        if case.quiz_log:
            write_quiz_log(self.root, case.quiz_log)
        for number in range(self.runs + 1):  # the first pair is the untimed warm-up
            argv, env = self.floor_command(floor, prefix)
            done = run(argv, self.root, env, tty=case.tty)
            if floor.writes:
                self.reset()
            self.check(row, done, floor.expect, "floor")
            if number:
                row.floor_times.append(done.seconds)
            self.before(case)
            argv, env = self.command(case, prefix)
            done = run(argv, self.root, env, tty=case.tty)
            self.after(case)
            self.check(row, done, expect, "lab")
            if number:
                row.times.append(done.seconds)
            if row.error:
                return row
        self.before(case)
        argv, env = self.command(case, prefix)
        done = run(argv, self.root, env, tty=case.tty, sample=True)
        self.after(case)
        self.check(row, done, expect, "lab")
        row.rss_mb = done.tree_rss_mb or 0.0
        row.pss_mb = done.tree_pss_mb
        row.processes = done.processes
        self.reset()
        return row


def write_quiz_log(root: Path, reviews: int, seed: int = 0) -> None:
    """A review log of `reviews` answers over the 90 days before TODAY, on the lab's own
    cards (the ids `lab` reads off the notes: a fifth of them, as a learner three months in
    would have met), with ratings as a learner gives them. Untracked: the next reset removes
    it."""
    import random
    from datetime import datetime, timedelta

    from mllm_lab.core.schedule import Rating, Review, format_review
    from mllm_lab.lab import Lab
    from mllm_lab.ops.cards import lab_cards
    from mllm_lab.ops.workspace import Workspace

    os.environ["LAB_TODAY"] = TODAY.isoformat()
    cards = lab_cards(Workspace(Lab.find(str(root))), text=False).cards
    rng = random.Random(seed)
    met = rng.sample(cards, max(1, len(cards) // 5))
    start = datetime.combine(TODAY, datetime.min.time()).astimezone() - timedelta(days=90)
    step = timedelta(days=90) / reviews
    lines = []
    for number in range(reviews):
        card = met[number % len(met)] if number < len(met) else rng.choice(met)
        rating = Rating(rng.choices((1, 2, 3, 4), weights=(10, 15, 60, 15))[0])
        when = start + number * step
        lines.append(format_review(Review(card.id, when, rating, duration_ms=8000, note=card.path)))
    (root / "reviews").mkdir(exist_ok=True)
    (root / "reviews" / "quiz-log.jsonl").write_text("".join(lines), "utf-8")


def clean_env() -> dict[str, str]:
    """The user's environment without what would change `lab`'s behaviour or Python's speed."""
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(("LAB_", "_LAB_", "PYTHON", "COMP_")) or name in (
            "NO_COLOR",
            "FORCE_COLOR",
            "CLICOLOR_FORCE",
            "COLUMNS",
            "LINES",
            "VIRTUAL_ENV",
        ):
            del env[name]
    env["LAB_TODAY"] = TODAY.isoformat()
    env["TERM"] = TERM
    return env


# --- labs ----------------------------------------------------------------------------------


def hugo_content(cache: Path, root: Path) -> Path:
    """The lab's Markdown files as Hugo can take them, for the `hugo new` floor: every note,
    every byte the same but the frontmatter's `url:` key, renamed `link:` (Hugo takes `url`
    for the page's own address and refuses one with a scheme). Made once per lab baseline."""
    folder = cache / f"hugo-{root.name}"
    done, baseline = folder / ".complete", git(root, "rev-parse", "HEAD").strip()
    if done.exists() and done.read_text("utf-8") == baseline:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(f for f in files if f.endswith(".md")):
            source = Path(dirpath) / name
            head, rule, rest = source.read_bytes().partition(b"\n---")
            target = folder / source.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(re.sub(rb"(?m)^url:", b"link:", head) + rule + rest)
    done.write_text(baseline, "utf-8")
    return folder


def prepare_lab(
    cache: Path, notes: int, seed: int, lab: str, rebuild: bool
) -> tuple[Path, dict[str, object]]:
    """The cached lab of `notes` notes, built if missing, reset to its git baseline and synced
    with the installed `lab` (a new version of `lab` may write its views differently: that is
    then committed as the baseline, so every run starts from views that are up to date)."""
    root = cache / f"lab-g{GENERATOR_VERSION}-n{notes}-s{seed}"
    manifest_path = root / MANIFEST
    if rebuild or not manifest_path.exists():
        shutil.rmtree(root, ignore_errors=True)
        partial = root.with_name(root.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        started = time.perf_counter()
        log(f"building a lab of {notes:,} notes in {root} ...")
        build(partial, notes, seed)
        shutil.rmtree(partial / ".lab", ignore_errors=True)  # its index names the partial path
        partial.rename(root)
        log(f"built in {time.perf_counter() - started:.0f} s")
    manifest = json.loads(manifest_path.read_text("utf-8"))
    git(root, "checkout", "-q", "--", ".")
    git(root, "clean", "-fdq")
    env = clean_env()
    # The views as this version of lab writes them (its record of them forgotten, so they
    # are regenerated, not judged current): a writing command then changes only its own rows.
    (root / ".lab" / "views.json").unlink(missing_ok=True)
    synced = run([lab, "sync"], root, env)
    if synced.code != 0:
        raise SystemExit(f"lab sync failed on the synthetic lab: {synced.stderr.strip()}")
    if git(root, "status", "--porcelain", "--untracked-files=all"):
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "baseline: views as this version of lab writes them")
    report = json.loads(run([lab, "status", "--json"], root, env).stdout)
    shown = [p["note"] for p in (*report["reading_now"], *report["next"]) if p["note"]]
    # a paper note whose title status shows: the "paper field" edit retitles it
    manifest["shown_note"] = shown[0] if shown else f"papers/{manifest['mark_key']}.md"
    listed = (root / "papers" / "reading-list.yaml").read_text("utf-8")
    manifest["list_key"] = re.search(r"(?m)^- key: (\S+)$", listed)[1]  # type: ignore[index]
    manifest["edit_path"] = min(
        path.relative_to(root).as_posix() for path in (root / "notes" / "training").glob("*.md")
    )
    return root, manifest


# --- report ----------------------------------------------------------------------------------


def versions(lab: str) -> str:
    found = run([lab, "--version"], Path.cwd(), clean_env()).stdout.strip()
    try:
        import typer

        typer_version = typer.__version__
    except ImportError:
        typer_version = "?"
    return f"{found} · typer {typer_version}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 notes, 3 runs; fail only if a command fails to run",
    )
    parser.add_argument("--sizes", help="comma-separated note counts (default 1000,10000,50000)")
    parser.add_argument("--runs", type=int, help="timed runs per command and per floor (default 5)")
    parser.add_argument(
        "--only", help="comma-separated row names (exact, or a part of names) to run; see --list"
    )
    parser.add_argument("--seed", type=int, default=0, help="the synthetic labs' seed")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("MLLM_LAB_BENCH_CACHE", "/tmp/mllm-lab-bench")),
        help="where the synthetic labs are kept between runs (default /tmp/mllm-lab-bench)",
    )
    parser.add_argument("--rebuild", action="store_true", help="build the labs again")
    parser.add_argument(
        "--markdown",
        type=Path,
        metavar="PATH",
        help="also put the report into PATH (between the bench markers of README.md)",
    )
    parser.add_argument("--list", action="store_true", help="list the rows and exit")
    args = parser.parse_args()

    if args.list:
        for case in CASES:
            print(f"{case.name:36} lab {case.args:40} floor {case.floor:16} target {case.target}")
        return 0
    default = "1000" if args.quick else "1000,10000,50000"
    sizes = [int(size) for size in (args.sizes or default).split(",")]
    runs = args.runs or (3 if args.quick else 5)
    cases = list(CASES)
    if args.only:
        wanted = [part.strip() for part in args.only.split(",") if part.strip()]
        names = {case.name for case in CASES}
        cases = [  # a row's exact name, or any row whose name contains the word
            c for c in CASES if any(w == c.name or (w not in names and w in c.name) for w in wanted)
        ]
        if not cases:
            parser.error(f"--only {args.only}: no such row (see --list)")
    lab = str(Path(sys.executable).with_name("lab"))
    if not Path(lab).exists():
        parser.error(
            f"{lab} not found: run this with the Python of the venv where mllm-lab is installed"
        )
    args.cache.mkdir(parents=True, exist_ok=True)
    scripts = write_scripts(args.cache / "floors")
    scripts["lab"] = Path(lab)  # the floor of rows judged against a warm `lab status`
    out: list[str] = []

    def say(*lines: str) -> None:
        out.extend(lines)
        print("\n".join(lines), flush=True)

    started = time.perf_counter()
    say(
        "### Measured performance",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} · {machine()} · Python {platform.python_version()} · "
        f"{versions(lab)} · load average at start {load()}  ",
        f"{runs} timed runs per command, alternating with its floor (F C F C ...) after an untimed "
        "warm-up; median (min-max); ratio = median / floor's median. peak MB: RSS summed over the "
        "process tree (PSS summed), ×N = most processes at once. Made by "
        "`tests/benchmarks/bench.py`.",
    )
    if busy():
        say(
            "",
            "**The machine was busy (load average above its number of cores): the floors "
            "alternate with the commands, but expect wide min-max spreads.**",
        )
    if not HUGO:
        say("", "Hugo is not installed on this machine: the `hugo new` comparison is skipped.")
    results: dict[int, list[Row]] = {}
    errors = failures = 0
    for notes in sizes:
        lock = open(args.cache / f"lab-{notes}.lock", "w")  # noqa: SIM115  one benchmark per lab
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            root, manifest = prepare_lab(args.cache, notes, args.seed, lab, args.rebuild)
            lab_scripts = dict(scripts)
            if HUGO and any(FLOORS[case.floor].needs == "hugo" for case in cases):
                lab_scripts["hugo content"] = hugo_content(args.cache, root)
            bench = Bench(root, manifest, lab_scripts, lab, runs)
            rows = []
            for case in cases:
                log(f"[{notes:,}] {case.name} ...")
                row = bench.measure(case)
                rows.append(row)
                log(f"[{notes:,}] {case.name}: {table([row])[-1]}")
        finally:
            lock.close()
        results[notes] = rows
        counts = manifest["counts"]
        assert isinstance(counts, dict)
        say(
            "",
            f"#### {notes:,} notes",
            "",
            f"{counts['papers']:,} papers, {counts['concepts']:,} concept notes, "
            f"{counts['weekly']:,} weekly logs, {counts['reviews']} reviews, {counts['notebooks']} notebooks, "
            f"{counts['reading_list']:,} papers on the reading list; {int(str(manifest['bytes'])) / 2**20:.0f} MB "
            f"of notes; {manifest['complete_matches']} paper keys start with `{manifest['complete_prefix']}`",
            "",
            *table(rows),
        )
        for row in rows:
            if row.error or row.wrong_output:
                say("", f"- {row.case.name}: {row.error or row.wrong_output}")
        errors += sum(1 for row in rows if row.error)
        failures += sum(1 for row in rows if row.verdict().startswith("FAIL"))
    lines = growth(results)
    failures += sum(1 for line in lines if line.endswith("| FAIL |"))
    say(*lines)
    say(
        "",
        f"load average at end {load()} · {time.perf_counter() - started:.0f} s in all · "
        f"{failures} target(s) missed, {errors} command(s) failed to run",
    )
    if args.markdown:
        log(write_markdown(args.markdown, "\n".join(out)))
    if errors:
        return 2
    return 1 if failures and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
