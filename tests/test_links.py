"""Links that work everywhere: every relative link lab writes comes from links.href, which any
file name survives (GFM's parser gives back the very path); `lab check` reads every Markdown
file of the lab, generated or not, and every `related:` entry, and names each problem's line."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import Run, read
from hypothesis import example, given, settings
from hypothesis import strategies as st
from realistic import CONTRASTIVE, LOG, LORA, QFORMER, SINK, build, dead_links, hrefs

from mllm_lab.core import markdown
from mllm_lab.core.check import links as check_links
from mllm_lab.core.labdata import stem
from mllm_lab.core.links import (
    WikiIndex,
    edges,
    encode_path,
    href,
    relative_path,
    resolve_relative,
    without_extension,
)
from mllm_lab.kinds import CONCEPT
from mllm_lab.models import Note
from mllm_lab.tree import walk

# Any file name a file system allows: not empty, no "/" or NUL, not "." or "..".
names = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"), min_size=1
).filter(lambda name: name not in (".", ".."))
folders = st.sampled_from(
    ["notes/fundamentals", "papers", "weekly-log", "notes/多模态 (mine)", "a#b/c d"]
)
writers = st.sampled_from(
    ["reviews/review-2026-11-25.md", "notes/README.md", "papers/README.md", "README.md"]
)


@given(writers, folders, names)
def test_any_file_name_round_trips_through_gfm(writer: str, folder: str, name: str) -> None:
    """encode -> what markdown-it (GitHub's CommonMark) takes as the destination -> unquote
    -> the same path, in a paragraph and in a table cell; lab's own reader agrees."""
    path = f"{folder}/{name}"
    destination = href(writer, path)
    for document in (
        f"see {markdown.link('the note', destination)} here\n",
        f"| a | b |\n|---|---|\n| x | {markdown.link('t|x', destination)} |\n",
    ):
        found = hrefs(document)
        assert len(found) == 1, (document, found)
        back = posixpath.normpath(posixpath.join(posixpath.dirname(writer), unquote(found[0])))
        assert back == path
    written = markdown.links(f"[x]({destination})\n")
    assert [resolve_relative(writer, link.target) for link in written] == [path]


@given(names)
def test_encoded_paths_hold_nothing_markdown_reads_specially(name: str) -> None:
    encoded = encode_path(f"notes/{name}")
    assert all(c.isascii() and (c.isalnum() or c in "-._~/%") for c in encoded)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("reviews/r.md", "notes/fundamentals/Attention Sink (my notes).md",
         "../notes/fundamentals/Attention%20Sink%20%28my%20notes%29.md"),
        ("notes/README.md", "notes/multimodal-arch/Q#Former notes.md",
         "multimodal-arch/Q%23Former%20notes.md"),
        ("weekly-log/2026-W48.md", "notes/vision-language/对比学习.md",
         "../notes/vision-language/%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0.md"),
        ("papers/README.md", "papers/100% a&b?.md", "100%25%20a%26b%3F.md"),
        ("README.md", "papers/blip-2.md", "papers/blip-2.md"),
    ],
)  # fmt: skip
def test_href_examples(source: str, target: str, expected: str) -> None:
    assert href(source, target) == expected
    assert relative_path(source, target) == unquote(expected)


def test_urls_keep_their_reserved_characters_and_lose_what_breaks_a_link() -> None:
    assert markdown.link("w", "https://en.wikipedia.org/wiki/Transformer_(deep learning)") == (
        "[w](<https://en.wikipedia.org/wiki/Transformer_(deep%20learning)>)"
    )
    assert markdown.link("q", "https://x.org/a?b=1&c=%20|d") == "[q](https://x.org/a?b=1&c=%20%7Cd)"


