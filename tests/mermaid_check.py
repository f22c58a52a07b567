"""A small checker for the Mermaid flowchart constructs lab emits (the concept maps): the
header, quoted node labels (rectangles and stadiums), subgraphs with `end`, the edges -->,
-.->, -.- and <-->, and `classDef`/`class` lines. It rejects what would make Mermaid (and so GitHub) fail to parse or
silently draw something else: an undefined or reserved id, a raw quote or backtick in a label,
an id that an arrow would eat (`A---oB`), unbalanced subgraphs, or a diagram past Mermaid's
default maxTextSize. mermaid-cli itself runs in tests/render_mermaid.sh."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TEXT = 50_000  # Mermaid's default maxTextSize
RESERVED = {
    "end",
    "subgraph",
    "graph",
    "flowchart",
    "style",
    "class",
    "classdef",
    "click",
    "linkstyle",
    "default",
    "direction",
    "call",
    "href",
}
_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"(?P<label>[^"\n`]*)"'
_HEADER = re.compile(r"^(?:flowchart|graph) (?:LR|RL|TB|TD|BT)$")
_SUBGRAPH = re.compile(rf"^\s*subgraph (?P<id>{_ID})\[{_LABEL}\]$")
_NODE = re.compile(rf"^\s*(?P<id>{_ID})(?P<open>\[|\(\[){_LABEL}(?P<close>\]|\]\))$")
_EDGE = re.compile(rf"^\s*(?P<a>{_ID}) (?P<arrow>-->|-\.->|-\.-|<-->) (?P<b>{_ID})$")
_ENTITY = re.compile(r"#(?:[a-z]+|[0-9]+);")
_CLASSDEF = re.compile(
    r"^\s*classDef (?P<name>[A-Za-z][\w-]*) (?:[a-z-]+:[#\w.%]+)(?:,[a-z-]+:[#\w.%]+)*$"
)
_CLASS = re.compile(rf"^\s*class (?P<ids>{_ID}(?:,{_ID})*) (?P<name>[A-Za-z][\w-]*)$")


class MermaidError(AssertionError):
    pass


@dataclass
class Flowchart:
    nodes: dict[str, str] = field(default_factory=dict)  # id -> label
    subgraphs: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (a, arrow, b)
    members: dict[str, str] = field(default_factory=dict)  # node id -> its subgraph
    classes: dict[str, str] = field(default_factory=dict)  # node id -> its class
    class_defs: set[str] = field(default_factory=set)


def _label(label: str, line: int) -> None:
    if "#" in _ENTITY.sub("", label):
        raise MermaidError(f"line {line}: a bare # in a label (write #35;): {label!r}")


def _id(name: str, line: int, taken: dict[str, str], what: str) -> None:
    if name.lower() in RESERVED:
        raise MermaidError(f"line {line}: {what} id {name!r} is a Mermaid keyword")
    if name in taken:
        raise MermaidError(f"line {line}: {what} id {name!r} defined twice")


def check(text: str) -> Flowchart:
    """Parse a flowchart as lab writes it; MermaidError names the first problem."""
    if len(text) >= MAX_TEXT:
        raise MermaidError(f"{len(text)} characters: over Mermaid's maxTextSize {MAX_TEXT}")
    lines = text.rstrip("\n").split("\n")
    if not _HEADER.match(lines[0]):
        raise MermaidError(f"line 1: not a flowchart header: {lines[0]!r}")
    chart = Flowchart()
    stack: list[str] = []
    for number, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped or stripped.startswith("%%"):
            continue
        if stripped == "end":
            if not stack:
                raise MermaidError(f"line {number}: `end` without a subgraph")
            stack.pop()
            continue
        if match := _SUBGRAPH.match(line):
            _id(match["id"], number, {**chart.nodes, **chart.subgraphs}, "subgraph")
            _label(match["label"], number)
            chart.subgraphs[match["id"]] = match["label"]
            stack.append(match["id"])
            continue
        if match := _NODE.match(line):
            if (match["open"], match["close"]) not in (("[", "]"), ("([", "])")):
                raise MermaidError(f"line {number}: mismatched node brackets")
            _id(match["id"], number, {**chart.nodes, **chart.subgraphs}, "node")
            _label(match["label"], number)
            chart.nodes[match["id"]] = match["label"]
            if stack:
                chart.members[match["id"]] = stack[-1]
            continue
        if match := _EDGE.match(line):
            for end in (match["a"], match["b"]):
                if end not in chart.nodes:
                    raise MermaidError(f"line {number}: edge to undefined node {end!r}")
            chart.edges.append((match["a"], match["arrow"], match["b"]))
            continue
        if match := _CLASSDEF.match(line):
            chart.class_defs.add(match["name"])
            continue
        if match := _CLASS.match(line):
            for node in match["ids"].split(","):
                if node not in chart.nodes:
                    raise MermaidError(f"line {number}: class for undefined node {node!r}")
                chart.classes[node] = match["name"]
            continue
        raise MermaidError(f"line {number}: not a construct lab emits: {line!r}")
    if stack:
        raise MermaidError(f"subgraph {stack[-1]!r} has no `end`")
    if set(chart.classes.values()) - chart.class_defs:
        raise MermaidError(
            f"classes without classDef: {set(chart.classes.values()) - chart.class_defs}"
        )
    return chart


def blocks(markdown: str) -> list[str]:
    """The ```mermaid blocks of a Markdown document."""
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, flags=re.M | re.S)
