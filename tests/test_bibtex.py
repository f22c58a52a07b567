"""BibTeX exchange: reading real files (tests/fixtures/real.bib), planning an import against a
lab that already has some of the papers, and exporting papers that read back the same."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core.arxivid import find_arxiv_id, parse_arxiv_id, split_arxiv_id
from mllm_lab.core.bibtex import (
    OTHERS,
    Action,
    BibEntry,
    Planned,
    bibtex_key,
    decode_latex,
    export_bibtex,
    new_key,
    parse_bibtex,
    plan_import,
)
from mllm_lab.core.bibtex.export import escape_latex, protect_title
from mllm_lab.core.bibtex.plan import fuller_authors
from mllm_lab.core.slugs import MAX_KEY, SLUG_RE
from mllm_lab.models import Paper

FIXTURE = Path(__file__).parent / "fixtures" / "real.bib"
TEXT = FIXTURE.read_text("utf-8")
ENTRIES, PROBLEMS = parse_bibtex(TEXT)
BY_KEY = {e.bibkey: e for e in ENTRIES}  # a duplicate key maps to its last entry

# A lab that already has some of the papers. Facts as in mllm_lab/data/catalog.yaml (checked
# against each paper's README/BibTeX); llava's full author list is the one in LLaVA's README.
LAB = [
    Paper(
        "llava",
        "Visual Instruction Tuning",
        authors=("Haotian Liu", "Chunyuan Li", "Qingyang Wu", "Yong Jae Lee"),
        year=2023,
        venue="NeurIPS 2023",
        arxiv="2304.08485",
        bibkey="liu2023llava",  # imported before: the lab knows its citation key
    ),
    Paper(
        "llava-1.5",
        "Improved Baselines with Visual Instruction Tuning",
        authors=("Haotian Liu et al.",),
        year=2023,
        venue="CVPR 2024",
        arxiv="2310.03744",
    ),
    Paper(
        "blip-2",
        "BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and "
        "Large Language Models",
        authors=("Junnan Li et al.",),
        year=2023,
        venue="ICML 2023",
        arxiv="2301.12597",
    ),
    Paper(
        "clip",
        "Learning Transferable Visual Models From Natural Language Supervision",
        authors=("Alec Radford et al.",),
        year=2021,
        arxiv="2103.00020",
    ),
    Paper(
        "bert",
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
        authors=("Jacob Devlin et al.",),
        year=2018,
        venue="NAACL 2019",
        arxiv="1810.04805",
    ),
    Paper(
        "internvl",
        "InternVL: Scaling up Vision Foundation Models and Aligning for Generic "
        "Visual-Linguistic Tasks",
        authors=("Zhe Chen et al.",),
        year=2023,
        venue="CVPR 2024",
        arxiv="2312.14238",
    ),
    Paper("openvla", "OpenVLA: An Open-Source Vision-Language-Action Model", arxiv="2406.09246"),
]


def line_of(marker: str) -> int:
    """The 1-based line of the first line of the fixture that starts with `marker`."""
    lines = TEXT.splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(marker))


# --- reading ---------------------------------------------------------------------------------


def test_entries_come_in_file_order_with_their_lines() -> None:
    assert [e.line for e in ENTRIES] == sorted(e.line for e in ENTRIES)
    assert BY_KEY["kim24openvla"].line == line_of("@article{kim24openvla,")
    assert BY_KEY["Radford2021LearningTV"].entry_type == "inproceedings"
    assert BY_KEY["patashnikStyleCLIPTextDrivenManipulation2021"].entry_type == "online"


@pytest.mark.parametrize(
    ("bibkey", "title"),
    [
        ("li2023blip2", "BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image "
         "Encoders and Large Language Models"),
        ("simeoni2025dinov3", "DINOv3"),
        ("gao2024mini", "Mini-InternVL: a flexible-transfer pocket multi-modal model with 5% "
         "parameters and 90% performance"),
        ("devlinBERTPretrainingDeep2019", "BERT: Pre-training of Deep Bidirectional "
         "Transformers for Language Understanding"),
        ("patashnik_styleclip_2021", "StyleCLIP: Text-Driven Manipulation of StyleGAN Imagery"),
        ("Qwen-VL", "Qwen-VL: A Versatile Vision-Language Model for Understanding, "
         "Localization, Text Reading, and Beyond"),
    ],
)  # fmt: skip
def test_titles_are_decoded_to_plain_unicode(bibkey: str, title: str) -> None:
    assert BY_KEY[bibkey].title == title


def test_authors_are_first_last_with_accents_decoded() -> None:
    assert BY_KEY["kim24openvla"].authors[:2] == ("Moo Jin Kim", "Karl Pertsch")
    assert len(BY_KEY["kim24openvla"].authors) == 18
    dinov3 = BY_KEY["simeoni2025dinov3"].authors
    assert {"Oriane Siméoni", "Michaël Ramamonjisoa", "Hervé Jégou", "Huy V. Vo"} <= set(dinov3)
    llama = BY_KEY["touvron2023llama"].authors
    assert {"Timothée Lacroix", "Baptiste Rozière", "Marie-Anne Lachaux"} <= set(llama)
    assert BY_KEY["oquab2023dinov2"].authors[1] == "Timothée Darcet"  # UTF-8 in the file
    assert BY_KEY["Radford2021LearningTV"].authors[3] == "A. Ramesh"
    assert BY_KEY["devlinBERTPretrainingDeep2019"].authors == (
        "Jacob Devlin",
        "Ming-Wei Chang",
        "Kenton Lee",
        "Kristina Toutanova",
    )


def test_and_others_is_kept_as_a_marker() -> None:
    authors = BY_KEY["wang2025internvl3_5"].authors
    assert authors[0] == "Weiyun Wang" and authors[-1] == OTHERS and len(authors) == 11
    assert OTHERS not in BY_KEY["touvron2023llama"].authors


@pytest.mark.parametrize(
    ("bibkey", "arxiv"),
    [
        ("liu2023improvedllava", "2310.03744"),  # publisher={arXiv:2310.03744}
        ("instructblip", "2305.06500"),  # eprint + archivePrefix
        ("Qwen-VL", "2308.12966"),  # journal={arXiv preprint arXiv:2308.12966}
        ("oquab2023dinov2", "2304.07193"),  # journal={arXiv:2304.07193}
        ("simeoni2025dinov3", "2508.10104"),
        ("patashnik_styleclip_2021", "2103.17249"),  # Zotero: url, doi and note
        ("devlinBERTPretrainingDeep2019", "1810.04805"),  # Better BibTeX: lower-case fields
        ("patashnikStyleCLIPTextDrivenManipulation2021", "2103.17249"),  # biblatex eprinttype
        ("radford2021clip", "2103.00020"),  # quoted value
        ("liu2023llava", None),
        ("li2023blip2", None),
        ("chen2024far", None),
    ],
)
def test_arxiv_ids_are_found_wherever_files_put_them(bibkey: str, arxiv: str | None) -> None:
    assert BY_KEY[bibkey].arxiv == arxiv


@pytest.mark.parametrize(
    ("bibkey", "venue"),
    [
        ("Radford2021LearningTV", "ICML"),
        ("gao2024mini", "Visual Intelligence"),
        ("chen2024internvl", "Proceedings of the IEEE/CVF Conference on Computer Vision and "
         "Pattern Recognition"),
        ("radford2021clip", "International Conference on Machine Learning 2021"),  # @string + #
        ("Qwen-VL", None),  # "arXiv preprint" is no venue
        ("oquab2023dinov2", None),
        ("liu2023llava", None),  # a publisher is no venue
    ],
)  # fmt: skip
def test_venue_comes_from_booktitle_or_journal_but_never_arxiv(bibkey: str, venue: str) -> None:
    assert BY_KEY[bibkey].venue == venue


def test_years_months_dois_and_urls() -> None:
    assert (BY_KEY["liu2024llavanext"].year, BY_KEY["liu2024llavanext"].month) == (2024, 1)
    bert = BY_KEY["devlinBERTPretrainingDeep2019"]
    assert (bert.year, bert.month, bert.doi) == (2019, 5, "10.48550/arXiv.1810.04805")
    online = BY_KEY["patashnikStyleCLIPTextDrivenManipulation2021"]
    assert (online.year, online.month) == (2021, 3)  # from biblatex's `date`
    assert BY_KEY["patashnik_styleclip_2021"].month == 3  # `month = mar`, a macro
    assert (
        BY_KEY["liu2024llavanext"].url == "https://llava-vl.github.io/blog/2024-01-30-llava-next/"
    )
    assert BY_KEY["radford2021clip"].year == 2021  # a bare number


def test_broken_entries_are_reported_with_their_lines_and_reading_goes_on() -> None:
    found = {(p.line, p.code) for p in PROBLEMS}
    assert found == {
        (line_of("@misc{darcet2023broken"), "unreadable"),
        (line_of("@misc{darcet2023unbalanced"), "unreadable"),
        (line_of("@misc{dinov3-twice") + 2, "duplicate-field"),  # the second title
        (line_of("  year={n.d.}"), "bad-year"),
        (line_of("    journal = corl"), "undefined-string"),
        (line_of("@article{kim24openvla-cut"), "unreadable"),
    }
    assert "qwenvl-notitle" in BY_KEY  # right after the unbalanced entry
    assert "darcet2023broken" not in BY_KEY and "kim24openvla-cut" not in BY_KEY
    assert BY_KEY["dinov3-twice"].title == "DINOv3"  # the first of the two titles
    for problem in PROBLEMS:
        assert problem.message("en") and problem.message("zh") != problem.message("en")


def test_duplicate_keys_are_all_returned_for_the_planner() -> None:
    blip = [e for e in ENTRIES if e.bibkey == "li2023blip2"]
    assert len(blip) == 2 and blip[0].title == blip[1].title


@pytest.mark.parametrize("text", ["", "no entries here", "@", "@misc{", "}}}{{{", "@string{x"])
def test_any_text_is_read_without_raising(text: str) -> None:
    entries, problems = parse_bibtex(text)
    assert all(isinstance(p.line, int) and p.line >= 1 for p in problems)
    assert all(isinstance(e, BibEntry) for e in entries)


@given(st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_parse_never_raises(text: str) -> None:
    parse_bibtex(text)


def test_latex_decoding() -> None:
    assert decode_latex(r"{\'E}cole  na{\"\i}ve\\ ~x") == "École naïve x"
    assert decode_latex("100% sure") == "100% sure"  # a bare % is a percent sign in BibTeX


# --- planning --------------------------------------------------------------------------------

PLAN = plan_import(ENTRIES, LAB, today=date(2026, 11, 25))
BY_LINE = {d.entry.line: d for d in PLAN}


def decision(bibkey: str, nth: int = 0) -> Planned:
    return [d for d in PLAN if d.entry.bibkey == bibkey][nth]


def test_every_entry_gets_one_decision() -> None:
    assert [d.entry for d in PLAN] == ENTRIES


@pytest.mark.parametrize(
    ("bibkey", "action", "key"),
    [
        ("liu2023improvedllava", Action.UPDATE, "llava-1.5"),  # by arXiv id
        ("li2023blip2", Action.UPDATE, "blip-2"),  # by title: the entry has no arXiv id
        ("Radford2021LearningTV", Action.UPDATE, "clip"),
        ("chen2024internvl", Action.UPDATE, "internvl"),  # title, case aside
        ("kim24openvla", Action.UPDATE, "openvla"),
        ("devlinBERTPretrainingDeep2019", Action.UPDATE, "bert"),
        ("liu2023llava", Action.SKIP, "llava"),  # the lab already knows all of it
        ("liu2024llavanext", Action.CREATE, "llava-next"),  # the name before the colon
        ("Qwen-VL", Action.CREATE, "qwen-vl"),
        ("wang2025internvl3_5", Action.CREATE, "internvl3.5"),
        ("simeoni2025dinov3", Action.CREATE, "dinov3"),
        ("chen2024expanding", Action.CREATE, "expanding-performance"),
        ("patashnik_styleclip_2021", Action.CREATE, "styleclip"),
    ],
)
def test_plan_against_a_lab_with_some_of_the_papers(bibkey: str, action: Action, key: str) -> None:
    planned = decision(bibkey)
    assert (planned.action, planned.key) == (action, key)
    assert planned.message("en") and planned.message("zh")


def test_updates_fill_gaps_and_never_overwrite_the_lab() -> None:
    bert = decision("devlinBERTPretrainingDeep2019")
    assert bert.changes == ("authors", "bibkey") and bert.paper is not None
    assert bert.paper.bibkey == "devlinBERTPretrainingDeep2019"  # the citation key is kept
    assert bert.paper.year == 2018  # the lab's first-version year, not Zotero's 2019
    assert bert.paper.authors[1] == "Ming-Wei Chang"
    clip = decision("Radford2021LearningTV")
    assert clip.changes == ("authors", "venue", "bibkey")
    assert clip.paper and clip.paper.venue == "ICML"
    blip = decision("li2023blip2")
    assert blip.paper and blip.paper.venue == "ICML 2023" and blip.paper.title == LAB[2].title
    openvla = decision("kim24openvla")
    assert openvla.changes == ("authors", "year", "bibkey")


def test_skips_say_why() -> None:
    assert decision("liu2023llava").reason == "identical"
    assert decision("li2023blip2", 1).reason == "duplicate-key"
    assert decision("li2023blip2", 1).detail == str(line_of("@inproceedings{li2023blip2,"))
    assert decision("radford2021clip").reason == "duplicate"  # CLIP again, another key
    assert decision("patashnikStyleCLIPTextDrivenManipulation2021").reason == "duplicate"
    assert decision("qwenvl-notitle").reason == "no-title"
    assert decision("dinov3-twice").reason == "duplicate"


def test_new_papers_carry_the_entry_facts() -> None:
    planned = decision("wang2025internvl3_5")
    paper = planned.paper
    assert paper is not None and paper.arxiv == "2508.18265" and paper.year == 2025
    assert paper.authors[-1] == OTHERS and paper.created == date(2026, 11, 25)
    assert paper.url is None  # Paper.link gives the abs page
    styleclip = decision("patashnik_styleclip_2021").paper
    assert styleclip is not None and styleclip.url is None and styleclip.arxiv == "2103.17249"
    mini = decision("gao2024mini").paper
    assert mini is not None and mini.venue == "Visual Intelligence"


def test_no_paper_is_planned_twice() -> None:
    written = [d.key for d in PLAN if d.action is not Action.SKIP]
    assert len(written) == len(set(written))
    created = [d.paper.title.casefold() for d in PLAN if d.action is Action.CREATE and d.paper]
    assert len(created) == len(set(created))
    assert {d.key for d in PLAN if d.action is Action.CREATE}.isdisjoint(p.key for p in LAB)


def apply(plan: list[Planned], lab: list[Paper]) -> list[Paper]:
    papers = {p.key: p for p in lab}
    for planned in plan:
        if planned.action is not Action.SKIP:
            assert planned.key and planned.paper
            papers[planned.key] = planned.paper
    return list(papers.values())


def test_importing_the_same_file_again_changes_nothing() -> None:
    again = plan_import(ENTRIES, apply(PLAN, LAB))
    assert {d.action for d in again} == {Action.SKIP}
    reasons = {d.entry.bibkey: d.reason for d in again}
    assert reasons["wang2025internvl3_5"] == "identical"
    assert reasons["devlinBERTPretrainingDeep2019"] == "identical"


def test_an_empty_lab_creates_each_paper_once() -> None:
    plan = plan_import(ENTRIES, [])
    created = [d for d in plan if d.action is Action.CREATE]
    assert not [d for d in plan if d.action is Action.UPDATE]
    assert len(created) == 21  # 27 entries: 2 duplicates, a reused key, no title, 2 repeats
    keys = [d.key for d in created]
    assert len(set(keys)) == len(keys) and all(k and len(k) <= MAX_KEY for k in keys)
    assert all(k and SLUG_RE.match(k) for k in keys)


def test_reserved_keys_are_not_given_to_new_papers() -> None:
    planned = plan_import([BY_KEY["simeoni2025dinov3"]], [], reserved=["DINOv3"])
    assert planned[0].key == "dinov3-2"


def test_a_title_match_is_not_taken_across_two_arxiv_ids() -> None:
    other = Paper("other", "Vision Transformers Need Registers", arxiv="2401.00001")
    planned = plan_import([BY_KEY["darcet2023vitneedreg"]], [other])
    assert planned[0].action is Action.CREATE and planned[0].key != "other"


def test_a_title_shared_by_two_lab_papers_is_ambiguous() -> None:
    lab = [Paper("a", "Visual Instruction Tuning"), Paper("b", "visual instruction tuning!")]
    planned = plan_import([BY_KEY["liu2023llava"]], lab)
    assert (planned[0].reason, planned[0].detail) == ("ambiguous", "a, b")


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("BLIP-2: Bootstrapping Language-Image Pre-training", "blip-2"),
        ("Visual Instruction Tuning", "visual-instruction"),  # 3 words would pass 24 chars
        ("Improved Baselines with Visual Instruction Tuning", "improved-baselines"),
        ("LLaVA-NeXT: Improved reasoning, OCR, and world knowledge", "llava-next"),
        ("Qwen2.5-VL Technical Report", "qwen2.5-vl-technical"),
        ("Attention Is All You Need", "attention-all-you"),
        ("多模态大模型综述", "duo-mo-tai-da-mo-xing"),  # syllables, cut at 24 chars
    ],
)
def test_new_keys_are_short_and_readable(title: str, key: str) -> None:
    assert new_key(title, set()) == key


def test_new_keys_are_unique() -> None:
    assert new_key("BLIP-2: Bootstrapping", {"blip-2"}) == "blip-2-2"
    assert new_key("BLIP-2: Bootstrapping", {"blip-2", "blip-2-2"}) == "blip-2-3"


@given(st.text(min_size=1, max_size=120), st.sets(st.text(max_size=30), max_size=5))
@settings(max_examples=200, deadline=None)
def test_new_keys_always_fit(title: str, taken: set[str]) -> None:
    key = new_key(title, taken)
    assert 0 < len(key) <= MAX_KEY and SLUG_RE.match(key) and key not in taken


def test_fuller_authors() -> None:
    assert fuller_authors(("A B", "C D"), ("A B et al.",))
    assert fuller_authors(("A B", "C D", OTHERS), ("A B", OTHERS))
    assert not fuller_authors(("A B", OTHERS), ("A B", "C D"))  # the lab's full list stays
    assert not fuller_authors((), ("A B",))


# --- export ----------------------------------------------------------------------------------


def readable(authors: tuple[str, ...]) -> tuple[str, ...]:
    """The catalog's `("Hugo Touvron et al.",)` reads back as `("Hugo Touvron", "et al.")`."""
    out: list[str] = []
    for author in authors:
        out += [author.removesuffix(" et al."), OTHERS] if author.endswith(" et al.") else [author]
    return tuple(out)


