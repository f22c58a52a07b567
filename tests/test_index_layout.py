"""The index's layout (.lab/index.bin, layout 3): stamps as three lists, records read only
when asked for and checked a chunk at a time. A damaged chunk costs only its own records
(parsed again); a file replaced since the stamps were read gives no record at all."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import Run
from hypothesis import given, settings
from hypothesis import strategies as st

from mllm_lab import scan as scanning
from mllm_lab.lab import Lab


def _records_file(tmp_path: Path, data: bytes, prefix: bytes = b"head\n") -> scanning._Records:
    where = tmp_path / "records.bin"
    where.write_bytes(prefix + data)
    st_ = os.stat(where)
    sums = scanning._chunk_sums(data)
    identity = (st_.st_ino, st_.st_size, st_.st_mtime_ns)
    return scanning._Records(where, identity, len(prefix), len(data), sums)


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(min_size=0, max_size=300),
    asks=st.lists(st.tuples(st.integers(-5, 320), st.integers(-5, 80)), max_size=12),
    damaged=st.one_of(st.none(), st.integers(0, 299)),
)
def test_a_record_is_its_bytes_or_none_when_out_of_bounds_or_in_a_damaged_chunk(
    tmp_path_factory: pytest.TempPathFactory,
    data: bytes,
    asks: list[tuple[int, int]],
    damaged: int | None,
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scanning, "CHUNK", 16)
        _check_records(tmp_path_factory, data, asks, damaged)


def _check_records(
    tmp_path_factory: pytest.TempPathFactory,
    data: bytes,
    asks: list[tuple[int, int]],
    damaged: int | None,
) -> None:
    tmp_path = tmp_path_factory.mktemp("records")
    records = _records_file(tmp_path, data)
    bad_chunk = None
    if damaged is not None and damaged < len(data):  # one byte changed after the sums
        where = tmp_path / "records.bin"
        raw = bytearray(where.read_bytes())
        raw[5 + damaged] ^= 0xFF
        stamp = os.stat(where)
        where.write_bytes(bytes(raw))
        os.utime(where, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the same identity
        bad_chunk = damaged // 16
    aligned = [(at, 16) for at in range(0, len(data), 16)]  # every chunk whole, besides
    across = [(at, 20) for at in range(8, len(data), 16)]  # and every boundary crossed
    # a chunk at a time, then all of them in one read, then read again once let go
    for way in ("chunks", "all", "released"):
        if way == "all":
            records.load_all()
            assert (records.whole is not None) == (bad_chunk is None and len(data) > 0)
        if way == "released":
            records.release()
            assert records.whole is None
        for at, length in [*asks, *aligned, *across]:
            got = records.get(at, length)
            inside = at >= 0 and length > 0 and at + length <= len(data)
            touches_bad = bad_chunk is not None and at // 16 <= bad_chunk <= (at + length - 1) // 16
            if not inside or touches_bad:
                assert got is None, (at, length)
            else:
                assert bytes(got or b"") == data[at : at + length], (at, length)


def test_a_records_file_replaced_since_the_stamps_were_read_gives_no_record(
    tmp_path: Path,
) -> None:
    """Even by a copy of itself: its records are read only from the file the stamps were."""
    records = _records_file(tmp_path, b"0123456789" * 10)
    replaced = tmp_path / "new.bin"
    shutil.copy2(tmp_path / "records.bin", replaced)
    os.replace(replaced, tmp_path / "records.bin")  # another inode, the same bytes
    assert records.get(0, 10) is None
    records.load_all()
    assert records.get(50, 5) is None


def test_records_let_go_are_read_again_only_from_the_file_they_came_from(
    tmp_path: Path,
) -> None:
    """After `release` (the lab's data is built), a record asked for is read again: from the
    same file it is the same bytes, from a file replaced since it is none."""
    records = _records_file(tmp_path, b"0123456789" * 10)
    assert bytes(records.get(10, 10) or b"") == b"0123456789"
    records.release()
    assert bytes(records.get(10, 10) or b"") == b"0123456789"
    records.release()
    shutil.copy2(tmp_path / "records.bin", tmp_path / "new.bin")
    os.replace(tmp_path / "new.bin", tmp_path / "records.bin")
    assert records.get(10, 10) is None


def _index_cold(lab: Path, tmp_path: Path) -> dict[str, list[object]]:
    """Every file's record as a scan without any index gives it."""
    copy = tmp_path / "cold"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lab, copy, symlinks=True, ignore=shutil.ignore_patterns(".lab"))
    files = scanning.scan(Lab.at(copy), use_index=False).files
    return {path: list(record)[4:] for path, record in files.items()}


