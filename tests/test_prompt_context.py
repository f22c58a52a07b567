"""Each of the six prompts, on a realistic lab (notes lab did not write, one without
frontmatter, spaces, `#`, `%` and Chinese in file names, a filled-in weekly problems table),
fills every fact its template claims. A failure names each fact that is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import Run
from hypothesis import given
from hypothesis import strategies as st
from realistic import CONTRASTIVE, LOG, LORA, QFORMER, SINK, build

from mllm_lab.core.markdown import escape_cell
from mllm_lab.core.problems import weekly_problems


@pytest.fixture
def real(in_lab: Run, lab: Path) -> Path:
    return build(in_lab, lab)


def prompt(run: Run, *args: str) -> str:
    result = run("prompt", *args, "--no-log")
    assert result.ok, result
    return result.out


def filled(text: str, facts: dict[str, str]) -> None:
    """Every fact is in the prompt, and nothing is left as a placeholder or a Python value."""
    missing = [f"{name}: {value!r}" for name, value in facts.items() if value not in text]
    leftovers = re.findall(r"\{\{.*?\}\}|\{%.*?%\}|\bNone\b|\bundefined\b", text)
    assert not missing and not leftovers, (
        "missing from the prompt: " + "; ".join(missing) + f"; left unfilled: {leftovers}"
    )


def test_init_prompt(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "init")
    filled(
        text,
        {
            "CLAUDE.md first": "请先完整阅读仓库根目录的 CLAUDE.md",
            "stage 1": "阶段一：Transformer 与 LLM 基础",
            "stage 5": "阶段五：前沿主题",
            "lab name": "仓库「",
            "papers on the list": "目前有 35 篇论文在阅读清单中",
            "notes": "6 篇笔记",
            "files it writes": "resources/awesome-mllm.md",
        },
    )


def test_paper_prompt(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "paper", "blip-2")
    filled(
        text,
        {
            "title": "BLIP-2: Bootstrapping Language-Image Pre-training",
            "authors": "Junnan Li et al.",
            "year": "年份：2023",
            "venue": "ICML 2023",
            "arxiv": "arXiv：2301.12597",
            "url": "https://arxiv.org/abs/2301.12597",
            "stage": "阶段三：多模态对齐与融合",
            "target file": "笔记文件：papers/blip-2.md（已存在",
        },
    )


def test_concept_prompt_for_a_note_without_frontmatter(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "concept", "Q#Former notes")
    line = next(
        n
        for n, row in enumerate((real / QFORMER).read_text("utf-8").split("\n"), 1)
        if "TODO" in row
    )
    filled(
        text,
        {
            "title from its heading": "「Q-Former 笔记」",
            "category": "类别：多模态架构（multimodal-arch）",
            "target file": f"文件：{QFORMER}（已存在",
            "related note it links": "- BLIP-2: Bootstrapping",
            "its path": "：papers/blip-2.md，",
            "the link to write": "[BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and Large Language Models](../../papers/blip-2.md)",
            "why": "已链接",
            "its open question": f"TODO 弄懂 ITC、ITM、ITG 三个损失怎么一起训练（{QFORMER}:{line}）",
        },
    )
    assert "暂无" not in text


def test_concept_prompt_for_a_new_note_names_its_file(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "concept", "Attention Sink 与 StreamingLLM")
    filled(
        text,
        {
            "inferred category": "类别：基础概念（fundamentals）：按相关笔记和路线图推断",
            "target file": "文件：notes/fundamentals/attention-sink-yu-streamingllm.md（还不存在",
            "the command": "lab new concept 'Attention Sink 与 StreamingLLM' -c fundamentals",
            "related by a rare word": f"- Attention Sink：{SINK}，链接写作 [Attention Sink](Attention%20Sink%20%28my%20notes%29.md)",
        },
    )
    chosen = prompt(in_lab, "concept", "Vision Transformer patch 嵌入")
    filled(chosen, {"file": "文件：notes/vision-language/vision-transformer-patch-qian-ru.md"})
    given = prompt(in_lab, "concept", "X", "-c", "training")
    filled(given, {"file": "文件：notes/training/x.md"})
    assert "推断" not in given


def test_experiment_prompt(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "experiment", "可视化 Attention Sink")
    filled(
        text,
        {
            "notebook": "experiments/notebooks/ke-shi-hua-attention-sink.ipynb",
            "script": "experiments/scripts/ke-shi-hua-attention-sink.py",
            "related note": f"- Attention Sink：{SINK}（",
            "command": "`lab new experiment '可视化 Attention Sink'`",
        },
    )


def test_weekly_prompt_has_the_logs_problems_and_the_markers(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "weekly")
    log = (real / LOG).read_text("utf-8").split("\n")
    row = next(n for n, line in enumerate(log, 1) if "query 数量" in line)
    sink = (real / SINK).read_text("utf-8").split("\n")
    question = next(n for n, line in enumerate(sink, 1) if "疑问" in line)
    task = next(n for n, line in enumerate(sink, 1) if "- [ ]" in line)
    filled(
        text,
        {
            "week": "2026-W48，2026-11-23 ~ 2026-11-29",
            "log path": f"放入 weekly-log/ 目录：{LOG}",
            "paper started": "开始阅读论文：BLIP-2",
            "note written": f"写了概念笔记：对比学习（{CONTRASTIVE}，2026-11-24）",
            "table problem with its idea": f"- Q-Former 的 query 数量怎么定？（{LOG}:{row}）；已有的思路：对照 BLIP-2 的消融表",
            "table problem, escaped pipe": f"- 对比学习的温度系数 | 取多大？（{LOG}:{row + 1}）",
            "marker 疑问": f"疑问：为什么是第一个 token？（{SINK}:{question}）",
            "marker - [ ]": f"- 读 StreamingLLM 的第 3 节（{SINK}:{task}）",
        },
    )
    assert LORA not in text  # written the week before
    assert "没有记录未解决的问题" not in text


def test_review_prompt(in_lab: Run, real: Path) -> None:
    text = prompt(in_lab, "review")
    filled(
        text,
        {
            "counts": "共 6 篇笔记，论文已读 0 / 35",
            "odd file name": f"- Attention Sink — {SINK}",
            "no frontmatter": f"- Q-Former 笔记 — {QFORMER}",
            "Chinese file name": f"- 对比学习 — {CONTRASTIVE}",
            "percent and ampersand": f"- LoRA & QLoRA — {LORA}",
            "paper status": "papers/blip-2.md（📖 在读）",
            "a link between notes": "- Q-Former 笔记 → BLIP-2: Bootstrapping",
            "a related: entry": "- 对比学习 → Learning Transferable Visual Models",
            "target file": "请把结果写入 reviews/review-2026-11-25.md（可以先运行 `lab review`",
        },
    )
    assert in_lab("review").ok
    filled(prompt(in_lab, "review"), {"existing file": "reviews/review-2026-11-25.md（已由"})


def test_a_missing_fact_is_named(in_lab: Run, real: Path) -> None:
    with pytest.raises(AssertionError, match=r"missing from the prompt: year: '年份：1999'"):
        filled(prompt(in_lab, "paper", "blip-2"), {"year": "年份：1999"})


cells = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=80).map(str.strip)


@given(st.lists(st.tuples(cells, cells), max_size=5))
def test_any_problem_written_in_the_table_is_read_back(rows: list[tuple[str, str]]) -> None:
    table = "| 问题 | 解决思路 / 学习建议 |\n|---|---|\n" + "".join(
        f"| {escape_cell(problem)} | {escape_cell(idea)} |\n" for problem, idea in rows
    )
    body = f"# 周记\n\n## 遇到的问题与解决思路\n\n{table}\n## 下周计划\n"
    found = weekly_problems(body, ["遇到的问题与解决思路"])
    wanted = [(p, i) for p, i in rows if p]
    assert [(f.text, f.idea) for f in found] == [(p[:200], i[:200]) for p, i in wanted]
    assert [f.line for f in found] == [7 + n for n, (p, _i) in enumerate(rows) if p]
