"""storage.py, pinned where mutation testing found it loose (issue 9): what `read_text` says
about a file it cannot read (and on which line), which file a failed commit names and that it
changed nothing, a race on a new file, a crash at every write point of a commit followed by
`recover` (the lab all old or all new, a file edited since the crash kept and lab's version set
aside), the fallbacks for file systems without hard links or renames across devices, and where
backups go. The crash is simulated in-process, so this runs in a fraction of a second."""

from __future__ import annotations

import errno
import json
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from mllm_lab import storage
from mllm_lab.errors import BrokenNote, NoteExists, WriteFailed
from mllm_lab.storage import Change, commit, read_text, recover


def files(root: Path) -> dict[str, bytes]:
    """Every file under root but lab's own state and backups."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] not in (".lab", ".lab-trash")
    }


def trash(root: Path) -> dict[str, bytes]:
    folder = root / ".lab-trash"
    return {
        "/".join(p.relative_to(folder).parts[1:]): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".gitignore"
    }


def clean(root: Path) -> bool:
    """No journal and no temp file left."""
    tmp = root / ".lab/tmp"
    return not (root / ".lab/commit.json").exists() and (not tmp.exists() or not any(tmp.iterdir()))


def broken(path: Path, **kwargs: object) -> tuple[int, str]:
    with pytest.raises(BrokenNote) as caught:
        read_text(path, **kwargs)  # type: ignore[arg-type]
    return caught.value.line, str(caught.value)


# --- read_text -------------------------------------------------------------------------------


def test_read_text_keeps_crlf_and_a_bom(tmp_path: Path) -> None:
    (tmp_path / "n.md").write_bytes(b"\xef\xbb\xbfa\r\nb\r\n")
    assert read_text(tmp_path / "n.md") == "\ufeffa\r\nb\r\n"


def test_a_file_lab_cannot_read_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_bytes(b"one\ntwo\nthr\xffee\n")
    assert broken(path, shown="papers/n.md") == (3, "papers/n.md:3: not UTF-8 text (binary file?)")
    path.write_bytes(b"one\n\ntwo\x00\n")
    assert broken(path, shown="n.md") == (3, "n.md:3: binary file (NUL bytes)")
    path.write_bytes(b"\x00")
    assert broken(path)[0] == 1
    path.write_bytes(b"x" * (2 * 2**20 + 1))
    assert broken(path, shown="n.md", limit=2 * 2**20) == (
        1,
        "n.md:1: file is larger than 2 MB",
    )
    path.write_bytes(b"x" * (2 * 2**20))
    assert len(read_text(path, limit=2 * 2**20)) == 2 * 2**20
    assert broken(tmp_path, shown="d") == (1, "d:1: is a folder, not a file")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    assert broken(tmp_path / "loop", shown="loop") == (1, "loop:1: symlink loop")
    os.mkfifo(tmp_path / "pipe.md")
    assert broken(tmp_path / "pipe.md")[1] == (
        f"{tmp_path / 'pipe.md'}:1: not a regular file (a pipe or device?)"
    )
    with pytest.raises(FileNotFoundError):
        read_text(tmp_path / "missing.md")


def test_read_text_reads_to_the_end_whatever_the_stat_said(tmp_path: Path) -> None:
    """One read when the file is the size its stat gave; a file that grew, shrank or comes in
    parts is read to its end, never cut at the size the stat gave, and never past the limit."""
    data = bytes(range(256)) * 40  # 10,240 bytes
    for told in (0, 1, 100, len(data) - 1, len(data), len(data) + 1, 10 * len(data)):
        read, write = os.pipe()  # a pipe gives the bytes in the parts they were written in
        try:
            for start in range(0, len(data), 3000):
                os.write(write, data[start : start + 3000])
            os.close(write)
            assert storage._read_fd(read, told, 1 << 20) == data, told
        finally:
            os.close(read)
    read, write = os.pipe()
    try:
        os.write(write, data)
        os.close(write)
        assert storage._read_fd(read, 0, 5001) == data[:5001]  # the limit, and one byte more
    finally:
        os.close(read)
    path = tmp_path / "n.md"
    for size in (0, 1, 4095, 4096):
        path.write_bytes(b"a" * size)
        assert read_text(path, limit=4096) == "a" * size
    path.write_bytes(b"a" * 4097)
    assert broken(path, shown="n.md", limit=4096)[1] == "n.md:1: file is larger than 0 MB"


def test_read_text_never_takes_a_short_read_of_the_old_size_for_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that answers in parts (FUSE, NFS) and a stat that is out of date: the
    first part, exactly the size the stat gave, is not the end of the file (hostile pass)."""
    path = tmp_path / "n.md"
    path.write_bytes(b"x" * 10_000)
    real = os.read
    monkeypatch.setattr(storage.os, "read", lambda fd, n: real(fd, min(n, 4096)))
    fd = os.open(path, os.O_RDONLY)
    try:
        assert storage._read_fd(fd, 4096, 1 << 20) == b"x" * 10_000
    finally:
        os.close(fd)
    assert read_text(path) == "x" * 10_000


