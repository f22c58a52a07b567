"""The fast paths give what the slow ones gave: the reading list without PyYAML, topic
coverage in one pass, the lab's data built without a guarded setattr per field, a walk's
fingerprint, and a template limit that a big lab's own text cannot hit."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from mllm_lab import kinds, parse
from mllm_lab.core import fm, readinglist
from mllm_lab.core.advice import uncovered_topics
from mllm_lab.core.labdata import build, patch
from mllm_lab.core.roadmap import STAGES
from mllm_lab.errors import BrokenNote, TemplateProblem
from mllm_lab.lab import Lab
from mllm_lab.models import Note
from mllm_lab.ops.workspace import Workspace
from mllm_lab.render import render
from mllm_lab.scan import scan
from mllm_lab.walk import walk

# --- the reading list ------------------------------------------------------------------------

texts = st.one_of(
    st.text(max_size=14),
    st.sampled_from(
        ["BLIP-2: x", "a #b", "'q'", "yes", "null", "2026-11-25", "1e3", "[a]", "中文"]
    ),
)
entries = st.fixed_dictionaries(
    {"key": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "title": texts},
    optional={
        "authors": st.lists(texts, max_size=3),
        "year": st.one_of(st.integers(1900, 2100), st.none()),
        "status": st.sampled_from(["unread", "reading", "read"]),
        "started": st.dates(),
        "tags": st.lists(texts, max_size=2),
    },
)
extras = st.sampled_from(["", "# 组会推荐", "  # 先读", "   ", "papers: []", "- ", "\tx: 1", "---"])


def slow(text: str) -> tuple[list[dict[str, object]], list[int]] | str:
    """What the reading list's PyYAML path gives (or the error's line)."""
    try:
        data, node = readinglist._document(text)
    except BrokenNote as error:
        return f"line {error.line}"
    if data is None or data.get("papers") is None:
        return [], []
    items = readinglist._papers_node(node)[1].value
    return [dict(e) for e in data["papers"]], [item.start_mark.line + 1 for item in items]


def with_inserts(listed: list[dict[str, object]], inserts: list[tuple[int, str]]) -> str:
    """The reading list lab writes of `listed`, with hand-written lines put in."""
    lines = readinglist.text_of(listed).split("\n")
    for at, extra in inserts:
        lines.insert(min(at, len(lines)), extra)
    return "\n".join(lines)


def plain_list(
    listed: list[dict[str, object]], inserts: list[tuple[int, str]]
) -> readinglist.ReadingList | None:
    """That list as lab reads it, when it reads without PyYAML and holds an entry."""
    try:
        reading = readinglist.parse(with_inserts(listed, inserts))
    except BrokenNote:
        return None
    return reading if reading.plain and reading.entries else None


@settings(max_examples=400, deadline=None)
@given(st.lists(entries, max_size=4), st.lists(st.tuples(st.integers(0, 40), extras), max_size=3))
@example([{"key": "a", "title": "x"}], [(3, "# 组会推荐")])
def test_the_fast_reading_list_reader_gives_what_pyyaml_gives(
    listed: list[dict[str, object]], inserts: list[tuple[int, str]]
) -> None:
    text = with_inserts(listed, inserts)
    fast = readinglist.read_plain(text)
    if fast is None:
        return
    assert (fast.entries, fast.lines) == slow(text)


plain_text = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.()-]{0,20}[A-Za-z0-9)]", fullmatch=True)
plain_entries = st.fixed_dictionaries(
    {
        "key": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
        "title": plain_text,
        "authors": st.lists(plain_text, max_size=3),
        "year": st.integers(1900, 2100),
        "arxiv": st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True),
        "status": st.sampled_from(["unread", "reading", "read"]),
        "started": st.dates(),
    }
)


@settings(max_examples=200, deadline=None)
@given(st.lists(plain_entries, min_size=1, max_size=4))
def test_a_reading_list_lab_writes_takes_the_fast_path(listed: list[dict[str, object]]) -> None:
    text = readinglist.text_of(listed)
    fast = readinglist.read_plain(text)
    assert fast is not None and fast.entries == listed


@settings(max_examples=300, deadline=None)
@given(
    st.lists(entries, max_size=3),
    st.lists(entries, min_size=1, max_size=4),
    st.sampled_from(["", "# 组会推荐\n", "papers: []\n", "papers:  # 先空着\n", "papers: null\n"]),
    st.sampled_from(["", "# 以后再读\n", "name: lab\n"]),
    st.booleans(),
)
def test_entries_appended_together_are_those_appended_one_by_one(
    listed: list[dict[str, object]],
    added: list[dict[str, object]],
    head: str,
    tail: str,
    crlf: bool,
) -> None:
    """`lab import bibtex` appends its new papers in one edit. To a list with entries: the
    same text as appending each in turn, or the same refusal. To an empty one: they go under
    its `papers:` line, and every other line stays (where one by one put the second entry
    after the text that follows, or refused)."""
    text = head + (readinglist.text_of(listed) if listed else "") + tail
    if crlf:
        text = text.replace("\n", "\r\n")

    def outcome(edit: Any) -> str:
        try:
            return str(edit().text)
        except BrokenNote as error:
            return f"refused at line {error.line}"

    def one_by_one() -> Any:
        reading = readinglist.parse(text)
        for entry in added:
            reading = readinglist.append(reading, entry)
        return reading

    try:
        reading = readinglist.parse(text)
    except BrokenNote:
        return
    together = outcome(lambda: readinglist.extend(readinglist.parse(text), added))
    if reading.entries:
        assert together == outcome(one_by_one)
        return
    if outcome(one_by_one).startswith("refused") and together.startswith("refused"):
        return
    assert not together.startswith("refused")
    assert readinglist.parse(together).entries == added
    others = [line for line in text.splitlines() if not line.startswith("papers:")]
    remaining = iter(together.splitlines())
    assert all(line in remaining for line in others)  # in order
    if "#" in head and head.startswith("papers:"):
        assert head.strip() in together.splitlines()[0]


@settings(max_examples=800, deadline=None)
@given(
    st.lists(entries, min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 40), extras), max_size=3),
    st.data(),
)
@example(
    [{"key": "a", "title": "x", "authors": ["p", "q"]}, {"key": "b", "title": "y"}],
    [(5, "# 组会推荐")],
    None,
)
def test_an_entry_edited_alone_is_edited_as_in_the_whole_list(
    listed: list[dict[str, object]], inserts: list[tuple[int, str]], data: Any
) -> None:
    """`lab mark` on a paper of a reading list lab can read without PyYAML composes only
    that paper's lines: the edit (or the refusal) is the one composing the whole list gives."""

    reading = plain_list(listed, inserts)
    if reading is None:
        return
    if data is None:
        index, updates = 0, {"status": "read", "authors": ["p", "q", "r"], "year": None}
    else:
        index = data.draw(st.integers(0, len(reading.entries) - 1))
        updates = data.draw(
            st.dictionaries(
                st.sampled_from(["title", "status", "authors", "year", "started", "tags", "x"]),
                st.one_of(st.none(), texts, st.lists(texts, max_size=3), st.integers(0, 3000)),
                max_size=3,
            )
        )

    def edited(reading: readinglist.ReadingList) -> str:
        try:
            return readinglist.set_fields(reading, index, updates).text
        except BrokenNote as error:
            return f"refused at line {error.line}: {error}"

    assert edited(reading) == edited(reading._replace(plain=False))


listed_entries = st.fixed_dictionaries(
    {"key": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), "title": texts},
    optional={
        "authors": st.lists(texts, min_size=1, max_size=3),
        "status": st.sampled_from(["unread", "reading", "read"]),
        "started": st.dates() | st.none(),
        "finished": st.dates(),
        "history": st.lists(st.sampled_from(["2026-01-02 reading", "2026-01-05 read"]), max_size=2),
    },
)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(listed_entries, min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 40), extras), max_size=2),
    st.data(),
)
@example(
    [{"key": "a", "title": "x", "status": "unread", "history": ["2026-01-02 reading"]}],
    [],
    None,
)
def test_a_status_change_in_the_list_is_made_without_pyyaml_as_with_it(
    listed: list[dict[str, object]], inserts: list[tuple[int, str]], data: Any
) -> None:
    """`lab mark` on a paper of the reading list: the entry's own lines edited as frontmatter
    is, without PyYAML (readinglist._plain_fields), give the text PyYAML's way gives, or are
    left to it; a list lab wrote always takes the fast way."""
    listed = [{"key": entry["key"], **entry} for entry in listed]  # its key first, as lab writes
    reading = plain_list(listed, inserts)
    if reading is None:
        return
    day = date(2026, 11, 25)
    if data is None:
        index, status = 0, "read"
        others: dict[str, object] = {}
    else:
        index = data.draw(st.integers(0, len(reading.entries) - 1))
        status = data.draw(st.sampled_from(["unread", "reading", "read"]))
        others = data.draw(
            st.dictionaries(
                st.sampled_from(["title", "year", "tags", "authors"]),
                st.one_of(st.none(), texts, st.lists(texts, max_size=3), st.integers(0, 3000)),
                max_size=2,
            )
        )
    old = reading.entries[index]
    history = old.get("history")
    started = None if status == "unread" else day  # as papers.with_status sets them
    updates = {
        "status": status,
        "started": started,
        "finished": day if status == "read" else None,
        "history": [*(history if isinstance(history, list) else []), f"{day} {status}"],
        **others,
    }
    fast = readinglist._plain_fields(reading, index, dict(updates))
    event("made without PyYAML" if fast is not None else "left to PyYAML")
    if not inserts and not others and history != []:  # `history: []` is a flow list
        assert fast is not None  # a list as lab writes it, a status change as mark makes it

    def edited(reading: readinglist.ReadingList) -> str:
        try:
            return readinglist.set_fields(reading, index, dict(updates)).text
        except BrokenNote as error:
            return f"refused at line {error.line}: {error}"

    slow = edited(reading._replace(plain=False))
    if fast is not None:
        assert fast[0] == slow
    assert edited(reading) == slow


@settings(max_examples=500, deadline=None)
@given(
    st.lists(listed_entries, min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 40), extras), max_size=2),
    st.data(),
)
def test_an_entry_taken_out_without_pyyaml_is_taken_out_as_with_it(
    listed: list[dict[str, object]], inserts: list[tuple[int, str]], data: Any
) -> None:
    """`lab new paper KEY` on a paper of the list takes its entry out: of a list lab can read
    without PyYAML, its own lines alone (readinglist._own_lines), the text PyYAML's way gives
    (or the same refusal); a list lab wrote always takes the fast way."""
    listed = [{"key": entry["key"], **entry} for entry in listed]
    reading = plain_list(listed, inserts)
    if reading is None:
        return
    index = data.draw(st.integers(0, len(reading.entries) - 1))
    fast = readinglist._own_lines(reading, index)
    event("made without PyYAML" if fast is not None else "left to PyYAML")
    if not inserts:
        assert fast is not None

    def removed(reading: readinglist.ReadingList) -> str:
        try:
            return readinglist.remove(reading, index).text
        except BrokenNote as error:
            return f"refused at line {error.line}: {error}"

    assert removed(reading) == removed(reading._replace(plain=False))


