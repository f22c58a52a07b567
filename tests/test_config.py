"""lab.toml as every command reads it: parsed with tomllib only when its text is not the one
.lab/config.json remembers, so the memo can never say what the file no longer says, a
damaged memo is only a slower start, and a broken lab.toml is refused whatever the memo holds."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run, read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllm_lab.errors import BadInput
from mllm_lab.lab import CONFIG_MEMO, Config, parse_config, read_config


def memo(root: Path) -> Path:
    return root / ".lab" / CONFIG_MEMO


def remembered(root: Path) -> tuple[str, Config]:
    stored = json.loads(memo(root).read_text("utf-8"))
    return stored["text"], Config(stored["lang"], stored["name"], tuple(stored["ignore"]))


def test_a_command_remembers_the_config_with_the_text_it_came_from(lab: Path) -> None:
    assert Run(lab)("status").ok
    text = read(lab / "lab.toml")
    assert remembered(lab) == (text, parse_config(text, "lab.toml"))


def test_an_edit_of_the_same_size_and_time_is_read_at_once(lab: Path) -> None:
    """The memo is keyed by lab.toml's text, not its stamp: a `lang` changed within the same
    second, to a value of the same length, is the next command's language."""
    run = Run(lab)
    assert "论文" in run("status").out
    path = lab / "lab.toml"
    stamp = path.stat()
    path.write_text(read(path).replace('lang = "zh"', 'lang = "en"'), "utf-8")
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert path.stat().st_size == stamp.st_size
    shown = run("status")
    assert shown.ok, shown
    assert "Stage 1:" in shown.out and "论文" not in shown.out


def test_a_broken_lab_toml_is_refused_though_the_memo_holds_a_good_one(lab: Path) -> None:
    run = Run(lab)
    assert run("status").ok
    before = memo(lab).read_bytes()
    (lab / "lab.toml").write_text('[lab]\nlang = "zh\n', "utf-8")
    refused = run("status")
    assert refused.code == 1, refused
    assert "lab.toml" in refused.err and "Traceback" not in refused.err
    assert memo(lab).read_bytes() == before  # only a config that parsed is remembered


def shaped(text: str, **fields: object) -> bytes:
    return json.dumps({"text": text, "lang": "zh", "name": "x", "ignore": [], **fields}).encode()


DAMAGES = {
    "empty": lambda text: b"",
    "garbage": lambda text: b"not json at all \x00\xff",
    "marshal": lambda text: b"(\x00\x00\x00\x04",  # a tuple of 67 million items, said marshal
    "deep": lambda text: b"[" * 100_000,
    "list": lambda text: json.dumps([text, "zh", "x", []]).encode(),
    # the very text, with what it cannot have said
    "lang": lambda text: shaped(text, lang="fr"),
    "pattern": lambda text: shaped(text, ignore=["ok", 3]),
    "patterns": lambda text: shaped(text, ignore="notes/"),
    "name": lambda text: shaped(text, name=5),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_memo_is_only_a_slower_start(lab: Path, damage: str) -> None:
    run = Run(lab)
    assert run("status").ok
    text = read(lab / "lab.toml")
    memo(lab).write_bytes(DAMAGES[damage](text))
    shown = run("status")
    assert shown.ok, shown
    assert "论文" in shown.out
    assert remembered(lab) == (text, parse_config(text, "lab.toml"))


def test_a_memo_of_the_same_text_with_another_config_is_not_checked_against_toml(
    lab: Path,
) -> None:
    """What the memo is for, shown by a forged one: lab.toml is not parsed again while its
    text is the one remembered (a memo is only ever written from a parse of that text)."""
    text = read(lab / "lab.toml")
    memo(lab).parent.mkdir(exist_ok=True)
    memo(lab).write_bytes(shaped(text, lang="en", name="Forged"))
    assert read_config(lab / "lab.toml") == Config("en", "Forged", ())


def test_a_pipe_in_the_memos_place_does_not_hang_a_command(
    lab: Path, sh: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    (lab / ".lab").mkdir(exist_ok=True)
    os.mkfifo(memo(lab))
    done = sh("status", cwd=lab, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "论文" in done.stdout


def test_a_linked_state_folder_gets_no_memo(lab: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (lab / ".lab").symlink_to(elsewhere, target_is_directory=True)
    assert read_config(lab / "lab.toml") == parse_config(read(lab / "lab.toml"), "lab.toml")
    assert not (elsewhere / CONFIG_MEMO).exists()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=10,
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=300)
    | st.builds(lambda value: json.dumps(value).encode(), JSON)
    | st.fixed_dictionaries(  # lab.toml's own text beside values it cannot have given
        {},
        optional={
            "lang": st.sampled_from(["zh", "en", "fr"]) | JSON,
            "name": st.text() | JSON,
            "ignore": st.lists(st.text() | st.integers(), max_size=3) | JSON,
        },
    )
)
def test_whatever_the_memo_holds_the_config_is_lab_tomls(
    lab: Path, stored: bytes | dict[str, object]
) -> None:
    text = read(lab / "lab.toml")
    memo(lab).parent.mkdir(exist_ok=True)
    if isinstance(stored, dict):
        stored = json.dumps({"text": text, **stored}).encode()
    memo(lab).write_bytes(stored)
    real = parse_config(text, "lab.toml")
    recalled = read_config(lab / "lab.toml")
    assert recalled.lang in ("zh", "en") and isinstance(recalled.name, str)
    assert all(isinstance(pattern, str) for pattern in recalled.ignore)
    if recalled != real:  # only a memo of lab.toml's own text, in the shape lab writes, is taken
        said = json.loads(stored)
        assert said["text"] == text
        assert (said["lang"], said["name"], said["ignore"]) == (*recalled[:2], [*recalled.ignore])


def test_a_broken_lab_toml_says_where(lab: Path) -> None:
    (lab / "lab.toml").write_text('[lab]\nlang = "zh\n', "utf-8")
    with pytest.raises(BadInput):
        read_config(lab / "lab.toml")
