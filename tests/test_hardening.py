"""Nothing is lost or half-written whatever happens while `lab` runs: kills mid-write, broken
notes, a damaged index, links that lead out of the lab, arbitrary Unicode."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, lab_executable, read, tree
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab.core.markdown import split_row, unescape_cell
from mllm_lab.core.views import papers_table
from mllm_lab.models import Paper, Status
from mllm_lab.scan import INDEX_NAME


def lab(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [lab_executable(), *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


BROKEN = {
    "papers/empty.md": (b"", "papers/empty.md:1: no frontmatter"),
    "papers/binary.md": (
        b"---\ntitle: x\n---\n\x00\x01\x02",
        "papers/binary.md:4: binary file (NUL bytes)",
    ),
    "papers/latin1.md": (
        "---\ntitle: café\n---\n".encode("latin-1"),
        "papers/latin1.md:2: not UTF-8 text",
    ),
    "papers/list.md": (b"---\n- a\n- b\n---\n", "papers/list.md:2: frontmatter must be a mapping"),
    "papers/date.md": (
        b"---\nkey: d\ntitle: D\nstatus: read\nstarted: last week\n---\n",
        "papers/date.md:5: `started` is not a date",
    ),
    "papers/status.md": (
        b"---\nkey: s\ntitle: S\nstatus: skimmed\n---\n",
        "papers/status.md:4: unknown status 'skimmed'",
    ),
    "papers/badyaml.md": (
        b"---\ntitle: a: b: c\n---\n",
        "papers/badyaml.md:2: frontmatter is not valid YAML",
    ),
    "papers/unclosed.md": (
        b"---\ntitle: x\n",
        "papers/unclosed.md:1: frontmatter opens with --- but has no closing",
    ),
}


def test_broken_inputs_never_crash_and_are_reported_once(lab_dir: Path) -> None:
    for relative, (data, _message) in BROKEN.items():
        (lab_dir / relative).write_bytes(data)
    (lab_dir / "papers/bom.md").write_bytes(
        "\ufeff---\r\nkey: bom\r\ntitle: BOM and CRLF\r\nstatus: reading\r\n---\r\n# B\r\n".encode()
    )
    big = (
        "---\nkey: big\ntitle: Big\nstatus: unread\n---\n# Big\n\n" + ("word " * 200 + "\n") * 5000
    )
    (lab_dir / "papers/big.md").write_text(big, "utf-8")
    assert (lab_dir / "papers/big.md").stat().st_size > 5_000_000
    for args in (
        ["status"],
        ["status", "--json"],
        ["list", "papers"],
        ["list", "notes"],
        ["sync"],
        ["weekly"],
        ["mark", "bom", "read"],
        ["next"],
        ["prompt", "review"],
        ["review"],
    ):
        result = lab(lab_dir, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    status = lab(lab_dir, "status")
    # each broken paper note keeps a row (marked ⚠️): none is skipped
    assert "⚠ 8 problems found reading the lab (see lab check)" in status.stdout
    warned = lab(lab_dir, "list", "papers").stderr.splitlines()
    assert len(warned) == 1  # many problems: one line, `lab check` lists them
    assert warned[0].startswith(
        "warning: 8 problems found reading the lab (1 paper note without frontmatter), first"
        " papers/badyaml.md:"
    )
    assert "first papers/badyaml.md:" in warned[0] and "`lab check` lists them all" in warned[0]
    report = json.loads(lab(lab_dir, "status", "--json").stdout)
    assert {p.split(":")[0] for p in report["problems"]} == set(BROKEN)
    checked = lab(lab_dir, "check")
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    for relative, (_data, message) in BROKEN.items():
        mine = [line for line in lines if line.startswith(relative + ":")]
        assert len(mine) == 1, (relative, mine)
        assert mine[0].startswith(message), (mine[0], message)
    # BOM, CRLF and a 5 MB note parse fine: only their (truly) missing sections are reported
    odd = [line for line in lines if line.startswith(("papers/bom.md", "papers/big.md"))]
    assert odd and all("missing section" in line for line in odd)
    listed = lab(lab_dir, "list", "papers", "--json")
    items = {p["key"]: p for p in json.loads(listed.stdout)}
    assert {"bom", "big"} <= items.keys()
    # a field that does not read (no earlier good reading to show): the fields that do, marked
    assert items["d"]["problem"].startswith("papers/date.md:5: `started` is not a date")
    assert items["s"]["problem"].startswith("papers/status.md:4: unknown status 'skimmed'")
    assert (items["d"]["title"], items["d"]["status"], items["s"]["title"]) == ("D", "read", "S")
    assert items["bom"]["problem"] is None
    marked = (lab_dir / "papers/bom.md").read_bytes()
    assert (
        marked.startswith("\ufeff---\r\n".encode())
        and b"status: read\r\n" in marked
        and b"\n" not in marked.replace(b"\r\n", b"")
    )


@pytest.mark.parametrize(
    "damage",
    [
        b"not json at all {",
        b'{"version": 7, "root": "/elsewhere", "files": {}}',
        b'{"version": 7, "files": []}',
        b"[1, 2, 3]",
        b"",
    ],
)
def test_a_corrupt_or_foreign_index_is_rebuilt(lab_dir: Path, damage: bytes) -> None:
    assert lab(lab_dir, "new", "paper", "blip-2").returncode == 0
    (lab_dir / ".lab" / INDEX_NAME).write_bytes(damage)
    (lab_dir / ".lab/index.log").write_bytes(b'["papers/blip-2.md", [1, 2]\n{garbage\n')
    result = lab(lab_dir, "list", "papers", "--status", "reading", "--json")
    assert result.returncode == 0, result.stderr
    assert [p["key"] for p in json.loads(result.stdout)] == ["blip-2"]
    header = json.loads((lab_dir / ".lab" / INDEX_NAME).read_bytes().split(b"\n")[0])
    assert header["root"] == str(lab_dir.resolve())


def test_an_index_record_with_the_right_stamp_but_bad_contents_is_not_trusted(
    lab_dir: Path,
) -> None:
    assert lab(lab_dir, "new", "paper", "blip-2").returncode == 0
    import shutil

    from mllm_lab.lab import Lab
    from mllm_lab.scan import _load_index, _save_index

    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").returncode == 0  # a cold run writes the whole index
    the_lab = Lab.find(str(lab_dir))
    index = _load_index(the_lab)
    files = {path: list(index.record(path) or []) for path in index.held()}
    files["papers/blip-2.md"][4] = ["not", "a", "digest"]
    _save_index(the_lab, files, index.content)  # its checksums hold
    result = lab(lab_dir, "list", "papers", "--status", "reading", "--json")
    assert result.returncode == 0, result.stderr
    assert [p["key"] for p in json.loads(result.stdout)] == ["blip-2"]


def _index_parts(lab_dir: Path) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """The index's header (with the digests of its runs of stamps as "runs"), stamps (path ->
    [kind, mtime, size, inode, offset, length]) and records, as `lab` wrote them."""
    head, body = (lab_dir / ".lab" / INDEX_NAME).read_bytes().split(b"\n", 1)
    header = json.loads(head)
    paths, kinds, numbers, runs = marshal.loads(body[: header["stamps"]])
    header["runs"] = runs
    values = memoryview(numbers).cast("Q").tolist()
    stamps = {
        path: [kind, *values[5 * place : 5 * place + 5]]
        for place, (path, kind) in enumerate(zip(paths, kinds, strict=True))
    }
    return header, stamps, body[header["stamps"] :]


def _write_index(lab_dir: Path, header: dict[str, Any], stamps: Any, records: bytes) -> None:
    """An index of these stamps and records whose checksums hold (a hand-made damage)."""
    from array import array

    from mllm_lab.scan import CHUNK

    numbers = array("Q", [n for entry in stamps.values() for n in entry[1:]])
    runs = header.pop("runs", [])  # those lab wrote: they cover the stamps, not the offsets
    kinds = [entry[0] for entry in stamps.values()]
    made = marshal.dumps((list(stamps), kinds, numbers.tobytes(), runs))
    sums = [
        hashlib.sha1(records[at : at + CHUNK]).hexdigest() for at in range(0, len(records), CHUNK)
    ]
    header = header | {
        "stamps": len(made),
        "sum": hashlib.sha1(made).hexdigest(),
        "records": sums,
        "size": len(made) + len(records),
    }
    (lab_dir / ".lab" / INDEX_NAME).write_bytes(
        json.dumps(header).encode() + b"\n" + made + records
    )


@pytest.mark.parametrize(
    "where",
    [(10**9, 10), (0, 10**9), (2**64 - 1, 3), (0, 0), (1, 2**64 - 1), "end"],
)
def test_an_index_entry_whose_bytes_do_not_read_is_parsed_again(
    lab_dir: Path, where: tuple[object, object] | str
) -> None:
    """The stamps are read first and each record only when asked for: a stored entry that
    points at bytes that do not read, or past the records (checksums that hold all the
    same), is parsed again; and the index rewritten by a later scan holds no such entry."""
    assert lab(lab_dir, "new", "paper", "blip-2").returncode == 0
    assert lab(lab_dir, "new", "paper", "clip").returncode == 0
    assert lab(lab_dir, "mark", "clip", "unread").returncode == 0
    import shutil

    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").returncode == 0
    header, stamps, records = _index_parts(lab_dir)
    if where == "end":  # across the end of the records
        where = (len(records) - 3, 10)
    stamps["papers/blip-2.md"][4:6] = list(where)
    _write_index(lab_dir, header, stamps, records)
    (lab_dir / "notes" / "README.md").touch()  # the walk changes: the index is read
    result = lab(lab_dir, "list", "papers", "--status", "reading", "--json")
    assert result.returncode == 0, result.stderr
    assert [p["key"] for p in json.loads(result.stdout)] == ["blip-2"]
    for number in range(120):  # more than 100 changes: the scan rewrites the index
        (lab_dir / "notes" / "fundamentals" / f"n{number}.md").write_text(
            f"---\ntitle: N{number}\n---\n", "utf-8"
        )
    warm = [lab(lab_dir, "status"), lab(lab_dir, "mark", "clip", "read"), lab(lab_dir, "status")]
    assert [r.returncode for r in warm] == [0, 0, 0], [r.stderr for r in warm]
    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").stdout == warm[2].stdout


@pytest.mark.parametrize("killed_at", ["truncate_state", "write_state"])
def test_a_kill_while_the_index_is_rewritten_leaves_no_stale_result(
    lab_dir: Path, killed_at: str
) -> None:
    """The index is rewritten (the journal emptied, the new index written): a kill between
    the two must not leave results kept under a stamp that no longer holds."""
    import shutil

    assert lab(lab_dir, "new", "paper", "blip-2").returncode == 0
    assert lab(lab_dir, "new", "paper", "clip").returncode == 0
    notes = lab_dir / "notes" / "fundamentals"
    for number in range(110):
        (notes / f"n{number}.md").write_text(f"---\ntitle: N{number}\n---\n", "utf-8")
    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").returncode == 0
    assert lab(lab_dir, "mark", "blip-2", "read").returncode == 0  # journals a content line
    assert lab(lab_dir, "status").returncode == 0
    for number in range(110):
        with (notes / f"n{number}.md").open("a", encoding="utf-8") as note:
            note.write("more\n")
    clip = lab_dir / "papers" / "clip.md"
    clip.write_text(read(clip).replace("status: reading", "status: read"), "utf-8")
    kill = (
        "import os, signal, sys\nimport mllm_lab.scan as scan\n"
        f"real = scan.{killed_at}\n"
        "def killed(state, name, *rest):\n"
        "    if name in (scan.INDEX_NAME, scan.JOURNAL_NAME):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return real(state, name, *rest)\n"
        f"scan.{killed_at} = killed\n"
        "sys.argv = ['lab', 'catalog']\nfrom mllm_lab.cli import main\nmain()\n"
    )
    done = subprocess.run([sys.executable, "-c", kill], cwd=lab_dir, capture_output=True)
    assert done.returncode == -9, done.stderr
    warm = lab(lab_dir, "status")
    assert warm.returncode == 0, warm.stderr
    shutil.rmtree(lab_dir / ".lab")
    assert warm.stdout == lab(lab_dir, "status").stdout


def test_a_record_of_bytes_in_a_damaged_index_is_parsed_again(lab_dir: Path) -> None:
    import shutil

    assert lab(lab_dir, "new", "paper", "blip-2").returncode == 0
    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").returncode == 0
    header, stamps, records = _index_parts(lab_dir)
    damaged = marshal.dumps([b"abc", None, None])
    stamps["papers/blip-2.md"][4:6] = [len(records), len(damaged)]
    _write_index(lab_dir, header, stamps, records + damaged)
    paper = lab_dir / "papers" / "blip-2.md"
    paper.write_text(read(paper) + "\nmore words\n", "utf-8")  # re-read: compared with it
    result = lab(lab_dir, "status")
    assert result.returncode == 0, result.stderr
    shutil.rmtree(lab_dir / ".lab")
    assert lab(lab_dir, "status").stdout == result.stdout


def test_state_folder_linked_outside_the_lab_is_refused(lab_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    import shutil

    shutil.rmtree(lab_dir / ".lab", ignore_errors=True)
    (lab_dir / ".lab").symlink_to(outside)
    result = lab(lab_dir, "mark", "vit", "read")
    assert result.returncode == 1 and ".lab: refused, this path leaves the lab" in result.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("link", [".lab", "loop"])
def test_state_folder_linked_round_in_a_loop_is_refused(lab_dir: Path, link: str) -> None:
    """`ln -s .lab .lab`, or two links to each other: one line naming .lab, not an internal
    error, and the files as they were."""
    import shutil

    shutil.rmtree(lab_dir / ".lab", ignore_errors=True)
    (lab_dir / ".lab").symlink_to(".lab" if link == ".lab" else "loop")
    if link == "loop":
        (lab_dir / "loop").symlink_to(".lab")
    before = tree(lab_dir)
    result = lab(lab_dir, "mark", "vit", "read")
    assert result.returncode == 1, result.stderr
    assert ".lab: refused, this path leaves the lab" in result.stderr
    assert "internal" not in result.stderr.lower() and tree(lab_dir) == before


def test_view_linked_outside_the_lab_is_never_written_through(
    lab_dir: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("not yours\n", "utf-8")
    (lab_dir / "papers/README.md").unlink()
    (lab_dir / "papers/README.md").symlink_to(victim)
    result = lab(lab_dir, "mark", "vit", "read")
    assert result.returncode == 1 and "leaves the lab" in result.stderr
    assert read(victim) == "not yours\n"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=1), st.sampled_from(list(Status))), min_size=1, max_size=8)
)
def test_any_unicode_title_comes_back_out_of_the_table(entries: list[tuple[str, Status]]) -> None:
    papers = [
        Paper(f"k{n}", title, status, topic="training", stage=4)
        for n, (title, status) in enumerate(entries)
    ]
    table = papers_table(papers, "zh")
    rows = [line for line in table.split("\n") if re.match(r"^\| \S+ \| k\d+ \|", line)]
    assert len(rows) == len(papers)
    for line, paper in zip(rows, papers, strict=True):
        cells = split_row(line)
        assert len(cells) == 7
        assert cells[0] == paper.status.emoji and cells[1] == paper.key
        text = re.sub(r"\\([\[\]])", r"\1", cells[2])
        shown = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "\ufffd", paper.title)
        assert unescape_cell(text) == shown.strip(" \t")


@pytest.fixture
def lab_dir(en_lab: Path) -> Path:
    return en_lab


def test_a_terminal_escape_in_a_hand_edited_title_is_never_printed_raw(
    in_lab: Run, lab: Path
) -> None:
    assert in_lab("add", "paper", "Plain title", "--new").ok
    listed = lab / "papers/reading-list.yaml"
    text = listed.read_text("utf-8")
    listed.write_text(text.replace("Plain title", '"\\e[31mRED\\e]0;pwned\\a"'), "utf-8")
    for args in (("list", "papers"), ("status",), ("next",)):
        result = in_lab(*args)
        assert result.ok, result
        assert "\x1b" not in result.out + result.err and "\x07" not in result.out
    assert "\ufffd[31mRED" in in_lab("list", "papers").out


@pytest.mark.parametrize("shape", ["fifo", "folder"])
def test_a_review_log_that_is_not_a_file_is_refused_not_waited_on(
    lab: Path, sh: Any, shape: str
) -> None:
    """A pipe named like the review log used to hang `lab status` and `lab quiz` (reading it
    waits for a writer): now it is refused with its path, like a folder."""
    log = lab / "reviews" / "quiz-log.jsonl"
    log.parent.mkdir(exist_ok=True)
    if shape == "fifo":
        os.mkfifo(log)
    else:
        log.mkdir()
    for command in (("status",), ("quiz", "--stats")):
        done = sh(*command, cwd=lab, timeout=20)
        assert done.returncode == 1, done
        assert done.stderr.startswith("错误：reviews/quiz-log.jsonl:1: "), done.stderr
        assert "Traceback" not in done.stderr
