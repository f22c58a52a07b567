"""The review's concept map: Mermaid flowcharts of the notes and how they relate, readable at
any size. Relations are the links in note bodies and `related:` entries (solid arrows), tags
that name a paper or note (dotted arrows) and rare tags two notes share (dotted lines). No
diagram holds more than MAX_NODES notes or MAX_EDGES edges, so each stays far below Mermaid's
50,000-character limit: a lab that has more notes gets an overview (each stage's most
connected notes) and one map per stage (its most connected).

The roadmap stages are told apart by colour (one `classDef` per stage, named in the caption),
not by `subgraph` boxes: Mermaid lays out subgraphs with dagre's compound graphs, which crash
on some graphs whose edges cross between subgraphs ("Cannot set properties of undefined
(setting 'order')", dagrejs/dagre#255, open), and which graphs cannot be told beforehand
(about one overview in twenty of random labs). A flat graph always lays out."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import NamedTuple

from mllm_lab import kinds
from mllm_lab.core.labdata import stem
from mllm_lab.core.markdown import mermaid_id, mermaid_label
from mllm_lab.core.roadmap import STAGES, stage_name
from mllm_lab.messages import tr
from mllm_lab.models import Note

MAX_NODES = 60
MAX_EDGES = 90
LABEL = 40  # characters of a title shown in a node
SHARED_TAG_MAX = 6  # a tag on more notes than this (of a diagram) says little: no lines
LINK, NAMES, TAG = "link", "names", "tag"
_ARROWS = {LINK: "-->", NAMES: "-.->", TAG: "-.-"}
_RANK = {LINK: 0, NAMES: 1, TAG: 2}
# Each stage's fill and stroke (0: no stage); dark text reads on them in light and dark themes.
COLOURS = {
    1: ("#dbeafe", "#1d4ed8"),
    2: ("#dcfce7", "#15803d"),
    3: ("#fef9c3", "#a16207"),
    4: ("#ffedd5", "#c2410c"),
    5: ("#f3e8ff", "#7e22ce"),
    0: ("#f3f4f6", "#4b5563"),
}


class Edge(NamedTuple):  # a tuple: a big lab's map is drawn from 200,000 of them
    source: str
    target: str
    kind: str  # LINK, NAMES or TAG


class Diagram(NamedTuple):
    title: str  # "" when the lab fits in one map
    caption: str
    mermaid: str
    nodes: int
    edges: int
    paths: tuple[str, ...] = ()  # the notes it shows


def relations(
    notes: Sequence[Note], links: Iterable[tuple[str, str]], keys: Mapping[str, str]
) -> list[Edge]:
    """Links between the notes, and tags naming another note (a paper's key or a note's file
    name). Each ordered pair once, the strongest kind kept."""
    known = {note.path for note in notes}
    names: dict[str, str] = {stem(n.path).casefold(): n.path for n in notes}
    names |= {key.casefold(): path for key, path in keys.items() if path in known}
    best: dict[tuple[str, str], str] = {}
    for source, target in links:
        if source in known and target in known and source != target:
            best[(source, target)] = LINK
    for note in notes:
        for tag in note.tags:
            named = names.get(tag.casefold())
            if named and named != note.path:
                best.setdefault((note.path, named), NAMES)
    return [Edge(s, t, kind) for (s, t), kind in sorted(best.items())]


def shared_tags(notes: Sequence[Note], connected: set[frozenset[str]]) -> list[Edge]:
    """Dotted lines between notes of a diagram that share a tag few of them have: each tag's
    notes in a chain (not every pair), pairs already connected skipped."""
    by_tag: dict[str, list[str]] = defaultdict(list)
    for note in sorted(notes, key=lambda n: n.path):
        for tag in sorted({t.casefold() for t in note.tags}):
            by_tag[tag].append(note.path)
    found = []
    seen = set(connected)
    for _tag, members in sorted(by_tag.items(), key=lambda item: (len(item[1]), item[0])):
        if not 2 <= len(members) <= SHARED_TAG_MAX:
            continue
        for source, target in pairwise(members):
            pair = frozenset((source, target))
            if pair not in seen:
                seen.add(pair)
                found.append(Edge(source, target, TAG))
    return found


def _degrees(edges: Iterable[Edge]) -> Counter[str]:
    degree: dict[str, int] = {}  # a plain dict: a Counter's += costs a third more
    get = degree.get
    for source, target, kind in edges:
        weight = 2 if kind == LINK else 1
        degree[source] = get(source, 0) + weight
        degree[target] = get(target, 0) + weight
    return Counter(degree)


def _top(notes: Sequence[Note], degree: Counter[str], count: int) -> list[Note]:
    """The `count` most connected notes (ties: papers first, then by path), in path order."""
    ranked = heapq.nsmallest(
        count, notes, key=lambda n: (-degree[n.path], n.kind is not kinds.PAPER, n.path)
    )
    return sorted(ranked, key=lambda n: n.path)


def _label(title: str) -> str:
    """A title short enough for a node, cut at a space when there is one in its second half."""
    flat = " ".join(title.split())
    if len(flat) <= LABEL:
        return flat
    cut = flat[: LABEL - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > LABEL // 2 else cut).rstrip(" :,;-") + "…"


def _ids(notes: Sequence[Note]) -> dict[str, str]:
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for note in notes:
        made = mermaid_id(note.path)
        while made in taken:  # two paths alike in their first letters and hash: lengthen
            made += "_"
        taken.add(made)
        ids[note.path] = made
    return ids


def _edge_lines(edges: Sequence[Edge], ids: Mapping[str, str], degree: Counter[str]) -> list[str]:
    """The strongest MAX_EDGES edges, a link both ways drawn once as <-->."""
    pairs = {(e.source, e.target): e.kind for e in edges}
    chosen = sorted(
        edges,
        key=lambda e: (_RANK[e.kind], -(degree[e.source] + degree[e.target]), e.source, e.target),
    )
    lines = []
    drawn: set[frozenset[str]] = set()
    for edge in chosen:
        pair = frozenset((edge.source, edge.target))
        if pair in drawn:
            continue
        drawn.add(pair)
        arrow = _ARROWS[edge.kind]
        if edge.kind == LINK and pairs.get((edge.target, edge.source)) == LINK:
            arrow = "<-->"
        lines.append(f"    {ids[edge.source]} {arrow} {ids[edge.target]}")
        if len(lines) == MAX_EDGES:
            break
    return sorted(lines)


def flowchart(notes: Sequence[Note], edges: Sequence[Edge], lang: str) -> str:
    """One Mermaid flowchart: a cluster per roadmap stage, a node per note (papers as
    stadiums), the given edges between them (and shared-tag lines). Ids are ASCII; every
    label is quoted and escaped."""
    return _render(notes, edges, lang)[0]


def _render(notes: Sequence[Note], edges: Sequence[Edge], lang: str) -> tuple[str, int]:
    """The flowchart and how many edges it draws."""
    lines = ["flowchart LR"]
    if not notes:
        lines.append(f"    empty[{mermaid_label(tr('review.empty_map', lang))}]")
        return "\n".join(lines) + "\n", 0
    ids = _ids(notes)
    shown = [e for e in edges if e.source in ids and e.target in ids]
    shown += shared_tags(notes, {frozenset((e.source, e.target)) for e in shown})
    degree = _degrees(shown)
    styles = []
    for number in _stages(notes):
        members = [n for n in notes if (n.stage or 0) == number]
        for note in members:
            left, right = ("([", "])") if note.kind is kinds.PAPER else ("[", "]")
            lines.append(f"    {ids[note.path]}{left}{mermaid_label(_label(note.title))}{right}")
        fill, stroke = COLOURS[number]
        styles.append(f"    classDef stage{number} fill:{fill},stroke:{stroke},color:#111")
        styles.append(f"    class {','.join(ids[n.path] for n in members)} stage{number}")
    drawn = _edge_lines(shown, ids, degree)
    return "\n".join([*lines, *drawn, *styles]) + "\n", len(drawn)


def _stages(notes: Sequence[Note]) -> list[int]:
    """The stages (0: none) the notes belong to, in roadmap order."""
    present = {note.stage or 0 for note in notes}
    return [number for number in [*(s.number for s in STAGES), 0] if number in present]


def stage_legend(notes: Sequence[Note], lang: str) -> str:
    """Which colour is which stage, for the stages the notes are in."""
    return tr("review.separator", lang).join(
        tr(
            "review.map_colour",
            lang,
            colour=tr(f"review.colour.{n}", lang),
            stage=stage_name(n or None, lang),
        )
        for n in _stages(notes)
    )


def _caption(chosen: Sequence[Note], total: int, lang: str) -> str:
    legend = tr("review.map_legend", lang, stages=stage_legend(chosen, lang))
    if len(chosen) >= total:
        return legend
    return tr("review.map_partial", lang, shown=len(chosen), total=total) + " " + legend


def maps(notes: Sequence[Note], edges: Sequence[Edge], lang: str) -> list[Diagram]:
    """One map when the notes fit; else an overview and a map per stage."""
    if len(notes) <= MAX_NODES:
        return [_diagram(title="", chosen=notes, pool=notes, edges=edges, lang=lang)]
    degree = _degrees(edges)
    by_stage: dict[int | None, list[Note]] = defaultdict(list)
    for note in notes:
        by_stage[note.stage].append(note)
    order = [number for number in [*(s.number for s in STAGES), None] if by_stage.get(number)]
    each = max(3, MAX_NODES // len(order))
    overview = [n for number in order for n in _top(by_stage[number], degree, each)]
    title = tr("review.map_overview", lang)
    diagrams = [
        _diagram(title=title, chosen=overview[:MAX_NODES], pool=notes, edges=edges, lang=lang)
    ]
    for number in order:
        members = by_stage[number]
        chosen = _top(members, degree, MAX_NODES)
        diagrams.append(
            _diagram(
                title=stage_name(number, lang), chosen=chosen, pool=members, edges=edges, lang=lang
            )
        )
    return diagrams


def _diagram(
    title: str, chosen: Sequence[Note], pool: Sequence[Note], edges: Sequence[Edge], lang: str
) -> Diagram:
    text, drawn = _render(chosen, edges, lang)
    return Diagram(
        title=title,
        caption=_caption(chosen, len(pool), lang),
        mermaid=text,
        nodes=len(chosen),
        edges=drawn,
        paths=tuple(n.path for n in chosen),
    )