def test_a_damaged_chunk_of_records_costs_only_its_own_files(
    in_lab: Run, lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of 64 bytes: a byte changed in one chunk (checksums of the others hold) has the
    files whose records lie in it parsed again, and no other; every record is as a cold scan
    gives it."""
    monkeypatch.setattr(scanning, "CHUNK", 64)
    for name in ("blip-2", "clip", "vit", "llava"):
        assert in_lab("new", "paper", name).ok
    shutil.rmtree(lab / ".lab")
    assert in_lab("status").ok  # a cold run writes the whole index
    where = lab / ".lab" / scanning.INDEX_NAME
    head, _, body = where.read_bytes().partition(b"\n")
    header = json.loads(head)
    assert header["layout"] == scanning.INDEX_LAYOUT and len(header["records"]) > 3
    raw = bytearray(body)
    raw[header["stamps"] + 64 + 10] ^= 0xFF  # in the second chunk
    where.write_bytes(head + b"\n" + bytes(raw))
    index = scanning._load_index(Lab.at(lab))
    in_chunk = {
        path
        for path, place in index.position.items()
        if (lambda at, n: at // 64 <= 1 <= (at + n - 1) // 64)(
            index.numbers[scanning._NUMBERS * place + 3],
            index.numbers[scanning._NUMBERS * place + 4],
        )
    }
    assert in_chunk and len(in_chunk) < len(index.position)
    parsed: list[str] = []
    real = scanning.parse_file

    def counted(root: object, relative: str, kind: str) -> object:
        parsed.append(relative)
        return real(root, relative, kind)  # type: ignore[arg-type]

    monkeypatch.setattr(scanning, "parse_file", counted)
    files = scanning.scan(Lab.at(lab)).files
    files.read_all()
    assert sorted(parsed) == sorted(in_chunk)
    monkeypatch.setattr(scanning, "parse_file", real)
    assert {path: list(record)[4:] for path, record in files.items()} == _index_cold(lab, tmp_path)


def test_a_body_edit_reads_the_stamps_and_one_chunk_of_records(
    in_lab: Run, lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a body edit the scan reads the stamps and the chunk holding the edited note's old
    record (to compare with its new one), not the rest; the content stamp holds."""
    monkeypatch.setattr(scanning, "CHUNK", 64)
    for name in ("blip-2", "clip", "vit"):
        assert in_lab("new", "paper", name).ok
    shutil.rmtree(lab / ".lab")
    assert in_lab("status").ok
    index = scanning._load_index(Lab.at(lab))
    before, place = index.content, index.position["papers/clip.md"]
    at, length = index.numbers[scanning._NUMBERS * place + 3 : scanning._NUMBERS * place + 5]
    assert len(index.records.sums) > 8
    with (lab / "papers" / "clip.md").open("a", encoding="utf-8") as note:
        note.write("\nmore words\n")
    reads: list[tuple[int, int]] = []
    real = scanning._Records._read

    def counted(self: scanning._Records, first: int, last: int) -> object:
        reads.append((first, last))
        return real(self, first, last)

    monkeypatch.setattr(scanning._Records, "_read", counted)
    snapshot = scanning.scan(Lab.at(lab))
    assert snapshot.content == before
    assert reads == [(at // 64, (at + length - 1) // 64)]


def test_a_damaged_journal_line_makes_the_stamps_after_it_unknown(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A record line of the journal damaged after a content line was written with it: that
    content stamp no longer says what the index holds, so the results kept under it are not
    used (a paper's title edited, the edit's record damaged, the note put back: the list
    shows the title the note has); the next scan folds the journal into the index."""
    assert in_lab("new", "paper", "clip").ok
    assert in_lab("list", "papers", "--json").ok  # the index saved, the journal empty
    note = lab / "papers" / "clip.md"
    original = note.read_bytes()
    _prefix_title(note, "EDITED")
    assert "EDITED" in in_lab("list", "papers", "--json").out  # a record line, a content line
    journal = lab / ".lab" / scanning.JOURNAL_NAME
    raw = bytearray(journal.read_bytes())
    raw[raw.index(b"EDITED")] = ord("e")
    journal.write_bytes(bytes(raw))
    note.write_bytes(original)
    warm = in_lab("list", "papers", "--json")
    assert "EDITED" not in warm.out and warm.out == _cold_out(
        lab, tmp_path, "list", "papers", "--json"
    )
    assert journal.read_bytes() == b""  # folded into the index


def _cold_out(lab: Path, tmp_path: Path, *args: str) -> str:
    copy = tmp_path / "cold-out"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(lab, copy, symlinks=True, ignore=shutil.ignore_patterns(".lab"))
    return Run(copy)(*args).out


def test_an_older_index_put_back_under_a_newer_journal_is_not_believed(
    in_lab: Run, lab: Path, tmp_path: Path
) -> None:
    """A copy of an older .lab/index.bin put back (a backup, a sync tool) under the journal
    of a newer one: the journal's content stamp was written for the newer index, so results
    kept under it are not used: every title is the note's own."""
    assert in_lab("new", "paper", "clip").ok and in_lab("new", "paper", "vit").ok
    shutil.rmtree(lab / ".lab")
    assert in_lab("list", "papers", "--json").ok
    older = (lab / ".lab" / scanning.INDEX_NAME).read_bytes()
    clip, vit = lab / "papers" / "clip.md", lab / "papers" / "vit.md"
    original = clip.read_bytes()
    _prefix_title(clip, "EDITED")
    (lab / ".lab" / scanning.INDEX_NAME).unlink()
    (lab / ".lab" / scanning.JOURNAL_NAME).unlink(missing_ok=True)
    assert in_lab("list", "papers", "--json").ok  # a newer index, with clip's edit
    _prefix_title(vit, "ALSO")
    assert in_lab("list", "papers", "--json").ok  # its journal: vit's record, a content line
    (lab / ".lab" / scanning.INDEX_NAME).write_bytes(older)
    clip.write_bytes(original)
    warm = in_lab("list", "papers", "--json")
    assert "EDITED" not in warm.out and "ALSO" in warm.out
    assert warm.out == _cold_out(lab, tmp_path, "list", "papers", "--json")


def test_a_content_line_written_for_another_index_is_not_believed(in_lab: Run, lab: Path) -> None:
    """Two read-only commands at once: one read the index, the other rewrote it meanwhile;
    the first one's content line, written for the index it read, lands in the new index's
    journal. It is not believed, and the next scan folds the journal in."""
    assert in_lab("new", "paper", "clip").ok
    shutil.rmtree(lab / ".lab")
    assert in_lab("status").ok
    the_lab = Lab.at(lab)
    read_first = scanning._load_index(the_lab)
    assert read_first.generation and read_first.content
    files = {path: list(read_first.record(path) or []) for path in read_first.held()}
    scanning._save_index(the_lab, files, read_first.content)  # the other command's rewrite
    rewritten = scanning._load_index(the_lab)
    assert rewritten.generation != read_first.generation and rewritten.content
    scanning.journal(the_lab, {}, "stamp-of-the-first", generation=read_first.generation)
    after = scanning._load_index(the_lab)
    assert after.content is None and after.bloated
    scanning.journal(the_lab, {}, "stamp-of-this-one", generation=rewritten.generation)
    assert scanning._load_index(the_lab).content is None  # the damage stays until folded
    (lab / "papers" / "clip.md").touch()  # the walk changes: the next command reads the index
    assert in_lab("status").ok
    assert scanning._load_index(the_lab).lines <= 1  # folded: the journal is empty


def _prefix_title(note: Path, word: str) -> None:
    """`word` put before the note's title, inside its quotes if it has them."""
    text = note.read_text("utf-8")
    for start in ("title: '", 'title: "', "title: "):
        if start in text:
            note.write_text(text.replace(start, f"{start}{word} ", 1), "utf-8")
            return
    raise AssertionError(note)
