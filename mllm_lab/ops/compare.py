"""`lab catalog` and `lab compare`: read-only looks at the built-in catalog and at the
architecture facets of the lab's papers and the catalog's. Both work outside a lab too (then
nothing is "in the lab"). Queries go through the one resolver (core/resolve.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from mllm_lab.core import facets as F
from mllm_lab.core.catalog_search import Hit, hit_record, search
from mllm_lab.core.resolve import TIER, WORD_SCORE, resolve_one
from mllm_lab.core.roadmap import stage_name, topic_name
from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr
from mllm_lab.models import FACET_FIELDS, READING_LIST, Paper, Status
from mllm_lab.ops.workspace import Workspace

FORMATS = ("table", "md")
SHOWN_ALSO = 5  # other matches named under one paper's facts


def lab_papers(ws: Workspace | None) -> list[Paper]:
    """The lab's papers (none outside a lab); refused while the reading list is unreadable,
    since its papers could not be told apart from the catalog's."""
    from mllm_lab.ops.papers import refuse_unreadable_list  # only when the lab is built

    if ws is None:
        return []
    data = ws.data()
    refuse_unreadable_list(data)
    return list(data.papers)


# --- lab catalog ------------------------------------------------------------------------------


class CatalogView(NamedTuple):
    hits: list[Hit]
    one: Hit | None  # the paper the query names exactly, shown with all its facts
    lab: dict[str, Paper]  # the lab's papers the catalog holds, by casefolded key (status, note)

    def others(self) -> list[Hit]:
        """Close matches besides the one shown ("llava": llava-1.5, video-llava, ...)."""
        close = [hit for hit in self.hits if hit is not self.one and hit.score >= WORD_SCORE]
        return close[:SHOWN_ALSO]


def browse(
    ws: Workspace | None, query: str | None, topic: str | None, stage: int | None
) -> CatalogView:
    from mllm_lab.catalog import catalog

    mine = _catalog_papers_of(ws, catalog())
    hits = search(catalog(), query, topic=topic, stage=stage, lab_keys=mine)
    definite = [hit for hit in hits if hit.definite]
    one = None
    if definite and (len(definite) == 1 or TIER[definite[0].match] < TIER[definite[1].match]):
        one = definite[0]
    return CatalogView(hits=hits, one=one, lab=mine)


def _catalog_papers_of(ws: Workspace | None, known: Sequence[Paper]) -> dict[str, Paper]:
    """The lab's papers the catalog holds too, by casefolded key, with what `lab catalog`
    shows of them (status and note): kept by what the index holds, so a catalog looked at
    again does not build the lab's data for the status of its 80 papers."""
    if ws is None:
        return {}
    keys = {paper.key.casefold() for paper in known}

    def compute() -> list[list[Any]]:
        return [
            [paper.key, paper.status.value, paper.note]
            for paper in lab_papers(ws)
            if paper.key.casefold() in keys
        ]

    rows = ws.cached("catalog_papers", compute, records_only=True)
    return {
        key.casefold(): Paper(key=key, title="", status=Status(status), note=note)
        for key, status, note in rows
    }


def catalog_record(view: CatalogView, hit: Hit) -> dict[str, Any]:
    """A hit as plain data, with the lab's status of it and the catalog's facets."""
    record = hit_record(hit)
    mine = view.lab.get(hit.paper.key.casefold())
    record["status"] = mine.status.value if mine else None
    record["note"] = mine.note if mine else None
    facets = F.catalog_facets().get(hit.paper.key)
    record["facets"] = None if facets is None else {f: facets.get(f) for f in F.FIELDS}
    return record


def catalog_rows(view: CatalogView, lang: str) -> list[list[str]]:
    rows = []
    for hit in view.hits:
        paper, mine = hit.paper, view.lab.get(hit.paper.key.casefold())
        rows.append(
            [
                mine.status.emoji if mine else "",
                paper.key,
                paper.title,
                str(paper.year or ""),
                paper.venue or "",
                topic_name(paper.topic, lang),
                str(paper.stage or ""),
            ]
        )
    return rows


