"""`lab import bibtex` and `lab export bibtex` on a real lab: what lands in the reading list and
in notes (`bibkey`, `doi`), the report, the dry run, a second import, and BibTeX out that reads
back. The BibTeX facts come from tests/fixtures/real.bib (its sources are named in it)."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest
from conftest import Run, read, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllm_lab.core import fm
from mllm_lab.core.bibtex import parse_bibtex
from mllm_lab.core.papers import paper_from_meta, paper_to_meta
from mllm_lab.core.readinglist import parse as parse_list
from mllm_lab.core.resolve import Identities, Match, exact_match
from mllm_lab.models import Paper

FIXTURE = Path(__file__).parent / "fixtures" / "real.bib"
# RoFormer's journal DOI, as reference/papers.yaml records it (Neurocomputing vol. 568).
ROFORMER_DOI = "10.1016/j.neucom.2023.127063"


def listed(lab: Path) -> dict[str, dict[str, object]]:
    entries = parse_list(read(lab / "papers/reading-list.yaml")).entries
    return {str(entry["key"]): entry for entry in entries}


def meta(path: Path) -> dict[str, object]:
    return fm.parse(read(path), path.name).meta


# --- Paper fields ----------------------------------------------------------------------------


def test_bibkey_and_doi_are_read_back_from_frontmatter_and_written_only_when_set() -> None:
    paper = Paper("roformer-rope", "RoFormer", doi=ROFORMER_DOI, bibkey="su2024roformer")
    written = paper_to_meta(paper)
    assert (written["doi"], written["bibkey"]) == (ROFORMER_DOI, "su2024roformer")
    back, problems = paper_from_meta(written, "x.md", {}, "roformer-rope", "x.md")
    assert problems == [] and back is not None
    assert (back.doi, back.bibkey) == (ROFORMER_DOI, "su2024roformer")
    assert "doi" not in paper_to_meta(Paper("a", "A")) and "bibkey" not in paper_to_meta(
        Paper("a", "A")
    )


def test_the_resolver_matches_a_doi_in_every_form() -> None:
    paper = Paper("roformer-rope", "RoFormer", arxiv="2104.09864", doi=ROFORMER_DOI)
    for query in (
        ROFORMER_DOI,
        ROFORMER_DOI.upper(),
        f"doi:{ROFORMER_DOI}",
        f"https://doi.org/{ROFORMER_DOI}",
        "10.48550/arXiv.2104.09864",  # arXiv's own DOI names the paper too
    ):
        assert exact_match(query, paper) is Match.DOI, query
    index = Identities([paper, Paper("other", "Other")])
    found = index.find(arxiv=None, doi=f"https://dx.doi.org/{ROFORMER_DOI}", title="Something else")
    assert found is not None and found[0] is Match.DOI and found[1] == [paper]


# --- import ----------------------------------------------------------------------------------


def test_import_adds_updates_and_skips_each_with_its_reason(in_lab: Run, lab: Path) -> None:
    result = in_lab("import", "bibtex", str(FIXTURE))
    assert result.ok, result
    out = result.out
    # a paper the starter reading list has: filled in, its citation key kept
    assert re.search(r"real\.bib:36: 更新 blip-2：作者、引用键$", out, re.M)
    # a paper of the catalog not in the lab yet: the catalog's key, topic and stage
    assert re.search(r"real\.bib:202: 新建 bert：BERT: Pre-training", out, re.M)
    # a paper nobody knows: a short key from its title
    assert re.search(
        r"real\.bib:146: 新建 vit-registers：Vision Transformers Need Registers", out, re.M
    )
    assert re.search(
        r"real\.bib:239: 跳过 radford2021clip：与第 56 行的条目是同一篇论文", out, re.M
    )
    assert re.search(r"real\.bib:269: 跳过 qwenvl-notitle：没有标题", out, re.M)
    assert "real.bib:258: 无法读取条目 @misc{darcet2023broken}" in result.err
    assert "新建 11 篇 · 更新 10 篇 · 跳过 6 条" in result.err
    papers = listed(lab)
    blip = papers["blip-2"]
    assert blip["bibkey"] == "li2023blip2"
    assert blip["authors"] == ["Junnan Li", "Dongxu Li", "Silvio Savarese", "Steven Hoi"]
    assert blip["venue"] == "ICML 2023"  # the lab's own facts are never overwritten
    bert = papers["bert"]
    assert (bert["stage"], bert["topic"], bert["bibkey"]) == (
        1,
        "foundation",
        "devlinBERTPretrainingDeep2019",
    )
    assert bert["created"] == "2026-11-25" or str(bert["created"]) == "2026-11-25"
    assert papers["vit-registers"]["arxiv"] == "2309.16588"
    assert "| ⬜ | vit-registers |" in read(lab / "papers/README.md")  # the views follow
    assert in_lab("sync", "--check").ok


def test_a_second_import_changes_nothing(in_lab: Run, lab: Path) -> None:
    assert in_lab("import", "bibtex", str(FIXTURE)).ok
    before = tree(lab)
    again = in_lab("import", "bibtex", str(FIXTURE))
    assert again.ok, again
    assert "新建 0 篇 · 更新 0 篇 · 跳过 27 条" in again.err
    assert "real.bib:36: 跳过 li2023blip2：blip-2 已有这些信息" in again.out
    assert tree(lab) == before


def test_a_dry_run_shows_the_plan_and_writes_nothing(in_lab: Run, lab: Path) -> None:
    before = tree(lab)
    result = in_lab("import", "bibtex", str(FIXTURE), "--dry-run")
    assert result.ok, result
    assert "新建 vit-registers" in result.out and "将更新  papers/reading-list.yaml" in result.err
    assert "（试运行：没有写入任何文件）" in result.err
    assert tree(lab) == before


def test_a_paper_with_a_note_gets_its_doi_and_key_in_the_frontmatter(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    assert in_lab("new", "paper", "roformer-rope").ok
    note = lab / "papers/roformer-rope.md"
    before = read(note)
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{su2024roformer,\n"
        "  title = {RoFormer: Enhanced Transformer with Rotary Position Embedding},\n"
        "  journal = {Neurocomputing},\n"
        "  volume = {568},\n"
        f"  doi = {{{ROFORMER_DOI}}},\n"
        "  year = {2024},\n"
        "}\n",
        "utf-8",
    )
    result = in_lab("import", "bibtex", str(bib), "--json")
    assert result.ok, result
    (planned,) = json.loads(result.out)
    assert (planned["action"], planned["key"], planned["changes"]) == (
        "update",
        "roformer-rope",
        ["doi", "bibkey"],
    )
    after = read(note)
    data = meta(note)
    assert (data["doi"], data["bibkey"], data["year"]) == (ROFORMER_DOI, "su2024roformer", 2021)
    # only two lines were added to the frontmatter: the rest of the note is as it was
    assert (
        after.replace(f"doi: {ROFORMER_DOI}\n", "").replace("bibkey: su2024roformer\n", "")
        == before
    )
    # the DOI now names the paper for the resolver
    cited = in_lab("export", "bibtex", f"https://doi.org/{ROFORMER_DOI}")
    assert cited.ok, cited
    assert "@article{su2024roformer," in cited.out and f"doi = {{{ROFORMER_DOI}}}" in cited.out
    assert in_lab("mark", f"doi:{ROFORMER_DOI}", "read").ok  # and for every command
    assert meta(note)["status"] == "read"


def test_an_entry_for_a_paper_whose_note_is_broken_is_skipped(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    note = lab / "papers/blip-2.md"
    note.write_text(read(note).replace("year: 2023", "year: [2023"), "utf-8")
    before = read(note)
    result = in_lab("import", "bibtex", str(FIXTURE))
    assert result.ok, result
    assert re.search(
        r"real\.bib:36: 跳过 li2023blip2：blip-2 的笔记无法读取（papers/blip-2\.md:\d+）",
        result.out,
    )
    assert read(note) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.bib"], "错误：missing.bib：文件不存在"),
        (["."], "错误：.:1: 这是文件夹"),
    ],
)
def test_a_file_that_cannot_be_read_is_one_line(in_lab: Run, args: list[str], message: str) -> None:
    result = in_lab("import", "bibtex", *args)
    assert result.code == 1
    assert (
        result.err.startswith(message.split("：", 1)[0])
        and len(result.err.strip().splitlines()) == 1
    )
    assert "Traceback" not in result.err


def test_a_file_that_is_not_utf8_names_its_line(in_lab: Run, tmp_path: Path) -> None:
    bib = tmp_path / "latin1.bib"
    bib.write_bytes(b"@misc{a,\n  title = {Caf\xe9},\n}\n")
    result = in_lab("import", "bibtex", str(bib))
    assert result.code == 1 and f"{bib}:2:" in result.err


@given(st.text(max_size=300))
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_imports_or_says_why_without_a_traceback(
    tmp_path: Path, lab: Path, text: str
) -> None:
    bib = tmp_path / "any.bib"
    bib.write_text(text, "utf-8", errors="surrogatepass")
    result = Run(lab)("import", "bibtex", str(bib), "--dry-run")
    assert result.code in (0, 1), result
    assert "Traceback" not in result.err and "internal error" not in result.err


def test_english_lab_reports_in_english(run: Run, en_lab: Path) -> None:
    result = run("import", "bibtex", str(FIXTURE), cwd=en_lab)
    assert result.ok, result
    assert re.search(r"real\.bib:36: update blip-2: authors, citation key$", result.out, re.M)
    assert "11 created · 10 updated · 6 skipped" in result.err


# --- export ----------------------------------------------------------------------------------


def test_export_reads_back_and_keeps_each_papers_own_key(in_lab: Run, lab: Path) -> None:
    assert in_lab("import", "bibtex", str(FIXTURE)).ok
    assert in_lab("mark", "blip-2", "read").ok
    assert in_lab("mark", "clip", "read").ok
    result = in_lab("export", "bibtex", "--status", "read")
    assert result.ok, result
    entries, problems = parse_bibtex(result.out)
    assert problems == []
    assert [e.bibkey for e in entries] == ["Radford2021LearningTV", "li2023blip2"]  # roadmap order
    blip = entries[1]
    assert blip.title.startswith("BLIP-2: Bootstrapping") and blip.arxiv == "2301.12597"
    assert blip.authors[0] == "Junnan Li" and blip.venue == "ICML 2023" and blip.year == 2023


def test_export_named_papers_in_the_order_given(in_lab: Run) -> None:
    result = in_lab("export", "bibtex", "llava", "2301.12597")
    assert result.ok, result
    entries, _ = parse_bibtex(result.out)
    assert [e.title for e in entries] == [
        "Visual Instruction Tuning",
        "BLIP-2: Bootstrapping Language-Image Pre-training with Frozen Image Encoders and Large Language Models",
    ]
    assert [e.bibkey for e in entries] == ["liu2023llava", "li2023blip2"]


def test_export_refuses_an_unknown_key_with_did_you_mean(in_lab: Run) -> None:
    result = in_lab("export", "bibtex", "blip2-x")
    assert result.code == 1
    assert result.err.startswith("错误：没有与 'blip2-x' 匹配的论文；你是不是想找 blip-2 (BLIP-2")


def test_export_by_stage_to_a_file(in_lab: Run, lab: Path) -> None:
    result = in_lab("export", "bibtex", "--stage", "2", "-o", "refs.bib")
    assert result.ok, result
    text = read(lab / "refs.bib")
    entries, problems = parse_bibtex(text)
    assert problems == [] and {e.bibkey for e in entries} >= {"radford2021clip", "zhai2023siglip"}
    assert re.search(r"refs\.bib：\d+ 条", result.err)
    again = in_lab("export", "bibtex", "--stage", "1", "-o", "refs.bib")  # lab's own file
    assert again.ok and read(lab / "refs.bib") != text


def test_export_never_replaces_a_file_it_did_not_write(in_lab: Run, lab: Path) -> None:
    mine = lab / "mine.bib"
    mine.write_text("@misc{mine, title={Mine}}\n", "utf-8")
    refused = in_lab("export", "bibtex", "-o", "mine.bib")
    assert (
        refused.code == 1
        and "mine.bib：已存在，且不是 lab 导出的文件；用 --force 覆盖" in refused.err
    )
    assert read(mine) == "@misc{mine, title={Mine}}\n"
    assert in_lab("export", "bibtex", "-o", "mine.bib", "--force").ok
    assert read(mine).startswith("% Exported by `lab export bibtex`")


def test_an_export_edited_by_hand_is_not_replaced_without_force(in_lab: Run, lab: Path) -> None:
    refs = lab / "refs.bib"
    assert in_lab("export", "bibtex", "-o", "refs.bib").ok
    assert in_lab("export", "bibtex", "-o", "refs.bib").ok  # as lab wrote it: replaced
    edited = read(refs) + "\n% my own\n@book{mine, title={Hand Entry}, year={1999}}\n"
    refs.write_text(edited, "utf-8")
    refused = in_lab("export", "bibtex", "-o", "refs.bib")
    assert refused.code == 1 and refused.err.startswith(
        "错误：refs.bib：`lab export bibtex` 写出后被改过"
    )
    assert read(refs) == edited
    # an export an older lab wrote (no fingerprint line) is not taken for lab's own either
    older = edited.split("\n", 1)[0] + "\n\n@misc{x, title={X}}\n"
    refs.write_text(older, "utf-8")
    assert in_lab("export", "bibtex", "-o", "refs.bib").code == 1 and read(refs) == older
    assert in_lab("export", "bibtex", "-o", "refs.bib", "--force").ok
    assert "Hand Entry" not in read(refs) and in_lab("export", "bibtex", "-o", "refs.bib").ok


def test_output_dash_is_standard_output(in_lab: Run, lab: Path) -> None:
    done = in_lab("export", "bibtex", "-o", "-")
    assert done.ok and done.out.startswith("% Exported by `lab export bibtex`")
    assert not (lab / "-").exists()


def test_import_then_export_in_real_processes(
    sh: Callable[..., CompletedProcess[str]], lab: Path
) -> None:
    imported = sh("import", "bibtex", str(FIXTURE), cwd=lab)
    assert imported.returncode == 0, imported.stderr
    exported = sh("export", "bibtex", "dinov2", "vit-registers", cwd=lab)
    assert exported.returncode == 0, exported.stderr
    entries, problems = parse_bibtex(exported.stdout)
    assert problems == [] and [e.bibkey for e in entries] == [
        "oquab2023dinov2",
        "darcet2023vitneedreg",
    ]


UPDATE_AND_NEW = """
@inproceedings{radford2021clip,
  title = {Learning Transferable Visual Models From Natural Language Supervision},
  author = {Radford, Alec and Kim, Jong Wook and Hallacy, Chris},
  booktitle = {ICML},
  year = {2021},
  doi = {10.5555/clip.test},
}
@misc{brandnew2024,
  title = {A Completely New Paper About Zebras},
  author = {Doe, Jane},
  year = {2024},
}
"""


def test_a_list_new_papers_cannot_be_added_to_is_refused_at_its_own_last_line(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A key after the papers (`extra: 1`): the new paper cannot go at the end. The refusal
    names the line after the file's last one as it is on disk, though the same import also
    updates a paper of the list (which adds lines above), and nothing is written."""
    bib = tmp_path / "mine.bib"
    bib.write_text(UPDATE_AND_NEW, "utf-8")
    assert "更新 clip" in in_lab("import", "bibtex", str(bib), "--dry-run").out
    reading = lab / "papers" / "reading-list.yaml"
    reading.write_text(read(reading) + "extra: 1\n", "utf-8")
    before = tree(lab)
    result = in_lab("import", "bibtex", str(bib))
    assert result.code == 1
    lines = len(read(reading).splitlines())
    assert f"papers/reading-list.yaml:{lines + 1}: " in result.err
    assert tree(lab) == before


