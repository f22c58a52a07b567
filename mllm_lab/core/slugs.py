"""ASCII slugs that are stable for a given title: English kept, Chinese transliterated to pinyin."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from mllm_lab.errors import BadInput, OutsideLab

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
MAX_LEN = 64
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SEPARATORS = re.compile(r"[^a-z0-9.]+")
_LONE_DOTS = re.compile(r"(?<![a-z0-9])\.|\.(?![a-z0-9])")


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin  # 0.15 s to import: only when a title holds Chinese

    return " ".join(lazy_pinyin(text, errors="default"))


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def slugify(title: str) -> str:
    """`Cross-Attention 在多模态模型中的作用` -> `cross-attention-zai-duo-mo-tai-mo-xing-zhong-de-zuo-yong`.

    The same title always gives the same slug. A title with nothing to transliterate
    (emoji, Arabic…) gets `note-` and a short hash of the title, still stable."""
    text = _pinyin(title) if _CJK.search(title) else title
    text = _ascii(text).lower().replace("'", "")
    text = _SEPARATORS.sub("-", text)
    text = _LONE_DOTS.sub("-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    if len(text) > MAX_LEN:
        text = text[:MAX_LEN].rsplit("-", 1)[0] if "-" in text[:MAX_LEN] else text[:MAX_LEN]
        text = text.strip("-.")
    if not text:
        digest = hashlib.sha1(title.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return f"note-{digest}"
    return text


def check_slug(slug: str) -> str:
    """A slug given by the user with --slug: one safe file name, nothing that leaves the lab."""
    if "/" in slug or "\\" in slug or slug.startswith(".") or ".." in slug:
        raise OutsideLab(slug)
    if not SLUG_RE.match(slug):
        raise BadInput("error.bad_slug", value=repr(slug))
    return slug


MAX_KEY = 24
# fmt: off
_STOPWORDS = frozenset((
    "a", "an", "the", "of", "for", "with", "on", "in", "to", "and", "or", "via", "from", "by",
    "at", "as", "is", "are", "we", "towards", "toward", "into", "using", "do", "does", "can",
))
# fmt: on


def _key_words(title: str) -> list[str]:
    words = slugify(title).split("-")
    return [word for word in words if word not in _STOPWORDS] or words


def short_key(title: str, taken: set[str]) -> str:
    """A short, unique key (≤ 24 chars): the name before a colon (`BLIP-2: …` -> `blip-2`),
    else the first significant words (`Visual Instruction Tuning` -> `visual-instruction`)."""
    head, colon, _ = title.partition(":")
    base = slugify(head) if colon else ""
    if not base or len(base) > MAX_KEY or base.count("-") > 3 or base.startswith("note-"):
        base = ""
        # pinyin gives one word per syllable: a Chinese title is cut by length alone
        words = _key_words(title)[: None if _CJK.search(title) else 3]
        for word in words:
            longer = f"{base}-{word}" if base else word
            if len(longer) > MAX_KEY:
                break
            base = longer
        base = base or slugify(title)[:MAX_KEY].strip("-.")
    return unique_key(base, taken)


def unique_key(base: str, taken: set[str]) -> str:
    """`base`, or `base-2`, `base-3`… (cut to fit 24 chars): the first not in `taken`
    (casefolded keys)."""
    key, number = base, 2
    while key.casefold() in taken:
        suffix = f"-{number}"
        key = base[: MAX_KEY - len(suffix)].rstrip("-.") + suffix
        number += 1
    return key