def test_marking_a_paper_of_the_list_does_not_import_pyyaml(lab: Path) -> None:
    from conftest import fresh_python

    listed = readinglist.text_of(
        [{"key": "x", "title": "X: a paper", "status": "unread", "history": ["2026-01-02 unread"]}]
    )
    code = (
        "import sys\nfrom datetime import date\nfrom mllm_lab.core import readinglist\n"
        f"reading = readinglist.parse({listed!r})\n"
        "out = readinglist.set_fields(reading, 0, {'status': 'read', 'started': date(2026, 1, 3),"
        " 'finished': date(2026, 1, 3), 'history': ['2026-01-02 unread', '2026-01-03 read']})\n"
        "print('yaml' in sys.modules)\nprint(out.text)\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    said, _, text = done.stdout.partition("\n")
    assert said == "False"
    assert "  status: read\n" in text and "  - 2026-01-03 read\n" in text
    assert readinglist.parse(text).entries[0]["finished"] == date(2026, 1, 3)


def test_the_catalog_takes_the_fast_path() -> None:
    from mllm_lab.catalog import CATALOG

    text = CATALOG.read_text("utf-8")
    assert readinglist.read_plain(text) is not None
    assert readinglist.read_plain(text).entries == fm.load_yaml(text)["papers"]  # type: ignore[union-attr]


def test_each_caller_gets_its_own_entries() -> None:
    text = readinglist.text_of([{"key": "a", "title": "A"}])
    first = readinglist.parse(text)
    first.entries[0]["title"] = "changed"
    assert readinglist.parse(text).entries[0]["title"] == "A"


# --- topic coverage -------------------------------------------------------------------------


def covered_by_each_note(notes: list[Note], lang: str) -> list[tuple[object, str]]:
    """The old way: each topic against each note's title and tags."""
    study = [n for n in notes if n.kind.study]
    found = []
    for stage in STAGES:
        for index, words in enumerate(stage.keywords):
            hay = [" ".join([n.title, *n.tags]).casefold() for n in study]
            if not any(word in text for text in hay for word in words):
                found.append((stage, stage.topics(lang)[index]))
    return found


words = st.sampled_from(["attention", "注意力", "ViT", "clip", "lora", "dpo", "kv", "cache", "x"])
titles = st.lists(words, max_size=4).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(titles, st.lists(words, max_size=2), st.booleans()), max_size=6))
def test_topic_coverage_in_one_pass_is_the_same(notes: list[tuple[str, list[str], bool]]) -> None:
    made = [
        Note(
            path=f"notes/training/n{i}.md",
            kind=kinds.CONCEPT if study else kinds.WEEKLY,
            title=title,
            tags=tuple(tags),
        )
        for i, (title, tags, study) in enumerate(notes)
    ]
    for lang in ("zh", "en"):
        assert uncovered_topics(made, lang) == covered_by_each_note(made, lang)


# --- building the lab's data ----------------------------------------------------------------


def test_notes_and_papers_built_fast_equal_those_made_the_usual_way(lab: Path) -> None:
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    assert run("new", "concept", "Self-Attention", "-c", "fundamentals", "--tags", "a,b").ok
    data = build(scan(Lab.at(lab), use_index=False).files)
    for item in [*data.notes, *data.papers]:
        again = type(item)(**item._asdict())  # through the class's own constructor, by name
        assert again == item and hash(again) == hash(item) and repr(again) == repr(item)
    note = next(n for n in data.notes if n.path.endswith("self-attention.md"))
    assert note.tags == ("a", "b") and note.created == date(2026, 11, 25)
    with pytest.raises(AttributeError):
        note.title = "x"  # type: ignore[misc]


def test_the_lab_patched_after_each_write_is_the_lab_built_afresh(lab: Path) -> None:
    """patch() keeps what the reading list added while its record is the very one the lab was
    built from; a new record of it (rewritten, broken) is taken again, and a note written
    meanwhile may now hide one of its entries."""
    listed = "papers/reading-list.yaml"
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    assert run("add", "paper", "Listed One", "--key", "listed-one").ok
    the_lab = Lab.at(lab)
    before = scan(the_lab, use_index=False).files
    data = build(before)
    assert data.from_list is not None and "listed-one" in {p.key for p in data.from_list.papers}
    steps = [
        ("papers/blip-2.md", lambda text: text.replace("status: unread", "status: read")),
        ("papers/listed-one.md", lambda _: "---\nkey: listed-one\ntitle: Now A Note\n---\n"),
        (listed, lambda text: text.replace("Listed One", "Listed Once")),
        ("papers/blip-2.md", lambda text: text + "\nmore words\n"),
        (listed, lambda _: "papers: [oops\n"),
        ("papers/listed-one.md", None),
    ]
    for path, edit in steps:
        where = lab / path
        if edit is None:
            where.unlink()
        else:
            where.write_text(edit(where.read_text() if where.exists() else ""))
        now = scan(the_lab, use_index=False).files
        records = {path: now[path]} if path in now else {}
        records[listed] = now[listed] if path == listed else before[listed]  # the same object
        data = patch(data, records, [path])
        assert data == build(now), path
        assert [p.key for p in data.papers] == [p.key for p in build(now).papers]
        before = {**now, listed: records[listed]}
    assert data.reading_list_problem is not None
    assert {p.key for p in data.papers} == {"blip-2"}  # a broken list read afresh keeps none


# --- notes made only when asked for -------------------------------------------------------

_FILES = [
    "papers/a.md",
    "papers/b.md",
    "papers/reading-list.yaml",
    "notes/attention/x.md",
    "notes/attention/y.md",
    "notes/training/z.md",
    "weekly-log/2026-W47.md",
    "reviews/2026-11.md",
]
_TEXTS = st.sampled_from(
    [
        None,  # deleted
        "---\ntitle: X\nstage: 2\n---\n# X\n",
        "---\ntitle: Y\nstage: 3\ntags: [a]\n---\n",
        "---\ntitle: Y\nstage: nine\n---\n",  # a finding
        "---\ntitle: C\nstage: 1\ncreated: 2026-11-24\n---\n",  # this week
        "---\ntitle: D\ncreated: 2026-11-30\n---\n",  # the next
        "---\ntitle: E\nstage: 2\ncreated: 24 Nov\n---\n",  # a day that is not one
        "---\ntitle: [unclosed\n---\n",  # does not parse
        "---\nkey: a\ntitle: Paper A\nstatus: read\nstage: 2\n---\n",
        "---\nkey: b\ntitle: Paper B\nstatus: reading\n---\n",
        "no frontmatter at all\n",
        "papers:\n  - key: a\n    title: Listed A\n  - key: c\n    title: Listed C\n",
        "papers: [oops\n",
    ]
)


def _records(files: dict[str, str]) -> dict[str, Any]:
    from mllm_lab.parse import make_record, parse_file
    from mllm_lab.walk import kind_of

    made = {}
    for path, text in files.items():
        kind = kind_of(path)
        assert kind is not None
        made[path] = make_record((path, kind, 1, len(text), 1), parse_file("/", path, kind, text))
    return made


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.sampled_from(_FILES), _TEXTS, min_size=1),
    st.lists(st.tuples(st.sampled_from(_FILES), _TEXTS), min_size=1, max_size=6),
    st.booleans(),
    st.booleans(),
)
def test_the_lab_with_notes_made_later_is_the_lab_made_at_once(
    first: dict[str, str | None], writes: list[tuple[str, str | None]], look: bool, brief: bool
) -> None:
    """Concept notes, weekly logs and reviews are made into Notes only when a command asks
    for the notes, and their records are read only then when the records can be read one at
    a time (`brief`: scan.Files, the index's way). Built so and patched after each write (a
    note changed, broken, deleted, a paper or the reading list written), the lab is the lab
    made at once from its files: the same notes, problems, papers, and study notes by stage."""
    from mllm_lab.scan import Files

    files = {path: text for path, text in first.items() if text is not None}
    data = build(Files(_records(files)) if brief else _records(files))
    for path, text in writes:
        if look:
            assert data.notes is not None  # made now: a patch must keep or drop them rightly
        if text is None:
            files.pop(path, None)
        else:
            files[path] = text
        records = _records(files)
        data = patch(
            data,
            {p: r for p, r in records.items() if p in (path,)}
            | (
                {"papers/reading-list.yaml": records["papers/reading-list.yaml"]}
                if "papers/reading-list.yaml" in records
                else {}
            ),
            [path],
        )
        fresh = build(records)
        assert data.findings == fresh.findings
        assert data.notes_by_stage() == fresh.notes_by_stage()
        assert data.note_facts() == Counter(
            (n.kind.name, n.stage, n.created.toordinal() if n.created else 0) for n in fresh.notes
        )
        monday, sunday = date(2026, 11, 23), date(2026, 11, 29)
        assert data.notes_created(monday, sunday) == [
            n for n in fresh.notes if n.created and monday <= n.created <= sunday
        ]
        assert data == fresh
        expected = Counter(note.stage for note in fresh.notes if note.kind.study)
        assert +data.notes_by_stage() == +expected


