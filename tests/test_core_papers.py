"""Paper facts and status: matching a query, status dates, schema problems with their lines."""

from __future__ import annotations

from datetime import date

import pytest

from mllm_lab.catalog import catalog, starter_reading_list
from mllm_lab.core.papers import paper_from_meta, parse_status, with_status
from mllm_lab.core.resolve import resolve_one as find_paper
from mllm_lab.errors import AmbiguousPaper, InvalidValue, PaperNotFound
from mllm_lab.models import Paper, Status

PAPERS = [
    Paper("llava", "Visual Instruction Tuning", arxiv="2304.08485"),
    Paper("llava-1.5", "Improved Baselines with Visual Instruction Tuning", arxiv="2310.03744"),
    Paper("blip-2", "BLIP-2: Bootstrapping Language-Image Pre-training"),
    Paper("clip", "Learning Transferable Visual Models From Natural Language Supervision"),
]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("llava", "llava"),  # exact key wins over the prefix of llava-1.5
        ("LLaVA-1.5", "llava-1.5"),
        ("BLIP2", "blip-2"),
        ("2310.03744", "llava-1.5"),
        ("arXiv:2304.08485v2", "llava"),
        ("https://arxiv.org/abs/2304.08485", "llava"),
        ("visual instruction tuning", "llava"),
        ("bli", "blip-2"),
        ("Learning Transferable", "clip"),
    ],
)
def test_find_paper_by_key_arxiv_title_or_unique_prefix(query: str, key: str) -> None:
    assert find_paper(query, PAPERS).key == key


def test_ambiguous_prefix_lists_candidates_and_unknown_names_query() -> None:
    with pytest.raises(AmbiguousPaper) as caught:
        find_paper("ll", PAPERS)
    assert [shown.split()[0] for shown in caught.value.candidates] == ["llava", "llava-1.5"]
    assert "llava (Visual Instruction Tuning), llava-1.5 (Improved Baselines" in str(caught.value)
    with pytest.raises(PaperNotFound, match="'gpt-9'"):
        find_paper("gpt-9", PAPERS)


def test_status_aliases_and_unknown_status_lists_valid_values() -> None:
    assert parse_status("✅") is Status.READ and parse_status("在读") is Status.READING
    with pytest.raises(InvalidValue, match="valid: unread, reading, read"):
        parse_status("finished")


def test_status_changes_set_and_clear_dates() -> None:
    day1, day2 = date(2026, 11, 1), date(2026, 11, 9)
    paper = Paper("x", "X")
    reading = with_status(paper, Status.READING, day1)
    assert (reading.started, reading.finished) == (day1, None)
    read = with_status(reading, Status.READ, day2)
    assert (read.started, read.finished) == (day1, day2)
    assert with_status(read, Status.READ, date(2027, 1, 1)) is read  # same status: nothing moves
    again = with_status(read, Status.READING, day2)
    assert (again.started, again.finished) == (day1, None)
    assert with_status(read, Status.UNREAD, day2).started is None


def test_schema_problems_are_reported_with_their_lines() -> None:
    meta = {"title": "T", "status": "done?", "year": "nineteen", "started": "yesterday", "stage": 9}
    lines = {"title": 2, "status": 3, "year": 4, "started": 5, "stage": 6}
    paper, findings = paper_from_meta(meta, "papers/t.md", lines, "t", "papers/t.md")
    assert paper is None  # no usable status: the paper is skipped, not guessed
    assert sorted(str(f) for f in findings) == [
        "papers/t.md:3: unknown status 'done?'; valid: unread, reading, read",
        "papers/t.md:4: `year` is not a year: 'nineteen'",
        "papers/t.md:5: `started` is not a date (YYYY-MM-DD): 'yesterday'",
        "papers/t.md:6: unknown stage 9; valid: 1, 2, 3, 4, 5",
    ]


def test_catalog_holds_the_checked_facts_and_every_roadmap_stage() -> None:
    papers = {paper.key: paper for paper in catalog()}
    assert len(papers) == 82
    blip2 = papers["blip-2"]
    assert (blip2.arxiv, blip2.year, blip2.venue, blip2.stage) == (
        "2301.12597",
        2023,
        "ICML 2023",
        3,
    )
    assert blip2.authors == ("Junnan Li et al.",)
    assert papers["llava-next"].arxiv is None and papers["llava-next"].url
    assert {paper.stage for paper in catalog()} == {1, 2, 3, 4, 5}
    starter = {paper.key for paper in starter_reading_list()}
    wanted = {
        "gpt-1",
        "gpt-2",
        "gpt-3",
        "llama",
        "vit",
        "clip",
        "blip-2",
        "llava",
        "llava-next",
        "qwen-vl",
        "internvl",
        "gpt-4v-system-card",
        "instructgpt",
        "dpo",
        "lora",
        "qlora",
    }
    assert wanted <= starter
