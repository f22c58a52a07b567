"""SHA-1 and SHA-256, as the lab's stamps, checksums and region shas use them, without
importing OpenSSL's (hashlib's import costs 4-7 ms: more than a warm `lab status` on a lab of
1,000 notes spends hashing) until the bytes hashed make it pay. CPython's own hashes (_sha1,
_sha256 or _sha2) give the same digests and are about 8 times slower, so they take the first
SMALL bytes of a command and OpenSSL's the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Buffer = bytes | bytearray | memoryview


class Hash(Protocol):
    def update(self, data: Buffer, /) -> None: ...
    def digest(self) -> bytes: ...
    def hexdigest(self) -> str: ...
    def copy(self) -> Hash: ...


Maker = Callable[[Buffer], Hash]


def _builtin(module: str, name: str) -> Maker | None:
    try:
        return getattr(__import__(module), name)  # type: ignore[no-any-return]
    except (ImportError, AttributeError):  # a Python built without its own hashes
        return None


_SHA1 = _builtin("_sha1", "sha1")
_SHA256 = _builtin("_sha2", "sha256") or _builtin("_sha256", "sha256")  # 3.12+, 3.11

try:  # hashlib's own blake2b is this one: taken here, it does not import OpenSSL's hashes
    from _blake2 import blake2b as blake2b
except ImportError:  # pragma: no cover - every CPython has it
    from hashlib import blake2b as blake2b

SMALL = 1 << 18  # bytes: 256 KB take about 1-2 ms built in; a warm `lab list` at 1k hashes 170
_left = [SMALL]


def expect(size: int) -> None:
    """A command about to hash `size` bytes (the walk, the stamps of every file): if that is
    more than SMALL leaves, OpenSSL's hashes are worth their import from the first byte."""
    if size > _left[0]:
        _left[0] = 0


def sha1(data: Buffer = b"", size: int | None = None) -> Hash:
    """A SHA-1 object over `data`; `size`: all the bytes it will be given (with `update`),
    when more than `data`."""
    return _new("sha1", _SHA1, data, size)


def sha256(data: Buffer = b"", size: int | None = None) -> Hash:
    """A SHA-256 object, as `sha1`."""
    return _new("sha256", _SHA256, data, size)


def _new(name: str, builtin: Maker | None, data: Buffer, size: int | None) -> Hash:
    wanted = len(data) if size is None else size
    if builtin is not None and wanted <= _left[0]:
        _left[0] -= wanted
        return builtin(data)
    import hashlib

    _left[0] = 0  # imported now: every later digest uses it
    return getattr(hashlib, name)(data)  # type: ignore[no-any-return]
