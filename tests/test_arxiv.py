"""arXiv lookup against a loopback server that plays recorded Atom answers
(tests/fixtures/arxiv/, sources cited in each file). No test reaches the internet: every
connection to anything but the loopback address fails the test."""

from __future__ import annotations

import json
import socket
import time

import pytest
from arxiv_server import FakeArxiv, Route, recorded

from mllm_lab import arxiv
from mllm_lab.arxiv import Found, Malformed, NotFound, Offline, Withdrawn, lookup, parse_atom


def test_a_paper_is_found_with_its_facts(api: FakeArxiv) -> None:
    result = lookup("1810.04805", api.cache)
    assert isinstance(result, Found)
    assert result.title == (
        "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"
    )
    assert result.authors == ("Jacob Devlin", "Ming-Wei Chang", "Kenton Lee", "Kristina Toutanova")
    assert (result.year, result.published, result.version) == (2018, "2018-10-11", 2)
    assert result.url == "https://arxiv.org/abs/1810.04805"
    assert result.abstract.startswith("We introduce a new language representation model called")
    assert "GLUE score to 80.5% (7.7% point" in result.abstract and "\n" not in result.abstract
    assert result.message("en") == (
        "arXiv 1810.04805: “BERT: Pre-training of Deep Bidirectional Transformers for "
        "Language Understanding” (2018)"
    )
    assert result.message("zh").startswith("arXiv 1810.04805：《BERT")
    assert api.requests == ["1810.04805"]


@pytest.mark.parametrize(
    "given",
    [
        "1810.04805v2",
        "arXiv:1810.04805",
        "https://arxiv.org/abs/1810.04805v1",
        "http://arxiv.org/pdf/1810.04805v2.pdf",
        "https://doi.org/10.48550/arXiv.1810.04805",
    ],
)
def test_versions_and_urls_ask_for_the_paper(api: FakeArxiv, given: str) -> None:
    assert isinstance(lookup(given, None), Found)
    assert api.requests == ["1810.04805"]


def test_the_cache_prevents_a_second_fetch(api: FakeArxiv) -> None:
    first = lookup("1810.04805", api.cache)
    again = [lookup(text, api.cache) for text in ("1810.04805v1", "arXiv:1810.04805")]
    assert again == [first, first] and api.requests == ["1810.04805"]
    saved = json.loads((api.cache / "1810.04805.json").read_text("utf-8"))
    assert isinstance(first, Found)
    assert saved["kind"] == "found" and saved["title"] == first.title
    assert not list(api.cache.glob("*.tmp"))


def test_without_a_cache_each_lookup_fetches(api: FakeArxiv) -> None:
    lookup("1810.04805", None)
    lookup("1810.04805", None)
    assert api.requests == ["1810.04805", "1810.04805"]


def test_a_broken_cache_file_is_fetched_again(api: FakeArxiv) -> None:
    api.cache.mkdir(parents=True)
    (api.cache / "1810.04805.json").write_text("{not json", "utf-8")
    assert isinstance(lookup("1810.04805", api.cache), Found)
    assert api.requests == ["1810.04805"]
    assert isinstance(arxiv.read_cache(api.cache, "1810.04805"), Found)


def test_an_old_style_id_is_found(api: FakeArxiv) -> None:
    result = lookup("https://arxiv.org/abs/atom-ph/9509001v1", api.cache)
    assert isinstance(result, Found)
    assert result.title == "2-2 and 2-3 Intercombination Transitions in Be-like Ions"
    assert result.authors == ("Yu.V.Ralchenko", "L.A.Vainshtein")
    assert (result.year, result.doi) == (1995, "10.1103/PhysRevA.52.2449")
    assert result.url == "https://arxiv.org/abs/atom-ph/9509001"
    assert (api.cache / "atom-ph_9509001.json").is_file()
    assert lookup("atom-ph/9509001", api.cache) == result and len(api.requests) == 1


def test_an_unknown_id_is_not_found_and_not_cached(api: FakeArxiv) -> None:
    result = lookup("0000.0000", api.cache)
    assert result == NotFound("0000.0000")
    assert result.message("en") == "arXiv has no paper 0000.0000"
    assert result.message("zh") == "arXiv 上没有论文 0000.0000"
    lookup("0000.0000", api.cache)  # it may appear tomorrow: asked again
    assert api.requests == ["0000.0000", "0000.0000"]


def test_an_error_entry_is_not_found(api: FakeArxiv) -> None:
    result = lookup("1234.12345", api.cache)
    assert isinstance(result, NotFound) and not result.invalid
    assert result.detail == "incorrect id format for 1234.12345"


def test_text_that_is_no_id_is_not_fetched(api: FakeArxiv) -> None:
    result = lookup("blip-2", api.cache)
    assert result == NotFound("blip-2", invalid=True)
    assert "not an arXiv id" in result.message("en") and "不是 arXiv 编号" in result.message("zh")
    assert api.requests == []


def test_a_withdrawn_paper_says_so(api: FakeArxiv) -> None:
    result = lookup("0704.0156", api.cache)
    assert isinstance(result, Withdrawn)
    assert result.title.startswith("Nonlinear force-free coronal magnetic field extrapolation")
    assert result.comment.startswith("This paper has been withdrawn by the authors.")
    assert "was withdrawn" in result.message("en") and "已被撤回" in result.message("zh")
    assert lookup("0704.0156", api.cache) == result and api.requests == ["0704.0156"]


