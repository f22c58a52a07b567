"""A view made again from its last body (`lab mark`, `lab new paper` on a big lab) is byte for
byte the view made from scratch, whatever changed: statuses, topics, papers added or removed,
titles that look like the table's own headings or hold line breaks."""

from __future__ import annotations

import json
import marshal
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import Run, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllm_lab.core import views
from mllm_lab.core.compare import compare_region
from mllm_lab.core.facets import catalog_facets
from mllm_lab.core.labdata import Record
from mllm_lab.core.views import notes_index, papers_table, same_but_reading
from mllm_lab.kinds import CONCEPT, PAPER
from mllm_lab.models import CONNECTORS, Note, Paper, Status
from mllm_lab.ops import views as ops_views
from mllm_lab.ops.views import Pieces
from mllm_lab.scan import Files, _empty_index

TOPICS = ["foundation", "multimodal", "vla", "training", "not-a-topic", "other"]
TITLES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["### 多模态模型", "### Multimodal", "\n### x\n\n", "| a | b |", "x\r\n"]),
)


@st.composite
def papers(draw: st.DrawFn) -> list[Paper]:
    count = draw(st.integers(0, 25))
    made = []
    for n in range(count):
        made.append(
            Paper(
                key=f"p{n}",
                title=draw(TITLES),
                status=draw(st.sampled_from(list(Status))),
                year=draw(st.one_of(st.none(), st.integers(2017, 2026))),
                venue=draw(st.one_of(st.none(), st.sampled_from(["ICML 2023", "a|b"]))),
                topic=draw(st.sampled_from(TOPICS)),
                stage=draw(st.one_of(st.none(), st.integers(1, 5))),
                connector=draw(st.one_of(st.none(), st.sampled_from(CONNECTORS))),
                note=draw(st.one_of(st.none(), st.just(f"papers/p{n}.md"))),
            )
        )
    return made


@st.composite
def changed(draw: st.DrawFn, before: list[Paper]) -> list[Paper]:
    """`before` with a few papers changed (new objects); the others are the same objects."""
    after = list(before)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(
            st.sampled_from(["status", "topic", "add", "remove", "title", "copy", "line", "ended"])
        )
        if action == "add" or not after:
            after.append(
                Paper(
                    key=f"new{len(after)}", title=draw(TITLES), topic=draw(st.sampled_from(TOPICS))
                )
            )
            continue
        at = draw(st.integers(0, len(after) - 1))
        if action == "remove":
            del after[at]
        elif action == "status":
            after[at] = after[at]._replace(
                status=draw(st.sampled_from(list(Status))), started=date(2026, 1, 2)
            )
        elif action == "topic":
            after[at] = after[at]._replace(topic=draw(st.sampled_from(TOPICS)))
        elif action == "title":
            after[at] = after[at]._replace(title=draw(TITLES))
        elif action == "line":  # its status's line moved (an entry above it grew)
            after[at] = after[at]._replace(line=after[at].line + draw(st.integers(1, 5)))
        elif action == "ended":
            after[at] = after[at]._replace(finished=date(2026, 1, 3))
        else:  # an equal paper, another object
            after[at] = after[at]._replace()
    return after


@settings(max_examples=150, deadline=None)
@given(data=st.data(), before=papers(), lang=st.sampled_from(["zh", "en"]))
def test_the_table_made_from_its_last_body_is_the_table_made_from_scratch(
    data: st.DataObject, before: list[Paper], lang: str
) -> None:
    body = papers_table(before, lang)
    after = data.draw(changed(before))
    assert papers_table(after, lang, before=(before, body)) == papers_table(after, lang)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), before=papers())
def test_papers_the_same_but_for_their_reading_show_the_same_comparison(
    data: st.DataObject, before: list[Paper]
) -> None:
    after = data.draw(changed(before))
    if same_but_reading(before, after):
        made = [
            compare_region(p, catalog_facets(), "en", "papers/README.md") for p in (before, after)
        ]
        assert made[0] == made[1]


CATEGORIES = ["fundamentals", "training", "applications", "my-own", "### x"]