def test_marking_a_paper_makes_no_note_of_the_concept_notes(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab mark` writes a paper note, the papers table and the README's progress: none of
    those needs a Note made of each concept note (at 50,000 notes, 35,000 of them)."""
    from mllm_lab.core import labdata

    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    for number in range(3):
        assert run("new", "concept", f"Idea {number}", "-c", "training").ok
    made: list[int] = []
    real = labdata.LabData._deferred_made

    def counted(self: labdata.LabData) -> Any:
        if self._made is None and self.deferred:
            made.append(len(self.deferred))
        return real(self)

    monkeypatch.setattr(labdata.LabData, "_deferred_made", counted)
    marked = run("mark", "blip-2", "read")
    assert marked.ok, marked.output
    assert made == []
    progress = (lab / "README.md").read_text("utf-8")
    assert "阶段三：多模态对齐与融合 — 1/10 篇论文已读 · 1 篇笔记" in progress  # blip-2, read
    assert "阶段四：训练方法 — 0/6 篇论文已读 · 3 篇笔记" in progress  # the concept notes
    assert run("new", "concept", "Idea 3", "-c", "training").ok  # the notes index needs them
    assert made


def test_marking_a_paper_reads_no_record_of_a_sound_concept_note(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `lab mark` needs of the concept notes (their stage, that they have no problem) is
    kept in the index beside their stamps: it reads the records of the paper notes, and of a
    concept note only one with a problem, to say it. The lab it sees is the lab built cold."""
    from mllm_lab import scan as scanning

    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    for number in range(3):
        assert run("new", "concept", f"Idea {number}", "-c", "training").ok
    odd = lab / "notes" / "training" / "odd.md"
    odd.write_text("---\ntitle: Odd\ncategory: training\nstage: nine\n---\n# Odd\n", "utf-8")
    shutil.rmtree(lab / ".lab")
    assert run("status").ok  # the whole index written afresh: every record stored in it
    assert run("sync").ok  # and what the views were made from noted again
    real = scanning.Files._read
    read = _records_read(monkeypatch)
    marked = run("mark", "blip-2", "read")
    assert marked.ok, marked.output
    assert "notes/training/odd.md:4" in marked.err  # its problem, read off its record
    assert "papers/blip-2.md" in read
    assert [path for path in read if path.startswith("notes/")] == ["notes/training/odd.md"]
    progress = (lab / "README.md").read_text("utf-8")
    assert "阶段四：训练方法 — 0/6 篇论文已读 · 3 篇笔记" in progress  # odd has no stage
    monkeypatch.setattr(scanning.Files, "_read", real)
    warm = Workspace.open(str(lab))
    assert warm.data() == build(scan(Lab.at(lab), use_index=False).files)


def test_a_new_concept_note_makes_a_note_of_each_other_one_once(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab new concept` needs every note (for related notes and the notes index) before it
    writes and after: the notes made before stay the very objects after, so the new note is
    the only one made again, and the index keeps the lines of the categories it did not
    touch."""
    from mllm_lab.core import labdata

    run = Run(lab)
    for number in range(4):
        assert run("new", "concept", f"Idea {number}", "-c", "training").ok
    assert run("new", "concept", "Other", "-c", "fundamentals").ok
    made: list[str] = []
    real = labdata._add

    def counted(parts: Any, path: str, record: Any) -> None:
        if path.startswith("notes/"):
            made.append(path)
        real(parts, path, record)

    monkeypatch.setattr(labdata, "_add", counted)
    assert run("new", "concept", "Idea 4", "-c", "training").ok
    assert sorted(made) == sorted(
        [f"notes/training/idea-{n}.md" for n in range(4)]
        + ["notes/fundamentals/other.md", "notes/training/idea-4.md"]
    )
    monkeypatch.setattr(labdata, "_add", real)
    index = (lab / "notes" / "README.md").read_text("utf-8")
    assert "Idea 4" in index and index.count("](") >= 6
    assert run("sync", "--check").ok  # the index is the one made from nothing


def test_a_brief_names_every_kind_kept_for_later_by_a_number_of_its_own() -> None:
    """The index stores a kind's number in each brief: a kind added to NOTES_ONLY must be
    numbered in a new index layout, not shift the numbers of the others."""
    from mllm_lab.core import labdata
    from mllm_lab.scan import INDEX_LAYOUT

    assert set(labdata._BRIEF_KINDS) == labdata.NOTES_ONLY
    assert labdata._BRIEF_KINDS == ("concept", "review", "weekly") and INDEX_LAYOUT == 6


def test_a_paper_notes_brief_is_what_status_reads_of_its_record(lab: Path) -> None:
    """Its title, tags, summary and lint leave a paper note's brief as it was; its status,
    dates or problems change it. It fits the index's 64 bits, flagged as not a notes brief."""
    from mllm_lab.core import labdata
    from mllm_lab.parse import parse_text

    assert Run(lab)("new", "paper", "blip-2").ok
    text = (lab / "papers" / "blip-2.md").read_text("utf-8")

    def said(old: str = "", new: str = "") -> int:
        digest = parse_text(text.replace(old, new, 1), "papers/blip-2.md", "paper")
        return labdata.brief(labdata.Record("paper", 1, 2, 3, digest, None, None))

    first = said()
    assert first < 2**64 and first & labdata.BRIEF_PROBLEMS
    assert not first & labdata.BRIEF_BROKEN
    assert said("tags: []", "tags: [a, b]") == first
    assert said("tags: []", "tags: [] # a comment, then: summary") == first
    assert said("\n---\n", "\nsummary: x\n---\n") == first  # below the status line
    assert said("\n---\n", "\nmade_up_field: 1\n---\n") == first  # lint only
    assert said("title: '", "title: 'Re ") == first  # status takes a shown one's again
    for old, new in (
        ("status: reading", "status: read"),
        ("started: 2026", "started: 2025"),
        ("year: 2023", "year: '2023x'"),  # a problem status names
        ("stage: 3", "stage: 2"),
    ):
        assert old in text, old
        assert said(old, new) != first, (old, new)


def test_the_templates_sections_are_rendered_once_until_a_template_changes(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a section left as its template wrote it looks like is kept by the templates'
    stamps: a review after a note edit does not render the note templates again (nor import
    Jinja for them), and a template edited since is rendered again."""
    from mllm_lab.ops import review as reviewing

    run = Run(lab)
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok
    first = reviewing.template_signatures(Workspace.open(str(lab)), kinds.CONCEPT)
    assert first and reviewing.template_signatures(Workspace.open(str(lab)), kinds.PAPER)
    rendered: list[str] = []
    from mllm_lab.ops import sections

    real = sections.sample_context

    def counted(ws: Any, kind: Any) -> Any:
        rendered.append(kind.name)
        return real(ws, kind)

    monkeypatch.setattr(sections, "sample_context", counted)
    note = lab / "notes" / "training" / "fresh-idea.md"
    note.write_text(note.read_text("utf-8") + "\nmore\n", "utf-8")
    assert run("review", "--dry-run").ok
    assert rendered == []
    assert reviewing.template_signatures(Workspace.open(str(lab)), kinds.CONCEPT) == first
    template = lab / "templates" / "zh" / "concept.md.j2"
    template.parent.mkdir(parents=True, exist_ok=True)
    default = kinds.default_templates() / "zh" / "concept.md.j2"
    text = default.read_text("utf-8")
    assert "\n## " in text
    template.write_text(text.replace("\n## ", "\n## 新的一节\n\n占位\n\n## ", 1), "utf-8")
    changed = reviewing.template_signatures(Workspace.open(str(lab)), kinds.CONCEPT)
    assert rendered == ["concept"] and "新的一节" in changed and "新的一节" not in first


def _records_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths whose records are read from the index from now on."""
    from mllm_lab import scan as scanning

    read: list[str] = []
    real = scanning.Files._read

    def counted(self: scanning.Files, path: str, place: int) -> Any:
        read.append(path)
        return real(self, path, place)

    monkeypatch.setattr(scanning.Files, "_read", counted)
    return read


def _old_concept(lab: Path, name: str, stage: int, created: str) -> None:
    (lab / "notes" / "training" / f"{name}.md").write_text(
        f"---\ntitle: {name}\ncategory: training\nstage: {stage}\ncreated: {created}\n---\n",
        "utf-8",
    )


def test_the_weekly_log_reads_the_records_of_the_weeks_notes_alone(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab weekly` lists the notes created this week: the index's brief of each record holds
    its creation day, so the records of notes made in other weeks are not read."""
    run = Run(lab)
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok  # today, 2026-11-25
    for number in range(3):
        _old_concept(lab, f"old-{number}", 4, "2026-10-0" + str(number + 1))
    shutil.rmtree(lab / ".lab")
    assert run("status").ok and run("sync").ok
    read = _records_read(monkeypatch)
    made = run("weekly")
    assert made.ok, made.output
    assert [path for path in read if path.startswith("notes/")] == ["notes/training/fresh-idea.md"]
    log = (lab / "weekly-log" / "2026-W48.md").read_text("utf-8")
    assert "Fresh Idea" in log and "old-0" not in log


def test_status_after_a_frontmatter_edit_counts_notes_without_reading_them(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab status` after an edit counts the notes by stage, kind and week from the briefs the
    index keeps: it reads no concept note's record, and says what a cold count says."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok
    for number in range(3):
        _old_concept(lab, f"old-{number}", 4, "2026-10-0" + str(number + 1))
    shutil.rmtree(lab / ".lab")
    assert run("status").ok
    note = lab / "papers" / "blip-2.md"
    text = note.read_text("utf-8")
    assert "status: reading" in text  # a new paper note is being read
    note.write_text(text.replace("status: reading", "status: unread"), "utf-8")
    read = _records_read(monkeypatch)
    warm = run("status", "--json")
    assert warm.ok, warm.output
    assert read and [path for path in read if path.startswith("notes/")] == []
    shutil.rmtree(lab / ".lab")
    cold = run("status", "--json")
    assert json.loads(warm.out) == json.loads(cold.out)
    report = json.loads(warm.out)
    assert report["notes"]["concept"] == 4 and report["this_week"]["notes_created"] == 2
    assert report["papers"]["unread"] >= 1 and report["papers"]["reading"] == 0
    assert [s["notes"] for s in report["stages"]] == [0, 0, 1, 4, 0]


# --- the walk's fingerprint -----------------------------------------------------------------


def test_the_fingerprint_changes_with_any_file_and_only_then(lab: Path) -> None:
    the_lab = Lab.at(lab)
    first = walk(the_lab).fingerprint()
    assert walk(the_lab).fingerprint() == first
    note = lab / "notes/training/x.md"
    note.write_text("---\ntitle: x\n---\n", "utf-8")
    added = walk(the_lab).fingerprint()
    assert added != first
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    touched = walk(the_lab).fingerprint()
    assert touched not in (first, added)
    note.rename(lab / "notes/training/y.md")
    assert walk(the_lab).fingerprint() not in (first, added, touched)
    (lab / "notes/training/y.md").unlink()
    assert walk(the_lab).fingerprint() == first
    (lab / "README.md").write_text("not a note\n", "utf-8")  # not walked: no change
    assert walk(the_lab).fingerprint() == first


def test_walking_by_folder_descriptors_finds_what_walking_by_paths_finds(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk stats each file by its name in an open folder (walk._BY_FD); where the OS
    cannot, by its path. Both see the same files, stamps, strays and problems: nested and
    ignored folders, a symlinked note and folder inside the lab (each note found once, where
    it is), links out of it, dangling and looping ones, folders linked to one they are inside
    (a loop, skipped: walked by name, such a link never meets the kernel's limit on links in
    a path, and the walk went round it for ever; one into a notes folder is not even looked
    into), a pipe named like a note, a stray temp file, a README."""
    import mllm_lab.walk as walk_module

    (lab / "lab.toml").write_text(
        (lab / "lab.toml").read_text("utf-8") + '\nignore = ["notes/drafts/"]\n', "utf-8"
    )
    deep = lab / "notes/training/deeper/deepest"
    deep.mkdir(parents=True)
    (deep / "d.md").write_text("---\ntitle: d\n---\n", "utf-8")
    (lab / "notes/drafts").mkdir()
    (lab / "notes/drafts/ignored.md").write_text("---\ntitle: i\n---\n", "utf-8")
    (lab / "notes/training/README.md").write_text("# not a note\n", "utf-8")
    (lab / "notes/training/.x.md.abcd1234.tmp").write_text("", "utf-8")
    (lab / "notes/training/linked.md").symlink_to(deep / "d.md")
    (lab / "notes/linked-folder").symlink_to(deep, target_is_directory=True)
    outside = tmp_path / "outside.md"
    outside.write_text("---\ntitle: o\n---\n", "utf-8")
    (lab / "notes/training/out.md").symlink_to(outside)
    (lab / "notes/training/gone.md").symlink_to(tmp_path / "missing.md")
    (lab / "notes/training/loop.md").symlink_to(lab / "notes/training/loop.md")
    os.mkfifo(lab / "notes/training/pipe.md")
    (lab / "notes/training/self").symlink_to(".")  # folders that lead back up: loops
    (lab / "notes/training/deeper/up").symlink_to("../..")
    (lab / "notes/training/root").symlink_to("../..")
    the_lab = Lab.at(lab)

    def seen() -> tuple[Any, ...]:
        walked = walk(the_lab)
        problems = sorted((path, why.as_json()) for path, why in walked.problems)
        return sorted(walked.found), problems, sorted(walked.strays)

    by_descriptor = seen()
    monkeypatch.setattr(walk_module, "_BY_FD", False)
    assert seen() == by_descriptor
    found, problems, strays = by_descriptor
    paths = {item[0] for item in found}
    assert "notes/training/deeper/deepest/d.md" in paths
    assert not paths & {
        "notes/training/linked.md",  # d.md again, by a link
        "notes/linked-folder/d.md",
        "notes/drafts/ignored.md",
        "notes/training/README.md",
    }
    assert problems == [
        ("notes/training/gone.md", ["file.dangling", {}]),
        ("notes/training/loop.md", ["file.loop", {}]),
        ("notes/training/out.md", ["file.outside", {}]),
        ("notes/training/pipe.md", ["file.not_regular", {}]),
        ("notes/training/root", ["file.loop", {}]),  # the lab's own folder: not a notes folder
    ]
    assert strays == ["notes/training/.x.md.abcd1234.tmp"]


def test_restamping_a_walk_is_walking_again(lab: Path) -> None:
    the_lab = Lab.at(lab)
    walked = walk(the_lab)
    before = walked.stamps({"paper", "reading-list"})
    (lab / "papers/new.md").write_text("---\nkey: new\ntitle: N\n---\n", "utf-8")
    walked.restamp(lab, ["papers/new.md", "papers/README.md"])
    fresh = walk(the_lab)
    assert walked.stamps({"paper", "reading-list"}) == fresh.stamps({"paper", "reading-list"})
    assert walked.stamps({"paper", "reading-list"}) != before
    assert walked.stamps({"concept"}) == fresh.stamps({"concept"})


def _unremembered(lab: Path, kinds_wanted: set[str]) -> str:
    walked = walk(Lab.at(lab))
    walked.state = None
    return walked.stamps(kinds_wanted)


ALL_KINDS = {"paper", "reading-list", "concept", "weekly", "review", "experiment"}


def test_digests_per_kind_remembered_from_an_earlier_walk_are_those_worked_out_afresh(
    lab: Path,
) -> None:
    the_lab = Lab.at(lab)
    first = walk(the_lab).stamps(ALL_KINDS)
    assert (lab / ".lab/kind-stamps.json").is_file()
    assert walk(the_lab).stamps(ALL_KINDS) == first == _unremembered(lab, ALL_KINDS)
    note = lab / "notes/training/x.md"
    note.write_text("---\ntitle: x\n---\n", "utf-8")
    after = walk(the_lab).stamps({"concept"})
    assert after == _unremembered(lab, {"concept"}) != _unremembered(lab, ALL_KINDS)
    assert walk(the_lab).stamps(ALL_KINDS) == _unremembered(lab, ALL_KINDS)
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert walk(the_lab).stamps({"concept"}) == _unremembered(lab, {"concept"}) != after
    note.unlink()
    assert walk(the_lab).stamps(ALL_KINDS) == first


def test_remembered_digests_are_used_only_under_their_own_fingerprint(lab: Path) -> None:
    import json

    the_lab = Lab.at(lab)
    walk(the_lab).stamps(ALL_KINDS)
    memo = lab / ".lab/kind-stamps.json"
    kept = json.loads(memo.read_text("utf-8"))
    kept["kinds"]["concept"] = "planted"
    memo.write_text(json.dumps(kept), "utf-8")
    assert "concept=planted" in walk(the_lab).stamps({"concept"})  # what the memo is for
    (lab / "notes/training/x.md").write_text("---\ntitle: x\n---\n", "utf-8")
    assert walk(the_lab).stamps({"concept"}) == _unremembered(lab, {"concept"})
    for broken in ("[]", "{", '{"version": 1, "fingerprint": 3, "kinds": []}', "\x00"):
        memo.write_text(broken, "utf-8")
        assert walk(the_lab).stamps(ALL_KINDS) == _unremembered(lab, ALL_KINDS)


# --- the template limit -------------------------------------------------------------------


def test_a_big_labs_text_renders_and_a_runaway_template_does_not(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "echo.j2").write_text("{{ text }}\n{{ text }}\n", "utf-8")
    big = "注意力 " * (3 * 2**20)  # 12 M characters: what a huge lab's review may hold
    assert render(folder, "echo.j2", {"text": big}) == f"{big}\n{big}\n"
    loop = "{% for i in range(2000) %}{% for j in range(1000) %}{{ text }}{% endfor %}{% endfor %}"
    (folder / "loop.j2").write_text(loop, "utf-8")
    with pytest.raises(TemplateProblem, match="MB"):
        render(folder, "loop.j2", {"text": "abcdefghij"})
    with pytest.raises(TemplateProblem, match="MB"):
        render(folder, "loop.j2", {"text": big[:100]})


# --- one command's parser, not all 25 ------------------------------------------------------


def _command_lines() -> list[list[str]]:
    from mllm_lab.cli.app import _name_of, app

    lines = [[_name_of(c)] for c in app.registered_commands]
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None and group.name
        lines.append([group.name])
        lines += [[group.name, _name_of(c)] for c in sub.registered_commands]
    return lines


@pytest.mark.parametrize("line", _command_lines(), ids=" ".join)
def test_a_command_run_alone_has_the_help_and_errors_it_has_among_all(
    line: list[str], lab: Path
) -> None:
    from typer.testing import CliRunner

    from mllm_lab.cli.app import app, for_line

    narrowed = for_line(line)
    assert (
        narrowed is not app
        and len(narrowed.registered_commands) + len(narrowed.registered_groups) == 1
    )
    runner = CliRunner()
    for args in ([*line, "--help"], [*line, "--no-such-option"], ["--root", str(lab), *line, "-h"]):
        alone, among_all = runner.invoke(for_line(args), args), runner.invoke(app, args)
        assert (alone.exit_code, alone.stdout, alone.stderr) == (
            among_all.exit_code,
            among_all.stdout,
            among_all.stderr,
        ), args


@pytest.mark.parametrize(
    "args",
    [[], ["--help"], ["-h"], ["--root", "LAB", "--help"], ["--root=LAB", "-h"], ["-h", "-V"]],
    ids=repr,
)
def test_the_list_of_commands_is_shown_as_the_whole_app_shows_it(
    args: list[str], lab: Path
) -> None:
    from typer.testing import CliRunner

    from mllm_lab.cli.app import app, for_line

    args = [a.replace("LAB", str(lab)) for a in args]
    runner = CliRunner()
    listing, whole = runner.invoke(for_line(args), args), runner.invoke(app, args)
    assert (listing.exit_code, listing.stdout, listing.stderr) == (
        whole.exit_code,
        whole.stdout,
        whole.stderr,
    )
    assert "new" in whole.stdout + whole.stderr and "status" in whole.stdout + whole.stderr


@pytest.mark.parametrize(
    "args",
    [["-V"], ["statu"], ["--root"], ["--root", "x"], ["--bogus", "status"], ["-h", "-V"]],
    ids=repr,
)
def test_a_line_that_names_no_command_gets_every_command(args: list[str]) -> None:
    from mllm_lab.cli.app import app, for_line

    assert for_line(args) is app


@pytest.mark.parametrize(
    "args",
    [["status"], ["--root", "x", "status"], ["--root=x", "status"], ["status", "--root", "x"]],
)
def test_the_global_option_may_come_before_or_after_the_command(args: list[str]) -> None:
    from mllm_lab.cli.app import for_line

    assert [c.callback.__name__ for c in for_line(args).registered_commands] == ["status"]


def test_the_installed_lab_runs_a_command_named_after_the_global_option(
    lab: Path, tmp_path: Path
) -> None:
    import subprocess

    from conftest import lab_executable

    done = subprocess.run(
        [lab_executable(), "--root", str(lab), "list", "papers", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[")
    typo = subprocess.run(
        [lab_executable(), "--root", str(lab), "stauts"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert typo.returncode == 2 and "status" in typo.stderr


# --- a long list ----------------------------------------------------------------------------


def test_a_list_longer_than_a_screen_prints_every_row_cold_and_warm(lab: Path, run: Run) -> None:
    from mllm_lab.core.cells import SCREENFUL

    folder = lab / "notes" / "fundamentals"
    for number in range(SCREENFUL + 5):
        (folder / f"n-{number:03d}.md").write_text(
            f"---\ntitle: Note {number}\ncategory: fundamentals\n---\n# Note {number}\n", "utf-8"
        )
    cold = run("list", "notes", "--topic", "fundamentals", cwd=lab)
    warm = run("list", "notes", "--topic", "fundamentals", cwd=lab)
    assert cold.ok and (cold.out, cold.err) == (warm.out, warm.err)
    shown = [line for line in cold.out.splitlines() if "notes/fundamentals/n-" in line]
    assert len(shown) == SCREENFUL + 5
    assert "n-304.md  Note 304" in cold.out and "n-000.md  Note 0 " in cold.out


# --- control characters in a long text --------------------------------------------------------


@settings(max_examples=60)
@given(
    piece=st.text(
        alphabet=st.sampled_from(
            ["a", "中", "\n", "\t", "\r", "·", "©", "\x00", "\x1b", "\x7f", "\x85", "\x9f", "\xa0"]
        ),
        max_size=12,
    ),
    repeat=st.sampled_from([1, 7000]),
)
@example(piece="·" * 9, repeat=7000)
@example(piece="中\x85", repeat=7000)
def test_a_long_text_is_checked_for_control_characters_as_a_short_one_is(
    piece: str, repeat: int
) -> None:
    from mllm_lab.cli.output import shown
    from mllm_lab.core.cells import TERMINAL_CONTROL

    text = piece * repeat
    assert shown(text) == TERMINAL_CONTROL.sub("\ufffd", text)


@settings(max_examples=200)
@given(
    piece=st.text(
        alphabet=st.sampled_from(
            [
                "a",
                "中",
                "\n",
                "\t",
                "·",
                "©",
                "\x00",
                "\x1b",
                "\x7f",
                "\x85",
                "\x9f",
                "\xa0",
                "\ud800",
                "\udcff",
                "\ue000",
                "\uffff",
                "\U0001f4d6",
            ]
        ),
        max_size=12,
    ),
    repeat=st.sampled_from([1, 7000]),
)
@example(piece="\ud7ff\ue000", repeat=1)
@example(piece="\udc80", repeat=1)
def test_text_kept_as_bytes_is_printed_as_it_would_be_as_text(piece: str, repeat: int) -> None:
    """`lab list` keeps its table as UTF-8 bytes and writes them to stdout as they are only
    when the text as text would have come out the same: no control character, no surrogate."""
    from mllm_lab.core.cells import TERMINAL_CONTROL, terminal_clean_bytes

    text = piece * repeat
    as_text_clean = TERMINAL_CONTROL.search(text) is None and not any(
        "\ud800" <= c <= "\udfff" for c in text
    )
    assert terminal_clean_bytes(text.encode("utf-8", "surrogatepass")) == as_text_clean


def test_a_result_in_bytes_reaches_stdout_as_the_same_text_would(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mllm_lab.cli import output

    for text in ["中文 · a\tb", "x\x1b[31my", "a\x85b", "no newline at the end\n", ""]:
        output.result(text)
        as_text = capsys.readouterr().out
        output.result(text.encode("utf-8"))
        assert capsys.readouterr().out == as_text
        assert "\x1b" not in as_text and "\x85" not in as_text


@pytest.mark.parametrize(
    "title", ["Plain title", "Escape \\x1b[31mred", "C1 \\x85 next", "中文 ✅"]
)  # as YAML writes them in double quotes: the title holds the control character
def test_a_list_checked_once_when_made_prints_as_an_unchecked_one(
    in_lab: Run, lab: Path, title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab list` checks its table for control characters once, when it makes it, and says so
    in the result it keeps: what reaches stdout, made now or read back, is what the check at
    every print gave, escapes shown as U+FFFD."""
    from mllm_lab.cli import output

    note = lab / "notes" / "training" / "odd.md"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text(f'---\ntitle: "{title}"\ncategory: training\n---\n\n# T\n', "utf-8")
    made, kept = in_lab("list", "notes"), in_lab("list", "notes")
    real = output.result
    monkeypatch.setattr(output, "result", lambda text, checked=False: real(text))
    unchecked = in_lab("list", "notes")
    assert made.code == kept.code == unchecked.code == 0
    assert made.out == kept.out == unchecked.out
    assert "\x1b" not in made.out and "\x85" not in made.out
    assert ("\ufffd" in made.out) == (title.startswith(("Escape", "C1")))


def test_a_raw_field_is_kept_as_bytes_and_a_damaged_entry_is_not_used(tmp_path: Path) -> None:
    import json

    from mllm_lab import results

    class Name(str):
        """A str subclass: marshal cannot hold it, so the entry is kept as JSON."""

    value = {"count": 2, "text": "中文\nrow\n".encode(), "rows": [("a",)]}
    results.save(tmp_path, "packed-x", "key1", value, raw="text")  # marshal: tuples and all
    assert results.load(tmp_path, "packed-x", "key1", raw="text") == (True, value)
    assert results.load(tmp_path, "packed-x", "key1") == (False, None)  # not asked for raw
    packed = tmp_path / "results" / "packed-x.json"
    head, _, body = packed.read_bytes().partition(b"\n")
    for field in (None, "rows"):  # the raw field's name is in the checksum
        packed.write_bytes(json.dumps({**json.loads(head), "field": field}).encode() + b"\n" + body)
        assert results.load(tmp_path, "packed-x", "key1", raw="rows") == (False, None)
    value = {"count": 2, "text": "中文\nrow\n".encode(), "rows": [["a"]], "name": Name("n")}
    results.save(tmp_path, "list-x", "key1", value, raw="text")
    assert results.load(tmp_path, "list-x", "key1", raw="text") == (True, value)
    assert results.load(tmp_path, "list-x", "key2", raw="text") == (False, None)
    assert results.load(tmp_path, "list-x", "key1") == (False, None)  # not asked for raw
    assert results.load(tmp_path, "list-x", "key1", raw="rows") == (False, None)
    results.save(tmp_path, "plain-x", "key1", {"items": [Name("1")]}, raw="text")  # nothing raw
    assert results.load(tmp_path, "plain-x", "key1", raw="text") == (True, {"items": ["1"]})
    where = tmp_path / "results" / "list-x.json"
    head, _, body = where.read_bytes().partition(b"\n")
    header = json.loads(head)
    # where the raw field lies is part of the checksum: a header changed alone is refused
    for raw in (
        ["text", 0],
        ["text", len(body) + 1],
        ["text", -1],
        ["rows", header["raw"][1]],
        [3, 2],
        ["text", "2"],
        ["text", True],
        "text",
        ["text"],
    ):
        where.write_bytes(json.dumps({**header, "raw": raw}).encode() + b"\n" + body)
        assert results.load(tmp_path, "list-x", "key1", raw="text") == (False, None), raw
    where.write_bytes(head + b"\n" + body[:-1] + b"X")  # damaged after the header
    assert results.load(tmp_path, "list-x", "key1", raw="text") == (False, None)
    plain = tmp_path / "results" / "plain-x.json"  # a raw field claimed by a plain entry
    head, _, body = plain.read_bytes().partition(b"\n")
    forged = {**json.loads(head), "raw": ["items", 0]}
    plain.write_bytes(json.dumps(forged).encode() + b"\n" + body)
    assert results.load(tmp_path, "plain-x", "key1", raw="items") == (False, None)


def test_a_forged_raw_text_is_never_written_to_a_terminal_as_it_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bytes that are not what lab writes (not UTF-8, an 8-bit control) are shown with
    U+FFFD, whatever the checksum says; nothing crashes."""
    from mllm_lab.cli import output

    for forged in (b"\xff\x1b[31m\n", b"\x9b31mRED\n", b"\xc2\x9b1m\n", b"ok \xed\xa0"):
        output.result(forged)
        shown = capsys.readouterr().out
        assert "\x1b" not in shown and "\x9b" not in shown and "\ufffd" in shown, forged


@pytest.mark.parametrize(
    "env",
    [{}, {"LC_ALL": "C", "LANG": "C"}, {"PYTHONIOENCODING": "ascii"}],
    ids=["utf-8", "c-locale", "ascii"],
)
def test_a_long_list_prints_the_same_from_its_kept_bytes_in_a_real_process(
    lab: Path, sh: Any, env: dict[str, str]
) -> None:
    folder = lab / "notes" / "fundamentals"
    for number in range(305):
        title = f"笔记 {number}" + ("\\x85 bell" if number == 7 else "")  # YAML escape
        (folder / f"n-{number:03d}.md").write_text(
            f'---\ntitle: "{title}"\ncategory: fundamentals\n---\n# x\n', "utf-8"
        )
    cold = sh("list", "notes", cwd=lab, env=env)
    warm = sh("list", "notes", cwd=lab, env=env)
    assert cold.returncode == 0, cold.stderr
    assert (cold.stdout, cold.stderr) == (warm.stdout, warm.stderr)
    if "PYTHONIOENCODING" in env:
        assert "\\u7b14\\u8bb0 304" in warm.stdout  # escaped, not a crash
    else:
        assert "笔记 304" in warm.stdout and "笔记 7\ufffd bell" in warm.stdout
    kept = [p for p in (lab / ".lab" / "results").iterdir() if p.name.startswith("list-")]
    assert any(b'"field": "text"' in p.read_bytes().split(b"\n", 1)[0] for p in kept)
    (folder / "n-007.md").write_text("---\ntitle: plain\ncategory: fundamentals\n---\n", "utf-8")
    assert (
        sh("list", "notes", cwd=lab, env=env).stdout == sh("list", "notes", cwd=lab, env=env).stdout
    )


# --- lab's markup on a terminal, without Rich ------------------------------------------------

_pieces = st.one_of(
    st.sampled_from(
        ["[bold]", "[dim]", "[red]", "[green]", "[yellow]", "[cyan]", "[bold red]", "[/]"]
    ),
    st.sampled_from(
        [
            "\\[bold]",
            "\\\\",
            "\n",
            " ",
            "⚠",
            "██",
            "📖",
            "a:b",
            "[x]",
            "中文",
            "\r",
            "\\[1+1\\]",
            "[",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
)


@settings(max_examples=300)
@given(parts=st.lists(_pieces, max_size=12))
@example(parts=["[cyan]", "a", "[bold]", "b", "[/]", "c\nd", "[/]"])
@example(parts=["[bold]", "\\[bold]", "[bold]", "[/]", "\\[bold]", "\n"])  # an empty span
@example(parts=["[bold]", "a", "[bold]", "[/]", "b"])  # the same, on one line: kept apart
def test_markup_in_labs_styles_is_printed_as_rich_prints_it(parts: list[str]) -> None:
    import io

    from rich.console import Console

    from mllm_lab.cli.output import ansi

    markup = "".join(parts)
    ours = ansi(markup)
    if ours is None:
        return  # printed by Rich itself
    terminal = Console(
        file=io.StringIO(),
        force_terminal=True,
        highlight=False,
        soft_wrap=True,
        color_system="standard",
        no_color=False,  # the tests' NO_COLOR=1 is not the terminal's
    )
    try:
        terminal.print(markup)
    except Exception:  # markup Rich refuses (a stray [/]): ours must not print it either
        raise AssertionError(f"printed markup Rich refuses: {markup!r}") from None
    assert ours + "\n" == terminal.file.getvalue()


def test_lab_status_on_a_terminal_is_coloured_without_rich(lab: Path) -> None:
    import pty
    import subprocess
    import sys

    from conftest import lab_executable

    code = (
        "import sys, runpy; sys.argv = ['lab', 'status']; "
        "sys.modules['rich'] = None; "  # an import of Rich would fail
        f"runpy.run_path({lab_executable()!r}, run_name='__main__')"
    )
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=lab,
        env=env,
        timeout=60,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0, done.stderr
    assert b"\x1b[1m" in shown and b"\x1b[0m" in shown


# --- region markers found by searching for them ----------------------------------------------


def _markers_line_by_line(text: str) -> tuple[object, ...]:
    """The markers as found before: every line split off and looked at."""
    from mllm_lab.core.blocks import CODE, blocks
    from mllm_lab.core.regions import _MARKER, Marker

    if "<!-- lab:" not in text:
        return ()
    kinds = blocks(text).kinds if "```" in text or "~~~" in text else None
    found, offset = [], 0
    for number, line in enumerate(text.split("\n")):
        stop = offset + len(line) + 1
        if line.startswith("<!-- lab:") and (kinds is None or kinds[number] != CODE):
            match = _MARKER.match(line)
            if match:
                found.append(
                    Marker(
                        match["what"],
                        match["name"],
                        match["sha"],
                        offset,
                        min(stop, len(text)),
                        number + 1,
                    )
                )
        offset = stop
    return tuple(found)


_region_lines = st.sampled_from(
    [
        "<!-- lab:begin papers sha=0a1b · 自动生成 -->",
        "<!-- lab:end papers -->",
        "<!-- lab:end papers -->\r",
        "<!-- lab:begin x -->",
        " <!-- lab:end x -->",
        "<!-- lab:end x --> tail",
        "<!-- lab:nope -->",
        "```",
        "~~~~",
        "```mermaid",
        "    indented",
        "> ```",
        "- ```",
        "",
        "| a | b |",
        "中文",
    ]
)


@settings(max_examples=300)
@given(lines=st.lists(_region_lines, max_size=14), newline=st.sampled_from(["", "\n", "\r\n"]))
def test_markers_found_by_searching_are_those_found_line_by_line(
    lines: list[str], newline: str
) -> None:
    from mllm_lab.core.regions import markers

    text = "\n".join(lines) + newline
    assert tuple(markers(text)) == _markers_line_by_line(text)


# --- the index in marshal's format -------------------------------------------------------------


def test_a_cache_gives_back_what_json_would_and_refuses_another_pythons(lab: Path) -> None:
    import json

    from mllm_lab.caches import load_cache, save_cache

    the_lab = Lab.at(lab)
    files = {"a.md": ("concept", 1, [2, (3, "中\udcff")], {"k": (None, True, 1.5)}), "b": []}
    save_cache(the_lab, "test.bin", files)
    assert load_cache(the_lab, "test.bin") == json.loads(json.dumps(files))
    path = lab / ".lab/test.bin"
    head, body = path.read_bytes().split(b"\n", 1)
    header = json.loads(head)
    for changed in ({"python": [3, 99]}, {"root": "/elsewhere"}, {"sum": "0" * 40}):
        path.write_bytes(json.dumps(header | changed).encode() + b"\n" + body)
        assert load_cache(the_lab, "test.bin") == {}
    path.write_bytes(head + b"\n" + body[:-3])  # torn
    assert load_cache(the_lab, "test.bin") == {}


def test_the_index_kept_as_json_by_an_earlier_lab_is_replaced(lab: Path, run: Run) -> None:
    import shutil

    shutil.rmtree(lab / ".lab", ignore_errors=True)
    (lab / ".lab").mkdir()
    (lab / ".lab/index.json").write_text('{"version": 1}\n{}', "utf-8")
    assert run("status", cwd=lab).ok
    assert not (lab / ".lab/index.json").exists() and (lab / ".lab/index.bin").is_file()
    assert run("list", "papers", "--json", cwd=lab).ok


def test_a_cache_from_another_lab_folder_is_not_read_even_under_the_same_root(lab: Path) -> None:
    """A repository may carry a .lab/ of its own: marshal's data is read only in the .lab/
    folder that wrote it."""
    import shutil

    from mllm_lab.caches import load_cache, save_cache

    the_lab = Lab.at(lab)
    save_cache(the_lab, "test.bin", {"a": [1]})
    assert load_cache(the_lab, "test.bin") == {"a": [1]}
    kept = (lab / ".lab/test.bin").read_bytes()
    (lab / ".lab").rename(lab / "old-state")  # still there: its inode is not reused at once
    (lab / ".lab").mkdir()  # the same path, another folder: as a clone would make it
    (lab / ".lab/test.bin").write_bytes(kept)
    assert load_cache(the_lab, "test.bin") == {}
    shutil.rmtree(lab / "old-state")


@pytest.mark.parametrize("name", ["kind-stamps.json", "views.json"])
def test_lab_state_nested_past_the_recursion_limit_is_made_again(
    lab: Path, run: Run, name: str
) -> None:
    assert run("sync", cwd=lab).ok
    before = run("sync", "--check", cwd=lab)
    (lab / ".lab" / name).write_text("[" * 100_000, "utf-8")
    for args in (("sync",), ("sync", "--check"), ("check",), ("status",)):
        result = run(*args, cwd=lab)
        assert result.code in (0, 1) and "internal error" not in result.err, (args, result)
    assert run("sync", "--check", cwd=lab).out == before.out


@settings(max_examples=300)
@given(
    text=st.lists(
        st.sampled_from(["\\", "[", "]", "a", "/", "#", "@", " ", "bold", "1+1", "中"]), max_size=10
    )
    .map("".join)
    .filter(lambda t: not t.endswith("\\"))
)
@example(text="Proof \\[1+1\\] and \\[x\\]")
def test_user_text_in_markup_is_shown_as_it_is_by_rich_plain_text_and_ansi(text: str) -> None:
    """A title holding `\\[` (LaTeX) or `[bold]` is shown as typed, on a terminal with or
    without Rich and in plain text."""
    from rich.markup import render

    from mllm_lab.cli.output import ansi, escape, strip_markup

    for markup, shown in (
        (f"[bold]{escape(text)}[/] x", f"{text} x"),
        (f"{escape(text)} y", f"{text} y"),
    ):
        assert render(markup, emoji=False).plain == shown
        assert strip_markup(markup) == shown
    assert ansi(f"{escape(text)} y") in (None, f"{text} y")


# --- views confirmed by their records are noted --------------------------------------------


def _rewrite_same_bytes(path: Path) -> None:
    """What `git checkout` does to a file it restores: the same bytes, a new stamp."""
    data = path.read_bytes()
    fresh = path.with_name(path.name + ".tmp")
    fresh.write_bytes(data)
    os.replace(fresh, path)


def test_views_found_current_by_their_records_are_noted_for_the_next_command(
    lab: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a checkout gives the notes and the views new stamps (same bytes), the first
    command confirms the views by what the index holds; it notes their stamps, so the next
    command finds them current by stamps alone, and nothing is written."""
    from mllm_lab.ops import views
    from mllm_lab.ops.workspace import Workspace

    assert run("new", "paper", "Stamp test", "--year", "2025", cwd=lab).ok
    assert run("new", "concept", "Stamps", "-c", "training", cwd=lab).ok
    for path in [*lab.glob("papers/*.md"), *lab.glob("notes/**/*.md"), lab / "README.md"]:
        _rewrite_same_bytes(path)
    before = {p: p.read_bytes() for p in lab.rglob("*.md")}
    synced = run("sync", cwd=lab)
    assert synced.ok and "最新" in synced.out + synced.err, synced
    assert {p: p.read_bytes() for p in lab.rglob("*.md")} == before

    def no_records(*args: object, **kwargs: object) -> str:
        raise AssertionError("the views were checked by their records again")

    monkeypatch.setattr(views, "records_of", no_records)
    ws = Workspace.open(str(lab))
    assert views.current(ws, views.load_state(ws)) == {view.region for view in views.VIEWS}
    assert run("weekly", cwd=lab).ok  # writes a log, made from none of the views' inputs


# --- results made from records alone hold after a body is edited ----------------------------


def test_results_made_from_records_hold_after_a_body_edit_and_no_longer_after_a_field_edit(
    lab: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mllm_lab.ops import report

    assert run("new", "concept", "Attention", "-c", "training", cwd=lab).ok
    note = lab / "notes" / "training" / "attention.md"
    first = {what: run(*what, cwd=lab).out for what in (("status",), ("list", "notes"), ("next",))}

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("made again from the records")

    monkeypatch.setattr(report, "_status", not_again)
    monkeypatch.setattr(report, "listing", not_again)
    note.write_text(note.read_text("utf-8") + "\n更多笔记：softmax 的温度。\n", "utf-8")
    for path in lab.rglob("*.md"):  # and every file touched, as a checkout does
        os.utime(path, (1_900_000_000, 1_900_000_000))
    for what, out in first.items():
        assert run(*what, cwd=lab).out == out, what
    monkeypatch.undo()
    note.write_text(note.read_text("utf-8").replace("title: Attention", "title: Attn"), "utf-8")
    listed = run("list", "notes", cwd=lab).out
    assert "Attn" in listed and listed != first[("list", "notes")]
    shutil.rmtree(lab / ".lab")
    assert run("list", "notes", cwd=lab).out == listed


def test_a_record_changed_in_the_journal_without_a_content_line_leaves_the_content_unknown(
    lab: Path, run: Run
) -> None:
    """A journal written by an earlier lab, or cut short after a record: the results made
    from the records are made again, never trusted."""
    from mllm_lab.lab import Lab
    from mllm_lab.scan import _load_index, journal

    assert run("status", cwd=lab).ok
    the_lab = Lab.find(str(lab))
    index = _load_index(the_lab)
    assert index.content is not None and not index.bloated
    path = next(iter(index.held()))
    journal(the_lab, {path: index.record(path)})
    assert _load_index(the_lab).content is None
    journal(the_lab, {}, "stamp-x")
    assert _load_index(the_lab).content == "stamp-x"


def test_a_journal_of_megabytes_is_folded_into_the_index_by_the_next_scan(
    lab: Path, run: Run
) -> None:
    """A record of the reading list is the whole list: each `lab add paper` journals all of
    it. The journal is read by every command after an edit, so past a size it is folded in."""
    from mllm_lab.lab import Lab
    from mllm_lab.scan import JOURNAL_NAME, _load_index, journal

    assert run("status", cwd=lab).ok
    the_lab = Lab.find(str(lab))
    index = _load_index(the_lab)
    path = next(iter(index.held()))
    big = [
        *list(index.record(path) or [])[:4],
        None,
        None,
        ["x" * 100_000],
    ]  # a long record, file gone
    for _ in range(4):
        journal(the_lab, {"notes/training/gone.md": big})
        journal(the_lab, {"notes/training/gone.md": None}, index.content)
    assert _load_index(the_lab).bloated and _load_index(the_lab).content == index.content
    before = run("list", "notes", cwd=lab).out
    (lab / "notes" / "README.md").touch()  # not a note: changes nothing the index holds
    assert run("status", cwd=lab).ok
    assert not (the_lab.state / JOURNAL_NAME).exists() or not _load_index(the_lab).bloated
    assert run("list", "notes", cwd=lab).out == before


def test_a_content_stamp_kept_by_a_scan_holds_only_if_no_write_came_between(
    lab: Path, run: Run
) -> None:
    """A read-only command that re-read a body-edited note keeps the stamp it loaded; a
    command that wrote notes while it read (its lines land first) makes the stamp unknown."""
    from mllm_lab.lab import Lab
    from mllm_lab.scan import _load_index, journal, new_content

    assert run("new", "concept", "Attention", "-c", "training", cwd=lab).ok
    assert run("status", cwd=lab).ok
    the_lab = Lab.find(str(lab))
    index = _load_index(the_lab)
    loaded = index.content
    a, b = sorted(index.held())[:2]
    journal(the_lab, {a: index.record(a)}, loaded, kept=True)  # nothing between: kept
    assert _load_index(the_lab).content == loaded
    journal(the_lab, {b: index.record(b)})  # a write lands between the read and the note
    written = new_content(the_lab)
    assert _load_index(the_lab).content == written
    journal(the_lab, {a: index.record(a)}, loaded, kept=True)  # read before that write
    assert _load_index(the_lab).content is None
    journal(the_lab, {a: index.record(a)}, "fresh")  # a new stamp always holds
    assert _load_index(the_lab).content == "fresh"


def test_an_index_header_with_a_size_of_another_type_is_read_without_a_crash(
    lab: Path, run: Run
) -> None:
    import json

    assert run("status", cwd=lab).ok
    index = lab / ".lab" / "index.bin"
    head, _, body = index.read_bytes().partition(b"\n")
    for size in ("12", None, [1], 1.5, True):
        header = {**json.loads(head), "size": size}
        index.write_bytes(json.dumps(header).encode() + b"\n" + body)
        (lab / "notes" / "README.md").touch()
        shown = run("list", "notes", cwd=lab)
        assert shown.ok, (size, shown)


def test_the_cards_cache_saved_after_an_edit_is_the_one_a_cold_run_saves(
    lab: Path, run: Run
) -> None:
    """Only a note's new rows are shaped as JSON gives them back before the cache is saved;
    the rest comes from the cache: the whole is what a cold run keeps."""
    import json

    from mllm_lab.caches import load_cache
    from mllm_lab.lab import Lab
    from mllm_lab.ops.cards import CARDS_CACHE, IDS_CACHE

    assert run("new", "concept", "Attention", "-c", "training", cwd=lab).ok
    assert run("new", "concept", "Softmax", "-c", "training", cwd=lab).ok
    note = lab / "notes" / "training" / "attention.md"
    assert run("quiz", "--json", cwd=lab).ok
    note.write_text(
        note.read_text("utf-8") + "\nQ: 为什么要缩放？\n\nA: 方差随维度增大。\n", "utf-8"
    )
    assert run("quiz", "--json", cwd=lab).ok and run("check", cwd=lab).code in (0, 1)
    # a plain `quiz --json` patches the cards it kept with the note's alone (ops.quiz); with a
    # filter they are made from every note's cached rows, and the cache saved
    assert run("quiz", "--json", "--stage", "1", cwd=lab).ok
    the_lab = Lab.find(str(lab))
    warm = {name: load_cache(the_lab, name) for name in (CARDS_CACHE, IDS_CACHE)}
    shutil.rmtree(lab / ".lab")
    assert run("quiz", "--json", cwd=lab).ok and run("check", cwd=lab).code in (0, 1)
    cold = {name: load_cache(the_lab, name) for name in (CARDS_CACHE, IDS_CACHE)}
    assert warm == cold and warm[IDS_CACHE]["notes"]
    assert warm == json.loads(json.dumps(warm))  # as JSON gives it back: no tuple anywhere


def test_views_are_current_by_the_content_stamp_after_a_body_edit(
    lab: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mllm_lab.ops import views
    from mllm_lab.ops.workspace import Workspace

    assert run("new", "concept", "Attention", "-c", "training", cwd=lab).ok
    assert run("new", "paper", "Stamp test", "--year", "2025", cwd=lab).ok
    note = lab / "notes" / "training" / "attention.md"
    note.write_text(note.read_text("utf-8") + "\n正文里又写了一段。\n", "utf-8")

    def no_records(*args: object, **kwargs: object) -> str:
        raise AssertionError("the views were checked by their records")

    monkeypatch.setattr(views, "records_of", no_records)
    ws = Workspace.open(str(lab))
    assert views.current(ws, views.load_state(ws)) == {view.region for view in views.VIEWS}
    monkeypatch.undo()
    note.write_text(note.read_text("utf-8").replace("title: Attention", "title: Attn"), "utf-8")
    ws = Workspace.open(str(lab))
    assert "notes-index" not in views.current(ws, views.load_state(ws))  # its records changed
    synced = run("sync", cwd=lab)
    assert synced.ok and "Attn" in (lab / "notes" / "README.md").read_text("utf-8")


_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.floats(allow_nan=True),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(), st.booleans()), inner),
    ),
    max_leaves=12,
)


def _typed(value: Any) -> Any:
    """`value` with each item's type beside it: equal only when the types are equal too."""
    if isinstance(value, list | tuple):
        return (type(value), [_typed(item) for item in value])
    if isinstance(value, dict):
        return (dict, [(_typed(k), _typed(v)) for k, v in value.items()])
    return (type(value), repr(value))


@settings(max_examples=600, deadline=None)
@given(_VALUES)
@example([["title", None, 1, ["a"], [], "", "2026-01-02"], None, [3, ["m", {"k": "v"}], None]])
@example([1.5])
@example({1: "a"})
def test_a_record_json_gives_back_as_it_is_is_kept_without_the_round_trip(value: Any) -> None:
    """The index keeps a new record as JSON gives it back; a record that JSON gives back as it
    is (what a parse makes) is kept without the round trip. Never one that JSON changes."""
    from mllm_lab.caches import as_json
    from mllm_lab.parse import json_as_is

    try:
        round_trip = as_json(value)
    except (TypeError, ValueError):
        assert not json_as_is(value)
        return
    if json_as_is(value):
        assert _typed(round_trip) == _typed(value)


def test_every_record_is_made_as_json_gives_it_back(lab: Path, in_lab: Run) -> None:
    """The index writes a new record as it is, on the word of make_record that JSON would give
    it back so: a digest of tuples is made lists, and every record of a lab with a broken
    note, a paper and the reading list passes json_as_is."""
    from mllm_lab.lab import Lab
    from mllm_lab.parse import json_as_is, make_record
    from mllm_lab.scan import scan

    made = make_record(("papers/x.md", "paper", 1, 2, 3), ((["t", ("a", "b")], None), None))
    assert made.digest == [["t", ["a", "b"]], None]
    assert in_lab("new", "paper", "clip").ok and in_lab("add", "paper", "vit").ok
    (lab / "notes/training/broken.md").write_text("---\ntitle: [unclosed\n---\n# B\n", "utf-8")
    files = scan(Lab.at(lab), use_index=False).files
    assert len(files) >= 3 and all(json_as_is(list(r[4:7])) for r in files.values())


def test_a_command_ends_without_freeing_its_objects_and_loses_nothing(lab: Path) -> None:
    """The installed `lab` ends its process once its output is flushed, without freeing the
    lab's objects one by one (a tenth of a write at 50,000 notes): exit codes, stdout, stderr
    and the files it wrote are all as they would be; under a tracer it exits the usual way."""
    import json
    import subprocess
    import sys

    from conftest import lab_executable

    def lab_run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [lab_executable(), *args], cwd=lab, capture_output=True, text=True, timeout=120
        )

    for number in range(12):
        assert (
            lab_run("new", "concept", f"Concept number {number}", "-c", "training").returncode == 0
        )
    assert lab_run("new", "paper", "blip-2").returncode == 0
    marked = lab_run("mark", "blip-2", "read")
    assert marked.returncode == 0 and "blip-2" in marked.stdout + marked.stderr
    assert "status: read" in (lab / "papers" / "blip-2.md").read_text("utf-8")
    listed = lab_run("list", "notes", "--json")
    assert listed.returncode == 0
    assert len([n for n in json.loads(listed.stdout) if "Concept number" in n["title"]]) == 12
    missing = lab_run("mark", "no-such-paper", "read")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    assert lab_run("--no-such-option").returncode == 2
    assert lab_run("sync", "--check").returncode == 0  # the views and the index hold together
    ending = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stderr.write('usual exit\\n'))\n"
        "if sys.argv[1] == 'traced':\n"
        "    sys.settrace(lambda *a: None)\n"
        "sys.argv = ['lab', 'status']\n"
        "from mllm_lab.cli import main\nmain()\n"
    )
    for how, usual in (("plain", False), ("traced", True)):
        done = subprocess.run(
            [sys.executable, "-c", ending, how], cwd=lab, capture_output=True, text=True
        )
        assert done.returncode == 0 and done.stdout, done.stderr
        assert ("usual exit" in done.stderr) == usual, how


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item per time the lab's data is built from now on."""
    from mllm_lab.core import labdata

    made: list[int] = []
    real = labdata.build

    def counted(records: Any) -> Any:
        made.append(1)
        return real(records)

    monkeypatch.setattr(labdata, "build", counted)
    return made


