"""The built-in catalog against the checked reference facts: every paper's title, year, arXiv
id, URL, venue and first author are the reference's, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from reference_files import FILES, FIXTURE, reference_papers, shared_reference

from mllm_lab.catalog import CATALOG, catalog
from mllm_lab.core.roadmap import TOPICS
from mllm_lab.models import STAGE_NUMBERS as STAGES

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


# --- topics and stages: data/topics.yaml -----------------------------------------------------

TABLE: dict[str, Any] = yaml.safe_load((CATALOG.parent / "topics.yaml").read_text("utf-8"))
# topics the catalog uses before roadmap.py names them, with their default stage
PENDING_TOPICS = {"vision-encoder": 2}


def filed(key: str) -> tuple[str, int]:
    rule = TABLE["exceptions"].get(key) or TABLE["topics"][REFERENCE[key]["topic"]]
    return rule["topic"], rule["stage"]


def test_every_reference_topic_has_a_row() -> None:
    assert set(TABLE["topics"]) == {paper["topic"] for paper in REFERENCE.values()}


def test_every_paper_has_the_topic_and_stage_of_the_table() -> None:
    drift = {
        key: ((entry["topic"], entry["stage"]), filed(key))
        for key, entry in ENTRIES.items()
        if (entry["topic"], entry["stage"]) != filed(key)
    }
    assert drift == {}, "catalog (topic, stage) vs data/topics.yaml"


def test_each_exception_is_a_real_exception_with_a_one_line_reason() -> None:
    for key, rule in TABLE["exceptions"].items():
        default = TABLE["topics"][REFERENCE[key]["topic"]]
        assert (rule["topic"], rule["stage"]) != (default["topic"], default["stage"]), key
        assert rule["why"].strip() and "\n" not in rule["why"], key


def test_topics_are_the_roadmap_topics_at_their_default_stage() -> None:
    default_stage = {t.key: t.stage for t in TOPICS} | PENDING_TOPICS
    assert {entry["topic"] for entry in ENTRIES.values()} <= set(default_stage)
    for row in TABLE["topics"].values():
        assert row["stage"] == default_stage[row["topic"]], row
    assert all(rule["stage"] in STAGES for rule in TABLE["exceptions"].values())


def test_vision_encoder_work_is_on_stage_2() -> None:
    encoders = ["vit", "clip", "siglip", "siglip-2", "eva-clip", "vit-22b"]
    for key in [*encoders, "vit-registers"]:
        assert (ENTRIES[key]["topic"], ENTRIES[key]["stage"]) == ("vision-encoder", 2), key
    assert {key for key, e in ENTRIES.items() if e["topic"] == "llm-arch"}.isdisjoint(encoders)
