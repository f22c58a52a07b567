"""The review's concept map: relations drawn (links, `related:`, tags naming a note, rare
shared tags), stages as colours, and a bound that holds at any size: at most 60 notes and
90 edges per diagram, far below Mermaid's 50,000 characters, on a lab of 10,000 notes too."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Run, read
from mermaid_check import MAX_TEXT, blocks, check
from realistic import QFORMER, build

from mllm_lab import kinds
from mllm_lab.core.conceptmap import MAX_EDGES, MAX_NODES, maps, relations, shared_tags
from mllm_lab.models import Note

BENCH = Path(__file__).parent / "benchmarks"


def note(path: str, stage: int | None = 1, tags: tuple[str, ...] = (), title: str = "") -> Note:
    kind = kinds.PAPER if path.startswith("papers/") else kinds.CONCEPT
    return Note(path=path, kind=kind, title=title or path, stage=stage, tags=tags)


def test_relations_from_links_related_and_tags_naming_a_note() -> None:
    notes = [
        note("notes/a/q-former.md", tags=("blip-2",)),
        note("papers/blip-2.md", stage=3),
        note("notes/a/clip-loss.md", tags=("clip-loss-note", "q-former")),
        note("notes/a/lonely.md"),
    ]
    links = [("notes/a/q-former.md", "papers/blip-2.md"), ("notes/a/x.md", "papers/blip-2.md")]
    found = relations(notes, links, {"blip-2": "papers/blip-2.md"})
    assert [(e.source, e.target, e.kind) for e in found] == [
        ("notes/a/clip-loss.md", "notes/a/q-former.md", "names"),  # its tag is a file name
        ("notes/a/q-former.md", "papers/blip-2.md", "link"),  # a link beats a tag
    ]


def test_shared_tags_draw_a_chain_for_rare_tags_only() -> None:
    notes = [note(f"n{i}.md", tags=("rare",) if i < 3 else ("everywhere",)) for i in range(12)]
    edges = shared_tags(notes, set())
    assert [(e.source, e.target) for e in edges] == [("n0.md", "n1.md"), ("n1.md", "n2.md")]
    assert shared_tags(notes, {frozenset(("n0.md", "n1.md"))})[0].source == "n1.md"


def test_a_small_lab_is_one_map_that_shows_relations() -> None:
    notes = [
        note("notes/f/attention.md", 1, ("attention",), 'Self-Attention "自注意力" #1'),
        note("notes/m/q-former.md", 3, ("blip-2", "bridge"), "Q-Former (桥接) [x] `y`"),
        note("papers/blip-2.md", 3, (), "BLIP-2: Bootstrapping | end"),
        note("notes/m/perceiver.md", 3, ("bridge",), "end"),
        note("notes/x/none.md", None, (), "subgraph"),
    ]
    links = [("notes/f/attention.md", "notes/m/q-former.md")]
    (diagram,) = maps(notes, relations(notes, links, {"blip-2": "papers/blip-2.md"}), "zh")
    chart = check(diagram.mermaid)
    assert diagram.title == "" and diagram.nodes == 5
    arrows = sorted(arrow for _a, arrow, _b in chart.edges)
    assert arrows == ["-->", "-.-", "-.->"]  # a link, a shared tag, a tag naming the paper
    assert set(chart.classes.values()) == {"stage1", "stage3", "stage0"}  # stages are colours
    assert not chart.subgraphs  # dagre's compound layout crashes on some (see conceptmap)
    assert "蓝色为阶段一" in diagram.caption and "实线箭头" in diagram.caption


def synthetic(count: int, seed: int = 0) -> tuple[list[Note], list[tuple[str, str]]]:
    """`count` notes over the five stages with ~4 random links each and a few tags."""
    rng = random.Random(seed)
    tags = [f"t{i}" for i in range(40)]
    notes = [
        note(
            f"{'papers' if i % 3 == 0 else 'notes/c'}/n{i}.md",
            stage=rng.choice([1, 2, 3, 4, 5, None]),
            tags=tuple(rng.sample(tags, rng.randint(0, 3))),
            title=f"笔记 {i}: " + "很长的标题 " * rng.randint(0, 12),
        )
        for i in range(count)
    ]
    links = [
        (notes[i].path, notes[rng.randrange(count)].path) for i in range(count) for _ in range(4)
    ]
    return notes, links


@pytest.mark.parametrize("count", [61, 300, 10_000])
def test_every_diagram_stays_readable_at_any_size(count: int) -> None:
    notes, links = synthetic(count)
    diagrams = maps(notes, relations(notes, links, {}), "en")
    assert len(diagrams) == 7  # an overview and one per stage (five, and "no stage")
    assert diagrams[0].title.startswith("Overview")
    for diagram in diagrams:
        chart = check(diagram.mermaid)
        assert len(chart.nodes) == diagram.nodes <= MAX_NODES
        assert len(chart.edges) == diagram.edges <= MAX_EDGES
        assert len(diagram.mermaid) < 20_000 < MAX_TEXT
    per_stage = [sum(n.stage == s for n in notes) for s in (1, 2, 3, 4, 5, None)]
    assert [d.nodes for d in diagrams[1:]] == [min(n, MAX_NODES) for n in per_stage]
    again = maps(notes, relations(notes, links, {}), "en")
    assert [d.mermaid for d in again] == [d.mermaid for d in diagrams]  # stable


def test_the_most_connected_notes_are_the_ones_shown() -> None:
    notes, links = synthetic(500, seed=1)
    hub = notes[7].path
    links += [(n.path, hub) for n in notes[:200]]
    overview = maps(notes, relations(notes, links, {}), "zh")[0]
    assert hub in overview.paths


def test_review_maps_of_a_realistic_lab(in_lab: Run, lab: Path) -> None:
    build(in_lab, lab)
    assert in_lab("review", "--seed", "1").ok
    review = read(lab / "reviews/review-2026-11-25.md")
    (block,) = blocks(review)
    chart = check(block)
    labels = set(chart.nodes.values())
    assert "Q-Former 笔记" in labels  # a note without frontmatter, titled by its heading
    assert "Attention Sink" in labels and "对比学习" in labels
    ids = {label: node for node, label in chart.nodes.items()}
    blip = next(node for label, node in ids.items() if label.startswith("BLIP-2"))
    assert (ids["Q-Former 笔记"], "-->", blip) in chart.edges
    assert (
        ids["对比学习"],
        "-->",
        next(n for lab_, n in ids.items() if "Transferable" in lab_),
    ) in (chart.edges)  # its `related:` entry
    assert QFORMER not in review  # paths are not labels


def test_review_since_a_date_maps_only_that_period(in_lab: Run, lab: Path) -> None:
    build(in_lab, lab)
    assert in_lab("review", "--since", "2026-11-25", "--seed", "1").ok
    (block,) = blocks(read(lab / "reviews/review-2026-11-25.md"))
    labels = set(check(block).nodes.values())
    assert "Attention Sink" not in labels  # created 2026-11-24
    assert any(label.startswith("BLIP-2") for label in labels)


@pytest.mark.slow
def test_review_of_a_big_lab_is_bounded(tmp_path: Path) -> None:
    """The benchmark's synthetic lab (tests/benchmarks/make_lab.py), of 3,000 notes: some 400
    concept notes a stage, six times the bound of a diagram (the 10,000 notes this test made
    until 2026-11-29 took 16 s of the suite to show the same): every diagram of `lab review`
    parses and stays within the bound."""
    root = tmp_path / "lab3k"
    env = {**os.environ, "LAB_TODAY": "2026-11-25"}
    subprocess.run(
        [sys.executable, str(BENCH / "make_lab.py"), str(root), "--notes", "3000"],
        check=True, env=env, capture_output=True, timeout=600,
    )  # fmt: skip
    lab = Path(sys.executable).with_name("lab")
    done = subprocess.run(
        [str(lab), "review", "--seed", "1"], cwd=root, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    review = read(root / "reviews/review-2026-11-25.md")
    diagrams = blocks(review)
    assert len(diagrams) == 6  # the overview and one map per stage
    for text in diagrams:
        chart = check(text)
        assert len(chart.nodes) <= MAX_NODES and len(chart.edges) <= MAX_EDGES
        assert len(text) < 20_000
    assert "图中是联系最多的 60 篇" in review


def _mermaid_cli() -> tuple[str, str] | None:
    home = Path(os.environ.get("MMDC_HOME", Path.home() / ".cache/mllm-lab-mermaid-cli"))
    mmdc = os.environ.get("MMDC") or str(home / "node_modules/.bin/mmdc")
    browser = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not Path(mmdc).exists() or not browser:
        return None
    return mmdc, browser


MERMAID_CLI = _mermaid_cli()  # found before the tests move HOME


@pytest.mark.slow
@pytest.mark.skipif(
    MERMAID_CLI is None,
    reason="needs mermaid-cli and Chromium (see tests/render_mermaid.sh; MMDC=path/to/mmdc)",
)
def test_mermaid_cli_renders_every_map(in_lab: Run, lab: Path, tmp_path: Path) -> None:
    assert MERMAID_CLI is not None
    mmdc, browser = MERMAID_CLI
    build(in_lab, lab)
    assert in_lab("review", "--seed", "1").ok
    notes, links = synthetic(2000, seed=2)
    hostile = 'end | a;b "q" #x <br> [x] (y) {z} `c` --> %% 视觉编码器 \\ &amp; subgraph'
    notes = [Note(n.path, n.kind, hostile if i % 7 == 0 else n.title, stage=n.stage, tags=n.tags)
             for i, n in enumerate(notes)]  # fmt: skip
    big = maps(notes, relations(notes, links, {}), "zh")
    document = read(lab / "reviews/review-2026-11-25.md") + "".join(
        f"\n```mermaid\n{d.mermaid}```\n" for d in big
    )
    source = tmp_path / "maps.md"
    source.write_text(document, "utf-8")
    config = tmp_path / "puppeteer.json"
    config.write_text(f'{{"executablePath": "{browser}", "args": ["--no-sandbox"]}}', "utf-8")
    done = subprocess.run(
        [mmdc, "--quiet", "-p", str(config), "-i", str(source), "-o", str(tmp_path / "out.md")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    svgs = sorted(tmp_path.glob("out-*.svg"))
    assert len(svgs) == 1 + len(big)
    for svg in svgs:
        assert "Syntax error" not in svg.read_text("utf-8")
        assert "Maximum text size" not in svg.read_text("utf-8")
