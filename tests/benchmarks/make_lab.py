"""Build a synthetic lab of N notes for the benchmark, shaped like a real one grown over years.

What is in it (N = every file under papers/, notes/, weekly-log/, reviews/ and
experiments/notebooks/, the files `lab` scans):

- `lab init`'s own files (README with the roadmap, CLAUDE.md, templates, views, reading list);
- paper notes (30%) in every status, with the frontmatter `lab new paper` writes and the
  sections of the lab's own paper template (read from templates/<lang>/paper.md.j2, so a new
  required section in the template shows up here), filled with Chinese and English text,
  formulas, an ablation table, a Mermaid diagram and "read next" links to other notes. Some of
  the roadmap papers of the reading list have notes (they are moved out of the list, as
  `lab new paper` does); the other keys look like real ones (llava-1203, blip-1377, ...), so
  completing `lab mark bl` has candidates;
- concept notes in every category, with related notes (relative links and [[wiki links]]),
  tags in flow and block style, and now and then a hand-edited frontmatter (a comment, a folded
  block scalar) that a fast YAML reader must hand over to PyYAML;
- weekly logs, one per ISO week, ending the week before "today" (2026-11-25);
- a few reviews, a few notebooks (made by `lab new experiment`, then copied);
- a reading list of N/10 more papers (every status, a few comments);
- open questions (`- [ ]`, 疑问, TODO) in some notes, and this week's work (notes created,
  papers started and finished), so `lab weekly` and `lab prompt weekly` have something to say;
- on purpose, one broken link per 2,000 notes (a real lab has some): `lab check` reports them
  and exits 1.

The lab is then synced (`lab sync`) and committed to a git repository, which is how the
benchmark undoes a writing command. Everything is drawn from a seeded RNG: the same
(GENERATOR_VERSION, N, seed) gives the same lab byte for byte."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

# Bump when the generated lab changes: cached labs are keyed by it.
GENERATOR_VERSION = 3  # 3: a read paper of the reading list has its finish date
TODAY = date(2026, 11, 25)  # pinned with LAB_TODAY in every command the benchmark runs
MANIFEST = ".bench-manifest.json"  # at the lab's root; `lab` does not scan it

CATEGORIES = ("fundamentals", "vision-language", "multimodal-arch", "training", "applications")
CATEGORY_STAGE = {
    "fundamentals": 1,
    "vision-language": 2,
    "multimodal-arch": 3,
    "training": 4,
    "applications": 5,
}
TOPICS = ("foundation", "llm-arch", "multimodal", "training", "reasoning-eval", "vla")
VENUES = ("NeurIPS", "ICML", "ICLR", "CVPR", "ICCV", "ECCV", "ACL", "EMNLP", "TMLR", None, None)
# Model families for paper keys: three start with "bl", like blip-2 in the catalog.
FAMILIES = (
    "blip", "bliva", "blink", "llava", "qwen-vl", "internvl", "flamingo", "clip", "siglip",
    "vit", "gpt", "llama", "mistral", "kosmos", "emu", "janus", "minigpt", "cogvlm",
    "paligemma", "idefics", "fuyu", "otter", "shikra", "ferret", "monkey", "deepseek-vl",
    "molmo", "pixtral", "dpo", "ppo", "rlhf", "lora", "qlora", "moe", "mamba", "rope",
    "alibi", "flash-attn", "vqa", "mmmu", "mathvista", "mmbench", "eva-clip", "sam", "dino",
)  # fmt: skip
SURNAMES = ("Li", "Wang", "Zhang", "Liu", "Chen", "Smith", "Radford", "Touvron", "Alayrac",
            "Dosovitskiy", "Bai", "Yang", "Zhou", "Wu", "Kim", "Garcia", "Müller", "Nguyen")  # fmt: skip
GIVEN = ("Junnan", "Haotian", "Jinze", "Alec", "Hugo", "Jean-Baptiste", "Alexey", "Wei", "Yi",
         "Xiaohua", "Lucas", "Maria", "Kai", "Min", "Sofia", "Tao")  # fmt: skip
TITLE_A = ("Scaling", "Aligning", "Bootstrapping", "Rethinking", "Improving", "Unifying",
           "Efficient", "Learning", "Towards", "Revisiting")  # fmt: skip
TITLE_B = ("Visual Instruction Tuning", "Vision-Language Pre-training", "Cross-Modal Attention",
           "Contrastive Image-Text Learning", "Multimodal Reasoning", "Preference Optimization",
           "Dynamic Resolution Encoders", "Video Understanding", "Embodied Agents",
           "Low-Rank Adaptation", "Mixture-of-Experts Decoders", "Token Compression")  # fmt: skip
TITLE_C = ("with Frozen Language Models", "at Scale", "for Open-World Understanding",
           "without Human Labels", "via Synthetic Data", "in Long Contexts",
           "for Fine-Grained Grounding", "across Languages")  # fmt: skip
CONCEPTS = (
    ("Self-Attention", "自注意力"), ("Multi-Head Attention", "多头注意力"),
    ("RoPE", "旋转位置编码"), ("ALiBi", "线性偏置位置编码"), ("KV Cache", "键值缓存"),
    ("Flash Attention", "快速注意力"), ("BPE Tokenization", "字节对编码"),
    ("Vision Transformer", "视觉 Transformer"), ("CLIP Contrastive Loss", "对比学习损失"),
    ("Q-Former", "查询变换器"), ("Cross-Attention", "交叉注意力"),
    ("Perceiver Resampler", "重采样器"), ("Projection Layer", "投影层"),
    ("Dynamic Resolution", "动态分辨率"), ("Instruction Tuning", "指令微调"),
    ("RLHF", "人类反馈强化学习"), ("DPO", "直接偏好优化"), ("LoRA", "低秩适配"),
    ("Mixture of Experts", "混合专家"), ("Chain-of-Thought", "思维链"),
    ("Visual Grounding", "视觉定位"), ("Video Tokens", "视频 token"),
    ("Reward Model", "奖励模型"), ("Data Curation", "数据工程"),
    ("Hallucination", "幻觉"), ("Benchmarking", "评测基准"),
)  # fmt: skip
ASPECTS = ("直觉", "推导", "实现细节", "复杂度", "对比", "训练技巧", "面试要点", "常见坑",
           "消融", "代码走读", "变体", "与 LLM 的结合")  # fmt: skip
TAGS = ("attention", "alignment", "vision", "token", "training", "eval", "video", "agent",
        "注意力", "多模态", "对齐", "视觉", "训练", "推理", "面试")  # fmt: skip
ZH = (
    "注意力机制让每个 token 根据相关性加权汇聚其他位置的信息，这是 Transformer 能建模长距离依赖的关键。",
    "视觉编码器把图像切成 patch，再映射到与语言模型相同的隐空间，这一步决定了后续对齐的上限。",
    "Q-Former 用一组可学习的查询向量从冻结的图像特征中抽取与文本最相关的信息，减少了 LLM 的输入长度。",
    "投影层虽然简单，但在数据量足够时效果并不比复杂的融合模块差，这是 LLaVA 系列的重要经验。",
    "对比学习的温度系数控制分布的尖锐程度，取值过小会导致训练不稳定。",
    "指令微调阶段的数据质量比数量更重要，几万条高质量多轮对话往往胜过百万条模板数据。",
    "RLHF 中奖励模型的偏差会被策略放大，因此需要 KL 约束把策略拉回参考模型附近。",
    "DPO 把偏好学习写成一个分类损失，省去了显式的奖励模型和 PPO 的采样开销。",
    "LoRA 只训练低秩增量矩阵，显存占用大幅下降，但秩取得太小会限制模型的表达能力。",
    "动态分辨率把大图切成多个子图分别编码，再加上一张缩略图保留全局信息。",
    "视频理解的难点在于 token 数随帧数线性增长，需要时间维度上的压缩或采样。",
    "KV Cache 用空间换时间：解码时不再重复计算历史 token 的键和值。",
    "消融实验显示，去掉第二阶段的预训练后，零样本 VQA 的准确率下降了三到五个点。",
    "这里我一开始没看懂为什么要冻结视觉编码器，后来发现是为了保留预训练得到的通用表示。",
    "多模态幻觉常常来自语言先验过强，模型在没有看清图像时倾向于生成高频描述。",
    "评测时要注意基准的数据泄漏问题，很多公开基准的图片在预训练数据中出现过。",
)
EN = (
    "The key idea is to keep the vision encoder frozen and learn a light bridge into the language model.",
    "Scaling the number of visual tokens helps on OCR-heavy benchmarks but costs quadratic attention.",
    "In practice the projector is trained first on caption pairs, then the whole model is instruction-tuned.",
    "The contrastive objective pulls matching image-text pairs together and pushes the rest of the batch apart.",
    "Rotary embeddings encode relative position by rotating query and key vectors in two-dimensional subspaces.",
    "Mixture-of-experts layers route each token to a few experts, so compute grows slower than parameters.",
    "Preference optimisation needs pairs of answers; the chosen one should be better on one clear axis.",
    "The ablation shows that most of the gain comes from data quality rather than from the architecture.",
    "Grounding outputs boxes as plain text coordinates, which keeps the language model's interface unchanged.",
    "A common failure mode is the model answering from language priors when the image is ambiguous.",
    "Low-rank adapters can be merged into the base weights after training, so inference pays nothing.",
    "Long-context video models compress each frame to a handful of tokens before the decoder sees them.",
)
FORMULAS = (
    r"$$\mathrm{Attention}(Q,K,V)=\mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V$$",
    r"$$\mathcal{L}_{\mathrm{itc}} = -\frac{1}{N}\sum_{i=1}^{N}\log\frac{\exp(s_{ii}/\tau)}{\sum_j \exp(s_{ij}/\tau)}$$",
    r"$$\mathcal{L}_{\mathrm{DPO}} = -\log\sigma\left(\beta\log\frac{\pi_\theta(y_w|x)}{\pi_{\mathrm{ref}}(y_w|x)}-\beta\log\frac{\pi_\theta(y_l|x)}{\pi_{\mathrm{ref}}(y_l|x)}\right)$$",
    r"$$W = W_0 + \Delta W = W_0 + BA,\quad B\in\mathbb{R}^{d\times r},\ A\in\mathbb{R}^{r\times k}$$",
)
QUESTIONS = (
    "- [ ] 疑问：为什么第二阶段不解冻视觉编码器？",
    "- [ ] Check whether the ablation used the same data budget.",
    "TODO: 补充与 Flamingo 的对比",
    "这里的温度系数为什么是可学习的？还没搞懂，卡住了 ❓",
)


@dataclass
class Manifest:
    """What the benchmark needs to know about the lab it drives."""

    generator: int
    notes: int
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    mark_key: str = ""  # a paper note, unread in the committed lab
    complete_prefix: str = "bl"
    complete_matches: int = 0  # paper keys (notes and reading list) starting with the prefix
    broken_links: int = 0


def lab_command() -> str:
    return str(Path(sys.executable).with_name("lab"))


def _env(root: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "LAB_TODAY": TODAY.isoformat()}
    env.pop("LAB_ROOT", None)
    if root is not None:
        env["LAB_ROOT"] = str(root)
    return env


def _headings(template: Path) -> list[tuple[int, str]]:
    """The headings of a note template (level, text), outside code fences; the H1 is skipped."""
    found, fenced = [], False
    for line in template.read_text("utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        match = re.match(r"^(#{2,6}) +(.+?)\s*$", line)
        if match and not fenced:
            found.append((len(match[1]), match[2]))
    return found


def _yaml_str(text: str) -> str:
    """A YAML scalar as PyYAML's emitter writes it for these texts: plain unless it needs quotes."""
    if re.search(r"[:#\[\]{},&*!|>'\"%@`]|^[-?\s]|\s$", text) or text.lower() in (
        "null",
        "true",
        "false",
        "yes",
        "no",
        "~",
    ):
        return "'" + text.replace("'", "''") + "'"
    return text


