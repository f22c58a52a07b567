"""Every kind of experiment, in both languages, renders into a valid notebook that holds the parts
prompt 4 of seed 004 asks for; and (slow, where torch and Jupyter are installed) runs top to
bottom on a CPU in under a minute and draws at least one plot whose text renders."""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import subprocess
import sys
import time
import tokenize
from datetime import date
from pathlib import Path
from typing import Any

import nbformat
import pytest

from mllm_lab.core.experiments import KINDS, ExperimentKind
from mllm_lab.core.markdown import sections
from mllm_lab.core.notebook import notebook_json
from mllm_lab.kinds import default_templates
from mllm_lab.lab import Config, Lab
from mllm_lab.ops.experiments import experiment_context
from mllm_lab.ops.workspace import Workspace
from mllm_lab.render import render

# A title that would break a template that pasted it into code unescaped.
TITLE = 'Toy "{{ kind }}" 实验 \\ {x}'
CREATED = date(2026, 11, 25)

# What prompt 4 asks for, as the headings and cell openings the templates use.
OPENING = {
    "zh": ["实验目标", "预期结果", "所需环境"],
    "en": ["Goal", "Expected result", "Environment"],
}
CLOSING = {"zh": ["实验结论", "与理论的对照"], "en": ["Conclusion", "Comparison with theory"]}
CODE = {
    "zh": ["# 1. 数据准备", "# 2. 模型定义", "# 3. 训练循环", "# 4. 可视化结果"],
    "en": ["# 1. Data", "# 2. Model", "# 3. Training loop", "# 4. Visualise the results"],
}

CASES = [
    pytest.param(kind, lang, id=f"{kind.name}-{lang}") for kind in KINDS for lang in ("zh", "en")
]


def context(tmp_path: Path, lang: str) -> dict[str, Any]:
    ws = Workspace(Lab(tmp_path, Config(lang=lang)))
    return experiment_context(ws, TITLE, "toy-experiment", CREATED)


def source(tmp_path: Path, kind: ExperimentKind, lang: str) -> str:
    return render(None, kind.template(lang), context(tmp_path, lang))


def notebook(tmp_path: Path, kind: ExperimentKind, lang: str) -> Any:
    text = notebook_json(source(tmp_path, kind, lang), {"title": TITLE, "kind": kind.name})
    return nbformat.reads(text, as_version=4)


def comments(code: str) -> int:
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return sum(token.type == tokenize.COMMENT for token in tokens)


def test_every_kind_has_a_template_in_each_language_and_no_template_lacks_a_kind() -> None:
    for lang in ("zh", "en"):
        folder = default_templates() / lang / "experiments"
        found = sorted(path.name for path in folder.glob("*.j2"))
        assert found == sorted(f"{kind.name}.py.j2" for kind in KINDS), lang


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_the_notebook_validates_and_holds_the_prompt_4_parts_in_order(
    tmp_path: Path, kind: ExperimentKind, lang: str
) -> None:
    nb = notebook(tmp_path, kind, lang)
    nbformat.validate(nb)
    assert [cell.cell_type for cell in nb.cells] == ["markdown"] + ["code"] * 4 + ["markdown"]
    first, *code, last = nb.cells

    def titles(cell: Any, level: int) -> list[str]:
        return [s.title for s in sections(cell.source) if s.level == level]

    assert titles(first, 1) == [f"{'实验：' if lang == 'zh' else 'Experiment: '}{TITLE}"]
    assert titles(first, 2) == OPENING[lang]
    assert titles(last, 2) == CLOSING[lang]
    assert f"`{kind.name}`" in first.source  # the notebook says which kind it is
    assert (
        "2026-11-25" in first.source
        and "experiments/notebooks/toy-experiment.ipynb" in first.source
    )
    for cell, opening in zip(code, CODE[lang], strict=True):
        assert cell.source.startswith(opening), cell.source[:80]
        compile(cell.source, opening, "exec")
        assert comments(cell.source) >= 3, opening  # comments explain intent, not just the opening


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_the_notebook_needs_what_the_table_says_and_fixes_its_seed(
    tmp_path: Path, kind: ExperimentKind, lang: str
) -> None:
    text = source(tmp_path, kind, lang)
    assert ("import torch" in text) == kind.needs_torch
    assert "import matplotlib.pyplot as plt" in text
    assert "plt.show()" in text
    if kind.needs_torch:
        assert "torch.manual_seed(0)" in notebook(tmp_path, kind, lang).cells[1].source
    assert "random" not in re.findall(r"^import (\w+)", text, flags=re.M)  # no unseeded randomness


CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
PLOT_TEXT = {
    "set_title",
    "set_xlabel",
    "set_ylabel",
    "suptitle",
    "title",
    "xlabel",
    "ylabel",
    "text",
}


def plot_strings(tree: ast.AST) -> list[str]:
    """The string parts of every title, axis label, text and legend label the code draws."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        args = list(node.args) if node.func.attr in PLOT_TEXT else []
        args += [kw.value for kw in node.keywords if kw.arg in ("label", "labels", "fmt")]
        for arg in args:
            found += [
                n.value
                for n in ast.walk(arg)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            ]
    return found


@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_plot_text_is_english_so_it_renders_without_a_cjk_font(
    tmp_path: Path, kind: ExperimentKind, lang: str
) -> None:
    strings = plot_strings(ast.parse(source(tmp_path, kind, lang)))
    assert strings  # the notebook does label its plots
    assert not [s for s in strings if CJK.search(s)]
    # the title (which may be Chinese) stays in the Markdown, out of the plots
    code = [
        cell.source for cell in notebook(tmp_path, kind, lang).cells if cell.cell_type == "code"
    ]
    assert not [cell for cell in code if TITLE in cell]


class _Strings(ast.NodeTransformer):
    """Replaces every string, so only the code of the two languages is compared."""

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("") if isinstance(node.value, str) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.Constant("")


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_both_languages_run_the_same_code(tmp_path: Path, kind: ExperimentKind) -> None:
    zh, en = (ast.parse(source(tmp_path, kind, lang)) for lang in ("zh", "en"))
    assert ast.dump(_Strings().visit(zh)) == ast.dump(_Strings().visit(en))


# --- running them -------------------------------------------------------------------------

MAX_SECONDS = 60


def missing(kind: ExperimentKind) -> list[str]:
    wanted = [*kind.modules, "nbconvert", "ipykernel"]
    return [name for name in wanted if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="session")
def mpl_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One matplotlib cache for the session: the tests' HOME is new for each test, and
    matplotlib would otherwise rebuild its font cache inside every notebook."""
    return tmp_path_factory.mktemp("matplotlib")


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "lang"), CASES)
def test_the_notebook_runs_on_a_cpu_in_under_a_minute(
    tmp_path: Path,
    kind: ExperimentKind,
    lang: str,
    mpl_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    absent = missing(kind)
    if absent:
        pytest.skip(f"needs {', '.join(absent)}: pip install -e '.[experiments]'")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend draws the plots
    monkeypatch.setenv("MPLCONFIGDIR", str(mpl_config))
    path = tmp_path / "toy-experiment.ipynb"
    path.write_text(notebook_json(source(tmp_path, kind, lang), {"title": TITLE}), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        f"--ExecutePreprocessor.timeout={MAX_SECONDS}",
        "--output",
        "executed.ipynb",
        str(path),
    ]
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=3 * MAX_SECONDS
    )
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    print(f"{kind.name} ({lang}): {seconds:.1f} s")
    assert seconds < MAX_SECONDS

    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    outputs = [
        output for cell in executed.cells if cell.cell_type == "code" for output in cell.outputs
    ]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert images, "the notebook drew no plot"
    stderr = "".join(output.text for output in outputs if output.get("name") == "stderr")
    assert "missing from font" not in stderr  # every glyph of every plot rendered
    assert "Warning" not in stderr, stderr[-2000:]
