"""The built-in catalog of papers, shipped as package data (facts checked against public
sources; see the header of data/catalog.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from mllm_lab.core import readinglist
from mllm_lab.core.fm import load_yaml
from mllm_lab.core.papers import paper_from_meta
from mllm_lab.models import Paper

CATALOG = Path(__file__).resolve().parent / "data" / "catalog.yaml"


@lru_cache(maxsize=1)
def _entries() -> list[dict[str, Any]]:
    """The catalog's entries: read like a reading list (the fast reader takes its plain
    fields; PyYAML only if it ever holds more)."""
    text = CATALOG.read_text("utf-8")
    fast = readinglist.read_plain(text)
    return fast.entries if fast is not None else list(load_yaml(text)["papers"])


@lru_cache(maxsize=1)
def catalog() -> tuple[Paper, ...]:
    entries = _entries()
    papers = []
    for entry in entries:
        paper, problems = paper_from_meta(
            meta=entry, path=str(CATALOG), lines={}, default_key=entry["key"], note=None
        )
        assert paper is not None and not problems, problems
        papers.append(paper)
    return tuple(papers)


def catalog_titles() -> list[str]:
    """The catalog's titles, as its papers have them, without making the papers (2 ms of a
    `lab new concept`, which judges words by them): tests/test_catalog_data.py compares."""
    return [str(entry["title"]) for entry in _entries()]


def starter_reading_list() -> list[Paper]:
    """The papers a new lab starts with: those the catalog marks `reading_list: true`."""
    wanted = {e["key"] for e in _entries() if e.get("reading_list")}
    return [paper for paper in catalog() if paper.key in wanted]


def catalog_keys() -> list[tuple[str, str]]:
    """(key, title) of every catalog paper, in catalog order: what completion offers for a
    paper (`lab new paper`, `add paper`, `catalog`, `compare`) beside the lab's own keys."""
    return [(paper.key, paper.title) for paper in catalog()]
