"""`lab catalog [QUERY] [--topic T] [--stage N]` as data: filters, the ranking tiers (exact key,
arXiv id or URL, title, unique prefix, then fuzzy candidates) and the lab's own papers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.catalog import catalog
from mllm_lab.core.catalog_search import Match, hit_record, label, search
from mllm_lab.errors import InvalidValue

PAPERS = catalog()


def first(query: str) -> tuple[str, Match]:
    hits = search(PAPERS, query)
    assert hits, query
    return hits[0].paper.key, hits[0].match


@pytest.mark.parametrize(
    ("query", "key", "match"),
    [
        ("blip-2", "blip-2", Match.KEY),
        ("BLIP2", "blip-2", Match.KEY),
        (" Llama 2 ", "llama-2", Match.KEY),
        ("2301.12597", "blip-2", Match.ARXIV),
        ("2301.12597v3", "blip-2", Match.ARXIV),
        ("arXiv:2301.12597", "blip-2", Match.ARXIV),
        ("https://arxiv.org/abs/2301.12597v2", "blip-2", Match.ARXIV),
        ("arxiv.org/pdf/2301.12597v1.pdf", "blip-2", Match.ARXIV),
        (
            "http://cdn.openai.com/research-covers/language-unsupervised/language_understanding_paper.pdf/",
            "gpt-1",
            Match.URL,
        ),
        ("attention is all you need", "transformer", Match.TITLE),
        ("Visual Instruction Tuning.", "llava", Match.TITLE),
        ("Attention Is All", "transformer", Match.PREFIX),
        ("qwen2.5", "qwen2.5-vl", Match.PREFIX),
        ("flamngo", "flamingo", Match.FUZZY),
    ],
)
def test_the_best_match_comes_first(query: str, key: str, match: Match) -> None:
    assert first(query) == (key, match)


def test_every_paper_is_found_by_its_key_title_and_arxiv_url() -> None:
    for paper in PAPERS:
        assert first(paper.key) == (paper.key, Match.KEY)
        assert first(paper.title.upper()) == (paper.key, Match.TITLE)
        if paper.arxiv:
            assert first(f"https://arxiv.org/abs/{paper.arxiv}v2") == (paper.key, Match.ARXIV)


def test_a_shared_prefix_is_not_definite_and_candidates_come_best_first() -> None:
    hits = search(PAPERS, "flash")
    assert [h.paper.key for h in hits[:2]] == ["flashattention", "flashattention-2"]
    assert not any(h.definite for h in hits)
    hits = search(PAPERS, "llava")
    keys = [h.paper.key for h in hits]
    assert keys[:5] == ["llava", "llava-1.5", "llava-next", "llava-onevision", "video-llava"]
    assert hits[0].definite and not any(h.definite for h in hits[1:])
    scores = [h.score for h in hits[1:]]
    assert scores == sorted(scores, reverse=True)


def test_an_id_or_url_that_is_not_in_the_catalog_has_no_candidates() -> None:
    assert search(PAPERS, "2401.99999") == []
    assert search(PAPERS, "https://example.org/paper.pdf") == []
    assert search(PAPERS, "zzzzqqq") == []


def test_filters_by_topic_and_stage() -> None:
    encoders = [h.paper.key for h in search(PAPERS, topic="Vision-Encoder")]
    assert set(encoders) == {
        "vit",
        "clip",
        "siglip",
        "siglip-2",
        "eva-clip",
        "vit-22b",
        "vit-registers",
    }
    assert [h.paper.key for h in search(PAPERS, "llava", stage=5)] == ["video-llava"]
    assert all(h.paper.stage == 4 for h in search(PAPERS, stage=4))
    assert search(PAPERS, "blip-2", topic="vla") == []


def test_an_unknown_topic_or_stage_names_the_valid_ones() -> None:
    with pytest.raises(InvalidValue, match=r"valid: .*multimodal.*vision-encoder"):
        search(PAPERS, topic="robots")
    with pytest.raises(InvalidValue, match="valid: 1, 2, 3, 4, 5"):
        search(PAPERS, stage=6)


def test_no_query_lists_every_paper_in_catalog_order() -> None:
    for query in (None, "", "   "):
        hits = search(PAPERS, query)
        assert [h.paper for h in hits] == list(PAPERS)
        assert {h.match for h in hits} == {Match.ALL}
    assert len(search(PAPERS, limit=5)) == 5


def test_each_hit_says_whether_the_lab_has_the_paper() -> None:
    hits = search(PAPERS, "blip", lab_keys=["BLIP-2", "clip"])
    in_lab = {h.paper.key: h.in_lab for h in hits}
    assert in_lab["blip-2"] and not in_lab["blip"]
    record = hit_record(hits[0])
    assert json.loads(json.dumps(record))["key"] == "blip"
    assert set(record) >= {"key", "title", "year", "venue", "in_lab", "match", "score"}


def test_every_match_has_a_label_in_both_languages() -> None:
    for lang in ("zh", "en"):
        assert all(label(m, lang) for m in Match if m is not Match.ALL)
        assert label("in_lab", lang)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.sampled_from([None, 1, 2, 3, 4, 5]))
def test_any_query_gives_definite_hits_first_then_candidates_by_score(
    query: str, stage: int | None
) -> None:
    hits = search(PAPERS, query, stage=stage)
    assert all(stage is None or h.paper.stage == stage for h in hits)
    assert len({h.paper.key for h in hits}) == len(hits)
    kinds = [h.definite for h in hits]
    assert kinds == sorted(kinds, reverse=True)
    fuzzy = [h.score for h in hits if h.match is Match.FUZZY]
    assert fuzzy == sorted(fuzzy, reverse=True) and all(0 < s < 1 for s in fuzzy)
