"""A loopback HTTP server that answers like the arXiv API with recorded Atom responses
(tests/fixtures/arxiv/), the `api` fixture that points lab at it, and a guard that makes every
test fail if it opens a connection to anything but this machine. Loaded by conftest.py."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from mllm_lab import arxiv

FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"


def recorded(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    delay: float = 0.0  # seconds before answering


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        self.release = threading.Event()  # ends a slow answer's wait at teardown

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client of a slow answer has hung up: nothing to report


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        wanted = query.get("id_list", [""])[0]
        self.server.requests.append(wanted)
        route = self.server.routes.get(wanted, Route(status=404))
        if route.delay:
            self.server.release.wait(route.delay)
        self.send_response(route.status)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class FakeArxiv:
    server: Server
    url: str
    cache: Path
    routes: dict[str, Route] = field(init=False)

    def __post_init__(self) -> None:
        self.routes = self.server.routes

    @property
    def requests(self) -> list[str]:
        return self.server.requests


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        assert address[0] in ("127.0.0.1", "localhost", "::1"), f"reached out to {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def api(server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeArxiv:
    url = f"http://127.0.0.1:{server.server_address[1]}/api/query"
    monkeypatch.setenv(arxiv.API_ENV, url)
    monkeypatch.delenv(arxiv.TIMEOUT_ENV, raising=False)
    server.requests.clear()
    server.routes.clear()
    server.routes.update(
        {
            "1810.04805": Route(recorded("1810.04805.xml")),
            "atom-ph/9509001": Route(recorded("atom-ph_9509001.xml")),
            "0704.0156": Route(recorded("0704.0156.xml")),
            "0000.0000": Route(recorded("unknown-0000.0000.xml")),
            "1234.12345": Route(recorded("error-1234.12345.xml")),
        }
    )
    return FakeArxiv(server, url, tmp_path / ".lab" / "arxiv")
