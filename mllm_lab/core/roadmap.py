"""The 5-stage roadmap of seed 004, the reading-list topics and the note categories. Their names
and topics, in each language, are in the message catalog; here are their numbers, keys and the
words that show a note covers a roadmap topic."""

from __future__ import annotations

from typing import NamedTuple

from mllm_lab.kinds import CATEGORIES
from mllm_lab.messages import tr, words


class Stage(NamedTuple):
    number: int
    # lowercase words that show a note covers a topic (for "topics not yet covered")
    keywords: tuple[tuple[str, ...], ...]

    def name(self, lang: str | None = None) -> str:
        return tr(f"stage.{self.number}", lang)

    def topics(self, lang: str | None = None) -> tuple[str, ...]:
        return tuple(words(f"stage.{self.number}.topics", lang))


STAGES: tuple[Stage, ...] = (
    Stage(
        1,
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
        (
            ("vit", "vision transformer"),
            ("clip", "对比"),
            ("siglip", "eva"),
            ("resolution", "分辨率"),
        ),
    ),
    Stage(
        3,
        (
            ("llava", "projection", "投影"),
            ("q-former", "blip", "flamingo", "cross-attention"),
            ("resampler", "qwen"),
            ("internvl", "gpt-4v"),
        ),
    ),
    Stage(
        4,
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


class Topic(NamedTuple):
    key: str
    stage: int  # default stage of a paper in this topic

    def name(self, lang: str | None = None) -> str:
        return tr(f"topic.{self.key}", lang)


TOPICS: tuple[Topic, ...] = (
    Topic("foundation", 1),
    Topic("llm-arch", 1),
    Topic("vision-encoder", 2),
    Topic("multimodal", 3),
    Topic("training", 4),
    Topic("reasoning-eval", 5),
    Topic("vla", 5),
)
TOPIC_BY_KEY = {topic.key: topic for topic in TOPICS}


def topic_name(key: str, lang: str | None = None) -> str:
    """A topic's label; a lab's own topic (not in the catalog) is shown by its key."""
    topic = TOPIC_BY_KEY.get(key)
    if topic:
        return topic.name(lang)
    return tr("topic.other", lang) if key == "other" else key


def topic_order(key: str) -> tuple[int, str]:
    keys = [topic.key for topic in TOPICS]
    return (keys.index(key), "") if key in keys else (len(keys), key)


def category_name(key: str, lang: str | None = None) -> str:
    return tr(f"category.{key}", lang) if key in CATEGORIES else key


def stage_name(number: int | None, lang: str | None = None) -> str:
    stage = STAGE_BY_NUMBER.get(number or 0)
    return stage.name(lang) if stage else tr("stage.none", lang)


def stage_of_title(title: str) -> int | None:
    """The roadmap stage of the longest topic keyword a title holds ("cross-attention" is
    stage 3, though it holds stage 1's "attention"); None when it holds none."""
    haystack = title.casefold()
    found = [
        (len(word), -stage.number, stage.number)
        for stage in STAGES
        for words in stage.keywords
        for word in words
        if word in haystack
    ]
    return max(found)[2] if found else None