@st.composite
def notes(draw: st.DrawFn) -> list[Note]:
    made = []
    for n in range(draw(st.integers(0, 20))):
        category = draw(st.sampled_from(CATEGORIES))
        made.append(
            Note(
                path=f"notes/{category}/n{n}.md",
                kind=draw(st.sampled_from([CONCEPT, CONCEPT, PAPER])),
                title=draw(TITLES),
                category=category,
                summary=draw(st.sampled_from(["", "1. x", "### y", "a - b"])),
                created=draw(st.one_of(st.none(), st.just(date(2026, 1, n % 28 + 1)))),
            )
        )
    return made


@st.composite
def notes_changed(draw: st.DrawFn, before: list[Note]) -> list[Note]:
    after = list(before)
    for step in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["add", "remove", "category", "title", "copy"]))
        if action == "add" or not after:
            category = draw(st.sampled_from(CATEGORIES))
            after.append(
                Note(
                    path=f"notes/{category}/new{step}.md",
                    kind=CONCEPT,
                    title=draw(TITLES),
                    category=category,
                )
            )
            continue
        at = draw(st.integers(0, len(after) - 1))
        if action == "remove":
            del after[at]
        elif action == "category":
            after[at] = after[at]._replace(category=draw(st.sampled_from(CATEGORIES)))
        elif action == "title":
            after[at] = after[at]._replace(title=draw(TITLES))
        else:
            after[at] = after[at]._replace()
    return after


@settings(max_examples=150, deadline=None)
@given(data=st.data(), before=notes(), lang=st.sampled_from(["zh", "en"]))
def test_the_notes_index_made_from_its_last_body_is_the_one_made_from_scratch(
    data: st.DataObject, before: list[Note], lang: str
) -> None:
    """Categories before a changed one keep their numbers, those after it are numbered again."""
    body = notes_index(before, lang)
    after = data.draw(notes_changed(before))
    assert notes_index(after, lang, before=(before, body)) == notes_index(after, lang)


def test_only_where_a_paper_stands_in_its_reading_is_set_aside() -> None:
    paper = Paper(key="a", title="A", topic="multimodal", year=2023, note="papers/a.md")
    read_now = paper._replace(status=Status.READ, finished=date(2026, 1, 2), history=("x",), line=9)
    assert same_but_reading([paper], [read_now])
    for other in (
        paper._replace(year=2024),
        paper._replace(title="B"),
        paper._replace(connector="Q-Former"),
    ):
        assert not same_but_reading([paper], [other])
    assert not same_but_reading([paper], [paper, paper])


def test_a_stale_body_is_not_trusted_for_a_topic_whose_papers_changed() -> None:
    """Only the sections of topics whose papers are the same objects are taken over; a body
    laid out otherwise (a heading missing) gives its topics fresh sections."""
    before = [Paper(key="a", title="A", topic="training"), Paper(key="b", title="B", topic="vla")]
    after = [before[0]._replace(status=Status.READ), before[1]]
    body = papers_table(before, "en")
    assert papers_table(after, "en", before=(before, body)) == papers_table(after, "en")
    mangled = body.replace("### ", "#### ")
    assert papers_table(after, "en", before=(before, mangled)) == papers_table(after, "en")


