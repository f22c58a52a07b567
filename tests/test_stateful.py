"""The central promise under a stream of ordinary abuse: a Hypothesis state machine interleaves
the writing commands with the hand edits users make (text outside the regions, ticks, edits
inside a region, a lost or duplicated marker, a broken frontmatter line, a reading list in
another shape) and checks after every step that

- every line a user wrote is still in its file, or in a backup under .lab-trash/;
- every paper with a note or a reading-list entry is in papers/README.md exactly once, or the
  lab names the file that keeps it out;
- a command either succeeded, leaving every view true (`lab sync --check` finds nothing but
  broken notes), or failed with one line on stderr and changed nothing.

Examples: STATEFUL_EXAMPLES (default 30) runs of up to 25 steps each."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from conftest import Run, machine_settings, machine_template, read, tree
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from mllm_lab.core import fm

EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "30"))
CATALOG = ["clip", "vit", "blip-2", "llava", "lora", "dpo", "mixtral", "transformer"]
TITLES = ["Sparse: Attention | for [VLMs]", "注意力 机制", "1e3", "Q#Former notes", "x"]
VIEWS = {"papers/README.md": "papers", "README.md": "progress", "notes/README.md": "notes-index"}
WORDS = st.text(alphabet="abcdefghij 注意力#:|[]", min_size=3, max_size=12).map(
    lambda w: f"USER:{w.strip()}:END"
)


class LabMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = Path(os.environ["STATEFUL_TEMPLATE"]).parent / f"lab-{id(self)}"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(os.environ["STATEFUL_TEMPLATE"], self.root, symlinks=True)
        self.run = Run(self.root)
        self.mine: list[tuple[str, str]] = []  # (file, line) a user wrote outside regions
        # a repair that could not tell where a lost `lab:begin papers` stood put it right above
        # the end, and said the lines above stay the user's: an old table there is theirs now
        self.table_above_is_theirs = False

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # --- commands ------------------------------------------------------------------------

    def command(self, *args: str) -> None:
        before = tree(self.root)
        result = self.run(*args)
        if "`lab:begin papers`；它上面的行仍然是你的" in result.out + result.err:
            self.table_above_is_theirs = True
        assert result.code in (0, 1, 2), (args, result)
        if result.code:
            errors = [
                line for line in result.err.splitlines() if line.startswith(("error:", "错误："))
            ]
            assert len(errors) == 1, (args, result.err)
            assert tree(self.root) == before, (args, "a failed command changed the lab")
            return
        problems = self.run("sync", "--check").out.splitlines()
        about_views = [p for p in problems if p.split(":")[0] in VIEWS]
        assert not about_views, (args, about_views)

    @rule(key=st.sampled_from(CATALOG + TITLES), force=st.booleans())
    def new_paper(self, key: str, force: bool) -> None:
        self.command("new", "paper", key, *(["--force"] if force else []))

    @rule(title=st.sampled_from(TITLES), category=st.sampled_from(["training", "fundamentals"]))
    def new_concept(self, title: str, category: str) -> None:
        self.command("new", "concept", title, "-c", category)

    @rule(key=st.sampled_from(CATALOG + TITLES))
    def add_paper(self, key: str) -> None:
        self.command("add", "paper", key)

    @rule(key=st.sampled_from(CATALOG), status=st.sampled_from(["read", "reading", "unread"]))
    def mark(self, key: str, status: str) -> None:
        self.command("mark", key, status)

    @rule(option=st.sampled_from([None, "--force", "--repair"]))
    def sync(self, option: str | None) -> None:
        self.command("sync", *([option] if option else []))

    @rule()
    def weekly(self) -> None:
        self.command("weekly")

    @rule()
    def experiment(self) -> None:
        self.command("new", "experiment", "toy")

    # --- hand edits ------------------------------------------------------------------------

    def edit(self, relative: str, text: str) -> None:
        (self.root / relative).write_text(text, "utf-8")

    @rule(view=st.sampled_from(sorted(VIEWS)), words=WORDS)
    def write_outside_regions(self, view: str, words: str) -> None:
        path = self.root / view
        if path.exists():
            self.edit(view, read(path) + f"\n{words}\n")
            self.mine.append((view, words))

    @rule(data=st.data())
    def tick_a_box(self, data: st.DataObject) -> None:
        path = self.root / "papers/README.md"
        if not path.exists():
            return
        rows = [line for line in read(path).split("\n") if re.match(r"^\| (⬜|📖|✅) \| ", line)]
        if rows:
            row = data.draw(st.sampled_from(rows))
            emoji = data.draw(st.sampled_from(["⬜", "📖", "✅"]))
            self.edit("papers/README.md", read(path).replace(row, f"| {emoji} " + row[4:], 1))

    @rule(view=st.sampled_from(sorted(VIEWS)), words=WORDS, middle=st.booleans())
    def write_inside_a_region(self, view: str, words: str, middle: bool) -> None:
        """A line above the end marker, or halfway between the markers."""
        path = self.root / view
        end = f"<!-- lab:end {VIEWS[view]} -->"
        if not path.exists() or end not in read(path):
            return
        lines = read(path).split("\n")
        stop = next(n for n, line in enumerate(lines) if line.startswith(end))
        start = next(
            (
                n
                for n, line in enumerate(lines[:stop])
                if line.startswith(f"<!-- lab:begin {VIEWS[view]}")
            ),
            stop - 1,
        )
        lines.insert((start + 1 + stop) // 2 if middle else stop, words)
        self.edit(view, "\n".join(lines))

    @rule(
        view=st.sampled_from(sorted(VIEWS)),
        which=st.sampled_from(["begin", "end"]),
        duplicate=st.booleans(),
    )
    def damage_a_marker(self, view: str, which: str, duplicate: bool) -> None:
        path = self.root / view
        if not path.exists():
            return
        lines = read(path).split("\n")
        found = [
            n for n, line in enumerate(lines) if line.startswith(f"<!-- lab:{which} {VIEWS[view]}")
        ]
        if found:
            if duplicate:
                lines.insert(found[0], lines[found[0]])
            else:
                del lines[found[0]]
            self.edit(view, "\n".join(lines))

    @rule(
        key=st.sampled_from(CATALOG),
        broken=st.sampled_from(["title: A: B: C", "created: 2026/11/30", "status: maybe"]),
    )
    def break_a_note(self, key: str, broken: str) -> None:
        path = self.root / f"papers/{key}.md"
        if path.exists():
            field = broken.split(":")[0]
            self.edit(
                f"papers/{key}.md",
                re.sub(rf"^{field}: .*$", broken, read(path), count=1, flags=re.M),
            )

    @rule(key=st.sampled_from(CATALOG))
    def fix_a_note(self, key: str) -> None:
        path = self.root / f"papers/{key}.md"
        if path.exists():
            text = (
                read(path)
                .replace("title: A: B: C", "title: 'A: B: C'")
                .replace("created: 2026/11/30", "created: 2026-11-30")
            )
            self.edit(f"papers/{key}.md", text.replace("status: maybe", "status: reading"))

    @rule(shape=st.sampled_from(["comment", "mapping", "entry", "fixed"]), words=WORDS)
    def edit_the_reading_list(self, shape: str, words: str) -> None:
        path = self.root / "papers/reading-list.yaml"
        text = read(path) if path.exists() else ""
        if shape == "comment":
            self.edit("papers/reading-list.yaml", text + f"# {words}\n")
            self.mine.append(("papers/reading-list.yaml", f"# {words}"))
        elif shape in ("mapping", "fixed"):  # the user replaces the whole file
            new = "papers:\n  clip: {title: CLIP}\n" if shape == "mapping" else "papers: []\n"
            self.edit("papers/reading-list.yaml", new)
            self.mine = [(f, line) for f, line in self.mine if f != "papers/reading-list.yaml"]
        elif "papers:" in text and "{title" not in text:
            self.edit(
                "papers/reading-list.yaml",
                text + "- key: by-hand\n  title: Added by hand\n  status: unread\n",
            )

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def nothing_a_user_wrote_is_lost(self) -> None:
        trash = self.root / ".lab-trash"
        kept = "".join(read(p) for p in trash.rglob("*") if p.is_file()) if trash.exists() else ""
        for relative, line in self.mine:
            path = self.root / relative
            assert (path.exists() and line in read(path)) or line in kept, (relative, line)

    @invariant()
    @precondition(lambda self: hasattr(self, "run"))
    def every_paper_once_or_reported(self) -> None:
        problems = self.run("sync", "--check").out
        if any(line.split(":")[0] in VIEWS for line in problems.splitlines()):
            return  # a view is damaged or edited by hand: the lab says so until it is fixed
        table = read(self.root / "papers/README.md").split("<!-- lab:end papers -->")[0]
        if self.table_above_is_theirs:
            table = table.split("<!-- lab:begin papers")[-1]
        keys = [m[1] for m in re.finditer(r"^\| \S+ \| ([^|]+?) \|", table, re.M) if m[1] != "Key"]
        assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
        for note in (self.root / "papers").glob("*.md"):
            if note.name == "README.md":
                continue
            try:
                key = str(fm.parse(read(note), "x").meta.get("key") or note.stem)
            except Exception:
                key = note.stem
            assert key in keys or f"papers/{note.name}:" in problems, (note.name, keys)


LabMachine.TestCase.settings = machine_settings(EXAMPLES, steps=25)


class TestLab(LabMachine.TestCase):  # type: ignore[name-defined,misc]
    pass


def setup_module() -> None:
    os.environ["STATEFUL_TEMPLATE"] = str(machine_template("stateful"))


def teardown_module() -> None:
    shutil.rmtree(Path(os.environ.pop("STATEFUL_TEMPLATE")).parent, ignore_errors=True)