def test_weekly_again_builds_nothing_until_its_list_or_a_problem_changed(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab weekly` run again after bodies were written answers its "done" list and the
    problems every command names from what it kept: the lab's data is not built. A note of
    the week added, or a problem, is there at once, as a run without the index has it."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok
    assert run("weekly").ok and run("weekly").ok  # made, then its list kept with it there
    log = lab / "weekly-log" / "2026-W48.md"
    builds = _builds(monkeypatch)
    note = lab / "notes" / "training" / "fresh-idea.md"
    note.write_text(note.read_text("utf-8") + "\nwritten\n", "utf-8")
    again = run("weekly")
    assert again.ok, again
    assert builds == []

    def same_as_cold() -> None:
        warm = run("weekly")
        assert warm.ok, warm
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        shutil.copytree(lab, cold, ignore=shutil.ignore_patterns(".lab"))
        made = run("weekly", cwd=cold)
        assert made.ok, made
        assert log.read_text("utf-8") == (cold / "weekly-log" / "2026-W48.md").read_text("utf-8")
        said = [
            [line for line in r.err.splitlines() if not line.startswith(" ")] for r in (warm, made)
        ]
        assert said[0] == said[1]  # the problems named, not the files each run wrote

    _old_concept(lab, "late-idea", 2, "2026-11-24")
    same_as_cold()
    assert "late-idea" in log.read_text("utf-8")
    _old_concept(lab, "odd-idea", 2, "2026-11-24")
    broken = lab / "notes" / "training" / "odd-idea.md"
    broken.write_text(broken.read_text("utf-8").replace("stage: 2", "stage: [2"), "utf-8")
    same_as_cold()
    assert "odd-idea.md" in run("weekly").err
    broken.unlink()
    same_as_cold()


def test_the_catalog_looked_at_again_builds_nothing_and_shows_each_status_as_it_is(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab catalog` marks the papers the lab has with their status: kept by what the index
    holds, so it is not worked out again from every paper of the lab, and a status changed
    since (by `lab mark` or by hand) is the one shown."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok

    def statuses() -> dict[str, str | None]:
        listed = run("catalog", "--json")
        assert listed.ok, listed
        return {record["key"]: record["status"] for record in json.loads(listed.out)}

    def status_of(key: str) -> str | None:
        return statuses()[key]

    absent = sorted(key for key, status in statuses().items() if status is None)[0]
    assert status_of("blip-2") == "reading"
    builds = _builds(monkeypatch)
    note = lab / "papers" / "blip-2.md"
    note.write_text(note.read_text("utf-8") + "\nmore of my notes\n", "utf-8")
    assert status_of("blip-2") == "reading" and builds == []
    assert run("mark", "blip-2", "read").ok
    assert status_of("blip-2") == "read"
    edit = note.read_text("utf-8").replace("status: read\n", "status: unread\n", 1)
    note.write_text(edit, "utf-8")
    assert status_of("blip-2") == "unread"
    assert run("add", "paper", absent).ok
    assert status_of(absent) == "unread"


def _report(run: Run, where: Path | None = None) -> dict[str, Any]:
    done = run("status", "--json", cwd=where)
    assert done.ok, done
    report = json.loads(done.out)
    report.pop("lab")  # its root
    return report


def test_status_holds_while_only_what_it_does_not_show_changed(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concept note's title, tags or summary edited: `lab status` (and the problems every
    command shows) are answered from what they read of the records, the notes' briefs and
    the papers' stamps, without building the lab. Every edit that changes what they show
    (a stage, a creation day, a problem, another problem, a paper, this week's log gone and
    another log made the same day) gives what a cold run gives."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok
    assert run("weekly").ok
    _old_concept(lab, "old-0", 4, "2026-10-01")
    assert run("status").ok
    note, paper = lab / "notes" / "training" / "old-0.md", lab / "papers" / "blip-2.md"

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text("utf-8")
        assert old in text, (old, text)
        path.write_text(text.replace(old, new, 1), "utf-8")

    builds = _builds(monkeypatch)
    edit(note, "title: old-0\n", "title: Renamed\ntags: [x, y]\nsummary: said\n")
    assert _report(run) == _report(run)  # the second one is warm
    assert builds == []
    edit(paper, "tags: []\n", "tags: []\nsummary: 'a paper: said'\n")  # below the key
    before = _report(run)
    assert builds == [1]
    edit(paper, "summary: 'a paper: said'", "summary: said again")
    edit(paper, "tags: []", "tags: [mine, yours]")
    assert _report(run) == before  # a paper note's tags and summary: not what status reads
    assert builds == [1]

    def same_as_cold() -> None:
        warm = _report(run)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        shutil.copytree(lab, cold, ignore=shutil.ignore_patterns(".lab"))
        assert warm == _report(run, cold)

    for path, old, new in (
        (note, "stage: 4", "stage: 2"),
        (note, "created: 2026-10-01", "created: 2026-11-24"),  # this week
        (note, "title: Renamed", "title: A: B: C"),  # broken
        (note, "title: A: B: C", "title: Renamed\nstatus: ["),  # broken another way
        (note, "title: Renamed\nstatus: [", "title: Renamed"),
        (paper, "title: '", "title: 'Retitled "),
        (paper, "status: reading", "status: read"),
        (paper, "stage: ", "stage: 1\nold_stage: "),
        (paper, "summary: said again", "summary: [not, text]"),  # a problem: status names it
    ):
        edit(path, old, new)
        same_as_cold()
    log = lab / "weekly-log" / "2026-W48.md"
    other = lab / "weekly-log" / "2026-W47.md"
    other.write_text(log.read_text("utf-8").replace("2026-W48", "2026-W47"), "utf-8")
    log.unlink()
    assert _report(run)["this_week"]["weekly_log"] is None
    same_as_cold()


def test_a_paper_retitled_by_hand_is_shown_retitled_without_the_lab_built_again(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paper note's title is not in what status counts by: after a title edit the report is
    the kept one with the titles of the papers it shows (reading now, next) read again from
    their notes, the same as a run without the index gives. A title status does not show
    changes nothing it prints; a title that breaks the frontmatter is a problem it names."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok  # reading now
    assert run("new", "paper", "gpt-1").ok and run("mark", "gpt-1", "unread").ok  # next
    assert run("new", "paper", "gpt-2").ok and run("mark", "gpt-2", "read").ok
    before = _report(run)
    shown = {p["key"]: p["title"] for p in (*before["reading_now"], *before["next"])}
    assert {"blip-2", "gpt-1"} <= shown.keys() and "gpt-2" not in shown, shown
    builds = _builds(monkeypatch)

    def retitle(key: str, title: str) -> None:
        path = lab / "papers" / f"{key}.md"
        lines = path.read_text("utf-8").split("\n")
        at = next(n for n, line in enumerate(lines) if line.startswith("title:"))
        lines[at] = f"title: {title}"
        path.write_text("\n".join(lines), "utf-8")

    def titles(report: dict[str, Any]) -> dict[str, str]:
        return {p["key"]: p["title"] for p in (*report["reading_now"], *report["next"])}

    def same_as_cold() -> dict[str, Any]:
        warm = _report(run)
        cold = tmp_path / "cold"
        shutil.rmtree(cold, ignore_errors=True)
        shutil.copytree(lab, cold, ignore=shutil.ignore_patterns(".lab"))
        assert warm == _report(run, cold)
        return warm

    retitle("blip-2", "'BLIP-2, as I call it'")
    retitle("gpt-1", '"GPT-1 — 再读一遍"')
    retitle("gpt-2", "Language Models are Unsupervised Multitask Learners (mine)")
    after = _report(run)
    assert builds == []
    assert titles(after) == {**shown, "blip-2": "BLIP-2, as I call it", "gpt-1": "GPT-1 — 再读一遍"}
    assert {k: v for k, v in after.items() if k not in ("reading_now", "next")} == {
        k: v for k, v in before.items() if k not in ("reading_now", "next")
    }
    assert same_as_cold() == after  # (the run without the index builds it)
    retitle("gpt-1", "GPT-1: the paper: again")  # not YAML: a problem, and its last good row
    broken = _report(run)
    assert any(p.startswith("papers/gpt-1.md:") for p in broken["problems"]), broken["problems"]
    assert titles(broken)["gpt-1"] == "GPT-1 — 再读一遍"
    retitle("gpt-1", "GPT-1 at last")
    assert titles(same_as_cold())["gpt-1"] == "GPT-1 at last"


def _cold(run: Run, lab: Path, tmp_path: Path, *args: str) -> str:
    """What `lab ARGS` prints in a copy of the lab without its index (and nothing kept)."""
    cold = tmp_path / "cold"
    shutil.rmtree(cold, ignore_errors=True)
    shutil.copytree(lab, cold, ignore=shutil.ignore_patterns(".lab"))
    made = run(*args, cwd=cold)
    assert made.ok, made
    return made.out


def test_an_export_asked_again_builds_nothing_and_cites_each_paper_as_it_now_is(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab export bibtex` keeps its text by what the index holds: after a body edit it is
    not made again, and after a title, a status or a paper changed it is what a run without
    the index prints."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok and run("mark", "clip", "read").ok

    def exported(*options: str) -> str:
        done = run("export", "bibtex", *options)
        assert done.ok, done
        assert done.out == _cold(run, lab, tmp_path, "export", "bibtex", *options)
        return done.out

    first = exported()
    note = lab / "papers" / "blip-2.md"
    builds = _builds(monkeypatch)
    note.write_text(note.read_text("utf-8") + "\nmore of my notes\n", "utf-8")
    assert run("export", "bibtex").out == first and builds == []
    text = note.read_text("utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    note.write_text(text.replace(title, "title: 'Renamed by hand: BLIP-2'", 1), "utf-8")
    assert "title = {{Renamed} {by} {hand:} {BLIP-2}}" in exported()
    assert "clip" in exported("--status", "read") and "blip" not in exported("--status", "read")
    assert run("mark", "clip", "unread").ok
    assert run("export", "bibtex", "--status", "read").out == ""
    assert run("add", "paper", "llava").ok
    assert "llava" in exported()


def test_related_asked_again_builds_nothing_and_follows_a_link_written_since(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab related NOTE` keeps its answer by the files' stamps: asked again it builds no lab
    data, and a link written into the note since is in the answer, as a cold run has it."""
    run = Run(lab)
    assert run("new", "concept", "Fresh Idea", "-c", "training").ok
    assert run("new", "concept", "Quiet Topic", "-c", "fundamentals").ok
    fresh = "notes/training/fresh-idea.md"

    def related() -> list[dict[str, Any]]:
        done = run("related", fresh, "--json")
        assert done.ok, done
        assert done.out == _cold(run, lab, tmp_path, "related", fresh, "--json")
        return list(json.loads(done.out))

    assert "notes/fundamentals/quiet-topic.md" not in [r["path"] for r in related()]
    builds = _builds(monkeypatch)
    assert run("related", fresh).ok and builds == []
    note = lab / fresh
    note.write_text(note.read_text("utf-8") + "\nSee [quiet](../fundamentals/quiet-topic.md).\n")
    found = {r["path"]: r["reasons"] for r in related()}
    assert found["notes/fundamentals/quiet-topic.md"] == ["link"]


def test_a_comparison_made_again_builds_nothing_and_shows_a_facet_edited_by_hand(
    lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab compare` keeps what it reads of the lab's papers by what the index holds: a body
    edit builds nothing, a facet written in a note's frontmatter is the one compared, and a
    query finds the lab's paper by its title as a cold run does."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok

    def compared(*args: str) -> list[dict[str, Any]]:
        done = run("compare", "--json", *args)
        assert done.ok, done
        assert done.out == _cold(run, lab, tmp_path, "compare", "--json", *args)
        return list(json.loads(done.out))

    assert compared("blip-2")[0]["source"] == "lab"
    assert "blip-2" in [entry["key"] for entry in compared()]
    note = lab / "papers" / "blip-2.md"
    builds = _builds(monkeypatch)
    note.write_text(note.read_text("utf-8") + "\nmore of my notes\n", "utf-8")
    assert run("compare").ok and run("compare", "llava").ok and builds == []
    text = note.read_text("utf-8")
    connector = next(line for line in text.splitlines() if line.startswith("connector:"))
    note.write_text(text.replace(connector, "connector: linear projection", 1), "utf-8")
    (entry,) = compared("blip-2")
    assert entry["facets"]["connector"] == "linear projection"
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    note.write_text(note.read_text("utf-8").replace(title, "title: Zebra Bridges", 1), "utf-8")
    assert compared("zebra bridges")[0]["key"] == "blip-2"
    assert "blip-2" in [e["key"] for e in compared("--connector", "linear")]
    assert "blip-2" not in [e["key"] for e in compared("--connector", "q-former")]
    assert run("add", "paper", "flamingo").ok  # on the list: the catalog's facets, the lab's
    assert {e["key"]: e["source"] for e in compared()}["flamingo"] == "lab"


def test_init_run_again_builds_nothing_and_a_lost_readme_comes_back_filled_in(
    lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lab init .` in a lab makes only what is missing: with nothing missing it builds no
    lab data; a README deleted by mistake comes back with the lab's papers in its table."""
    run = Run(lab)
    assert run("new", "paper", "blip-2").ok
    files = {p: p.read_bytes() for p in lab.rglob("*") if p.is_file() and ".lab" not in p.parts}
    builds = _builds(monkeypatch)
    assert run("init", ".").ok and builds == []
    assert {p: p.read_bytes() for p in files} == files
    (lab / "papers" / "README.md").unlink()
    assert run("init", ".").ok
    assert "blip-2" in (lab / "papers" / "README.md").read_text("utf-8")


# --- a note's title --------------------------------------------------------------------------

_H1_PATTERN = re.compile(r"^# +(.+?)[ #]*$", re.M)  # what parse found the title with


@settings(max_examples=600)
@given(
    st.lists(
        st.sampled_from(["#", " ", "a", "\n", "\r", "\t", "# ", "\n# ", "##", "  "]), max_size=25
    ),
    st.integers(0, 30),
)
@example(["# ", "#" * 30, ")", "\n"], 20)
def test_a_notes_title_is_what_the_title_pattern_found(pieces: list[str], within: int) -> None:
    """The first `# Title` within the first characters, found without the pattern (which a
    run of "#" or spaces ended by another character made quadratic: 20,000 took 1.3 s)."""
    body = "".join(pieces)
    found = _H1_PATTERN.search(body, 0, within)
    assert parse.h1(body, within) == (found[1] if found else "")


def test_a_title_line_of_twenty_thousand_hashes_is_read_at_once() -> None:
    body = "# " + "#" * 19990 + ")\n\n## S\n\ntext\n"
    assert parse.h1(body) == "#" * 19990 + ")"
    assert parse.h1("# a" + " #" * 9995 + ")\n") == "a" + " #" * 9995 + ")"


# --- a note's related entries --------------------------------------------------------------


def _related(frontmatter: str) -> list[list[object]]:
    return parse.note_detail(f"---\ntitle: T\n{frontmatter}---\n# T\n", "notes/t/x.md")["related"]


def test_each_related_entry_is_found_on_its_own_line() -> None:
    """An entry on a line of its own is named there, quoted or not, even when an earlier entry
    holds it (`a.md` within `xa.md`); one written otherwise (a flow list) is searched for."""
    assert _related("related:\n- xa.md\n- a.md\n-   'q.md'\n- \"r s.md\"\n") == [
        ["xa.md", 4],
        ["a.md", 5],
        ["q.md", 6],
        ["r s.md", 7],
    ]
    assert _related("related: [a.md, b.md]\n") == [["a.md", 3], ["b.md", 3]]


def test_twenty_thousand_related_entries_are_each_found_once() -> None:
    """Each entry was searched for through every line before it: 20,000 took 5.8 s."""
    entries = [f"../training/n{i}.md" for i in range(20000)]
    found = _related("related:\n" + "".join(f"- {entry}\n" for entry in entries))
    assert found == [[entry, 4 + i] for i, entry in enumerate(entries)]


# --- what `lab check` parses of a note -------------------------------------------------------

_BODY_LINES = st.sampled_from(
    [
        "# Title",
        "## 核心思想",
        "### Deep ###",
        "##   spaced   ##",
        "  ## indented",
        "####### not a heading",
        "Setext",
        "===",
        "---",
        "```python",
        "```",
        "~~~",
        "    ## indented code",
        "<!-- a comment",
        "-->",
        "<!-- ## hidden --> text",
        "<details>",
        "</details>",
        "[a link](../papers/clip.md)",
        "[spaced](a b.md)",
        "[[Wiki Note]]",
        "[ref]: notes/x.md",
        "`[code](x.md)`",
        "$[math](y.md)$",
        "- [ ] an open question",
        "TODO: read the appendix",
        "| a | b |",
        "<!-- lab:begin papers -->",
        "<!-- lab:end papers -->",
        "<<<<<<< HEAD",
        "",
        "plain text",
    ]
)


@settings(max_examples=400)
@given(
    lines=st.lists(st.one_of(_BODY_LINES, st.text(max_size=12)), max_size=16),
    related=st.lists(st.sampled_from(["notes/a.md", "'notes/b c.md'", "x"]), max_size=3),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_what_check_parses_of_a_note_is_what_the_whole_detail_says(
    lines: list[str], related: list[str], newline: str
) -> None:
    """`lab check` parses a note for its headings, links, `related:` lines and damaged
    markers only (parse.check_detail): each is what note_detail gives for the same text, the
    headings without their fingerprints; or both refuse it. What `lab review` stores is the
    whole detail less its open questions."""
    listed = "".join(f"- {entry}\n" for entry in related)
    front = f"---\ntitle: T\nrelated:\n{listed}---\n" if related else "---\ntitle: T\n---\n"
    text = front + newline.join(lines) + newline
    try:
        whole = parse.note_detail(text, "notes/t/x.md")
    except BrokenNote as refused:
        with pytest.raises(BrokenNote) as again:
            parse.check_detail(text, "notes/t/x.md")
        assert (again.value.line, str(again.value)) == (refused.line, str(refused))
        return
    checked = parse.check_detail(text, "notes/t/x.md")
    reviewed = parse.note_detail(text, "notes/t/x.md", questions=False)  # what review stores
    assert reviewed == {key: value for key, value in whole.items() if key != "questions"}
    assert checked["headings"] == [heading[:3] for heading in whole["headings"]]
    assert {key: value for key, value in checked.items() if key != "headings"} == {
        key: whole[key] for key in ("damaged", "body_line", "links", "related", "unrendered")
    }
    event(f"headings: {min(len(checked['headings']), 3)}")
