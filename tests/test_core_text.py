"""Unit and property tests of the pure core: slugs, weeks, Markdown escaping, Mermaid."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mllm_lab.core import markdown
from mllm_lab.core.slugs import SLUG_RE, check_slug, slugify
from mllm_lab.core.weeks import parse_week, pick_week
from mllm_lab.errors import BadInput, OutsideLab
from mllm_lab.models import Week


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("BLIP-2", "blip-2"),
        ("Attention Is All You Need", "attention-is-all-you-need"),
        ("LLaVA 1.5: Improved Baselines", "llava-1.5-improved-baselines"),
        ("Qwen2.5-VL Technical Report", "qwen2.5-vl-technical-report"),
        (
            "Cross-Attention 在多模态模型中的作用",
            "cross-attention-zai-duo-mo-tai-mo-xing-zhong-de-zuo-yong",
        ),
        ("位置编码", "wei-zhi-bian-ma"),
        ("Café à la “RoPE”", "cafe-a-la-rope"),
        ("  --weird__spacing--  ", "weird-spacing"),
        ("π0: a VLA", "0-a-vla"),
    ],
)
def test_slug_of_english_and_chinese_titles(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slug_of_untransliterable_title_is_stable_hash() -> None:
    assert slugify("🙂🙂") == slugify("🙂🙂")
    assert re.fullmatch(r"note-[0-9a-f]{8}", slugify("🙂🙂"))
    assert slugify("🙂🙂") != slugify("🚀")


@given(st.text(max_size=200))
def test_any_title_gives_a_safe_stable_ascii_slug(title: str) -> None:
    slug = slugify(title)
    assert SLUG_RE.match(slug), slug
    assert slug.isascii() and len(slug) <= 64
    assert ".." not in slug and "/" not in slug
    assert slugify(title) == slug


@pytest.mark.parametrize(
    "bad", ["../x", "a/b", "/etc/passwd", ".hidden", "UPPER", "a b", "", "x..y"]
)
def test_user_slugs_that_leave_the_lab_or_are_not_slugs_are_refused(bad: str) -> None:
    with pytest.raises((BadInput, OutsideLab)):
        check_slug(bad)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 1), "2026-W53"),
        (date(2024, 12, 30), "2025-W01"),
        (date(2026, 11, 25), "2026-W48"),
        (date(2021, 1, 3), "2020-W53"),
        (date(2026, 1, 1), "2026-W01"),
    ],
)
def test_weeks_are_named_by_iso_year(day: date, name: str) -> None:
    assert Week.of(day).name == name
    assert Week.of(day).contains(day)
    assert parse_week(name) == Week.of(day)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_every_day_lies_in_the_week_named_for_it(day: date) -> None:
    week = Week.of(day)
    assert week.monday <= day <= week.sunday
    assert week.sunday - week.monday == timedelta(days=6)
    assert parse_week(week.name) == week


@given(st.dates(), st.dates())
def test_weeks_are_values(one: date, other: date) -> None:
    """Equal weeks are one key of a dict or a set; a week is never any other value, and at
    the ends of the calendar it says it is not valid instead of failing."""
    a, b = Week.of(one), Week.of(other)
    assert (a == b) == (a.name == b.name) == (hash(a) == hash(b) and a.name == b.name)
    assert len({a, b, Week.of(one)}) == (1 if a == b else 2)
    assert a != (a.year, a.number) and a != a.name
    assert eval(repr(a), {"Week": Week}) == a
    assert a.contains(one) and not a.contains(None)


def test_a_week_past_the_calendar_is_not_valid() -> None:
    assert not Week(9999, 52).valid()  # its Sunday would be 10000-01-02
    assert Week(9999, 51).valid()
    assert not Week(1, 0).valid() and Week(1, 1).valid()


@pytest.mark.parametrize("bad", ["2026-W54", "2025-W53", "2026W00", "26-W01", "week 3", ""])
def test_malformed_or_missing_weeks_are_refused(bad: str) -> None:
    with pytest.raises(BadInput):
        parse_week(bad)


def test_week_and_date_are_exclusive_and_dates_are_checked() -> None:
    with pytest.raises(BadInput):
        pick_week("2026-W01", "2026-01-01", date(2026, 1, 1))
    with pytest.raises(BadInput, match="YYYY-MM-DD"):
        pick_week(None, "2026-13-01", date(2026, 1, 1))
    assert pick_week(None, None, date(2027, 1, 1)).name == "2026-W53"


@given(st.text())
@example("&amp; and &lt;b&gt; as written")  # entities must survive as text
@example("a&#124;b")
@example("a|b")
@example("a<b>c")
@example("x\\y")
@example("line\nbreak")
@example("cr\ronly")
@example("bell\x07")
@example("C:\\path\\ \\| x")
@example("<br> line\r\nbreak\x1b[31m")
def test_table_cell_escaping_round_trips_and_never_breaks_a_row(text: str) -> None:
    cell = markdown.escape_cell(text)
    assert "|" not in cell and "\n" not in cell and "\r" not in cell and "\x00" not in cell
    assert not set(cell.replace("<br>", "")) & set("<>\\")  # no tag, no escape can act
    shown = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "\ufffd", text)  # as GitHub shows them
    assert markdown.unescape_cell(cell) == shown
    assert markdown.split_row(markdown.row(["a", cell, "b"])) == ["a", cell.strip(" \t"), "b"]


def test_link_text_with_brackets_and_targets_with_parentheses() -> None:
    assert markdown.link("A [x] | y", "a b.md") == "[A \\[x\\] &#124; y](a%20b.md)"
    assert markdown.link("GPT-4V", "https://x/y_(z).pdf") == "[GPT-4V](<https://x/y_(z).pdf>)"
    assert markdown.link("t", None) == "t"


def test_sections_skip_fenced_code_and_know_empty_ones() -> None:
    body = "# T\n\n## A\n<!-- guide -->\n\n## B\n```python\n# not a heading\n```\ntext\n"
    found = markdown.sections(body)
    assert [(s.level, s.title, s.line) for s in found] == [(1, "T", 1), (2, "A", 3), (2, "B", 6)]
    assert markdown.section_signature(found[1].content, "T") == ""  # only a comment: unwritten
    assert markdown.section_signature(found[2].content, "T") != ""


def test_a_sections_fingerprint_is_the_same_in_every_process() -> None:
    """The title "C#" is part of its Mermaid label "C#35;": the two spellings were masked in
    the order of a set of strings, which hash randomisation changes from process to process,
    so a section holding the label had one fingerprint in one `lab` and another in the next
    (and the stored details called it written or not by chance)."""
    import subprocess
    import sys

    code = (
        "from mllm_lab.core.markdown import section_signature as s, mermaid_label as m;"
        "print(s('flowchart LR\\n  a[' + m('C#') + '] --> b[x]\\n', 'C#'))"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(12)
    }
    assert len(seen) == 1
    masked = markdown.section_signature('flowchart LR\n  a["\x00"] --> b[x]\n', "")
    assert seen == {masked + "\n"}


def test_links_relative_and_wiki_with_lines() -> None:
    body = "see [a](../a.md) and [web](https://x.org)\n`[code](no.md)`\n[[Self Attention|alias]] [b](<b c.md#part>)\n"
    assert [(link.target, link.line, link.wiki) for link in markdown.links(body)] == [
        ("../a.md", 1, False),
        ("b c.md", 3, False),
        ("Self Attention", 3, True),
    ]


@given(st.text(min_size=1))
def test_mermaid_ids_are_plain_and_labels_are_quoted_safely(text: str) -> None:
    node = markdown.mermaid_id(text)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", node)
    label = markdown.mermaid_label(text)
    inner = label[1:-1]
    assert label.startswith('"') and label.endswith('"')
    assert '"' not in inner and "\n" not in inner and "<" not in inner and "`" not in inner


def test_mermaid_label_of_chinese_quotes_and_parentheses() -> None:
    assert (
        markdown.mermaid_label('Q-Former（桥接） "x" (y)') == '"Q-Former（桥接） #quot;x#quot; (y)"'
    )
    assert markdown.mermaid_id("Q-Former（桥接）") != markdown.mermaid_id("Q-Former")


def test_the_list_of_phrases_read_in_context_is_made_from_the_installed_pypinyin() -> None:
    import pypinyin

    from mllm_lab.core.slugs import PHRASES_FILE, special_phrases

    lines = PHRASES_FILE.read_text("utf-8").split("\n")
    assert lines[0] == f"# pypinyin {pypinyin.__version__}"
    assert [line for line in lines[1:] if line] == special_phrases()
    assert "重新" in lines and slugify("重新训练 LoRA") == "chong-xin-xun-lian-lora"
    assert slugify("鸭绿江") == "ya-lu-jiang"  # lǜ is lv, not lu: a reading of its own


def test_every_phrase_left_off_the_list_reads_as_its_characters_do() -> None:
    """The list's promise, checked against pypinyin itself: each phrase of its dictionary that
    is not listed reads, with the dictionary, as its characters read one by one."""
    from pypinyin import lazy_pinyin
    from pypinyin.phrases_dict import phrases_dict

    from mllm_lab.core.slugs import PHRASES_FILE

    listed = set(PHRASES_FILE.read_text("utf-8").split("\n")[1:])
    differ = [
        phrase
        for phrase in phrases_dict
        if phrase not in listed and lazy_pinyin(phrase) != [lazy_pinyin(c)[0] for c in phrase]
    ]
    assert differ == []


def test_titles_without_those_phrases_are_read_the_same_without_the_phrase_dictionary() -> None:
    """A fresh process slugs titles made of ordinary phrases and polyphones without loading
    pypinyin's phrase dictionary, and gets what the dictionary gives."""
    import json
    import random
    import subprocess
    import sys

    from pypinyin import load_phrases_dict, pinyin
    from pypinyin.phrases_dict import phrases_dict

    from mllm_lab.core.slugs import PHRASES_FILE

    load_phrases_dict(phrases_dict)
    special = set(PHRASES_FILE.read_text("utf-8").split("\n")[1:])
    ordinary = sorted(set(phrases_dict) - special)
    rng = random.Random(7)
    titles = []
    while len(titles) < 400:
        parts = rng.choices([*rng.sample(ordinary, 6), "的", "注意", "长度", "LoRA ", " "], k=3)
        title = "".join(parts)
        if not any(phrase in title for phrase in special if phrase):
            titles.append(title)
    script = (
        "import json, sys\n"
        "from mllm_lab.core.slugs import slugify\n"
        "slugs = [slugify(t) for t in json.loads(sys.stdin.read())]\n"
        "print(json.dumps([slugs, 'pypinyin.phrases_dict' in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=json.dumps(titles), capture_output=True, text=True
    )
    slugs, loaded = json.loads(done.stdout)
    assert not loaded
    with_dictionary = [slugify(" ".join(p[0] for p in pinyin(t, style=0))) for t in titles]
    assert slugs == with_dictionary


