"""`lab catalog [QUERY] [--topic T] [--stage N] [--json]`: the built-in papers, searched with the
one resolver, each marked when the lab has it; a paper's key shows all its facts. In zh and
en labs, and outside any lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run

from mllm_lab.catalog import catalog, catalog_keys
from mllm_lab.core import facets as F


def test_the_whole_catalog_is_listed_with_the_labs_status(in_lab: Run) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    result = in_lab("catalog")
    assert result.ok, result
    lines = result.out.splitlines()
    assert lines[0].split() == ["key", "标题", "年份", "会议/期刊", "主题", "阶段"]
    assert len(lines) == 1 + len(catalog()) == 83
    row = next(line for line in lines if " blip-2 " in line)
    assert row.startswith("📖") and "ICML 2023" in row and "多模态模型" in row
    unread = next(line for line in lines if " llava " in line)  # on the starter reading list
    assert unread.startswith("⬜")
    absent = next(line for line in lines if " bert " in line)  # not on it
    assert not absent.startswith(("⬜", "📖", "✅"))
    assert "目录中 82 篇论文" in result.err


def test_topic_and_stage_filter_and_the_json_is_plain_data(in_lab: Run) -> None:
    result = in_lab("catalog", "--topic", "vision-encoder", "--json")
    assert result.ok, result
    found = json.loads(result.out)
    assert {p["key"] for p in found} >= {"vit", "clip", "siglip", "vit-22b", "vit-registers"}
    assert all(p["topic"] == "vision-encoder" and p["stage"] == 2 for p in found)
    stage = json.loads(in_lab("catalog", "--stage", "5", "--json").out)
    assert stage and all(p["stage"] == 5 for p in stage)
    vit = next(p for p in found if p["key"] == "vit")
    assert (vit["year"], vit["venue"], vit["arxiv"], vit["facets"]) == (
        2020,
        "ICLR 2021",
        "2010.11929",
        None,
    )


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--topic", "vision"], "unknown topic 'vision'; valid: foundation, llm-arch"),
    ],
)
def test_a_bad_filter_is_one_line_naming_the_valid_values(
    run: Run, tmp_path: Path, args: list[str], problem: str
) -> None:
    result = run("catalog", *args)  # outside a lab: English
    assert result.code == 1 and result.out == ""
    assert result.err.startswith(f"error: {problem}") and result.err.count("\n") == 1


def test_a_stage_out_of_range_is_a_usage_error_like_everywhere(run: Run) -> None:
    result = run("catalog", "--stage", "9")
    assert result.code == 2 and result.out == ""
    assert "9 is not in the range 1<=x<=5 (see `lab catalog -h`)" in result.err
    assert result.err.count("\n") == 1


def test_a_key_shows_every_fact_and_the_checked_architecture(in_lab: Run) -> None:
    result = in_lab("catalog", "blip-2")
    assert result.ok, result
    lines = result.out.splitlines()
    assert lines[0].startswith("blip-2 · BLIP-2: Bootstrapping")
    assert "  lab 中              ⬜ 未读（papers/reading-list.yaml）" in lines
    facts = dict(line.strip().split(None, 1) for line in lines[1:] if "lab 中" not in line)
    assert facts["作者"] == "Junnan Li et al." and facts["会议/期刊"] == "ICML 2023"
    assert facts["arXiv"] == "2301.12597" and facts["连接器"] == "Q-Former"
    assert facts["训练哪些部分"] == F.catalog_facets()["blip-2"].trainable


def test_an_unchecked_model_shows_no_facet(en_lab: Path) -> None:
    result = Run(en_lab)("catalog", "llava-next")
    assert result.ok, result
    assert "Connector" not in result.out and "Vision encoder" not in result.out
    assert "Venue       not confirmed" in result.out
    assert "In the lab  ⬜ unread (papers/reading-list.yaml)" in result.out


def test_an_arxiv_id_or_title_finds_the_paper_and_names_close_ones(en_lab: Path) -> None:
    run = Run(en_lab)
    by_id = run("catalog", "https://arxiv.org/abs/2304.08485v2")
    assert by_id.out.startswith("llava · Visual Instruction Tuning\n"), by_id
    by_title = run("catalog", "visual", "instruction", "tuning")
    assert by_title.out.startswith("llava · "), by_title
    assert by_title.err == "also matching: llava-1.5\n"  # its title starts the same way
    by_key = run("catalog", "llava")
    assert by_key.err == "also matching: llava-1.5, llava-next, llava-onevision, video-llava\n"
    one = json.loads(run("catalog", "llava", "--json").out)
    assert [p["key"] for p in one] == ["llava"]
    assert one[0]["facets"]["connector"] == "linear projection"
    assert one[0]["status"] == "unread" and one[0]["note"] is None


def test_a_word_lists_the_candidates_and_nothing_is_a_message(en_lab: Path) -> None:
    run = Run(en_lab)
    listed = run("catalog", "qwen")
    assert listed.ok and [line.split()[0] for line in listed.out.splitlines()[1:4]] == [
        "⬜",
        "⬜",
        "qwen2.5-vl",
    ]
    nothing = run("catalog", "zzqqxx")
    # as `lab compare` with an unknown paper, and grep with no match: exit 1
    assert nothing.code == 1 and nothing.out == "" and "no catalog paper matches zzqqxx" in nothing.err


def test_outside_a_lab_nothing_is_in_the_lab(run: Run) -> None:
    result = run("catalog", "clip", "--json")
    assert result.ok, result
    assert json.loads(result.out)[0]["in_lab"] is False
    assert run("catalog", "clip").out.startswith("clip · Learning Transferable")


def test_catalog_keys_for_completion() -> None:
    keys = catalog_keys()
    assert len(keys) == 82 and keys[0] == ("transformer", "Attention Is All You Need")
    assert dict(keys)["blip-2"].startswith("BLIP-2:")
    assert F.vocabulary("connector") == F.CONNECTORS
    encoders = F.vocabulary("encoder")
    assert "NFNet-F6 (Normalizer-Free ResNet), contrastively pretrained, frozen" in encoders
    assert len(encoders) == len(set(encoders)) and list(encoders) == sorted(encoders)