# --- reasons and single files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OSError(errno.ENOSPC, "No space"), "no_space"),
        (OSError(errno.EACCES, "Denied"), "permission"),
        (OSError(errno.EPERM, "Not permitted"), "permission"),
        (OSError(errno.EROFS, "Read-only"), "permission"),
        (OSError(errno.EIO, "Input/output error"), "Input/output error"),
        (OSError(), "OSError"),
        (FileNotFoundError(), "FileNotFoundError"),
    ],
)
def test_reason_of(error: OSError, reason: str) -> None:
    assert storage.reason_of(error) == reason


def test_a_new_file_gets_the_umask_s_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        storage.write_atomic(tmp_path / "a.md", "a")
        commit(tmp_path, [Change("b.md", "b"), Change("c/c.md", "c", exclusive=True)])
    finally:
        os.umask(old)
    for name in ("a.md", "b.md", "c/c.md"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640, name
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith("lab-tmp")] == []


def test_write_atomic_failing_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "cfg.toml"
    target.write_text("old")

    def no_rename(src: object, dst: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(WriteFailed) as caught:
        storage.write_atomic(target, "new", shown="lab.toml")
    assert (
        str(caught.value) == "lab.toml: could not write (Input/output error); nothing was changed"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.toml"]
    assert target.read_text() == "old"


# --- commit ----------------------------------------------------------------------------------


def test_a_failed_commit_names_the_file_it_could_not_write_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_text("old a")
    real_write = os.write
    calls = []

    def fail_second(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", fail_second)
    with pytest.raises(WriteFailed) as caught:
        # the new file is written first, whatever the order given
        commit(tmp_path, [Change("a.md", "new a"), Change("new.md", "n", exclusive=True)])
    assert (
        str(caught.value)
        == "a.md: could not write (no space left on the disk); nothing was changed"
    )
    assert files(tmp_path) == {"a.md": b"old a"}
    assert clean(tmp_path)


def test_a_journal_that_cannot_be_written_names_the_last_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_journal(path: Path, text: str, *, shown: str | None = None) -> None:
        raise WriteFailed(".lab/commit.json", "permission")

    monkeypatch.setattr(storage, "write_atomic", no_journal)
    with pytest.raises(WriteFailed) as caught:
        commit(tmp_path, [Change("x.md", "x"), Change("y.md", "y")])
    assert str(caught.value) == "y.md: could not write (permission denied); nothing was changed"
    assert files(tmp_path) == {} and clean(tmp_path)


def test_a_new_file_that_appears_during_the_commit_undoes_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "old.md").write_text("old")
    (tmp_path / "b.md").write_text("someone else's")
    real = os.path.lexists
    monkeypatch.setattr(os.path, "lexists", lambda p: False if str(p).endswith("b.md") else real(p))
    with pytest.raises(NoteExists) as caught:
        commit(
            tmp_path,
            [
                Change("old.md", "new"),
                Change("a.md", "a", exclusive=True),
                Change("b.md", "b", exclusive=True),
            ],
        )
    assert caught.value.path == "b.md"
    assert files(tmp_path) == {"b.md": b"someone else's", "old.md": b"old"}
    assert clean(tmp_path)


def test_a_new_file_that_cannot_be_linked_undoes_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.link

    def link(src: str, dst: str) -> None:
        if str(dst).endswith("b.md"):
            raise OSError(errno.EACCES, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(WriteFailed) as caught:
        commit(tmp_path, [Change("a.md", "a", exclusive=True), Change("b.md", "b", exclusive=True)])
    assert str(caught.value) == "b.md: could not write (permission denied); nothing was changed"
    assert files(tmp_path) == {} and clean(tmp_path)


@pytest.mark.parametrize("code", [errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK])
def test_without_hard_links_a_new_file_is_claimed_then_filled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def no_link(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "link", no_link)
    commit(tmp_path, [Change("n/new.md", "全部\r\n"), Change("o.md", "o")])
    commit(tmp_path, [Change("n/two.md", "two", exclusive=True)])
    assert files(tmp_path) == {
        "n/new.md": "全部\r\n".encode(),
        "n/two.md": b"two",
        "o.md": b"o",
    }
    with pytest.raises(NoteExists):
        commit(tmp_path, [Change("n/two.md", "again", exclusive=True)])
    assert clean(tmp_path)


def test_a_rename_across_devices_is_a_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.md").write_text("old")

    real = os.replace

    def cross(src: str, dst: str) -> None:
        if not str(dst).endswith("a.md"):
            return real(src, dst)
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", cross)
    commit(tmp_path, [Change("a.md", "new")])
    assert files(tmp_path) == {"a.md": b"new"} and clean(tmp_path)


def test_another_rename_error_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_text("old")

    real = os.replace

    def broken_disk(src: str, dst: str) -> None:
        if not str(dst).endswith("a.md"):
            return real(src, dst)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_disk)
    with pytest.raises(OSError, match="Input/output"):
        commit(tmp_path, [Change("a.md", "new")])
    assert storage.pending_commit(tmp_path)  # the next command finishes it
    monkeypatch.undo()
    assert recover(tmp_path) == []
    assert files(tmp_path) == {"a.md": b"new"} and clean(tmp_path)


# --- a crash at every write point, then recover -----------------------------------------------


class Crash(BaseException):
    pass


def crash_at(monkeypatch: pytest.MonkeyPatch, wanted: int) -> list[str]:
    seen: list[str] = []

    def point(name: str) -> None:
        seen.append(name)
        if len(seen) == wanted:
            raise Crash(name)

    monkeypatch.setattr(storage, "write_point", point)
    return seen


OLD = {"a.md": b"old a", "sub/b.md": b"old b\r\n"}
CHANGES = [
    Change("a.md", "new a"),
    Change("sub/b.md", "new b\r\n"),
    Change("sub/c.md", "new c", exclusive=True),
    Change("d.md", "new d", exclusive=True),
]
NEW = {"a.md": b"new a", "d.md": b"new d", "sub/b.md": b"new b\r\n", "sub/c.md": b"new c"}


def lab(tmp_path: Path, n: int) -> Path:
    root = tmp_path / f"lab{n}"
    for name, data in OLD.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_a_crash_at_any_write_point_leaves_all_old_or_all_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = crash_at(monkeypatch, 0)
    commit(lab(tmp_path, 0), CHANGES)
    assert names == [
        "temp file for sub/c.md",
        "temp file for d.md",
        "temp file for a.md",
        "temp file for sub/b.md",
        "journal written",
        "created sub/c.md",
        "created d.md",
        "replaced sub/c.md",
        "replaced d.md",
        "replaced a.md",
        "replaced sub/b.md",
        "journal removed",
    ]
    for n in range(1, len(names) + 1):
        root = lab(tmp_path, n)
        crash_at(monkeypatch, n)
        with pytest.raises(Crash):
            commit(root, CHANGES)
        journaled = storage.pending_commit(root)
        assert journaled == (names.index("journal written") < n <= names.index("journal removed"))
        monkeypatch.setattr(storage, "write_point", lambda name: None)
        assert recover(root) == []
        assert files(root) == (NEW if journaled or n == len(names) else OLD), names[n - 1]
        assert clean(root)
        assert recover(root) == [] and files(root) == (NEW if journaled or n == len(names) else OLD)


def test_recover_keeps_a_file_edited_since_the_crash_and_sets_lab_s_version_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = lab(tmp_path, 0)
    crash_at(monkeypatch, 6)  # after "created sub/c.md": nothing replaced yet
    with pytest.raises(Crash):
        commit(root, CHANGES)
    monkeypatch.setattr(storage, "write_point", lambda name: None)
    (root / "a.md").write_text("my edit after the crash")  # changed since
    (root / "d.md").write_text("my own d")  # appeared since
    set_aside = recover(root)
    assert files(root) == {
        "a.md": b"my edit after the crash",
        "d.md": b"my own d",
        "sub/b.md": b"new b\r\n",
        "sub/c.md": b"new c",
    }
    stamp = datetime.now().strftime("%Y-%m-%dT%H-%M")
    assert sorted(set_aside) == sorted(
        [where for where in set_aside if where.startswith(f".lab-trash/{stamp}")]
    )
    assert sorted(where.split("/", 2)[2] for where in set_aside) == [
        "a.md.unapplied",
        "d.md.unapplied",
    ]
    assert trash(root) == {"a.md.unapplied": b"new a", "d.md.unapplied": b"new d"}
    assert clean(root)


def test_recover_finishes_a_commit_whose_file_was_already_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = lab(tmp_path, 0)
    crash_at(monkeypatch, 6)
    with pytest.raises(Crash):
        commit(root, CHANGES)
    monkeypatch.setattr(storage, "write_point", lambda name: None)
    (root / "a.md").write_text("new a")  # the same text lab was writing: not an edit
    assert recover(root) == []
    assert files(root) == NEW and clean(root)


@pytest.mark.parametrize(
    "journal", ["", "not json", "[]", '{"ops": 3}', '{"other": []}', '{"ops": []}', "null"]
)
def test_a_foreign_journal_is_dropped_with_the_temp_files(tmp_path: Path, journal: str) -> None:
    (tmp_path / ".lab/tmp").mkdir(parents=True)
    (tmp_path / ".lab/tmp/1-0.tmp").write_text("left by a crash")
    (tmp_path / ".lab/commit.json").write_text(journal)
    (tmp_path / "a.md").write_text("mine")
    assert recover(tmp_path) == []
    assert files(tmp_path) == {"a.md": b"mine"} and clean(tmp_path)


def test_recover_with_nothing_to_do_and_strays(tmp_path: Path) -> None:
    assert recover(tmp_path) == [] and not storage.pending_commit(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/.x.md.abcdefgh.tmp").write_text("stray")
    (tmp_path / "notes/x.md").write_text("x")
    storage.remove_strays(tmp_path, ["notes/.x.md.abcdefgh.tmp", "notes/gone.tmp"])
    assert files(tmp_path) == {"notes/x.md": b"x"}


# --- backups ---------------------------------------------------------------------------------


def test_backups_are_numbered_and_never_overwrite(tmp_path: Path) -> None:
    when = datetime(2026, 11, 25, 9, 5, 7)
    first = storage.backup_path(tmp_path, "papers/README.md", when, set())
    assert first == ".lab-trash/2026-11-25T09-05-07/papers/README.md"
    storage.backup(tmp_path, first, "one\r\n\udcff")
    second = storage.backup_path(tmp_path, "papers/README.md", when, set())
    assert second == first + ".2"
    third = storage.backup_path(tmp_path, "papers/README.md", when, {second})
    assert third == first + ".3"
    assert (tmp_path / first).read_bytes() == "one\r\n\udcff".encode("utf-8", "surrogatepass")
    ignore = (tmp_path / ".lab-trash/.gitignore").read_text()
    assert ignore.splitlines()[-1] == "*"
    (tmp_path / ".lab-trash/.gitignore").write_text("mine\n")
    storage.backup(tmp_path, second, "two")
    assert (tmp_path / ".lab-trash/.gitignore").read_text() == "mine\n"


def test_a_backup_that_cannot_be_written_stops_the_write(tmp_path: Path) -> None:
    (tmp_path / ".lab-trash").write_text("a file where the folder should be")
    with pytest.raises(WriteFailed) as caught:
        storage.backup(tmp_path, ".lab-trash/t/x.md", "x")
    assert str(caught.value).startswith(".lab-trash: could not write (")


# --- write points ----------------------------------------------------------------------------


def test_write_points_are_listed_on_stderr_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(storage, "_points", 0)
    monkeypatch.setenv("LAB_WRITE_POINTS", "1")
    monkeypatch.setenv("LAB_CRASH_AT", "not a number")
    commit(tmp_path, [Change("a.md", "a")])
    assert capfd.readouterr().err.splitlines() == [
        "write point 1: temp file for a.md",
        "write point 2: journal written",
        "write point 3: replaced a.md",
        "write point 4: journal removed",
    ]
    monkeypatch.delenv("LAB_WRITE_POINTS")
    commit(tmp_path, [Change("a.md", "b")])
    assert capfd.readouterr().err == ""


def test_the_journal_names_each_temp_file_and_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.md").write_text("old")
    crash_at(monkeypatch, 3)  # the journal is written, nothing renamed
    with pytest.raises(Crash):
        commit(tmp_path, [Change("a.md", "new"), Change("b.md", "b", exclusive=True)])
    ops = json.loads((tmp_path / ".lab/commit.json").read_text())["ops"]
    assert [(op["path"], op["exclusive"]) for op in ops] == [("b.md", True), ("a.md", False)]
    assert ops[0]["before"] is None and len(ops[1]["before"]) == 64
    for op in ops:
        assert (tmp_path / ".lab/tmp" / op["tmp"]).exists()