class Writer:
    def __init__(self, root: Path, notes: int, seed: int) -> None:
        self.root = root
        self.notes = notes
        self.rng = random.Random(seed)
        self.manifest = Manifest(GENERATOR_VERSION, notes, seed)
        self.counter = 100
        self.papers: list[tuple[str, str]] = []  # (key, title) of paper notes
        self.concepts: list[tuple[str, str, str]] = []  # (path, slug, title)
        self.by_week: dict[date, list[tuple[str, str]]] = {}  # monday -> (path, title)
        self.broken_every = 2000
        self.written = 0

    # --- text ------------------------------------------------------------------------------

    def sentences(self, count: int, lang: str) -> str:
        rng = self.rng
        out = []
        for _ in range(count):
            pick = lang if lang != "mix" else rng.choice(("zh", "en"))
            out.append(rng.choice(ZH) if pick == "zh" else rng.choice(EN))
        return ("" if lang == "zh" else " ").join(out)

    def paragraphs(self, lang: str, low: int = 1, high: int = 3) -> str:
        return "\n\n".join(
            self.sentences(self.rng.randint(2, 4), lang) for _ in range(self.rng.randint(low, high))
        )

    def section(self, title: str, lang: str, here: str, links: list[tuple[str, str]]) -> str:
        """The text under one template heading; `here` is the note's folder (for relative links)."""
        rng = self.rng
        low = title.lower()
        if "公式" in title or "formula" in low or "数学" in title or "math" in low:
            return f"{rng.choice(FORMULAS)}\n\n- $Q, K, V$：查询、键、值矩阵\n- $d_k$：键向量的维度\n\n{self.paragraphs(lang, 1, 1)}"
        if "架构" in title or "图解" in title or "diagram" in low or "architecture" in low:
            return (
                '```mermaid\ngraph LR\n    img["图像 Image"] --> enc["视觉编码器"]\n'
                '    enc --> bridge["Q-Former / Projector"]\n    bridge --> llm["LLM"]\n'
                '    txt["文本 Text"] --> llm\n```\n\n' + self.sentences(2, lang)
            )
        if "实验" in title or "消融" in title or "experiment" in low:
            rows = "\n".join(
                f"| 去掉 {rng.choice(('预训练', 'Q-Former', '高分辨率', 'OCR 数据', 'stage 2'))} "
                f"| VQAv2 -{rng.randint(1, 9)}.{rng.randint(0, 9)} | {self.sentences(1, lang)} |"
                for _ in range(rng.randint(2, 5))
            )
            return f"| 消融设置 | 指标变化 | 说明的问题 |\n|---|---|---|\n{rows}\n\n{self.paragraphs(lang, 1, 2)}"
        if any(word in title for word in ("延伸", "关联", "参考")) or any(
            word in low for word in ("read next", "related", "references")
        ):
            items = [f"- [{text}]({os.path.relpath(path, here)})" for path, text in links]
            if self.concepts and rng.random() < 0.5:
                items.append(f"- 另见 [[{rng.choice(self.concepts)[1]}]]")
            if "参考" in title or "reference" in low:
                items.append(
                    f"- https://arxiv.org/abs/24{rng.randint(10, 12)}.{rng.randint(10000, 19999)}"
                )
            return "\n".join(items) if items else self.sentences(1, lang)
        if "误区" in title or "misconception" in low:
            return "\n".join(
                f"- **误区**：{self.sentences(1, lang)}\n  **正解**：{self.sentences(1, lang)}"
                for _ in range(rng.randint(1, 3))
            )
        if "问题" in title or "problem" in low:
            return f"| 问题 | 解决思路 / 学习建议 |\n|---|---|\n| {rng.choice(QUESTIONS).removeprefix('- [ ] ')} | {self.sentences(1, lang)} |"
        if "计划" in title or "plan" in low:
            return (
                "| 任务 | 预计时间 | 优先级 |\n|---|---|---|\n| 读完 "
                + rng.choice(FAMILIES)
                + " | 3h | 高 |"
            )
        text = self.paragraphs(lang)
        if rng.random() < 0.08:
            text += "\n\n" + rng.choice(QUESTIONS)
        return text

    def body(
        self, template: list[tuple[int, str]], lang: str, here: str, links: list[tuple[str, str]]
    ) -> str:
        return "".join(
            f"\n{'#' * level} {title}\n\n{self.section(title, lang, here, links)}\n"
            for level, title in template
        )

    def links_for(self, count: int) -> list[tuple[str, str]]:
        """Links to notes written before this one: (lab-relative path, text)."""
        rng = self.rng
        found = []
        for _ in range(count):
            if self.papers and (not self.concepts or rng.random() < 0.5):
                key, title = rng.choice(self.papers[-300:])
                found.append((f"papers/{key}.md", title))
            elif self.concepts:
                path, _slug, title = rng.choice(self.concepts[-300:])
                found.append((path, title))
        if self.written % self.broken_every == 500:
            found.append(("notes/training/deleted-note.md", "a note that was renamed"))
            self.manifest.broken_links += 1
        return found

    def tags(self) -> str:
        chosen = self.rng.sample(TAGS, self.rng.randint(0, 3))
        if not chosen:
            return "tags: []"
        if self.rng.random() < 0.3:
            return "tags: [" + ", ".join(chosen) + "]"
        return "tags:\n" + "".join(f"- {tag}\n" for tag in chosen).rstrip("\n")

    def day(self, start: date) -> date:
        return start + timedelta(days=self.rng.randrange(max(1, (TODAY - start).days - 7)))

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        self.manifest.bytes += len(data)
        self.written += 1

    def remember(self, relative: str, title: str, created: date) -> None:
        monday = created - timedelta(days=created.weekday())
        self.by_week.setdefault(monday, []).append((relative, title))

    # --- notes ---------------------------------------------------------------------------------

    def paper(
        self, template: list[tuple[int, str]], start: date, facts: dict | None, this_week: bool
    ) -> None:
        rng = self.rng
        if facts is None:
            family = rng.choice(FAMILIES)
            self.counter += 1
            key = f"{family}-{self.counter}"
            title = f"{family.upper()}-{self.counter}: {rng.choice(TITLE_A)} {rng.choice(TITLE_B)} {rng.choice(TITLE_C)}"
            year = rng.randint(2017, 2026)
            arxiv = f"{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(1000, 19999):05d}"
            venue = rng.choice(VENUES)
            facts = {
                "key": key,
                "title": title,
                "authors": [f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)} et al."],
                "year": year,
                "venue": f"{venue} {year}" if venue else None,
                "arxiv": arxiv,
                "url": f"https://arxiv.org/abs/{arxiv}",
                "topic": rng.choice(TOPICS),
                "stage": rng.randint(1, 5),
            }
        key, title = facts["key"], facts["title"]
        roll = rng.random()
        status = "read" if roll < 0.55 else "reading" if roll < 0.7 else "unread"
        created = TODAY - timedelta(days=rng.randrange(3)) if this_week else self.day(start)
        if status == "reading" and not this_week:  # what one is reading was started lately
            created = TODAY - timedelta(days=rng.randrange(7, 120))
        started = created if status != "unread" else None
        finished = None
        if status == "read":
            finished = min(TODAY, created + timedelta(days=rng.randrange(1, 40)))
        if this_week and status == "read":
            finished = TODAY - timedelta(days=rng.randrange(2))
            started = min(started or created, finished)
        lang = rng.choices(("zh", "mix", "en"), (6, 3, 1))[0]
        lines = [
            "---",
            f"key: {key}",
            f"title: {_yaml_str(title)}",
            "authors:",
            *[f"- {_yaml_str(a)}" for a in facts.get("authors") or ["Unknown et al."]],
            f"year: {facts.get('year') or 'null'}",
            f"venue: {_yaml_str(facts['venue']) if facts.get('venue') else 'null'}",
            f"arxiv: {repr(str(facts['arxiv'])) if facts.get('arxiv') else 'null'}",
            f"url: {facts.get('url') or 'null'}",
            f"topic: {facts.get('topic') or 'multimodal'}",
            f"stage: {facts.get('stage') or 3}",
            self.tags(),
            f"status: {status}",
            f"created: {created}",
            f"started: {started or 'null'}",
            f"finished: {finished or 'null'}",
        ]
        if rng.random() < 0.03:
            lines.insert(rng.randint(2, len(lines)), "# 导师推荐：重点看消融实验")
        links = self.links_for(rng.randint(2, 4))
        text = (
            "\n".join(lines)
            + "\n---\n\n"
            + f"# {title}\n\n> **论文信息**：{(facts.get('authors') or ['?'])[0]} · {facts.get('year')}"
            + f" · [原文链接]({facts.get('url')})\n\n> **路线图位置**：阶段 {facts.get('stage')} · 主题：{facts.get('topic')}\n"
            + self.body(template, lang, "papers", links)
        )
        relative = f"papers/{key}.md"
        self.write(relative, text)
        self.papers.append((key, title))
        self.remember(relative, title, created)
        if status == "unread" and not self.manifest.mark_key:
            self.manifest.mark_key = key

    def concept(
        self, template: list[tuple[int, str]], start: date, number: int, this_week: bool
    ) -> None:
        rng = self.rng
        category = CATEGORIES[number % len(CATEGORIES)]
        english, chinese = rng.choice(CONCEPTS)
        aspect = rng.choice(ASPECTS)
        title = f"{english} {chinese}：{aspect}"
        slug = re.sub(r"[^a-z0-9]+", "-", english.lower()).strip("-") + f"-note-{number}"
        relative = f"notes/{category}/{slug}.md"
        created = TODAY - timedelta(days=rng.randrange(3)) if this_week else self.day(start)
        links = self.links_for(rng.randint(2, 5))
        lang = rng.choices(("zh", "mix", "en"), (5, 4, 1))[0]
        summary = (
            f"summary: {_yaml_str(self.sentences(1, 'zh'))}"
            if rng.random() < 0.5
            else "summary: ''"
        )
        if rng.random() < 0.02:
            summary = "summary: >-\n  " + self.sentences(1, "en") + "\n  " + self.sentences(1, "en")
        related = [
            path for path, _ in links[:2] if path.startswith("notes/") and "deleted" not in path
        ]
        lines = [
            "---",
            f"title: {_yaml_str(title)}",
            f"category: {category}",
            f"stage: {CATEGORY_STAGE[category]}",
            self.tags(),
            "related:" + ("".join(f"\n- {p}" for p in related) if related else " []"),
            summary,
            f"created: {created}",
        ]
        if rng.random() < 0.03:
            lines.append("# 复习时补充更多例子")
        text = (
            "\n".join(lines)
            + f"\n---\n\n# {title}\n\n> **类别**：{category} · **路线图位置**：阶段 {CATEGORY_STAGE[category]}\n"
            + self.body(template, lang, f"notes/{category}", links)
        )
        self.write(relative, text)
        self.concepts.append((relative, slug, title))
        self.remember(relative, title, created)

    def weekly(self, template: list[tuple[int, str]], monday: date) -> None:
        iso = monday.isocalendar()
        name = f"{iso.year}-W{iso.week:02d}"
        sunday = monday + timedelta(days=6)
        done = self.by_week.get(monday, [])[:12]
        items = (
            "\n".join(f"- [{title}]({os.path.relpath(path, 'weekly-log')})" for path, title in done)
            or "- 复习了之前的笔记"
        )
        parts = []
        for level, title in template:
            text = (
                items
                if ("完成" in title or "done" in title.lower())
                else self.section(title, "zh", "weekly-log", [])
            )
            parts.append(f"\n{'#' * level} {title}\n\n{text}\n")
        self.write(
            f"weekly-log/{name}.md",
            f"---\nweek: {name}\nstart: {monday}\nend: {sunday}\ncreated: {sunday}\n---\n\n"
            f"# 学习周记 {name}（{monday} ~ {sunday}）\n" + "".join(parts),
        )

    def review(self, template: list[tuple[int, str]], day: date) -> None:
        self.write(
            f"reviews/review-{day}.md",
            f"---\ntitle: Review {day}\nkind: review\ncreated: {day}\nsince: null\nnotes: {len(self.concepts)}\n---\n\n"
            f"# 阶段复习 {day}\n" + self.body(template, "zh", "reviews", self.links_for(6)),
        )


