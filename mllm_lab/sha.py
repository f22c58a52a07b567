"""SHA-1, as the lab's stamps and checksums use it, without importing OpenSSL's (hashlib's
import costs 5-7 ms: more than a warm `lab status` on a lab of 1,000 notes spends hashing)
until the bytes hashed make it pay. CPython's own SHA-1 (_sha1) gives the same digests and is
about 8 times slower, so it takes the first SMALL bytes of a command and OpenSSL's the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Buffer = bytes | bytearray | memoryview


class Hash(Protocol):
    def update(self, data: Buffer, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...


_builtin: Callable[[Buffer], Hash] | None
try:
    from _sha1 import sha1 as _builtin  # type: ignore[import-not-found, no-redef, unused-ignore]
except ImportError:  # a Python built without its own hashes: OpenSSL's alone
    _builtin = None

SMALL = 1 << 18  # bytes: 256 KB take about 2 ms in _sha1; a warm `lab list` at 1k hashes 170
_left = [SMALL]


def expect(size: int) -> None:
    """A command about to hash `size` bytes (the walk, the stamps of every file): if that is
    more than SMALL leaves, OpenSSL's SHA-1 is worth its import from the first byte."""
    if size > _left[0]:
        _left[0] = 0


def sha1(data: Buffer = b"", size: int | None = None) -> Hash:
    """A SHA-1 object over `data`; `size`: all the bytes it will be given (with `update`),
    when more than `data`."""
    wanted = len(data) if size is None else size
    if _builtin is not None and wanted <= _left[0]:
        _left[0] -= wanted
        return _builtin(data)
    import hashlib

    _left[0] = 0  # imported now: every later digest uses it
    return hashlib.sha1(data)