def test_a_reading_list_read_again_renders_only_the_topic_of_the_paper_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After `lab mark` on a paper of the reading list every list paper is a new object and
    those below it have their status a few lines further down: only the marked paper's
    topic is rendered again, and the table is the one made from scratch."""
    from mllm_lab.core import views

    before = [
        Paper(key=f"p{n}", title=f"T{n}", topic=TOPICS[n % 3], line=4 * n + 2) for n in range(30)
    ]
    body = papers_table(before, "en")
    after = [paper._replace(line=paper.line + 4 * (n > 6)) for n, paper in enumerate(before)]
    after[6] = after[6]._replace(status=Status.READ, started=date(2026, 11, 27))
    rendered: list[str] = []
    real = views.paper_row
    monkeypatch.setattr(views, "paper_row", lambda p, r: rendered.append(p.topic) or real(p, r))
    made_again = papers_table(after, "en", before=(before, body))
    assert rendered == [TOPICS[0]] * 10
    assert made_again == papers_table(after, "en")


def test_writes_leave_the_views_as_a_full_regeneration_makes_them(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reused: list[str] = []
    for name in ("_sections", "_category_sections"):
        whole = getattr(views, name)
        monkeypatch.setattr(views, name, lambda *a, w=whole, n=name: reused.append(n) or w(*a))
    for key in ("blip-2", "llava", "flamingo"):
        assert in_lab("new", "paper", key).ok
    assert in_lab("add", "paper", "clip").ok
    for args in (
        ["mark", "llava", "read"],
        ["mark", "clip", "reading"],
        ["new", "concept", "Q-Former", "-c", "multimodal-arch"],
        ["new", "concept", "LoRA", "-c", "training"],
        ["new", "concept", "Attention", "-c", "fundamentals"],  # numbers after it move
        ["mark", "blip-2", "reading"],
        ["new", "paper", "A Paper Of My Own", "--new", "--topic", "vla"],
        ["mark", "llava", "unread"],
    ):
        assert in_lab(*args).ok, args
        views_now = [read(lab / p) for p in ("papers/README.md", "README.md", "notes/README.md")]
        (lab / ".lab/views.json").unlink()  # nothing is current: every view made from scratch
        assert in_lab("sync").ok
        assert [
            read(lab / p) for p in ("papers/README.md", "README.md", "notes/README.md")
        ] == views_now
    assert reused.count("_sections") >= 5 and reused.count("_category_sections") >= 2


def _records(count: int, stamp: int = 1) -> Files:
    return Files(
        {
            f"papers/p{n}.md": Record("paper", stamp + n, 100 + n, 1000 + n, [["T", n]], None, None)
            for n in range(count)
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 1500),
    changes=st.lists(
        st.tuples(st.sampled_from(["edit", "add", "drop", "break"]), st.integers(0, 10**6)),
        max_size=5,
    ),
)
def test_a_kinds_records_digest_from_kept_pieces_is_the_digest_made_afresh(
    count: int, changes: list[tuple[str, int]]
) -> None:
    """The digest of a kind's records, worked out from the pieces an earlier command noted,
    is the one worked out from nothing; only the pieces holding a changed file are digested."""
    files = _records(count)
    earlier = Pieces()
    view_digest = ops_views._kind_digest(files, "paper", earlier)
    assert view_digest == ops_views._kind_digest(files, "paper", Pieces())
    for action, n in changes:
        path = sorted(files)[n % len(files)] if files else "papers/x.md"
        if action == "edit" and path in files:
            files[path] = files[path]._replace(mtime_ns=files[path].mtime_ns + 7, digest=[["U", n]])
        elif action == "add":
            files[f"papers/new{n}.md"] = Record("paper", 5, 5, n, [["N", n]], None, None)
        elif action == "drop" and len(files) > 1:
            files.pop(path, None)
        elif action == "break" and path in files:  # same stamp, but what it keeps from before
            files[path] = files[path]._replace(error=[1, "x"], last_good=[["old", n]])
    kept = Pieces(known=dict(earlier.used))
    assert ops_views._kind_digest(files, "paper", kept) == ops_views._kind_digest(
        files, "paper", Pieces()
    )
    fresh = {key for key in kept.used if key not in earlier.used}
    assert len(fresh) <= 2 * len(changes) + 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=24,
)


@settings(max_examples=200, deadline=None)
@given(digest=_JSON, error=_JSON, last_good=_JSON)
def test_what_a_record_holds_is_the_same_bytes_however_it_was_made(
    digest: object, error: object, last_good: object
) -> None:
    """The views' records digests hash what each record holds, marshalled in version 2: one
    record gives the same bytes whether it was just parsed, read back from the journal's JSON
    or from the index's bytes (marshal's version 4), so a view found current by them is found
    so by any later command."""
    held = [digest, error, last_good]

    def bytes_of(record: Record) -> bytes:
        return Files({"notes/a.md": record}).held(["notes/a.md"])

    made = bytes_of(Record("concept", 1, 2, 3, *held))
    journaled = json.loads(json.dumps(held, ensure_ascii=False))
    assert bytes_of(Record("concept", 4, 5, 6, *journaled)) == made
    assert bytes_of(Record("concept", 1, 2, 3, *marshal.loads(marshal.dumps(held)))) == made


def test_the_views_records_digests_are_the_same_from_a_big_scan_the_index_and_memory(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold command whose scan is shared with a worker keeps the records packed and digests
    them from the index it has just written; a later command digests them from the index
    file, and one holding every record in memory from the records: all give what the
    command noted, so none of them makes a view again for nothing."""
    from mllm_lab import scan as scanning
    from mllm_lab.ops.workspace import Workspace

    assert in_lab("new", "paper", "blip-2").ok
    for number in range(12):
        assert in_lab("new", "concept", f"Note {number}", "-c", "training").ok
    monkeypatch.setattr(scanning, "PARALLEL_FROM", 1)
    monkeypatch.setattr(scanning, "WORKER_PIECE", 4)
    monkeypatch.setattr(scanning, "usable_cores", lambda: 2)
    shutil.rmtree(lab / ".lab")
    assert in_lab("mark", "blip-2", "read").ok
    noted = json.loads((lab / ".lab/views.json").read_text("utf-8"))["views"]
    for view in ops_views.VIEWS:  # made again from nothing, written or found so: not re-read
        marker = re.search(rf"<!-- lab:begin {view.region} sha=(\w+) ", read(lab / view.path))
        assert marker is not None and noted[view.region]["region"] == marker[1], view.region
    from_index = Workspace.open(str(lab))
    in_memory = Workspace.open(str(lab))
    in_memory.files().read_all()
    for view in ops_views.VIEWS:
        for ws in (from_index, in_memory):
            assert ops_views.records_of(ws, view, {}, Pieces()) == noted[view.region]["records"]
    index = lab / ".lab/index.bin"
    damaged = bytearray(index.read_bytes())
    damaged[-200] ^= 0xFF  # in the last record's bytes: their chunk fails its checksum
    index.write_bytes(bytes(damaged))
    for view in ops_views.VIEWS:  # the records whose bytes do not read are parsed again
        got = ops_views.records_of(Workspace.open(str(lab)), view, {}, Pieces())
        assert got == noted[view.region]["records"], view.region
    touched = sorted((lab / "notes" / "training").glob("*.md"))
    for note in touched:  # a checkout that writes the same bytes: new stamps, same records
        note.write_bytes(note.read_bytes())
    before = read(lab / "notes/README.md")
    found = in_lab("sync", "--check")
    assert found.ok, found.out
    assert read(lab / "notes/README.md") == before


