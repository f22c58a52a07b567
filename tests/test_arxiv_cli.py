"""`lab new paper ID` and `lab add paper URL` look the paper up on arXiv when online: against a
loopback server serving recorded Atom answers (test_arxiv.py's), never the internet."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from arxiv_server import FakeArxiv, Route, recorded
from conftest import Run, read, tree

from mllm_lab import arxiv

TITLE = "2-2 and 2-3 Intercombination Transitions in Be-like Ions"


def _entry(lab: Path, arxiv_id: str) -> dict[str, object]:
    entries = yaml.safe_load(read(lab / "papers/reading-list.yaml"))["papers"]
    return next(e for e in entries if e.get("arxiv") == arxiv_id)


def test_add_paper_by_id_fills_title_authors_and_year(en_lab: Path, api: FakeArxiv) -> None:
    run = Run(en_lab)
    added = run("add", "paper", "atom-ph/9509001")
    assert added.ok, added.err
    assert f"arXiv atom-ph/9509001: “{TITLE}” (1995)" in added.err
    entry = _entry(en_lab, "atom-ph/9509001")
    assert entry["title"] == TITLE and entry["year"] == 1995
    assert entry["authors"] == ["Yu.V.Ralchenko", "L.A.Vainshtein"]
    assert entry["url"] == "https://arxiv.org/abs/atom-ph/9509001"
    assert entry["key"] == "2-2-2"  # a short key from the title's first words
    again = run("add", "paper", "https://arxiv.org/abs/atom-ph/9509001v1")
    assert again.ok and "already in the lab" in again.err
    assert api.requests == ["atom-ph/9509001"]  # the lab knows it now: no second fetch
    cached = json.loads((en_lab / ".lab/arxiv/atom-ph_9509001.json").read_text("utf-8"))
    assert cached["title"] == TITLE


def test_new_paper_by_url_writes_the_abstract_into_the_note(en_lab: Path, api: FakeArxiv) -> None:
    made = Run(en_lab)("new", "paper", "https://arxiv.org/abs/atom-ph/9509001")
    assert made.ok, made.err
    note = read(en_lab / "papers/2-2-2.md")
    assert f"# {TITLE}" in note
    assert "> **Abstract** (arXiv): " in note
    assert "Yu.V.Ralchenko, L.A.Vainshtein · 1995" in note


def test_the_cache_answers_a_second_time_without_the_network(en_lab: Path, api: FakeArxiv) -> None:
    run = Run(en_lab)
    assert run("new", "paper", "atom-ph/9509001", "--dry-run").ok
    assert run("new", "paper", "atom-ph/9509001", "--dry-run").ok
    assert api.requests == ["atom-ph/9509001"]


def test_an_id_arxiv_does_not_have_is_refused_and_nothing_written(
    en_lab: Path, api: FakeArxiv
) -> None:
    before = tree(en_lab)
    refused = Run(en_lab)("add", "paper", "0000.0000")
    assert refused.code == 1 and refused.err.count("\n") == 1
    assert "arXiv has no paper 0000.0000: check the id (nothing was written)" in refused.err
    assert tree(en_lab) == before


def test_a_withdrawn_paper_is_added_with_a_warning(en_lab: Path, api: FakeArxiv) -> None:
    added = Run(en_lab)("add", "paper", "0704.0156")
    assert added.ok and "warning: arXiv 0704.0156" in added.err and "was withdrawn" in added.err
    assert str(_entry(en_lab, "0704.0156")["title"]).startswith("Nonlinear force-free")


@pytest.mark.parametrize(
    ("route", "said"),
    [
        (Route(recorded("1810.04805.xml"), delay=5.0), "no answer within 0.3 s"),
        (Route(recorded("malformed-truncated.xml")), "could not be read"),
        (Route(status=503), "HTTP 503"),
    ],
)
def test_offline_or_a_bad_answer_records_the_id_alone_quickly(
    en_lab: Path, api: FakeArxiv, monkeypatch: pytest.MonkeyPatch, route: Route, said: str
) -> None:
    api.routes["2504.11111"] = route
    monkeypatch.setenv(arxiv.TIMEOUT_ENV, "0.3")
    start = time.monotonic()
    added = Run(en_lab)("add", "paper", "2504.11111")
    assert time.monotonic() - start < 4
    assert added.ok and said in added.err and "warning:" in added.err
    entry = _entry(en_lab, "2504.11111")
    assert entry["key"] == "2504.11111" and entry["title"] == "arXiv:2504.11111"
    assert not (en_lab / ".lab/arxiv/2504.11111.json").exists()  # tried again next time


def test_lookups_can_be_turned_off(
    en_lab: Path, api: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(arxiv.API_ENV, "off")
    added = Run(en_lab)("add", "paper", "atom-ph/9509001")
    assert added.ok and "warning" not in added.err
    assert _entry(en_lab, "atom-ph/9509001")["title"] == "arXiv:atom-ph/9509001"
    assert api.requests == []


def test_a_paper_the_catalog_has_is_never_looked_up(en_lab: Path, api: FakeArxiv) -> None:
    assert Run(en_lab)("new", "paper", "1810.04805").ok  # BERT, from the catalog
    assert api.requests == []
    assert "key: bert" in read(en_lab / "papers/bert.md")