def assert_round_trip(papers: list[Paper], text: str) -> None:
    entries, problems = parse_bibtex(text)
    assert problems == [] and len(entries) == len(papers)
    for paper, entry in zip(papers, entries, strict=True):
        assert entry.title == paper.title
        assert entry.authors == readable(paper.authors)
        assert (entry.year, entry.venue, entry.arxiv, entry.url) == (
            paper.year,
            paper.venue,
            paper.arxiv,
            paper.url,
        )


def test_export_of_the_imported_lab_reads_back_the_same() -> None:
    papers = apply(PLAN, LAB)
    text = export_bibtex(papers)
    assert_round_trip(papers, text)
    assert text.count("\n@") + text.startswith("@") == len(papers)


def test_export_chooses_types_keys_and_arxiv_fields() -> None:
    papers = [LAB[3], LAB[2], LAB[5], LAB[3]._replace(key="clip-copy")]
    text = export_bibtex(papers, bibkeys={"blip-2": "li2023blip2"})
    assert "@misc{radford2021clip," in text  # arXiv only: misc
    assert "@inproceedings{li2023blip2," in text  # its own key, a conference
    assert "@inproceedings{chen2023internvl," in text
    assert "@misc{radford2021clipcopy," in text
    assert "archivePrefix = {arXiv}" in text and "eprint = {2301.12597}" in text
    assert "primaryClass" not in text
    assert "title = {{BLIP-2:} Bootstrapping {Language-Image} Pre-training" in text


