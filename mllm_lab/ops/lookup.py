"""arXiv lookup for `lab new paper` / `lab add paper` given an id or URL that neither the lab
nor the catalog knows: title, all authors, year and abstract from the arXiv API, cached in
.lab/arxiv/ so an id is fetched once. It runs before the transaction, so the lab is never
locked while the network is slow. Offline (or LAB_ARXIV_API=off) the paper is recorded by its
id alone, with one line saying so; an id arXiv does not have is refused."""

from __future__ import annotations

import os
from typing import NamedTuple

from mllm_lab.core.papers import arxiv_id
from mllm_lab.core.resolve import lab_first
from mllm_lab.errors import BadInput
from mllm_lab.ops.workspace import Workspace


class Fetched(NamedTuple):
    """What arXiv said about a paper, for a new paper's facts and its note."""

    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    abstract: str = ""
    notice: str = ""  # one line for the user: found, withdrawn, offline…
    found: bool = False


def fetch(ws: Workspace, query: str) -> Fetched | None:
    """The arXiv facts for `query`, or None when it is no arXiv id, the lab or the catalog
    already has the paper, or lookups are off."""
    wanted = arxiv_id(query)
    if wanted is None:
        return None  # and the HTTP client is not even imported (15 ms)
    from mllm_lab import arxiv
    from mllm_lab.catalog import catalog

    if os.environ.get(arxiv.API_ENV, "").strip().lower() == "off":
        return None
    if any(paper.arxiv == wanted for paper in lab_first(ws.data().papers, catalog())):
        return None
    result = arxiv.lookup(query, ws.lab.state / "arxiv")
    notice = result.message(ws.lang)
    if isinstance(result, arxiv.NotFound):
        raise BadInput("error.arxiv_unknown", what=notice)
    if isinstance(result, arxiv.Found):
        return Fetched(
            title=result.title,
            authors=result.authors,
            year=result.year,
            abstract=result.abstract,
            notice=notice,
            found=True,
        )
    if isinstance(result, arxiv.Withdrawn):
        return Fetched(title=result.title, notice=notice)
    return Fetched(notice=notice)  # offline, or an answer lab cannot read
