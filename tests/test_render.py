"""Templates: the lab's own override the defaults file by file; undefined variables are errors;
the sandbox refuses code; and a few helpers the output relies on."""

from __future__ import annotations

import os
import posixpath
import shutil
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


# --- compiled templates kept in .lab/compiled/ ---------------------------------------------

TEMPLATE = "{% for item in items %}{{ item * 2 }},{% endfor %} {{ title }}\n{{ missing }}\n"


def _render_kept(lab: Path, **context: object) -> str:
    """The lab's template zh/kept.md.j2 rendered as a command renders it, with a fresh
    environment (a command is a fresh process)."""
    from mllm_lab import render

    render.environment.cache_clear()
    return render.render(lab / "templates", "zh/kept.md.j2", dict(context), lab / ".lab")


@pytest.fixture
def kept_template(lab: Path) -> Path:
    (lab / ".lab").mkdir(exist_ok=True)
    template = lab / "templates/zh/kept.md.j2"
    template.write_text(TEMPLATE, "utf-8")
    return template


def _compiled_files(lab: Path) -> list[Path]:
    return sorted(p for p in (lab / ".lab/compiled").rglob("*") if p.is_file())


def _parse_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import jinja2.environment

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(jinja2.environment.Environment, "_parse", refuse)


def test_a_template_compiled_once_is_loaded_from_the_lab_after(
    lab: Path, kept_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _render_kept(lab, items=[1, 2], title="RoPE", missing="m")
    assert first == "2,4, RoPE\nm\n" and len(_compiled_files(lab)) == 1
    _parse_refused(monkeypatch)  # from here on a template compiled anew fails the test
    assert _render_kept(lab, items=["ab"], title="ViT", missing="") == "abab, ViT\n\n"


def test_an_edited_template_is_compiled_again(lab: Path, kept_template: Path) -> None:
    assert _render_kept(lab, items=[], title="a", missing="") == " a\n\n"
    kept_template.write_text("{{ title }} edited\n", "utf-8")
    assert _render_kept(lab, title="a") == "a edited\n"


def test_an_undefined_variable_names_its_line_when_the_template_was_loaded_compiled(
    in_lab: Run, lab: Path, kept_template: Path
) -> None:
    template = lab / "templates/zh/concept.md.j2"
    template.write_text("---\n{{ frontmatter }}---\n\n# {{ title }}\n{{ no_such }}\n", "utf-8")
    for _ in range(2):  # compiled, then loaded: the same error, the same line
        from mllm_lab import render

        render.environment.cache_clear()
        result = in_lab("new", "concept", "RoPE", "-c", "fundamentals")
        assert result.code == 1
        assert "模板 templates/zh/concept.md.j2:5：'no_such' is undefined" in result.err
    assert _compiled_files(lab)


@given(damage=st.binary(max_size=300), keep=st.integers(min_value=0, max_value=400))
def test_a_damaged_compiled_template_is_compiled_again(
    tmp_path_factory: pytest.TempPathFactory, damage: bytes, keep: int
) -> None:
    lab = tmp_path_factory.mktemp("lab")
    (lab / ".lab").mkdir()
    (lab / "templates/zh").mkdir(parents=True)
    (lab / "templates/zh/kept.md.j2").write_text(TEMPLATE, "utf-8")
    assert _render_kept(lab, items=[3], title="t", missing="") == "6, t\n\n"
    [compiled] = _compiled_files(lab)
    compiled.write_bytes(compiled.read_bytes()[:keep] + damage)
    assert _render_kept(lab, items=[3], title="t", missing="") == "6, t\n\n"


def test_compiled_templates_of_another_lab_folder_are_never_run(
    lab: Path, kept_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository can carry a .lab/ of its own: code planted in it, with the header a
    compiled template would have, is not loaded (the folder's name holds the inode of the
    .lab/ it was written in), and the folder of another .lab/ is swept away."""
    import hashlib
    import marshal

    from jinja2.bccache import BytecodeCache

    assert _render_kept(lab, items=[], title="x", missing="") == " x\n\n"
    marker = tmp_path / "ran"
    planted = compile(f"open({str(marker)!r}, 'w').close()", "kept.md.j2", "exec")
    copy = tmp_path / "copy"
    shutil.copytree(lab, copy)
    # the file the copy's template would be kept in, with the header it would have
    key = BytecodeCache().get_cache_key("zh/kept.md.j2", str(copy / "templates/zh/kept.md.j2"))
    [copied] = _compiled_files(copy)
    checksum = copied.read_bytes().split(b"\n", 1)[0]
    body = marshal.dumps(planted)
    (copied.parent / key).write_bytes(
        checksum + b"\n" + hashlib.sha1(body).hexdigest().encode() + b"\n" + body
    )
    assert _render_kept(copy, items=[], title="y", missing="") == " y\n\n"
    assert not marker.exists()
    [own] = _compiled_files(copy)  # compiled in a folder named for the copy's .lab/ alone
    assert own.parent != copied.parent and not copied.parent.exists()


@pytest.mark.parametrize("blocked", ["compiled", "state"])
def test_templates_render_when_their_compiled_form_cannot_be_kept(
    lab: Path, kept_template: Path, blocked: str
) -> None:
    if blocked == "compiled":  # a file where the folder would go
        (lab / ".lab/compiled").write_text("", "utf-8")
    else:  # no .lab/ at all
        shutil.rmtree(lab / ".lab")
    assert _render_kept(lab, items=[1], title="z", missing="") == "2, z\n\n"
    assert _render_kept(lab, items=[1], title="z", missing="") == "2, z\n\n"


def _plant(path: Path, marker: Path, checksum: bytes) -> None:
    """Code that creates `marker`, kept at `path` as a compiled template would be."""
    import hashlib
    import marshal

    body = marshal.dumps(compile(f"open({str(marker)!r}, 'w').close()", "kept.md.j2", "exec"))
    path.write_bytes(checksum + b"\n" + hashlib.sha1(body).hexdigest().encode() + b"\n" + body)


@pytest.mark.parametrize("how", ["linked folder", "linked file", "writable by others", "too big"])
def test_code_lab_did_not_write_for_itself_is_never_run(
    lab: Path,
    kept_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """Compiled templates run outside the sandbox: one is loaded only from lab's own folders
    (not links), from lab's own file (not a link, writable by no one else, not oversized)."""
    from mllm_lab import compiled

    assert _render_kept(lab, items=[], title="x", missing="") == " x\n\n"
    [kept] = _compiled_files(lab)
    checksum = kept.read_bytes().split(b"\n", 1)[0]
    marker = tmp_path / "ran"
    elsewhere = tmp_path / "elsewhere"
    if how == "linked folder":  # .lab/compiled is a link to a folder someone else may write
        shutil.move(lab / ".lab/compiled", elsewhere)
        (lab / ".lab/compiled").symlink_to(elsewhere, target_is_directory=True)
        _plant(elsewhere / kept.parent.name / kept.name, marker, checksum)
    elif how == "linked file":
        elsewhere.mkdir()
        _plant(elsewhere / "code", marker, checksum)
        kept.unlink()
        kept.symlink_to(elsewhere / "code")
    elif how == "writable by others":
        _plant(kept, marker, checksum)
        kept.chmod(0o666)
    else:
        _plant(kept, marker, checksum)
        monkeypatch.setattr(compiled, "MAX_BYTES", kept.stat().st_size - 1)
    assert _render_kept(lab, items=[1], title="y", missing="") == "2, y\n\n"
    assert not marker.exists()
    if how == "linked folder":  # nothing was written through the link either
        assert [p.name for p in (elsewhere / kept.parent.name).iterdir()] == [kept.name]
    else:  # compiled again, kept in lab's own file in its place
        assert not kept.is_symlink() and kept.stat().st_mode & 0o777 == 0o600


def test_compiled_templates_are_private_whatever_the_umask(
    lab: Path, kept_template: Path
) -> None:
    old = os.umask(0)
    try:
        shutil.rmtree(lab / ".lab/compiled", ignore_errors=True)
        assert _render_kept(lab, items=[], title="x", missing="") == " x\n\n"
    finally:
        os.umask(old)
    [kept] = _compiled_files(lab)
    assert kept.stat().st_mode & 0o777 == 0o600
    assert {p.stat().st_mode & 0o777 for p in (kept.parent, kept.parent.parent)} == {0o700}
