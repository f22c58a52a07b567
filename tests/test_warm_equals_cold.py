"""What lab keeps between commands (each file's `lab check` problems, the views' inputs by
content, the results) must never change an answer: a Hypothesis state machine makes the hand
edits and commands that change what those depend on (a note's body, a link's target deleted
or created, a title a wiki link names, a required heading, a view file written again with the
same bytes, a link into a folder lab does not walk, a frontmatter field set by hand) and after
every step compares `lab check`, `lab sync --check`, `lab review --dry-run`, `lab prompt review`
and `lab status --json`, run warm, with the same commands run cold on a copy without `.lab/`.

Examples: WARM_EXAMPLES (default 6) runs of up to 10 steps each."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from conftest import Run, machine_settings, machine_template, read
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

VIEWS = ["README.md", "papers/README.md", "notes/README.md"]
EXAMPLES = int(os.environ.get("WARM_EXAMPLES", "6"))
TITLES = ["Self Attention", "Cross Attention", "注意力 机制", "Q#Former notes"]
NOTES = [
    "notes/fundamentals/self-attention.md",
    "notes/fundamentals/cross-attention.md",
    "notes/training/zhu-yi-li-ji-zhi.md",
    "papers/clip.md",
    "papers/vit.md",
]
TARGETS = [
    "self-attention.md",
    "../fundamentals/cross-attention.md",
    "../../papers/clip.md",
    "../../papers/vit.md",
    "../../resources/guide.md",
    "../../.venv/notes.md",
    "missing.md",
]


def later(path: Path) -> None:
    """Move a file's mtime on, so its stamp differs even within one clock tick."""
    st_ = path.stat()
    os.utime(path, ns=(st_.st_atime_ns, st_.st_mtime_ns + 1_000_000))


class WarmMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        template = Path(os.environ["WARM_TEMPLATE"])
        self.root = template.parent / f"lab-{id(self)}"
        self.cold = template.parent / f"cold-{id(self)}"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(template, self.root, symlinks=True)
        self.run = Run(self.root)
        self.run("check")  # the caches, made
        self.written: dict[str, list[bytes]] = {}  # views as lab wrote them, oldest first

    def after_command(self) -> None:
        for view in VIEWS:
            path = self.file(view)
            if path.exists():
                self.written.setdefault(view, []).append(path.read_bytes())

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.cold, ignore_errors=True)

    def file(self, relative: str) -> Path:
        return self.root / relative

    def append(self, relative: str, text: str) -> None:
        path = self.file(relative)
        if path.exists():
            path.write_text(read(path) + text, "utf-8")
            later(path)

    # --- hand edits ----------------------------------------------------------------------

    @rule(note=st.sampled_from(NOTES), to=st.sampled_from(TARGETS))
    def link(self, note: str, to: str) -> None:
        self.append(note, f"\n[see]({to})\n")

    @rule(note=st.sampled_from(NOTES), name=st.sampled_from([*TITLES, "clip", "nothing"]))
    def wiki_link(self, note: str, name: str) -> None:
        self.append(note, f"\nSee [[{name}]].\n")

    @rule(note=st.sampled_from(NOTES[:3]), title=st.sampled_from(TITLES))
    def retitle(self, note: str, title: str) -> None:
        path = self.file(note)
        if path.exists():
            lines = read(path).split("\n")
            lines = [f"title: '{title}'" if line.startswith("title:") else line for line in lines]
            path.write_text("\n".join(lines), "utf-8")
            later(path)

    @rule(
        note=st.sampled_from(NOTES[:3]),
        line=st.sampled_from(
            [
                "stage: 2",
                "stage: 4",
                "created: 2026-11-24",
                "created: 2026-10-01",
                "tags: [x, 注意力]",
                "summary: said so",
                "title: A: B: C",  # a problem
                "created: 2026/11/30",  # another problem
                "stage: 9",  # and another
            ]
        ),
    )
    def refield(self, note: str, line: str) -> None:
        """A frontmatter field set by hand: what `lab status` counts (a stage, a creation
        day, a problem) or what it does not (tags, a summary)."""
        path = self.file(note)
        if path.exists():
            key = line.split(":", 1)[0] + ":"
            lines = read(path).split("\n")
            at = next((n for n, old in enumerate(lines[1:], 1) if old.startswith(key)), None)
            if at is None or lines[1:at].count("---"):
                lines.insert(1, line)
            else:
                lines[at] = line
            path.write_text("\n".join(lines), "utf-8")
            later(path)

    @rule(note=st.sampled_from(NOTES))
    def delete(self, note: str) -> None:
        self.file(note).unlink(missing_ok=True)

    @rule(note=st.sampled_from(NOTES[:3]), claim=st.sampled_from(["Attention is O(n)", "x"]))
    def misconception(self, note: str, claim: str) -> None:  # a source of self-test questions
        path = self.file(note)
        if path.exists():
            text = read(path)
            at = text.find("## 常见误区")
            if at >= 0:
                end = text.index("\n", at) + 1
                path.write_text(text[:end] + f"\n- **误区**：{claim}\n" + text[end:], "utf-8")
                later(path)

    @rule(note=st.sampled_from(NOTES))
    def drop_a_section(self, note: str) -> None:
        path = self.file(note)
        if path.exists():
            text = read(path)
            heading = next((line for line in text.split("\n") if line.startswith("## ")), None)
            if heading:
                path.write_text(text.replace(heading + "\n", "", 1), "utf-8")
                later(path)

    @rule(where=st.sampled_from(["resources/guide.md", ".venv/notes.md"]), there=st.booleans())
    def outside_file(self, where: str, there: bool) -> None:
        path = self.file(where)
        if there:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("# guide\n\n[back](../README.md)\n[gone](nowhere.md)\n", "utf-8")
            later(path)
        else:
            path.unlink(missing_ok=True)

    @rule()
    def require_a_heading(self) -> None:
        self.append("templates/zh/concept.md.j2", "\n## 新的一节\n")

    @rule(view=st.sampled_from(VIEWS), back=st.integers(0, 5))
    def an_older_view(self, view: str, back: int) -> None:  # `git checkout` of an older version
        written = self.written.get(view, [])
        if written:
            self.file(view).write_bytes(written[max(0, len(written) - 1 - back)])
            later(self.file(view))

    @rule(view=st.sampled_from(VIEWS))
    def same_bytes_again(self, view: str) -> None:  # a `git checkout` of an unchanged file
        path = self.file(view)
        if path.exists():
            path.write_bytes(path.read_bytes())
            later(path)

    # --- commands ------------------------------------------------------------------------

    @rule(title=st.sampled_from(TITLES), category=st.sampled_from(["fundamentals", "training"]))
    def new_concept(self, title: str, category: str) -> None:
        self.run("new", "concept", title, "-c", category)
        self.after_command()

    @rule(
        key=st.sampled_from(["clip", "vit", "blip-2"]), status=st.sampled_from(["read", "unread"])
    )
    def mark(self, key: str, status: str) -> None:
        self.run("mark", key, status)
        self.after_command()

    @rule()
    def sync(self) -> None:
        self.run("sync")
        self.after_command()

    # --- the promise ---------------------------------------------------------------------

    @invariant()
    def warm_answers_as_cold(self) -> None:
        shutil.rmtree(self.cold, ignore_errors=True)
        shutil.copytree(self.root, self.cold, symlinks=True, ignore=shutil.ignore_patterns(".lab"))
        cold = Run(self.cold)
        for args in (
            ("check",),
            ("sync", "--check"),
            ("review", "--dry-run", "--seed", "1"),
            ("prompt", "review", "--no-log"),
        ):
            warm, fresh = self.run(*args), cold(*args)
            assert (warm.code, warm.out) == (fresh.code, fresh.out), args
        warm, fresh = self.run("status", "--json"), cold("status", "--json")
        assert warm.code == fresh.code == 0, (warm, fresh)
        mine, theirs = json.loads(warm.out), json.loads(fresh.out)
        assert mine.pop("lab")["root"] != theirs.pop("lab")["root"]  # two copies
        assert mine == theirs


WarmMachine.TestCase.settings = machine_settings(EXAMPLES, steps=10)


class TestWarmEqualsCold(WarmMachine.TestCase):  # type: ignore[name-defined,misc]
    pass


def setup_module() -> None:
    template = machine_template(
        "warm",
        ["new", "concept", "Self Attention", "-c", "fundamentals"],
        ["new", "concept", "Cross Attention", "-c", "fundamentals", "--related", "self-attention"],
        ["new", "concept", "注意力 机制", "-c", "training"],
        ["new", "paper", "clip"],
        ["new", "paper", "vit"],
    )
    os.environ["WARM_TEMPLATE"] = str(template)


def teardown_module() -> None:
    shutil.rmtree(Path(os.environ.pop("WARM_TEMPLATE")).parent, ignore_errors=True)