def test_a_record_made_before_its_file_had_a_stamp_is_never_taken_from_the_pieces() -> None:
    files = _records(3, stamp=0)  # the first file's mtime is 0: its piece is not kept
    made = Pieces()
    ops_views._kind_digest(files, "paper", made)
    files["papers/p0.md"] = files["papers/p0.md"]._replace(digest=[["changed"]])
    assert ops_views._kind_digest(files, "paper", Pieces(made.used)) == ops_views._kind_digest(
        files, "paper", Pieces()
    )


def test_damaged_piece_digests_in_the_views_record_are_not_believed(in_lab: Run, lab: Path) -> None:
    """A hand-edited or damaged .lab/views.json: its pieces are skipped, never a crash."""
    assert in_lab("new", "paper", "blip-2").ok
    state_path = lab / ".lab/views.json"
    state = json.loads(state_path.read_text("utf-8"))
    assert state["pieces"]
    state["pieces"] = {key: "z" * 40 for key in state["pieces"]} | {"x": 7, "y": "ab"}
    state.pop("kinds")  # every kind's digest worked out again, from the pieces
    state_path.write_text(json.dumps(state), "utf-8")
    assert in_lab("mark", "blip-2", "read").ok
    marked = read(lab / "papers/README.md")
    state_path.unlink()
    assert in_lab("sync").ok
    assert read(lab / "papers/README.md") == marked


def test_a_view_a_write_left_alone_keeps_its_last_body_for_a_lost_pair_of_markers(
    in_lab: Run, lab: Path
) -> None:
    """`lab mark` does not read the notes index (it notes the region it found there last):
    the body kept for it is still there when a bad merge later deletes both of its markers
    and a note's title has changed meanwhile, so the index is taken back, not written twice."""
    assert in_lab("new", "paper", "blip-2").ok
    assert in_lab("new", "concept", "Q-Former", "-c", "multimodal-arch").ok
    assert in_lab("new", "concept", "LoRA", "-c", "training").ok
    for status in ("read", "reading", "unread"):
        assert in_lab("mark", "blip-2", status).ok
    state = json.loads((lab / ".lab/views.json").read_text("utf-8"))
    index = lab / "notes/README.md"
    region = state["views"]["notes-index"]["region"]
    assert region and f"sha={region}" in read(index)
    text = read(index)
    lines = [line for line in text.split("\n") if "<!-- lab:" not in line]
    index.write_text("\n".join(lines), "utf-8")  # both markers lost in a merge
    note = next((lab / "notes/training").glob("*.md"))
    note.write_text(read(note).replace("title: LoRA", "title: LoRA 低秩适配", 1), "utf-8")
    assert in_lab("sync").ok
    after = read(index)
    assert after.count("<!-- lab:begin notes-index") == 1
    assert after.count("[LoRA") == 1 and "[LoRA 低秩适配]" in after
    assert after.count("[Q-Former]") == 1


