"""Completion of values through a real bash, `lab alias`, and the fast path that answers a Tab
press without importing Typer (cli/complete.py), held to what Typer itself would answer."""

from __future__ import annotations

import os
import pty
import select
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TODAY, Run, lab_executable

from mllm_lab.catalog import catalog
from mllm_lab.cli import complete, specgen
from mllm_lab.cli.complete import ALIASES, DIRS, catalog_keys
from mllm_lab.lab import Lab
from mllm_lab.models import Paper
from mllm_lab.ops import workspace
from mllm_lab.ops.workspace import KeyLines, remember_keys
from mllm_lab.state import KEYS_FILE

BIN = str(Path(lab_executable()).parent)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAB_ROOT", "_LAB"))}
    env.update(PATH=f"{BIN}:{env.get('PATH', '')}", LAB_TODAY=TODAY, **extra)
    return env


def bash_complete(line: str, cwd: Path, shell_setup: str = "") -> list[str]:
    """COMPREPLY after Tab at the end of `line`, from the function `lab alias bash` defines,
    run by a real bash."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    script = (
        f'eval "$(lab alias bash)"\n{shell_setup}\n'
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={shlex.quote(line)}\n"
        f'_lab_complete\nprintf "%s\\n" "${{COMPREPLY[@]}}"\n'
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [line for line in done.stdout.splitlines() if line]


@pytest.fixture
def keyed_lab(en_lab: Path) -> Path:
    """An English lab with two papers of its own, and a file that must never be offered."""
    run = Run(en_lab)
    assert run("add", "paper", "NeoVLM: Sparse Visual Tokens").ok
    assert run("new", "paper", "blip-2").ok
    (en_lab / "zz-a-file.txt").write_text("not a value", "utf-8")
    return en_lab


def test_paper_keys_complete_from_the_index_and_never_files(keyed_lab: Path) -> None:
    everything = bash_complete("lab mark ", keyed_lab)
    assert "blip-2" in everything and "neovlm" in everything and "transformer" in everything
    assert not any("zz-a-file" in value for value in everything)
    assert bash_complete("lab mark neo", keyed_lab) == ["neovlm"]
    assert bash_complete("lab mark blip-2 ", keyed_lab) == ["unread", "reading", "read"]
    assert bash_complete("lab mark blip-2 read ", keyed_lab) == []  # not files either
    assert (keyed_lab / ".lab" / KEYS_FILE).is_file()


def test_the_keys_file_after_each_write_is_the_one_a_cold_run_writes(en_lab: Path) -> None:
    """A write makes the lines of the papers it changed and keeps the others' (the same paper
    objects): the file must still be exactly what every paper's line makes."""
    run = Run(en_lab)
    keys = en_lab / ".lab" / KEYS_FILE
    for args in (
        ["add", "paper", "NeoVLM:  Sparse\tVisual Tokens"],
        ["new", "paper", "neovlm"],  # the entry becomes a note: its line moves
        ["mark", "blip-2", "read"],
        ["weekly"],  # changes no paper: its lines are not made again
        ["new", "paper", "A Paper Of My Own", "--key", "mine"],
    ):
        assert run(*args).ok, args
        warm = keys.read_text("utf-8")
        shutil.rmtree(en_lab / ".lab")
        assert run("sync").ok
        assert keys.read_text("utf-8") == warm, args
    assert "neovlm\tNeoVLM: Sparse Visual Tokens\n" in warm and "mine\tA Paper Of My Own\n" in warm


