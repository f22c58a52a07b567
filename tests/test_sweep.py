"""No traceback, ever: every command of the app, each of its values replaced in turn by an
adversarial one, must end with exit 0, 1 or 2 and, when it fails, one line on stderr saying
what was wrong. Commands and parameters are read off the Typer app itself, so a command added
later is swept too. Then the environment, the streams and the bytes of the arguments."""

from __future__ import annotations

import functools
import os
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from conftest import Run, lab_executable

from mllm_lab.cli.app import app

# Values that break naive code: empty, blank, control and bidi characters, lone surrogates,
# path tricks, YAML and Markdown syntax, huge, option-like, shell-like.
TEXT = [
    "",
    "  \t",
    "\x1b[31m",
    "\u202egnp.exe",
    "\ud800",
    "../../../etc/passwd",
    "/etc/passwd",
    "~/x",
    "a: b: [c] | #d",
    "[[x]] `y` <z> &amp;",
    "1e3",
    "x" * 3000,
    "-q",
    "🚀 注意力机制",
    "C:\\con\\nul",
]
NUMBERS = ["-1", "0", "7", "99999999999999999999999", "1e3", "abc", ""]
DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "2026-W53", "1899-12-31", "2026-13-01", "", "x"]
VALID = {
    ("init", "path"): "new-lab",
    ("init", "lang"): "en",
    ("mark", "key"): "clip",
    ("mark", "status"): "read",
    ("list", "what"): "papers",
    ("prompt", "kind"): "paper",
    ("prompt", "target"): "clip",
    ("paper", "title_or_key"): "clip",
    ("concept", "title"): "Cross-Attention",
    ("concept", "category"): "training",
    ("experiment", "title"): "toy",
}
DATE_PARAMS = {"on", "since", "week", "created"}


def commands() -> Iterator[tuple[list[str], list[object]]]:
    def walk(command: object, path: list[str]) -> Iterator[tuple[list[str], list[object]]]:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, [p for p in command.params if not getattr(p, "is_flag", False)]  # type: ignore[attr-defined]

    yield from walk(typer.main.get_command(app), [])


def argv(path: list[str], params: list[object], bad: str | None, value: str) -> list[str]:
    """The command with every required value valid, and `bad` set to `value`."""
    args = list(path)
    for param in params:
        name = param.name  # type: ignore[attr-defined]
        given = value if name == bad else VALID.get((path[-1], name))
        if given is None:
            continue
        if param.param_type_name == "argument":  # type: ignore[attr-defined]
            args.append(given)
        else:
            args += [param.opts[0], given]  # type: ignore[attr-defined]
    return args


def values_for(param: object) -> list[str]:
    name = param.name  # type: ignore[attr-defined]
    if name in DATE_PARAMS:
        return DATES
    if getattr(param.type, "name", "") in ("integer", "int"):  # type: ignore[attr-defined]
        return NUMBERS
    return TEXT


CASES = [
    (path, param.name, value)  # type: ignore[attr-defined]
    for path, params in commands()
    for param in params
    for value in values_for(param)
]


def assert_clean(result: object, args: list[str]) -> None:
    code, err, exception = result.code, result.err, result.exception  # type: ignore[attr-defined]
    assert code in (0, 1, 2), (args, code, err, exception)
    assert "Traceback" not in err and "internal error" not in err, (args, err)
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith(("error:", "Error:", "错误："))]
        assert len(errors) == 1, (args, err)


@pytest.mark.parametrize(("path", "name", "value"), CASES, ids=lambda x: repr(x)[:40])
def test_every_command_with_every_adversarial_value(
    sweep_lab: Path, path: list[str], name: str, value: str
) -> None:
    params = next(p for c, p in commands() if c == path)
    args = argv(path, params, name, value)
    assert_clean(Run(sweep_lab)(*args), args)


