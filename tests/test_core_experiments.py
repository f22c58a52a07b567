"""The table of experiment kinds and `infer_kind`: which notebook a title asks for."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllm_lab.core import experiments
from mllm_lab.core.experiments import KINDS, NAMES, infer_kind, kind_named, mentions, normalize


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        # the examples of issue 11
        ("Minimal CLIP contrastive loss", "clip-loss"),
        ("从零实现多头注意力", "attention"),
        ("LoRA 微调小模型", "lora"),
        ("BPE 分词器", "bpe"),
        ("ViT patch embedding", "vit-patch"),
        # English
        ("Self-attention from scratch", "attention"),
        ("Multi-head attention", "attention"),
        ("Scaled dot-product attention vs SDPA", "attention"),
        ("Transformer encoder block", "attention"),
        ("Vision Transformer on toy images", "vit-patch"),
        ("Patchify and patch embeddings", "vit-patch"),
        ("InfoNCE on paired embeddings", "clip-loss"),
        ("Image-text alignment", "clip-loss"),
        ("SigLIP vs CLIP", "clip-loss"),
        ("QLoRA on a tiny model", "lora"),
        ("Low-rank adaptation", "lora"),
        ("PEFT methods", "lora"),
        ("Byte pair encoding", "bpe"),
        ("A tokenizer from scratch", "bpe"),
        ("Tokenizers compared", "bpe"),
        # Chinese, and Chinese mixed with English
        ("从零实现简化版 CLIP", "clip-loss"),
        ("对比学习与图文对齐", "clip-loss"),
        ("自注意力机制", "attention"),
        ("Self-Attention 与多头注意力", "attention"),
        ("视觉Transformer", "vit-patch"),
        ("视觉 Transformer 的图像块嵌入", "vit-patch"),
        ("低秩适配", "lora"),
        ("Tokenization 与 BPE", "bpe"),
        ("中文分词与词表", "bpe"),
        # full-width letters and odd spacing
        ("ＬｏＲＡ 微调", "lora"),
        ("  clip\tLOSS  ", "clip-loss"),
        # nothing the table knows: the neutral skeleton
        ("RoPE 位置编码", "skeleton"),
        ("KV Cache", "skeleton"),
        ("Q-Former", "skeleton"),
        ("DPO vs PPO", "skeleton"),
        ("", "skeleton"),
    ],
)
def test_infer_kind(title: str, kind: str) -> None:
    assert infer_kind(title) == kind


@pytest.mark.parametrize(
    "title",
    [
        "Exploration of activity patterns",  # holds "lora" and "vit" inside words
        "Video clips",  # a plural is allowed for long keywords only: "clips" is not CLIP
        "Gradient clipping",
        "Explorative vitamins",
        "Batch normalization",  # "batch" is not "patch"
    ],
)
def test_keywords_match_whole_words_only(title: str) -> None:
    assert infer_kind(title) == "skeleton", mentions(title)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        # one mention each: the kind mentioned first wins
        ("ViT attention maps", "vit-patch"),
        ("Attention maps of a ViT", "attention"),
        ("LoRA fine-tuning of CLIP", "lora"),
        ("Fine-tuning CLIP with LoRA", "clip-loss"),
        ("BPE 与注意力", "bpe"),
        ("注意力与 BPE", "attention"),
        # more mentions beat an earlier one
        ("Attention inside CLIP: the contrastive loss", "clip-loss"),
        ("ViT 的多头注意力与 self-attention", "attention"),
        # the longest keyword at a position wins: "vision transformer" is ViT, not attention
        ("Vision Transformer", "vit-patch"),
        ("Transformer", "attention"),
    ],
)
def test_ambiguous_titles_are_decided_by_count_then_first_mention(title: str, kind: str) -> None:
    assert infer_kind(title) == kind


AMBIGUOUS = ["ViT attention maps", "LoRA fine-tuning of CLIP", "BPE 与注意力", "CLIP ViT LoRA BPE"]


def test_inference_does_not_depend_on_the_hash_seed() -> None:
    code = (
        "from mllm_lab.core.experiments import infer_kind\n"
        f"print([infer_kind(t) for t in {AMBIGUOUS!r}])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed, "PATH": ""},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == repr([infer_kind(t) for t in AMBIGUOUS])


@given(st.text(max_size=60))
def test_any_title_gets_a_kind_the_table_has(title: str) -> None:
    assert infer_kind(title) in NAMES
    assert infer_kind(title) == infer_kind(title)


def test_normalize() -> None:
    assert normalize("ViT 图像块") == "vit图像块"
    assert normalize("Self-Attention：多头") == "self attention多头"
    assert normalize("ＬｏＲＡ") == "lora"
    assert normalize("  a_b/c  ") == "a b c"


def test_mentions_do_not_overlap() -> None:
    assert [kw for _, kw, _ in mentions("multi-head self-attention")] == [
        "multi head",
        "self attention",
    ]
    assert [kw for _, kw, _ in mentions("自注意力")] == ["自注意力"]


def test_the_table() -> None:
    assert NAMES == ("attention", "vit-patch", "clip-loss", "lora", "bpe", "skeleton")
    assert experiments.DEFAULT.name == "skeleton"
    assert len(set(NAMES)) == len(NAMES)
    for kind in KINDS:
        assert kind.template("zh") == f"zh/experiments/{kind.name}.py.j2"
        assert kind.template("en") == f"en/experiments/{kind.name}.py.j2"
        assert kind.summary("zh") and kind.summary("en")
        assert "matplotlib" in kind.modules
        assert ("torch" in kind.modules) == kind.needs_torch
        assert (kind is experiments.SKELETON) == (not kind.keywords)
        assert all(keyword == normalize(keyword) for keyword in kind.keywords), kind.name
        assert all(keyword.isascii() for keyword in kind.keywords_en)
        assert not any(keyword.isascii() for keyword in kind.keywords_zh)
        # a kind's own keywords lead to it
        for keyword in kind.keywords:
            assert infer_kind(keyword) == kind.name, keyword
    assert [kind.name for kind in KINDS if not kind.needs_torch] == ["bpe"]
    with pytest.raises(ValueError, match="unknown language 'fr'; valid: zh, en"):
        KINDS[0].template("fr")


def test_kind_named() -> None:
    assert kind_named("clip-loss") is experiments.CLIP_LOSS
    assert kind_named(" LoRA ") is experiments.LORA
    with pytest.raises(
        ValueError, match="unknown experiment kind 'clip'; valid: attention, vit-patch"
    ):
        kind_named("clip")
