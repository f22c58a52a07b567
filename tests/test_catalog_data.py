"""The built-in catalog against the checked reference facts: every paper's title, year, arXiv
id, URL, venue and first author are the reference's, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from reference_files import FILES, FIXTURE, reference_models, reference_papers, shared_reference

from mllm_lab.catalog import CATALOG, catalog, catalog_titles
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


# --- the mapping table a reader reviews: docs/catalog.md ---------------------------------------

DOC = CATALOG.parents[2] / "docs" / "catalog.md"


def _cell(value: object) -> str:
    return str(value if value is not None else "").replace("|", "\\|")


def mapping_document() -> str:
    """docs/catalog.md, made from data/catalog.yaml, data/topics.yaml, data/facets.yaml and the
    reference: how each paper is filed, and which models carry architecture facets."""
    models = reference_models()
    facets = yaml.safe_load((CATALOG.parent / "facets.yaml").read_text("utf-8"))
    shipped = {model["key"] for model in facets["models"]}
    out = [
        "# 内置论文目录 · The built-in catalog",
        "",
        "<!-- generated by tests/test_catalog_data.py from mllm_lab/data/*.yaml and the checked",
        "     reference; refresh with `.venv/bin/pytest tests/test_catalog_data.py --update-golden` -->",
        "",
        f"`lab catalog` 列出这 {len(ENTRIES)} 篇论文；事实（标题、年份、会议/期刊、arXiv 编号）逐条取自核对过的参考清单，"
        "会议/期刊只写有官方出处的（"
        f"{sum(1 for e in ENTRIES.values() if e['venue'])} 篇），其余留空。",
        "下表是每篇论文从参考清单的分组（reference topic）到阅读清单主题（topic）和路线图阶段（stage）的映射：",
        "默认按分组映射（第一张表），例外逐条写明理由（`mllm_lab/data/topics.yaml`）。",
        "",
        "## 分组的默认映射 · Default mapping",
        "",
        "| reference topic | topic | stage |",
        "|---|---|:---:|",
    ]
    out += [
        f"| {name} | {row['topic']} | {row['stage']} |" for name, row in TABLE["topics"].items()
    ]
    out += [
        "",
        "## 每篇论文 · Every paper",
        "",
        "| key | title | year | venue | reference topic | topic | stage | why (exceptions only) |",
        "|---|---|:---:|---|---|---|:---:|---|",
    ]
    for key, entry in ENTRIES.items():
        why = TABLE["exceptions"].get(key, {}).get("why", "")
        out.append(
            f"| {key} | {_cell(entry['title'])} | {entry['year']} | {_cell(entry['venue'])} | "
            f"{REFERENCE[key]['topic']} | {entry['topic']} | {entry['stage']} | {_cell(why)} |"
        )
    out += [
        "",
        "## 架构维度 · Architecture facets",
        "",
        "`lab catalog KEY`、`lab compare` 和 `lab new paper` 只使用参考清单中全部维度都已核对（`checked: true`）"
        "的模型的架构维度（`mllm_lab/data/facets.yaml`），其余模型在核对之前不显示任何维度。",
        "",
        "| key | connector | shipped | why not (unchecked only) |",
        "|---|---|:---:|---|",
    ]
    for key, model in models.items():
        note = "" if model["checked"] else model["evidence"].get("note", "")
        connector = model["connector"] if key in shipped else ""  # unconfirmed: not shown
        out.append(
            f"| {key} | {_cell(connector)} | {'yes' if key in shipped else 'no'} | {_cell(note)} |"
        )
    return "\n".join(out) + "\n"


def test_the_mapping_document_is_current(request: pytest.FixtureRequest) -> None:
    made = mapping_document()
    if request.config.getoption("--update-golden"):
        DOC.write_text(made, "utf-8")
    assert DOC.read_text("utf-8") == made, "docs/catalog.md is stale: run with --update-golden"


def test_the_catalog_titles_are_its_papers_titles() -> None:
    assert catalog_titles() == [paper.title for paper in catalog()]
