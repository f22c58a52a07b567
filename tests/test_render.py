"""Templates: the lab's own override the defaults file by file; undefined variables are errors;
the sandbox refuses code; and a few helpers the output relies on."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest
from conftest import Run, read, tree
from hypothesis import given, settings
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


@pytest.mark.parametrize(
    ("source", "said"),
    [
        (
            b"# {{ title }}\n{{ zzz | cell }}\n",
            "templates/zh/concept.md.j2:2：'zzz' is undefined",
        ),
        (b"# {{ title | mdlink }}\n", "templates/zh/concept.md.j2:1：link() missing"),
        (b"# {{ title }}\n\xff\xfe\n", "templates/zh/concept.md.j2：'utf-8' codec can't decode"),
    ],
)
def test_a_template_a_filter_or_a_decoder_fails_on_is_refused_in_one_line(
    in_lab: Run, lab: Path, source: bytes, said: str
) -> None:
    """An undefined name given to a filter, a filter given what it cannot take and a file that
    is not UTF-8 were internal errors (exit 70, a traceback's last line)."""
    (lab / "templates/zh/concept.md.j2").write_bytes(source)
    before = tree(lab)
    result = in_lab("new", "concept", "RoPE", "-c", "fundamentals")
    assert result.code == 1, result
    assert f"模板 {said}" in result.err and len(result.err.strip().splitlines()) == 1
    assert tree(lab) == before


def test_jinja_and_the_plain_path_look_in_the_same_places_when_templates_appear(
    tmp_path: Path,
) -> None:
    """In one process (a test run, an editor's plugin), a lab's templates/ made after a first
    render is used by both ways of rendering, not by the plain one alone."""
    from mllm_lab.errors import TemplateProblem
    from mllm_lab.render import render

    templates = tmp_path / "templates"
    context = {"week": "W", "title": "T"}
    with pytest.raises(TemplateProblem):  # Jinja, looking in lab's own templates alone
        render(templates, "zh/paper.md.j2", {})
    (templates / "zh").mkdir(parents=True)
    (templates / "zh" / "weekly.md.j2").write_text("LAB {{ week }}\n", "utf-8")
    (templates / "zh" / "paper.md.j2").write_text("LAB {% if title %}{{ title }}{% endif %}\n")
    assert render(templates, "zh/weekly.md.j2", context) == "LAB W\n"  # no Jinja
    assert render(templates, "zh/paper.md.j2", context) == "LAB T"  # Jinja (trim_blocks)


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


# --- templates that only fill in values: rendered without Jinja, as Jinja renders them -----

FILL_NAMES = ["title", "week", "count", "when", "nothing", "missing", "none", "self", "_x"]
FILL_CONTEXT = {
    "title": 'CLIP: "a" | b\r\n{{ not a tag }}\x00',
    "week": "2026-W48",
    "count": 3,
    "when": __import__("datetime").date(2026, 11, 25),
    "nothing": None,
    "none": "shadowed by Jinja's constant",
    "self": "shadowed by Jinja's own",
    "_x": 1.5,
    "listed": ["a"],
}
TEMPLATE_PIECES = st.one_of(
    st.text(alphabet="ab {}%#|-+\n\r\t\u3000\x85", max_size=6),
    st.builds(
        lambda name, filters, left, right: "{{" + left + name + "".join(filters) + right + "}}",
        st.sampled_from([*FILL_NAMES, "listed", "true", "1", "title.upper()"]),
        st.lists(
            st.sampled_from(
                [" | mermaid_label", "|cell", " | yaml", "|pystr", "|upper", "|mdlink"]
            ),
            max_size=2,
        ),
        st.sampled_from(["", " ", "\n", "- ", "+", "\t"]),
        st.sampled_from(["", " ", "\n ", " -", "\r\n"]),
    ),
    st.sampled_from(["{% if true %}x{% endif %}", "{# note #}", "{{{ title }}", "{{ title }}}"]),
)


def _by_jinja(templates: Path, name: str, context: dict[str, object]) -> str | None:
    from jinja2 import TemplateError

    from mllm_lab.render import environment

    try:
        return str(environment(templates).get_template(name).render(context))
    except (TemplateError, TypeError, ValueError):
        return None


@settings(max_examples=300)
@given(pieces=st.lists(TEMPLATE_PIECES, max_size=8), newline=st.sampled_from(["\n", "\r\n"]))
def test_a_template_of_text_and_values_renders_without_jinja_as_jinja_renders_it(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], newline: str
) -> None:
    from mllm_lab.render import plain_render

    templates = tmp_path_factory.mktemp("templates")
    source = "".join(pieces).replace("\n", newline)
    (templates / "zh").mkdir()
    (templates / "zh" / "t.md.j2").write_bytes(source.encode("utf-8"))
    plain = plain_render(templates, "zh/t.md.j2", FILL_CONTEXT)
    if plain is not None:
        assert plain == _by_jinja(templates, "zh/t.md.j2", FILL_CONTEXT)


def test_the_weekly_and_concept_templates_render_without_jinja(lab: Path) -> None:
    """What makes `lab weekly` and `lab new concept` quicker: their default templates are text
    and values (and a filter of lab's own), so Jinja is not imported to write them."""
    from mllm_lab.render import plain_render

    context = {
        name: f"<{name}>"
        for name in ("frontmatter", "week", "monday", "sunday", "done", "today", "title")
    } | {"category": "c", "category_name": "C", "stage_name": "S", "related_region": "R"}
    for name in ("zh/weekly.md.j2", "en/weekly.md.j2", "zh/concept.md.j2", "en/concept.md.j2"):
        made = plain_render(lab / "templates", name, context)
        assert made is not None and made == _by_jinja(lab / "templates", name, context), name
    assert plain_render(lab / "templates", "zh/paper.md.j2", context) is None  # it has tags


@pytest.mark.parametrize(
    ("argv", "made"),
    [
        (["weekly"], "weekly-log/2026-W48.md"),
        (["new", "concept", "Flash 注意力", "-c", "training"], "notes/training/flash-zhu-yi-li.md"),
    ],
)
def test_lab_weekly_and_new_concept_write_their_notes_without_importing_jinja(
    lab: Path, argv: list[str], made: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole command, in a process where importing Jinja fails, writes what Jinja would."""
    import subprocess
    import sys

    from conftest import TODAY, lab_executable

    code = (
        f"import sys, runpy; sys.argv = ['lab', *{argv!r}]; "
        "sys.modules['jinja2'] = None; "  # an import of Jinja would fail
        f"runpy.run_path({lab_executable()!r}, run_name='__main__')"
    )
    env = {**os.environ, "LAB_TODAY": TODAY}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=lab, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    text = read(lab / made)
    assert "{{" not in text and "<!-- lab:begin" in text
    (lab / made).unlink()
    monkeypatch.setattr("mllm_lab.render.plain_render", lambda *_args: None)  # Jinja renders
    again = Run(lab)(*argv)
    assert again.ok, again
    assert read(lab / made) == text
