"""Shell completion of commands, options and values, answered without importing Typer.

A Tab press runs `lab` with `_LAB_COMPLETE` set (Typer's variables: `complete_bash` with
COMP_WORDS and COMP_CWORD, `complete_zsh`/`complete_fish` with _TYPER_COMPLETE_ARGS). Importing
Typer and every command takes most of 100 ms, so `mllm_lab.cli.main` hands such a run to
`answer()` here first: it walks the words through `spec.SPEC` (the command tree, generated from
the Typer app by `python -m mllm_lab.cli.specgen` and checked by a test), and completes values
from the spec's fixed lists or from the lab's `.lab/keys.tsv` (paper keys and titles, written
whenever the lab is read). It never answers with file names where a value is expected: the
shell scripts `lab alias` prints ask for files only on the `::files::` / `::dirs::` answer.
This module imports nothing but the standard library and the generated spec."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

FILES = "::files::"
DIRS = "::dirs::"
KEYS_FILE = "keys.tsv"  # state.KEYS_FILE, not imported (it would double the time)
CONFIG_FILE = "lab.toml"
GLOBAL = {"--root": ("dir", "The lab's folder.")}
HELP = {"-h": "Show help.", "--help": "Show help."}

# short aliases for the daily loop: `lab alias` prints them; none shadows a common command
ALIASES = {
    "lnp": "new paper",
    "lnc": "new concept",
    "lne": "new experiment",
    "lap": "add paper",
    "lmk": "mark",
    "lwk": "weekly",
    "lst": "status",
    "lls": "list",
    "lnx": "next",
    "lpm": "prompt",
    "lrv": "review",
    "lck": "check",
}

Candidates = list[tuple[str, str]]
PROBE = "::completer::"  # specgen asks each parameter which completer it has
PROBING: list[bool] = []


def values(name: str) -> Callable[[str], Candidates]:
    """The completer `name` as a Typer `autocompletion=` callback. The fast path in answer()
    does the real work; this tells specgen (and Typer's own completion) which values go where."""

    def complete_values(incomplete: str) -> Candidates:
        if PROBING:
            return [(PROBE + name, "")]
        context = Context(path="", args=[], environ=os.environ, cwd=Path.cwd(), root=None)
        found = _values(name, incomplete, context)
        return [] if isinstance(found, str) else found

    return complete_values


def answer(environ: dict[str, str] | os._Environ[str], cwd: Path) -> str | None:
    """The text to print for a completion request, or None when `environ` holds none."""
    mode = environ.get("_LAB_COMPLETE", "")
    if mode == "complete_bash":
        words = _split(environ.get("COMP_WORDS", ""))
        try:
            cword = int(environ.get("COMP_CWORD", ""))
        except ValueError:
            cword = len(words)
        words, incomplete = words[:cword], (words[cword] if cword < len(words) else "")
    elif mode in ("complete_zsh", "complete_fish"):
        line = environ.get("_TYPER_COMPLETE_ARGS", "")
        words = _split(line)
        incomplete = "" if not words or line.endswith(" ") else words.pop()
    else:
        return None
    found = complete(words, incomplete, environ=environ, cwd=cwd)
    if isinstance(found, str):
        return found
    if mode == "complete_bash":
        return "\n".join(value for value, _ in found)
    if mode == "complete_zsh":  # `_describe` entries: value:description, colons escaped
        return "\n".join(
            f"{_zsh(value)}:{_one_line(text)}" if text else _zsh(value) for value, text in found
        )
    return "\n".join(f"{value}\t{_one_line(text)}" if text else value for value, text in found)


def complete(
    words: list[str], incomplete: str, *, environ: Any = None, cwd: Path | None = None
) -> Candidates | str:
    """Candidates (value, description) for the word being typed after `words` (the program's
    name first), or FILES / DIRS when the shell should complete paths itself."""
    from mllm_lab.cli.spec import SPEC

    environ = os.environ if environ is None else environ
    words = _expand_alias(words)
    path, wants, root = "", None, None
    positionals: list[str] = []
    node = SPEC[""]
    only_args = False
    for word in words[1:]:
        if wants is not None:
            if wants == "--root":
                root = word
            wants = None
        elif word == "--":
            only_args = True
        elif word.startswith("-") and not only_args and len(word) > 1:
            name, has_value, value = word.partition("=")
            option = _option(node, name)
            if option is not None and option[0] is not None and not has_value:
                wants = name
            elif name == "--root" and has_value:
                root = value
        elif not positionals and word in node.get("commands", {}):
            path = f"{path} {word}".strip()
            node = SPEC[path]
        else:
            positionals.append(word)
    context = Context(
        path=path, args=positionals, environ=environ, cwd=cwd or Path.cwd(), root=root
    )
    if wants is not None:
        option = _option(node, wants)
        return _values(option[0] if option else None, incomplete, context)
    if incomplete.startswith("-") and not only_args:
        options = {**node.get("options", {}), **GLOBAL}
        shown = [(name, spec[1]) for name, spec in options.items()]
        shown += list(HELP.items())
        return [(name, text) for name, text in shown if name.startswith(incomplete)]
    commands = node.get("commands", {})
    if commands and not positionals:
        return [(name, text) for name, text in commands.items() if name.startswith(incomplete)]
    args = node.get("args", [])
    if not args:
        return []
    completer = (
        args[min(len(positionals), len(args) - 1)]
        if node.get("variadic")
        else (args[len(positionals)] if len(positionals) < len(args) else None)
    )
    return _values(completer, incomplete, context)


class Context:
    """What a value completer may look at: the command, its arguments so far, the lab."""

    def __init__(
        self, *, path: str, args: list[str], environ: Any, cwd: Path, root: str | None
    ) -> None:
        self.path, self.args, self.environ, self.cwd, self.root = path, args, environ, cwd, root

    def lang(self) -> str:
        """The lab's language, read from lab.toml by pattern (no TOML parser needed)."""
        root = self.lab()
        if root is not None:
            try:
                config = (root / CONFIG_FILE).read_text("utf-8")
            except OSError:
                config = ""
            match = re.search(r'^lang\s*=\s*"(\w+)"', config, re.M)
            if match:
                return match[1]
        return "zh" if self.environ.get("LAB_LANG", "").startswith("zh") else "en"

    def lab(self) -> Path | None:
        given = self.root or self.environ.get("LAB_ROOT")
        if given:
            folder = Path(given).expanduser()
            return folder if (folder / CONFIG_FILE).is_file() else None
        here = self.cwd
        for folder in (here, *here.parents):
            if (folder / CONFIG_FILE).is_file():
                return folder
        return None


def _values(completer: str | None, incomplete: str, context: Context) -> Candidates | str:
    from mllm_lab.cli.spec import VALUES

    if not completer:
        return []
    if completer == "dir":
        return DIRS
    if completer == "file":
        return FILES
    if completer in VALUES:
        lang = context.lang()
        found = [(value, text.get(lang, "")) for value, text in VALUES[completer]]
    else:
        found = DYNAMIC[completer](context)
    folded = incomplete.casefold()
    return [(value, text) for value, text in found if value.casefold().startswith(folded)]


def lab_papers(context: Context) -> Candidates:
    """The lab's paper keys with their titles, from .lab/keys.tsv (the lab is read once to
    write it if it is missing)."""
    root = context.lab()
    if root is None:
        return []
    keys = root / ".lab" / KEYS_FILE
    if not keys.is_file():
        _write_keys(root)
    try:
        text = keys.read_text("utf-8")
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        key, _, title = line.partition("\t")
        if key:
            found.append((key, title))
    return found


def catalog_papers(context: Context) -> Candidates:
    return catalog_keys()


def any_paper(context: Context) -> Candidates:
    """The lab's papers, then the catalog's the lab does not hold (new paper, add paper)."""
    mine = lab_papers(context)
    held = {key.casefold() for key, _ in mine}
    return mine + [(key, title) for key, title in catalog_keys() if key.casefold() not in held]


def weeks(context: Context) -> Candidates:
    """This week and the seven before it, and every week with a log."""
    today = _today(context.environ)
    found = {}
    for back in range(8):
        year, number, _ = (today - timedelta(weeks=back)).isocalendar()
        found[f"{year}-W{number:02d}"] = ""
    root = context.lab()
    if root is not None:
        try:
            names = os.listdir(root / "weekly-log")
        except OSError:
            names = []
        for name in names:
            if re.fullmatch(r"\d{4}-W\d{2}\.md", name):
                found.setdefault(name[:-3], "")
    return sorted(found.items(), reverse=True)


def prompt_target(context: Context) -> Candidates:
    """`lab prompt paper <Tab>` completes papers, `lab prompt weekly <Tab>` weeks."""
    kind = context.args[0] if context.args else ""
    if kind == "paper":
        return any_paper(context)
    if kind == "weekly":
        return weeks(context)
    return []


DYNAMIC: dict[str, Callable[[Context], Candidates]] = {
    "paper": lab_papers,
    "any_paper": any_paper,
    "catalog_paper": catalog_papers,
    "week": weeks,
    "prompt_target": prompt_target,
}


def catalog_keys() -> Candidates:
    """(key, title) of every catalog paper, read from catalog.yaml by pattern: YAML's parser
    would take half the time a completion may."""
    text = (Path(__file__).resolve().parents[1] / "data" / "catalog.yaml").read_text("utf-8")
    found = []
    for match in re.finditer(r"^- key: (\S+)\n  title: (.+)$", text, re.M):
        found.append((_unquote(match[1]), _unquote(match[2])))
    return found


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].encode("utf-8").decode("unicode_escape")
    return text


