"""`lab init`: the layout of seed 004, filled in, written in one transaction. Re-running it
creates what is missing and leaves every existing file exactly as it is."""

from __future__ import annotations

from pathlib import Path

from mllm_lab import kinds
from mllm_lab.core import readinglist
from mllm_lab.errors import BadInput, InvalidValue
from mllm_lab.lab import DEFAULT_NAME, Config, Lab, config_text
from mllm_lab.messages import tr
from mllm_lab.models import (
    CONFIG_FILE,
    LAB_README,
    LANGS,
    NOTES_README,
    PAPERS_README,
    READING_LIST,
)
from mllm_lab.ops.papers import list_entry
from mllm_lab.ops.transaction import Transaction
from mllm_lab.ops.views import lab_context
from mllm_lab.ops.workspace import Outcome, Workspace, today

LAB_FILES = (
    (LAB_README, "lab/README.md.j2"),
    ("CLAUDE.md", "lab/CLAUDE.md.j2"),
    (PAPERS_README, "lab/papers-README.md.j2"),
    (NOTES_README, "lab/notes-README.md.j2"),
    ("resources/awesome-mllm.md", "lab/awesome-mllm.md.j2"),
)
GITIGNORE = (
    "# mllm-lab's index and lock (rebuilt on demand) and its backups: never committed\n"
    ".lab/\n.lab-trash/\n"
)
UNION_MERGED = ("Prompt_log.md", "reviews/quiz-log.jsonl")  # lab's logs, only appended to
GITATTRIBUTES = (  # without it, two clones that each logged a prompt or an answer conflict
    "# lab's logs, only ever appended to: two clones merge them by keeping both sides' lines\n"
    + "".join(f"{log} merge=union\n" for log in UNION_MERGED)
)


def _template_files(lang: str) -> list[tuple[Path, str]]:
    """The default templates of one language, as (source file, lab-relative destination)."""
    base = kinds.default_templates()
    found = []
    for folder in (base / lang, base / "prompts" / lang):
        if folder.is_dir():
            for source in sorted(folder.rglob("*.j2")):
                found.append((source, "templates/" + source.relative_to(base).as_posix()))
    return found


def _create(tx: Transaction, path: str, text: str) -> None:
    if tx.exists(path):
        tx.outcomes.append(Outcome(path, "kept"))
    else:
        tx.create(path, text)


def _gitattributes(tx: Transaction) -> None:
    """The .gitattributes that merges lab's logs; one the repository has is kept as it is
    (a re-run changes no file), and the logs git would not merge so are named."""
    if not tx.exists(".gitattributes"):
        tx.create(".gitattributes", GITATTRIBUTES)
        return
    lacking = " · ".join(
        f"{log} (merge: {said})" for log, said in _not_union_merged(tx.ws.lab.root)
    )
    detail = tr("init.union_lacking", tx.ws.lang, logs=lacking) if lacking else ""
    tx.outcomes.append(Outcome(".gitattributes", "kept", detail))


