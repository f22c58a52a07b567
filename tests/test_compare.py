"""Architecture facets in the lab: prefilled into paper notes, read back like every field,
checked against the connector vocabulary by `lab check`, compared with `lab compare` in three
formats, filtered by `lab list papers`, and shown in the generated comparison region of
papers/README.md (grouped by connector, with a Mermaid timeline) kept true by the write path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import Run, read
from hypothesis import given, settings
from hypothesis import strategies as st
from test_facets import mermaid_problems

from mllm_lab.catalog import catalog
from mllm_lab.core import facets as F
from mllm_lab.core import fm
from mllm_lab.core.compare import compare_region
from mllm_lab.core.markdown import split_row
from mllm_lab.core.papers import paper_from_meta, paper_to_meta
from mllm_lab.models import FACET_FIELDS, Paper

CATALOG = {paper.key: paper for paper in catalog()}


def meta(path: Path) -> dict[str, object]:
    return yaml.safe_load(read(path).split("---\n")[1])


def edit(path: Path, old: str, new: str) -> None:
    text = read(path)
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def region(lab: Path) -> str:
    text = read(lab / "papers/README.md")
    return text.split("<!-- lab:begin compare", 1)[1].split("<!-- lab:end compare -->", 1)[0]


def line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(read(path).splitlines(), 1) if line.startswith(start))


# --- facets in notes --------------------------------------------------------------------------


def test_a_multimodal_note_gets_the_checked_facets_and_a_glance_table(en_lab: Path) -> None:
    assert Run(en_lab)("new", "paper", "llava-1.5").ok
    note = en_lab / "papers/llava-1.5.md"
    facets = F.catalog_facets()["llava-1.5"]
    data = meta(note)
    assert {field: data[field] for field in FACET_FIELDS} == {
        field: facets.get(field) for field in FACET_FIELDS
    }
    text = read(note)
    assert "### Architecture at a glance" in text
    assert "| Connector | MLP (2-layer) |  |" in text
    assert f"| Trained | {F.md_cell(facets.trainable)} |  |" in text
    assert text.index("### Architecture at a glance") < text.index("### Architecture\n")


def test_an_unchecked_or_unknown_multimodal_paper_gets_blank_facets(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "llava-next").ok
    assert run("new", "paper", "My VLM: a | b", "--topic", "multimodal").ok
    for name in ("llava-next", "my-vlm"):  # a new paper's short key
        data = meta(en_lab / f"papers/{name}.md")
        assert all(field in data and data[field] is None for field in FACET_FIELDS), name
        assert "| Connector |  |  |" in read(en_lab / f"papers/{name}.md")


def test_a_text_only_paper_has_no_facets_and_no_table(lab: Path) -> None:
    assert Run(lab)("new", "paper", "transformer").ok
    text = read(lab / "papers/transformer.md")
    assert "connector" not in meta(lab / "papers/transformer.md")
    assert "架构速览" not in text


def test_facets_are_read_back_and_a_number_is_text() -> None:
    paper, problems = paper_from_meta(
        meta={"title": "x", "connector": "Q-Former", "resolution": 336, "llm": ["a"]},
        path="papers/x.md",
        lines={},
        default_key="x",
        note="papers/x.md",
    )
    assert problems == [] and paper is not None
    assert (paper.connector, paper.resolution, paper.llm, paper.vision_encoder) == (
        "Q-Former",
        "336",
        None,  # not text: `lab check` names it
        None,
    )
    assert paper.facets == {"connector": "Q-Former", "resolution": "336"}


@settings(max_examples=150, deadline=None)
@given(st.text().map(lambda t: " ".join(t.split())).filter(bool))
def test_any_facet_text_loads_back_exactly(text: str) -> None:
    paper = Paper(key="k", title="t", topic="multimodal", connector=text, llm=text, resolution=text)
    dumped = fm.dump(paper_to_meta(paper))
    loaded = fm.parse(f"---\n{dumped}---\n", "papers/k.md").meta
    back, problems = paper_from_meta(
        meta=loaded, path="papers/k.md", lines={}, default_key="k", note=None
    )
    assert problems == [] and back is not None
    assert (back.connector, back.llm, back.resolution, back.vision_encoder) == (
        text,
        text,
        text,
        None,
    )


# --- lab check --------------------------------------------------------------------------------


def test_check_names_a_connector_outside_the_vocabulary_with_its_line(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    note = lab / "papers/blip-2.md"
    edit(note, "connector: Q-Former", "connector: q-former")
    line = line_of(note, "connector:")
    found = in_lab("check")
    assert found.code == 1
    assert f"papers/blip-2.md:{line}: connector 'q-former' 在词表中写作 `Q-Former`" in found.out
    edit(note, "connector: q-former", "connector: 'adapter: small'")
    edit(note, "llm: OPT", "llm: [OPT")
    edit(note, "(frozen)\nresolution", "(frozen)]\nresolution")
    found = in_lab("check", "--json")
    problems = {(p["line"], p["message"].split("；")[0]) for p in json.loads(found.out)}
    assert (line, "未知的 connector 'adapter: small'") in problems
    assert any(n == line_of(note, "llm:") and "`llm` 应是文本" in m for n, m in problems)
    edit(note, "connector: 'adapter: small'", "connector: Q-Former")


def test_check_in_english_and_a_valid_connector_is_quiet(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "octo").ok
    assert run("check").out.count("connector") == 0
    note = en_lab / "papers/octo.md"
    edit(note, "connector: none", "connector: Perceiver")
    found = run("check")
    assert (
        f"papers/octo.md:{line_of(note, 'connector:')}: unknown connector 'Perceiver'" in found.out
    )


# --- lab compare ------------------------------------------------------------------------------


def test_compare_in_the_terminal_puts_a_few_papers_side_by_side(in_lab: Run) -> None:
    result = in_lab("compare", "blip-2", "llava", "flamingo")
    assert result.ok, result
    lines = result.out.splitlines()
    assert lines[0].split() == ["维度", "blip-2", "llava", "flamingo"]
    connector = next(line for line in lines if line.startswith("连接器"))
    assert re.split(r"\s{2,}", connector) == [
        "连接器",
        "Q-Former",
        "linear projection",
        "Perceiver Resampler + gated cross-attention",
    ]
    assert next(line for line in lines if line.startswith("年份")).split() == [
        "年份",
        "2023",
        "2023",
        "2022",
    ]


def test_compare_as_markdown_is_a_github_table_with_empty_cells_for_unknowns(en_lab: Path) -> None:
    result = Run(en_lab)(
        "compare", "blip-2", "llava-next", "qwen-vl", "--format", "md", "--layout", "rows"
    )
    assert result.ok, result
    rows = [split_row(line) for line in result.out.splitlines()]
    assert rows[0] == ["Paper", "Year", "Venue", "Vision encoder", "Connector", "LLM", "Resolution"]
    assert rows[1] == ["---"] * 7 and len(rows) == 5
    assert rows[2][:5] == [
        "blip-2",
        "2023",
        "ICML 2023",
        "EVA-CLIP ViT-g/14 (frozen; LAVIS also ships a CLIP ViT-L variant)",
        "Q-Former",
    ]
    assert rows[3] == ["llava-next", "2024", "", "", "", "", ""]  # unchecked: never guessed
    assert rows[4][2] == ""  # Qwen-VL has no confirmed venue


def test_compare_as_json_says_where_each_facet_comes_from(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "llava").ok
    edit(lab / "papers/llava.md", "connector: linear projection", "connector: MLP (2-layer)")
    found = json.loads(in_lab("compare", "llava", "pi0", "openvla", "--json").out)
    assert [(p["key"], p["source"]) for p in found] == [
        ("llava", "lab"),
        ("pi0", "catalog"),
        ("openvla", "lab"),  # on the starter reading list
    ]
    llava, pi0, openvla = found
    assert llava["facets"]["connector"] == "MLP (2-layer)"  # the note's hand edit wins
    assert llava["note"] == "papers/llava.md" and llava["facets"]["trainable"] is None
    assert pi0["facets"] is None and pi0["venue"] == "RSS 2025"
    assert openvla["facets"]["connector"] == "MLP (3-layer)"


def test_compare_selects_by_facet_from_the_lab_and_the_catalog(en_lab: Path) -> None:
    run = Run(en_lab)

    def keys(*args: str) -> list[str]:
        result = run("compare", *args, "--json")
        assert result.ok, result
        return [p["key"] for p in json.loads(result.out)]

    assert keys("--connector", "Q-Former") == ["blip-2", "instructblip"]
    assert keys("--connector", "mlp", "--encoder", "siglip") == ["janus", "openvla"]
    assert keys("--llm", "vicuna", "--resolution", "336") == ["llava-1.5"]
    assert keys("blip-2", "llava", "--connector", "q-former") == ["blip-2"]
    assert len(keys()) == 12
    nothing = run("compare", "--connector", "visual expert")
    assert nothing.ok and nothing.out == "" and "no paper matches" in nothing.err


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (
            ["--connector", "adapter"],
            "error: unknown connector 'adapter'; valid: linear projection",
        ),
        (["blip-3"], "error: no paper matches 'blip-3'; did you mean blip-2"),
        (["blip-2", "--format", "html"], "error: unknown format 'html'; valid: table, md"),
        (["blip-2", "--layout", "diagonal"], "error: unknown layout 'diagonal'; valid: rows"),
    ],
)
def test_compare_refuses_in_one_line(run: Run, args: list[str], problem: str) -> None:
    result = run("compare", *args)  # outside any lab: the catalog alone
    assert result.code == 1 and result.out == "", result
    assert result.err.startswith(problem) and result.err.count("\n") == 1, result.err


# --- lab list papers --connector --encoder ------------------------------------------------------


def test_list_papers_by_facet(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "llava").ok

    def keys(*args: str) -> list[str]:
        return [p["key"] for p in json.loads(in_lab("list", "papers", *args, "--json").out)]

    assert keys("--connector", "linear projection") == ["llava"]  # minigpt-4 is not in the lab
    assert keys("--connector", "q-former") == ["blip-2", "instructblip"]  # listed: the catalog's
    assert keys("--encoder", "siglip", "--connector", "mlp") == ["janus", "openvla"]
    edit(lab / "papers/llava.md", "connector: linear projection", "connector: Q-Former")
    assert keys("--connector", "q-former") == ["blip-2", "instructblip", "llava"]
    wrong = in_lab("list", "notes", "--encoder", "clip")
    assert wrong.code == 1 and "--encoder 不适用于 `lab list notes`" in wrong.err


# --- the generated view -------------------------------------------------------------------------


def test_the_view_groups_the_labs_multimodal_papers_by_connector(lab: Path) -> None:
    body = region(lab)
    headings = re.findall(r"^### (.+)$", body, re.M)
    assert headings == [
        "linear projection",
        "MLP (2-layer)",
        "MLP (3-layer)",
        "Q-Former",
        "Perceiver Resampler + gated cross-attention",
        "cross-attention resampler",
        "连接器尚未填写",
        "连接器与视觉编码器的演进（按年份）",
    ]
    assert "| [BLIP-2](https://arxiv.org/abs/2301.12597) | 2023 | ICML 2023 | EVA-CLIP" in body
    assert (
        "| [llava-next](https://llava-vl.github.io/blog/2024-01-30-llava-next/) | 2024 |  |  |  |  |"
        in body
    )
    for line in body.splitlines():
        if line.startswith("| "):
            assert len(split_row(line)) == 6, line
    diagram = body.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert mermaid_problems(diagram) == []
    assert diagram.index("Q-Former") < diagram.index("MLP (3-layer)")  # 2023 before 2024


def test_the_view_follows_a_hand_edit_of_a_notes_facet(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "llava").ok
    assert "| [LLaVA](llava.md) |" in region(lab).split("### MLP (2-layer)")[0]
    edit(lab / "papers/llava.md", "connector: linear projection", "connector: MLP (2-layer)")
    stale = in_lab("sync", "--check")
    assert stale.code == 1
    line = line_of(lab / "papers/README.md", "<!-- lab:begin compare")
    assert f"papers/README.md:{line}: " in stale.out
    assert in_lab("mark", "blip-2", "read").ok  # any write brings every view up to date
    body = region(lab)
    assert "| [LLaVA](llava.md) |" in body.split("### MLP (2-layer)")[1].split("###")[0]
    assert "### linear projection" not in body
    assert in_lab("sync", "--check").ok


def test_a_hand_edit_inside_the_view_is_refused_then_forced(in_lab: Run, lab: Path) -> None:
    readme = lab / "papers/README.md"
    edit(readme, "### Q-Former\n", "### Q-Former!\n")
    line = line_of(readme, "### Q-Former!")
    refused = in_lab("mark", "blip-2", "read")
    assert refused.code == 1 and f"papers/README.md:{line}:" in refused.err
    assert "⬜ | blip-2" in read(readme)  # nothing written
    forced = in_lab("sync", "--force")
    assert forced.ok and ".lab-trash/" in forced.err
    assert "### Q-Former!\n" not in read(readme) and in_lab("sync", "--check").ok


def test_a_lab_from_before_gets_the_view_and_keeps_its_table(in_lab: Run, lab: Path) -> None:
    readme = lab / "papers/README.md"
    text = read(readme)
    start = text.index("<!-- lab:begin compare")
    stop = text.index("<!-- lab:end compare -->\n") + len("<!-- lab:end compare -->\n")
    readme.write_text(text[:start] + text[stop:], "utf-8")
    assert in_lab("sync", "--check").code == 1
    assert in_lab("sync").ok
    after = read(readme)
    assert after.count("<!-- lab:begin papers") == 1 and after.count("<!-- lab:begin compare") == 1
    assert after.index("<!-- lab:end papers -->") < after.index("<!-- lab:begin compare")
    assert in_lab("sync", "--check").ok


def test_an_empty_lab_says_how_to_start(en_lab: Path) -> None:
    body = compare_region([], {}, "en", "papers/README.md")
    assert body.startswith("## Architecture comparison\n")
    assert "_No multimodal paper in the lab yet" in body and "```mermaid" not in body
    assert "## Architecture comparison" in read(en_lab / "papers/README.md")


@settings(max_examples=80, deadline=None)
@given(st.text(min_size=1), st.text(min_size=1))
def test_any_facet_text_keeps_the_views_tables_and_diagram_valid(
    encoder: str, connector: str
) -> None:
    odd = Paper(
        key="odd",
        title="Odd",
        year=2024,
        topic="multimodal",
        vision_encoder=" ".join(encoder.split()) or None,
        connector=" ".join(connector.split()) or None,
        note="papers/odd.md",
    )
    body = compare_region([odd, CATALOG["blip-2"]], F.catalog_facets(), "zh", "papers/README.md")
    for line in body.splitlines():
        if line.startswith("| "):
            assert len(split_row(line)) == 6, line
    if "```mermaid\n" in body:
        assert mermaid_problems(body.split("```mermaid\n", 1)[1].split("```", 1)[0]) == []


# --- core ------------------------------------------------------------------------------------


def test_a_notes_facets_are_its_own_and_a_listed_paper_takes_the_catalogs() -> None:
    table = F.catalog_facets()
    noted = CATALOG["llava"]._replace(note="papers/llava.md", connector="MLP (2-layer)")
    bare_note = CATALOG["blip-2"]._replace(note="papers/blip-2.md")
    listed = CATALOG["flamingo"]
    entries = F.lab_entries([noted, bare_note, listed], table)
    assert entries[0].facets is not None and entries[0].facets.connector == "MLP (2-layer)"
    assert entries[0].facets.name == table["llava"].name and entries[0].facets.vision_encoder == ""
    assert entries[1].facets is None  # a note without facets has none: never filled in for it
    assert entries[2].facets == table["flamingo"]


def test_groups_put_unknown_connectors_after_the_vocabulary() -> None:
    papers = [
        Paper(key="a", title="A", year=2024, connector="adapter", note="papers/a.md"),
        Paper(key="b", title="B", year=2023, llm="x", note="papers/b.md"),
        Paper(key="c", title="C", year=2022, connector="Q-Former", note="papers/c.md"),
    ]
    groups = F.by_connector(F.lab_entries(papers, {}))
    assert list(groups) == ["Q-Former", "adapter", ""]


def test_a_huge_timeline_gives_one_node_per_year_and_connector() -> None:
    papers = [
        Paper(
            key=f"m{n}",
            title=f"M{n}",
            year=2020 + n % 5,
            connector=F.CONNECTORS[n % 4],
            vision_encoder="CLIP ViT-L/14 " + "x" * 200,
            note=f"papers/m{n}.md",
        )
        for n in range(400)
    ]
    text = F.timeline_mermaid(F.lab_entries(papers, {}), "en")
    assert len(text) < F.MERMAID_LIMIT and mermaid_problems(text) == []
    assert text.count('["Connector: ') == 5 * 4 and " and 14 more" in text


def test_the_fast_reader_of_facets_yaml_equals_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    text = F.FACETS_FILE.read_text("utf-8")
    expected = fm.load_yaml(text)["models"]

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the shipped facets.yaml must not need PyYAML")

    with monkeypatch.context() as patched:  # every write regenerates the view: keep it cheap
        patched.setattr(F, "load_yaml", refuse)
        assert F.read_models(text, "facets.yaml") == expected
    odd = text.replace("- key: flamingo", "- key: flamingo\n  nested:\n    a: 1", 1)
    assert F.read_models(odd, "facets.yaml")[0]["nested"] == {"a": 1}  # PyYAML took over


def test_real_processes(sh: Callable[..., object], lab: Path) -> None:
    md = sh("compare", "--connector", "q-former", "--format", "md", "--layout", "rows", cwd=lab)
    assert md.returncode == 0, md.stderr  # type: ignore[attr-defined]
    assert md.stdout.splitlines()[2].startswith("| blip-2 | 2023 | ICML 2023 |")  # type: ignore[attr-defined]
    one = sh("catalog", "openvla", "--json", cwd=lab)
    assert json.loads(one.stdout)[0]["facets"]["connector"] == "MLP (3-layer)"  # type: ignore[attr-defined]
    bad = sh("compare", "--connector", "adapter", cwd=lab)
    assert bad.returncode == 1 and bad.stderr.startswith("错误：未知的连接器 'adapter'")  # type: ignore[attr-defined]
    assert "Traceback" not in bad.stderr  # type: ignore[attr-defined]