@pytest.fixture(scope="module")
def sweep_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One lab for the whole sweep: commands may change it; none may crash on it."""
    from typer.testing import CliRunner

    root = tmp_path_factory.mktemp("sweep") / "lab"
    os.environ["LAB_TODAY"] = "2026-11-25"
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    return root


# --- the environment, the streams, the argument bytes --------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LAB_TODAY", "tomorrow"),
        ("LAB_TODAY", "9999-12-31"),
        ("LAB_ROOT", "/nonexistent/lab"),
        ("LAB_ROOT", "\x1b]0;x\x07"),
        ("LAB_LOCK_TIMEOUT", "abc"),
        ("LAB_LOCK_TIMEOUT", "-5"),
        ("LAB_LOCK_TIMEOUT", "nan"),
        ("NO_COLOR", ""),
        ("COLUMNS", "-3"),
        ("TERM", "dumb"),
    ],
)
def test_hostile_environment_is_one_line(lab: Path, variable: str, value: str) -> None:
    for args in (
        ["status"],
        ["mark", "clip", "read"],
        ["new", "concept", "X", "-c", "training", "--force"],
    ):
        result = subprocess.run(
            [lab_executable(), *args],
            cwd=lab,
            capture_output=True,
            text=True,
            env={**os.environ, variable: value},
            timeout=60,
        )
        assert result.returncode in (0, 1, 2), (variable, value, args, result.stderr)
        assert "Traceback" not in result.stderr
        if result.returncode:
            assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_undecodable_arguments_ascii_streams_and_a_closed_stdout(lab: Path) -> None:
    run = lambda args, **kw: subprocess.run(  # noqa: E731
        [os.fsencode(lab_executable()), *args], cwd=lab, capture_output=True, timeout=60, **kw
    )
    bad = run([b"new", b"paper", b"\xff\xfe title"])
    assert bad.returncode == 2 and b"(\\xff\\xfe title)" in bad.stderr.replace(
        "（".encode(), b"("
    ).replace("）".encode(), b")")
    assert len(bad.stderr.splitlines()) == 1
    ascii_env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    shown = run([b"status"], env=ascii_env)
    assert shown.returncode == 0 and b"\\u9636\\u6bb5" in shown.stdout  # 阶段, escaped not crashed
    closed = subprocess.run(
        [lab_executable(), "mark", "clip", "read"],
        cwd=lab,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        close_fds=True,
        pass_fds=(),
    )
    assert closed.returncode == 0
    shell = subprocess.run(
        f"{lab_executable()} list papers >&- 2>/dev/null; echo $?",
        shell=True,
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.stdout.strip() in ("0", "1")
    piped = subprocess.run(
        f"{lab_executable()} list papers | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in piped.stderr


def test_hostile_lab_toml_is_one_line(lab: Path) -> None:
    for text in (
        b"lab = 5\n",
        b"[lab]\nlang = 'fr'\n",
        b"[lab]\nname = '\xff'\n",
        b"[lab\n",
        b"[lab]\nname = 3\n",
        b"\x00\x01",
    ):
        (lab / "lab.toml").write_bytes(text)
        result = subprocess.run(
            [lab_executable(), "status"], cwd=lab, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, (text, result.stderr)
        assert result.stderr.startswith(("error: ", "错误：")) and "lab.toml" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_note_whose_file_name_is_not_utf8_is_checked_not_crashed(lab: Path) -> None:
    """A note copied in under a Latin-1 file name: `lab check` ended in an internal error
    (exit 70) while storing its detail. Its detail is now made again each time instead."""
    note = lab / "notes" / "training" / "contrastive.md"
    made = subprocess.run(
        [lab_executable(), "new", "concept", "Contrastive", "-c", "training"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    bad = os.fsencode(note.parent) + b"/bad\xffname.md"
    with open(bad, "wb") as copy:
        copy.write(note.read_bytes() + b"\n[a lost link](nowhere.md)\n")
    for _ in range(2):  # cold, then with what the first run stored
        checked = subprocess.run(
            [lab_executable(), "check"], cwd=lab, capture_output=True, text=True, timeout=60
        )
        assert checked.returncode == 1, checked.stderr
        assert "Traceback" not in checked.stderr and "内部错误" not in checked.stderr
        assert "nowhere.md" in checked.stdout + checked.stderr


def test_a_paper_note_whose_file_name_is_not_utf8_breaks_no_command(lab: Path) -> None:
    """A paper note copied in under a Latin-1 file name with no `key:` (its key is then its
    file name): every command ended in an internal error writing the keys completion reads,
    and `lab export anki` another storing the card's source. The note is named as a problem,
    its key is not offered to completion, and its card's source shows U+FFFD for the byte."""
    run = functools.partial(subprocess.run, cwd=lab, capture_output=True, text=True, timeout=60)
    assert run([lab_executable(), "new", "paper", "clip"]).returncode == 0
    text = (lab / "papers" / "clip.md").read_text("utf-8")
    unkeyed = "".join(line for line in text.splitlines(True) if not line.startswith("key:"))
    with open(os.fsencode(lab / "papers") + b"/caf\xe9.md", "wb") as copy:
        copy.write((unkeyed + "\nQ: What does CLIP align?\nA: Images and texts.\n").encode())
    status = run([lab_executable(), "status"])
    assert status.returncode == 0, status.stderr
    keys = (lab / ".lab" / "keys.tsv").read_bytes().decode("utf-8")  # strict: all UTF-8
    assert keys.startswith("clip\t") and "\ncaf" not in keys
    checked = run([lab_executable(), "check"])
    assert checked.returncode == 1
    refused = [line for line in checked.stdout.splitlines() if "文件名不是 UTF-8" in line]
    assert refused and refused[0].startswith("papers/caf\\udce9.md:1: ")
    completed = run(
        [lab_executable()],
        env={**os.environ, "_LAB_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "lab mark c"},
    )
    assert completed.returncode == 0 and "clip" in completed.stdout
    exported = run([lab_executable(), "export", "anki", str(lab / "cards.apkg")])
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(lab / "cards.apkg") as package:
        package.extract("collection.anki2", lab)
    with sqlite3.connect(lab / "collection.anki2") as collection:
        fields = [row[0] for row in collection.execute("SELECT flds FROM notes")]
    assert any("papers/caf\ufffd.md:" in field for field in fields), fields


def test_notes_whose_file_names_are_not_utf8_leave_every_view_utf8(lab: Path) -> None:
    """A paper note and a concept note copied in under Latin-1 file names, with no key or
    title (each is then taken from the file name): the views showed those names as they were
    escaped in memory and wrote bytes that are not UTF-8, after which every command refused
    papers/README.md. A view shows U+FFFD for such a byte; its links keep the byte (%E9)."""
    run = functools.partial(subprocess.run, cwd=lab, capture_output=True, text=True, timeout=60)
    assert run([lab_executable(), "new", "paper", "clip"]).returncode == 0
    assert (
        run([lab_executable(), "new", "concept", "Contrastive", "-c", "training"]).returncode == 0
    )
    paper = (lab / "papers" / "clip.md").read_text("utf-8")
    concept = (lab / "notes" / "training" / "contrastive.md").read_text("utf-8")
    unkeyed = "".join(line for line in paper.splitlines(True) if not line.startswith("key:"))
    untitled = "".join(
        line for line in concept.splitlines(True) if not line.startswith(("title:", "# "))
    )
    with open(os.fsencode(lab / "papers") + b"/caf\xe9.md", "wb") as copy:
        copy.write(unkeyed.encode())
    with open(os.fsencode(lab / "notes" / "training") + b"/na\xefve.md", "wb") as copy:
        copy.write(untitled.encode())
    for command in (["sync"], ["mark", "clip", "read"], ["weekly"], ["status"], ["check"]):
        done = run([lab_executable(), *command])
        assert done.returncode in (0, 1) and "Traceback" not in done.stderr, (command, done)
        assert "UTF-8 文本" not in done.stdout + done.stderr, (command, done)
    for path in lab.rglob("*.md"):
        if b"\xe9" not in os.fsencode(path) and b"\xef" not in os.fsencode(path):
            path.read_bytes().decode("utf-8")  # strict: every file lab wrote is UTF-8
    notes_index = (lab / "notes" / "README.md").read_text("utf-8")
    assert "na\ufffdve" in notes_index and "na%EFve.md" in notes_index
