"""Architecture facets of multimodal models (vision encoder, connector, LLM, input resolution,
what is trained): the catalog's, from data/facets.yaml, and a lab paper's own, from its note's
frontmatter. Validation, comparison tables as data and as GitHub Markdown, selection, grouping
by connector, and a Mermaid timeline. Only facts that are written down are shown: a paper
without facets has empty cells and no node, never a guess. Pure: nothing is printed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, NamedTuple

from mllm_lab.core import fastyaml
from mllm_lab.core.fm import load_yaml
from mllm_lab.core.markdown import escape_cell, mermaid_id, mermaid_label, row
from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr
from mllm_lab.models import CONNECTORS, FACET_FIELDS, Paper
from mllm_lab.patterns import pattern

FACETS_FILE = Path(__file__).resolve().parents[1] / "data" / "facets.yaml"

FIELDS = ("name", "vision_encoder", "connector", "connector_note", "llm", "resolution", "trainable")
# the columns of a comparison unless asked otherwise: the facets a paper note holds too
TABLE_FIELDS = FACET_FIELDS
ALIASES = {"encoder": "vision_encoder", "model": "name", "note": "connector_note"}
# GitHub refuses to draw a Mermaid diagram longer than 50,000 characters
MERMAID_LIMIT = 40_000
Layout = Literal["rows", "columns"]


def label(field: str, lang: str) -> str:
    return tr(f"facet.{field}", lang)


class Facets(NamedTuple):
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


class Entry(NamedTuple):
    """A paper with its facets, or None when the catalog has none for it."""

    paper: Paper
    facets: Facets | None


class Table(NamedTuple):
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
            found[key] = Facets(**{name: str(entry[name]) for name in Facets._fields})
    if problems:
        raise ValueError("\n".join(problems))
    return found


@lru_cache(maxsize=1)
def catalog_facets() -> Mapping[str, Facets]:
    text = FACETS_FILE.read_text("utf-8")
    return parse(read_models(text, str(FACETS_FILE)), str(FACETS_FILE))


def read_models(text: str, where: str) -> list[dict[str, Any]]:
    """The `models:` list of facets.yaml. Each entry is a flat mapping of plain scalars, which
    the fast frontmatter reader reads in microseconds; PyYAML (~50 ms to import, on every
    write that regenerates the comparison view) only if an entry needs it."""
    _, _, body = text.partition("\nmodels:\n")
    entries: list[list[str]] = []
    for line in body.split("\n"):
        if line.startswith("- "):
            entries.append(["  " + line[2:]])
        elif entries and line.startswith("  "):
            entries[-1].append(line)
        elif line.strip() and not line.startswith("#"):
            entries = []  # something else: not the expected shape
            break
    models = [fastyaml.load([line[2:] for line in lines]) for lines in entries]
    if not body or not entries or any(model is None for model in models):
        return list(load_yaml(text, where)["models"])
    return [model for model in models if model is not None]


def with_facets(papers: Iterable[Paper], table: Mapping[str, Facets] | None = None) -> list[Entry]:
    """Each paper with the catalog's facets for its key (case aside), or None."""
    known = {key.casefold(): facets for key, facets in (table or catalog_facets()).items()}
    return [Entry(paper, known.get(paper.key.casefold())) for paper in papers]


def own_facets(paper: Paper, table: Mapping[str, Facets]) -> Facets | None:
    """The facets a paper's note (or list entry) writes, or None when it writes none. Only
    the model's name comes from the catalog (for a diagram's label): the frontmatter holds
    the four facets, and the source's words and what is trained stay the catalog's."""
    if not (paper.vision_encoder or paper.connector or paper.llm or paper.resolution):
        return None  # (the common case, checked without building a dict)
    known = table.get(paper.key) or table.get(paper.key.casefold())
    return Facets(
        key=paper.key,
        name=known.name if known else "",
        vision_encoder=paper.vision_encoder or "",
        connector=paper.connector or "",
        connector_note="",
        llm=paper.llm or "",
        resolution=paper.resolution or "",
        trainable="",
    )


def lab_entries(papers: Iterable[Paper], table: Mapping[str, Facets]) -> list[Entry]:
    """Each paper of a lab with its facets: a note's are the ones in its frontmatter (edited
    by hand or not; none there means none), a paper without a note takes the catalog's
    checked ones unless its list entry writes its own."""
    known = {key.casefold(): facets for key, facets in table.items()}
    entries = []
    for paper in papers:
        facets = own_facets(paper, table)
        if facets is None and paper.note is None:
            facets = known.get(paper.key.casefold())
        entries.append(Entry(paper, facets))
    return entries


