"""`lab weekly`: ISO weeks, the generated "done" list, and the user's words kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Run, read


def test_weekly_lists_what_happened_this_week(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "multimodal-arch").ok
    assert in_lab("new", "experiment", "Toy CLIP").ok
    result = in_lab("weekly")
    assert result.ok, result
    text = read(lab / "weekly-log/2026-W48.md")
    assert "week: 2026-W48" in text and "start: 2026-11-23" in text and "end: 2026-11-29" in text
    assert "📖 开始阅读：[BLIP-2" in text and "(../papers/blip-2.md)（2026-11-25）" in text
    assert "📝 概念笔记：[Q-Former](../notes/multimodal-arch/q-former.md)" in text
    assert "🧪 实验：[Toy CLIP](../experiments/notebooks/toy-clip.ipynb)" in text
    for part in [
        "## 本周完成",
        "## 关键收获",
        "## 遇到的问题与解决思路",
        "## 下周计划",
        "预计时间",
        "## 知识盲区与前置知识",
    ]:
        assert part in text


def test_empty_week_or_since_values_are_refused_by_prompt_and_review(in_lab: Run) -> None:
    for args in (["prompt", "weekly", "--week", ""], ["review", "--since", ""]):
        refused = in_lab(*args)
        assert refused.code == 1 and refused.err.startswith("错误：无效的"), (args, refused.err)


def test_a_paper_marked_back_and_forth_in_a_day_is_listed_once_each_way(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    for _ in range(3):
        assert in_lab("mark", "blip-2", "read").ok and in_lab("mark", "blip-2", "reading").ok
    assert in_lab("mark", "blip-2", "read").ok
    assert in_lab("weekly").ok
    text = read(lab / "weekly-log/2026-W48.md")
    assert text.count("📖 开始阅读：[BLIP-2") == 1 and text.count("✅ 读完：[BLIP-2") == 1
    prompt = in_lab("prompt", "weekly", "--no-log")
    # started, wrote the note, finished: once each
    assert prompt.ok and prompt.out.count("BLIP-2: Bootstrapping") == 3, prompt.out


def test_rerun_refreshes_only_the_generated_list(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("weekly").ok
    path = lab / "weekly-log/2026-W48.md"
    mine = (
        read(path).replace("## 关键收获\n", "## 关键收获\n\nQ-Former 是一个瓶颈。\n")
        + "尾巴，没有换行"
    )
    path.write_text(mine, "utf-8")
    assert in_lab("mark", "blip-2", "read").ok
    assert in_lab("weekly").ok
    text = read(path)
    assert "✅ 读完：[BLIP-2" in text
    assert "Q-Former 是一个瓶颈。" in text and text.endswith("尾巴，没有换行")
    assert text.replace("- ✅ 读完：", "") != mine
    outside_before = mine.split("<!-- lab:end done -->")[1]
    assert text.split("<!-- lab:end done -->")[1] == outside_before
    assert in_lab("weekly").ok and read(path) == text  # idempotent


def test_text_typed_inside_the_generated_list_stops_weekly(in_lab: Run, lab: Path) -> None:
    assert in_lab("weekly").ok
    path = lab / "weekly-log/2026-W48.md"
    edited = read(path).replace("<!-- lab:end done -->", "- 我自己加的一行\n<!-- lab:end done -->")
    path.write_text(edited, "utf-8")
    result = in_lab("weekly")
    assert result.code == 1
    assert "weekly-log/2026-W48.md:" in result.err and "生成区域被手动修改过" in result.err
    assert read(path) == edited


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["--date", "2027-01-01"], "2026-W53"),
        (["--date", "2024-12-30"], "2025-W01"),
        (["--week", "2026-W01"], "2026-W01"),
    ],
)
def test_week_by_date_or_name_uses_iso_year(
    in_lab: Run, lab: Path, args: list[str], name: str
) -> None:
    assert in_lab("weekly", *args).ok
    assert (lab / f"weekly-log/{name}.md").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--week", "2026-W54"], "ISO 年 2026 只有第 01-53 周"),
        (["--week", "2025-W53"], "ISO 年 2025 只有第 01-52 周"),
        (["--week", "next"], "应为 YYYY-WXX"),
        (["--date", "2026-02-30"], "无效的 --date '2026-02-30'：应为 YYYY-MM-DD"),
        (["--week", ""], "应为 YYYY-WXX"),  # not this week: an empty value is a mistake
        (["--date", ""], "无效的 --date ''：应为 YYYY-MM-DD"),
    ],
)
def test_malformed_week_or_date_is_refused(in_lab: Run, args: list[str], message: str) -> None:
    result = in_lab("weekly", *args)
    assert result.code == 1 and message in result.err


BROKEN_NOTE = "---\ntitle: [broken\n---\n\n正文\n"


def test_weekly_names_the_labs_problems_as_status_does(in_lab: Run, lab: Path) -> None:
    """A new log adds no problem: what weekly says of the lab's is what it said before it
    wrote, the same a command run afterwards says."""
    (lab / "notes/training").mkdir(parents=True, exist_ok=True)
    (lab / "notes/training/bad.md").write_text(BROKEN_NOTE, "utf-8")
    assert in_lab("sync").ok
    made = in_lab("weekly")
    assert made.ok, made
    assert (lab / "weekly-log/2026-W48.md").exists()
    assert "notes/training/bad.md:3:" in made.err
    after = in_lab("sync")
    warned = [line for line in made.err.splitlines() if line.startswith("警告")]
    assert warned and warned == [line for line in after.err.splitlines() if line.startswith("警告")]


def test_a_log_made_with_a_problem_is_named_at_once(in_lab: Run, lab: Path) -> None:
    """The lab's own template for the log gives it a field lab refuses: weekly says so
    with the log's path:line as soon as it is written, as the next command would."""
    template = lab / "templates/zh/weekly.md.j2"
    template.parent.mkdir(parents=True, exist_ok=True)
    default = Path(__file__).resolve().parents[1] / "templates/zh/weekly.md.j2"
    text = read(default)
    assert text.startswith("---\n")
    template.write_text("---\nstage: 9\n" + text[4:], "utf-8")
    assert in_lab("sync").ok
    made = in_lab("weekly")
    assert made.ok, made
    assert "weekly-log/2026-W48.md:2:" in made.err and "9" in made.err
    assert "weekly-log/2026-W48.md:2:" in in_lab("sync").err


def test_weekly_does_not_read_the_lab_again_after_writing_its_log(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The problems said are those of the lab as read before the write (a new log adds
    none): no stamp of the index's records is worked out after it (60 ms at 50,000 notes)."""
    from mllm_lab.ops.workspace import Workspace

    assert in_lab("status").ok
    assert in_lab("sync").ok
    stamps: list[str] = []
    original = Workspace.findings_stamp

    def counted(self: Workspace) -> str:
        stamps.append("findings")
        return original(self)

    monkeypatch.setattr(Workspace, "findings_stamp", counted)
    assert in_lab("weekly").ok
    assert stamps == []
    assert in_lab("weekly").ok  # a log refreshed: the lab, changed since, is read first
    assert stamps == ["findings"]
