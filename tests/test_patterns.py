"""Patterns compiled on first use (mllm_lab.patterns): they match as re.compile's would, a
module's functions use re's own object once one is used, and importing lab's modules
compiles none of lab's patterns."""

from __future__ import annotations

import copy
import re
import types

from conftest import fresh_python
from hypothesis import given
from hypothesis import strategies as st

from mllm_lab.patterns import pattern

MODULE_SOURCE = """
import re
from mllm_lab.patterns import pattern

WORD = pattern(r"[a-z]+", re.I)
SAME = WORD
ANGLED = pattern(WORD.pattern.join("<>"))
BYTES = pattern(b"\\xc2[\\x80-\\x9f]")

def words(text):
    return WORD.findall(text)
"""


def _module() -> types.ModuleType:
    module = types.ModuleType("patterns_probe")
    exec(compile(MODULE_SOURCE, "patterns_probe.py", "exec"), module.__dict__)
    return module


def test_a_pattern_compiles_on_first_use_and_takes_its_names_in_its_module() -> None:
    module = _module()
    assert not isinstance(module.WORD, re.Pattern)  # nothing compiled by the import
    assert module.ANGLED.pattern == "<[a-z]+>"  # built from another's source, uncompiled
    assert not isinstance(module.WORD, re.Pattern)
    assert module.words("Hello, lab 42 World") == ["Hello", "lab", "World"]
    assert isinstance(module.WORD, re.Pattern) and module.WORD is module.SAME
    assert module.WORD.flags & re.I
    assert module.BYTES.search(b"a\xc2\x85b") is not None
    assert isinstance(module.BYTES, re.Pattern)


def test_a_copy_kept_elsewhere_still_works() -> None:
    kept = _module().ANGLED  # bound before the first use: stays the stand-in
    assert kept.fullmatch("<abc>") is not None
    assert kept.sub("x", "a <b> c") == "a x c"
    assert kept.split("1<a>2") == ["1", "2"]
    assert kept.groups == 0 and kept.pattern == "<[a-z]+>"
    assert copy.copy(kept).fullmatch("<abc>") is not None
    assert copy.deepcopy(kept).fullmatch("<abc>") is not None


@given(
    source=st.sampled_from([r"[a-z]+", r"(\d+)-(\d+)", r"^#+ (.*)$", r"\s*\|\s*", r"(?i)lab"]),
    text=st.text(alphabet="ab1-2# |LAB\n", max_size=30),
)
def test_it_matches_as_re_compile_does(source: str, text: str) -> None:
    here = {"pattern": pattern}
    exec(f"P = pattern({source!r}, re.M)", {**here, "re": re}, here)
    compiled = re.compile(source, re.M)
    assert [m.span() for m in here["P"].finditer(text)] == [
        m.span() for m in compiled.finditer(text)
    ]
    assert here["P"].sub("_", text) == compiled.sub("_", text)


def test_importing_lab_compiles_none_of_its_patterns() -> None:
    """A command's start pays for the patterns it uses, not the hundred lab defines."""
    code = (
        "import pkgutil, importlib, re, sys\n"
        "import mllm_lab\n"
        "compiled = []\n"
        "real = re._compile\n"
        "def counted(source, flags):\n"
        "    caller = sys._getframe(1)\n"
        "    while caller and caller.f_globals.get('__name__', '').startswith('re'):\n"
        "        caller = caller.f_back\n"
        "    name = caller.f_globals.get('__name__', '') if caller else ''\n"
        "    if name.startswith('mllm_lab') and caller.f_code.co_name == '<module>':\n"
        "        compiled.append((name, source))\n"
        "    return real(source, flags)\n"
        "re._compile = counted\n"
        "for info in pkgutil.walk_packages(mllm_lab.__path__, 'mllm_lab.'):\n"
        "    if info.name not in ('mllm_lab.__main__',):\n"
        "        importlib.import_module(info.name)\n"
        "print(len(sys.modules))\n"
        "assert not compiled, compiled\n"
    )
    done = fresh_python(code)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100  # every module was imported
