"""Papers and cards in and out of the lab: `lab import bibtex`, `lab export bibtex`,
`lab export anki`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mllm_lab.cli.common import Json, Stage, workspace
from mllm_lab.cli.complete import values
from mllm_lab.messages import tr

ANKI_DEFAULT = "mllm-lab.apkg"


def import_bibtex(
    file: Annotated[
        Path,
        typer.Argument(
            help="A .bib file (Zotero, Better BibTeX, a README's).", autocompletion=values("file")
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what it would do; write nothing.")
    ] = False,
    json_output: Json = False,
) -> None:
    """Add a BibTeX file's papers to the reading list, or fill in papers the lab has.

    A paper is matched by arXiv id, DOI, then title; its citation key is kept as `bibkey`;
    nothing is duplicated or overwritten. Each entry is reported as created, updated or
    skipped, with why.

    Example: lab import bibtex ~/Zotero/mllm.bib --dry-run
    """
    from mllm_lab.cli import output
    from mllm_lab.core.bibtex import Action
    from mllm_lab.ops.exchange import import_bibtex as run_import

    ws = workspace()
    shown = str(file)
    done = run_import(ws, file, shown, dry_run=dry_run)
    for problem in done.problems:
        output.warn(f"{shown}:{problem.line}: {problem.message(ws.lang)}")
    if json_output:
        output.print_json(
            [
                {
                    "line": p.entry.line,
                    "bibkey": p.entry.bibkey,
                    "action": p.action.value,
                    "key": p.key,
                    "changes": list(p.changes),
                    "reason": p.reason,
                    "message": p.message(ws.lang),
                }
                for p in done.plan
            ]
        )
    elif done.plan:
        output.result("\n".join(f"{shown}:{p.entry.line}: {p.message(ws.lang)}" for p in done.plan))
    output.outcomes(done.outcomes)
    summary = tr(
        "bibtex.summary",
        created=done.count(Action.CREATE),
        updated=done.count(Action.UPDATE),
        skipped=done.count(Action.SKIP),
    )
    output.info(f"{summary}{tr('bibtex.dry_run') if dry_run else ''}")


def export_bibtex(
    keys: Annotated[
        list[str] | None,
        typer.Argument(
            help="Papers to cite: key, arXiv id, DOI or title.", autocompletion=values("paper")
        ),
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only papers of this status, e.g. read.",
            autocompletion=values("status"),
        ),
    ] = None,
    stage: Stage = None,
    out: Annotated[
        str | None,  # not a Path, which reads `./-` (a file named -) as `-` (stdout)
        typer.Option(
            "--output",
            "-o",
            metavar="<path>",
            help="Write to this file, not stdout (- is stdout).",
            autocompletion=values("file"),
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file that `lab` did not write.")
    ] = False,
) -> None:
    """BibTeX for the papers you cite (all, or the KEYs, in roadmap order), with each
    paper's own citation key when it has one.

    Example: lab export bibtex --status read -o refs.bib    |    lab export bibtex blip-2 llava
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.exchange import bibtex_export, write_bibtex

    ws = workspace()
    count, text, left_out = bibtex_export(ws, keys=keys or [], status=status, stage=stage)
    for key, problem in left_out:
        output.warn(tr("bibtex.left_out", problem=problem, key=key))
    if not count:
        output.info(tr("bibtex.no_papers"))
        return
    if out is None or out == "-":  # `-o -`: standard output, as most tools read it
        output.result(text)
        return
    write_bibtex(Path(out), out, text, force=force)
    output.info(tr("bibtex.written", n=count, path=str(out)))


def export_anki(
    path: Annotated[
        str,  # not a Path, which reads an empty name as `.`
        typer.Argument(
            metavar="path",
            help=f"The package to write (default: ./{ANKI_DEFAULT}).",
            show_default=False,
            autocompletion=values("file"),
        ),
    ] = ANKI_DEFAULT,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a file that is not an Anki package.")
    ] = False,
) -> None:
    """Write the lab's cards to an Anki package: one deck per roadmap stage, ids that stay
    the same, so importing a newer export updates your cards instead of copying them.

    Example: lab export anki ~/Desktop/mllm.apkg   (then File > Import in Anki)
    """
    from mllm_lab.cli import output
    from mllm_lab.ops.exchange import export_anki as run_export

    ws = workspace()
    shown = path
    exported = run_export(ws, Path(path), shown, force=force)
    if exported is None:
        output.info(tr("quiz.no_cards"))
        return
    if exported.skipped:
        output.warn(tr("anki.skipped", n=len(exported.skipped)))
    lines = [tr("anki.written", n=exported.notes, path=shown)]
    lines += [tr("anki.deck_line", deck=name, n=count) for name, count in exported.decks]
    output.info("\n".join(lines))