@pytest.mark.parametrize(
    ("empty", "kept"),
    [
        ("papers: []  # 还没有\n# 以后再读\n", ["papers:  # 还没有", "# 以后再读"]),
        ("papers:  # none yet\nname: my lab\n", ["papers:  # none yet", "name: my lab"]),
    ],
)
def test_papers_imported_into_an_empty_list_keep_what_is_around_it(
    in_lab: Run, lab: Path, empty: str, kept: list[str]
) -> None:
    """An empty reading list with a comment on its `papers:` line and text after it: the new
    papers go under that line, and every word around them stays."""
    reading = lab / "papers" / "reading-list.yaml"
    reading.write_text("# 我的清单\n" + empty, "utf-8")
    result = in_lab("import", "bibtex", str(FIXTURE))
    assert result.ok, result
    text = read(reading)
    assert all(line in text.splitlines() for line in ["# 我的清单", *kept])
    assert text.index(kept[0]) < text.index("- key: ") < text.index(kept[1])
    assert len(parse_list(text).entries) >= 11


def test_an_export_through_a_symlink_writes_the_file_it_names(in_lab: Run, lab: Path) -> None:
    (lab / "proj").mkdir()
    assert in_lab("export", "bibtex", "-o", "proj/refs.bib").ok
    (lab / "refs.bib").symlink_to("proj/refs.bib")
    assert in_lab("export", "bibtex", "blip-2", "-o", "refs.bib").ok
    assert (lab / "refs.bib").is_symlink()  # the link stays a link
    assert read(lab / "proj/refs.bib").count("\n@") == 1  # its target holds the new export


