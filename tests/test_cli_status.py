"""Reading status kept true: mark -> table -> progress -> status; hand edits; sync --check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import Run, read, tree

from mllm_lab.core import fm


def row(lab: Path, key: str) -> str:
    match = re.search(rf"^\| (\S+) \| {re.escape(key)} \|.*$", read(lab / "papers/README.md"), re.M)
    assert match, key
    return match[0]


def test_mark_updates_data_table_progress_and_status(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "vit").ok
    result = in_lab("mark", "vit", "read")
    assert result.ok, result
    assert "vit：📖 在读 -> ✅ 已读" in result.err
    data = fm.parse(read(lab / "papers/vit.md"), "vit.md").meta
    assert (data["status"], str(data["started"]), str(data["finished"])) == (
        "read",
        "2026-11-25",
        "2026-11-25",
    )
    assert row(lab, "vit").startswith("| ✅ | vit | [An Image is Worth 16x16 Words")
    assert row(lab, "vit").endswith("| 2026-11-25 | 2026-11-25 |")
    assert "- [ ] 阶段二：视觉编码器（ViT、CLIP） — 1/3 篇论文已读 · 1 篇笔记" in read(
        lab / "README.md"
    )
    for key in ["clip", "siglip"]:
        assert in_lab("mark", key, "read").ok  # papers without notes: status in the reading list
    assert "- [x] 阶段二：视觉编码器（ViT、CLIP） — 3/3 篇论文已读 · 1 篇笔记" in read(
        lab / "README.md"
    )
    assert "key: clip" in read(lab / "papers/reading-list.yaml")
    report = json.loads(in_lab("status", "--json").out)
    stage2 = report["stages"][1]
    assert stage2 == {
        "number": 2,
        "name": "阶段二：视觉编码器（ViT、CLIP）",
        "papers_read": 3,
        "papers_total": 3,
        "notes": 1,
        "done": True,
    }
    assert report["papers"]["read"] == 3 and report["this_week"]["papers_finished"] == 3


def test_status_human_output_is_plain_when_piped(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    result = in_lab("status")
    assert result.ok
    assert "\x1b[" not in result.out
    assert re.search(r"阶段三：多模态对齐与融合 +░+ +0/10 论文 · 1 笔记", result.out)
    assert "📖 blip-2 BLIP-2" in result.out and "(0 天)" in result.out
    assert "1. transformer Attention Is All You Need" in result.out
    assert "周记: 还没有（lab weekly）" in result.out


def test_status_json_schema(in_lab: Run) -> None:
    report = json.loads(in_lab("status", "--json").out)
    assert report["schema"] == "mllm-lab/status/1"
    assert set(report) == {
        "schema",
        "today",
        "week",
        "stages",
        "papers",
        "notes",
        "reading_now",
        "this_week",
        "next",
        "problems",
        "skipped",
        "lab",
        "cards",
    }
    assert report["cards"] == {"due": 0, "reviewed_today": 0, "log": None}
    assert [p["key"] for p in report["next"]] == ["transformer", "gpt-1", "gpt-2"]
    assert report["this_week"]["weekly_log"] is None


def test_mark_matches_prefix_title_and_arxiv_and_reports_bad_keys(in_lab: Run, lab: Path) -> None:
    assert in_lab("mark", "Visual Instruction", "reading").ok
    assert row(lab, "llava").startswith("| 📖 |")
    assert in_lab("mark", "2106.09685", "read").ok
    assert row(lab, "lora").startswith("| ✅ |")
    exact = in_lab("mark", "llava", "read")  # llava-1.5 and llava-next start the same way
    assert exact.ok and "llava：" in exact.err
    assert row(lab, "llava").startswith("| ✅ |")
    assert row(lab, "llava-1.5").startswith("| ⬜ |") and row(lab, "llava-next").startswith(
        "| ⬜ |"
    )
    result = in_lab("mark", "gpt", "read")
    assert result.code == 1
    assert (
        "'gpt' 匹配到 4 篇论文：gpt-1 (Improving Language Understanding by Gen…), gpt-2 ("
        in result.err
    )
    assert "gpt-4v-system-card (" in result.err and result.err.count("\n") == 1
    unknown = in_lab("mark", "nope-9", "read")
    assert unknown.code == 1 and "没有与 'nope-9' 匹配的论文" in unknown.err
    bad = in_lab("mark", "lora", "done-ish")
    assert bad.code == 1 and "可选：unread, reading, read" in bad.err


def test_add_paper_puts_it_on_the_list_as_unread(in_lab: Run, lab: Path) -> None:
    assert in_lab("add", "paper", "mixtral").ok
    assert row(lab, "mixtral").startswith("| ⬜ | mixtral | [Mixtral of Experts]")
    again = in_lab("add", "paper", "mixtral")
    assert again.ok and "lab 里已经有了" in again.err
    assert in_lab("add", "paper", "A | piped\ntitle", "--key", "piped", "--year", "2025").ok
    assert row(lab, "piped") == "| ⬜ | piped | A &#124; piped title | 2025 |  |  |  |"


def test_hand_ticked_row_becomes_the_papers_status(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    readme = lab / "papers/README.md"
    text = read(readme)
    text = text.replace(row(lab, "blip-2"), row(lab, "blip-2").replace("| 📖 |", "| ✅ |", 1))
    text = text.replace(row(lab, "clip"), row(lab, "clip").replace("| ⬜ |", "| 📖 |", 1))
    readme.write_text(text, "utf-8")
    result = in_lab("sync")
    assert result.ok, result
    assert "采纳了 papers/README.md:" in result.err
    assert fm.parse(read(lab / "papers/blip-2.md"), "x").meta["status"] == "read"
    assert (
        "status: reading"
        in read(lab / "papers/reading-list.yaml").split("key: clip", 1)[1].split("- key:")[0]
    )
    assert row(lab, "blip-2").endswith("| 2026-11-25 | 2026-11-25 |")
    second = tree(lab)
    assert in_lab("sync").ok and tree(lab) == second  # a second run changes nothing


def test_hand_tick_is_taken_in_by_mark_too(in_lab: Run, lab: Path) -> None:
    readme = lab / "papers/README.md"
    readme.write_text(
        read(readme).replace(row(lab, "dpo"), row(lab, "dpo").replace("⬜", "✅", 1)), "utf-8"
    )
    assert in_lab("mark", "lora", "read").ok
    assert row(lab, "dpo").startswith("| ✅ |") and row(lab, "lora").startswith("| ✅ |")


def test_other_hand_edits_stop_sync_and_mark_and_keep_the_file(in_lab: Run, lab: Path) -> None:
    readme = lab / "papers/README.md"
    edited = read(readme).replace(
        row(lab, "dpo"), row(lab, "dpo").replace("Direct Preference", "My DPO")
    )
    readme.write_text(edited, "utf-8")
    before = tree(lab)
    for args in (["sync"], ["mark", "lora", "read"]):
        result = in_lab(*args)
        assert result.code == 1
        assert re.match(r"错误：papers/README\.md:\d+: 生成区域被手动修改过", result.err)
        assert "lab sync --force" in result.err
        assert tree(lab) == before
    forced = in_lab("sync", "--force")
    assert forced.ok
    assert "My DPO" not in read(readme)
    backups = list((lab / ".lab-trash").glob("*/papers/README.md"))
    assert len(backups) == 1 and "My DPO" in read(backups[0])
    assert str(backups[0].relative_to(lab)) in forced.err


def test_progress_ticked_by_hand_is_refused_not_overwritten(in_lab: Run, lab: Path) -> None:
    readme = lab / "README.md"
    edited = read(readme).replace("- [ ] 阶段一", "- [x] 阶段一")
    readme.write_text(edited, "utf-8")
    result = in_lab("sync")
    assert result.code == 1 and "README.md:" in result.err
    assert read(readme) == edited


def test_text_outside_regions_is_kept_byte_for_byte_in_crlf_files(in_lab: Run, lab: Path) -> None:
    readme = lab / "papers/README.md"
    crlf = read(readme).replace("\n", "\r\n").rstrip("\r\n") + "\r\n我的结尾，没有换行"
    readme.write_bytes(crlf.encode("utf-8"))
    assert in_lab("mark", "clip", "read").ok
    data = readme.read_bytes().decode("utf-8")
    assert data.endswith("\r\n我的结尾，没有换行")
    assert "\n" not in data.replace("\r\n", "")
    assert "| ✅ | clip |" in data
    before, after = crlf.split("<!-- lab:begin"), data.split("<!-- lab:begin")
    assert before[0] == after[0]
    assert crlf.split("<!-- lab:end papers -->")[1] == data.split("<!-- lab:end papers -->")[1]


def test_sync_check_names_stale_files_and_writes_nothing(in_lab: Run, lab: Path) -> None:
    assert in_lab("sync", "--check").ok
    note = lab / "notes/training/lora.md"
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok
    note.write_text(read(note).replace("summary: ''", "summary: 低秩适配"), "utf-8")
    before = tree(lab)
    result = in_lab("sync", "--check")
    assert result.code == 1
    assert result.out == "notes/README.md:5: 已过期；请运行 `lab sync`\n"
    assert tree(lab) == before
    assert in_lab("sync").ok
    assert "1. [LoRA](training/lora.md) - 低秩适配" in read(lab / "notes/README.md")
    assert in_lab("sync", "--check").ok


def test_broken_note_is_reported_and_the_rest_still_works(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    (lab / "papers/broken.md").write_text("---\ntitle: Attention: is all you need\n---\n", "utf-8")
    result = in_lab("mark", "blip-2", "read")
    assert result.ok
    assert "papers/broken.md:2: frontmatter 不是合法的 YAML" in result.err
    listed = in_lab("list", "papers", "--status", "read")
    assert listed.ok and "blip-2" in listed.out and "papers/broken.md:2:" in listed.err
    report = json.loads(in_lab("status", "--json").out)
    [problem] = report["problems"]
    assert problem.startswith(
        "papers/broken.md:2: frontmatter 不是合法的 YAML：mapping values are not allowed"
    )


def test_list_filters_and_json(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "dpo", "--tags", "alignment").ok
    assert in_lab("new", "concept", "RLHF", "-c", "training", "--tags", "alignment").ok
    papers = json.loads(in_lab("list", "papers", "--stage", "4", "--json").out)
    assert [p["key"] for p in papers] == [
        "ppo",
        "rlhf-christiano",
        "lora",
        "instructgpt",
        "dpo",
        "qlora",
    ]
    tagged = json.loads(in_lab("list", "papers", "--tag", "alignment", "--json").out)
    assert [(p["key"], p["status"], p["note"]) for p in tagged] == [
        ("dpo", "reading", "papers/dpo.md")
    ]
    notes = json.loads(in_lab("list", "notes", "--tag", "alignment", "--json").out)
    assert [n["path"] for n in notes] == ["notes/training/rlhf.md", "papers/dpo.md"]
    table = in_lab("list", "papers", "--status", "reading")
    assert table.out.splitlines()[1].split() == [
        "📖",
        "dpo",
        "Direct",
        "Preference",
        "Optimization:",
        "Your",
        "Language",
        "Model",
        "is",
        "Secretly",
        "a",
        "Reward",
        "Model",
        "2023",
        "4",
        "训练方法",  # the topic by its label, in the lab's language
        "papers/dpo.md",
    ]
    assert in_lab("list", "things").code == 1


@pytest.mark.parametrize(
    "title", ["A | B", "Line\nbreak", "[brackets] and `ticks`", "<b>html</b> & more"]
)
def test_titles_cannot_break_the_table(in_lab: Run, lab: Path, title: str) -> None:
    assert in_lab("add", "paper", title, "--key", "odd", "--topic", "training").ok
    table = read(lab / "papers/README.md").split("### 训练方法", 1)[1].split("###", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 8 for line in rows)
    assert in_lab("mark", "odd", "read").ok
    assert row(lab, "odd").startswith("| ✅ | odd |")


def test_a_papers_unknown_stage_is_one_problem(in_lab: Run, lab: Path) -> None:
    """The note's stage and the paper's are one field: its problem is named once, by status
    as by check (status listed it twice, once for each reading)."""
    assert in_lab("new", "paper", "clip").ok
    note = lab / "papers" / "clip.md"
    text = note.read_text("utf-8")
    note.write_text(re.sub(r"(?m)^stage: .*$", "stage: 9", text, count=1), "utf-8")
    problems = json.loads(in_lab("status", "--json").out)["problems"]
    named = [p for p in problems if p.startswith("papers/clip.md:")]
    assert len(named) == 1 and "9" in named[0], problems
    checked = [line for line in in_lab("check").out.splitlines() if "papers/clip.md:" in line]
    assert [line.split(": ", 1)[1] for line in checked] == [named[0].split(": ", 1)[1]]
