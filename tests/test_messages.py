"""The message catalogs: every name in both languages, with the same parameters, and every name
the code asks for exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

from mllm_lab.messages import catalog

PACKAGE = Path(__file__).resolve().parent.parent / "mllm_lab"


def fields(entry: object) -> set[str]:
    if isinstance(entry, dict):
        return set().union(*(fields(v) for v in entry.values()))
    if isinstance(entry, str):
        return {name for _, name, _, _ in string.Formatter().parse(entry) if name}
    return set()


def test_both_languages_have_the_same_names_and_parameters() -> None:
    zh, en = catalog("zh"), catalog("en")
    assert sorted(set(zh) ^ set(en)) == []
    for name in en:
        assert fields(zh[name]) == fields(en[name]), name
        assert type(zh[name]) is type(en[name]), name


def test_every_literal_name_the_code_asks_for_exists() -> None:
    asked = set()
    pattern = re.compile(
        r"""(?:tr|Msg\.of|Finding\.of\([^,]+,[^,]+,|BadInput|BrokenNote\([^,]+,[^,]+,|LabError)\(?\s*["']([a-z_]+\.[a-z_.-]+)["']"""
    )
    for path in PACKAGE.rglob("*.py"):
        if "messages" in path.parts:
            continue
        asked |= set(pattern.findall(path.read_text("utf-8")))
    missing = sorted(name for name in asked if name not in catalog("en"))
    assert missing == []
    assert len(asked) > 100  # the pattern finds the calls
