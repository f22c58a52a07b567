"""A lab as people really keep one: notes `lab` did not write, one without frontmatter, file
names with spaces, `#`, parentheses, `%`, `&` and Chinese, a weekly log with its problems
table filled in, open questions behind the documented markers, links between all of them."""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote

from conftest import Run, read
from markdown_it import MarkdownIt

SINK = "notes/fundamentals/Attention Sink (my notes).md"
QFORMER = "notes/multimodal-arch/Q#Former notes.md"  # no frontmatter
CONTRASTIVE = "notes/vision-language/对比学习.md"
LORA = "notes/training/100% LoRA & QLoRA.md"
LOG = "weekly-log/2026-W48.md"

NOTES = {
    SINK: """---
title: Attention Sink
category: fundamentals
tags: [attention, streaming]
created: 2026-11-24
---

# Attention Sink

## 直觉理解

开头的几个 token 吸走了大量注意力。疑问：为什么是第一个 token？

- [ ] 读 StreamingLLM 的第 3 节

见 [BLIP-2](../../papers/blip-2.md) 与 [对比学习](../vision-language/%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0.md)。
""",
    QFORMER: """# Q-Former 笔记

Q-Former 用 32 个可学习的 query 从冻结的图像特征里取信息，见 [BLIP-2](../../papers/blip-2.md)。

TODO 弄懂 ITC、ITM、ITG 三个损失怎么一起训练
""",
    CONTRASTIVE: """---
title: 对比学习
category: vision-language
tags: [contrastive, clip]
related:
- papers/clip.md
created: 2026-11-24
---

# 对比学习

InfoNCE 把匹配的图文对拉近。参见 <../fundamentals/Attention Sink (my notes).md> 以外的 [Sink](<../fundamentals/Attention Sink (my notes).md>)。
""",
    LORA: """---
title: LoRA & QLoRA
category: training
tags: [lora, peft]
created: 2026-11-20
---

# LoRA & QLoRA

低秩增量矩阵 $\\Delta W = BA$。
""",
}

PROBLEMS = (
    "| 问题 | 解决思路 / 学习建议 |\n|---|---|\n"
    "| Q-Former 的 query 数量怎么定？ | 对照 BLIP-2 的消融表 |\n"
    "| 对比学习的温度系数 \\| 取多大？ |  |\n"
)


def build(run: Run, root: Path) -> Path:
    """The realistic lab inside the `lab` fixture's fresh one (today is 2026-11-25)."""
    assert run("new", "paper", "blip-2").ok
    assert run("new", "paper", "clip").ok
    for path, text in NOTES.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, "utf-8")
    assert run("sync").ok
    assert run("weekly").ok
    log = root / LOG
    log.write_text(
        read(log).replace("|  |  |\n\n## 下周计划", PROBLEMS + "\n## 下周计划", 1), "utf-8"
    )
    return root


def hrefs(text: str) -> list[str]:
    """Every link destination in a Markdown document, as GitHub's parser (markdown-it, tables
    on) gives it."""
    found: list[str] = []

    def walk(tokens: list) -> None:  # type: ignore[type-arg]
        for token in tokens:
            if token.type == "link_open":
                found.append(str(token.attrs["href"]))
            if token.children:
                walk(token.children)

    walk(MarkdownIt("commonmark").enable("table").parse(text))
    return found


def target_of(relative: str, href: str) -> str:
    """The lab path a link destination leads to, read as a browser would (not by lab)."""
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(posixpath.dirname(relative), path))


def dead_links(root: Path, relative: str) -> list[str]:
    """The relative links of a lab file that do not lead to an existing file."""
    return [
        href
        for href in hrefs(read(root / relative))
        if "://" not in href
        and not href.startswith("#")
        and not (root / target_of(relative, href)).exists()
    ]