def test_the_stamps_read_in_one_pass_are_those_read_one_file_at_a_time(
    in_lab: Run, lab: Path
) -> None:
    """From the index, a broken note among them: the stamps and breaks the records digests
    go by, and each record read without being kept is the record kept."""
    from mllm_lab.lab import Lab
    from mllm_lab.ops.workspace import Workspace

    for key in ("blip-2", "llava", "clip"):
        assert in_lab("new", "paper", key).ok
    broken = lab / "papers/llava.md"
    broken.write_text(read(broken).replace("title:", "title: LLaVA: a: b\nx:", 1), "utf-8")
    assert in_lab("status").ok  # the index saved, the broken note's record in it
    files = Workspace(Lab.at(lab)).files()
    paths = sorted(files.by_kind()["paper"])
    assert files.stamps(paths) == [(*files.stamp(p)[1:], files.broken(p)) for p in paths]
    assert [files.broken(p) for p in paths] == [p == "papers/llava.md" for p in paths]
    peeked = [files.peek(p) for p in paths]
    assert peeked == [files[p] for p in paths] and files.stamps(paths)[0][0] > 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_briefs_taken_together_are_those_of_each_record(
    in_lab: Run, lab: Path, data: st.DataObject
) -> None:
    """`Files.briefs` takes the stored briefs at C speed and briefs the records read or made
    since one by one: any paths, in any order, with any of them read, edited or new, give
    the brief of each one's record, as labdata.brief makes it."""
    from mllm_lab.core.labdata import brief
    from mllm_lab.lab import Lab
    from mllm_lab.ops.workspace import Workspace

    if not (lab / "papers/llava.md").exists():
        for key in ("blip-2", "llava", "clip"):
            assert in_lab("new", "paper", key).ok
        assert in_lab("new", "concept", "Fresh Idea", "-c", "training").ok
        assert in_lab("status").ok  # the index saved
    files = Workspace(Lab.at(lab)).files()
    every = sorted(files)
    expected = {path: brief(files.peek(path)) for path in every}
    for path in data.draw(st.lists(st.sampled_from(every), unique=True), label="read"):
        assert files[path] is not None  # kept as a record from now on
    for path in data.draw(st.lists(st.sampled_from(every), unique=True), label="edited"):
        record = files[path]
        files[path] = record._replace(mtime_ns=record.mtime_ns + 1)  # a record made since
    asked = data.draw(st.lists(st.sampled_from(every)), label="asked")
    assert files.briefs(asked) == [expected[path] for path in asked]
    records = {path: files[path] for path in every}  # every one read: no index, or an empty one
    assert Files(records).briefs(asked) == [expected[path] for path in asked]
    assert Files(records, index=_empty_index()).briefs(asked) == [expected[p] for p in asked]


@pytest.mark.parametrize(
    "table", ["", "```\n{{ table }}\n```"], ids=["left-out", "in-a-code-block"]
)
def test_a_view_file_made_from_a_template_without_its_region_still_holds_the_view(
    in_lab: Run, lab: Path, table: str
) -> None:
    """The lab's own template of papers/README.md that leaves `{{ table }}` out, or puts it in
    a code block: the file made from it still holds the papers table (where a file's own would
    go once its markers are gone), and `lab sync --check` says current only then."""
    from mllm_lab.core import regions

    assert in_lab("new", "paper", "clip").ok
    template = lab / "templates/zh/lab/papers-README.md.j2"
    template.write_text(read(template).replace("{{ table }}", table), "utf-8")
    (lab / "papers/README.md").unlink()
    assert in_lab("sync").ok
    made = read(lab / "papers/README.md")
    region = regions.find_region(made, "papers", "papers/README.md")
    assert region is not None and "clip" in region.body
    assert made.startswith("# 论文阅读清单")  # the template's own text is all there
    found = in_lab("sync", "--check")
    assert found.ok, found.out
    assert in_lab("sync").ok and read(lab / "papers/README.md") == made