def test_export_keeps_non_ascii_and_makes_keys_unique() -> None:
    paper = Paper(
        "vit-registers",
        "Vision Transformers Need Registers",
        authors=("Timothée Darcet",),
        year=2023,
    )
    journal = Paper("x", "Some Title", venue="Science China Information Sciences")
    text = export_bibtex([paper, paper, journal])
    assert "Timothée Darcet" in text and "darcet2023vitregisters," in text
    assert "darcet2023vitregistersa," in text and "@article{x," in text
    assert bibtex_key(Paper("k", "T")) == "k"


def test_export_of_nothing_is_empty() -> None:
    assert export_bibtex([]) == ""


def test_title_protection_and_escapes() -> None:
    assert (
        protect_title("Flamingo: a Visual Language Model") == "{Flamingo:} a Visual Language Model"
    )
    assert protect_title("GPT-4V and CoT") == "{GPT-4V} and {CoT}"
    assert escape_latex("50% & $5 #1 a_b {x} \\ ~ --") == (
        r"50\% \& \$5 \#1 a\_b \{x\} \textbackslash{} \textasciitilde{} -{}-"
    )


_LETTERS = st.characters(
    categories=("Lu", "Ll", "Nd"), max_codepoint=0x9FFF, exclude_characters="ǅǈǋǲ"
)
_PUNCT = st.sampled_from(list(" -:?,.'()&%$#_{}\\~^!`\"/;+*@<>=|[]–"))
# Text as the lab keeps it: whitespace squeezed, Unicode composed (NFC), as parsing gives it.
_TEXT = st.text(st.one_of(_LETTERS, _PUNCT), min_size=1, max_size=60).map(
    lambda text: unicodedata.normalize("NFC", " ".join(text.split()))
)
_WORD = st.tuples(
    st.text(_LETTERS, min_size=1, max_size=8),
    st.text(st.sampled_from(list("-.'&%{}\\_~")), max_size=2),
).map("".join)
_NAME = st.lists(_WORD, min_size=1, max_size=3).map(
    lambda words: unicodedata.normalize("NFC", " ".join(words))
)


