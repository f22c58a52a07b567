"""The kinds of experiment `lab new experiment` can write, and which one a title asks for.

Each kind is a pair of templates, templates/<lang>/experiments/<name>.py.j2, that renders with the
context of `experiment_context()` into a notebook that runs top to bottom on a CPU on tiny
synthetic data. `infer_kind(title)` picks a kind from the words of a title, in English or Chinese;
a title that names none of them gets the neutral `skeleton`.

Pure: no I/O, no imports beyond the standard library.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from mllm_lab.messages import tr
from mllm_lab.patterns import pattern

LANGS = ("zh", "en")


class ExperimentKind(NamedTuple):
    name: str  # what `--kind` takes, and the template's file name
    keywords_en: tuple[str, ...]  # lower-case words and phrases; matched as whole words
    keywords_zh: tuple[str, ...]  # matched anywhere in the title
    needs_torch: bool  # the notebook imports torch (every notebook imports matplotlib)

    def template(self, lang: str) -> str:
        """The template's name for `mllm_lab.render.render`, relative to templates/."""
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}")
        return f"{lang}/experiments/{self.name}.py.j2"

    def summary(self, lang: str) -> str:
        return tr(f"experiment.{self.name}", lang)

    @property
    def modules(self) -> tuple[str, ...]:
        """The modules the notebook imports beyond the standard library."""
        return ("torch", "matplotlib") if self.needs_torch else ("matplotlib",)

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.keywords_en + self.keywords_zh


ATTENTION = ExperimentKind(
    "attention",
    keywords_en=(
        "attention",
        "self attention",
        "multi head attention",
        "multihead attention",
        "multi head",
        "mha",
        "scaled dot product",
        "sdpa",
        "qkv",
        "transformer",
    ),
    keywords_zh=("注意力", "自注意力", "多头"),
    needs_torch=True,
)
VIT_PATCH = ExperimentKind(
    "vit-patch",
    keywords_en=(
        "vit",
        "vision transformer",
        "patch",
        "patch embedding",
        "patchify",
    ),
    keywords_zh=("图像块", "视觉transformer"),
    needs_torch=True,
)
CLIP_LOSS = ExperimentKind(
    "clip-loss",
    keywords_en=(
        "clip",
        "siglip",
        "contrastive",
        "contrastive loss",
        "infonce",
        "info nce",
        "image text alignment",
        "image text matching",
    ),
    keywords_zh=("对比学习", "对比损失", "图文对齐", "图文匹配"),
    needs_torch=True,
)
LORA = ExperimentKind(
    "lora",
    keywords_en=(
        "lora",
        "qlora",
        "low rank adaptation",
        "low rank adapter",
        "peft",
        "parameter efficient",
    ),
    keywords_zh=("低秩", "参数高效"),
    needs_torch=True,
)
BPE = ExperimentKind(
    "bpe",
    keywords_en=(
        "bpe",
        "byte pair",
        "byte pair encoding",
        "tokenizer",
        "tokeniser",
        "tokenization",
        "tokenisation",
        "subword",
        "wordpiece",
        "sentencepiece",
    ),
    keywords_zh=("分词", "词表", "字节对"),
    needs_torch=False,
)
SKELETON = ExperimentKind(
    "skeleton",
    keywords_en=(),
    keywords_zh=(),
    needs_torch=True,
)

KINDS: tuple[ExperimentKind, ...] = (ATTENTION, VIT_PATCH, CLIP_LOSS, LORA, BPE, SKELETON)
NAMES: tuple[str, ...] = tuple(kind.name for kind in KINDS)
DEFAULT = SKELETON
_BY_NAME = {kind.name: kind for kind in KINDS}


def kind_named(name: str) -> ExperimentKind:
    """The kind `--kind NAME` asks for; ValueError listing the valid names otherwise."""
    try:
        return _BY_NAME[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown experiment kind {name!r}; valid: {', '.join(NAMES)}") from None


# --- inference from a title -----------------------------------------------------------------

_CJK = r"\u2e80-\u9fff\uf900-\ufaff"  # CJK radicals, punctuation, kana, ideographs, compatibility
_SEPARATORS = pattern(r"[\s\-_/·.:,;()\[\]]+")


@lru_cache(maxsize=1)
def _space_next_to_cjk() -> re.Pattern[str]:
    return re.compile(rf"(?<=[{_CJK}]) | (?=[{_CJK}])")  # 3 ms: only for a title that needs it


def normalize(title: str) -> str:
    """The form keywords are matched against: NFKC (full-width to ASCII), case-folded, separators
    as single spaces, and no space beside a CJK character ("ViT 图像块" -> "vit图像块")."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = _SEPARATORS.sub(" ", text).strip()
    return text if text.isascii() else _space_next_to_cjk().sub("", text)


def _pattern(keyword: str) -> str:
    """An ASCII keyword matches as a whole word: no letter or digit on either side, so `lora`
    does not match "exploration" nor `vit` "activity"; one longer than four letters may take a
    plural `s`/`es` ("patches", "tokenizers"), a short acronym may not ("clips" is not CLIP).
    A keyword with CJK characters matches anywhere."""
    word = re.escape(keyword)
    if not keyword.isascii():
        return word
    plural = "(?:e?s)?" if len(keyword) > 4 else ""
    return rf"(?<![a-z0-9]){word}{plural}(?![a-z0-9])"


# Longer keywords first: Python's regex alternation takes the first alternative that matches, so
# at any position the longest keyword wins ("vision transformer" over "transformer").
_KEYWORDS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        ((keyword, kind.name) for kind in KINDS for keyword in kind.keywords),
        key=lambda entry: (-len(entry[0]), entry[0]),
    )
)


@lru_cache(maxsize=1)
def _matcher() -> re.Pattern[str]:
    """One alternation of every keyword (4 ms to compile: made when a title is looked at)."""
    return re.compile(
        "|".join(f"(?P<k{i}>{_pattern(keyword)})" for i, (keyword, _) in enumerate(_KEYWORDS))
    )


def mentions(title: str) -> list[tuple[int, str, str]]:
    """(position, keyword, kind) for each keyword in the normalized title, left to right and not
    overlapping; where several start at one position, the longest."""
    found = []
    for match in _matcher().finditer(normalize(title)):
        group = match.lastgroup
        assert group is not None
        keyword, kind = _KEYWORDS[int(group[1:])]
        found.append((match.start(), keyword, kind))
    return found


def infer_kind(title: str) -> str:
    """The kind a title asks for, by name.

    Rules, in order: the kind with the most keyword mentions wins; on a tie, the kind mentioned
    first in the title; a title that mentions no keyword gets `skeleton`. The result depends only
    on the title.
    """
    score: dict[str, tuple[int, int]] = {}  # kind -> (mentions, -first position)
    for position, _, kind in mentions(title):
        count, first = score.get(kind, (0, -position))
        score[kind] = (count + 1, first)
    if not score:
        return DEFAULT.name
    return max(score, key=lambda kind: score[kind])
