"""Templates: the lab's own override the defaults file by file; undefined variables are errors;
the sandbox refuses code; and a few helpers the output relies on."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

import pytest
from conftest import Run, read, tree
from hypothesis import example, given, settings
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


BLOCK_CONTEXT = {
    "paper": {
        "title": 'CLIP: "a" | b\x00',
        "venue": "",
        "year": 2025,
        "nothing": None,
        "zero": 0,
        "items": "a key that is also a dict method's name",
        "_hidden": "h",
        "nested": {"deep": "d"},
        "authors": ["A", "B"],
    },
    "facets": [{"label": "L1", "cell": "c | 1"}, {"label": "L2", "cell": ""}],
    "pairs": ({"label": "t"},),
    "empty": [],
    "text": "text",
    "when": __import__("datetime").date(2026, 11, 25),
    "thing": object(),
    "facet": "shadowed inside loops",
}
FOUND = [
    "paper.title", "paper.venue", "paper.year", "paper.nothing", "paper.zero", "paper.nested.deep",
    "paper.authors", "paper", "facets", "pairs", "empty", "text", "when", "facet", "facet.label",
]  # fmt: skip
NOT_FOUND = [  # or found otherwise than as a dict's key, or not a value plain_render takes
    "paper.items", "paper._hidden", "paper.missing", "facet.missing", "loop.index",
    "text.upper", "missing", "true", "thing", "paper.nested",
]  # fmt: skip
BLOCK_PATHS = FOUND * 3 + NOT_FOUND  # mostly names found, so that most templates render
_LEAD = st.sampled_from(["", " ", "  ", "\t", "\n", "\n ", "x", "x ", "\u3000", "\r\n "])
_TRAIL = st.sampled_from(["", "\n", " \n", "\n\n", "x", "\r\n"])
_INSIDE = st.sampled_from([" "] * 8 + ["", "  ", "\n", "- ", " -", "+ "])


def _tag(words: str) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b: "{%" + a + words + b + "%}", _INSIDE, _INSIDE)


_FILLS = st.builds(
    lambda a, path, rest, b: "{{" + a + path + rest + b + "}}",
    _INSIDE,
    st.sampled_from(BLOCK_PATHS),
    st.sampled_from(["", "", "", ' or "—"', " or 'x'", " | cell", "|yaml", " or", ' or "{"']),
    _INSIDE,
)
_PIECE = st.one_of(
    st.text(alphabet="ab \t\n", max_size=4), st.text(alphabet="a{}%#", max_size=2), _FILLS
)


def _blocks(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    body = st.lists(inner, max_size=3).map("".join)
    placed = lambda tag: st.builds(lambda lead, t, trail: lead + t + trail, _LEAD, tag, _TRAIL)  # noqa: E731
    path = st.sampled_from(BLOCK_PATHS)
    lists = st.sampled_from(["facets", "pairs", "empty", "paper.authors"] * 3 + BLOCK_PATHS)
    ifs = st.builds(
        lambda opened, yes, other, no, closed: (
            opened + yes + (other + no if other else "") + closed
        ),
        path.flatmap(
            lambda p: st.sampled_from(["if ", "if not "]).flatmap(lambda w: placed(_tag(w + p)))
        ),
        body,
        st.one_of(st.just(""), placed(_tag("else"))),
        body,
        placed(_tag("endif")),
    )
    loops = st.builds(
        lambda opened, each, closed: opened + each + closed,
        st.tuples(st.sampled_from(["facet", "facet", "x", "loop"]), lists).flatmap(
            lambda np: placed(_tag(f"for {np[0]} in {np[1]}"))
        ),
        body,
        placed(_tag("endfor")),
    )
    return st.one_of(ifs, loops)


@settings(max_examples=400)
@given(
    source=st.lists(_blocks(st.recursive(_PIECE, _blocks, max_leaves=6)), max_size=3).map("".join)
)
@example(source="{{ paper.items }}")  # Jinja finds the dict's method, not the key
@example(source="\u3000{% if text %}x\n\u3000{% endif %}")  # blanks lstrip_blocks takes
@example(source="{% if empty %}{% for loop in facets %}{% endfor %}{% endif %}")  # refused unrun
def test_a_template_of_ifs_and_loops_renders_without_jinja_as_jinja_renders_it(
    tmp_path_factory: pytest.TempPathFactory, source: str
) -> None:
    """Blocks with blanks and newlines around their tags (trim_blocks, lstrip_blocks), fills
    with `or` and filters, names that are missing, shadowed or not dicts' keys."""
    from mllm_lab.render import plain_render

    templates = tmp_path_factory.mktemp("templates")
    (templates / "zh").mkdir()
    (templates / "zh" / "t.md.j2").write_bytes(source.encode("utf-8"))
    plain = plain_render(templates, "zh/t.md.j2", BLOCK_CONTEXT)
    if plain is not None:
        assert plain == _by_jinja(templates, "zh/t.md.j2", BLOCK_CONTEXT)


@pytest.mark.parametrize(
    "source",
    [
        "a\n  {% if text %}\n  b {{ text }}\n  {% endif %}\nc",  # lstrip and trim on their lines
        "{{ text }}  {% if text %}b{% endif %}\n",  # blanks after a fill stay
        "{% if empty %}{% else %}  {% if not empty %}y{% endif %}{% endif %}",  # after a newline-less tag
        "{% for facet in facets %}\n| {{ facet.label }} | {{ facet.cell }} |\n{% endfor %}{{ facet }}",
        "{{ paper.venue or 'none' }} {{ paper.year or 'x' }} {{ paper.title | cell }}",
        "\t{% if paper.nested %}\t{{ paper.nested.deep }}{% endif %}\t",
    ],
)
def test_these_ifs_and_loops_render_without_jinja_as_jinja_renders_them(
    tmp_path: Path, source: str
) -> None:
    from mllm_lab.render import plain_render

    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "t.md.j2").write_text(source, "utf-8")
    plain = plain_render(tmp_path, "zh/t.md.j2", BLOCK_CONTEXT)
    assert plain is not None and plain == _by_jinja(tmp_path, "zh/t.md.j2", BLOCK_CONTEXT)