@given(
    title=_TEXT.filter(bool),
    authors=st.lists(_NAME, max_size=4),
    year=st.none() | st.integers(1900, 2100),
    venue=st.none() | _TEXT.filter(bool),
    arxiv=st.none() | st.from_regex(r"\d{4}\.\d{5}", fullmatch=True),
)
@settings(max_examples=300, deadline=None)
def test_export_round_trips(
    title: str, authors: list[str], year: int | None, venue: str | None, arxiv: str | None
) -> None:
    from mllm_lab.core.bibtex.parse import is_preprint_venue

    if venue and is_preprint_venue(venue):
        venue = None  # such a venue is left out on purpose
    authors = [a for a in authors if a.casefold() not in ("others", "and")]
    paper = Paper("k", title, authors=tuple(authors), year=year, venue=venue, arxiv=arxiv)
    assert_round_trip([paper], export_bibtex([paper]))


# --- arXiv ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2301.12597", ("2301.12597", None)),
        ("2301.12597v2", ("2301.12597", 2)),
        ("arXiv:2301.12597v3", ("2301.12597", 3)),
        ("https://arxiv.org/abs/2301.12597v2", ("2301.12597", 2)),
        ("http://arxiv.org/pdf/2301.12597v2.pdf", ("2301.12597", 2)),
        ("https://arxiv.org/pdf/2301.12597", ("2301.12597", None)),
        ("https://export.arxiv.org/abs/2301.12597/", ("2301.12597", None)),
        ("https://doi.org/10.48550/arXiv.2301.12597", ("2301.12597", None)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("https://arxiv.org/abs/math.GT/0309136", ("math.GT/0309136", None)),
        ("0704.0156", ("0704.0156", None)),
        ("blip-2", None),
        ("2301.125", None),
        ("see 2301.12597", None),
    ],
)
def test_arxiv_ids_in_every_form(text: str, expected: tuple[str, int | None] | None) -> None:
    assert split_arxiv_id(text) == expected
    assert parse_arxiv_id(text) == (expected[0] if expected else None)


