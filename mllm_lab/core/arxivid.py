"""arXiv identifiers in every form people paste them: `2301.12597`, `2301.12597v2`,
`arXiv:2301.12597`, abs and pdf URLs (with or without a version), the arXiv DOI
`10.48550/arXiv.2301.12597`, and old-style ids such as `hep-th/9901001` or `math.GT/0309136`."""

from __future__ import annotations

import re

from mllm_lab.patterns import pattern

# New style (2007-04 on): YYMM.NNNN (to 2014) or YYMM.NNNNN (2015 on).
_NEW = r"\d{4}\.\d{4,5}"
# Old style (to 2007-03): archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = r"[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7}"
_ID = rf"(?P<id>{_NEW}|{_OLD})(?:v(?P<version>\d+))?"

_PREFIXES = pattern(
    r"^(?:https?://)?(?:(?:www|export)\.)?arxiv\.org/(?:abs|pdf|html)/"
    r"|^(?:https?://)?(?:dx\.)?doi\.org/10\.48550/arxiv\."
    r"|^10\.48550/arxiv\."
    r"|^arxiv:\s*",
    re.IGNORECASE,
)
_WHOLE = pattern(_ID + r"(?:\.pdf)?/?")
# Inside free text (a BibTeX `journal`, `note` or `publisher`): only where arXiv is named.
_IN_TEXT = pattern(
    rf"(?:arxiv\s*[:.]?\s*|arxiv\.org/(?:abs|pdf)/|10\.48550/arxiv\.|\babs/)(?P<id>{_NEW}|{_OLD})"
    r"(?:v\d+)?",
    re.IGNORECASE,
)


def split_arxiv_id(text: str) -> tuple[str, int | None] | None:
    """`(id, version)` for one identifier or URL, or None when `text` is not one.

    >>> split_arxiv_id("https://arxiv.org/pdf/2301.12597v2.pdf")
    ('2301.12597', 2)"""
    stripped = _PREFIXES.sub("", text.strip(), count=1)
    match = _WHOLE.fullmatch(stripped)
    if match is None:
        return None
    version = match["version"]
    return match["id"], int(version) if version else None


def parse_arxiv_id(text: str) -> str | None:
    """The bare id (no version) of one identifier or URL, or None."""
    parts = split_arxiv_id(text)
    return parts[0] if parts else None


def find_arxiv_id(text: str) -> str | None:
    """The first arXiv id named in free text, e.g. `arXiv preprint arXiv:2310.03744`
    or DBLP's `abs/2310.03744`; a bare number without `arXiv` is not taken."""
    whole = parse_arxiv_id(text)
    if whole is not None:
        return whole
    match = _IN_TEXT.search(text)
    return match["id"] if match else None


def abs_url(arxiv: str) -> str:
    """The canonical abstract page, without a version: it always shows the latest."""
    return f"https://arxiv.org/abs/{arxiv}"


def arxiv_doi(arxiv: str) -> str:
    """The DOI arXiv registers for every paper: `10.48550/arXiv.` and the id."""
    return f"10.48550/arXiv.{arxiv}"
