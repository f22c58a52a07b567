"""The templates hold every part the seed's prompts ask for, in both languages, and what they
render is valid: YAML that loads back, Mermaid blocks, a notebook nbformat accepts."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab import kinds as Kind
from mllm_lab.core import fm
from mllm_lab.core.markdown import sections
from mllm_lab.kinds import NoteKind
from mllm_lab.lab import Config, Lab
from mllm_lab.ops.sections import headings, sample_context
from mllm_lab.ops.workspace import Workspace

# The parts each prompt of seed 004 asks for, as the headings that hold them.
PROMPT_PARTS = {
    "zh": {
        Kind.PAPER: [
            "一句话总结",
            "直觉理解",
            "方法详解",
            "架构图",
            "关键公式",
            "实验与消融",
            "个人评价",
            "相对前人的核心改进",
            "局限性",
            "对我的启发",
            "延伸阅读",
        ],
        Kind.CONCEPT: [
            "直觉理解",
            "正式定义与数学表达",
            "具体例子",
            "图解",
            "与已有笔记的关联",
            "常见误区",
            "面试口述版",
        ],
        Kind.WEEKLY: [
            "本周完成",
            "关键收获",
            "遇到的问题与解决思路",
            "下周计划",
            "知识盲区与前置知识",
        ],
        Kind.EXPERIMENT: ["实验目标", "预期结果", "所需环境", "实验结论", "与理论的对照"],
    },
    "en": {
        Kind.PAPER: [
            "TL;DR",
            "Intuition",
            "Method",
            "Architecture",
            "Key formulas",
            "Experiments and ablations",
            "My assessment",
            "Improvement over prior work",
            "Limitations",
            "What it teaches me",
            "Read next",
        ],
        Kind.CONCEPT: [
            "Intuition",
            "Formal definition and maths",
            "Worked example",
            "Diagram",
            "Related notes",
            "Common misconceptions",
            "Interview answer",
        ],
        Kind.WEEKLY: [
            "Done this week",
            "Key takeaways",
            "Problems and ways forward",
            "Next week's plan",
            "Knowledge gaps",
        ],
        Kind.EXPERIMENT: [
            "Goal",
            "Expected result",
            "Environment",
            "Conclusion",
            "Comparison with theory",
        ],
    },
}
TEMPLATE = {Kind.PAPER: "paper.md.j2", Kind.CONCEPT: "concept.md.j2", Kind.WEEKLY: "weekly.md.j2"}


def workspace(tmp_path: Path, lang: str) -> Workspace:
    return Workspace(Lab(tmp_path, Config(lang=lang)))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", list(PROMPT_PARTS["zh"]))
def test_every_template_holds_the_parts_its_prompt_asks_for(
    tmp_path: Path, lang: str, kind: NoteKind
) -> None:
    found = [title for _, title in headings(workspace(tmp_path, lang), kind)]
    wanted = PROMPT_PARTS[lang][kind]
    assert [title for title in found if title in wanted] == wanted  # all there, in order


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", [Kind.PAPER, Kind.CONCEPT])
def test_notes_carry_a_mermaid_block_and_frontmatter_that_loads(
    tmp_path: Path, lang: str, kind: NoteKind
) -> None:
    ws = workspace(tmp_path, lang)
    text = ws.render(f"{lang}/{TEMPLATE[kind]}", sample_context(ws, kind))
    assert "```mermaid\ngraph" in text
    parsed = fm.parse(text, "note.md")
    assert parsed.meta["title"] == "Sample"
    assert not [s for s in sections(parsed.body) if s.level == 1 and s.title != "Sample"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_experiment_notebook_validates_and_its_code_compiles(tmp_path: Path, lang: str) -> None:
    from mllm_lab.core.notebook import notebook_json

    ws = workspace(tmp_path, lang)
    source = ws.render(f"{lang}/{Kind.EXPERIMENT.template}", sample_context(ws, Kind.EXPERIMENT))
    compile(source, "experiment.py", "exec")
    notebook = nbformat.reads(notebook_json(source, {"title": "Sample"}), as_version=4)
    nbformat.validate(notebook)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown" and kinds[-1] == "markdown" and kinds.count("code") == 4
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    for source in code:
        compile(source, "cell", "exec")
    steps = {
        "zh": ("1. 数据准备：", "2. 模型定义：", "3. 训练循环：", "4. 可视化结果："),
        "en": ("1. Data:", "2. Model:", "3. Training loop:", "4. Visualise the results:"),
    }
    firsts = [source.split("\n")[0] for source in code]
    assert [
        line.startswith(f"# {step}") for line, step in zip(firsts, steps[lang], strict=True)
    ] == [True] * 4, firsts
    assert "import torch" in "\n".join(code) and "matplotlib" in "\n".join(code)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_both_languages_use_the_same_template_variables(lang: str) -> None:
    from jinja2 import Environment, meta

    env = Environment(trim_blocks=True, lstrip_blocks=True)
    for name in ("mermaid_label", "mdlink", "pystr", "cell", "yaml", "json", "mermaid_id"):
        env.filters[name] = str
    root = Path(__file__).resolve().parents[1] / "templates"
    for zh in (root / "zh").rglob("*.j2"):
        other = root / lang / zh.relative_to(root / "zh")
        assert other.exists(), other
        variables = meta.find_undeclared_variables(env.parse(zh.read_text("utf-8")))
        assert meta.find_undeclared_variables(env.parse(other.read_text("utf-8"))) == variables, (
            other
        )


def _by_nbformat(source: str, metadata: dict[str, object]) -> str:
    """The notebook as nbformat itself builds and writes it (how lab made it before)."""
    from nbformat import v4

    from mllm_lab.core.notebook import cells

    notebook = v4.new_notebook()
    notebook.metadata.update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "mllm_lab": metadata,
        }
    )
    for number, (kind, text) in enumerate(cells(source), start=1):
        cell = v4.new_markdown_cell(text) if kind == "markdown" else v4.new_code_cell(text)
        cell.id = f"cell-{number}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"


_percent_lines = st.sampled_from(
    ["# %%", "# %% [markdown]", "# 标题 😀", "x = 1", "", "  y = '\\t'", "#", 'print("a\\\\b")']
)


@settings(max_examples=80, deadline=None)
@given(
    lines=st.lists(st.one_of(_percent_lines, st.text(max_size=8)), max_size=10),
    title=st.text(max_size=8),
)
def test_a_notebook_is_written_as_nbformat_writes_it_and_validates(
    lines: list[str], title: str
) -> None:
    from mllm_lab.core.notebook import notebook_json

    source = "\n".join(lines)
    meta: dict[str, object] = {"title": title, "created": "2026-11-25", "kind": "toy"}
    ours = notebook_json(source, meta)
    assert ours == _by_nbformat(source, meta)
    nbformat.validate(nbformat.reads(ours, as_version=4))
