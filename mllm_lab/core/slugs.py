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