# The link pattern as it was before its runs of plain characters were made possessive: the
# quicker one must find the very same links, texts and targets in any line.
_LINK_ONE_CHARACTER_AT_A_TIME = re.compile(
    r"(?<!\\)!?\[(?P<text>(?:\\.|\[[^\]\n]*\]|[^\[\]\\\n])*)\]"
    r"\((?P<target><(?:\\.|[^<>\\\n])*>|(?:\\.|[^()\s\\]|\((?:\\.|[^()\s\\])*\))+)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)


@settings(max_examples=500)
@given(st.text(alphabet="[]()<>!\\\"' \ta./#\n多", max_size=60))
def test_the_link_pattern_finds_what_it_found_one_character_at_a_time(line: str) -> None:
    def found(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str, str]]:
        return [(m.span(), m["text"], m["target"]) for m in pattern.finditer(line)]

    assert found(markdown._MD_LINK) == found(_LINK_ONE_CHARACTER_AT_A_TIME)


_WIKI_ONE_CHARACTER_AT_A_TIME = re.compile(
    r"\[\[(?P<target>[^\]|#\n]+)(?:#[^\]|\n]*)?(?:\|[^\]\n]*)?\]\]"
)


@settings(max_examples=500)
@given(st.text(alphabet="[]|#\\ \ta.\n多", max_size=60))
def test_the_wiki_link_pattern_finds_what_it_found_with_backtracking(line: str) -> None:
    def found(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], str]]:
        return [(m.span(), m["target"]) for m in pattern.finditer(line)]

    assert found(markdown._WIKI_LINK) == found(_WIKI_ONE_CHARACTER_AT_A_TIME)


_LINK_PIECES = st.sampled_from(
    ["[", "]", "(", ")", "](", "![", "\\", "\\[", "!", "<", ">", '"', "'", " ", "\t", "a", "b.md",
     "[[", "]]", "|", "#", "多", "[x]", "(c)", "[a](b)", "[[n]]", ' "t"', " 't'", " (t)"]
)  # fmt: skip