def test_arxiv_ids_in_free_text() -> None:
    assert find_arxiv_id("arXiv preprint arXiv:2310.03744") == "2310.03744"
    assert find_arxiv_id("arXiv:2103.17249 [cs]") == "2103.17249"
    assert find_arxiv_id("abs/1810.04805") == "1810.04805"  # DBLP's CoRR volume
    assert find_arxiv_id("Science China 67(12) 220101, 2024") is None


# --- planning with the catalog, DOIs and citation keys ---------------------------------------


def test_an_entry_naming_a_catalog_paper_takes_its_key_topic_and_stage() -> None:
    from mllm_lab.catalog import catalog

    (planned,) = plan_import(
        [BY_KEY["li2023blip2"]], [], today=date(2026, 11, 25), catalog=catalog()
    )
    paper = planned.paper
    assert planned.action is Action.CREATE and paper is not None
    assert (paper.key, paper.stage, paper.topic, paper.venue) == (
        "blip-2",
        3,
        "multimodal",
        "ICML 2023",
    )
    assert paper.bibkey == "li2023blip2" and paper.authors[0] == "Junnan Li"
    assert paper.created == date(2026, 11, 25)


def test_a_catalog_key_the_lab_gave_to_another_paper_is_not_reused() -> None:
    from mllm_lab.catalog import catalog

    mine = Paper("blip-2", "My own notes on something else entirely")
    (planned,) = plan_import([BY_KEY["li2023blip2"]], [mine], catalog=catalog())
    assert planned.action is Action.CREATE and planned.key == "blip-2-2"


