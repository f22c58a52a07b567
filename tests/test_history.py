"""Status history: every status change is kept with its date, so `unread` after `read` loses
nothing and weekly logs stay true; `lab check` names a status that contradicts its dates,
with the command that puts it right."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from conftest import Run, read, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core.papers import history_of, reading_events, status_problems, with_status
from mllm_lab.models import Paper, Status


def _entry(lab: Path, key: str) -> dict[str, object]:
    entries = yaml.safe_load(read(lab / "papers/reading-list.yaml"))["papers"]
    return next(e for e in entries if e["key"] == key)


def _meta(path: Path) -> dict[str, object]:
    return yaml.safe_load(read(path).split("---\n")[1])


def _mark(lab: Path, key: str, status: str, day: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LAB_TODAY", day)
    result = Run(lab)("mark", key, status)
    assert result.ok, result.err
    return result.err


def test_unread_after_read_keeps_every_date_on_the_reading_list(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mark(en_lab, "blip-2", "reading", "2026-11-02", monkeypatch)
    _mark(en_lab, "blip-2", "read", "2026-11-05", monkeypatch)
    _mark(en_lab, "blip-2", "unread", "2026-11-20", monkeypatch)
    entry = _entry(en_lab, "blip-2")
    assert entry["history"] == ["2026-11-02 reading", "2026-11-05 read", "2026-11-20 unread"]
    assert entry["status"] == "unread" and "started" not in entry and "finished" not in entry
    monkeypatch.setenv("LAB_TODAY", "2026-11-06")  # the week it was read: W45
    assert Run(en_lab)("weekly", "--week", "2026-W45").ok
    log = read(en_lab / "weekly-log/2026-W45.md")
    assert "BLIP-2" in log.split("✅ Finished")[1].split("\n\n")[0]


def test_history_is_kept_in_a_note_and_reread_later(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TODAY", "2026-11-02")
    assert Run(en_lab)("new", "paper", "clip").ok
    _mark(en_lab, "clip", "read", "2026-11-09", monkeypatch)
    _mark(en_lab, "clip", "reading", "2026-11-23", monkeypatch)  # reading it again
    meta = _meta(en_lab / "papers/clip.md")
    assert meta["history"] == ["2026-11-02 reading", "2026-11-09 read", "2026-11-23 reading"]
    assert meta["started"] == date(2026, 11, 2) and meta["finished"] is None


def test_comments_around_a_hand_written_history_are_kept(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TODAY", "2026-11-02")
    assert Run(en_lab)("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    text = read(note).replace(
        "history:\n- 2026-11-02 reading\n",
        "history:\n- 2026-11-02 reading\n# re-read after the course\nsummary_due: soon\n",
    )
    note.write_text(text, "utf-8")
    _mark(en_lab, "clip", "read", "2026-11-09", monkeypatch)
    after = read(note)
    assert (
        "history:\n- 2026-11-02 reading\n- 2026-11-09 read\n# re-read after the course\n" in after
    )
    assert "summary_due: soon" in after
    listing = en_lab / "papers/reading-list.yaml"
    listing.write_text(
        read(listing).replace(
            "- key: blip-2\n", "- key: blip-2\n  history:\n  - 2026-10-01 reading\n  # why\n"
        ),
        "utf-8",
    )
    _mark(en_lab, "blip-2", "read", "2026-11-09", monkeypatch)
    text = read(listing)
    assert "  history:\n  - 2026-10-01 reading\n  - 2026-11-09 read\n  # why\n" in text


@pytest.mark.parametrize(
    ("edit", "message", "fix"),
    [
        (("status: reading", "status: read"), " is read but has no `finished` date", "read"),
        (
            ("finished: null", "finished: 2026-11-10"),
            " is reading but has `finished: 2026-11-10`",
            "reading",
        ),
        (("status: reading", "status: unread"), " is unread but has reading dates", "unread"),
        (
            ("started: 2026-11-02", "started: 2026-12-30"),
            ": `started: 2026-12-30` is after today",
            None,
        ),
    ],
)
def test_check_names_a_status_that_contradicts_its_dates_and_the_fix(
    en_lab: Path,
    monkeypatch: pytest.MonkeyPatch,
    edit: tuple[str, str],
    message: str,
    fix: str | None,
) -> None:
    monkeypatch.setenv("LAB_TODAY", "2026-11-02")
    run = Run(en_lab)
    assert run("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    note.write_text(read(note).replace(*edit), "utf-8")
    monkeypatch.setenv("LAB_TODAY", "2026-11-26")
    checked = run("check")
    assert checked.code == 1
    lines = read(note).splitlines()
    line = next(n for n, text in enumerate(lines, start=1) if text.startswith("status:"))
    assert f"papers/clip.md:{line}: `clip`{message}" in checked.out
    if fix is not None:
        assert f"`lab mark clip {fix}`" in checked.out
        assert run("mark", "clip", fix).ok
        assert "clip" not in run("check").out


def test_a_hand_set_read_gets_its_dates_put_right_by_mark(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAB_TODAY", "2026-11-02")
    assert Run(en_lab)("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    note.write_text(read(note).replace("status: reading", "status: read"), "utf-8")
    said = _mark(en_lab, "clip", "read", "2026-11-20", monkeypatch)
    assert "clip: ✅ read, its dates and history put right" in said
    meta = _meta(note)
    assert meta["finished"] == date(2026, 11, 20)
    assert meta["history"] == ["2026-11-02 reading", "2026-11-20 read"]


def test_a_malformed_history_entry_is_named_with_its_line(en_lab: Path) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "clip").ok
    note = en_lab / "papers/clip.md"
    note.write_text(read(note).replace("- 2026-11-25 reading", "- last tuesday, read"), "utf-8")
    before = tree(en_lab)
    refused = run("mark", "clip", "read")
    assert refused.code == 1 and "papers/clip.md:" in refused.err
    assert "'last tuesday, read'" in refused.err
    assert tree(en_lab) == before


# --- the core -------------------------------------------------------------------------------

_statuses = st.sampled_from(list(Status))
_days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_days, _statuses), min_size=1, max_size=12))
def test_any_sequence_of_marks_keeps_every_change_and_consistent_dates(
    changes: list[tuple[date, Status]],
) -> None:
    changes.sort(key=lambda change: change[0])
    paper = Paper("p", "P")
    expected: list[tuple[date, Status]] = []
    for day, status in changes:
        paper = with_status(paper, status, day)
        if (expected[-1][1] if expected else Status.UNREAD) is not status:
            expected.append((day, status))
        assert paper.status is status
        assert not status_problems(paper, day)  # what mark writes never contradicts itself
    assert history_of(paper) == expected
    # each event once: read, reading, read again on one day is one start and one finish
    events = [e for e in expected if e[1] is not Status.UNREAD]
    assert reading_events(paper) == list(dict.fromkeys(events))
