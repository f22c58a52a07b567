"""arXiv lookup when online: one small HTTP call to the arXiv API (Atom XML) for one id, with a
short timeout, and a JSON cache so that an id is never fetched twice.

Every outcome is a typed result with a one-line message in zh and en: `Found`, `NotFound`,
`Withdrawn`, `Offline` (no network, timeout, arXiv down) or `Malformed` (an answer lab cannot
read). Nothing here raises for a network or data problem."""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mllm_lab import __version__
from mllm_lab.core.arxivid import abs_url, parse_arxiv_id, split_arxiv_id
from mllm_lab.messages import tr
from mllm_lab.patterns import pattern

DEFAULT_API = "http://export.arxiv.org/api/query"
API_ENV = "LAB_ARXIV_API"  # another endpoint: a mirror, or a local server in tests
TIMEOUT_ENV = "LAB_ARXIV_TIMEOUT"  # seconds
DEFAULT_TIMEOUT = 5.0
MAX_BYTES = 1_000_000  # one entry is a few kB; anything this large is not a real answer
USER_AGENT = f"mllm-lab/{__version__} (lab paper lookup)"
CACHE_VERSION = 1

_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
# How withdrawals are worded on arXiv: in the comment ("This paper has been withdrawn by the
# authors", "Withdrawn by arXiv administrators"), often also as the whole abstract.
_WITHDRAWN_COMMENT = pattern(r"\b(?:has|have|is|was|been)\s+withdrawn\b|^\s*withdrawn\b", re.I)
_WITHDRAWN_SUMMARY = pattern(r"^\s*(?:this|the)\b[^.]{0,60}\bwithdrawn\b", re.I)


def _say(code: str, lang: str, **values: Any) -> str:
    return tr(f"arxiv.{code}", lang, **values)


@dataclass(frozen=True)
class Found:
    arxiv: str
    title: str
    authors: tuple[str, ...]
    year: int  # of the first version
    abstract: str
    url: str  # the canonical abs page, without a version
    published: str  # ISO date of the first version
    version: int | None = None  # the latest version, as arXiv answered
    doi: str | None = None  # a journal DOI the authors gave, if any

    def message(self, lang: str = "en") -> str:
        return _say("found", lang, arxiv=self.arxiv, title=self.title, year=self.year)


@dataclass(frozen=True)
class NotFound:
    arxiv: str
    invalid: bool = False  # the input is no arXiv id at all (nothing was fetched)
    detail: str = ""  # arXiv's own error text, if it sent one

    def message(self, lang: str = "en") -> str:
        return _say("invalid" if self.invalid else "not-found", lang, arxiv=self.arxiv)


@dataclass(frozen=True)
class Withdrawn:
    arxiv: str
    title: str
    comment: str
    url: str

    def message(self, lang: str = "en") -> str:
        detail = self.comment or "-"
        return _say("withdrawn", lang, arxiv=self.arxiv, title=self.title, detail=detail)


@dataclass(frozen=True)
class Offline:
    arxiv: str
    detail: str

    def message(self, lang: str = "en") -> str:
        return _say("offline", lang, detail=self.detail)


@dataclass(frozen=True)
class Malformed:
    arxiv: str
    detail: str

    def message(self, lang: str = "en") -> str:
        return _say("malformed", lang, arxiv=self.arxiv, detail=self.detail)


Lookup = Found | NotFound | Withdrawn | Offline | Malformed


def endpoint() -> str:
    return os.environ.get(API_ENV) or DEFAULT_API


def default_timeout() -> float:
    try:
        value = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT


def query_url(arxiv: str, api: str | None = None) -> str:
    query = urllib.parse.urlencode({"id_list": arxiv, "max_results": "1"})
    return f"{api or endpoint()}?{query}"


def lookup(
    text: str, cache_dir: Path | None, *, api: str | None = None, timeout: float | None = None
) -> Lookup:
    """The paper behind an id or URL (`2301.12597v2`, `hep-th/9901001`, an abs or pdf link):
    from `cache_dir` if it was fetched before, else from the arXiv API (then cached)."""
    arxiv = parse_arxiv_id(text)
    if arxiv is None:
        return NotFound(text.strip(), invalid=True)
    if cache_dir is not None and (cached := read_cache(cache_dir, arxiv)) is not None:
        return cached
    wait = timeout if timeout is not None else default_timeout()
    body = _fetch(query_url(arxiv, api), wait, arxiv)
    if not isinstance(body, bytes):
        return body
    result = parse_atom(body, arxiv)
    if cache_dir is not None and isinstance(result, Found | Withdrawn):
        write_cache(cache_dir, result)
    return result


