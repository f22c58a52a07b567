"""Every string `lab` shows a user, by name, in one catalog per language (zh.py, en.py).

Code asks for a message by name: `tr("paper.not_found", lang, query=q)`. An entry is a format
string, plural forms `{"one": …, "other": …}` chosen by the parameter `n`, or a plain value
(a list of table headers, a stage's topics) read with `words()`. A parameter may itself be a
`Msg`, rendered in the same language. Errors and problems carry a `Msg` and are rendered only
when shown, in the session's language: the lab's, once a command has found its lab."""

from __future__ import annotations

import os
from functools import cache
from importlib import import_module
from typing import Any, NamedTuple

LANGS = ("zh", "en")
_session: list[str] = []


def default_lang() -> str:
    """Before a lab is found: $LAB_LANG, else the locale (zh_* -> zh), else en."""
    for name in ("LAB_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def use(lang: str) -> None:
    """The language of this session's messages (the lab's, once it is known)."""
    _session[:] = [lang if lang in LANGS else "en"]


def reset() -> None:
    """Forget the session's language (tests, and a process that opens another lab)."""
    _session.clear()


def current() -> str:
    return _session[0] if _session else default_lang()


@cache
def catalog(lang: str) -> dict[str, Any]:
    table: dict[str, Any] = import_module(f"mllm_lab.messages.{lang}").MESSAGES
    return table


def words(name: str, lang: str | None = None) -> Any:
    """A catalog entry as it is (a list, a table), in `lang` or the session's language."""
    return catalog(lang or current())[name]


def tr(name: str, lang: str | None = None, /, **params: Any) -> str:
    lang = lang or current()
    entry = catalog(lang)[name]
    if isinstance(entry, dict):
        entry = entry["one"] if params.get("n") == 1 else entry["other"]
    if not params:
        return str(entry)
    shown = {k: v.render(lang) if isinstance(v, Msg) else v for k, v in params.items()}
    return str(entry).format(**shown)


class Msg(NamedTuple):
    """A message to be shown later, in whatever language is in use then."""

    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, /, **params: Any) -> Msg:
        return cls(name, tuple(params.items()))

    def render(self, lang: str | None = None) -> str:
        return tr(self.name, lang, **dict(self.params))

    def __str__(self) -> str:
        return self.render()

    def as_json(self) -> list[Any]:
        return [self.name, {k: v.as_json() if isinstance(v, Msg) else v for k, v in self.params}]

    @classmethod
    def from_json(cls, data: Any) -> Msg:
        name, params = data
        return cls(
            str(name),
            tuple(
                (
                    k,
                    cls.from_json(v)
                    if isinstance(v, list) and len(v) == 2 and isinstance(v[1], dict)
                    else v,
                )
                for k, v in params.items()
            ),
        )


def plural(n: int, name: str, lang: str | None = None) -> str:
    """`1 problem`, `3 problems`, `3 个问题`."""
    return tr(name, lang, n=n)
