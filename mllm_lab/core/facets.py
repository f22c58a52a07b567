"""Architecture facets of the catalog's multimodal models (vision encoder, connector, LLM,
input resolution, what is trained) from data/facets.yaml: validation, comparison tables as data
and as GitHub Markdown, selection, grouping by connector, and a Mermaid timeline. Only facts
from the file are shown: a paper without facets has empty cells and no node, never a guess.
Pure: nothing is printed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from mllm_lab.core.fm import load_yaml
from mllm_lab.core.markdown import escape_cell, mermaid_id, mermaid_label, row
from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr
from mllm_lab.models import Paper

FACETS_FILE = Path(__file__).resolve().parents[1] / "data" / "facets.yaml"

# The connector vocabulary of the checked reference (models.yaml): a connector is one of these.
CONNECTORS: tuple[str, ...] = (
    "linear projection",
    "MLP (2-layer)",
    "MLP (3-layer)",
    "MLP (depth unconfirmed)",
    "Q-Former",
    "Perceiver Resampler + gated cross-attention",
    "cross-attention resampler",
    "gated cross-attention",
    "visual expert",
    "none",
)
FIELDS = ("name", "vision_encoder", "connector", "connector_note", "llm", "resolution", "trainable")
# the columns of a comparison unless asked otherwise (connector_note is a paragraph)
TABLE_FIELDS = ("vision_encoder", "connector", "llm", "resolution", "trainable")
ALIASES = {"encoder": "vision_encoder", "model": "name", "note": "connector_note"}
Layout = Literal["rows", "columns"]


def label(field: str, lang: str) -> str:
    return tr(f"facet.{field}", lang)


@dataclass(frozen=True)
class Facets:
    key: str
    name: str
    vision_encoder: str
    connector: str
    connector_note: str
    llm: str
    resolution: str
    trainable: str

    def get(self, field: str) -> str:
        return str(getattr(self, field))


@dataclass(frozen=True)
class Entry:
    """A paper with its facets, or None when the catalog has none for it."""

    paper: Paper
    facets: Facets | None


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


# --- loading and validation -----------------------------------------------------------------


def validate(entry: Mapping[str, Any]) -> list[str]:
    """One line per problem of a facets.yaml entry; [] when it can be shipped."""
    expected = ("key", *FIELDS)
    problems = [f"missing `{field}`" for field in expected if field not in entry]
    problems += [f"unknown field `{field}`" for field in entry if field not in expected]
    for field in expected:
        value = entry.get(field)
        if field in entry and (
            isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip()
        ):
            problems.append(f"`{field}` must be non-empty text, not {value!r}")
    connector = entry.get("connector")
    if isinstance(connector, str) and connector not in CONNECTORS:
        valid = ", ".join(f'"{term}"' for term in CONNECTORS)
        problems.append(f"connector {connector!r} is not in the vocabulary; valid: {valid}")
    return problems


def parse(entries: Iterable[Mapping[str, Any]], where: str = "facets.yaml") -> dict[str, Facets]:
    """Facets by paper key; ValueError naming every problem (shipped data must be clean)."""
    found: dict[str, Facets] = {}
    problems: list[str] = []
    for index, entry in enumerate(entries):
        key = str(entry.get("key") or f"#{index + 1}")
        mistakes = validate(entry)
        if key in found:
            mistakes.append("listed twice")
        problems += [f"{where}: {key}: {mistake}" for mistake in mistakes]
        if not mistakes:
            found[key] = Facets(**{f.name: str(entry[f.name]) for f in fields(Facets)})
    if problems:
        raise ValueError("\n".join(problems))
    return found


@lru_cache(maxsize=1)
def catalog_facets() -> Mapping[str, Facets]:
    data = load_yaml(FACETS_FILE.read_text("utf-8"), str(FACETS_FILE))
    return parse(data["models"], str(FACETS_FILE))


def with_facets(papers: Iterable[Paper], table: Mapping[str, Facets] | None = None) -> list[Entry]:
    """Each paper with the catalog's facets for its key (case aside), or None."""
    known = {key.casefold(): facets for key, facets in (table or catalog_facets()).items()}
    return [Entry(paper, known.get(paper.key.casefold())) for paper in papers]


# --- comparison -----------------------------------------------------------------------------


def compare(
    entries: Iterable[Entry],
    layout: Layout = "rows",
    lang: str = "en",
    columns: Iterable[str] = TABLE_FIELDS,
) -> Table:
    """A comparison table as data. rows: a row per paper (key, year, venue, facets);
    columns: a column per paper, a row per fact (for reading two or three side by side).
    A missing fact is an empty cell."""
    facts = ("year", "venue", *(facet_field(column) for column in columns))
    cells = [(entry.paper.key, [_fact(entry, fact) for fact in facts]) for entry in entries]
    if layout == "rows":
        header = (label("key", lang), *(label(fact, lang) for fact in facts))
        return Table(header, tuple((key, *values) for key, values in cells))
    if layout == "columns":
        header = (label("facet", lang), *(key for key, _ in cells))
        body = [
            (label(fact, lang), *(values[i] for _, values in cells)) for i, fact in enumerate(facts)
        ]
        return Table(header, tuple(body))
    raise InvalidValue("layout", layout, ["rows", "columns"])


