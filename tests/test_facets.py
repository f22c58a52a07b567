"""Architecture facets: the shipped data equals the reference's checked models, the connector
vocabulary, comparison tables in both layouts and their Markdown, selection, grouping, and
the Mermaid timeline, held to a validator of the exact Mermaid subset it emits."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_files import load, reference_dir, reference_models

from mllm_lab.catalog import catalog
from mllm_lab.core import facets as F
from mllm_lab.core.markdown import mermaid_id, split_row
from mllm_lab.errors import InvalidValue

MODELS = reference_models()
CHECKED = {key for key, model in MODELS.items() if model["checked"] is True}
ENTRIES = F.with_facets(catalog())
BY_KEY = {entry.paper.key: entry for entry in ENTRIES}


def keys(entries: list[F.Entry]) -> list[str]:
    return [entry.paper.key for entry in entries]


# --- the data -------------------------------------------------------------------------------


def test_the_catalog_ships_exactly_the_facets_of_the_checked_models() -> None:
    shipped = F.catalog_facets()
    assert len(CHECKED) == 12 and set(shipped) == CHECKED
    for key, facets in shipped.items():
        for field in F.FIELDS:
            assert facets.get(field) == str(MODELS[key][field]), (key, field)


def test_unchecked_models_have_no_facets_anywhere() -> None:
    unchecked = set(MODELS) - CHECKED
    assert unchecked == {"llava-next", "qwen2-vl", "internvl", "pi0"}
    assert all(BY_KEY[key].facets is None for key in unchecked)
    table = F.compare([BY_KEY["llava-next"]])
    assert table.rows == (("llava-next", "2024", "", "", "", "", ""),)


def test_every_model_with_facets_is_a_catalog_paper() -> None:
    assert set(F.catalog_facets()) <= set(BY_KEY)


def test_the_vocabulary_is_the_reference_vocabulary() -> None:
    header = (reference_dir() / "models.yaml").read_text("utf-8")
    block = header.split("one term of this small vocabulary:", 1)[1].split('("MLP (3-layer)', 1)[0]
    assert tuple(re.findall(r'"([^"]+)"', block)) == F.CONNECTORS
    assert {model["connector"] for model in load("models.yaml")["models"]} <= set(F.CONNECTORS)


# --- validation -----------------------------------------------------------------------------

GOOD = {"key": "m", **dict.fromkeys(F.FIELDS, "x"), "connector": "Q-Former", "resolution": 224}


def test_a_complete_entry_with_a_vocabulary_connector_is_valid() -> None:
    assert F.validate(GOOD) == []
    assert F.parse([GOOD])["m"].resolution == "224"


def test_a_connector_outside_the_vocabulary_is_one_line_naming_the_terms() -> None:
    problems = F.validate({**GOOD, "connector": "q-former"})
    assert len(problems) == 1 and "\n" not in problems[0]
    assert "'q-former'" in problems[0]
    assert all(f'"{term}"' in problems[0] for term in F.CONNECTORS)


def test_missing_unknown_and_empty_fields_are_problems() -> None:
    entry = {k: v for k, v in GOOD.items() if k != "llm"} | {"size": "7B", "trainable": " "}
    problems = F.validate(entry)
    assert problems == [
        "missing `llm`",
        "unknown field `size`",
        "`trainable` must be non-empty text, not ' '",
    ]
    with pytest.raises(ValueError, match=r"facets.yaml: m: missing `llm`"):
        F.parse([entry])
    with pytest.raises(ValueError, match="m: listed twice"):
        F.parse([GOOD, GOOD])


# --- comparison -----------------------------------------------------------------------------


def test_compare_rows_has_year_venue_and_empty_cells_for_missing_facts() -> None:
    table = F.compare([BY_KEY["blip-2"], BY_KEY["qwen-vl"]], "rows", "en")
    assert table.header[:4] == ("Paper", "Year", "Venue", "Vision encoder")
    assert table.rows[0][:5] == (
        "blip-2",
        "2023",
        "ICML 2023",
        F.catalog_facets()["blip-2"].vision_encoder,
        "Q-Former",
    )
    assert table.rows[1][2] == ""  # Qwen-VL has no checked venue
    assert F.compare([BY_KEY["janus"]], lang="zh").header[4] == "连接器"


def test_compare_columns_is_the_transpose_of_rows() -> None:
    picked = [BY_KEY[k] for k in ("flamingo", "llava", "pi0")]
    rows = F.compare(picked, "rows", columns=F.FIELDS)
    columns = F.compare(picked, "columns", columns=F.FIELDS)
    assert columns.header == ("Facet", "flamingo", "llava", "pi0")
    transposed = list(zip(*[r[1:] for r in rows.rows], strict=True))
    assert [c[1:] for c in columns.rows] == transposed
    assert [c[0] for c in columns.rows] == list(rows.header[1:])
    with pytest.raises(InvalidValue):
        F.compare(picked, "diagonal")  # type: ignore[arg-type]


def test_markdown_escapes_pipes_line_breaks_and_emphasis() -> None:
    odd = F.catalog_facets()["octo"]._replace(llm="a | b\nc", trainable="*hf_model*")
    entries = [F.Entry(BY_KEY["octo"].paper, odd), BY_KEY["llava-next"]]
    text = F.markdown_table(F.compare(entries, columns=(*F.TABLE_FIELDS, "trainable")))
    lines = text.splitlines()
    assert len(lines) == 4 and lines[1].startswith("| --- |")
    assert all(len(split_row(line)) == 8 for line in lines)
    assert "a &#124; b<br>c" in lines[2] and r"\*hf\_model\*" in lines[2]


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1))
def test_any_facet_text_keeps_the_table_shape(text: str) -> None:
    odd = F.catalog_facets()["llava"]._replace(connector_note=text, vision_encoder=text)
    table = F.compare([F.Entry(BY_KEY["llava"].paper, odd)], columns=F.FIELDS)
    # CommonMark ends a line at \n or \r only (str.splitlines would also split at \x85)
    lines = F.markdown_table(table).removesuffix("\n").split("\n")
    assert len(lines) == 3 and all(len(split_row(line)) == len(table.header) for line in lines)


def test_records_are_plain_data_with_none_for_missing_facets() -> None:
    found = F.records([BY_KEY["blip-2"], BY_KEY["pi0"]])
    assert found[0]["facets"]["connector"] == "Q-Former" and found[1]["facets"] is None
    assert (found[1]["year"], found[1]["venue"]) == (2024, "RSS 2025")


# --- selection and grouping -----------------------------------------------------------------


def test_by_facet_is_case_insensitive() -> None:
    assert keys(F.by_facet(ENTRIES, "connector", "q-former")) == ["blip-2", "instructblip"]
    assert set(keys(F.by_facet(ENTRIES, "connector", "MLP"))) == {
        "llava-1.5",
        "qwen2.5-vl",
        "internvl-1.5",
        "janus",
        "openvla",
    }
    assert keys(F.by_facet(ENTRIES, "connector", "MLP (2-layer)")) == [
        "llava-1.5",
        "qwen2.5-vl",
        "internvl-1.5",
        "janus",
    ]
    assert set(keys(F.by_facet(ENTRIES, "encoder", "siglip"))) == {"janus", "openvla"}
    assert keys(F.by_facet(ENTRIES, "llm", "QWEN-7b")) == ["qwen-vl"]


def test_by_facet_never_selects_a_paper_without_facets() -> None:
    # the reference's unchecked LLaVA-NeXT and π0 do use CLIP / SigLIP encoders
    found = keys(F.by_facet(ENTRIES, "vision-encoder", "clip"))
    assert "llava-next" not in found and "blip-2" in found
    assert "pi0" not in keys(F.by_facet(ENTRIES, "encoder", "siglip"))


def test_an_unknown_connector_or_facet_names_the_valid_ones() -> None:
    with pytest.raises(InvalidValue, match="Q-Former"):
        F.by_facet(ENTRIES, "connector", "adapter")
    with pytest.raises(InvalidValue, match="vision_encoder"):
        F.by_facet(ENTRIES, "colour", "red")


def test_grouping_by_connector_follows_the_vocabulary_then_the_year() -> None:
    groups = F.by_connector(ENTRIES)
    assert list(groups) == [term for term in F.CONNECTORS if term in groups]
    assert sum(len(group) for group in groups.values()) == 12
    assert keys(groups["Q-Former"]) == ["blip-2", "instructblip"]
    for group in groups.values():
        years = [entry.paper.year or 0 for entry in group]
        assert years == sorted(years)


# --- Mermaid --------------------------------------------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"(?P<label>[^"]*)"'
_LINES = {
    "subgraph": re.compile(rf"subgraph (?P<id>{_ID})\[{_LABEL}\]"),
    "node": re.compile(rf"(?P<id>{_ID})\[{_LABEL}\]"),
    "edge": re.compile(rf"(?P<id>{_ID}) --> (?P<to>{_ID})"),
}
_RESERVED = {
    "end",
    "subgraph",
    "graph",
    "flowchart",
    "direction",
    "style",
    "classdef",
    "class",
    "click",
    "linkstyle",
    "call",
    "href",
    "default",
    "lr",
    "rl",
    "tb",
    "td",
    "bt",
}


def _balanced(line: str) -> bool:
    if line.count('"') % 2:
        return False
    stack: list[str] = []
    for char in re.sub(r'"[^"]*"', '""', line):
        if char in "[(":
            stack.append(char)
        elif char in "])" and (not stack or stack.pop() != {"]": "[", ")": "("}[char]):
            return False
    return not stack


def _label_problem(label: str) -> str | None:
    bare = label.replace("<br>", "")
    if re.search(r"[<>`]", bare) or re.search(r"#(?![a-z0-9]+;)", bare):
        return f"unescaped character in label {label!r}"
    return None


def mermaid_problems(text: str) -> list[str]:
    """Problems of `text` as the subset timeline_mermaid emits: `flowchart LR|TB`, then
    `subgraph ID["label"]` ... `end` (not nested), `ID["label"]` nodes and `ID --> ID` edges."""
    lines = text.splitlines()
    if not lines or lines[0] not in ("flowchart LR", "flowchart TB"):
        return ["line 1: not `flowchart LR` or `flowchart TB`"]
    problems, defined, edges, depth = [], set(), [], 0
    for number, line in enumerate(lines[1:], 2):
        stripped = line.strip()
        if not _balanced(stripped):
            problems.append(f"line {number}: unbalanced quotes or brackets")
        if stripped == "end":
            depth -= 1
            problems += [f"line {number}: `end` without subgraph"] if depth < 0 else []
            continue
        kind, match = next(
            ((k, p.fullmatch(stripped)) for k, p in _LINES.items() if p.fullmatch(stripped)),
            (None, None),
        )
        if match is None:
            problems.append(f"line {number}: not in the subset: {stripped!r}")
            continue
        ids = [match["id"]] + ([match["to"]] if kind == "edge" else [])
        problems += [
            f"line {number}: reserved word {i!r} as an id" for i in ids if i.lower() in _RESERVED
        ]
        if kind == "edge":
            edges.append((number, ids))
            continue
        if match["id"] in defined:
            problems.append(f"line {number}: {match['id']} defined twice")
        defined.add(match["id"])
        problems += [f"line {number}: {p}" for p in [_label_problem(match["label"])] if p]
        if kind == "subgraph":
            depth += 1
            problems += [f"line {number}: nested subgraph"] if depth > 1 else []
    problems += ["unclosed subgraph"] if depth > 0 else []
    problems += [
        f"line {n}: edge to undefined {i}" for n, ids in edges for i in ids if i not in defined
    ]
    return problems


@pytest.mark.parametrize(
    "bad",
    [
        'flowchart LR\n    end["x"]\n',
        'flowchart LR\n    a["x"]\n    a --> b\n',
        'flowchart LR\n    subgraph y["2023"]\n        a["x"]\n',
        'flowchart LR\n    a["x]\n',
        "flowchart LR\n    a[x]\n",
        'flowchart LR\n    a["<b>x</b>"]\n',
        'graph TD\n    a["x"]\n',
        'flowchart LR\n    subgraph y["1"]\n    subgraph z["2"]\n    end\n    end\n',
    ],
)
def test_the_validator_rejects_what_mermaid_would_misread(bad: str) -> None:
    assert mermaid_problems(bad) != []


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_the_timeline_is_valid_mermaid_of_the_facts_ordered_by_year(
    lang: str, direction: str
) -> None:
    text = F.timeline_mermaid(ENTRIES, lang, direction)  # type: ignore[arg-type]
    assert mermaid_problems(text) == []
    years = re.findall(r'subgraph y(\d{4})\["(\d{4})"\]', text)
    assert [a for a, _ in years] == sorted({str(BY_KEY[k].paper.year) for k in CHECKED})
    assert re.findall(r"y(\d{4}) --> y(\d{4})", text) == list(pairwise(a for a, _ in years))
    nodes = re.findall(r'^        (m_\w+)\["([^"]*)"\]$', text, re.M)
    assert len(nodes) == 12
    for key in CHECKED:
        facets = F.catalog_facets()[key]
        label = next(lbl for node, lbl in nodes if node == mermaid_id(key, "m"))
        assert f"{F.label('connector', lang)}: {facets.connector}" in label
        assert F.short_name(facets) in label
    assert "llava-next" not in text.lower() and "LLaVA-NeXT" not in text


def test_the_timeline_puts_flamingo_before_blip_2() -> None:
    text = F.timeline_mermaid(ENTRIES)
    assert text.index("Perceiver Resampler") < text.index("Q-Former")
    assert F.timeline_mermaid([BY_KEY["llava-next"]]) == "flowchart LR\n"


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1), st.text(min_size=1))
def test_any_facet_text_gives_valid_mermaid(encoder: str, name: str) -> None:
    odd = F.catalog_facets()["llava"]._replace(vision_encoder=encoder, name=name)
    text = F.timeline_mermaid([F.Entry(BY_KEY["llava"].paper, odd), BY_KEY["blip-2"]])
    assert mermaid_problems(text) == []
