"""The questions and answers of the cards `lab quiz --json` keeps (ops.quiz), in a file of
their own beside the kept columns: .lab/results/<the columns' entry>.text. At 50,000 notes
they are 38 MB, which every `quiz --json` read, checked and decoded with the columns to show
a few cards, and wrote again after each edit. Now the columns name, for each card, where its
bytes start, their sizes and their CRC-32: a command reads only the cards it shows, each
checked, and an edit appends the edited notes' texts to the file.

The file begins with a token the columns name: a file made anew (for other columns, by
another process) is not read for these. A card whose bytes are cut or changed raises
DamagedText; the columns are then made anew (ops.quiz.due_now). Appended texts that no
columns name any more are dropped when the file would hold twice what the columns use: the
columns are made anew, with a new file. Like every cache, it can be deleted at any time."""

from __future__ import annotations

import contextlib
import os
import secrets
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from mllm_lab.errors import LabError
from mllm_lab.storage import open_regular, write_atomic

TOKEN = 16  # hex digits
HEADER = TOKEN + 1  # the token and a newline
SLACK = 1 << 20  # bytes no column names, past twice those they name, before a file anew
TEXT_COLUMNS = ("start", "qsize", "asize", "crc")


class DamagedText(Exception):
    """A card's text is not what its columns say."""


def piece(question: str, answer: str) -> tuple[bytes, bytes, int]:
    """A card's question and answer as stored, and their CRC-32."""
    asked = question.encode("utf-8", "surrogatepass")
    said = answer.encode("utf-8", "surrogatepass")
    return asked, said, zlib.crc32(said, zlib.crc32(asked))


class TextStore:
    """The text file of one kept entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, data: bytes | bytearray) -> str | None:
        """A new file of `data`; its token (None: it could not be written)."""
        token = secrets.token_hex(TOKEN // 2)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # not its mode either (one that cannot be read)
                self.path.unlink()
            write_atomic(self.path, [f"{token}\n".encode(), data], sync=False)
        except (OSError, LabError):
            return None
        return token

    def append(self, token: str, data: bytes | bytearray, used: int) -> int | None:
        """`data` added at the end of the file made with `token`: where it starts (None: the
        file is another, cannot be written, or would hold too much no column names)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
        except OSError:
            return None
        try:
            if os.pread(fd, HEADER, 0) != f"{token}\n".encode():
                return None
            if os.fstat(fd).st_size - HEADER + len(data) > 2 * used + SLACK:
                return None
            if not data:
                return 0
            written = os.write(fd, data)
            end = os.lseek(fd, 0, os.SEEK_CUR)  # O_APPEND: right after this write
            return end - written - HEADER if written == len(data) else None
        except OSError:
            return None
        finally:
            os.close(fd)


class Texts:
    """Each card's question and answer, read when asked: from `text` (the columns hold their
    texts) or from the store's file made with `token`."""

    def __init__(self, kept: dict[str, Any], store: TextStore | None, whole: bool = False) -> None:
        self.kept = kept
        self.store = store
        self.inline: bytes | None = kept.get("text")
        self.file: BinaryIO | None = None
        self.whole = whole  # every text will be asked for: the file is read at once

    def __call__(self, number: int) -> tuple[str, str]:
        kept = self.kept
        start, asked, said = kept["start"][number], kept["qsize"][number], kept["asize"][number]
        data = self._read(start, asked + said)
        if len(data) != asked + said or zlib.crc32(data) != kept["crc"][number]:
            raise DamagedText(number)
        try:
            return (
                data[:asked].decode("utf-8", "surrogatepass"),
                data[asked:].decode("utf-8", "surrogatepass"),
            )
        except UnicodeDecodeError:  # a question cut in the middle of a character
            raise DamagedText(number) from None

    def _read(self, start: int, size: int) -> bytes:
        if self.inline is not None:
            return self.inline[start : start + size]
        if self.file is None:
            if self.store is None:
                raise DamagedText("no file")
            try:
                self.file = open_regular(self.store.path)  # closed by close()
            except OSError:
                raise DamagedText("no file") from None
            if self.file.read(HEADER) != f"{self.kept.get('text_token')}\n".encode():
                raise DamagedText("another file")
            if self.whole:
                try:
                    # its size asked for: a read to the end grows its buffer, twice the memory
                    self.inline = self.file.read(os.fstat(self.file.fileno()).st_size - HEADER)
                except (OSError, ValueError):
                    raise DamagedText("unreadable") from None
                return self.inline[start : start + size]
        try:  # one system call, and only these bytes: a seek and a read filled a buffer
            return os.pread(self.file.fileno(), size, HEADER + start)
        except (OSError, ValueError):
            raise DamagedText("unreadable") from None

    def close(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            self.file = None
