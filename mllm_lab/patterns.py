"""Regular expressions compiled when first used.

Lab's modules define 120 patterns at their top and a command uses a few of them; `re`
compiles in Python, and compiling them all took about 9 ms of every command's start. A
pattern made by `pattern()` compiles on its first use and then puts the compiled one in its
place in the module that defined it, so the functions there use `re`'s own object from then
on (a stand-in costs 25 ns a call: millions of calls in a cold scan of 50,000 notes)."""

from __future__ import annotations

import re
import sys
from typing import Any, AnyStr, cast

_METHODS = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split")


class _Pattern:
    def __init__(self, source: str | bytes, flags: int, home: dict[str, Any]) -> None:
        self.pattern = source  # what other patterns are built of: read without compiling
        self._flags = flags
        self._home = home

    def __getattr__(self, name: str) -> Any:  # only until compiled: then the methods are set
        if "_home" not in self.__dict__:  # made without __init__ (a copy being made)
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self._flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        home = self._home
        for name_there in [key for key, value in home.items() if value is self]:
            home[name_there] = compiled
        return getattr(compiled, name)


def pattern(source: AnyStr, flags: int | re.RegexFlag = 0) -> re.Pattern[AnyStr]:
    """re.compile(source, flags), done when the pattern is first used. Define it at the top
    of a module (`NAME = pattern(...)`): that is the name it replaces once compiled."""
    home = sys._getframe(1).f_globals
    return cast("re.Pattern[AnyStr]", _Pattern(source, int(flags), home))
