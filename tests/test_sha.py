"""mllm_lab.sha: OpenSSL's SHA-1 and SHA-256 are imported only when the bytes hashed make it
pay, and the digests are the same whichever implementation made them (the caches compare them
with digests made by other processes, and the region markers' shas with those lab wrote
before this module)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllm_lab import sha


@pytest.fixture(autouse=True)
def fresh_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sha, "_left", [sha.SMALL])


@given(
    st.lists(st.binary(max_size=3000), max_size=8),
    st.booleans(),
    st.sampled_from(["sha1", "sha256"]),
)
def test_a_digest_is_the_same_whichever_implementation_makes_it(
    pieces: list[bytes], told: bool, name: str
) -> None:
    sha._left[0] = 4000  # some pieces fit what is left, some do not
    make = getattr(sha, name)
    expected = getattr(hashlib, name)
    whole = b"".join(pieces)
    if told:
        digest = make(size=len(whole))
        for piece in pieces:
            digest.update(piece)
    else:
        digest = make(whole)
    assert digest.hexdigest() == expected(whole).hexdigest()
    assert digest.digest() == expected(whole).digest()
    head = make(whole[:7])  # a copy goes on from where it was taken, as region shas do
    tail = head.copy()
    tail.update(whole[7:])
    assert tail.hexdigest() == expected(whole).hexdigest()
    assert head.hexdigest() == expected(whole[:7]).hexdigest()


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=64))
def test_blake2b_is_hashlibs(data: bytes, size: int) -> None:
    assert sha.blake2b(data, digest_size=size).digest() == hashlib.blake2b(
        data, digest_size=size
    ).digest()


def test_small_digests_leave_openssl_unimported_and_a_big_one_imports_it() -> None:
    code = (
        "import sys\n"
        "from mllm_lab import sha\n"
        "for _ in range(10): sha.sha1(b'x' * 1000).hexdigest()\n"
        "for _ in range(10): sha.sha256(b'x' * 1000).hexdigest()\n"
        "sha.blake2b(b'card').hexdigest()\n"
        "print('hashlib' in sys.modules)\n"
        "sha.sha1(b'y' * 10, size=sha.SMALL).hexdigest()\n"
        "print('hashlib' in sys.modules)\n"
        "sha.sha1(b'z').hexdigest()\n"
        "print(sha._left[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "0"]


def test_a_command_told_of_many_bytes_takes_openssl_from_the_first() -> None:
    sha.expect(sha.SMALL // 2)
    assert sha._left[0] == sha.SMALL
    sha.expect(sha.SMALL + 1)
    assert sha._left[0] == 0
    assert sha.sha1(b"a").hexdigest() == hashlib.sha1(b"a").hexdigest()


def _imported_by(lab: Path, *argv: str) -> dict[str, bool]:
    """Which of hashlib and tomllib the second of two runs of `lab ARGV` imports (the first
    makes the index, the kept reports and the config memo)."""
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = (
        "import sys\n"
        "from mllm_lab.cli import main\n"
        f"sys.argv = ['lab', *{list(argv)!r}]\n"
        "import os\n"
        "real = os._exit\n"
        "def done(code=0):\n"
        "    for name in ('hashlib', 'tomllib'):\n"
        "        sys.stderr.write(f'{name}={name in sys.modules}\\n')\n"
        "    sys.stderr.flush()\n"
        "    real(code)\n"
        "os._exit = done\n"
        "main()\n"
    )
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=lab, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    return {
        name: f"{name}=True" in done.stderr
        for name in ("hashlib", "tomllib")
        if f"{name}=" in done.stderr
    }


@pytest.mark.parametrize(
    "argv",
    [("status",), ("weekly",), ("mark", "blip-2", "reading")],
    ids=["status", "weekly", "mark"],
)
def test_a_warm_command_on_a_small_lab_imports_neither_openssl_nor_toml(
    lab: Path, argv: tuple[str, ...]
) -> None:
    """The point of the module (and of the config memo, mllm_lab/lab.py): a warm command on a
    lab of a few notes hashes a few KB, region shas included, and lab.toml is as last read."""
    assert _imported_by(lab, *argv) == {"hashlib": False, "tomllib": False}
