"""ASCII slugs that are stable for a given title: English kept, Chinese transliterated to pinyin."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from mllm_lab.errors import BadInput, OutsideLab
from mllm_lab.patterns import pattern
from mllm_lab.sha import sha1

SLUG_RE = pattern(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
MAX_LEN = 64
_CJK_RANGES = (("\u3400", "\u4dbf"), ("\u4e00", "\u9fff"), ("\uf900", "\ufaff"))


def _has_cjk(text: str) -> bool:
    """A CJK ideograph in `text` (a character class of these ranges takes 3 ms to compile)."""
    return not text.isascii() and any(
        low <= char <= high for char in text for low, high in _CJK_RANGES
    )


_SEPARATORS = pattern(r"[^a-z0-9.]+")
_LONE_DOTS = pattern(r"(?<![a-z0-9])\.|\.(?![a-z0-9])")


PHRASES_FILE = Path(__file__).resolve().parent.parent / "data" / "pinyin-phrases.txt"
CHARS_FILE = Path(__file__).resolve().parent.parent / "data" / "pinyin-chars.txt"
_phrases_loaded = False


def _pinyin(text: str) -> str:
    """The pinyin of each character, polyphones read as pypinyin's phrase dictionary reads
    them in context. That dictionary is 0.2 s to load, so it is loaded only for a title that
    holds one of the few phrases it reads otherwise than character by character (see
    data/pinyin-phrases.txt): every other title comes out the same without it. Nor is
    pypinyin itself imported for those (50 ms, most of it its table of characters): each
    character's reading is looked up in data/pinyin-chars.txt, pypinyin's own readings."""
    by_character = _by_character(text)
    if by_character is not None:
        return by_character
    global _phrases_loaded
    pypinyin = _import_pypinyin()
    if not _phrases_loaded and _needs_phrases(text, pypinyin.__version__):
        from pypinyin.phrases_dict import phrases_dict

        pypinyin.load_phrases_dict(phrases_dict)
        _phrases_loaded = True
    return " ".join(pypinyin.lazy_pinyin(text, errors="default"))


def _by_character(text: str) -> str | None:
    """`text` with each Chinese character read as pypinyin reads it alone, set apart by
    spaces as lazy_pinyin sets its readings apart; None when `text` holds a phrase read
    otherwise in context (or the data files are missing)."""
    version, table, hans = _char_table()
    made_with, phrases, longest = _special_phrases()
    if not table or made_with != version or _holds_phrase(text, phrases, longest):
        return None
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        line = b"\n" + char.encode("utf-8", "surrogatepass")  # UTF-8: no char's is another's start
        at = table.find(line)
        if at >= 0:
            reading = table[at + len(line) : table.find(b"\n", at + 1)].decode("utf-8")
            out.append(f" {reading} ")
        elif _compiled(hans).match(char):  # a Chinese character with no reading: kept
            out.append(f" {char} ")
        else:
            out.append(char)
    return "".join(out)


@lru_cache(maxsize=1)
def _char_table() -> tuple[str, bytes, str]:
    """(pypinyin version, "\n<char><reading>" lines, pypinyin's pattern of a Chinese
    character) from data/pinyin-chars.txt. The lines stay bytes: decoding all 300 KB took
    3 ms of a `lab new concept`. The pattern, a class of many ranges, takes 3 ms to compile:
    only a character with no reading in the table needs it."""
    try:
        data = CHARS_FILE.read_bytes()
    except OSError:
        return "", b"", "(?!)"
    version, pattern, table = data.split(b"\n", 2)
    return (
        version.decode("utf-8").removeprefix("# pypinyin "),
        b"\n" + table,
        pattern.decode("utf-8"),
    )


@lru_cache(maxsize=1)
def _compiled(source: str) -> re.Pattern[str]:
    return re.compile(source)


def char_readings() -> str:
    """What data/pinyin-chars.txt holds: pypinyin's version, its pattern of a Chinese
    character, then each character it reads and the reading lazy_pinyin gives it alone (tests/
    test_core_text.py makes it anew and compares)."""
    import pypinyin
    from pypinyin.constants import RE_HANS
    from pypinyin.pinyin_dict import pinyin_dict

    lines = [
        f"# pypinyin {pypinyin.__version__}",
        RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$"),
    ]
    for code in sorted(pinyin_dict):
        char = chr(code)
        reading = pypinyin.lazy_pinyin(char, errors="default")
        if RE_HANS.match(char) and reading != [char]:
            lines.append(char + reading[0])
    return "\n".join(lines) + "\n"


def _import_pypinyin() -> Any:
    """pypinyin, imported without its phrase dictionary (loaded by _pinyin when needed)."""
    if "pypinyin" not in sys.modules:
        saved = {name: os.environ.get(name) for name in _PYPINYIN_LEAN}
        os.environ.update(_PYPINYIN_LEAN)
        try:
            import pypinyin  # noqa: F401
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return sys.modules["pypinyin"]


_PYPINYIN_LEAN = {"PYPINYIN_NO_PHRASES": "1", "PYPINYIN_NO_DICT_COPY": "1"}


def _needs_phrases(text: str, version: str) -> bool:
    """Whether `text` holds a phrase read otherwise than character by character (always,
    when the list was made from another version of pypinyin)."""
    made_with, phrases, longest = _special_phrases()
    if made_with != version:
        return True
    return _holds_phrase(text, phrases, longest)


def _holds_phrase(text: str, phrases: frozenset[str], longest: int) -> bool:
    return any(
        text[start : start + size] in phrases
        for size in range(2, longest + 1)
        for start in range(len(text) - size + 1)
    )


@lru_cache(maxsize=1)
def _special_phrases() -> tuple[str, frozenset[str], int]:
    """(pypinyin version, phrases, the longest's length) from data/pinyin-phrases.txt."""
    try:
        lines = PHRASES_FILE.read_text("utf-8").split("\n")
    except OSError:
        return "", frozenset(), 0
    phrases = frozenset(line for line in lines[1:] if line)
    return lines[0].removeprefix("# pypinyin "), phrases, max(map(len, phrases), default=0)


def special_phrases() -> list[str]:
    """The phrases pypinyin's phrase dictionary reads otherwise than each character's first
    reading (tones aside): what data/pinyin-phrases.txt lists (tests/test_core_text.py
    makes it anew and compares)."""
    from pypinyin import Style
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    def plain(reading: str) -> str:  # as lazy_pinyin writes it: no tone, ü as v
        return str(convert(reading, Style.NORMAL, True))

    found = []
    for phrase, readings in phrases_dict.items():
        if len(readings) != len(phrase) or any(
            plain(reading[0]) != plain(pinyin_dict.get(ord(char), "").split(",")[0])
            for char, reading in zip(phrase, readings, strict=True)
        ):
            found.append(phrase)
    return sorted(found)


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def slugify(title: str) -> str:
    """`Cross-Attention 在多模态模型中的作用` -> `cross-attention-zai-duo-mo-tai-mo-xing-zhong-de-zuo-yong`.

    The same title always gives the same slug. A title with nothing to transliterate
    (emoji, Arabic…) gets `note-` and a short hash of the title, still stable."""
    text = _pinyin(title) if _has_cjk(title) else title
    text = _ascii(text).lower().replace("'", "")
    text = _SEPARATORS.sub("-", text)
    text = _LONE_DOTS.sub("-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    if len(text) > MAX_LEN:
        text = text[:MAX_LEN].rsplit("-", 1)[0] if "-" in text[:MAX_LEN] else text[:MAX_LEN]
        text = text.strip("-.")
    if not text:
        digest = sha1(title.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        return f"note-{digest}"
    return text


def check_slug(slug: str) -> str:
    """A slug given by the user with --slug: one safe file name, nothing that leaves the lab."""
    if "/" in slug or "\\" in slug or slug.startswith(".") or ".." in slug:
        raise OutsideLab(slug)
    if not SLUG_RE.match(slug):
        raise BadInput("error.bad_slug", value=repr(slug))
    if slug.casefold() in RESERVED:
        raise BadInput("error.slug_reserved", value=repr(slug))
    return slug


# Names a note's file cannot have: walk.py and kinds.kind_of pass over `readme.md` in any case
# (a folder's README), so a note of that name would never be read.
RESERVED = frozenset({"readme"})


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
        words = _key_words(title)[: None if _has_cjk(title) else 3]
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
    while key.casefold() in taken or key.casefold() in RESERVED:
        suffix = f"-{number}"
        key = base[: MAX_KEY - len(suffix)].rstrip("-.") + suffix
        number += 1
    return key


MAX_TITLE = 300  # characters; the longest titles in the catalog are about 120


def title_of(query: str) -> str:
    """A title typed by the user, on one line: runs of spaces and line breaks become one space.
    One with nothing visible in it, or with a control character (a NUL, an escape), is refused:
    written into a heading it would make the note unreadable."""
    if not any(ch.isprintable() and not ch.isspace() for ch in query):
        raise BadInput("error.title_empty")
    from mllm_lab.core.markdown import CONTROL

    control = CONTROL.search(query)
    if control:
        raise BadInput(
            "error.title_control", code=f"U+{ord(control[0]):04X}", position=control.start() + 1
        )
    title = " ".join(query.split())
    if len(title) > MAX_TITLE:
        raise BadInput("error.title_long", n=len(title), most=MAX_TITLE)
    return title