def paper_facts(view: CatalogView, hit: Hit, lang: str) -> list[tuple[str, str]]:
    """One catalog paper's facts as (label, value) lines: what `lab catalog KEY` shows."""
    paper, mine = hit.paper, view.lab.get(hit.paper.key.casefold())
    where = (
        tr(
            "catalog.in_lab",
            lang,
            emoji=mine.status.emoji,
            status=tr(f"status.name.{mine.status.value}", lang),
            where=mine.note or READING_LIST,
        )
        if mine
        else tr("catalog.not_in_lab", lang, key=paper.key)
    )
    lines = [
        (tr("catalog.field.authors", lang), ", ".join(paper.authors)),
        (F.label("year", lang), str(paper.year or "")),
        (F.label("venue", lang), paper.venue or tr("catalog.unconfirmed", lang)),
        ("arXiv", paper.arxiv or ""),
        (tr("catalog.field.url", lang), paper.link or ""),
        (tr("catalog.field.topic", lang), f"{topic_name(paper.topic, lang)} ({paper.topic})"),
        (tr("catalog.field.stage", lang), stage_name(paper.stage, lang)),
        (tr("catalog.field.lab", lang), where),
    ]
    facets = F.catalog_facets().get(paper.key)
    if facets is not None:
        lines += [(F.label(field, lang), facets.get(field)) for field in F.FIELDS]
    return [(name, value) for name, value in lines if value]


# --- lab compare ------------------------------------------------------------------------------


class Comparison(NamedTuple):
    entries: list[F.Entry]
    sources: dict[str, str]  # key -> "lab" or "catalog"


def compare(
    ws: Workspace | None, queries: Sequence[str], filters: Mapping[str, str | None]
) -> Comparison:
    """The papers named (lab first, then catalog), or every paper with facets when none is
    named, narrowed by facet filters (`connector` by the vocabulary, others by text)."""
    from mllm_lab.catalog import catalog

    table = F.catalog_facets()
    mine = _compared_papers_of(ws, every=bool(queries))
    taken = {paper.key.casefold() for paper in mine}
    others = [paper for paper in catalog() if paper.key.casefold() not in taken]
    entries = F.lab_entries(mine, table) + F.with_facets(others, table)
    by_key = {entry.paper.key: entry for entry in entries}
    sources = {paper.key: "lab" for paper in mine} | {paper.key: "catalog" for paper in others}
    if queries:
        pool = [entry.paper for entry in entries]
        keys = [resolve_one(query, pool).key for query in queries]
        chosen = [by_key[key] for key in dict.fromkeys(keys)]
    else:
        chosen = sorted(
            (e for e in entries if e.facets is not None),
            key=lambda e: (e.paper.year or 0, e.paper.key),
        )
    for facet, value in filters.items():
        if value is not None:
            chosen = F.by_facet(chosen, facet, value)
    return Comparison(chosen, {e.paper.key: sources[e.paper.key] for e in chosen})


_COMPARED = (  # what a comparison shows of a paper, and what a query may name it by
    *("key", "title", "year", "venue", "note", "arxiv", "doi", "url"),
    *("vision_encoder", "connector", "llm", "resolution"),
)


def _compared_papers_of(ws: Workspace | None, every: bool) -> list[Paper]:
    """The lab's papers with what `lab compare` reads of them (_COMPARED): kept by what the
    index holds, so a comparison made again does not build the lab's data. Unless `every`
    (a query, which may name any paper), only those a comparison of every paper with facets
    can show or set aside: those with facets of their own, and those the catalog has."""
    if ws is None:
        return []

    def compute() -> list[list[Any]]:
        from mllm_lab.catalog import catalog

        known = {key.casefold() for key in F.catalog_facets()}
        known |= {paper.key.casefold() for paper in catalog()}
        return [
            [getattr(paper, field) for field in _COMPARED]
            for paper in lab_papers(ws)
            if every
            or paper.key.casefold() in known
            or any(getattr(paper, field) for field in FACET_FIELDS)
        ]

    name = "compared_papers" if every else "compared_papers_with_facets"
    rows = ws.cached(name, compute, records_only=True)
    return [Paper(**dict(zip(_COMPARED, row, strict=True))) for row in rows]


def check_format(value: str) -> str:
    wanted = value.strip().lower()
    aliases = {"markdown": "md", "rich": "table"}
    wanted = aliases.get(wanted, wanted)
    if wanted not in FORMATS:
        raise InvalidValue("format", value, FORMATS)
    return wanted


def layout_for(count: int, layout: str | None) -> F.Layout:
    """A column per paper for up to three (read side by side), else a row per paper."""
    if layout is None:
        return "columns" if count <= 3 else "rows"
    if layout not in ("rows", "columns"):
        raise InvalidValue("layout", layout, ["rows", "columns"])
    return "rows" if layout == "rows" else "columns"


def comparison_records(found: Comparison) -> list[dict[str, Any]]:
    """--json: each paper's facts, where they come from, and its facets (null when unknown)."""
    records = F.records(found.entries)
    for record, entry in zip(records, found.entries, strict=True):
        record["source"] = found.sources[entry.paper.key]
        record["note"] = entry.paper.note
        if record["facets"] is not None:
            record["facets"] = {k: v or None for k, v in record["facets"].items()}
    return records