def _not_union_merged(root: Path) -> list[tuple[str, str]]:
    """lab's logs that git would not merge by keeping both sides' lines, with what `git
    check-attr` says of them (every attributes file git reads, as git reads it). None
    without git or outside a repository: no merge to go wrong yet (a re-run once there is
    one says so), and a reading of the file that is not git's would mislead."""
    import subprocess

    try:
        asked = subprocess.run(
            ["git", "check-attr", "merge", "--", *UNION_MERGED],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if asked.returncode != 0:
        return []
    said = dict(line.rpartition(": merge: ")[::2] for line in asked.stdout.splitlines())
    return [(log, said.get(log, "?")) for log in UNION_MERGED if said.get(log) != "union"]


def _line_of(config: Path, key: str) -> str:
    """`lab.toml:N`, N the line that sets `key` (1 when none does)."""
    try:
        lines = config.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    found = next((n for n, line in enumerate(lines, 1) if line.split("=")[0].strip() == key), 1)
    return f"{CONFIG_FILE}:{found}"


def init_lab(
    path: Path,
    lang: str | None,
    name: str | None = None,
    *,
    nested: bool = False,
    at: str | None = None,
) -> tuple[Lab, list[Outcome]]:
    """Create a lab at `path`, or fill in what an existing one lacks. Inside another lab it is
    refused unless `nested`: the outer lab would scan the inner one's notes as its own. In an
    existing repository, lab's generated regions go into its README files where a reader
    expects them (see regions.insertion_point), or right after the heading `at`. `lang`
    (zh when None) is a new lab's: given for an existing lab of another language, it is
    refused, not ignored."""
    if lang is not None and lang not in LANGS:
        raise InvalidValue("language", lang, LANGS)
    root = path.expanduser().resolve()
    if root.exists() and not root.is_dir():
        raise BadInput("error.not_a_folder", path=str(path))
    outer = next((f for f in root.parents if (f / CONFIG_FILE).is_file()), None)
    if outer is not None and not nested and not (root / CONFIG_FILE).exists():
        raise BadInput("error.nested_lab", path=str(root), outer=str(outer))
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BadInput("error.cannot_create", path=str(path), problem=error.strerror) from None
    exists = (root / CONFIG_FILE).exists()
    if exists:
        lab = Lab.at(root)
    else:  # Config's default language when none is given
        config = Config(name=name or DEFAULT_NAME)
        lab = Lab(root, config if lang is None else config._replace(lang=lang))
    if exists and lang is not None and lang != lab.lang:
        raise BadInput(
            "error.init_lang", path=_line_of(root / CONFIG_FILE, "lang"), lang=lab.lang, given=lang
        )
    ws = Workspace(lab, today())
    with ws.transaction(views=False) as tx:
        _create(tx, CONFIG_FILE, config_text(lab.config))
        for folder in kinds.init_folders():
            if not lab.path(folder).exists():
                tx.create(f"{folder}/.gitkeep", "")
        _create(tx, ".gitignore", GITIGNORE)
        _gitattributes(tx)
        for source, target in _template_files(lab.lang):
            _create(tx, target, source.read_text("utf-8"))
        _starter_reading_list(tx)
        missing = [(target, template) for target, template in LAB_FILES if not tx.exists(target)]
        context = lab_context(ws, tx.data) if missing else {}  # a re-run builds no lab data
        for target, template in LAB_FILES:
            if (target, template) in missing:
                tx.create(target, ws.render(f"{lab.lang}/{template}", context))
            else:
                tx.outcomes.append(Outcome(target, "kept"))
        if not exists:  # adopting a repository; a re-run changes no file it finds
            _place_regions(tx, at)
    return lab, tx.outcomes


def _place_regions(tx: Transaction, at: str | None) -> None:
    """Each generated region a file of the repository lacks, put in place now: no `stale
    view` right after `lab init`, and no block appended after a License section."""
    from mllm_lab.core import regions
    from mllm_lab.core.blocks import blocks
    from mllm_lab.ops.views import VIEWS, body

    ws = tx.ws
    for view in VIEWS:
        text = tx.read(view.path)
        if text is None or regions.find_region(text, view.region, view.path) is not None:
            continue
        made = body(ws, tx.data, view)
        adopted = regions.adopt(
            text=text, name=view.region, bodies=[made], notice=view.notice(ws.lang)
        )
        if adopted != text:  # the repository already holds lab's lines (its markers were lost)
            tx.write(
                view.path, adopted, detail=tr("init.region_placed", ws.lang, region=view.region)
            )
            continue
        where = at if view.path == LAB_README else None
        if where is not None and regions.insertion_point(text, where) is None:
            titles = ", ".join(h.title for h in blocks(text).headings) or "-"
            raise BadInput("error.at_missing", path=view.path, heading=where, headings=titles)
        placed = regions.insert_region(
            text=text,
            name=view.region,
            body=made,
            notice=view.notice(ws.lang),
            at=where,
        )
        tx.write(view.path, placed, detail=tr("init.region_placed", ws.lang, region=view.region))


def _starter_reading_list(tx: Transaction) -> None:
    from mllm_lab.catalog import starter_reading_list  # parses the catalog's YAML

    if tx.exists(READING_LIST):
        tx.outcomes.append(Outcome(READING_LIST, "kept"))
        return
    entries = [list_entry(paper) for paper in starter_reading_list()]
    tx.create(READING_LIST, readinglist.text_of(entries))