def test_a_slow_answer_is_offline_after_the_timeout(api: FakeArxiv) -> None:
    api.routes["1810.04805"] = Route(recorded("1810.04805.xml"), delay=5.0)
    start = time.monotonic()
    result = lookup("1810.04805", api.cache, timeout=0.3)
    assert isinstance(result, Offline) and result.detail == "no answer within 0.3 s"
    assert time.monotonic() - start < 2.0
    assert "could not reach arXiv" in result.message("en") and "无法连接" in result.message("zh")
    assert not (api.cache / "1810.04805.json").exists()


def test_the_timeout_comes_from_the_environment(
    api: FakeArxiv, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.routes["1810.04805"] = Route(recorded("1810.04805.xml"), delay=5.0)
    monkeypatch.setenv(arxiv.TIMEOUT_ENV, "0.2")
    assert lookup("1810.04805", None) == Offline("1810.04805", "no answer within 0.2 s")
    monkeypatch.setenv(arxiv.TIMEOUT_ENV, "soon")
    assert arxiv.default_timeout() == arxiv.DEFAULT_TIMEOUT


def test_a_malformed_answer_is_reported_and_not_cached(api: FakeArxiv) -> None:
    api.routes["1810.04805"] = Route(recorded("malformed-truncated.xml"))
    result = lookup("1810.04805", api.cache)
    assert isinstance(result, Malformed) and result.detail.startswith("not XML")
    assert result.message("en").startswith("arXiv's answer for 1810.04805 could not be read")
    assert not api.cache.exists()


@pytest.mark.parametrize(("status", "kind"), [(503, Offline), (429, Offline), (404, Malformed)])
def test_http_errors(api: FakeArxiv, status: int, kind: type[Offline | Malformed]) -> None:
    api.routes["1810.04805"] = Route(b"", status=status)
    assert lookup("1810.04805", api.cache) == kind("1810.04805", f"HTTP {status}")


def test_no_server_is_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(arxiv.API_ENV, f"http://127.0.0.1:{port}/api/query")
    result = lookup("2301.12597", None, timeout=1.0)
    assert isinstance(result, Offline) and "refused" in result.detail.lower()


def test_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(arxiv.API_ENV, raising=False)
    assert arxiv.endpoint() == "http://export.arxiv.org/api/query"
    assert arxiv.query_url("hep-th/9901001") == (
        "http://export.arxiv.org/api/query?id_list=hep-th%2F9901001&max_results=1"
    )
    monkeypatch.setenv(arxiv.API_ENV, "file:///etc/passwd")
    assert isinstance(lookup("2301.12597", None), Malformed)  # only http(s) is asked


def test_answers_that_are_not_the_papers_are_malformed() -> None:
    bert = recorded("1810.04805.xml")
    assert parse_atom(bert, "2301.12597") == Malformed(
        "2301.12597", "the answer is about another paper: http://arxiv.org/abs/1810.04805v2"
    )
    assert parse_atom(b"<html><body>Service Unavailable</body></html>", "1810.04805") == (
        Malformed("1810.04805", "not an Atom feed")
    )
    doctype = b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY a "b">]><feed/>'
    assert isinstance(parse_atom(doctype, "1810.04805"), Malformed)
    no_title = bert.replace(b"<title>BERT", b"<subtitle>BERT").replace(
        b"Understanding</title>", b"Understanding</subtitle>"
    )
    assert parse_atom(no_title, "1810.04805") == Malformed(
        "1810.04805", "the entry has no title or no publication date"
    )


@pytest.mark.parametrize(
    ("comment", "withdrawn"),
    [
        # arXiv's own records (github.com/arXiv/arxiv-browse, tests/data/abs_files, commit
        # 26f634fbf98de3d8d26efea90b021dca23dc500e): 0704.0156 and 2101.10016 are withdrawn
        ("This paper has been withdrawn by the authors.", True),
        ("This has been withdrawn by arXiv administrators due to an unresolvable authorship "
         "dispute", True),
        ("18 pages, 24 figures, code and video may be found here: "
         "https://github.com/orpatashnik/StyleCLIP", False),  # 2103.17249
        ("", False),
    ],
)  # fmt: skip
def test_withdrawal_wordings(comment: str, withdrawn: bool) -> None:
    assert bool(arxiv._WITHDRAWN_COMMENT.search(comment)) is withdrawn


def test_every_result_has_a_one_line_message_in_both_languages() -> None:
    results: list[arxiv.Lookup] = [
        Found("1810.04805", "T", ("A",), 2018, "abs", "https://arxiv.org/abs/1810.04805", "x"),
        NotFound("0000.0000"),
        NotFound("x", invalid=True),
        Withdrawn("0704.0156", "T", "withdrawn", "https://arxiv.org/abs/0704.0156"),
        Offline("1810.04805", "no answer within 5 s"),
        Malformed("1810.04805", "not XML"),
    ]
    for result in results:
        en, zh = result.message("en"), result.message("zh")
        assert en != zh and "\n" not in en + zh
