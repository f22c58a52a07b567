"""Templates compiled to Python by Jinja, kept in .lab/compiled/<tag>/<key> so a template is
lexed, parsed and compiled once (2-7 ms each time before) and loaded as code after (about
1 ms).

What is loaded here runs as Python, outside Jinja's sandbox, so a file is trusted only when
this user wrote it for this very folder:
- <tag> holds the inode of this machine's .lab/ (a repository can carry a .lab/ of its own,
  force-added past its .gitignore, and cannot name it) and what the code was compiled with;
- .lab/compiled/ and <tag>/ are this user's own folders, not links, made 0700; a file is
  this user's own regular file, not a link, writable by no one else, at most MAX_BYTES;
- each file is Jinja's checksum of the template's source, the SHA-1 of the code, then the
  code in marshal's format.
Anything else is left alone and the template is compiled as if nothing were kept; a file
that cannot be written is not kept. (Jinja's FileSystemBytecodeCache reads its files with
pickle, from any folder it is given.)"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import shutil
import stat
import types
from pathlib import Path
from typing import Any

from mllm_lab.sha import sha1

FOLDER = "compiled"
MAX_BYTES = 1 << 20  # a compiled template is 2-16 KB
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def folder_for(state: Path, made_with: list[Any]) -> Path | None:
    """.lab/compiled/<tag>/, made if missing (and the tags of other versions swept away);
    None when lab cannot be sure it is its own (see the module's doc) or there are no file
    owners to check (not POSIX)."""
    if not hasattr(os, "getuid") or not _NOFOLLOW:
        return None
    try:
        place = os.stat(state)
    except OSError:
        return None
    if place.st_uid != os.getuid() or place.st_mode & stat.S_IWOTH:
        return None
    tag = sha1(json.dumps([*made_with, place.st_ino], sort_keys=True).encode()).hexdigest()
    top = state / FOLDER
    folder = top / tag[:16]
    if not (_own_folder(top) and _own_folder(folder)):
        return None
    return folder


def _own_folder(path: Path) -> bool:
    """`path` is a folder of this user's that no one else may write to: made so if missing,
    its mode put right if it is this user's."""
    made = False
    try:
        os.mkdir(path, 0o700)
        made = True
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        found = os.lstat(path)
        if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid():
            return False
        if found.st_mode & 0o077:
            os.chmod(path, 0o700)
    except OSError:
        return False
    if made and path.parent.name == FOLDER:
        _sweep(path)
    return True


def _sweep(kept: Path) -> None:
    """The tags of other versions of lab, Jinja or Python, beside a new one."""
    with contextlib.suppress(OSError):
        for other in kept.parent.iterdir():
            if other != kept and stat.S_ISDIR(os.lstat(other).st_mode):
                shutil.rmtree(other, ignore_errors=True)


def load(folder: Path, key: str, checksum: str) -> types.CodeType | None:
    """The code kept for the template `key` whose source has `checksum`, if it can be trusted."""
    try:
        fd = os.open(folder / key, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError:
        return None
    try:
        found = os.fstat(fd)
        if (
            not stat.S_ISREG(found.st_mode)
            or found.st_uid != os.getuid()
            or found.st_mode & 0o022
            or found.st_size > MAX_BYTES
        ):
            return None
        data = b""
        while len(data) <= found.st_size and (chunk := os.read(fd, found.st_size + 1)):
            data += chunk
    except OSError:
        return None
    finally:
        os.close(fd)
    head, _, rest = data.partition(b"\n")
    digest, _, body = rest.partition(b"\n")
    if head != checksum.encode() or digest != sha1(body).hexdigest().encode():
        return None
    try:
        code = marshal.loads(body)
    except (EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def save(folder: Path, key: str, checksum: str, code: types.CodeType) -> None:
    """Keep `code` for the template `key`: a private temporary file, then renamed into place
    (a link or anything else there is replaced, never followed)."""
    body = marshal.dumps(code)
    head = f"{checksum}\n{sha1(body).hexdigest()}\n".encode()
    tmp = folder / f".{key}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except OSError:
        return
    try:
        try:
            for piece in (head, body):
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, folder / key)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
