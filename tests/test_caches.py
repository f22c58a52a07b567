"""What makes warm commands quick must never make them wrong: results kept in .lab/results/
are given again only while nothing they were made from changed (the notes, today, the
templates, the views, a link's target outside the notes); the details store, the paper keys
for completion and the views a transaction leaves alone are checked the same way."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, read
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core import fm
from mllm_lab.walk import changed_ns

CONCEPT = "notes/fundamentals/self-attention.md"


def touch_later(path: Path) -> None:
    """Move a file's mtime on, so its stamp differs even within one clock tick."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def edit(path: Path, old: str, new: str) -> None:
    text = read(path)
    assert old in text, old
    path.write_text(text.replace(old, new), "utf-8")
    touch_later(path)


def test_status_is_kept_and_made_again_when_a_note_changes(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    first = in_lab("status")
    assert first.ok and "blip-2" in first.out
    assert list((lab / ".lab" / "results").glob("status-*.json"))
    assert in_lab("status").out == first.out  # from the result cache
    edit(lab / "papers/blip-2.md", "status: reading", "status: read")
    after = in_lab("status")
    assert after.out != first.out
    assert "1 已读" in after.out and "📖 blip-2" not in after.out


def test_status_follows_the_day(in_lab: Run, monkeypatch) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    assert "2026-W48" in in_lab("status").out
    monkeypatch.setenv("LAB_TODAY", "2026-12-09")
    later = in_lab("status")
    assert "2026-W50" in later.out and "(14 天)" in later.out


def test_a_damaged_or_foreign_result_is_made_again(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "vit").ok
    good = in_lab("status", "--json").out
    for entry in (lab / ".lab" / "results").glob("status-*.json"):
        head, _, body = entry.read_bytes().partition(b"\n")
        assert b"vit" in body
        entry.write_bytes(head + b"\n" + body.replace(b"vit", b"fit"))  # still marshal
    assert in_lab("status", "--json").out == good
    for entry in (lab / ".lab" / "results").glob("status-*.json"):
        entry.write_bytes(b"\x00not json")
    assert in_lab("status", "--json").out == good
    # entries of another shape with a checksum that holds: made again, never a traceback
    for body in (b"[1, 2]", json.dumps({"schema": "x", "papers": {}}).encode()):
        for entry in (lab / ".lab" / "results").glob("status*.json"):
            head = json.loads(entry.read_bytes().partition(b"\n")[0])
            forged = {"key": head["key"], "sum": hashlib.sha1(body).hexdigest()}
            entry.write_bytes(json.dumps(forged).encode() + b"\n" + body)
        assert in_lab("status", "--json").out == good


def test_each_list_is_kept_apart(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "clip").ok
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    papers, notes = in_lab("list", "papers").out, in_lab("list", "notes").out
    assert "clip" in papers and CONCEPT in notes and CONCEPT not in papers
    assert in_lab("list", "papers").out == papers and in_lab("list", "notes").out == notes
    reading = in_lab("list", "papers", "--status", "reading")
    assert reading.ok and "clip" in reading.out and "vit" not in reading.out
    bad = in_lab("list", "papers", "--status", "maybe")
    assert bad.code == 1 and "maybe" in bad.err  # errors are never kept


def test_next_changes_when_a_paper_is_read(in_lab: Run) -> None:
    assert in_lab("new", "paper", "transformer").ok
    before = in_lab("next").out
    assert "transformer" in before.split("\n")[0]
    assert in_lab("mark", "transformer", "read").ok
    assert "transformer" not in in_lab("next").out.split("\n")[0]


def test_check_follows_a_link_target_outside_the_notes(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note) + "\n[plan](../../assets/plan.md)\n", "utf-8")
    touch_later(note)
    first = in_lab("check")
    assert "assets/plan.md" in first.out
    assert in_lab("check").out == first.out
    (lab / "assets").mkdir()
    (lab / "assets/plan.md").write_text("# plan\n", "utf-8")
    assert "assets/plan.md" not in in_lab("check").out  # the kept result is not used


def test_check_follows_the_templates_and_the_views(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert "常见误区" not in in_lab("check").out
    template = lab / "templates/zh/concept.md.j2"
    template.write_text(read(template) + "\n## 我的新章节\n", "utf-8")
    assert "## 我的新章节" in in_lab("check").out
    edit(lab / "papers/README.md", "| ⬜ | transformer |", "| ⬜ | transformer-x |")
    assert "papers/README.md:" in in_lab("check").out


def test_review_and_prompt_are_kept_per_option(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    one = in_lab("review", "--dry-run", "--seed", "1")
    assert one.ok and in_lab("review", "--dry-run", "--seed", "1").out == one.out
    weekly = in_lab("prompt", "weekly", "--no-log")
    assert "Self-Attention" in weekly.out
    assert in_lab("new", "concept", "Cross-Attention", "-c", "fundamentals").ok
    assert "Cross-Attention" in in_lab("prompt", "weekly", "--no-log").out
    assert "Cross-Attention" in in_lab("review", "--dry-run", "--seed", "1").out


def test_review_reads_its_questions_from_the_details(in_lab: Run, lab: Path) -> None:
    """The self-test questions come from each note's misconceptions and interview answer,
    kept with the note's details: a note changed since is read again."""
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    edit(lab / CONCEPT, "## 常见误区\n", "## 常见误区\n\n- **误区**：注意力就是加权平均的全部\n")
    drawn = in_lab("review", "--dry-run", "--seed", "3").out
    assert "注意力就是加权平均的全部" in drawn
    edit(lab / CONCEPT, "注意力就是加权平均的全部", "位置编码可以省略")
    drawn = in_lab("review", "--dry-run", "--seed", "3").out
    assert "位置编码可以省略" in drawn and "加权平均的全部" not in drawn


def test_a_damaged_details_store_is_rebuilt(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note) + "\n[gone](missing.md)\n", "utf-8")
    touch_later(note)
    first = in_lab("review", "--dry-run", "--seed", "1").out
    checked = in_lab("check").out
    store = lab / ".lab" / "detail.sqlite"
    assert store.exists()
    store.write_bytes(b"this is not a database" * 100)
    for entry in (lab / ".lab" / "results").glob("*"):
        entry.unlink()
    assert in_lab("check").out == checked and "missing.md" in checked
    assert in_lab("review", "--dry-run", "--seed", "1").out == first
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM detail").fetchone()[0] >= 1


def test_a_check_stores_no_details(in_lab: Run, lab: Path) -> None:
    """`lab check` parses only what it checks (not the sections' fingerprints, the open
    questions or the question sections) and keeps its own problems per note: it makes no
    details store, and its findings are the same when a review has filled one."""
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note).replace("## ", "## x", 1) + "\n[gone](missing.md)\n", "utf-8")
    touch_later(note)
    shutil.rmtree(lab / ".lab")
    first = in_lab("check")
    assert first.code == 1 and "missing.md" in first.out and "notes/fundamentals/" in first.out
    assert not (lab / ".lab" / "detail.sqlite").exists()
    assert in_lab("review", "--dry-run").ok
    assert (lab / ".lab" / "detail.sqlite").exists()
    for entry in (lab / ".lab" / "results").glob("check*"):
        entry.unlink()
    again = in_lab("check")
    assert (again.code, again.out) == (first.code, first.out)