@settings(max_examples=800)
@given(st.lists(_LINK_PIECES, max_size=40))
@example(['[a](b "t")', " ![c](<d e> 'u')", " [f](g (h)) [i](j (k) )", " [l](<m> (n) x)"])
@example(["\\[a](b) ", "[c\\](d)](e) ", "\\![f](g) ", "[h\\", "](i)"])
def test_a_line_of_many_brackets_gives_the_links_the_pattern_finds(
    pieces: list[str],
) -> None:
    """A line with more than MANY_BRACKETS "[" is walked, not searched with the pattern,
    which took such a line quadratic time: the walk finds the same links, each with the same
    place and target, for any line (here every line is walked)."""
    line = "".join(pieces)
    expected = [(*m.span(), m["target"]) for m in markdown._MD_LINK.finditer(line)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(markdown, "MANY_BRACKETS", -1)
        assert markdown._md_links(line) == expected
    assert markdown._md_links(line) == expected  # as few brackets as it has


@settings(max_examples=800)
@given(st.lists(_LINK_PIECES, max_size=40))
def test_the_wiki_links_found_going_on_where_the_search_stopped_are_the_patterns(
    pieces: list[str],
) -> None:
    """Where a line has more than MANY_BRACKETS "[[" (here every line), the search for wiki
    links goes on from where the pattern stopped looking: it finds what the pattern finds."""
    line = "".join(pieces)
    expected = [m["target"] for m in markdown._WIKI_LINK.finditer(line)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(markdown, "MANY_BRACKETS", -1)
        assert markdown._wiki_links(line) == expected


@settings(max_examples=500)
@given(st.lists(st.sampled_from(["<!--", "-->", "<!-->", "-", "\n", "a", "<", "!"]), max_size=30))
def test_comments_are_taken_out_as_the_comment_pattern_takes_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    pattern = re.compile(r"<!--.*?-->", re.DOTALL)
    assert markdown.without_comments(text) == pattern.sub("", text)
    kept = pattern.sub(lambda m: "\n" * m[0].count("\n"), text)
    assert markdown.without_comments(text, keep_lines=True) == kept


@pytest.mark.parametrize(
    "line",
    [
        "](" + "[[]" * 20000,  # 37 s at 33,000 before the walk
        "](" + "[" * 40000,
        "]] " + "[" * 60000,  # 14 s at 99,000
        "]] " + "[[a#" * 10000,
        "a[" + "<!--" * 10000,  # the comment pattern: 0.4 s at 5,000
        "[a](b (" * 5000 + "[c](d.md)",
    ],
    ids=["text-brackets", "brackets", "wiki-brackets", "wiki-anchors", "comments", "titles"],
)
def test_a_pasted_line_of_link_syntax_is_read_in_one_pass(line: str) -> None:
    """Lines a paste can bring (a minified page, a dump of brackets) that the link patterns
    took seconds to minutes over: their links are found, as on a short line, in one pass."""
    body = f"intro [x](a.md)\n{line}\n[[last]] [y](b.md)\n"
    expected = [("a.md", 1), ("b.md", 3)]
    found = [(link.target, link.line) for link in markdown.links(body) if not link.wiki]
    assert [pair for pair in found if pair[1] != 2] == expected
    assert ("last", 3) in [(link.target, link.line) for link in markdown.links(body) if link.wiki]
    assert [link.target for link in markdown.links(line) if not link.wiki] == (
        ["d.md"] if line.endswith("(d.md)") else []
    )


@settings(max_examples=300)
@given(st.lists(st.sampled_from(["`" * 33, "`" * 34, "`", "[a](b.md)", "y", " "]), max_size=9))
def test_a_line_with_a_long_run_of_backticks_hides_the_links_github_hides(
    pieces: list[str],
) -> None:
    """A run of 33 or more backticks took the code-span pattern cubic time (1,000: 8 s), so
    such a line finds its code spans by CommonMark's rule in one pass: the links it shows are
    those markdown-it renders."""
    from markdown_it import MarkdownIt

    line = "x" + "".join(pieces) + "`" * 33
    shown = MarkdownIt("commonmark").render(line).count('href="b.md"')
    assert [link.target for link in markdown.links(line)] == ["b.md"] * shown


def test_a_line_of_brackets_is_read_as_no_link() -> None:
    """A pasted run of "[" (no "]]", no "](") is no link; such a line of 20,000 took the
    patterns 12 s of backtracking before either was searched only where it can match."""
    body = "[" * 20000 + "\n" + "]] " + "[" * 2000 + "\n[[note]] [a](b.md)\n" + "[x](" * 3000
    body += "\na[" + "`" * 1000
    assert [(link.target, link.line) for link in markdown.links(body)] == [
        ("b.md", 3),
        ("note", 3),
    ]


_FILE_LIKE_AS_IT_WAS = re.compile(r"^[^\[\]]*(?:/|\.[A-Za-z0-9]{1,8}$|^[A-Za-z][A-Za-z0-9+.-]*:)")


def _unrendered_walking_each_opening(line: str, spans: list[tuple[int, int]]) -> list[str]:
    """markdown._unrendered as it was: a walk from each opening to its closing parenthesis."""
    found = []
    for opening in re.finditer(r"(?<!\\)\]\(", line):
        start = opening.end()
        if any(a <= start < b for a, b in spans) or line[start : start + 1] == "<":
            continue
        depth, end = 0, start
        while end < len(line) and (line[end] != ")" or depth):
            depth += {"(": 1, ")": -1}.get(line[end], 0)
            end += 1
        target = line[start:end].strip()
        if end < len(line) and re.search(r"\s", target) and _FILE_LIKE_AS_IT_WAS.search(target):
            found.append(target if len(target) <= 200 else target[:199] + "…")
    return found


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(
            ["[a](", "](", "x/b", "c.md", "http:", "y", " ", "\xa0", "\u3000", "\t", "\x1c", "(",
             ")", "[", "]", "<", "$", '"', "\\"]
        ),
        max_size=24,
    ).map("".join)
)  # fmt: skip
@example('[a](x/b "t c") [d](x/e f) [g](h (i j)/k) [l](m')
@example("[a](x/b) q](x/c) [d](\xa0x/e f\u3000) [g](q r[x/) [h](x/ i")
def test_unrendered_links_are_found_as_by_a_walk_from_each_opening(line: str) -> None:
    spans = [m.span() for m in markdown._MD_LINK.finditer(line)]
    assert [link.target for link in markdown._unrendered(line, 0, spans)] == (
        _unrendered_walking_each_opening(line, spans)
    )


