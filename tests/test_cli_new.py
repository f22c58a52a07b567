"""`lab new paper|concept|experiment`: files, frontmatter, catalog facts, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from conftest import Run, read, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllm_lab.core import fm

CONTROL = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127])


def link_target(relative: str) -> str:
    return relative.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def meta(path: Path) -> dict:
    return fm.parse(read(path), str(path)).meta


def test_new_paper_from_catalog_fills_facts_and_starts_reading(in_lab: Run, lab: Path) -> None:
    result = in_lab("new", "paper", "blip-2")
    assert result.ok, result
    assert result.out.strip() == "papers/blip-2.md"
    data = meta(lab / "papers/blip-2.md")
    assert data["title"].startswith("BLIP-2: Bootstrapping")
    assert (data["arxiv"], data["year"], data["venue"], data["stage"], data["topic"]) == (
        "2301.12597",
        2023,
        "ICML 2023",
        3,
        "multimodal",
    )
    assert (
        data["status"] == "reading"
        and str(data["started"]) == "2026-11-25"
        and data["finished"] is None
    )
    assert list(data) == [
        "key",
        "title",
        "authors",
        "year",
        "venue",
        "arxiv",
        "url",
        "topic",
        "stage",
        "tags",
        "vision_encoder",
        "connector",
        "llm",
        "resolution",
        "status",
        "created",
        "started",
        "finished",
        "history",
    ]
    assert data["history"] == ["2026-11-25 reading"]
    assert (data["connector"], data["resolution"]) == ("Q-Former", "224")
    text = read(lab / "papers/blip-2.md")
    assert "```mermaid" in text and "## 个人评价" in text and "arXiv:2301.12597" in text
    table = read(lab / "papers/README.md")
    assert "| 📖 | blip-2 | [BLIP-2: Bootstrapping" in table and "(blip-2.md)" in table
    assert "key: blip-2" not in read(
        lab / "papers/reading-list.yaml"
    )  # its status moved into the note


@pytest.mark.parametrize(
    "query",
    [
        "2301.12597",
        "BLIP2",
        "BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and Large Language Models",
    ],
)
def test_new_paper_matches_catalog_by_arxiv_or_title(in_lab: Run, lab: Path, query: str) -> None:
    assert in_lab("new", "paper", query).ok
    assert meta(lab / "papers/blip-2.md")["key"] == "blip-2"


def test_new_paper_not_in_catalog_works_from_flags_and_joins_reading_list(
    in_lab: Run, lab: Path
) -> None:
    result = in_lab(
        "new",
        "paper",
        'My Fancy VLM: "x" | y',
        "--arxiv",
        "2401.00001",
        "--year",
        "2024",
        "--authors",
        "A. One, B. Two",
        "--topic",
        "multimodal",
        "--tags",
        "vlm,moe",
    )
    assert result.ok, result
    path = lab / "papers/my-fancy-vlm.md"
    data = meta(path)
    assert data["title"] == 'My Fancy VLM: "x" | y'
    assert data["authors"] == ["A. One", "B. Two"] and data["tags"] == ["vlm", "moe"]
    assert data["url"] == "https://arxiv.org/abs/2401.00001" and data["stage"] == 3
    assert '| 📖 | my-fancy-vlm | [My Fancy VLM: "x" &#124; y](my-fancy-vlm.md) | 2024 |' in read(
        lab / "papers/README.md"
    )


def test_existing_note_is_never_overwritten_without_force(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    path = lab / "papers/blip-2.md"
    path.write_text(read(path) + "\nmy precious words\n", "utf-8")
    before = tree(lab)
    result = in_lab("new", "paper", "blip-2")
    assert result.code == 1 and "papers/blip-2.md" in result.err and "--force" in result.err
    assert tree(lab) == before
    assert in_lab("new", "paper", "blip-2", "--force").ok
    assert "my precious words" not in read(path)


def test_dry_run_prints_and_writes_nothing(in_lab: Run, lab: Path) -> None:
    before = tree(lab)
    result = in_lab("new", "paper", "lora", "--dry-run")
    assert result.ok
    assert result.out.startswith("---\nkey: lora\n") and "papers/lora.md" in result.err
    assert tree(lab) == before


def test_new_concept_links_related_notes(in_lab: Run, lab: Path) -> None:
    assert in_lab(
        "new", "concept", "Self-Attention", "-c", "fundamentals", "--tags", "attention"
    ).ok
    assert in_lab("new", "paper", "transformer", "--tags", "attention").ok
    result = in_lab(
        "new",
        "concept",
        "Cross-Attention 在多模态模型中的作用",
        "-c",
        "multimodal-arch",
        "--tags",
        "attention,fusion",
    )
    assert result.ok
    path = lab / "notes/multimodal-arch/cross-attention-zai-duo-mo-tai-mo-xing-zhong-de-zuo-yong.md"
    assert result.out.strip() == path.relative_to(lab).as_posix()
    text = read(path)
    assert "- [Self-Attention](../fundamentals/self-attention.md)" in text
    assert "- [Attention Is All You Need](../../papers/transformer.md)" in text
    data = meta(path)
    assert (
        data["category"] == "multimodal-arch"
        and data["stage"] == 3
        and data["tags"] == ["attention", "fusion"]
    )
    assert "notes/fundamentals/self-attention.md" in data["related"]
    for part in [
        "## 直觉理解",
        "## 正式定义与数学表达",
        "## 具体例子",
        "```mermaid",
        "## 常见误区",
        "## 面试口述版",
    ]:
        assert part in text
    index = read(lab / "notes/README.md")
    assert "1. [Self-Attention](fundamentals/self-attention.md)" in index
    assert "2. [Cross-Attention 在多模态模型中的作用](multimodal-arch/" in index


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-c", "bogus"],
            "未知的类别 'bogus'；可选：fundamentals, vision-language, multimodal-arch, training, applications",
        ),
        (["-c", "../../etc"], "已拒绝，这个路径会离开 lab"),
        (["-c", "training", "--slug", "../../x"], "已拒绝，这个路径会离开 lab"),
        (["-c", "training", "--slug", "/tmp/x"], "已拒绝，这个路径会离开 lab"),
    ],
)
def test_bad_concept_input_is_refused_in_one_line(
    in_lab: Run, lab: Path, args: list[str], message: str
) -> None:
    before = tree(lab)
    result = in_lab("new", "concept", "X", *args)
    assert result.code == 1
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err + result.out
    assert tree(lab) == before


@pytest.mark.parametrize(
    ("command", "option", "value", "message"),
    [
        (["new", "concept", "X", "-c", "training"], "--stage", "7", "7 不在范围 1<=x<=5 内"),
        (["new", "paper", "X"], "--stage", "0", "0 不在范围 1<=x<=5 内"),
        (["add", "paper", "X"], "--stage", "9", "9 不在范围 1<=x<=5 内"),
        (["list", "papers"], "--stage", "6", "6 不在范围 1<=x<=5 内"),
        (["list", "papers"], "--stage", "x", "'x' 不是整数"),
        (["next"], "-n", "0", "0 不在范围 x>=1 内"),
        (["next"], "-n", "-3", "-3 不在范围 x>=1 内"),
    ],
)
def test_numbers_out_of_range_are_refused_the_same_way_everywhere(
    in_lab: Run, lab: Path, command: list[str], option: str, value: str, message: str
) -> None:
    before = tree(lab)
    result = in_lab(*command, option, value)
    assert result.code == 2 and message in result.err
    assert (
        result.err.count("\n") == 1
        and f"lab {' '.join(command[: 2 if command[0] in ('new', 'add') else 1])} -h" in result.err
    )
    assert tree(lab) == before


def test_new_experiment_writes_a_valid_notebook_and_script(in_lab: Run, lab: Path) -> None:
    result = in_lab("new", "experiment", "从零实现简化版 CLIP", "--script")
    assert result.ok, result
    slug = "cong-ling-shi-xian-jian-hua-ban-clip"
    notebook = nbformat.read(lab / f"experiments/notebooks/{slug}.ipynb", as_version=4)
    nbformat.validate(notebook)
    first, last = notebook.cells[0].source, notebook.cells[-1].source
    for part in ["实验目标", "预期结果", "所需环境"]:
        assert part in first
    assert "实验结论" in last and "与理论的对照" in last
    assert [c.cell_type for c in notebook.cells].count("code") == 4
    assert notebook.metadata["mllm_lab"]["title"] == "从零实现简化版 CLIP"
    script = read(lab / f"experiments/scripts/{slug}.py")
    compile(script, "script.py", "exec")
    assert "# %% [markdown]" in script
    assert in_lab("new", "experiment", "从零实现简化版 CLIP").code == 1  # never overwritten


def test_edit_opens_the_editor(in_lab: Run, lab: Path, monkeypatch, tmp_path: Path) -> None:
    log = tmp_path / "opened.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {log}\n', "utf-8")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    assert in_lab("new", "concept", "RoPE", "-c", "fundamentals", "--edit").ok
    assert read(log).strip() == str(lab / "notes/fundamentals/rope.md")


@pytest.mark.parametrize(
    ("script", "said"),
    [("exit 3", "exited with status 3; the note is written"), ('rm "$1"', "run `lab sync`")],
)
def test_an_editor_that_fails_or_removes_the_note_is_said_with_exit_1(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str, said: str
) -> None:
    """The note is written before the editor opens: an editor that exits non-zero (vim's
    `:cq`) or removes the file made `lab new … --edit` exit 0 all the same."""
    editor = tmp_path / "editor.sh"
    editor.write_text(f"#!/bin/sh\n{script}\n", "utf-8")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    result = Run(en_lab)("new", "concept", "RoPE", "-c", "fundamentals", "--edit")
    error = result.err.strip().splitlines()[-1]
    assert result.code == 1 and error.startswith("error: the editor ") and said in error
    assert error.endswith(" notes/fundamentals/rope.md") or "notes/fundamentals/rope.md;" in error
    written = (en_lab / "notes/fundamentals/rope.md").is_file()
    assert written == (script == "exit 3")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    title=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters=CONTROL), max_size=80
    ).filter(lambda t: any(ch.isprintable() and not ch.isspace() for ch in t))
)
def test_any_title_makes_a_note_whose_frontmatter_loads_back(
    in_lab: Run, lab: Path, title: str
) -> None:
    result = in_lab("new", "concept", "-c", "training", "--force", "--", title)
    assert result.ok, result
    path = lab / result.out.strip()
    assert path.parent == lab / "notes/training"
    assert meta(path)["title"] == " ".join(title.split())
    index = read(lab / "notes/README.md")
    assert index.count("<!-- lab:begin notes-index") == 1
    target = link_target(path.relative_to(lab / "notes").as_posix())
    entries = [line for line in index.split("\n") if re.match(r"^\d+\. \[", line)]
    assert sum(f"]({target})" in line or f"](<{target}>)" in line for line in entries) == 1
    assert in_lab("sync", "--check").ok  # the index is true, and whole


@pytest.mark.parametrize(
    ("title", "args", "kind"),
    [
        ("Minimal CLIP contrastive loss", [], "clip-loss"),
        ("从零实现多头注意力", [], "attention"),
        ("My own idea", [], "skeleton"),
        ("My own idea", ["--kind", "bpe"], "bpe"),
    ],
)
def test_new_experiment_fits_its_title_or_kind(
    in_lab: Run, lab: Path, title: str, args: list[str], kind: str
) -> None:
    result = in_lab("new", "experiment", title, *args)
    assert result.ok, result
    notebook = json.loads(read(lab / result.out.strip()))
    assert notebook["metadata"]["mllm_lab"]["kind"] == kind
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    marker = {
        "clip-loss": "cross_entropy",
        "attention": "softmax",
        "bpe": "merges",
        "skeleton": "TODO",
    }[kind]
    assert marker in code


def test_new_experiment_refuses_an_unknown_kind(in_lab: Run, lab: Path) -> None:
    before = tree(lab)
    result = in_lab("new", "experiment", "x", "--kind", "gan")
    assert result.code == 1 and "gan" in result.err and "clip-loss" in result.err
    assert tree(lab) == before


@pytest.mark.parametrize("kind", ["concept", "experiment", "paper"])
@pytest.mark.parametrize("title", ["Zorb\x00Net", "Q\x1b[31mFormer", "tab\x0bbed"])
def test_a_title_with_a_control_character_is_refused_and_nothing_written(
    in_lab: Run, lab: Path, kind: str, title: str
) -> None:
    before = tree(lab)
    extra = ["-c", "training"] if kind == "concept" else []
    result = in_lab("new", kind, *extra, "--", title)
    assert result.code == 1, result
    assert "控制字符" in result.err and "U+00" in result.err
    assert tree(lab) == before


def test_a_title_over_two_lines_is_one_line_in_the_note(in_lab: Run, lab: Path) -> None:
    result = in_lab("new", "concept", "-c", "training", "--", "Rotary\n  position   embedding")
    assert result.ok, result
    note = read(lab / result.out.strip())
    assert meta(lab / result.out.strip())["title"] == "Rotary position embedding"
    assert "# Rotary position embedding\n" in note


@pytest.mark.parametrize("kind", ["concept", "paper"])
def test_a_title_longer_than_any_paper_title_is_refused(in_lab: Run, lab: Path, kind: str) -> None:
    before = tree(lab)
    extra = ["-c", "training"] if kind == "concept" else []
    result = in_lab("new", kind, *extra, "--", "word " * 100)
    assert result.code == 1 and "499 个字符" in result.err and "300" in result.err
    assert tree(lab) == before
    assert in_lab("add", "paper", "--", "Long " * 61).code == 1
