"""Templates: the lab's own override the defaults file by file; undefined variables are errors;
the sandbox refuses code; and a few helpers the output relies on."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
from conftest import Run, read, tree
from hypothesis import given
from hypothesis import strategies as st

from mllm_lab.cli.output import escape, strip_markup
from mllm_lab.core.links import relative_path


def test_a_labs_template_overrides_the_default(in_lab: Run, lab: Path) -> None:
    template = lab / "templates/zh/concept.md.j2"
    template.write_text("---\n{{ frontmatter }}---\n\n# {{ title }}\n\n## 我自己的格式\n", "utf-8")
    assert in_lab("new", "concept", "RoPE", "-c", "fundamentals").ok
    assert read(lab / "notes/fundamentals/rope.md").endswith("# RoPE\n\n## 我自己的格式\n")
    assert in_lab("new", "paper", "vit").ok  # other kinds still use the packaged defaults
    assert "## 直觉理解" in read(lab / "papers/vit.md")


def test_undefined_variable_is_an_error_with_its_line_and_nothing_is_written(
    in_lab: Run, lab: Path
) -> None:
    template = lab / "templates/zh/concept.md.j2"
    template.write_text(
        "---\n{{ frontmatter }}---\n\n# {{ title }}\n{{ no_such_thing }}\n", "utf-8"
    )
    before = tree(lab)
    result = in_lab("new", "concept", "RoPE", "-c", "fundamentals")
    assert result.code == 1
    assert "模板 templates/zh/concept.md.j2:5：'no_such_thing' is undefined" in result.err
    assert tree(lab) == before


def test_templates_cannot_run_code(in_lab: Run, lab: Path) -> None:
    template = lab / "templates/zh/concept.md.j2"
    template.write_text("{{ title.__class__.__mro__[1].__subclasses__() }}\n", "utf-8")
    result = in_lab("new", "concept", "RoPE", "-c", "fundamentals")
    assert result.code == 1 and "unsafe" in result.err.lower()
    assert not (lab / "notes/fundamentals/rope.md").exists()


def test_template_syntax_error_names_file_and_line(in_lab: Run, lab: Path) -> None:
    (lab / "templates/zh/weekly.md.j2").write_text("line\n{% if %}\n", "utf-8")
    result = in_lab("weekly")
    assert result.code == 1 and "模板 templates/zh/weekly.md.j2:2：" in result.err


paths = st.lists(st.from_regex(r"[a-z0-9]{1,3}", fullmatch=True), min_size=1, max_size=4).map(
    "/".join
)


@given(paths, paths)
def test_relative_links_match_posixpath(source: str, target: str) -> None:
    if source.startswith(target + "/"):
        return  # the target would be a folder holding the source, not a file
    assert relative_path(source, target) == posixpath.relpath(
        target, posixpath.dirname(source) or "."
    )


@pytest.mark.parametrize(
    "text", ["a [b] c", "[bold]x[/]", "back\\slash [/] end", "[red]", "end\\", "中文 [链接](x)"]
)
def test_plain_output_shows_what_rich_would(text: str) -> None:
    from rich.text import Text

    markup = f"[bold red]{escape(text)}[/] tail"
    assert strip_markup(markup) == Text.from_markup(markup).plain == f"{text} tail"
