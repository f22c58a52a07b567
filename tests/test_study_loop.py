"""The study loop: prompts filled from the lab, the review note, lab check, lab next."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import Run, read, tree
from mermaid_check import check as check_mermaid

from mllm_lab import kinds
from mllm_lab.core.conceptmap import flowchart, relations
from mllm_lab.core.labdata import build
from mllm_lab.core.links import WikiIndex, edges, targets
from mllm_lab.core.review import map_notes
from mllm_lab.parse import note_detail, parse_note

KINDS = ["init", "paper", "concept", "experiment", "weekly", "review"]
TARGETS = {"paper": "blip-2", "concept": "Self-Attention", "experiment": "A minimal CLIP"}


def no_placeholder(text: str) -> None:
    """No "[placeholder]" is left (code spans and Markdown links are not placeholders)."""
    text = re.sub(r"`[^`\n]*`|\[[^\]\n]*\]\([^)\s]*\)", "", text)
    leftover = re.findall(r"\[[^\]\n]*\]", text)
    assert not leftover, leftover


@pytest.fixture
def busy_lab(in_lab: Run, lab: Path) -> Path:
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab(
        "new", "concept", "Self-Attention", "-c", "fundamentals", "--tags", "attention"
    ).ok
    note = lab / "notes/fundamentals/self-attention.md"
    note.write_text(
        read(note).replace(
            "## 常见误区\n", "## 常见误区\n\n- [ ] 为什么要除以 √d？\n- TODO 弄懂 KV Cache\n"
        ),
        "utf-8",
    )
    return lab


@pytest.mark.parametrize("kind", KINDS)
def test_every_prompt_is_filled_and_asks_to_read_claude_md(
    in_lab: Run, busy_lab: Path, kind: str
) -> None:
    args = ["prompt", kind] + ([TARGETS[kind]] if kind in TARGETS else [])
    result = in_lab(*args)
    assert result.ok, result
    assert result.out.startswith("请先完整阅读仓库根目录的 CLAUDE.md")
    no_placeholder(result.out)
    log = read(busy_lab / "Prompt_log.md")
    assert re.search(rf"^\| 2026-11-25 \d\d:\d\d \| {kind} \|", log, re.M)


def test_prompts_in_english_are_filled_too(run: Run, tmp_path: Path) -> None:
    assert run("init", "en", "--lang", "en").ok
    root = tmp_path / "en"
    assert run("new", "concept", "Self attention", "-c", "fundamentals", cwd=root).ok
    for kind in KINDS:
        args = ["prompt", kind] + ([TARGETS[kind]] if kind in TARGETS else [])
        result = run(*args, cwd=root)
        assert result.ok, (kind, result)
        assert result.out.startswith("First read CLAUDE.md")
        no_placeholder(result.out)


def test_paper_prompt_carries_the_papers_facts(in_lab: Run, busy_lab: Path) -> None:
    text = in_lab("prompt", "paper", "2301.12597").out
    for fact in [
        "BLIP-2: Bootstrapping Language-Image Pre-training",
        "Junnan Li et al.",
        "年份：2023",
        "ICML 2023",
        "arXiv：2301.12597",
        "https://arxiv.org/abs/2301.12597",
        "papers/blip-2.md（已存在",
    ]:
        assert fact in text
    not_yet = in_lab("prompt", "paper", "dpo").out
    assert "papers/dpo.md（还不存在：先运行 `lab new paper dpo`" in not_yet
    assert in_lab("prompt", "paper", "no-such-paper").code == 1
    assert in_lab("prompt", "paper").code == 1


def test_concept_prompt_names_category_and_related_notes(in_lab: Run, busy_lab: Path) -> None:
    text = in_lab("prompt", "concept", "Cross-Attention", "-c", "multimodal-arch").out
    assert "放入 notes/multimodal-arch/" in text and "类别：多模态架构（multimodal-arch）" in text
    assert "- Self-Attention：notes/fundamentals/self-attention.md" in text
    existing = in_lab("prompt", "concept", "notes/fundamentals/self-attention.md").out
    assert "文件：notes/fundamentals/self-attention.md（已存在" in existing


def test_weekly_prompt_lists_the_weeks_work_and_open_problems(in_lab: Run, busy_lab: Path) -> None:
    text = in_lab("prompt", "weekly").out
    assert (
        "开始阅读论文：BLIP-2: Bootstrapping" in text and "（papers/blip-2.md，2026-11-25）" in text
    )
    assert (
        "写了概念笔记：Self-Attention（notes/fundamentals/self-attention.md，2026-11-25）" in text
    )
    assert re.search(r"- 为什么要除以 √d？（notes/fundamentals/self-attention\.md:\d+）", text)
    assert "- TODO 弄懂 KV Cache（notes/fundamentals/self-attention.md:" in text
    other = in_lab("prompt", "weekly", "--week", "2026-W40").out
    assert (
        "本周没有新的论文、笔记或实验记录" in other
        and "周记和笔记中都没有记录未解决的问题" in other
    )


def test_review_prompt_lists_notes_by_stage_with_paths(in_lab: Run, busy_lab: Path) -> None:
    text = in_lab("prompt", "review").out
    stage1 = text.split("阶段一：Transformer 与 LLM 基础", 1)[1].split("阶段二", 1)[0]
    assert "- Self-Attention — notes/fundamentals/self-attention.md" in stage1
    assert "papers/blip-2.md（📖 在读）" in text.split("阶段三：多模态对齐与融合", 1)[1]
    assert "共 2 篇笔记，论文已读 0 / 35" in text


def test_unknown_prompt_kind_lists_valid_ones(in_lab: Run) -> None:
    result = in_lab("prompt", "poem")
    assert result.code == 1
    assert (
        "未知的提示词类型 'poem'；可选：init, paper, concept, experiment, weekly, review"
        in result.err
    )


NOTES = {
    "notes/fundamentals/attention.md": (
        "Self-Attention（自注意力）",
        "fundamentals",
        'see [[Q-Former "桥接"]]\n',
    ),
    "notes/multimodal-arch/q-former.md": (
        'Q-Former "桥接"',
        "multimodal-arch",
        "[back](../fundamentals/attention.md) [x](missing.md)\n",
    ),
    "notes/training/lora.md": ("LoRA (low rank)", "training", "unrelated\n"),
}


def texts() -> dict[str, str]:
    return {
        path: f"---\ntitle: '{title}'\ncategory: {category}\ncreated: 2026-11-20\n---\n# {title}\n\n{body}"
        for path, (title, category, body) in NOTES.items()
    }


def records() -> dict[str, list]:
    return {
        path: ["concept", 0, 0, 0, parse_note(text, path, kinds.CONCEPT), None, None]
        for path, text in texts().items()
    }


def test_concept_map_mermaid_from_known_linked_notes() -> None:
    data = build(records())
    notes = map_notes(data, None)
    details = {path: note_detail(text, path) for path, text in texts().items()}
    known, wiki = {note.path for note in notes}, WikiIndex(notes)
    links = edges(
        {
            note.path: targets(note=note, detail=details.get(note.path, {}), wiki=wiki, known=known)
            for note in notes
        }
    )
    assert links == [
        ("notes/fundamentals/attention.md", "notes/multimodal-arch/q-former.md"),
        ("notes/multimodal-arch/q-former.md", "notes/fundamentals/attention.md"),
    ]
    text = flowchart(notes, relations(notes, links, {}), "zh")
    chart = check_mermaid(text)
    assert text.splitlines()[0] == "flowchart LR"
    assert set(chart.nodes.values()) == {
        "Self-Attention（自注意力）",
        "Q-Former #quot;桥接#quot;",
        "LoRA (low rank)",
    }
    ids = {label: node for node, label in chart.nodes.items()}
    assert chart.edges == [
        (ids["Self-Attention（自注意力）"], "<-->", ids["Q-Former #quot;桥接#quot;"])
    ]
    assert chart.classes[ids["LoRA (low rank)"]] == "stage4"  # stages are colours
    assert chart.classes[ids["Self-Attention（自注意力）"]] == "stage1"


def test_review_note_is_written_with_its_four_parts(in_lab: Run, busy_lab: Path) -> None:
    note = busy_lab / "notes/fundamentals/self-attention.md"
    text = read(note).replace(
        "## 面试口述版\n", "## 面试口述版\n\nAttention 是按相似度加权求和。\n"
    )
    note.write_text(
        text.replace("- **误区**： \n", "- **误区**：注意力权重就是可解释性\n"), "utf-8"
    )
    result = in_lab("review", "--seed", "1")
    assert result.ok, result
    assert result.out.strip() == "reviews/review-2026-11-25.md"
    review = read(busy_lab / "reviews/review-2026-11-25.md")
    assert "```mermaid\nflowchart LR\n" in review
    for part in ["## 知识关系图", "## 薄弱环节", "## 自测问题", "## 下一步方向"]:
        assert part in review
    questions = re.findall(r"^\d\. (.+)$", review.split("## 自测问题")[1].split("##")[0], re.M)
    assert len(questions) == 5
    assert any("向面试官解释「Self-Attention」" in q for q in questions)
    assert any("「为什么要除以 √d？」" in q or "注意力权重就是可解释性" in q for q in questions)
    directions = re.findall(r"^\d\. \*\*(.+?)\*\*", review.split("## 下一步方向")[1], re.M)
    assert directions[0].startswith("读完 blip-2") and len(directions) == 3
    spots = review.split("## 薄弱环节")[1].split("##")[0]
    assert (
        "笔记少于 2 篇的阶段" in spots
        and "阶段二：视觉编码器（ViT、CLIP）：还没有笔记的主题" in spots
    )
    assert "[BLIP-2: Bootstrapping" in spots and "还有空着的章节：一句话总结" in spots
    before = read(busy_lab / "reviews/review-2026-11-25.md")
    again = in_lab("review", "--seed", "1", "--dry-run")  # a dry run always shows the review
    assert again.ok and "## 薄弱环节" in again.out
    assert "reviews/review-2026-11-25.md（去掉 --dry-run 时，需要 --force 才会写入）" in again.err
    assert read(busy_lab / "reviews/review-2026-11-25.md") == before
    refused = in_lab("review", "--seed", "1")  # never overwritten without --force
    assert refused.code == 1 and "--force" in refused.err and "--slug" not in refused.err
    assert in_lab("review", "--seed", "1", "--force").ok
    assert read(busy_lab / "reviews/review-2026-11-25.md") == review  # same seed, same review


def test_review_flags_papers_stuck_in_reading(in_lab: Run, busy_lab: Path, monkeypatch) -> None:
    monkeypatch.setenv("LAB_TODAY", "2026-12-20")
    assert in_lab("review").ok
    review = read(busy_lab / "reviews/review-2026-12-20.md")
    assert "已经在读 25 天（超过两周）" in review


def test_check_reports_each_problem_with_path_and_line(in_lab: Run, lab: Path) -> None:
    assert in_lab("check").ok
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / "notes/fundamentals/self-attention.md"
    text = read(note).replace(
        "## 常见误区\n", "## 常见误区\n\n见 [Q](q-former.md) 与 [[不存在的笔记]]\n"
    )
    note.write_text(text.replace("## 面试口述版\n", "## 面试/口述\n"), "utf-8")
    (lab / "papers/bad.md").write_text(
        "---\ntitle: x\nstatus: maybe\nstarted: someday\n---\n", "utf-8"
    )
    (lab / "weekly-log/2026-W01.md").write_text("---\nweek: 2026-W02\n---\n", "utf-8")
    (lab / "experiments/notebooks/broken.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 3}', "utf-8"
    )
    (lab / "notes/training/by-hand.md").write_text(
        "---\ntitle: By hand\ncategory: training\ncreated: 2026-11-25\n---\n", "utf-8"
    )
    result = in_lab("check")
    assert result.code == 1
    lines = result.out.splitlines()
    line_of = {
        line: number
        for number, line in enumerate(
            text.replace("## 面试口述版\n", "## 面试/口述\n").split("\n"), 1
        )
    }
    link_line = next(n for line, n in line_of.items() if line.startswith("见 [Q]"))
    expected = [
        f"notes/fundamentals/self-attention.md:{link_line}: 失效的链接 `q-former.md`（notes/fundamentals/q-former.md 不存在）",
        f"notes/fundamentals/self-attention.md:{link_line}: 失效的 wiki 链接 [[不存在的笔记]]：没有笔记叫这个标题或文件名",
        "notes/fundamentals/self-attention.md:10: 缺少章节 `## 面试口述版`（概念笔记模板要求）",
        "papers/bad.md:1: 缺少字段 `key`",
        "papers/bad.md:3: 未知状态 'maybe'；可选：unread、reading、read",
        "papers/bad.md:4: `started` 不是日期（YYYY-MM-DD）：'someday'",
        "weekly-log/2026-W01.md:2: `week: 2026-W02` 与文件名 2026-W01 不一致",
    ]
    for line in expected:
        assert line in lines, (line, lines)
    assert any(
        line.startswith("experiments/notebooks/broken.ipynb:1: 不是有效的 notebook")
        for line in lines
    )
    assert any(re.match(r"notes/README.md:\d+: 已过期；请运行 `lab sync`$", line) for line in lines)
    data = json.loads(in_lab("check", "--json").out)
    assert {
        "path": "papers/bad.md",
        "line": 3,
        "message": "未知状态 'maybe'；可选：unread、reading、read",
    } in data


def test_check_sections_follow_a_customised_template(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "RoPE", "-c", "fundamentals").ok
    assert in_lab("check").ok
    template = lab / "templates/zh/concept.md.j2"
    template.write_text(read(template) + "\n## 代码片段\n", "utf-8")
    result = in_lab("check")
    assert result.code == 1
    assert "notes/fundamentals/rope.md:10: 缺少章节 `## 代码片段`（概念笔记模板要求）" in result.out


def test_next_gives_steps_in_roadmap_order_with_why(in_lab: Run, busy_lab: Path) -> None:
    result = in_lab("next", "-n", "4")
    assert result.ok
    lines = result.out.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("1. 读完 blip-2：BLIP-2") and "已经在读 0 天" in lines[0]
    assert (
        lines[1]
        == "2. 读 transformer：Attention Is All You Need — 阶段一：Transformer 与 LLM 基础 还有 8 篇未读，按路线图先打基础"
    )
    assert "写一篇概念笔记：Transformer 编码器-解码器架构" in result.out


def test_prompt_and_next_change_nothing_but_the_prompt_log(in_lab: Run, busy_lab: Path) -> None:
    before = tree(busy_lab)
    checked = in_lab("check")
    assert in_lab("next").ok and checked.ok and checked.err == "没有发现问题\n"
    assert in_lab("prompt", "review", "--no-log").ok
    assert tree(busy_lab) == before
