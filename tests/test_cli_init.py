"""`lab init`: the layout and contents prompt 1 asks for; re-running changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from conftest import Run, read, tree

FOLDERS = [
    "notes/fundamentals",
    "notes/vision-language",
    "notes/multimodal-arch",
    "notes/training",
    "notes/applications",
    "experiments/notebooks",
    "experiments/scripts",
    "weekly-log",
    "templates",
    "papers",
    "resources",
]
# The flow chart of seed 004: the same nodes and edges must be in the README.
SEED_EDGES = {
    ("A", "B"),
    ("A", "C"),
    ("B", "D"),
    ("C", "D"),
    ("D", "E"),
    *{
        (f"{group}{n}", group)
        for group in "ABCDE"
        for n in (1, 2, 3)
        if (group, n) not in {("B", 3)}
    },
}


def mermaid_edges(text: str) -> set[tuple[str, str]]:
    block = text.split("```mermaid", 1)[1].split("```", 1)[0]
    edges = set()
    for line in block.splitlines():
        if "-->" in line:
            left, right = (re.sub(r"\[.*?\]", "", side).strip() for side in line.split("-->"))
            edges.add((left, right))
    return edges


def test_init_creates_the_seed_layout_with_its_contents(run: Run, tmp_path: Path) -> None:
    result = run("init", "mylab")
    assert result.ok, result
    root = tmp_path / "mylab"
    for folder in FOLDERS:
        assert (root / folder).is_dir(), folder
    readme = read(root / "README.md")
    for stage in [
        "阶段一：Transformer 与 LLM 基础",
        "阶段二：视觉编码器",
        "阶段三：多模态对齐与融合",
        "阶段四：训练方法",
        "阶段五：前沿主题",
    ]:
        assert stage in readme
    assert "```mermaid\ngraph TD" in readme
    assert mermaid_edges(readme) == SEED_EDGES
    assert "A1[Self-Attention] --> A" in readme and "D1[BLIP-2] --> D" in readme
    assert "CS231n" in readme and "## 推荐学习资源" in readme
    assert len(re.findall(r"^- \[ \] 阶段", readme, re.M)) == 5
    assert "- 2026-11-25: 初始化仓库" in readme
    papers = read(root / "papers/README.md")
    for topic in ["### 基础模型", "### 多模态模型", "### 训练方法"]:
        assert topic in papers
    for key in [
        "gpt-3",
        "llama",
        "vit",
        "clip",
        "blip-2",
        "llava",
        "llava-next",
        "qwen-vl",
        "internvl",
        "gpt-4v-system-card",
        "instructgpt",
        "dpo",
        "lora",
        "qlora",
    ]:
        assert re.search(rf"^\| ⬜ \| {re.escape(key)} \| \[", papers, re.M), key
    assert "| 2023 | ICML 2023 |" in papers
    awesome = read(root / "resources/awesome-mllm.md")
    for part in [
        "CS231n",
        "CS224N",
        "CS25",
        "LLM Course",
        "MMBench",
        "MMMU",
        "MathVista",
        "## 重要开源项目",
        "## 知名博客和技术文章",
        "## 基准测试和排行榜",
    ]:
        assert part in awesome
    assert (root / "lab.toml").is_file() and (root / "templates/zh/paper.md.j2").is_file()
    assert ".lab/" in read(root / ".gitignore")


def test_claude_md_states_the_rules_the_templates_follow(run: Run, tmp_path: Path) -> None:
    assert run("init", "l").ok
    claude = read(tmp_path / "l/CLAUDE.md")
    for part in [
        "## 语言规范",
        "## 文件命名",
        "## Frontmatter 字段",
        "## 论文笔记模板",
        "## 概念笔记格式",
        "## 实验格式",
        "## 周记格式",
        "`unread`（⬜ 未读）",
        "`multimodal-arch`",
        "2026-W53",
    ]:
        assert part in claude, part
    template = read(tmp_path / "l/templates/zh/paper.md.j2")
    for heading in re.findall(r"^(##+ .+)$", template, re.M):
        assert f"- `{heading}`" in claude  # the rule lists exactly what the template holds


def test_reinit_changes_no_file_and_reports_what_it_left(run: Run, tmp_path: Path) -> None:
    assert run("init", "l").ok
    root = tmp_path / "l"
    (root / "README.md").write_text("mine\n", "utf-8")
    (root / "templates/zh/paper.md.j2").unlink()
    before = tree(root)
    result = run("init", "l")
    assert result.ok
    after = tree(root)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {"templates/zh/paper.md.j2"}
    assert "创建了 1 个文件" in result.err and "个已有文件保持原样" in result.err


def test_english_lab(run: Run, tmp_path: Path) -> None:
    assert run("init", "en-lab", "--lang", "en").ok
    root = tmp_path / "en-lab"
    assert "Stage 1: Transformer and LLM foundations" in read(root / "README.md")
    assert 'lang = "en"' in read(root / "lab.toml")
    assert run("new", "concept", "Self attention", "-c", "fundamentals", cwd=root).ok
    assert "## Intuition" in read(root / "notes/fundamentals/self-attention.md")


def test_unknown_language_lists_valid_ones(run: Run, tmp_path: Path) -> None:
    result = run("init", "x", "--lang", "fr")
    assert result.code == 1
    assert result.err.strip() == "error: unknown language 'fr'; valid: zh, en"
    assert not (tmp_path / "x").exists()


def test_commands_outside_a_lab_suggest_init(run: Run, tmp_path: Path) -> None:
    result = run("new", "paper", "blip-2")
    assert result.code == 1
    assert "not inside a lab" in result.err and "lab init" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_lab_is_found_upward_from_root_option_and_env(
    run: Run, lab: Path, tmp_path: Path, monkeypatch
) -> None:
    deep = lab / "notes" / "training"
    assert run("new", "concept", "LoRA", "-c", "training", cwd=deep).ok
    assert (lab / "notes/training/lora.md").exists()
    assert run("--root", str(lab), "new", "concept", "DPO", "-c", "training", cwd=tmp_path).ok
    monkeypatch.setenv("LAB_ROOT", str(lab))
    assert run("new", "concept", "PPO", "-c", "training", cwd=tmp_path).ok
    assert {p.name for p in (lab / "notes/training").glob("*.md")} == {
        "lora.md",
        "dpo.md",
        "ppo.md",
    }
    monkeypatch.setenv("LAB_ROOT", str(tmp_path))
    assert run("sync", cwd=lab).code == 1  # LAB_ROOT wins over the current folder


def test_reading_list_is_valid_yaml_data(lab: Path) -> None:
    data = yaml.safe_load(read(lab / "papers/reading-list.yaml"))
    entry = next(p for p in data["papers"] if p["key"] == "blip-2")
    assert entry["status"] == "unread" and entry["arxiv"] == "2301.12597" and entry["stage"] == 3


def test_another_language_for_an_existing_lab_is_refused_not_ignored(
    run: Run, tmp_path: Path
) -> None:
    assert run("init", "lab", "--lang", "en").ok
    before = tree(tmp_path / "lab")
    refused = run("init", "lab", "--lang", "zh")
    assert refused.code == 1
    assert refused.err.strip() == (
        "error: lab.toml:4: this lab's language is en; --lang zh does not change an existing"
        " lab (change `lang` there)"
    )
    assert tree(tmp_path / "lab") == before
    assert run("init", "lab", "--lang", "en").ok and run("init", "lab").ok  # same, or not given
    assert tree(tmp_path / "lab") == before
    assert 'lang = "zh"' in read_config(run, tmp_path)


def read_config(run: Run, tmp_path: Path) -> str:
    """A new lab's lab.toml, made without --lang: the language is zh."""
    assert run("init", "fresh").ok
    return read(tmp_path / "fresh/lab.toml")
