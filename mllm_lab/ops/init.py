"""`lab init`: the layout of seed 004, filled in. Re-running it creates what is missing and
leaves every existing file exactly as it is."""

from __future__ import annotations

import shutil
from pathlib import Path

from mllm_lab.errors import BadInput, InvalidValue
from mllm_lab.lab import Config, Lab, config_text
from mllm_lab.models import (
    CATEGORIES,
    CONFIG_FILE,
    LAB_README,
    LANGS,
    NOTES_README,
    PAPERS_README,
    READING_LIST,
)
from mllm_lab.ops.workspace import Outcome, Workspace, today

FOLDERS = (
    *(f"notes/{category}" for category in CATEGORIES),
    "papers",
    "experiments/notebooks",
    "experiments/scripts",
    "weekly-log",
    "resources",
    "reviews",
)
LAB_FILES = (
    (LAB_README, "lab/README.md.j2"),
    ("CLAUDE.md", "lab/CLAUDE.md.j2"),
    (PAPERS_README, "lab/papers-README.md.j2"),
    (NOTES_README, "lab/notes-README.md.j2"),
    ("resources/awesome-mllm.md", "lab/awesome-mllm.md.j2"),
)
GITIGNORE = "# mllm-lab's index and lock: rebuilt on demand, never committed\n.lab/\n"


def _template_files(lang: str) -> list[tuple[Path, str]]:
    """The default templates of one language, as (source file, lab-relative destination)."""
    from mllm_lab.render import default_templates

    base = default_templates()
    found = []
    for folder in (base / lang, base / "prompts" / lang):
        if folder.is_dir():
            for source in sorted(folder.rglob("*.j2")):
                found.append((source, "templates/" + source.relative_to(base).as_posix()))
    return found


def init_lab(path: Path, lang: str, name: str | None = None) -> tuple[Lab, list[Outcome]]:
    if lang not in LANGS:
        raise InvalidValue("language", lang, LANGS)
    root = path.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise BadInput(f"{path}: exists and is not a folder")
    root.mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    config_path = root / CONFIG_FILE
    if config_path.exists():
        lab = Lab.at(root)
        outcomes.append(Outcome(CONFIG_FILE, "kept"))
    else:
        lab = Lab(root, Config(lang=lang, name=name or Config.name))
    ws = Workspace(lab, today())
    if not config_path.exists():
        outcomes.append(ws.write(CONFIG_FILE, config_text(lab.config), exclusive=True))
    for folder in FOLDERS:
        keep = f"{folder}/.gitkeep"
        if not lab.path(folder).exists():
            lab.path(folder).mkdir(parents=True)
            outcomes.append(ws.write(keep, "", exclusive=True))
    outcomes.append(_create(ws, ".gitignore", GITIGNORE))
    for source, target in _template_files(lab.lang):
        if ws.exists(target):
            outcomes.append(Outcome(target, "kept"))
        else:
            ws.lab.path(target).parent.mkdir(parents=True, exist_ok=True)
            outcomes.append(ws.write(target, source.read_text("utf-8"), exclusive=True))
            shutil.copymode(source, ws.lab.path(target))
    outcomes.append(_starter_reading_list(ws))
    from mllm_lab.ops.views import lab_context

    context = lab_context(ws, ws.data())
    for target, template in LAB_FILES:
        if ws.exists(target):
            outcomes.append(Outcome(target, "kept"))
        else:
            outcomes.append(
                ws.write(target, ws.render(f"{lab.lang}/{template}", context), exclusive=True)
            )
    return lab, outcomes


def _create(ws: Workspace, path: str, text: str) -> Outcome:
    return Outcome(path, "kept") if ws.exists(path) else ws.write(path, text, exclusive=True)


def _starter_reading_list(ws: Workspace) -> Outcome:
    from mllm_lab.catalog import starter_reading_list
    from mllm_lab.ops.papers import list_entry, reading_list_text

    if ws.exists(READING_LIST):
        return Outcome(READING_LIST, "kept")
    entries = [list_entry(paper) for paper in starter_reading_list()]
    return ws.write(READING_LIST, reading_list_text(entries), exclusive=True)
