"""The built-in catalog against the checked reference facts: every paper's title, year, arXiv
id, URL, venue and first author are the reference's, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from reference_files import FILES, FIXTURE, reference_papers, shared_reference

from mllm_lab.catalog import CATALOG, catalog

REFERENCE = reference_papers()
ENTRIES: dict[str, dict[str, Any]] = {
    entry["key"]: entry for entry in yaml.safe_load(CATALOG.read_text("utf-8"))["papers"]
}


def test_the_catalog_has_exactly_the_reference_papers() -> None:
    assert len(ENTRIES) == len(REFERENCE) == 82
    assert set(ENTRIES) == set(REFERENCE)


@pytest.mark.parametrize("field", ["title", "year", "arxiv", "url", "venue"])
def test_each_fact_is_the_reference_fact(field: str) -> None:
    drift = {
        key: (entry.get(field), REFERENCE[key][field])
        for key, entry in ENTRIES.items()
        if entry.get(field) != REFERENCE[key][field]
    }
    assert drift == {}, f"catalog vs reference `{field}`"


def test_the_first_author_is_the_reference_first_author() -> None:
    # "et al." because only the first author is checked; a team name stands alone
    drift = {
        key: entry["authors"]
        for key, entry in ENTRIES.items()
        if len(entry["authors"]) != 1
        or entry["authors"][0].removesuffix(" et al.") != REFERENCE[key]["first_author"]
    }
    assert drift == {}


def test_every_checked_venue_and_no_other() -> None:
    with_venue = {key for key, paper in REFERENCE.items() if paper["venue"]}
    assert {key for key, entry in ENTRIES.items() if entry["venue"]} == with_venue
    assert len(with_venue) == 58
    loaded = {paper.key: paper for paper in catalog()}
    assert loaded["clip"].venue == "ICML 2021"
    assert (loaded["roformer-rope"].year, loaded["roformer-rope"].venue) == (
        2021,
        "Neurocomputing 2024",
    )
    assert loaded["gpt-1"].venue is None


def test_the_fixture_copy_has_every_reference_file() -> None:
    assert all((FIXTURE / name).is_file() for name in FILES)


def test_the_fixture_copy_equals_the_shared_reference() -> None:
    shared = shared_reference()
    if shared is None:
        pytest.skip("no shared reference on this machine: the fixture copy is the reference")
    stale = [
        name for name in FILES if (shared / name).read_bytes() != (FIXTURE / name).read_bytes()
    ]
    assert stale == [], f"copy {shared} to {FIXTURE}"