def test_the_table_of_readings_is_made_from_the_installed_pypinyin() -> None:
    from mllm_lab.core.slugs import CHARS_FILE, char_readings

    assert CHARS_FILE.read_text("utf-8") == char_readings()


def _slug_by_pypinyin(title: str) -> str:
    from unittest import mock

    from mllm_lab.core import slugs

    with mock.patch.object(slugs, "_by_character", lambda text: None):
        return slugify(title)


def test_characters_are_slugged_as_pypinyin_slugs_them() -> None:
    """Every seventh character the table reads (the table itself is checked against pypinyin
    character by character above), set between letters and dots."""
    from mllm_lab.core.slugs import CHARS_FILE

    chars = [line[0] for line in CHARS_FILE.read_text("utf-8").split("\n")[2:] if line]
    assert len(chars) > 40000
    titles = [f"a{char}b.{char}" for char in chars[::7]]
    assert [slugify(t) for t in titles] == [_slug_by_pypinyin(t) for t in titles]


_title_parts = st.sampled_from(
    [
        "概念",
        "重新",
        "的",
        "长",
        "鸭绿江",
        "〇",
        "\ue815",
        "\u3402",  # a Chinese character pypinyin has no reading for
        "\U00020000",
        "𠀀",
        "ǘ",
        "é",
        "·",
        "v1.",
        " ",
        ".",
        "-",
        "LoRA",
        "中文标题",
        "朝",
        "好",
        "行",
        "\u9fff",
        "\u4dbf",
        "\udcff",  # a byte of an argument that is not UTF-8, as Python decodes argv
    ]
)