@pytest.mark.parametrize(
    "source",
    [
        "{% if paper.title %}" * 99 + "x" + "{% endif %}" * 99,  # Python's 100 indents
        "{% for f in facets %}" * 21 + "x" + "{% endfor %}" * 21,  # its 20 nested blocks
        "{% if paper.title %}" * 1000 + "{% endif %}" * 1000,  # too deep for Jinja's parser
    ],
)
def test_blocks_nested_past_pythons_limits_are_refused_in_one_line(
    in_lab: Run, lab: Path, source: str
) -> None:
    """Found by a hostile review: the plain path wrote these (or, 1,000 deep, was an internal
    error) where Jinja's compiled code is refused by Python (an internal error too)."""
    (lab / "templates/zh/paper.md.j2").write_text(source, "utf-8")
    before = tree(lab)
    result = in_lab("new", "paper", "Deep Paper", "--year", "2024")
    assert result.code == 1, result
    assert "templates/zh/paper.md.j2" in result.err and len(result.err.strip().splitlines()) == 1
    assert "内部错误" not in result.err
    assert tree(lab) == before


def test_loops_that_would_run_long_or_write_too_much_are_left_to_jinjas_limits(
    tmp_path: Path,
) -> None:
    """The plain path has no clock: it stops at MAX_PLAIN_STEPS parts and loop turns, and as
    soon as its output passes the limit, and leaves the template to Jinja, which refuses it."""
    from mllm_lab.render import MAX_OUTPUT, MAX_PLAIN_STEPS, plain_render

    (tmp_path / "zh").mkdir()
    turns = int(MAX_PLAIN_STEPS ** (1 / 3)) + 2
    context: dict[str, object] = {"xs": list(range(turns)), "big": "x" * (MAX_OUTPUT // 4)}
    cases = {
        "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}{% endfor %}": None,
        "{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}": "",
        "{% for a in xs %}{% for b in xs %}{{ big }}{% endfor %}{% endfor %}": None,
        "{% for a in xs %}{{ big }}{% endfor %}": None,  # 4 x MAX_OUTPUT/4 x turns
        "{{ big }}{{ big }}{{ big }}": "x" * (3 * (MAX_OUTPUT // 4)),
    }
    for source, made in cases.items():
        (tmp_path / "zh" / "t.md.j2").write_text(source, "utf-8")
        assert plain_render(tmp_path, "zh/t.md.j2", context) == made, source


def test_the_default_templates_of_notes_render_without_jinja(lab: Path) -> None:
    """What makes `lab weekly`, `lab new concept` and `lab new paper` quicker: their default
    templates are text, values and ifs and loops, so Jinja is not imported to write them."""
    from mllm_lab.render import plain_render

    context: dict[str, object] = {
        name: f"<{name}>"
        for name in ("frontmatter", "week", "monday", "sunday", "done", "today", "title")
    } | {"category": "c", "category_name": "C", "stage_name": "S", "related_region": "R"}
    for name in ("zh/weekly.md.j2", "en/weekly.md.j2", "zh/concept.md.j2", "en/concept.md.j2"):
        made = plain_render(lab / "templates", name, context)
        assert made is not None and made == _by_jinja(lab / "templates", name, context), name
    paper = {
        "title": "T", "authors_text": "", "year": 2021, "venue": "ICML", "arxiv": "2103.00020",
        "url": "https://arxiv.org/abs/2103.00020", "abstract": "", "stage_name": "S",
        "topic_name": "M",
    }  # fmt: skip
    for facets in ([], [{"label": "L", "cell": "c"}]):
        for abstract in ("", "An abstract."):
            context = {"frontmatter": "key: t\n", "paper": paper | {"abstract": abstract}}
            context["facets"] = facets
            for name in ("zh/paper.md.j2", "en/paper.md.j2"):
                made = plain_render(lab / "templates", name, context)
                assert made is not None and made == _by_jinja(lab / "templates", name, context)
                assert ("An abstract." in made) == bool(abstract)
    assert plain_render(lab / "templates", "zh/review.md.j2", context) is None  # loop.index


@pytest.mark.parametrize(
    ("argv", "made", "holds"),
    [
        (["weekly"], "weekly-log/2026-W48.md", "<!-- lab:begin"),
        (
            ["new", "concept", "Flash 注意力", "-c", "training"],
            "notes/training/flash-zhu-yi-li.md",
            "<!-- lab:begin",
        ),
        (["new", "paper", "llava"], "papers/llava.md", "| 连接器 | linear projection |"),
        (["new", "paper", "New One", "--year", "2025"], "papers/new-one.md", "作者待补充"),
    ],
)
def test_lab_weekly_new_concept_and_new_paper_write_their_notes_without_importing_jinja(
    lab: Path, argv: list[str], made: str, holds: str, monkeypatch: pytest.MonkeyPatch
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
    assert "{{" not in text and "{%" not in text and holds in text
    (lab / made).unlink()
    monkeypatch.setattr("mllm_lab.render.plain_render", lambda *_args: None)  # Jinja renders
    again = Run(lab)(*argv)
    assert again.ok, again
    assert read(lab / made) == text
