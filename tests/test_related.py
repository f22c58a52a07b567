"""Related notes found on purpose: the notes a note links to, papers and notes its tags name,
rarer shared tags, rarer title words (not any shared word); `--related` written into the
body; the body's related list is a region `lab related --write` refreshes only while the
user has not written in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Run, read, tree
from hypothesis import given
from hypothesis import strategies as st
from realistic import CONTRASTIVE, QFORMER, SINK, build, dead_links

from mllm_lab import kinds
from mllm_lab.catalog import catalog
from mllm_lab.core import fm
from mllm_lab.core.related import find_related, title_terms
from mllm_lab.models import Note

CATALOG_TITLES = [paper.title for paper in catalog()]


def note(path: str, title: str, tags: tuple[str, ...] = ()) -> Note:
    kind = kinds.PAPER if path.startswith("papers/") else kinds.CONCEPT
    return Note(path=path, kind=kind, title=title, tags=tags)


NOTES = [
    note("papers/clip.md", "Learning Transferable Visual Models From Natural Language Supervision"),
    note("papers/blip-2.md", "BLIP-2: Bootstrapping Language-Image Pre-training"),
    note("notes/f/self-attention.md", "Self-Attention", ("attention",)),
    note("notes/m/q-former.md", "Q-Former 训练细节", ("bridge",)),
    note("notes/t/lora.md", "LoRA", ("peft",)),
]
KEYS = {"clip": "papers/clip.md", "blip-2": "papers/blip-2.md"}


def paths(found: list) -> list[str]:  # type: ignore[type-arg]
    return [r.path for r in found]


def test_a_shared_common_word_relates_nothing() -> None:
    found = find_related(NOTES, title="Contrastive learning", keys=KEYS, background=CATALOG_TITLES)
    assert "papers/clip.md" not in paths(found)
    assert "learning" not in title_terms("Contrastive learning")


def test_a_tag_naming_a_paper_key_or_note_finds_it() -> None:
    found = find_related(
        NOTES, title="Contrastive learning", tags=("clip", "self-attention"), keys=KEYS
    )
    assert paths(found)[:2] == ["notes/f/self-attention.md", "papers/clip.md"]
    assert found[1].reasons == ("named:clip",)


def test_links_come_first_then_rare_words_and_tags() -> None:
    found = find_related(
        NOTES,
        title="Q-Former 的查询向量",
        tags=("peft",),
        linked=["papers/blip-2.md"],
        keys=KEYS,
        background=CATALOG_TITLES,
    )
    assert paths(found) == ["papers/blip-2.md", "notes/m/q-former.md", "notes/t/lora.md"]
    assert found[0].reasons == ("link",)
    assert {"term:q-former", "named:q-former"} <= set(found[1].reasons)  # a rare word, its name
    assert found[2].reasons == ("tag:peft",)


def test_a_note_whose_tag_is_this_notes_name_is_found() -> None:
    found = find_related(NOTES, title="Bridge", slug="bridge")
    assert "notes/m/q-former.md" in paths(found)  # it is tagged `bridge`


@given(
    st.text(max_size=60),
    st.lists(st.text(max_size=12), max_size=4),
    st.lists(st.text(max_size=40), max_size=8),
)
def test_any_title_and_tags_give_a_ranked_list(
    title: str, tags: list[str], titles: list[str]
) -> None:
    notes = [note(f"notes/c/n{i}.md", t, tuple(tags[:i])) for i, t in enumerate(titles)]
    found = find_related(notes, title=title, tags=tuple(tags), exclude="notes/c/n0.md", limit=3)
    assert len(found) <= 3 and "notes/c/n0.md" not in paths(found)
    scores = [r.score for r in found]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


_NAME_PARTS = st.text(alphabet="aAßs.*(-", max_size=4)


@given(
    title=st.text(alphabet="aAßs.*( -", max_size=12),
    tags=st.lists(_NAME_PARTS, max_size=3),
    slug=_NAME_PARTS,
    notes=st.lists(
        st.tuples(_NAME_PARTS, st.text(alphabet="aAßs.*( -", max_size=12), st.lists(_NAME_PARTS)),
        max_size=6,
    ),
)
def test_every_note_is_given_each_reason_it_has(
    title: str, tags: list[str], slug: str, notes: list[tuple[str, str, list[str]]]
) -> None:
    """Each note sharing a tag asked for, tagged with the new note's name, or named by a tag
    is listed with that reason (casefolded, the empty tag and regex characters included)."""
    lab = [
        note(f"notes/c/{i}{name}.md", t, tuple(theirs)) for i, (name, t, theirs) in enumerate(notes)
    ]
    found = find_related(lab, title=title, tags=tuple(tags), slug=slug, limit=len(lab))
    reasons = {r.path: set(r.reasons) for r in found}
    wanted = {t.casefold() for t in tags}
    for made in lab:
        theirs = {t.casefold() for t in made.tags}
        expected = {f"tag:{t}" for t in wanted & theirs}
        if slug and slug.casefold() in theirs:
            expected.add(f"named:{slug.casefold()}")
        name = made.path.rsplit("/", 1)[1][: -len(".md")].casefold()
        if name in wanted:
            expected.add(f"named:{name}")
        assert expected <= reasons.get(made.path, set()), made


# --- lab new concept --related, lab related ------------------------------------------------


@pytest.fixture
def real(in_lab: Run, lab: Path) -> Path:
    return build(in_lab, lab)


def test_related_given_is_written_into_the_body_and_frontmatter(in_lab: Run, real: Path) -> None:
    result = in_lab(
        "new", "concept", "Cross-Attention", "-c", "multimodal-arch", "--tags", "blip-2",
        "--related", f"{SINK},对比学习,clip",
    )  # fmt: skip
    assert result.ok, result
    path = real / "notes/multimodal-arch/cross-attention.md"
    text = read(path)
    region = text.split("<!-- lab:begin related", 1)[1].split("<!-- lab:end related -->")[0]
    items = [line for line in region.splitlines() if line.startswith("- ")]
    assert items[:4] == [
        "- [Attention Sink](../fundamentals/Attention%20Sink%20%28my%20notes%29.md)",
        "- [对比学习](../vision-language/%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0.md)",
        "- [Learning Transferable Visual Models From Natural Language Supervision](../../papers/clip.md)",
        "- [BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and Large Language Models](../../papers/blip-2.md)",
    ]  # the three asked for, then the paper its tag names
    assert "还没有找到" not in text
    meta = fm.parse(text, "x").meta
    assert meta["related"][:3] == [SINK, CONTRASTIVE, "papers/clip.md"]
    assert dead_links(real, "notes/multimodal-arch/cross-attention.md") == []
    assert in_lab("check").out.count("cross-attention") == 0


@pytest.mark.parametrize(
    ("related", "message"),
    [
        ("notes/nowhere.md", "notes/nowhere.md：lab 里没有这篇笔记"),
        ("no-such-thing", "no-such-thing：lab 里没有这篇笔记"),
    ],
)
def test_related_that_names_nothing_is_refused(
    in_lab: Run, real: Path, related: str, message: str
) -> None:
    before = tree(real)
    result = in_lab("new", "concept", "X", "-c", "training", "--related", related)
    assert result.code == 1
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert tree(real) == before


def test_lab_related_shows_why(in_lab: Run, real: Path) -> None:
    result = in_lab("related", QFORMER)
    assert result.ok, result
    first = result.out.splitlines()[0]
    assert first.startswith("papers/blip-2.md — BLIP-2") and "已链接" in first
    data = json.loads(in_lab("related", "对比学习", "--json").out)
    assert data[0]["path"] == "papers/clip.md" and "link" in data[0]["reasons"]
    missing = in_lab("related", "nothing-like-it")
    assert missing.code == 1 and "nothing-like-it：lab 里没有这篇笔记" in missing.err


def test_refresh_rewrites_only_an_untouched_region(in_lab: Run, real: Path) -> None:
    assert in_lab("new", "concept", "Q-Former 查询", "-c", "multimodal-arch", "--tags", "x").ok
    path = real / "notes/multimodal-arch/q-former-cha-xun.md"
    mine = read(path).replace("## 常见误区\n", "## 常见误区\n\n我自己写的一段。\n")
    path.write_text(mine, "utf-8")
    assert "LoRA" not in read(path)
    lora = real / "notes/training/100% LoRA & QLoRA.md"
    lora.write_text(read(lora).replace("tags: [lora, peft]", "tags: [lora, peft, x]"), "utf-8")
    dry = in_lab("related", "q-former-cha-xun", "--write", "--dry-run")
    assert dry.ok and read(path) == mine
    assert in_lab("related", "q-former-cha-xun", "--write").ok
    refreshed = read(path)
    assert "- [LoRA &amp; QLoRA](../training/100%25%20LoRA%20%26%20QLoRA.md)" in refreshed
    before, after = (
        mine.split("<!-- lab:begin related")[0],
        mine.split("<!-- lab:end related -->")[1],
    )
    assert refreshed.startswith(before) and refreshed.endswith(after)  # the rest, byte for byte
    edited = refreshed.replace("- [LoRA &amp; QLoRA]", "- 我改过的 [LoRA &amp; QLoRA]")
    path.write_text(edited, "utf-8")
    kept = in_lab("related", "q-former-cha-xun", "--write")
    assert kept.ok and "related 区域被手动修改过，保持原样" in kept.err
    assert read(path) == edited
    paper = in_lab("related", "blip-2", "--write")
    assert paper.ok and "没有 related 生成区域" in paper.err
