"""A view made again from its last body (`lab mark`, `lab new paper` on a big lab) is byte for
byte the view made from scratch, whatever changed: statuses, topics, papers added or removed,
titles that look like the table's own headings or hold line breaks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from conftest import Run, read
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core import views
from mllm_lab.core.compare import compare_region
from mllm_lab.core.facets import catalog_facets
from mllm_lab.core.views import papers_table, same_but_reading
from mllm_lab.models import CONNECTORS, Paper, Status

TOPICS = ["foundation", "multimodal", "vla", "training", "not-a-topic", "other"]
TITLES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["### 多模态模型", "### Multimodal", "\n### x\n\n", "| a | b |", "x\r\n"]),
)


@st.composite
def papers(draw: st.DrawFn) -> list[Paper]:
    count = draw(st.integers(0, 25))
    made = []
    for n in range(count):
        made.append(
            Paper(
                key=f"p{n}",
                title=draw(TITLES),
                status=draw(st.sampled_from(list(Status))),
                year=draw(st.one_of(st.none(), st.integers(2017, 2026))),
                venue=draw(st.one_of(st.none(), st.sampled_from(["ICML 2023", "a|b"]))),
                topic=draw(st.sampled_from(TOPICS)),
                stage=draw(st.one_of(st.none(), st.integers(1, 5))),
                connector=draw(st.one_of(st.none(), st.sampled_from(CONNECTORS))),
                note=draw(st.one_of(st.none(), st.just(f"papers/p{n}.md"))),
            )
        )
    return made


@st.composite
def changed(draw: st.DrawFn, before: list[Paper]) -> list[Paper]:
    """`before` with a few papers changed (new objects); the others are the same objects."""
    after = list(before)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["status", "topic", "add", "remove", "title", "copy"]))
        if action == "add" or not after:
            after.append(
                Paper(
                    key=f"new{len(after)}", title=draw(TITLES), topic=draw(st.sampled_from(TOPICS))
                )
            )
            continue
        at = draw(st.integers(0, len(after) - 1))
        if action == "remove":
            del after[at]
        elif action == "status":
            after[at] = replace(
                after[at], status=draw(st.sampled_from(list(Status))), started=date(2026, 1, 2)
            )
        elif action == "topic":
            after[at] = replace(after[at], topic=draw(st.sampled_from(TOPICS)))
        elif action == "title":
            after[at] = replace(after[at], title=draw(TITLES))
        else:  # an equal paper, another object
            after[at] = replace(after[at])
    return after


@settings(max_examples=300, deadline=None)
@given(data=st.data(), before=papers(), lang=st.sampled_from(["zh", "en"]))
def test_the_table_made_from_its_last_body_is_the_table_made_from_scratch(
    data: st.DataObject, before: list[Paper], lang: str
) -> None:
    body = papers_table(before, lang)
    after = data.draw(changed(before))
    assert papers_table(after, lang, before=(before, body)) == papers_table(after, lang)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), before=papers())
def test_papers_the_same_but_for_their_reading_show_the_same_comparison(
    data: st.DataObject, before: list[Paper]
) -> None:
    after = data.draw(changed(before))
    if same_but_reading(before, after):
        made = [
            compare_region(p, catalog_facets(), "en", "papers/README.md") for p in (before, after)
        ]
        assert made[0] == made[1]


def test_only_where_a_paper_stands_in_its_reading_is_set_aside() -> None:
    paper = Paper(key="a", title="A", topic="multimodal", year=2023, note="papers/a.md")
    read_now = replace(paper, status=Status.READ, finished=date(2026, 1, 2), history=("x",), line=9)
    assert same_but_reading([paper], [read_now])
    for other in (
        replace(paper, year=2024),
        replace(paper, title="B"),
        replace(paper, connector="Q-Former"),
    ):
        assert not same_but_reading([paper], [other])
    assert not same_but_reading([paper], [paper, paper])


def test_a_stale_body_is_not_trusted_for_a_topic_whose_papers_changed() -> None:
    """Only the sections of topics whose papers are the same objects are taken over; a body
    laid out otherwise (a heading missing) gives its topics fresh sections."""
    before = [Paper(key="a", title="A", topic="training"), Paper(key="b", title="B", topic="vla")]
    after = [replace(before[0], status=Status.READ), before[1]]
    body = papers_table(before, "en")
    assert papers_table(after, "en", before=(before, body)) == papers_table(after, "en")
    mangled = body.replace("### ", "#### ")
    assert papers_table(after, "en", before=(before, mangled)) == papers_table(after, "en")


def test_lab_mark_leaves_the_views_as_a_full_regeneration_makes_them(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reused = []
    whole = views._sections
    monkeypatch.setattr(views, "_sections", lambda *a: reused.append(1) or whole(*a))
    for key in ("blip-2", "llava", "flamingo"):
        assert in_lab("new", "paper", key).ok
    assert in_lab("add", "paper", "clip").ok
    for key, status in (
        ("llava", "read"),
        ("clip", "reading"),
        ("blip-2", "reading"),
        ("llava", "unread"),
    ):
        assert in_lab("mark", key, status).ok
        marked = read(lab / "papers/README.md"), read(lab / "README.md")
        (lab / ".lab/views.json").unlink()  # nothing is current: every view made from scratch
        assert in_lab("sync").ok
        assert (read(lab / "papers/README.md"), read(lab / "README.md")) == marked
    assert len(reused) >= 4  # each mark made the table from its last body
