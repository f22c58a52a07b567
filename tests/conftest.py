from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from mllm_lab import messages
from mllm_lab.cli.app import app

TODAY = "2026-11-25"  # a Wednesday in ISO week 2026-W48
# the arXiv stand-in on 127.0.0.1 (`api` fixture) and the guard that keeps tests off the internet
pytest_plugins = ["arxiv_server"]


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the real home, a real lab above the temp folder, or the real clock."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("LAB_TODAY", TODAY)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("LAB_ROOT", raising=False)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    # no test reaches the internet: arXiv lookups meet a closed port on this machine at once
    monkeypatch.setenv("LAB_ARXIV_API", "http://127.0.0.1:9/api/query")
    for name in ("LAB_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")  # outside a lab, messages are English
    messages.reset()


class Run:
    """`lab ...` through Typer's CliRunner, in a given folder."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, cwd: Path | None = None) -> Result:
        old = Path.cwd()
        os.chdir(cwd or self.cwd)
        try:
            result = self.runner.invoke(app, list(args), input=input, catch_exceptions=True)
        finally:
            os.chdir(old)
        return Result(result.exit_code, result.stdout, result.stderr, result.exception)


class Result:
    def __init__(self, code: int, out: str, err: str, exception: BaseException | None) -> None:
        self.code, self.out, self.err, self.exception = code, out, err, exception

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-800:]!r}, err={self.err[-800:]!r}, exc={self.exception!r})"

    @property
    def ok(self) -> bool:
        return self.code == 0


def machine_settings(examples: int, steps: int) -> Any:
    """Hypothesis settings for a state machine of whole commands (slow steps, no deadline)."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def machine_template(prefix: str, *commands: list[str]) -> Path:
    """For a module of Hypothesis state machines: one lab made with `lab init` under TMPDIR
    (today and colour pinned), `commands` run in it and its .lab/ removed; each machine
    copies it. The caller removes its parent folder when the module is done."""
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"{prefix}-{os.getpid()}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    os.environ["LAB_TODAY"] = TODAY
    os.environ["NO_COLOR"] = "1"
    template = base / "template"
    assert CliRunner().invoke(app, ["init", str(template)]).exit_code == 0
    for args in commands:
        done = Run(template)(*args)
        assert done.code == 0, (args, done)
    shutil.rmtree(template / ".lab", ignore_errors=True)
    return template


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path)


@pytest.fixture(scope="session")
def _lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One lab made with `lab init`, copied for each test (init renders many templates)."""
    os.environ["LAB_TODAY"] = TODAY
    root = tmp_path_factory.mktemp("template") / "lab"
    result = CliRunner().invoke(app, ["init", str(root)])
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / ".lab", ignore_errors=True)
    return root


@pytest.fixture
def lab(tmp_path: Path, _lab_template: Path) -> Path:
    root = tmp_path / "lab"
    shutil.copytree(_lab_template, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def _en_lab_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ["LAB_TODAY"] = TODAY
    root = tmp_path_factory.mktemp("template-en") / "lab"
    result = CliRunner().invoke(app, ["init", str(root), "--lang", "en"])
    assert result.exit_code == 0, result.output
    shutil.rmtree(root / ".lab", ignore_errors=True)
    return root


@pytest.fixture
def en_lab(tmp_path: Path, _en_lab_template: Path) -> Path:
    """A lab whose language is English: for tests about the English wording."""
    root = tmp_path / "en-lab"
    shutil.copytree(_en_lab_template, root, symlinks=True)
    return root


@pytest.fixture
def in_lab(lab: Path) -> Run:
    return Run(lab)


def lab_executable() -> str:
    """The installed `lab` console script of the interpreter running the tests."""
    candidate = Path(sys.executable).with_name("lab")
    found = str(candidate) if candidate.exists() else shutil.which("lab")
    assert found, "the `lab` console script is not installed"
    return found


def fresh_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`code` run by a fresh interpreter (this one's) in the tests' folder, so that it can
    import the test modules; its output captured as text."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=Path(__file__).parent,
    )


@pytest.fixture
def sh() -> Callable[..., subprocess.CompletedProcess[str]]:
    """A real process of the installed `lab`."""

    def call(
        *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        environment = {**os.environ, **(env or {})}
        return subprocess.run(
            [lab_executable(), *args],
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return call


def read(path: Path) -> str:
    return path.read_text("utf-8")


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root (except the .lab cache) with its bytes, to prove nothing changed."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".lab" not in p.relative_to(root).parts
    }


@pytest.fixture
def snapshot() -> Iterator[Callable[[Path], dict[str, bytes]]]:
    yield tree


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/ from what lab makes now (review the diff before committing).",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/<name>, or rewrite it with --update-golden."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = Path(__file__).parent / "golden" / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
        assert path.exists(), f"no golden file {name}; run pytest --update-golden and review it"
        assert text == path.read_text("utf-8"), f"{name} changed; if on purpose: --update-golden"

    return check