def _fact(entry: Entry, fact: str) -> str:
    if fact == "year":
        return "" if entry.paper.year is None else str(entry.paper.year)
    if fact == "venue":
        return entry.paper.venue or ""
    return "" if entry.facets is None else entry.facets.get(fact)


def markdown_table(table: Table) -> str:
    """GitHub Markdown; every cell escaped, so a `|`, a line break or a `*` stays text."""
    lines = [row([_cell(text) for text in table.header]), row(["---"] * len(table.header))]
    lines += [row([_cell(text) for text in cells]) for cells in table.rows]
    return "\n".join(lines) + "\n"


_MARKDOWN_PUNCT = re.compile(r"([\\`*_\[\]])")


def _cell(text: str) -> str:
    return escape_cell(_MARKDOWN_PUNCT.sub(r"\\\1", text.strip()))


def records(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """Plain data for --json: the paper's facts and its facets (None when it has none)."""
    return [
        {
            "key": e.paper.key,
            "title": e.paper.title,
            "year": e.paper.year,
            "venue": e.paper.venue,
            "facets": None if e.facets is None else {f: e.facets.get(f) for f in FIELDS},
        }
        for e in entries
    ]


# --- selection and grouping -----------------------------------------------------------------


def facet_field(name: str) -> str:
    field = ALIASES.get(name.strip().lower(), name.strip().lower().replace("-", "_"))
    if field not in FIELDS:
        raise InvalidValue("facet", name, FIELDS)
    return field


def connector_terms(value: str) -> tuple[str, ...]:
    """The vocabulary terms `value` names (case aside): the term itself, else every term that
    contains it ("mlp": the three MLP terms). Empty when it names none."""
    wanted = value.strip().casefold()
    exact = tuple(term for term in CONNECTORS if term.casefold() == wanted)
    return exact or tuple(term for term in CONNECTORS if wanted and wanted in term.casefold())


def by_facet(entries: Iterable[Entry], facet: str, value: str) -> list[Entry]:
    """Entries whose facet matches `value`, case aside: connector by its vocabulary terms (see
    connector_terms), any other facet when its text contains `value`. An unknown connector
    raises InvalidValue naming the vocabulary."""
    field, wanted = facet_field(facet), value.strip().casefold()
    if field == "connector":
        terms = connector_terms(value)
        if not terms:
            raise InvalidValue("connector", value, CONNECTORS)
        return [e for e in entries if e.facets is not None and e.facets.connector in terms]
    return [e for e in entries if e.facets is not None and wanted in e.facets.get(field).casefold()]


def by_connector(entries: Iterable[Entry]) -> dict[str, list[Entry]]:
    """Entries with facets, grouped by connector in vocabulary order, each group by year."""
    groups: dict[str, list[Entry]] = {term: [] for term in CONNECTORS}
    for entry in entries:
        if entry.facets is not None:
            groups[entry.facets.connector].append(entry)
    return {term: sorted(group, key=_by_year) for term, group in groups.items() if group}


def _by_year(entry: Entry) -> tuple[int, str]:
    return (entry.paper.year or 0, entry.paper.key)


# --- Mermaid --------------------------------------------------------------------------------


def short_name(facets: Facets) -> str:
    """The release name without its parenthesised detail: "Octo (Octo-Small 27M ...)" -> "Octo"."""
    return facets.name.split(" (", 1)[0].strip() or facets.key


def timeline_mermaid(
    entries: Iterable[Entry], lang: str = "en", direction: Literal["LR", "TB"] = "LR"
) -> str:
    """A flowchart with a subgraph per year, linked oldest to newest, and a node per model
    with its connector and vision encoder. Papers without facets have no node. LR is one row
    (wide: GitHub shrinks it to the page); TB stacks the years (long, but full size)."""
    by_year: dict[int, list[Entry]] = {}
    for entry in sorted((e for e in entries if e.facets and e.paper.year), key=_by_year):
        by_year.setdefault(entry.paper.year or 0, []).append(entry)
    lines = [f"flowchart {direction}"]
    for year, group in by_year.items():
        lines.append(f'    subgraph y{year}["{year}"]')
        lines += [f"        {_node(entry, lang)}" for entry in group]
        lines.append("    end")
    lines += [f"    y{before} --> y{after}" for before, after in pairwise(by_year)]
    return "\n".join(lines) + "\n"


def _node(entry: Entry, lang: str) -> str:
    assert entry.facets is not None
    facets = entry.facets
    parts = [
        f"{short_name(facets)} · {entry.paper.year}",
        f"{label('connector', lang)}: {facets.connector}",
        f"{label('vision_encoder', lang)}: {facets.vision_encoder}",
    ]
    # Mermaid wraps long label lines itself; <br> only separates the three facts
    text = "<br>".join(mermaid_label(part)[1:-1] for part in parts)
    return f'{mermaid_id(entry.paper.key, "m")}["{text}"]'


def comparison_view(entries: Iterable[Entry], lang: str = "en") -> str:
    """The Markdown of a comparison page or region: the table of the papers with facets, then
    the timeline in a ```mermaid block."""
    shown = sorted((e for e in entries if e.facets is not None), key=_by_year)
    table = markdown_table(compare(shown, "rows", lang))
    return f"{table}\n```mermaid\n{timeline_mermaid(shown, lang)}```\n"