def vocabulary(facet: str, table: Mapping[str, Facets] | None = None) -> tuple[str, ...]:
    """What completion offers for a facet: the connector vocabulary, or the catalog's values
    of any other facet (sorted, without repeats)."""
    field = facet_field(facet)
    if field == "connector":
        return CONNECTORS
    values = {facets.get(field) for facets in (table or catalog_facets()).values()}
    return tuple(sorted(value for value in values if value))


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
    lines = [row([md_cell(text) for text in table.header]), row(["---"] * len(table.header))]
    lines += [row([md_cell(text) for text in cells]) for cells in table.rows]
    return "\n".join(lines) + "\n"


_MARKDOWN_PUNCT = pattern(r"([`*_\[\]])")  # none of them is in the entities escape_cell writes


def md_cell(text: str) -> str:
    """A table cell of user text: `|`, backslashes and line breaks as entities, then Markdown
    punctuation backslash-escaped, one line."""
    return _MARKDOWN_PUNCT.sub(r"\\\1", escape_cell(text.strip()))


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
    """Entries with facets, grouped by connector: the vocabulary's terms in its order, then
    connectors outside it (a hand edit; `lab check` names them), then "" (none written);
    each group by year."""
    groups: dict[str, list[Entry]] = {term: [] for term in CONNECTORS}
    for entry in entries:
        if entry.facets is not None:
            groups.setdefault(entry.facets.connector, []).append(entry)
    order = [*CONNECTORS, *sorted(set(groups) - set(CONNECTORS) - {""}), ""]
    return {term: sorted(groups[term], key=_by_year) for term in order if groups.get(term)}


def _by_year(entry: Entry) -> tuple[int, str]:
    return (entry.paper.year or 0, entry.paper.key)


# --- Mermaid --------------------------------------------------------------------------------


def short_name(facets: Facets) -> str:
    """The release name without its parenthesised detail: "Octo (Octo-Small 27M ...)" -> "Octo"."""
    return facets.name.split(" (", 1)[0].strip() or facets.key


def short_encoder(text: str) -> str:
    """An encoder without its detail, for a diagram: "CLIP ViT-L/14 (openai/...), frozen" ->
    "CLIP ViT-L/14". The tables show the whole text."""
    return re.split(r" \(|, ", text, maxsplit=1)[0].strip()


def timeline_mermaid(
    entries: Iterable[Entry], lang: str = "en", direction: Literal["LR", "TB"] = "LR"
) -> str:
    """A flowchart with a subgraph per year, linked oldest to newest, and a node per model
    with its connector and vision encoder. Papers without facets have no node. LR is one row
    (wide: GitHub shrinks it to the page); TB stacks the years (long, but full size)."""
    by_year: dict[int, list[Entry]] = {}
    for entry in sorted((e for e in entries if e.facets and e.paper.year), key=_by_year):
        by_year.setdefault(entry.paper.year or 0, []).append(entry)
    text = _timeline(by_year, lang, direction, _node)
    if len(text) > MERMAID_LIMIT:  # a large lab: one node per year and connector
        text = _timeline(by_year, lang, direction, _connector_nodes)
    return text


def _timeline(
    by_year: dict[int, list[Entry]],
    lang: str,
    direction: str,
    nodes: Callable[[list[Entry], str], list[str]],
) -> str:
    lines = [f"flowchart {direction}"]
    for year, group in by_year.items():
        lines.append(f'    subgraph y{year}["{year}"]')
        lines += [f"        {node}" for node in nodes(group, lang)]
        lines.append("    end")
    lines += [f"    y{before} --> y{after}" for before, after in pairwise(by_year)]
    return "\n".join(lines) + "\n"


def _label(parts: Iterable[str]) -> str:
    # Mermaid wraps long label lines itself; <br> only separates the facts
    return "<br>".join(mermaid_label(part)[1:-1] for part in parts)


def _node(group: list[Entry], lang: str) -> list[str]:
    found = []
    for entry in group:
        assert entry.facets is not None
        facets = entry.facets
        parts = [
            f"{short_name(facets)} · {entry.paper.year}",
            f"{label('connector', lang)}: {facets.connector}",
            f"{label('vision_encoder', lang)}: {short_encoder(facets.vision_encoder)}",
        ]
        found.append(f'{mermaid_id(entry.paper.key, "m")}["{_label(parts)}"]')
    return found


def _connector_nodes(group: list[Entry], lang: str, shown: int = 6) -> list[str]:
    found = []
    for connector, members in by_connector(group).items():
        names = [short_name(e.facets) for e in members if e.facets is not None]
        more = tr("compare.more", lang, n=len(names) - shown) if len(names) > shown else ""
        parts = [f"{label('connector', lang)}: {connector}", ", ".join(names[:shown]) + more]
        node = mermaid_id(f"{members[0].paper.year}:{connector}", "c")
        found.append(f'{node}["{_label(parts)}"]')
    return found