def test_the_keys_file_is_made_again_only_when_a_paper_changed(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = Lab.find(str(en_lab))
    papers = [Paper("a", "A"), Paper("b", "B")]
    known = KeyLines()
    remember_keys(lab, papers, known)
    assert (lab.state / KEYS_FILE).read_text("utf-8") == "a\tA\nb\tB\n"
    monkeypatch.setattr(workspace, "read_state", lambda *a: pytest.fail("read again"))
    remember_keys(lab, list(papers), known)  # the very same papers: nothing is made or read
    monkeypatch.undo()
    remember_keys(lab, [papers[0], Paper("b", "B two")], known)
    assert (lab.state / KEYS_FILE).read_text("utf-8") == "a\tA\nb\tB two\n"


def test_the_keys_file_is_not_made_again_from_the_content_it_was_made_from(
    en_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """.lab/keys.json notes the index content the file was made from: another command that
    builds the lab from the same content makes no line, and after a write only the changed
    papers' lines are made; a file changed since (by hand, by another command) is made again."""
    lab = Lab.find(str(en_lab))
    keys = lab.state / KEYS_FILE
    papers = [Paper("a", "A"), Paper("b", "B")]
    remember_keys(lab, papers, KeyLines(), content="c1")
    assert keys.read_text("utf-8") == "a\tA\nb\tB\n"

    def no_line(paper: Paper) -> str:
        raise AssertionError(f"a line made for {paper.key}")

    with monkeypatch.context() as patched:  # a later command, from the same content
        patched.setattr(workspace, "_key_line", no_line)
        known = KeyLines()
        remember_keys(lab, [Paper("a", "A"), Paper("b", "B")], known, content="c1")
    assert known.current
    # its write renamed paper b: the file is made again, and noted with the new content
    remember_keys(lab, [known.papers[0], Paper("b", "B two")], known, content="c2")
    assert keys.read_text("utf-8") == "a\tA\nb\tB two\n"
    with monkeypatch.context() as patched:
        patched.setattr(workspace, "_key_line", no_line)
        remember_keys(lab, [Paper("a", "A"), Paper("b", "B two")], KeyLines(), content="c2")

    keys.write_text("a\tA\n", "utf-8")  # cut by hand: not the file that was noted
    remember_keys(lab, [Paper("a", "A"), Paper("b", "B two")], KeyLines(), content="c2")
    assert keys.read_text("utf-8") == "a\tA\nb\tB two\n"

    monkeypatch.setattr(workspace.results, "code_stamp", lambda: "another lab")
    keys.write_bytes(b"")  # lab's code changed: the note no longer holds
    remember_keys(lab, [Paper("a", "A"), Paper("b", "B two")], KeyLines(), content="c2")
    assert keys.read_text("utf-8") == "a\tA\nb\tB two\n"


def test_a_keys_file_replaced_by_another_command_is_not_noted_as_this_ones(
    en_lab: Path,
) -> None:
    """A command that found the file current must not pair its new content with a file
    another command wrote meanwhile (that one's papers): the next command makes it again."""
    lab = Lab.find(str(en_lab))
    keys = lab.state / KEYS_FILE
    remember_keys(lab, [Paper("a", "A")], KeyLines(), content="c1")
    known = KeyLines()
    remember_keys(lab, [Paper("a", "A")], known, content="c1")
    assert known.current
    keys.unlink()
    keys.write_text("stale\tOlder papers\n", "utf-8")  # another command's, meanwhile
    remember_keys(lab, [*known.papers], known, content="c2")
    remember_keys(lab, [Paper("a", "A")], KeyLines(), content="c2")
    assert keys.read_text("utf-8") == "a\tA\n"


def test_keys_follow_hand_edits_and_writes_end_to_end(keyed_lab: Path) -> None:
    """Through the real commands: a title edited by hand, a paper added, one marked; each time
    the file is what a lab without its state writes."""
    run = Run(keyed_lab)
    keys = keyed_lab / ".lab" / KEYS_FILE
    assert run("status").ok
    note = keyed_lab / "papers" / "blip-2.md"
    text = note.read_text("utf-8")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    note.write_text(text.replace(title, "title: 'BLIP-2, edited by hand'", 1), "utf-8")
    for args in (["mark", "blip-2", "reading"], ["add", "paper", "Later Paper"], ["status"]):
        assert run(*args).ok, args
        warm = keys.read_text("utf-8")
        assert "blip-2\tBLIP-2, edited by hand\n" in warm
        cold = keyed_lab.parent / "cold-copy"
        shutil.rmtree(cold, ignore_errors=True)
        shutil.copytree(keyed_lab, cold, ignore=shutil.ignore_patterns(".lab"))
        assert Run(cold)("sync").ok
        assert (cold / ".lab" / KEYS_FILE).read_text("utf-8") == warm, args
    assert "later-paper\tLater Paper\n" in keys.read_text("utf-8")


def test_every_kind_of_value_completes(keyed_lab: Path) -> None:
    assert bash_complete("lab list ", keyed_lab) == ["papers", "notes", "experiments", "weeks"]
    assert bash_complete("lab list papers --status r", keyed_lab) == ["reading", "read"]
    assert "vision-encoder" in bash_complete("lab list papers --topic ", keyed_lab)
    assert "multimodal-arch" in bash_complete("lab list notes --topic m", keyed_lab)
    assert bash_complete("lab new concept X -c f", keyed_lab) == ["fundamentals"]
    assert bash_complete("lab prompt ", keyed_lab) == [
        "init",
        "paper",
        "concept",
        "experiment",
        "weekly",
        "review",
    ]
    assert bash_complete("lab prompt paper neo", keyed_lab) == ["neovlm"]
    assert bash_complete("lab init --lang ", keyed_lab) == ["zh", "en"]
    assert bash_complete("lab list papers --stage ", keyed_lab) == ["1", "2", "3", "4", "5"]
    assert "2026-W48" in bash_complete("lab weekly --week ", keyed_lab)  # TODAY is in W48
    assert "clip-loss" in bash_complete("lab new experiment x --kind ", keyed_lab)
    assert bash_complete("lab alias ", keyed_lab) == ["bash", "zsh", "fish"]
    assert bash_complete("lab new paper --st", keyed_lab) == ["--stage", "--status"]
    assert "mark" in bash_complete("lab ", keyed_lab)
    assert bash_complete("lab compare --connector Q", keyed_lab) == ["Q-Former"]
    # a value with spaces comes quoted for the command line, one word
    assert "MLP\\ \\(2-layer\\)" in bash_complete("lab list papers --connector M", keyed_lab)
    assert bash_complete("lab compare --format ", keyed_lab) == ["table", "md"]
    assert bash_complete("lab catalog mixt", keyed_lab) == ["mixtral"]
    assert "llava" in bash_complete("lab compare blip-2 ll", keyed_lab)  # any number of keys


def test_new_and_add_paper_offer_catalog_keys_the_lab_lacks(keyed_lab: Path) -> None:
    offered = bash_complete("lab new paper bli", keyed_lab)
    assert offered == ["blip-2", "blip"]  # the lab's own first, then the catalog's
    assert "mixtral" in bash_complete("lab add paper mix", keyed_lab)
    assert bash_complete("lab mark mix", keyed_lab) == []  # mark takes the lab's papers only


def test_aliases_complete_like_the_commands_they_stand_for(keyed_lab: Path) -> None:
    assert bash_complete("lmk neo", keyed_lab) == ["neovlm"]
    assert bash_complete("lmk neovlm ", keyed_lab) == ["unread", "reading", "read"]
    assert bash_complete("lls ", keyed_lab) == ["papers", "notes", "experiments", "weeks"]
    assert "mixtral" in bash_complete("lnp mix", keyed_lab)


def test_root_given_anywhere_and_paths_where_paths_are_meant(
    keyed_lab: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "sub-folder").mkdir(parents=True)
    assert bash_complete(f"lab --root {keyed_lab} mark neo", elsewhere) == ["neovlm"]
    assert bash_complete(f"lab mark --root {keyed_lab} neo", elsewhere) == ["neovlm"]
    assert bash_complete("lab mark neo", elsewhere) == []  # no lab here: nothing, no error
    assert bash_complete("lab init su", elsewhere) == ["sub-folder"]


def test_tab_in_an_interactive_bash_completes_through_an_alias(keyed_lab: Path) -> None:
    """The whole chain as a user meets it: an interactive bash on a terminal, the block from
    `lab alias bash` evaluated, Tab pressed after `lmk neo`."""
    rc = keyed_lab / ".test-bashrc"
    rc.write_text('PS1="$ "\neval "$(lab alias bash)"\n', "utf-8")
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive bash reading our rc file
        os.chdir(keyed_lab)
        os.execvpe("bash", ["bash", "--noprofile", "--rcfile", str(rc), "-i"], _env())
    seen = b""
    try:
        seen += _read_until(fd, b"$ ")
        os.write(fd, b"lmk neo\t")
        seen += _read_until(fd, b"neovlm ")
        os.write(fd, b"\x15exit\n")  # Ctrl-U clears the line, then leave
    finally:
        os.waitpid(pid, 0)
    assert b"lmk neovlm " in seen


def _read_until(fd: int, wanted: bytes, timeout: float = 20.0) -> bytes:
    seen = b""
    end = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    assert wanted in seen, seen.decode("utf-8", "replace")
    return seen


# --- the fast path, held to the truth -------------------------------------------------------


def test_the_command_tree_for_completion_is_the_apps() -> None:
    """spec.py is generated from the Typer app; regenerate it with
    `python -m mllm_lab.cli.specgen` after changing a command."""
    assert specgen.source() == specgen.SPEC_FILE.read_text("utf-8")


def test_catalog_keys_read_by_pattern_are_the_catalogs() -> None:
    assert catalog_keys() == [(paper.key, paper.title) for paper in catalog()]


@pytest.mark.parametrize(
    "line",
    [
        "lab ",
        "lab new ",
        "lab mark ",
        "lab mark bl",
        "lab mark blip-2 ",
        "lab list ",
        "lab list papers --status ",
        "lab list papers --topic v",
        "lab new concept X --category ",
        "lab new paper --topic ",
        "lab prompt ",
        "lab init --lang ",
        "lab alias ",
        "lab next -n ",
        "lab new paper x --force ",
        "lab review --since ",
    ],
)
def test_the_fast_path_answers_what_typer_would(keyed_lab: Path, line: str) -> None:
    from typer._completion_classes import BashComplete
    from typer.main import get_command

    from mllm_lab.cli.app import app

    words = shlex.split(line)
    incomplete = "" if line.endswith(" ") else words.pop()
    os.chdir(keyed_lab)
    ours = complete.complete(words, incomplete, environ=_env(), cwd=keyed_lab)
    typer_says = BashComplete(get_command(app), {}, "lab", "_LAB_COMPLETE").get_completions(
        words[1:], incomplete
    )
    assert not isinstance(ours, str)
    assert [value for value, _ in ours] == [item.value for item in typer_says]


def test_zsh_and_fish_answers_carry_titles(keyed_lab: Path) -> None:
    zsh = complete.answer(
        {"_LAB_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "lab mark neo"}, keyed_lab
    )
    assert zsh == "neovlm:NeoVLM: Sparse Visual Tokens"  # value:description for _describe
    fish = complete.answer(
        {"_LAB_COMPLETE": "complete_fish", "_TYPER_COMPLETE_ARGS": "lab mark neo"}, keyed_lab
    )
    assert fish == "neovlm\tNeoVLM: Sparse Visual Tokens"
    paths = complete.answer(
        {"_LAB_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "lab init "}, keyed_lab
    )
    assert paths == DIRS


def test_a_completion_run_does_not_import_typer(keyed_lab: Path) -> None:
    probe = (
        "import os, sys; os.environ.update(_LAB_COMPLETE='complete_bash', "
        "COMP_WORDS='lab mark neo', COMP_CWORD='2'); "
        "from mllm_lab.cli import main; main(); "
        "sys.stderr.write(str(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('typer', 'rich', 'yaml', 'jinja2'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=keyed_lab, capture_output=True, text=True, env=_env()
    )
    assert done.stdout == "neovlm\n" and done.stderr == "[]"


# --- lab alias --------------------------------------------------------------------------------

COMMON_COMMANDS = {"ls", "ll", "la", "l", "lp", "lpr", "lpq", "ln", "less", "lsof", "lli", "lsb"}


def test_aliases_shadow_no_command(run: Run) -> None:
    for name in ALIASES:
        assert name not in COMMON_COMMANDS and shutil.which(name) is None, name
    bash = run("alias", "bash")
    assert bash.ok
    for name, words in ALIASES.items():
        assert f"alias {name}='lab {words}'" in bash.out
    check = subprocess.run(["bash", "-n"], input=bash.out, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "compdef _lab_complete lab" in run("alias", "zsh").out
    assert "complete --command lab --no-files" in run("alias", "fish").out
    refused = run("alias", "tcsh")
    assert refused.code == 1 and "bash, zsh, fish" in refused.err


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed on this machine")
def test_the_zsh_block_parses(run: Run) -> None:
    check = subprocess.run(["zsh", "-n"], input=run("alias", "zsh").out, text=True)
    assert check.returncode == 0


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed on this machine")
def test_the_fish_block_parses(run: Run) -> None:
    check = subprocess.run(["fish", "-n"], input=run("alias", "fish").out, text=True)
    assert check.returncode == 0