@settings(max_examples=200)
@given(parts=st.lists(_title_parts, min_size=1, max_size=8))
@example(parts=["LoRA", "\u3402", "LoRA"])
@example(parts=["概念", "\udcff"])
def test_a_title_is_slugged_as_pypinyin_slugs_it(parts: list[str]) -> None:
    title = "".join(parts)
    assert slugify(title) == _slug_by_pypinyin(title)


def test_an_ordinary_chinese_title_is_slugged_without_importing_pypinyin() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from mllm_lab.core.slugs import slugify\n"
        "print(slugify('Bench 概念 笔记 v1.2'), 'pypinyin' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["bench-gai-nian-bi-ji-v1.2", "False"], done.stderr


@given(st.text(alphabet="ab./-_ 注", max_size=12))
def test_a_notes_name_is_its_file_name_without_the_extension(path: str) -> None:
    import posixpath

    from mllm_lab.core.labdata import stem

    assert stem(path) == posixpath.splitext(posixpath.basename(path))[0]


_QUESTION_LINES = st.sampled_from(
    [
        "- [ ] 读懂 Q-Former 的查询数",
        "* [ ] why 32 queries",
        "- [x] done already",
        "TODO: 推导 softmax 的梯度",
        "这里没看懂 ❓",
        "<!-- TODO in a comment -->",
        "```",
        "- [ ] in code, if a fence is open",
        "plain prose",
        "",
        "## 疑问",
    ]
)