def _write_keys(root: Path) -> None:
    """Read the lab once (the slow way) so that .lab/keys.tsv exists from now on."""
    try:
        from mllm_lab.ops.workspace import Workspace

        Workspace.open(str(root)).data()
    except Exception:
        return


def _today(environ: Any) -> date:
    given = environ.get("LAB_TODAY", "")
    try:
        return date.fromisoformat(given) if given else date.today()
    except ValueError:
        return date.today()


def _option(node: dict[str, Any], name: str) -> tuple[str | None, str] | None:
    if name in GLOBAL:
        return GLOBAL[name]
    found = node.get("options", {}).get(name)
    return (found[0], found[1]) if found is not None else None


def _expand_alias(words: list[str]) -> list[str]:
    if not words:
        return ["lab"]
    head = os.path.basename(words[0])
    if head in ALIASES:
        return ["lab", *ALIASES[head].split(), *words[1:]]
    return ["lab", *words[1:]]


def _split(line: str) -> list[str]:
    import shlex

    try:
        return shlex.split(line)
    except ValueError:  # an open quote: complete what is there
        return line.split()


def _zsh(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def main() -> bool:
    """Answer a completion request, if this run is one; True when it was."""
    text = answer(os.environ, Path.cwd())
    if text is None:
        return False
    if text:
        sys.stdout.write(text + "\n")
    return True