def _fetch(url: str, timeout: float, arxiv: str) -> bytes | Offline | Malformed:
    if not url.lower().startswith(("http://", "https://")):
        return Malformed(arxiv, f"not an http(s) endpoint: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            chunks: list[bytes] = []
            while chunk := response.read(65536):
                chunks.append(chunk)
                if sum(map(len, chunks)) > MAX_BYTES:
                    return Malformed(arxiv, "the answer is too large")
                if time.monotonic() > deadline:  # a server that trickles bytes
                    raise TimeoutError
            return b"".join(chunks)
    except urllib.error.HTTPError as error:
        if error.code >= 500 or error.code == 429:
            return Offline(arxiv, f"HTTP {error.code}")
        return Malformed(arxiv, f"HTTP {error.code}")
    except (TimeoutError, urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError) or isinstance(error, TimeoutError):
            return Offline(arxiv, f"no answer within {timeout:g} s")
        return Offline(arxiv, str(reason) or type(reason).__name__)
    except http.client.HTTPException as error:
        return Malformed(arxiv, f"bad HTTP answer: {type(error).__name__}")


def _text(element: ET.Element | None) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


def parse_atom(body: bytes, arxiv: str) -> Found | NotFound | Withdrawn | Malformed:
    """Read the API's Atom answer for `arxiv`. No entry (arXiv's answer for an unknown id) or
    an error entry is NotFound; an entry for another paper, or without a title, is Malformed."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:  # no entity tricks from the network
        return Malformed(arxiv, "the answer declares a DTD")
    try:
        feed = ET.fromstring(body)
    except ET.ParseError as error:
        return Malformed(arxiv, f"not XML: {error}")
    if feed.tag != f"{_ATOM}feed":
        return Malformed(arxiv, "not an Atom feed")
    entry = feed.find(f"{_ATOM}entry")
    if entry is None:
        return NotFound(arxiv)
    entry_id = _text(entry.find(f"{_ATOM}id"))
    if "/api/errors" in entry_id or _text(entry.find(f"{_ATOM}title")) == "Error":
        return NotFound(arxiv, detail=_text(entry.find(f"{_ATOM}summary")))
    return _read_entry(entry, entry_id, arxiv)


def _read_entry(entry: ET.Element, entry_id: str, arxiv: str) -> Found | Withdrawn | Malformed:
    answered = split_arxiv_id(entry_id)
    if answered is None or answered[0] != arxiv:
        return Malformed(arxiv, f"the answer is about another paper: {entry_id or '?'}")
    title = _text(entry.find(f"{_ATOM}title"))
    published = _text(entry.find(f"{_ATOM}published"))
    if not title or not re.match(r"\d{4}-\d{2}-\d{2}", published):
        return Malformed(arxiv, "the entry has no title or no publication date")
    comment = _text(entry.find(f"{_ARXIV}comment"))
    abstract = _text(entry.find(f"{_ATOM}summary"))
    if _WITHDRAWN_COMMENT.search(comment) or _WITHDRAWN_SUMMARY.match(abstract):
        return Withdrawn(arxiv=arxiv, title=title, comment=comment or abstract, url=abs_url(arxiv))
    authors = tuple(
        name for a in entry.findall(f"{_ATOM}author") if (name := _text(a.find(f"{_ATOM}name")))
    )
    return Found(
        arxiv=arxiv,
        title=title,
        authors=authors,
        year=int(published[:4]),
        abstract=abstract,
        url=abs_url(arxiv),
        published=published[:10],
        version=answered[1],
        doi=_text(entry.find(f"{_ARXIV}doi")) or None,
    )


def cache_path(cache_dir: Path, arxiv: str) -> Path:
    return cache_dir / (arxiv.replace("/", "_") + ".json")  # hep-th/9901001 -> hep-th_9901001


def read_cache(cache_dir: Path, arxiv: str) -> Found | Withdrawn | None:
    """The cached answer, or None (none yet, or unreadable: then it is fetched again)."""
    try:
        data = json.loads(cache_path(cache_dir, arxiv).read_text("utf-8"))
        if data.pop("cache", None) != CACHE_VERSION or data.get("arxiv") != arxiv:
            return None
        if data.pop("kind") == "withdrawn":
            return Withdrawn(**data)
        return Found(**{**data, "authors": tuple(data["authors"])})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def write_cache(cache_dir: Path, result: Found | Withdrawn) -> None:
    """Best effort: a cache that cannot be written only costs another fetch next time."""
    kind = "withdrawn" if isinstance(result, Withdrawn) else "found"
    data = {"cache": CACHE_VERSION, "kind": kind, **asdict(result)}
    path = cache_path(cache_dir, result.arxiv)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
        os.replace(temporary, path)
    except OSError:
        temporary.unlink(missing_ok=True)
