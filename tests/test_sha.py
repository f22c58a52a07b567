"""mllm_lab.sha: OpenSSL's SHA-1 is imported only when the bytes hashed make it pay, and the
digests are SHA-1's whichever implementation made them (the caches compare them with digests
made by other processes, and by lab before this module)."""

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


@given(st.lists(st.binary(max_size=3000), max_size=8), st.booleans())
def test_a_digest_is_sha1s_whichever_implementation_makes_it(
    pieces: list[bytes], told: bool
) -> None:
    sha._left[0] = 4000  # some pieces fit what is left, some do not
    whole = b"".join(pieces)
    if told:
        digest = sha.sha1(size=len(whole))
        for piece in pieces:
            digest.update(piece)
    else:
        digest = sha.sha1(whole)
    assert digest.hexdigest() == hashlib.sha1(whole).hexdigest()
    assert digest.digest() == hashlib.sha1(whole).digest()


def test_small_digests_leave_openssl_unimported_and_a_big_one_imports_it() -> None:
    code = (
        "import sys\n"
        "from mllm_lab import sha\n"
        "for _ in range(10): sha.sha1(b'x' * 1000).hexdigest()\n"
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


def test_a_warm_status_on_a_small_lab_does_not_import_openssl(lab: Path) -> None:
    """The point of the module: `lab status` on a lab of a few notes, warm, hashes a few KB."""
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = (
        "import sys\n"
        "from mllm_lab.cli import main\n"
        "sys.argv = ['lab', 'status']\n"
        "import atexit, os\n"
        "real = os._exit\n"
        "def done(code=0):\n"
        "    sys.stderr.write('HASHLIB=%s\\n' % ('hashlib' in sys.modules)); sys.stderr.flush()\n"
        "    real(code)\n"
        "os._exit = done\n"
        "main()\n"
    )
    for _ in range(2):  # the first run makes the index and the kept report
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=lab, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    assert "HASHLIB=False" in done.stderr