@settings(max_examples=300)
@given(st.lists(_QUESTION_LINES, max_size=10))
@example(["- [ ] only a task, no marker word"])
@example(["<!-- 卡住 -->", "prose"])
def test_open_questions_are_the_lines_the_pattern_matches_outside_code_and_comments(
    lines: list[str],
) -> None:
    """An unticked task or a line with a marker word, outside comments and code: what the
    quick look at the whole body (no task, no marker: nothing) must never skip."""
    body = "\n".join(lines)
    parsed = markdown._blanked(body)
    expected = []
    for index, line in enumerate(parsed.lines):
        match = markdown._QUESTION.match(line) if parsed.is_text(index) else None
        text = (match["task"] or match["any"] or "").strip().lstrip("-*+ ").strip() if match else ""
        if text:
            expected.append((index + 1, text[:200]))
    assert markdown.open_questions(body) == expected
    if "- [ ] only a task, no marker word" in lines[:1]:
        assert expected == [(1, "only a task, no marker word")]


_URL_PIECES = st.text(
    alphabet=st.sampled_from(list("aZ09_.~-/:?#[]@!$&'*+,;=%() <>|\"\\`^{}\n中é\udcff")),
    max_size=12,
)


@settings(max_examples=400)
@given(_URL_PIECES)
@example("notes/fundamentals/a b.md")
@example("https://arxiv.org/abs/2301.12597")
def test_paths_and_urls_are_encoded_as_quote_encodes_them(text: str) -> None:
    """Most paths and URLs need no encoding and skip quote(): the result is the same."""
    from urllib.parse import quote

    from mllm_lab.core.links import encode_path

    assert encode_path(text) == quote(text, safe="/", errors="surrogateescape")
    expected = quote(text, safe=markdown._URL_SAFE, errors="surrogateescape")
    if expected:
        wrapped = f"<{expected}>" if "(" in expected or ")" in expected else expected
        assert markdown.link("t", text) == f"[t]({wrapped})"