def test_a_review_stores_no_open_questions_and_a_prompt_reads_them(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab review` reads no open questions: it stores each note's detail without them. A
    prompt that shows them does not take such a row: it parses the note again, whole, and
    stores that; a check takes the review's rows as they are, parsing no note."""
    from mllm_lab import details
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note) + "\n- [ ] 为什么要除以根号 d？\n[gone](missing.md)\n", "utf-8")
    touch_later(note)
    shutil.rmtree(lab / ".lab")
    checked = in_lab("check")
    assert in_lab("review", "--dry-run").ok
    store = lab / ".lab" / "detail.sqlite"

    def stored() -> dict[str, Any]:
        with sqlite3.connect(store) as db:
            (text,) = db.execute("SELECT detail FROM detail WHERE path = ?", (CONCEPT,)).fetchone()
        return json.loads(text)  # type: ignore[no-any-return]

    assert "questions" not in stored() and stored()["headings"]
    for entry in (lab / ".lab" / "results").glob("check*"):
        entry.unlink()
    parsed: list[str] = []
    real = details.check_detail
    monkeypatch.setattr(
        details, "check_detail", lambda text, path: parsed.append(path) or real(text, path)
    )
    again = in_lab("check")
    assert (again.code, again.out) == (checked.code, checked.out) and "missing.md" in again.out
    assert parsed == []
    prompt = in_lab("prompt", "concept", CONCEPT)
    assert prompt.ok and "为什么要除以根号 d？" in prompt.out
    assert stored()["questions"] == [[len(read(note).split("\n")) - 2, "为什么要除以根号 d？"]]
    assert in_lab("review", "--dry-run").ok and "questions" in stored()


def test_a_details_store_of_another_layout_is_emptied(in_lab: Run, lab: Path) -> None:
    """A store an older lab wrote, or would read (it takes every row as whole, and a review's
    row lacks the open questions), is emptied by the other: its `meta` says what a row may
    be. Here a row that would show no question, in a store whose meta says nothing of rows
    (as an older lab leaves it), is dropped and the note parsed again."""
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note) + "\n- [ ] 为什么要除以根号 d？\n", "utf-8")
    touch_later(note)
    assert in_lab("review", "--dry-run").ok
    store = lab / ".lab" / "detail.sqlite"
    with sqlite3.connect(store) as db:
        assert dict(db.execute("SELECT name, value FROM meta"))["rows"]
        assert db.execute("SELECT count(*) FROM detail").fetchone()[0] == 1
        db.execute("DELETE FROM meta WHERE name = 'rows'")
        db.execute("""UPDATE detail SET detail = '{"questions": []}'""")
    assert "为什么要除以根号 d？" in in_lab("prompt", "concept", CONCEPT).out
    with sqlite3.connect(store) as db:
        assert dict(db.execute("SELECT name, value FROM meta"))["rows"]
        (text,) = db.execute("SELECT detail FROM detail").fetchone()
    assert json.loads(text)["questions"][0][1] == "为什么要除以根号 d？"


def test_the_details_of_a_deleted_note_are_dropped(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "Cross-Attention", "-c", "fundamentals").ok
    in_lab("review", "--dry-run")
    (lab / "notes/fundamentals/cross-attention.md").unlink()
    in_lab("review", "--dry-run")
    with sqlite3.connect(lab / ".lab" / "detail.sqlite") as db:
        paths = [path for (path,) in db.execute("SELECT path FROM detail")]
    assert CONCEPT in paths and "notes/fundamentals/cross-attention.md" not in paths


def test_a_transaction_leaves_views_it_does_not_change_alone(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "clip").ok  # views current, as lab wrote them
    views = ["papers/README.md", "README.md", "notes/README.md"]
    before = {view: (lab / view).stat().st_mtime_ns for view in views}
    time.sleep(0.01)
    assert in_lab("weekly").ok  # a weekly log is in no view
    assert {view: (lab / view).stat().st_mtime_ns for view in views} == before
    assert in_lab("mark", "clip", "read").ok  # the papers table and the progress, not the index
    assert (lab / "notes/README.md").stat().st_mtime_ns == before["notes/README.md"]
    assert "| ✅ | clip |" in read(lab / "papers/README.md")
    result = in_lab("sync", "--check")
    assert result.ok, result


def test_a_view_edited_since_is_regenerated_by_the_next_write(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "clip").ok
    notes_index = lab / "notes/README.md"
    notes_index.write_text(read(notes_index).replace("\n", "\n\n", 1), "utf-8")  # outside regions
    touch_later(notes_index)
    assert in_lab("weekly").ok
    assert in_lab("sync", "--check").ok


def test_a_paper_written_now_is_completed_at_once(in_lab: Run, lab: Path) -> None:
    """The keys for shell completion are kept again after every write, not only when the
    lab's data is next built (a status answered from the result cache builds nothing)."""
    assert in_lab("status").ok
    assert in_lab("new", "paper", "blip-2").ok
    keys = read(lab / ".lab" / "keys.tsv")
    assert "blip-2\t" in keys


def test_a_reading_list_edited_by_hand_is_read_the_same_with_comments(
    in_lab: Run, lab: Path
) -> None:
    listing = lab / "papers/reading-list.yaml"
    text = read(listing)
    text = text.replace("- key: vit\n", "# 组会推荐\n- key: vit\n  # 先读这篇\n", 1)
    listing.write_text(text, "utf-8")
    assert in_lab("mark", "vit", "reading").ok
    data = fm.load_yaml(read(listing))
    vit = next(entry for entry in data["papers"] if entry["key"] == "vit")
    assert vit["status"] == "reading" and "# 先读这篇" in read(listing)


def test_views_found_current_are_noted_without_writing(in_lab: Run, lab: Path) -> None:
    """A view file touched but not changed (a `git checkout`) is found current by its content,
    not regenerated; one written again by hand with other bytes is regenerated once to see
    that it is current, then noted as such, even by a dry run or a sync with nothing to do."""
    import hashlib
    import json

    assert in_lab("new", "paper", "clip").ok
    touch_later(lab / "papers/README.md")
    assert in_lab("review", "--dry-run").ok
    state = json.loads(read(lab / ".lab" / "views.json"))
    kept = hashlib.sha1((lab / "papers/README.md").read_bytes()).hexdigest()
    assert state["views"]["papers"]["sha"] == kept
    readme = lab / "README.md"
    readme.write_text(read(readme).replace("\n", "\r\n"), "utf-8")  # other bytes, same view
    assert "up to date" in in_lab("sync").err or "都是最新" in in_lab("sync").err
    state = json.loads(read(lab / ".lab" / "views.json"))
    stamp = readme.stat()
    assert state["views"]["progress"]["file"] == [changed_ns(stamp), stamp.st_size, stamp.st_ino]
    assert state["views"]["progress"]["sha"] == hashlib.sha1(readme.read_bytes()).hexdigest()


def test_check_follows_other_markdown_files_new_and_edited(in_lab: Run, lab: Path) -> None:
    assert in_lab("check").ok
    resources = lab / "resources"
    resources.mkdir(exist_ok=True)
    guide = resources / "guide.md"
    guide.write_text("# guide\n\n[gone](missing.md)\n", "utf-8")  # a new file, not a note
    found = in_lab("check")
    assert "resources/guide.md:3:" in found.out and found.code == 1
    guide.write_text("# guide\n\n[here](../README.md)\n", "utf-8")
    touch_later(guide)
    assert "resources/guide.md" not in in_lab("check").out


def test_check_follows_the_notebooks_but_does_not_validate_them_after_a_note_edit(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("new", "experiment", "toy clip").ok
    notebook = lab / "experiments/notebooks/toy-clip.ipynb"
    notebook.write_text('{"nbformat": 3}', "utf-8")
    assert "toy-clip.ipynb:1:" in in_lab("check").out
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert "toy-clip.ipynb:1:" in in_lab("check").out  # kept by the notebook's stamp
    notebook.unlink()
    assert "toy-clip.ipynb" not in in_lab("check").out


def test_check_follows_the_quiz_log(in_lab: Run, lab: Path) -> None:
    assert in_lab("check").ok
    log = lab / "reviews/quiz-log.jsonl"
    log.parent.mkdir(exist_ok=True)
    log.write_text("not json\n", "utf-8")
    assert "reviews/quiz-log.jsonl:1:" in in_lab("check").out
    log.write_text("", "utf-8")
    touch_later(log)
    assert "quiz-log" not in in_lab("check").out


def test_a_kept_prompt_follows_a_partial_its_template_includes(in_lab: Run, lab: Path) -> None:
    partial = lab / "templates/prompts/zh/extra.txt"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("EXTRA v1\n", "utf-8")
    template = lab / "templates/prompts/zh/weekly.md.j2"
    default = Path(__file__).parent.parent / "templates/prompts/zh/weekly.md.j2"
    template.write_text('{% include "prompts/zh/extra.txt" %}' + read(default), "utf-8")
    assert in_lab("prompt", "weekly").out.startswith("EXTRA v1")
    partial.write_text("EXTRA v2\n", "utf-8")
    assert in_lab("prompt", "weekly").out.startswith("EXTRA v2")


def test_an_edit_whose_mtime_was_set_back_is_still_seen(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "paper", "blip-2").ok
    assert "📖" in in_lab("list", "papers").out
    note = lab / "papers/blip-2.md"
    before = note.stat()
    note.write_text(read(note).replace("status: reading", "status: read   "), "utf-8")
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, same mtime
    assert note.stat().st_size == before.st_size
    listed = in_lab("list", "papers").out
    assert "✅" in listed and "📖" not in listed


def test_check_keeps_each_notes_problems_only_while_what_they_depend_on_holds(
    in_lab: Run, lab: Path
) -> None:
    """`lab check` keeps each file's problems by its stamp; an untouched note's are found
    again when a file it links to is created or deleted, a title its wiki link names changes,
    or a file it links to inside a folder lab does not walk comes or goes."""
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "Cross-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(
        read(note) + "\n[guide](../../resources/guide.md)\n[[Scaled Attention]]\n"
        "[env](../../.venv/notes.md)\n",
        "utf-8",
    )
    touch_later(note)
    first = in_lab("check").out
    assert "resources/guide.md" in first and "Scaled Attention" in first and ".venv" in first
    (lab / "resources").mkdir(exist_ok=True)
    (lab / "resources/guide.md").write_text("# guide\n", "utf-8")
    assert "resources/guide.md" not in in_lab("check").out
    other = lab / "notes/fundamentals/cross-attention.md"
    edit(other, "title: Cross-Attention", "title: Scaled Attention")
    assert "Scaled Attention" not in in_lab("check").out
    (lab / ".venv").mkdir()
    (lab / ".venv/notes.md").write_text("# env\n", "utf-8")
    assert ".venv" not in in_lab("check").out
    (lab / ".venv/notes.md").unlink()  # the listing of walked folders is unchanged
    assert ".venv" in in_lab("check").out
    (lab / "resources/guide.md").unlink()
    again = in_lab("check").out
    assert "resources/guide.md" in again and ".venv" in again
    assert in_lab("check").out == again


def test_facts_kept_per_file_are_given_back_only_at_the_same_stamp(tmp_path: Path) -> None:
    from mllm_lab.results import PerFile

    def anything(value: object) -> bool:
        return True

    kept = PerFile(tmp_path, "facts", "key-1")
    assert kept.get("a.md", [1, 2, 3], anything) is None
    kept.put("a.md", [1, 2, 3], {"links": 2})
    kept.put("b.md", [4, 5, 6], [])
    kept.put("c.md", None, ["never kept: no stamp"])
    kept.save()
    again = PerFile(tmp_path, "facts", "key-1")
    assert again.get("a.md", [1, 2, 3], anything) == {"links": 2}
    assert again.get("a.md", [1, 2, 3], lambda value: isinstance(value, list)) is None  # shape
    assert again.get("a.md", [1, 2, 3], lambda value: value["missing"]) is None  # raises: no
    assert again.get("b.md", [4, 5, 7], anything) is None  # the file changed since
    assert again.get("c.md", None, anything) is None
    again.save()  # only a.md was met: b.md is dropped
    assert PerFile(tmp_path, "facts", "key-1").get("b.md", [4, 5, 6], anything) is None
    assert PerFile(tmp_path, "facts", "key-2").get("a.md", [1, 2, 3], anything) is None
    stored = tmp_path / "results" / "facts.bin"
    whole = stored.read_bytes()
    header, body = whole.split(b"\n", 1)
    for damaged in (
        b'{"key": "key-1"}\n' + body,  # no checksum
        header + b"\n" + body[:-1],  # cut short
        header + b"\n" + body[:-1] + bytes([body[-1] ^ 1]),  # a bit flipped
        header.replace(b'"sum": "', b'"sum": "0') + b"\n" + body,
    ):
        stored.write_bytes(damaged)
        assert PerFile(tmp_path, "facts", "key-1").get("a.md", [1, 2, 3], anything) is None
    garbage = b"\xff not marshal"  # a right checksum over bytes marshal cannot read
    python = list(sys.version_info[:2])
    header = {"key": "key-1", "python": python, "sum": hashlib.sha1(garbage).hexdigest()}
    stored.write_bytes(json.dumps(header).encode() + b"\n" + garbage)
    assert PerFile(tmp_path, "facts", "key-1").get("a.md", [1, 2, 3], anything) is None
    stored.write_bytes(whole)
    assert PerFile(tmp_path, "facts", "key-1").get("a.md", [1, 2, 3], anything) == {"links": 2}
    other = json.loads(header_line := whole.split(b"\n", 1)[0]) | {"python": [python[0], 99]}
    stored.write_bytes(whole.replace(header_line, json.dumps(other).encode(), 1))
    assert PerFile(tmp_path, "facts", "key-1").get("a.md", [1, 2, 3], anything) is None

    class Named(str):
        pass

    stored.write_bytes(whole)
    odd = PerFile(tmp_path, "facts", "key-1")
    odd.put("a.md", [4, 5, 6], [Named("marshal cannot hold this")])
    odd.save()  # not kept, no traceback: the file stays as it was, made again next time
    assert stored.read_bytes() == whole
    assert PerFile(tmp_path, "facts", "key-1").get("a.md", [4, 5, 6], anything) is None


def test_new_paper_takes_a_listed_paper_off_the_list_and_leaves_the_list_alone_otherwise(
    in_lab: Run, lab: Path
) -> None:
    listing = lab / "papers/reading-list.yaml"
    before = read(listing)
    assert "key: clip" in before and "key: bert" not in before
    assert in_lab("new", "paper", "bert").ok  # bert is not listed: the list is left alone
    assert read(listing) == before and (lab / "papers/bert.md").exists()
    assert in_lab("new", "paper", "clip").ok
    assert "key: clip" not in read(listing) and (lab / "papers/clip.md").exists()


def _notes_and_a_cold_copy(in_lab: Run, lab: Path, tmp_path: Path, count: int, extra: str) -> Path:
    """`count` concept notes, each with `extra` appended ({n}: its number, {next}: the next
    one's); then a copy of the lab without .lab/, and the lab's own .lab/ removed."""
    import shutil

    for number in range(count):
        assert in_lab("new", "concept", f"Note {number}", "-c", "fundamentals").ok
        note = lab / f"notes/fundamentals/note-{number}.md"
        note.write_text(read(note) + extra.format(n=number, next=number + 1))
    copy = tmp_path / "copy"
    shutil.copytree(lab, copy, symlinks=True, ignore=shutil.ignore_patterns(".lab"))
    shutil.rmtree(lab / ".lab", ignore_errors=True)
    return copy


def test_details_read_by_two_processes_are_the_details_read_by_one(
    in_lab: Run, lab: Path, tmp_path: Path, monkeypatch
) -> None:
    """A first check or review of a big lab reads every other chunk of notes in a worker
    process; what it finds is what one process finds (small chunks here, to go that way on a
    small lab)."""
    from mllm_lab import details

    copy = _notes_and_a_cold_copy(
        in_lab, lab, tmp_path, 7, "\n[gone](missing-{n}.md)\n[[Note {next}]]\n"
    )
    one = in_lab("check")
    reviewed = in_lab("review", "--dry-run", "--seed", "1")
    monkeypatch.setattr(details, "PARALLEL_FROM", 3)
    monkeypatch.setattr(details, "CHUNK", 2)
    monkeypatch.setattr(details, "usable_cores", lambda: 2)
    two = in_lab("check", cwd=copy)
    assert (two.code, two.out) == (one.code, one.out) and "missing-6.md" in one.out
    again = in_lab("review", "--dry-run", "--seed", "1", cwd=copy)
    assert (again.code, again.out) == (reviewed.code, reviewed.out) and "Note 6" in again.out
    with sqlite3.connect(copy / ".lab" / "detail.sqlite") as db:
        assert db.execute("SELECT count(*) FROM detail").fetchone()[0] >= 7


def test_cards_read_by_two_processes_are_the_cards_read_by_one(
    in_lab: Run, lab: Path, tmp_path: Path, monkeypatch
) -> None:
    """A first quiz of a big lab reads half of the notes' cards in a worker process (a fresh
    interpreter); the cards it finds, and the order they are asked in, are one process's."""
    from mllm_lab.ops import cards

    copy = _notes_and_a_cold_copy(
        in_lab, lab, tmp_path, 5, "\nQ: What is {n}?\nA: The number {n}.\n"
    )
    one = in_lab("quiz", "--json")
    monkeypatch.setattr(cards, "PARALLEL_FROM", 2)
    monkeypatch.setattr(cards, "CHUNK", 2)  # three chunks: this process takes some too
    monkeypatch.setattr(cards, "usable_cores", lambda: 2)
    two = in_lab("quiz", "--json", cwd=copy)
    mine, theirs = json.loads(one.out), json.loads(two.out)
    del mine["now"], theirs["now"]  # the clock's fraction of a second
    assert (two.code, theirs) == (one.code, mine)
    assert [card["answer"] for card in mine["new"]] == [f"The number {n}." for n in range(5)]


def test_two_processes_make_of_every_chunk_what_one_makes() -> None:
    """cores.in_two_processes gives what `work` makes of each chunk exactly once, whatever
    the number of chunks (none, fewer than the worker is given ahead, many) and their sizes;
    a chunk that fails raises its error here, and the worker is let go."""
    import functools
    import operator

    from mllm_lab.cores import AHEAD, in_two_processes

    work = functools.partial(operator.mul, 2)  # a list doubled: each item twice
    for count in (0, 1, AHEAD, AHEAD + 1, 25):
        chunks = [list(range(start, start + start % 4)) for start in range(count)]
        made = list(in_two_processes(work, chunks))
        assert sorted(made) == sorted(item for chunk in chunks for item in chunk * 2)
    with pytest.raises(TypeError):
        list(in_two_processes(work, [[1], None, [2]]))


def test_cards_read_in_two_processes_come_in_the_order_of_the_notes(
    lab: Path, monkeypatch
) -> None:
    """Whichever process read a chunk, and whenever its answer came, the rows are given in
    the order of the notes asked for, as one process gives them; a note that cannot be read
    is left out."""
    from mllm_lab.kinds import CONCEPT
    from mllm_lab.models import Note
    from mllm_lab.ops import cards

    notes = []
    for number in range(9):
        path = f"notes/fundamentals/n{number}.md"
        if number != 4:  # not there: left out
            text = f"---\ntitle: N{number}\n---\n# N{number}\n\nQ: Which {number}?\nA: {number}.\n"
            (lab / path).write_text(text, encoding="utf-8")
        notes.append(Note(path=path, kind=CONCEPT, title=f"N{number}"))
    one = cards._read_all(lab, notes, {}, text=True)
    monkeypatch.setattr(cards, "PARALLEL_FROM", 2)
    monkeypatch.setattr(cards, "CHUNK", 2)
    monkeypatch.setattr(cards, "usable_cores", lambda: 2)
    two = cards._read_all(lab, list(reversed(notes)), {}, text=True)
    assert list(one) == [note.path for note in notes if note.path != notes[4].path]
    assert list(two) == list(reversed(one)) and two == one
    assert [row[6] for rows in one.values() for row in rows] == [
        f"{n}." for n in range(9) if n != 4
    ]


def test_a_check_reads_the_card_ids_in_two_processes_without_their_text(
    in_lab: Run, lab: Path, tmp_path: Path, monkeypatch
) -> None:
    """`lab check` looks for card ids used twice in rows of the id and place alone (with the
    answers it peaked 70 MB higher at 50,000 notes): read in two processes, a duplicate is
    found as one process finds it, and the ids kept are those `lab quiz` gives the cards."""
    from mllm_lab.ops import cards

    named = "\n<!-- card: twice -->\nQ: Which {n}?\nA: The number {n}.\n"
    copy = _notes_and_a_cold_copy(in_lab, lab, tmp_path, 5, named)
    one = in_lab("check")
    assert one.code == 1 and "twice" in one.out
    rows: list[list[object]] = []
    real = cards._read_all

    def spy(*args: Any, **options: Any) -> Any:
        found = real(*args, **options)
        rows.extend(row for made in found.values() for row in made)
        return found

    monkeypatch.setattr(cards, "_read_all", spy)
    monkeypatch.setattr(cards, "PARALLEL_FROM", 2)
    monkeypatch.setattr(cards, "CHUNK", 1)
    monkeypatch.setattr(cards, "usable_cores", lambda: 2)
    two = in_lab("check", cwd=copy)
    assert (two.code, two.out) == (one.code, one.out)
    assert rows and all(
        len(row) == 5 for row in rows
    )  # this process's half: no question, no answer
    quiz = json.loads(in_lab("quiz", "--json", cwd=copy).out)
    assert {card["id"] for card in quiz["new"]} >= {"twice"}


def test_the_details_of_every_note_leave_the_records_unread(in_lab: Run, lab: Path) -> None:
    """The details stream takes each note's kind and stamp from beside its record in the
    index: a check of every note reads no record (at 50,000 notes, every record read and kept
    held 95 MB), and a note that does not read is still left out."""
    from mllm_lab import scan
    from mllm_lab.lab import Lab
    from mllm_lab.ops.workspace import Workspace

    for number in range(3):
        assert in_lab("new", "concept", f"Note {number}", "-c", "fundamentals").ok
    broken = lab / "notes/fundamentals/note-2.md"
    broken.write_text("---\ntitle: [unclosed\n---\n# x\n", "utf-8")
    assert in_lab("sync").code in (0, 1)
    ws = Workspace(Lab.find(str(lab)))
    files = ws.files()
    paths = list(files)
    reads: list[str] = []
    real = scan.Files._read

    def counted(self: Any, path: str, place: int) -> Any:
        reads.append(path)
        return real(self, path, place)

    scan.Files._read = counted  # type: ignore[method-assign]
    try:
        found = dict(ws.each_detail(paths))
    finally:
        scan.Files._read = real  # type: ignore[method-assign]
    assert reads == []
    assert "notes/fundamentals/note-0.md" in found and "notes/fundamentals/note-1.md" in found
    assert "notes/fundamentals/note-2.md" not in found
    assert found["notes/fundamentals/note-0.md"]["headings"]


def _cold(lab: Path, tmp_path: Path, *args: str) -> tuple[int, str]:
    """`lab ARGS` on a copy of the lab without .lab/: what no cache can have changed."""
    import shutil

    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lab, copy, symlinks=True, ignore=shutil.ignore_patterns(".lab"))
    done = Run(copy)(*args)
    return done.code, done.out


def test_a_template_that_writes_today_gives_the_same_sections_tomorrow(
    in_lab: Run, lab: Path, tmp_path: Path, monkeypatch
) -> None:
    template = lab / "templates/zh/paper.md.j2"
    text = read(template)
    template.write_text(text.replace("## 个人评价", "## 记录于 {{ today }}\n\n## 个人评价", 1))
    assert in_lab("new", "paper", "llava").ok
    first = in_lab("check")
    monkeypatch.setenv("LAB_TODAY", "2026-11-26")
    for args in (("check",), ("review", "--dry-run", "--seed", "1")):
        warm = in_lab(*args)
        assert (warm.code, warm.out) == _cold(lab, tmp_path, *args), args
    assert in_lab("check").out == first.out


def test_a_partial_with_a_hidden_name_is_followed(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    partial = lab / "templates/zh/.extra.j2"
    partial.write_text("## 额外小节\n", "utf-8")
    template = lab / "templates/zh/concept.md.j2"
    template.write_text(read(template) + '\n{% include "zh/.extra.j2" %}\n', "utf-8")
    assert "## 额外小节" in in_lab("check").out
    partial.write_text("## 另一个小节\n", "utf-8")
    found = in_lab("check").out
    assert "## 另一个小节" in found and "## 额外小节" not in found


def test_a_views_record_or_kept_facts_of_another_shape_are_not_trusted(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """What lab keeps in .lab/ may be damaged with a valid checksum (another version of lab, a
    hand edit): an entry of another shape is made again, never trusted, never a traceback."""
    import marshal

    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    note = lab / CONCEPT
    note.write_text(read(note) + "\n[gone](missing.md)\n", "utf-8")
    touch_later(note)
    args = ("review", "--dry-run", "--seed", "1")
    assert in_lab("check").code == 1 and in_lab(*args).ok
    results = lab / ".lab" / "results"
    for name, bad in (
        ("check_files.bin", {}),
        ("check_files.bin", [[1, ["nope", {}]]]),
        ("check_files.bin", "x"),
        ("review_notes.bin", [[], [], True]),
        ("review_notes.bin", [[1], [], True, []]),
    ):
        head, _, body = (results / name).read_bytes().partition(b"\n")
        entries = marshal.loads(body)
        path = next(path for path in entries if path.startswith("notes/"))
        entries[path][1] = bad
        data = marshal.dumps(entries)
        header = json.loads(head) | {"sum": hashlib.sha1(data).hexdigest()}
        (results / name).write_bytes(json.dumps(header).encode() + b"\n" + data)
        for entry in results.glob("check-*.json"):  # the whole-check result, made again
            entry.unlink()
        for entry in results.glob("review-*.json"):
            entry.unlink()
        for command in (("check",), args):
            warm = in_lab(*command)
            assert (warm.code, warm.out) == _cold(lab, tmp_path, *command), (name, bad, command)
    for bad_record in ("[]", "5", "null", '"x"'):
        (lab / ".lab" / "views.json").write_text(bad_record, "utf-8")
        for command in (("check",), ("sync", "--check"), args):
            warm = in_lab(*command)
            assert (warm.code, warm.out) == _cold(lab, tmp_path, *command), (bad_record, command)


def test_the_facts_kept_per_file_outlive_many_sets_of_options(in_lab: Run, lab: Path) -> None:
    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert in_lab("review", "--dry-run", "--seed", "99").ok
    facts = lab / ".lab" / "results" / "review_notes.bin"
    made = facts.stat()
    for seed in range(20):  # each seed is a result of its own, pruned to the latest 16
        assert in_lab("review", "--dry-run", "--seed", str(100 + seed)).ok
    assert (facts.stat().st_ino, facts.stat().st_mtime_ns) == (made.st_ino, made.st_mtime_ns)


def test_an_older_view_brought_back_is_stale_though_no_note_changed_since(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A `git checkout` of papers/README.md as lab wrote it before `lab mark`: a view lab wrote,
    but from other data than today's, found stale as a cold run finds it."""
    assert in_lab("sync").ok
    table = lab / "papers/README.md"
    before = table.read_bytes()
    assert in_lab("mark", "clip", "read").ok and in_lab("sync").ok
    table.write_bytes(before)
    touch_later(table)
    warm = in_lab("sync", "--check")
    assert "papers/README.md" in warm.out
    assert (warm.code, warm.out) == _cold(lab, tmp_path, "sync", "--check")


def test_a_scan_shared_with_workers_gives_what_one_process_gives(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big cold scan is split between this process and one worker per further usable core
    (its CPU affinity, not the machine's count). Whatever the split, every file gets the
    record one process gives it, a broken paper note keeps its last good digest, and on one
    usable core no worker process is started."""
    import concurrent.futures

    from mllm_lab import scan as scanning
    from mllm_lab.lab import Lab
    from mllm_lab.walk import walk

    for name in ("blip-2", "clip", "vit"):
        assert in_lab("new", "paper", name).ok
    for number in range(4):
        assert in_lab("new", "concept", f"Note {number}", "-c", "training").ok
    assert in_lab("status").ok  # the index, with each paper's good digest
    edit(lab / "papers/clip.md", "status:", "status: [unclosed\nstatus:")
    found = walk(Lab.at(lab)).found
    index = scanning._load_index(Lab.at(lab))
    before = {item[0]: index.record(item[0]) for item in found if index.holds(item[0])}
    assert len(found) >= 8 and before["papers/clip.md"] is not None

    def parsed(cores: int) -> list[object]:
        monkeypatch.setattr(scanning, "usable_cores", lambda: cores)
        return scanning._parse_many(lab, list(found), before, None)  # type: ignore[arg-type]

    monkeypatch.setattr(scanning, "PARALLEL_FROM", 1)
    alone = parsed(1)
    paths = [item[0] for item in found]
    assert [paths[n] for n, record in enumerate(alone) if record.digest is None] == [  # type: ignore[attr-defined]
        "papers/clip.md"
    ]
    clip = alone[paths.index("papers/clip.md")]
    assert clip.error is not None and clip.last_good == before["papers/clip.md"].digest  # type: ignore[attr-defined]
    assert parsed(2) == alone and parsed(3) == alone
    monkeypatch.setattr(scanning, "WORKER_PIECE", 2)  # a worker's share sent back two at a time
    assert parsed(2) == alone and parsed(3) == alone

    def packed(cores: int) -> list[object]:
        monkeypatch.setattr(scanning, "usable_cores", lambda: cores)
        return scanning._parse_many(lab, list(found), before, None, packed=True)  # type: ignore[arg-type]

    # packed, as a big scan keeps them until the index is written: the same records, the
    # broken paper's last good digest too (put back by this process: a worker cannot know it)
    for cores in (1, 2):
        made = packed(cores)
        assert {entry.__class__ for entry in made} == {scanning._Packed}
        assert [scanning._unpacked(entry) for entry in made] == alone  # type: ignore[arg-type]

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker process on one usable core")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    assert parsed(1) == alone


def _many_notes(lab: Path, count: int) -> None:
    """`count` concept notes written as a user (or a clone) would, without lab."""
    folder = lab / "notes" / "training"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(count):
        (folder / f"note-{number}.md").write_text(
            f"---\ntitle: Note {number}\ncategory: training\nstage: 2\ntags: [t{number % 7}]\n"
            f"created: 2026-01-0{number % 9 + 1}\n---\n\n# Note {number}\n\nText {number}.\n",
            "utf-8",
        )


def test_a_big_scan_reads_its_records_back_from_the_index_it_wrote(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A scan that parses many files (a clone's first command) keeps their records packed
    as the index stores them, and after writing the index reads them from it when asked
    for, as a later command does: the same records as a scan without the index, before and
    after the index's bytes are let go; every command says what it says on a copy that
    never had an index; and a paper that broke keeps its last good digest and its row."""
    from mllm_lab import scan as scanning
    from mllm_lab.lab import Lab

    for name in ("blip-2", "clip"):
        assert in_lab("new", "paper", name).ok
    _many_notes(lab, 230)  # more than the scan compares with the records before (200)
    assert in_lab("status").ok
    at = Lab.at(lab)
    expected = dict(scanning.scan(at, use_index=False).files.items())
    shutil.rmtree(lab / ".lab")
    cold = scanning.scan(at)
    assert cold.files._entries and all(  # every record a place in the index just written
        entry.__class__ is int for entry in cold.files._entries.values()
    )
    assert cold.files["papers/clip.md"] == expected["papers/clip.md"]
    cold.files.release()  # read from the file now
    assert dict(cold.files.items()) == expected
    assert dict(scanning.scan(at).files.items()) == expected  # the next command's, warm
    for args in (("status",), ("list", "notes"), ("check",)):
        done = in_lab(*args)
        assert (done.code, done.out) == _cold(lab, tmp_path, *args)

    good = expected["papers/clip.md"].digest
    edit(lab / "papers/clip.md", "status:", "status: [unclosed\nstatus:")
    for note in (lab / "notes" / "training").glob("*.md"):
        touch_later(note)  # a checkout: every note parsed again
    again = scanning.scan(at)
    assert all(entry.__class__ is int for entry in again.files._entries.values())
    clip = again.files["papers/clip.md"]
    assert clip.error is not None and clip.last_good == good
    listed = in_lab("list", "papers")
    assert listed.code == 0 and "clip" in listed.out


def test_a_scan_whose_worker_dies_is_finished_by_this_process(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed mid-scan (out of memory, a kill) does not fail the command with an
    internal error: this process parses the worker's share itself (hostile pass)."""
    from mllm_lab import scan as scanning
    from mllm_lab.lab import Lab
    from mllm_lab.walk import walk

    for number in range(4):
        assert in_lab("new", "concept", f"Note {number}", "-c", "training").ok
    found = list(walk(Lab.at(lab)).found)
    alone = scanning._parse_many(lab, found, {}, None)
    here, parse_file = os.getpid(), scanning.parse_file

    def dies_in_a_worker(*args: object) -> object:
        if os.getpid() != here:
            os._exit(9)
        return parse_file(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scanning, "parse_file", dies_in_a_worker)
    monkeypatch.setattr(scanning, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scanning, "usable_cores", lambda: 2)
    assert scanning._parse_many(lab, found, {}, None) == alone


def test_a_file_kept_without_problems_is_taken_as_it_was_only_at_its_stamp(
    tmp_path: Path,
) -> None:
    """PerFile.none_at, the check's quick path for the usual note (no problems): taken, and
    kept by `save`, only when the file has the very stamp it had and no facts; a file with
    facts, another stamp, no stamp or an entry of another shape is left to `get`."""
    from mllm_lab.results import PerFile

    state = tmp_path / "state"
    state.mkdir()
    first = PerFile(state, "facts", "key-1")
    first.put("clean.md", [[1, 2, 3], False], [])
    first.put("dirty.md", [[4, 5, 6], False], [[3, ["note.problem", {}]]])
    first.save()
    again = PerFile(state, "facts", "key-1")
    assert again.none_at("clean.md", [[1, 2, 3], False])
    assert not again.none_at("clean.md", [[1, 2, 4], False])  # edited since
    assert not again.none_at("clean.md", [[1, 2, 3], True])  # broken since
    assert not again.none_at("clean.md", None)
    assert not again.none_at("dirty.md", [[4, 5, 6], False])  # has problems: `get` makes them
    assert not again.none_at("gone.md", [[7, 8, 9], False])
    again.kept["odd.md"] = [[1, 2, 3], False, []]  # not [stamp, facts]
    assert not again.none_at("odd.md", [[1, 2, 3], False])
    again.save()  # only what was met is kept: the clean file, taken at its stamp
    assert PerFile(state, "facts", "key-1").kept == {"clean.md": [[[1, 2, 3], False], []]}


def test_a_review_after_one_edit_stores_that_note_and_sweeps_nothing(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The details store is swept of deleted notes' rows when it is read whole (a deletion
    changes the names a review depends on: it reads it whole); after one note's edit the
    review stores that note's details and does not go through 50,000 rows to sweep."""
    from mllm_lab import details

    assert in_lab("new", "concept", "Self-Attention", "-c", "fundamentals").ok
    assert in_lab("new", "concept", "Cross-Attention", "-c", "fundamentals").ok
    assert in_lab("review", "--dry-run").ok
    swept: list[int] = []
    real = details._forget_gone
    monkeypatch.setattr(details, "_forget_gone", lambda db, keep: swept.append(1) or real(db, keep))
    note = lab / CONCEPT
    note.write_text(read(note) + "\n- [ ] why the scale?\n", "utf-8")
    touch_later(note)
    assert in_lab("review", "--dry-run").ok and swept == []
    st = note.stat()
    with sqlite3.connect(lab / ".lab" / "detail.sqlite") as db:
        row = db.execute("SELECT mtime, size FROM detail WHERE path = ?", (CONCEPT,)).fetchone()
    assert list(row) == [st.st_mtime_ns, st.st_size]
    (lab / "notes/fundamentals/cross-attention.md").unlink()
    assert in_lab("review", "--dry-run").ok and swept == [1]


def test_facts_put_again_as_they_were_leave_the_entry_unwritten_up_to_a_count(
    tmp_path: Path,
) -> None:
    """A file worked out again with the facts kept for it (only its stamp moved) does not
    make the entry, megabytes in a big lab, be written again while `restamp` allows it;
    other facts, a file gone or too many such files do."""
    from mllm_lab.results import PerFile

    def anything(value: object) -> bool:
        return True

    stored = tmp_path / "results" / "facts.bin"
    first = PerFile(tmp_path, "facts", "k")
    first.put("a.md", [1], ["x"])
    first.put("b.md", [2], ["y"])
    first.save(restamp=5)  # nothing kept yet: written
    whole = stored.read_bytes()

    def again(**facts: list[str]) -> PerFile:
        kept = PerFile(tmp_path, "facts", "k")
        for name, value in facts.items():
            path = f"{name}.md"
            if kept.get(path, [1] if name == "a" else [2], anything) is None:
                kept.put(path, [9], value)
        return kept

    kept = again(a=["x"], b=["y"])  # both as they were: nothing to write
    kept.save(restamp=0)
    assert stored.read_bytes() == whole
    stored.unlink()
    stored.write_bytes(whole)
    kept = PerFile(tmp_path, "facts", "k")
    kept.put("a.md", [9], ["x"])  # a new stamp, the same facts
    assert kept.get("b.md", [2], anything) == ["y"]
    kept.save(restamp=1)
    assert stored.read_bytes() == whole  # left as it was: a.md is worked out next time
    assert PerFile(tmp_path, "facts", "k").get("a.md", [9], anything) is None
    kept.save(restamp=0)  # no allowance: written
    assert PerFile(tmp_path, "facts", "k").get("a.md", [9], anything) == ["x"]
    stored.write_bytes(whole)
    kept = PerFile(tmp_path, "facts", "k")
    kept.put("a.md", [9], ["other"])  # other facts: always written
    assert kept.get("b.md", [2], anything) == ["y"]
    kept.save(restamp=32)
    assert PerFile(tmp_path, "facts", "k").get("a.md", [9], anything) == ["other"]
    stored.write_bytes(whole)
    kept = PerFile(tmp_path, "facts", "k")
    kept.put("a.md", [9], ["x"])  # b.md is gone: the entry drops it
    kept.save(restamp=32)
    assert PerFile(tmp_path, "facts", "k").get("b.md", [2], anything) is None
    stored.write_bytes(whole)
    kept = PerFile(tmp_path, "facts", "k")
    kept.put("a.md", [8], ["x"])
    kept.put("b.md", [8], ["y"])  # two restamped, one allowed: written
    kept.save(restamp=1)
    assert PerFile(tmp_path, "facts", "k").get("b.md", [8], anything) == ["y"]


def _facts_entry(lab: Path) -> Path:
    return lab / ".lab" / "results" / "review_notes.bin"


def test_a_review_after_an_edit_that_changes_none_of_its_facts_is_not_made_again(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review text is also kept by what it is made from: the lab's records and the facts
    read off the notes' bodies. A body edit that changes none of them gives the same text
    without the maps and questions worked out again; one that changes a fact, a field or the
    day makes it again; each text is the one a lab without caches makes."""
    from mllm_lab.ops import review as reviewing

    for title in ("Self-Attention", "Cross-Attention", "Layer Norm"):
        assert in_lab("new", "concept", title, "-c", "fundamentals").ok
    edited = lab / "notes/fundamentals/cross-attention.md"  # the first of them by path
    edit(edited, "## 常见误区\n", "## 常见误区\n\n- **误区**：注意力就是加权平均的全部\n")
    made: list[int] = []
    real = reviewing._made

    def counted(*args: Any, **kwargs: Any) -> str:
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reviewing, "_made", counted)

    def cold() -> str:
        shutil.rmtree(lab / ".lab", ignore_errors=True)
        return in_lab("review", "--dry-run", "--seed", "2").out

    def review() -> str:
        made.clear()
        done = in_lab("review", "--dry-run", "--seed", "2")
        assert done.ok, done
        return done.out

    first = review()
    assert made == [1] and "注意力就是加权平均的全部" in first
    entry = _facts_entry(lab)
    written = entry.read_bytes()
    # this note is read again, the others' facts are kept: the same text
    edit(edited, "注意力就是加权平均的全部\n", "注意力就是加权平均的全部\n\n<!-- 再读一遍 -->\n")
    assert review() == first and made == []
    assert entry.read_bytes() == written  # only a stamp moved: the entry is left as it was
    assert review() == first and made == []
    edit(edited, "<!-- 再读一遍 -->", "<!-- 又读了一遍 -->")
    assert review() == first and made == []
    assert cold() == first
    edit(edited, "加权平均的全部", "加权平均的一部分")  # a fact changed
    changed = review()
    assert made == [1] and "加权平均的一部分" in changed and changed != first
    assert entry.read_bytes() != written
    assert cold() == changed
    note = lab / "notes/fundamentals/layer-norm.md"
    edit(note, "title: Layer Norm", "title: Layer Normalization")  # a field changed
    retitled = review()
    assert made == [1] and "Layer Normalization" in retitled
    assert cold() == retitled
    monkeypatch.setenv("LAB_TODAY", "2026-12-01")
    later = review()
    assert made == [1] and "2026-12-01" in later


def test_the_facts_a_review_keeps_hold_each_text_once(in_lab: Run, lab: Path) -> None:
    """Notes that leave the same sections unwritten keep each section's name once: marshal
    refers back to it, so the entry is read back into one object per name, not one per note
    (megabytes at 50,000 notes)."""
    import marshal

    for title in ("Self-Attention", "Cross-Attention", "Layer Norm", "RoPE"):
        assert in_lab("new", "concept", title, "-c", "fundamentals").ok
    assert in_lab("review", "--dry-run").ok
    whole = _facts_entry(lab).read_bytes()
    kept = marshal.loads(whole.split(b"\n", 1)[1])
    unwritten = [
        text
        for path, (_stamp, (empty, _pointed, _interview, _claimed)) in kept.items()
        if path.startswith("notes/fundamentals/")
        for text in empty
    ]
    assert unwritten.count("常见误区") == 4
    assert len({id(text) for text in unwritten}) == len(set(unwritten))


def test_a_temporary_file_a_killed_command_left_in_the_results_goes(in_lab: Run, lab: Path) -> None:
    """A command killed while it saved a result leaves `.NAME.PID.lab-tmp` behind (the texts
    of 50,000 cards are 38 MB): the next result saved removes it once its process is gone,
    and leaves alone one whose process still runs (it is being written)."""
    import subprocess

    assert in_lab("status").ok
    results = lab / ".lab" / "results"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = results / f".quiz-cards-0123456789ab.text.{gone.stdout.strip()}.lab-tmp"
    alive = results / f".status-0123456789ab.json.{os.getpid()}.lab-tmp"
    other = results / ".notes.txt"  # not lab's: kept
    for path in (dead, alive, other):
        path.write_bytes(b"half written")
    assert in_lab("new", "paper", "blip-2").ok  # the status kept no longer holds:
    assert in_lab("status").ok  # a new one is saved
    assert not dead.exists() and alive.exists() and other.exists()


def test_a_first_review_lets_each_notes_detail_go_before_the_next(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The details a review reads of notes it has no facts for are taken one by one and let
    go: a first review of 50,000 notes held every detail at once (586 MB). Each detail is a
    dict that says, by a weak reference, whether it is still held when the next comes."""
    import gc
    import weakref

    from mllm_lab.ops.workspace import Workspace

    for title in ("Self-Attention", "Cross-Attention", "Layer Norm", "RoPE", "ViT"):
        assert in_lab("new", "concept", title, "-c", "fundamentals").ok
    shutil.rmtree(lab / ".lab")

    class Detail(dict[str, Any]):
        pass

    each_detail = Workspace.each_detail
    held: list[weakref.ref[Detail]] = []
    alive_at_each: list[int] = []

    def watched(self: Workspace, *args: Any, **kwargs: Any) -> Any:
        for path, detail in each_detail(self, *args, **kwargs):
            gc.collect()
            alive_at_each.append(sum(ref() is not None for ref in held))
            given = Detail(detail)
            held.append(weakref.ref(given))
            yield path, given

    monkeypatch.setattr(Workspace, "each_detail", watched)
    assert in_lab("review", "--dry-run").ok
    assert len(alive_at_each) >= 5
    assert max(alive_at_each) <= 1  # the one taken just before, at most


_FACT = st.lists(st.text(max_size=3), max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(max_size=3), _FACT, max_size=7),
    st.lists(_FACT, max_size=7),
)
def test_the_review_facts_digest_is_equal_exactly_for_equal_facts(
    facts: dict[str, list[str]], sources: list[list[str]]
) -> None:
    """The review's facts are digested a piece at a time (not marshalled whole: 20 MB at
    50,000 notes): equal facts give one digest, whichever objects they share; a change to
    any one entry, in any piece, an entry more or less, or one moved from one part to the
    next, gives another."""
    import copy

    from mllm_lab.ops import review

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(review, "DIGEST_PIECE", 2)
        digest = review._digest(facts, sources)
        assert review._digest(copy.deepcopy(facts), copy.deepcopy(sources)) == digest
        changed = []
        for key in facts:
            changed.append(({**facts, key: [*facts[key], "x"]}, sources))
        for at in range(len(sources)):
            changed.append((facts, [*sources[:at], [*sources[at], "x"], *sources[at + 1 :]]))
        changed.append((facts, [*sources, []]))
        if sources:
            changed.append((facts, sources[:-1]))
        if facts:
            last = list(facts)[-1]
            rest = {key: value for key, value in facts.items() if key != last}
            changed.append((rest, [[last, *facts[last]], *sources]))
        for other_facts, other_sources in changed:
            assert review._digest(other_facts, other_sources) != digest
        if facts:  # the same entries in another part of the three
            assert review._digest(facts, [], {}) != review._digest({}, [], facts)