def test_dot_slash_dash_is_a_file_and_a_bom_is_no_edit(in_lab: Run, lab: Path) -> None:
    done = in_lab("export", "bibtex", "-o", "./-")
    assert done.ok and done.out == "" and read(lab / "-").startswith("% Exported by")
    refs = lab / "refs.bib"
    assert in_lab("export", "bibtex", "-o", "refs.bib").ok
    refs.write_bytes(b"\xef\xbb\xbf" + refs.read_bytes())  # an editor's byte order mark
    assert in_lab("export", "bibtex", "blip-2", "-o", "refs.bib").ok
    assert read(refs).count("\n@") == 1


def test_a_link_loop_or_an_empty_name_is_refused_in_one_line(in_lab: Run, lab: Path) -> None:
    (lab / "x.bib").symlink_to("x.bib")
    (lab / "a.apkg").symlink_to("b.apkg")
    (lab / "b.apkg").symlink_to("a.apkg")
    (lab / "user.txt").write_text("mine\n", "utf-8")
    (lab / "bad.apkg").symlink_to("user.txt")
    for args, said in (
        (["export", "bibtex", "-o", "x.bib"], "x.bib：符号链接绕回了自身"),
        (["export", "anki", "a.apkg"], "a.apkg：符号链接绕回了自身"),
        (["export", "bibtex", "-o", ""], "文件名为空"),
        (["export", "anki", ""], "文件名为空"),
        (["export", "anki", "bad.apkg"], "bad.apkg"),  # the file it names is no package
    ):
        refused = in_lab(*args)
        assert refused.code == 1 and refused.err.count("\n") == 1, (args, refused.err)
        assert refused.err.startswith("错误：") and said in refused.err, (args, refused.err)
    assert read(lab / "user.txt") == "mine\n"


