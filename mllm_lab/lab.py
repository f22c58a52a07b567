"""A lab on disk: finding it, its config, and paths that cannot leave it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

from mllm_lab.errors import BadInput, IntoState, NotALab, OutsideLab
from mllm_lab.models import CONFIG_FILE, LANGS, STATE_DIR

ROOT_ENV = "LAB_ROOT"
CONFIG_MEMO = "config.json"  # in .lab/: lab.toml's text and the config it says


DEFAULT_NAME = "LLM Learning Lab"


class Config(NamedTuple):
    lang: str = "zh"
    name: str = DEFAULT_NAME
    ignore: tuple[str, ...] = ()  # gitignore-style patterns of files lab leaves alone


def parse_config(text: str, path: str) -> Config:
    import tomllib  # 3 ms of imports: only when lab.toml is not what .lab/ remembers

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        from mllm_lab.core.fm import conflict_in

        conflict = conflict_in(text)
        if conflict is not None:
            raise BadInput("error.conflict", path=CONFIG_FILE, line=conflict) from None
        raise BadInput("error.config_toml", path=path, problem=str(error)) from None
    lab = data.get("lab", {})
    if not isinstance(lab, dict):
        raise BadInput("error.config_table", path=path)
    lang = lab.get("lang", "zh")
    if lang not in LANGS:
        raise BadInput("error.config_lang", path=path, value=repr(lang), valid=", ".join(LANGS))
    name = lab.get("name", DEFAULT_NAME)
    if not isinstance(name, str) or not name.strip():
        raise BadInput("error.config_name", path=path)
    ignore = lab.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise BadInput("error.config_ignore", path=path)
    return Config(lang=lang, name=name, ignore=tuple(p for p in ignore if p.strip()))


def read_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadInput("error.config_read", path=str(path), problem=error.strerror) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise BadInput("error.config_utf8", path=str(path), line=line) from None
    text = text.removeprefix("\ufeff")
    state = path.parent / STATE_DIR
    config = _recalled(state, text)
    if config is None:
        config = parse_config(text, str(path))
        _remember(state, text, config)
    return config


def _recalled(state: Path, text: str) -> Config | None:
    """The config lab.toml's very text gave last time, as .lab/ remembers it (None: not
    remembered, another text, or a memo in another shape). JSON, not marshal: marshal takes
    a damaged length at its word and allocates for it (gigabytes for five bytes)."""
    from mllm_lab.state import read_state  # a pipe in the memo's place does not hang it

    stored = read_state(state, CONFIG_MEMO)
    if stored is None:
        return None
    try:
        memo = json.loads(stored)
    except (ValueError, RecursionError):
        return None
    if not isinstance(memo, dict) or memo.get("text") != text:
        return None
    lang, name, ignore = memo.get("lang"), memo.get("name"), memo.get("ignore")
    if not (isinstance(lang, str) and isinstance(name, str)) or lang not in LANGS:
        return None
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        return None
    return Config(lang, name, tuple(ignore))


def _remember(state: Path, text: str, config: Config) -> None:
    """Keep the config with the text it came from in .lab/ (made if missing, as every command
    that reads the lab makes it), unless .lab is a link: Lab.state says where a link may lead,
    and this is before any Lab exists."""
    if state.is_symlink():
        return
    from mllm_lab.state import write_state

    memo = {"text": text, "lang": config.lang, "name": config.name, "ignore": config.ignore}
    write_state(state, CONFIG_MEMO, json.dumps(memo, ensure_ascii=False) + "\n")


def config_text(config: Config) -> str:
    name = config.name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "# mllm-lab settings for this lab. `lab` finds the lab by walking up to this file.\n"
        "[lab]\n"
        f'name = "{name}"\n'
        f'lang = "{config.lang}"  # zh or en: the language of templates and generated text\n'
        "# Files lab leaves alone (gitignore syntax), e.g. for a repository you adopted:\n"
        '# ignore = ["drafts/", "notes/archive/**", "*.tmp.md"]\n'
    )


class Lab(NamedTuple):
    root: Path
    config: Config

    @classmethod
    def at(cls, root: Path) -> Lab:
        return cls(root, read_config(root / CONFIG_FILE))

    @classmethod
    def find(cls, root: str | None = None, start: Path | None = None) -> Lab:
        """The lab at --root or $LAB_ROOT, else the nearest folder upward holding lab.toml."""
        given = root or os.environ.get(ROOT_ENV)
        if given:
            try:
                path = Path(given).expanduser().resolve()
            except (RuntimeError, OSError):
                raise NotALab(Path(given)) from None
            if not (path / CONFIG_FILE).is_file():
                raise NotALab(path)
            return cls.at(path)
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CONFIG_FILE).is_file():
                return cls.at(folder)
        raise NotALab(here)

    @property
    def lang(self) -> str:
        return self.config.lang

    @property
    def state(self) -> Path:
        """.lab/, where the index and lock live; refused if it is a link leading elsewhere
        (or round in a loop: `ln -s .lab .lab`)."""
        state = self.root / STATE_DIR
        if state.is_symlink():
            try:
                resolved = state.resolve()
            except (RuntimeError, OSError):  # a symlink loop
                raise OutsideLab(STATE_DIR) from None
            if resolved != self.root and self.root not in resolved.parents:
                raise OutsideLab(STATE_DIR)
        return state

    def path(self, relative: str) -> Path:
        """The file `relative` inside the lab; refused if it (or a symlink on the way) leaves it."""
        if os.path.isabs(relative) or relative.startswith("~"):
            raise OutsideLab(relative)
        candidate = self.root / relative
        try:
            resolved = candidate.resolve()
        except (RuntimeError, OSError):  # a symlink loop
            raise OutsideLab(relative) from None
        if resolved != self.root and self.root not in resolved.parents:
            raise OutsideLab(relative)
        state = self.root / STATE_DIR
        if (resolved == state or state in resolved.parents) and not _own(relative):
            raise IntoState(relative)  # a note kept in lab's cache would go with it
        return candidate

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def _own(relative: str) -> bool:
    """A path of lab's own cache, named as such (not a file led there by a symlink)."""
    return relative == STATE_DIR or relative.startswith(STATE_DIR + "/")