def build(root: Path, notes: int, seed: int = 0) -> Manifest:
    """Create the lab at `root` (which must not exist), sync it and commit it to git."""
    lab = lab_command()
    env = _env()
    subprocess.run([lab, "init", str(root)], check=True, env=env, capture_output=True)
    env = _env(root)
    writer = Writer(root, notes, seed)
    rng = writer.rng
    lang_dir = root / "templates" / "zh"
    paper_t = _headings(lang_dir / "paper.md.j2")
    concept_t = _headings(lang_dir / "concept.md.j2")
    weekly_t = _headings(lang_dir / "weekly.md.j2")
    review_t = _headings(lang_dir / "review.md.j2")

    notebooks = 3 + notes // 2000
    reviews = 1 + notes // 2500
    weeks = min(520, notes // 20)
    papers = notes * 3 // 10
    concepts = notes - notebooks - reviews - weeks - papers
    this_monday = TODAY - timedelta(days=TODAY.weekday())
    first_monday = this_monday - timedelta(weeks=max(weeks, 52))
    start = first_monday

    # Notebooks first, while the lab is small: `lab new experiment` writes a valid one.
    for number in range(min(3, notebooks)):
        subprocess.run(
            [lab, "new", "experiment", f"实验 {number}: {CONCEPTS[number][0]} toy"],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
    made = sorted((root / "experiments" / "notebooks").glob("*.ipynb"))
    for number in range(len(made), notebooks):
        source = json.loads(made[number % len(made)].read_text("utf-8"))
        title = f"实验 {number}: {CONCEPTS[number % len(CONCEPTS)][0]} ablation"
        info = source.setdefault("metadata", {}).setdefault("mllm_lab", {})
        info["title"] = title
        info["created"] = str(writer.day(start))
        source["cells"][0]["source"][0] = f"# {title}\n"
        writer.write(
            f"experiments/notebooks/experiment-{number}.ipynb",
            json.dumps(source, ensure_ascii=False, indent=1) + "\n",
        )
    writer.written = 0

    # Some roadmap papers of the reading list get notes (and leave the list, as with `lab new`).
    import yaml  # PyYAML: a dependency of mllm-lab, so in the venv that runs this

    listing = root / "papers" / "reading-list.yaml"
    head = "".join(
        line
        for line in listing.read_text("utf-8").splitlines(keepends=True)
        if line.startswith("#")
    )
    listed = yaml.safe_load(listing.read_text("utf-8"))["papers"]
    noted = listed[: min(len(listed) * 2 // 3, papers)]
    kept = listed[len(noted) :]

    # Papers and concepts interleaved, so links point both ways in time; a few this week.
    order = ["p"] * papers + ["c"] * concepts
    rng.shuffle(order)
    fresh = set(rng.sample(range(len(order)), min(len(order), 8 + notes // 2000)))
    paper_number = concept_number = 0
    for index, what in enumerate(order):
        if what == "p":
            facts = noted[paper_number] if paper_number < len(noted) else None
            writer.paper(paper_t, start, facts, index in fresh)
            paper_number += 1
        else:
            writer.concept(concept_t, start, concept_number, index in fresh)
            concept_number += 1
    for number in range(weeks):
        writer.weekly(weekly_t, this_monday - timedelta(weeks=weeks - number))
    for number in range(reviews):
        writer.review(review_t, this_monday - timedelta(weeks=1 + number * 13, days=-2))

    # The reading list: what was left of the roadmap's, and N/10 more in every status.
    entries = [{k: v for k, v in entry.items() if k not in ("reading_list",)} for entry in kept]
    for _ in range(notes // 10):
        family = rng.choice(FAMILIES)
        writer.counter += 1
        year = rng.randint(2017, 2026)
        arxiv = f"{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(1000, 19999):05d}"
        roll = rng.random()
        status = "unread" if roll < 0.85 else "reading" if roll < 0.93 else "read"
        began = str(writer.day(start))
        entries.append(
            {
                "key": f"{family}-{writer.counter}",
                "title": f"{family.upper()}-{writer.counter}: {rng.choice(TITLE_A)} {rng.choice(TITLE_B)}",
                "authors": [f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)} et al."],
                "year": year,
                "arxiv": arxiv,
                "url": f"https://arxiv.org/abs/{arxiv}",
                "topic": rng.choice(TOPICS),
                "stage": rng.randint(1, 5),
                "status": status,
                **({"started": began} if status != "unread" else {}),
                **({"finished": began} if status == "read" else {}),
            }
        )
    body = yaml.safe_dump({"papers": entries}, allow_unicode=True, sort_keys=False, width=1000)
    lines = body.splitlines(keepends=True)
    for number in range(1, len(lines), max(1, len(lines) // 5)):
        if lines[number].startswith("- key:"):
            lines[number] = "# 组会推荐\n" + lines[number]
    listing.write_text(head + "".join(lines), "utf-8")

    keys = [key for key, _ in writer.papers] + [str(e["key"]) for e in entries]
    writer.manifest.complete_matches = sum(
        k.startswith(writer.manifest.complete_prefix) for k in keys
    )
    writer.manifest.counts = {
        "papers": papers,
        "concepts": concepts,
        "weekly": weeks,
        "reviews": reviews,
        "notebooks": notebooks,
        "reading_list": len(entries),
    }
    subprocess.run([lab, "sync"], check=True, env=env, capture_output=True)
    (root / MANIFEST).write_text(json.dumps(asdict(writer.manifest), indent=1) + "\n", "utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(
        root,
        "commit",
        "-q",
        "-m",
        f"synthetic lab of {notes} notes (generator {GENERATOR_VERSION})",
    )
    return writer.manifest


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@localhost",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@localhost",
    }
    done = subprocess.run(
        ["git", "-c", "core.autocrlf=false", *args],
        cwd=root, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("root", type=Path)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    manifest = build(args.root, args.notes, args.seed)
    print(f"built {args.root}: {json.dumps(asdict(manifest))}")


if __name__ == "__main__":
    main()