def test_a_pipe_as_export_target_is_refused_at_once_even_with_force(
    sh: Callable[..., CompletedProcess[str]], lab: Path
) -> None:
    """Reading it to see whether lab wrote it blocked for ever; --force renamed a file over it
    (over /dev/null too, for root)."""
    os.mkfifo(lab / "pipe.bib")
    os.mkfifo(lab / "pipe.apkg")
    (lab / "far.bib").symlink_to(lab / "pipe.bib")
    for args in (
        ["export", "bibtex", "-o", "pipe.bib"],
        ["export", "bibtex", "-o", "far.bib", "--force"],
        ["export", "anki", "pipe.apkg", "--force"],
    ):
        done = sh(*args, cwd=lab, timeout=20)
        assert done.returncode == 1 and "不是普通文件（管道或设备？）" in done.stderr, args
        assert done.stderr.count("\n") == 1
    assert stat.S_ISFIFO(os.stat(lab / "pipe.bib").st_mode)
    assert stat.S_ISFIFO(os.stat(lab / "pipe.apkg").st_mode)


def test_a_link_that_cannot_be_followed_and_an_apkg_link_to_another_file_say_so(
    in_lab: Run, lab: Path
) -> None:
    (lab / "f.txt").write_text("hi\n", "utf-8")
    (lab / "y.bib").symlink_to("f.txt/x.bib")
    (lab / "fake.apkg").symlink_to("f.txt")
    refused = in_lab("export", "bibtex", "-o", "y.bib")
    assert refused.code == 1 and "y.bib：符号链接无法跟随" in refused.err
    refused = in_lab("export", "anki", "fake.apkg", "--force")
    assert refused.code == 1 and "fake.apkg：指向" in refused.err and "f.txt" in refused.err
    assert read(lab / "f.txt") == "hi\n"
