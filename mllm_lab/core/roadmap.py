"""The 5-stage roadmap of seed 004, the reading-list topics and the note categories, in both
languages. Everything that names a stage, topic or category takes the name from here."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    number: int
    zh: str
    en: str
    topics_zh: tuple[str, ...]
    topics_en: tuple[str, ...]
    # lowercase words that show a note covers a topic (for "topics not yet covered")
    keywords: tuple[tuple[str, ...], ...]

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def topics(self, lang: str) -> tuple[str, ...]:
        return self.topics_zh if lang == "zh" else self.topics_en


STAGES: tuple[Stage, ...] = (
    Stage(
        1,
        "阶段一：Transformer 与 LLM 基础",
        "Stage 1: Transformer and LLM foundations",
        (
            "Self-Attention 与多头注意力",
            "Transformer 编码器-解码器架构",
            "位置编码（Sinusoidal、RoPE、ALiBi）",
            "LLM 核心架构（GPT、LLaMA）",
            "Tokenization 与 BPE",
            "推理优化：KV Cache、Flash Attention",
        ),
        (
            "Self-attention and multi-head attention",
            "The Transformer encoder-decoder",
            "Positional encoding (sinusoidal, RoPE, ALiBi)",
            "LLM architectures (GPT, LLaMA)",
            "Tokenization and BPE",
            "Inference: KV cache, FlashAttention",
        ),
        (
            ("attention", "注意力"),
            ("transformer",),
            ("rope", "alibi", "位置编码", "positional"),
            ("gpt", "llama"),
            ("token", "bpe"),
            ("kv cache", "flash"),
        ),
    ),
    Stage(
        2,
        "阶段二：视觉编码器（ViT、CLIP）",
        "Stage 2: Vision encoders (ViT, CLIP)",
        (
            "Vision Transformer（ViT）",
            "CLIP 对比学习与图文对齐",
            "SigLIP、EVA-CLIP、InternViT",
            "动态分辨率（Dynamic Resolution）",
        ),
        (
            "Vision Transformer (ViT)",
            "CLIP: contrastive image-text alignment",
            "SigLIP, EVA-CLIP, InternViT",
            "Dynamic resolution",
        ),
        (
            ("vit", "vision transformer"),
            ("clip", "对比"),
            ("siglip", "eva"),
            ("resolution", "分辨率"),
        ),
    ),
    Stage(
        3,
        "阶段三：多模态对齐与融合",
        "Stage 3: Multimodal alignment and fusion",
        (
            "投影层范式：LLaVA",
            "Q-Former / Cross-Attention 范式：BLIP-2、Flamingo",
            "Resampler 范式：Qwen-VL",
            "代表模型：LLaVA-NeXT、Qwen2-VL、InternVL、GPT-4V",
        ),
        (
            "Projection connectors: LLaVA",
            "Q-Former / cross-attention: BLIP-2, Flamingo",
            "Resamplers: Qwen-VL",
            "Representative models: LLaVA-NeXT, Qwen2-VL, InternVL, GPT-4V",
        ),
        (
            ("llava", "projection", "投影"),
            ("q-former", "blip", "flamingo", "cross-attention"),
            ("resampler", "qwen"),
            ("internvl", "gpt-4v"),
        ),
    ),
    Stage(
        4,
        "阶段四：训练方法",
        "Stage 4: Training methods",
        (
            "预训练（Pre-training）",
            "监督微调（SFT）",
            "RLHF：奖励模型与 PPO",
            "DPO",
            "PEFT：LoRA、QLoRA",
            "数据工程",
        ),
        (
            "Pre-training",
            "Supervised fine-tuning (SFT)",
            "RLHF: reward models and PPO",
            "DPO",
            "PEFT: LoRA, QLoRA",
            "Data engineering",
        ),
        (
            ("pre-train", "pretrain", "预训练"),
            ("sft", "微调", "instruction"),
            ("rlhf", "ppo", "reward"),
            ("dpo",),
            ("lora", "peft"),
            ("data", "数据"),
        ),
    ),
    Stage(
        5,
        "阶段五：前沿主题",
        "Stage 5: Frontier topics",
        (
            "多模态 Agent 与具身智能",
            "视频理解",
            "统一架构（Emu、Janus）",
            "多模态思维链",
            "评估与基准（MMBench、MMMU、MathVista）",
        ),
        (
            "Multimodal agents and embodied AI",
            "Video understanding",
            "Unified models (Emu, Janus)",
            "Multimodal chain-of-thought",
            "Evaluation (MMBench, MMMU, MathVista)",
        ),
        (
            ("agent", "vla", "具身", "robot"),
            ("video", "视频"),
            ("unified", "统一", "emu", "janus"),
            ("chain-of-thought", "cot", "思维链"),
            ("bench", "mmmu", "mathvista", "评估", "evaluation"),
        ),
    ),
)
STAGE_BY_NUMBER = {stage.number: stage for stage in STAGES}


@dataclass(frozen=True)
class Topic:
    key: str
    zh: str
    en: str
    stage: int  # default stage of a paper in this topic

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


TOPICS: tuple[Topic, ...] = (
    Topic("foundation", "基础模型", "Foundation models", 1),
    Topic("llm-arch", "LLM 架构与效率", "LLM architecture and efficiency", 1),
    Topic("multimodal", "多模态模型", "Multimodal models", 3),
    Topic("training", "训练方法", "Training methods", 4),
    Topic("reasoning-eval", "推理与评估", "Reasoning and evaluation", 5),
    Topic("vla", "视觉-语言-动作（VLA）", "Vision-language-action (VLA)", 5),
)
TOPIC_BY_KEY = {topic.key: topic for topic in TOPICS}


def topic_name(key: str, lang: str) -> str:
    topic = TOPIC_BY_KEY.get(key)
    return topic.name(lang) if topic else key


def topic_order(key: str) -> tuple[int, str]:
    keys = [topic.key for topic in TOPICS]
    return (keys.index(key), "") if key in keys else (len(keys), key)


CATEGORY_NAMES = {
    "fundamentals": ("基础概念", "Fundamentals"),
    "vision-language": ("视觉-语言模型", "Vision-language models"),
    "multimodal-arch": ("多模态架构", "Multimodal architecture"),
    "training": ("训练技术", "Training"),
    "applications": ("应用场景", "Applications"),
}


def category_name(key: str, lang: str) -> str:
    names = CATEGORY_NAMES.get(key)
    return key if names is None else names[0 if lang == "zh" else 1]


def stage_name(number: int | None, lang: str) -> str:
    stage = STAGE_BY_NUMBER.get(number or 0)
    if stage:
        return stage.name(lang)
    return "未分阶段" if lang == "zh" else "No stage"