def test_a_citation_key_another_paper_has_is_not_given_twice() -> None:
    owner = LAB[0]._replace(key="mine", title="Some other paper", arxiv=None, bibkey="li2023blip2")
    (planned,) = plan_import([BY_KEY["li2023blip2"]], [owner, LAB[2]])
    assert planned.action is Action.UPDATE and planned.key == "blip-2"
    assert planned.paper is not None and planned.paper.bibkey is None
    assert "bibkey" not in planned.changes


def test_an_entry_is_matched_by_its_doi_before_its_title() -> None:
    doi = "10.1016/j.neucom.2023.127063"  # RoFormer's journal DOI (reference/papers.yaml)
    lab = [
        Paper(
            "roformer-rope",
            "RoFormer: Enhanced Transformer with Rotary Position Embedding",
            doi=doi,
        )
    ]
    entry = BibEntry("su2024", "article", 1, title="Rotary position embedding", doi=doi.upper())
    (planned,) = plan_import([entry], lab)
    assert (planned.action, planned.key, planned.changes) == (
        Action.UPDATE,
        "roformer-rope",
        ("bibkey",),
    )


def test_arxivs_own_doi_is_not_kept_as_the_papers_doi() -> None:
    planned = decision("patashnik_styleclip_2021")  # doi = {10.48550/arXiv.2103.17249}
    assert (
        planned.paper is not None
        and planned.paper.doi is None
        and planned.paper.arxiv == "2103.17249"
    )


def test_a_broken_lab_paper_is_skipped_not_written() -> None:
    from mllm_lab.models import Finding

    broken = LAB[2]._replace(
        problem=Finding.of("papers/blip-2.md", 4, "field.missing", field="title")
    )
    (planned,) = plan_import([BY_KEY["li2023blip2"]], [broken])
    assert (planned.action, planned.reason, planned.detail) == (
        Action.SKIP,
        "broken",
        "papers/blip-2.md:4",
    )
    assert "papers/blip-2.md:4" in planned.message("en")