def test_nested_targets_with_a_space_are_each_named_in_a_few_words() -> None:
    """A pasted line of thousands of nested `](a/ b` and their `)`: each target is named
    (cut to 200 characters), not copied whole for each (quadratic memory)."""
    line = "[z]" + "](a/ b" * 20000 + ")" * 20000
    found = markdown.unrendered_links(line)
    assert len(found) == 20000
    assert max(len(link.target) for link in found) == 200
    assert found[-1].target == "a/ b" and found[0].target == ("a/ b](" * 34)[:199] + "…"


def test_a_long_text_is_read_for_links_as_a_short_one_and_not_remembered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A generated index of a big lab is read once for its links: its blocks are not kept
    for the rest of the command, and its links are what the same text gives when kept."""
    body = "".join(f"- [Note {n}](notes/n-{n}.md)\n<!-- c -->\n" for n in range(40))
    kept = markdown.scan_links(body)
    markdown._kept_blocks.cache_clear()
    monkeypatch.setattr(markdown, "KEPT_UP_TO", 100)
    assert markdown.scan_links(body) == kept and len(kept[0]) == 40
    assert markdown._kept_blocks.cache_info().currsize == 0
    monkeypatch.setattr(markdown, "KEPT_UP_TO", len(body))
    assert markdown.sections(body) == markdown.sections(body)
    assert markdown._kept_blocks.cache_info().currsize == 1


def test_what_lab_reads_as_links() -> None:
    body = (
        '[a \\] b](x%20y.md) ![img](pic.png) [t](<my notes.md> "title") [n](a(b).md)\n'
        "[esc](a\\(c.md) [amp](a&amp;b.md) [u](https://x.org/a) [h](#top) [p](q.md#sec)\n"
        "[ref]: ../z.md\n"
        "`[code](no.md)` [[Wiki]]\n"
        "maths: $P[y](x)$ and $$E[x](a)$$; money: $5 or [cost](c.md) $10\n"
    )
    found = [(link.target, link.line, link.wiki) for link in markdown.links(body)]
    assert found == [
        ("x%20y.md", 1, False),
        ("pic.png", 1, False),
        ("my notes.md", 1, False),
        ("a(b).md", 1, False),
        ("a(c.md", 2, False),
        ("a&b.md", 2, False),
        ("q.md", 2, False),
        ("../z.md", 3, False),
        ("Wiki", 4, True),
        ("c.md", 5, False),
    ]
    assert markdown.unrendered_links(body) == []
    raw = (
        "see [x](../notes/Attention Sink (my notes).md) and `[c](a b.md)`\n"
        "maths is not a link: $E[x](a + b)$, nor is E[y](a + b)\n"
    )
    assert [link.target for link in markdown.unrendered_links(raw)] == [
        "../notes/Attention Sink (my notes).md"
    ]


def test_check_links_uses_the_file_set_not_the_disk() -> None:
    detail = {
        "links": [["a b.md", 3, False], ["../x.md", 4, False], ["../../out.md", 5, False]],
        "unrendered": [["c d.md", 6]],
    }
    found = check_links(
        path="notes/n.md",
        found=detail,
        wiki=WikiIndex([]),
        exists={"notes/a b.md", "x.md"}.__contains__,
    )
    assert [(f.line, f.msg.name) for f in found] == [
        (6, "check.link_spaces"),
        (5, "check.link_leaves"),
    ]


def test_the_tree_lists_names_once_and_looks_into_skipped_folders_only_on_demand(
    tmp_path: Path,
) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/a b.md").write_text("x", "utf-8")
    (tmp_path / "node_modules/pkg").mkdir(parents=True)
    (tmp_path / "node_modules/pkg/README.md").write_text("x", "utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/golden.md").write_text("x", "utf-8")
    tree = walk(tmp_path)
    assert tree.exists("notes/a b.md") and tree.exists("notes") and tree.exists("notes/")
    assert "node_modules/pkg/README.md" not in tree.files
    assert tree.exists("node_modules/pkg/README.md")  # skipped, so asked of the disk
    assert not tree.exists("notes/missing.md")
    assert tree.markdown() == ["notes/a b.md"]  # tests/ is not one of the lab's folders


# --- on a realistic lab ----------------------------------------------------------------------


@pytest.fixture
def real(in_lab: Run, lab: Path) -> Path:
    return build(in_lab, lab)


def test_every_link_lab_writes_leads_to_its_file(in_lab: Run, real: Path) -> None:
    assert in_lab(
        "new", "concept", "Sink 与 Q#Former", "-c", "fundamentals", "--tags", "attention",
        "--related", f"{SINK},{QFORMER},{CONTRASTIVE}",
    ).ok  # fmt: skip
    assert in_lab("review", "--seed", "3").ok
    assert in_lab("weekly").ok
    written = [
        "notes/README.md",
        "papers/README.md",
        "README.md",
        LOG,
        "reviews/review-2026-11-25.md",
        "notes/fundamentals/sink-yu-q-former.md",
    ]
    for relative in written:
        assert dead_links(real, relative) == [], relative
    index = hrefs(read(real / "notes/README.md"))
    assert "fundamentals/Attention%20Sink%20%28my%20notes%29.md" in index
    assert "multimodal-arch/Q%23Former%20notes.md" in index  # not an anchor
    assert "vision-language/%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0.md" in index
    assert "training/100%25%20LoRA%20%26%20QLoRA.md" in index
    new = hrefs(read(real / "notes/fundamentals/sink-yu-q-former.md"))
    assert new[:3] == [
        "Attention%20Sink%20%28my%20notes%29.md",
        "../multimodal-arch/Q%23Former%20notes.md",
        "../vision-language/%E5%AF%B9%E6%AF%94%E5%AD%A6%E4%B9%A0.md",
    ]
    assert in_lab("check").out.count("链接") == 0  # no link problem anywhere


def test_check_reads_every_markdown_file_and_related_entries(in_lab: Run, real: Path) -> None:
    quiet = in_lab("check")
    assert "链接" not in quiet.out and "related" not in quiet.out, quiet
    resources = real / "resources/awesome-mllm.md"
    resources.write_text(read(resources) + "\n- [我的清单](../notes/no-such.md)\n", "utf-8")
    resource_line = read(resources).count("\n")
    readme = real / "README.md"
    readme.write_text("见 [笔记](notes/gone%20away.md)\n" + read(readme), "utf-8")
    note = real / CONTRASTIVE
    note.write_text(
        read(note).replace("- papers/clip.md\n", "- papers/clip.md\n- notes/nowhere.md\n")
        + "\n[坏链接](../fundamentals/Attention Sink (my notes).md)\n",
        "utf-8",
    )
    note_lines = read(note).split("\n")
    related_line = note_lines.index("- notes/nowhere.md") + 1
    raw_line = len(note_lines) - 1
    (real / "experiments/scripts").mkdir(parents=True, exist_ok=True)
    (real / "experiments/scripts/x.py").write_text("print()\n", "utf-8")
    sink = real / SINK
    sink.write_text(read(sink) + "\n[脚本](../../experiments/scripts/x.py) [目录](../)\n", "utf-8")
    result = in_lab("check")
    assert result.code == 1
    lines = result.out.splitlines()
    expected = [
        f"resources/awesome-mllm.md:{resource_line}: 失效的链接 `../notes/no-such.md`（notes/no-such.md 不存在）",
        "README.md:1: 失效的链接 `notes/gone%20away.md`（notes/gone away.md 不存在）",
        f"{CONTRASTIVE}:{related_line}: `related:` 中的 `notes/nowhere.md` 找不到对应的文件（notes/nowhere.md 不存在，相对这篇笔记所在的目录也不存在）",
        f"{CONTRASTIVE}:{raw_line}: `../fundamentals/Attention Sink (my notes).md` 在 GitHub 上不是链接：链接目标里的空格要写成 %20，或把目标写在 <…> 里",
    ]
    for line in expected:
        assert line in lines, (line, lines)
    assert not any(SINK in line and "链接" in line for line in lines)  # a script, a folder
    data = json.loads(in_lab("check", "--json").out)
    assert {"path": "README.md", "line": 1} in [{k: d[k] for k in ("path", "line")} for d in data]


def test_a_deleted_note_breaks_the_index_until_sync(in_lab: Run, real: Path) -> None:
    (real / LORA).unlink()
    result = in_lab("check")
    assert result.code == 1
    assert any(
        line.startswith("notes/README.md:") and "100%25%20LoRA" in line
        for line in result.out.splitlines()
    ), result.out
    assert in_lab("sync").ok
    assert "100%25" not in in_lab("check").out


@pytest.mark.slow
def test_real_process_checks_links(sh, real: Path) -> None:  # type: ignore[no-untyped-def]
    (real / "notes/fundamentals/broken.md").write_text(
        "---\ntitle: Broken\ncategory: fundamentals\ncreated: 2026-11-25\n---\n\n[x](missing%20note.md)\n",
        "utf-8",
    )
    done = sh("check", cwd=real)
    assert done.returncode == 1
    assert (
        "notes/fundamentals/broken.md:7: 失效的链接 `missing%20note.md`（notes/fundamentals/missing note.md 不存在）"
        in done.stdout
    )
    assert "Traceback" not in done.stderr


def test_a_related_entry_naming_a_file_with_a_percent_in_its_name_is_not_broken(
    in_lab: Run, lab: Path
) -> None:
    for name in ("p%20q.md", "50%25.md"):
        (lab / "notes/training" / name).write_text(
            "---\ntitle: T\ncategory: training\ncreated: 2026-11-25\n---\n# T\n", "utf-8"
        )
    assert in_lab(
        "new", "concept", "Zeta", "-c", "training",
        "--related", "notes/training/p%20q.md,notes/training/50%25.md",
    ).ok  # fmt: skip
    assert "related" not in in_lab("check").out
    note = lab / "notes/training/zeta.md"
    note.write_text(
        read(note).replace("notes/training/p%20q.md", "notes/training/nope.md"), "utf-8"
    )
    assert "notes/training/nope.md" in in_lab("check").out


def test_a_link_with_a_query_string_names_the_file_before_it(in_lab: Run, lab: Path) -> None:
    (lab / "resources/guide.md").write_text(
        "# guide\n\n[plain](../README.md?plain=1) [gone](missing.md?plain=1#top)\n", "utf-8"
    )
    found = in_lab("check").out
    assert "README.md?plain" not in found
    assert "resources/guide.md:3:" in found and "missing.md" in found


def test_a_title_with_backslashes_renders_as_written_in_the_views(in_lab: Run, lab: Path) -> None:
    from markdown_it import MarkdownIt

    assert in_lab("new", "concept", "Paths in C:\\", "-c", "fundamentals").ok
    assert in_lab("add", "paper", "Escapes \\* and \\_", "--new").ok
    index = MarkdownIt("commonmark").enable("table").render(read(lab / "notes/README.md"))
    assert '<a href="fundamentals/paths-in-c.md">Paths in C:\\</a>' in index
    table = MarkdownIt("commonmark").enable("table").render(read(lab / "papers/README.md"))
    assert "Escapes \\* and \\_" in table


def test_an_unreadable_markdown_file_is_reported_not_skipped(in_lab: Run, lab: Path) -> None:
    (lab / "resources/latin1.md").write_bytes("# caf\xe9\n\n[x](nope.md)\n".encode("latin-1"))
    found = in_lab("check")
    assert found.code == 1
    assert "resources/latin1.md:1:" in found.out and "UTF-8" in found.out


@given(st.text(alphabet="./aß ", max_size=10).map(lambda tail: f"notes/{tail}"))
def test_a_path_without_its_extension_as_posixpath_and_the_index_cut_it(path: str) -> None:
    base = without_extension(path)
    assert base == posixpath.splitext(path)[0]
    assert base[base.rfind("/") + 1 :] == stem(path)


NAMES = st.sampled_from(["Self-Attention", "self-attention", "ß", "SS", "a.b", "a", " a ", "x.md"])


@settings(max_examples=200, deadline=None)
@given(
    titles=st.lists(st.one_of(NAMES, st.text(max_size=6)), max_size=8),
    targets=st.lists(st.one_of(NAMES, st.text(max_size=6)), min_size=1, max_size=8),
)
def test_a_wiki_link_looked_up_by_going_through_the_notes_finds_what_the_table_finds(
    titles: list[str], targets: list[str]
) -> None:
    """The first links are resolved by a pass over the notes, later ones by the table of every
    name: the same answers either way (titles, file names, paths, with and without `.md`)."""
    notes = [
        Note(
            path=f"notes/fundamentals/{name or 'n'}-{n}.md".replace(" ", "-"),
            kind=CONCEPT,
            title=title,
        )
        for n, (name, title) in enumerate(
            zip(["a", "a.b", "self-attention", "ß"] * 2, titles, strict=False)
        )
    ]
    targets += [note.path for note in notes[:1]] + [note.path[:-3] for note in notes[1:2]]
    scanned, tabled = WikiIndex(notes), WikiIndex(notes)
    assert tabled.names is not None  # the table made before any lookup
    assert [scanned.resolve(t) for t in targets] == [tabled.resolve(t) for t in targets]
    together = WikiIndex(notes).resolve_all(targets)  # one pass for all of them
    assert together == {t: tabled.resolve(t) for t in targets}


FOLDED = st.text(alphabet="aAßSsİi̇ΣσςKK. -/é", max_size=6)


@settings(max_examples=400, deadline=None)
@given(
    names=st.lists(st.tuples(FOLDED, FOLDED, st.sampled_from([".md", ".MD", ""])), max_size=6),
    keys=st.lists(FOLDED, max_size=4),
    also=st.lists(st.integers(0, 5), max_size=3),
)
def test_the_pass_for_a_few_links_finds_each_key_every_note_has(
    names: list[tuple[str, str, str]], keys: list[str], also: list[int]
) -> None:
    """WikiIndex._scan skips the keys made of a note's path when its casefolded path holds
    none of the keys looked up: what it finds is what matching every key of every note
    finds, whatever the case folding does (ß, İ, the Kelvin sign, a final sigma)."""
    notes = [
        Note(path=f"notes/{folder}/{name}{ext}", kind=CONCEPT, title=name.upper() or "t")
        for folder, name, ext in names
    ]
    wanted = set(keys)
    for at in also:  # keys that notes do have: their titles, names, paths
        if at < len(notes):
            wanted |= set(WikiIndex._keys(notes[at]))
    every: dict[str, set[str]] = {}
    for note in notes:
        for key in WikiIndex._keys(note):
            if key in wanted:
                every.setdefault(key, set()).add(note.path)
    assert WikiIndex(notes)._scan(wanted) == every


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet="ab/.-é", max_size=5), st.lists(st.text(alphabet="ab/.-é", max_size=5))
    )
)
def test_the_links_between_notes_are_each_pair_once_in_order(
    pointed: dict[str, list[str]],
) -> None:
    """edges() gives every (note, target) pair once, sorted as the pairs themselves sort
    (it sorts a note at a time)."""
    assert edges(pointed) == sorted({(p, t) for p, found in pointed.items() for t in found})


@given(
    st.text(st.sampled_from("ab/. "), max_size=10),
    st.text(st.sampled_from("ab/.%2 #"), max_size=10),
)
def test_a_link_resolves_as_joining_it_to_its_files_folder_would(path: str, target: str) -> None:
    """The links of one folder's notes are resolved once for them all (by the folder as the
    file's path spells it): each resolves as posixpath would, for any spelling of the path."""
    expected = posixpath.normpath(
        posixpath.join(posixpath.dirname(path), unquote(target.strip(), errors="surrogateescape"))
    )
    assert resolve_relative(path, target) == expected
