"""Browsing what is known: lab catalog (the built-in papers) and lab compare (architecture
facets side by side). Both read only, and work outside a lab too."""

from typing import Annotated, Any

import typer

from mllm_lab.cli.common import Connector, Encoder, Json, Stage
from mllm_lab.cli.complete import values
from mllm_lab.messages import current, tr, words


def open_lab() -> Any:
    """The lab around us, or None outside one (the catalog needs no lab)."""
    from mllm_lab import messages
    from mllm_lab.cli.common import workspace
    from mllm_lab.errors import NotALab

    try:
        return workspace()
    except NotALab:
        messages.use(messages.default_lang())
        return None


def catalog(
    query: Annotated[
        list[str] | None,
        typer.Argument(
            help="Key, arXiv id or words of a title; a paper's key shows its facts.",
            autocompletion=values("catalog_paper"),
        ),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(
            "--topic",
            help="foundation, llm-arch, vision-encoder, multimodal, "
            "training, reasoning-eval or vla.",
            autocompletion=values("topic"),
        ),
    ] = None,
    stage: Stage = None,
    json_output: Json = False,
) -> None:
    """The built-in catalog: its papers, or one paper's facts and architecture.

    Lists key, title, year, venue, topic and stage, with the lab's status of those it has.

    Example: lab catalog --stage 3    |    lab catalog blip-2    |    lab catalog 2304.08485
    """
    from mllm_lab.cli import output
    from mllm_lab.ops import compare as ops

    ws = open_lab()
    lang = current()  # the lab's, or the locale's outside a lab
    view = ops.browse(ws, " ".join(query or ()) or None, topic, stage)
    if json_output:
        chosen = [view.one] if view.one is not None else view.hits
        output.print_json([ops.catalog_record(view, hit) for hit in chosen])
        return
    if view.one is not None:
        paper = view.one.paper
        output.fields(f"{paper.key} · {paper.title}", ops.paper_facts(view, view.one, lang))
        others = view.others()
        if others:
            output.info(tr("catalog.also", keys=", ".join(hit.paper.key for hit in others)))
        return
    if not view.hits:  # an error, as `lab compare` with an unknown paper (exit 1, like grep)
        from mllm_lab.errors import BadInput

        raise BadInput("catalog.none", query=" ".join(query or ()))
    output.table(list(words("catalog.headers")), ops.catalog_rows(view, lang))
    output.info(tr("catalog.count", n=len(view.hits)))


def compare(
    keys: Annotated[
        list[str] | None,
        typer.Argument(
            help="Papers to compare: keys, arXiv ids or titles, in the lab or the "
            "catalog (default: every paper with facets).",
            autocompletion=values("any_paper"),
        ),
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            help="table (terminal) or md (GitHub Markdown to paste).",
            autocompletion=values("format"),
        ),
    ] = "table",
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            help="rows: a row per paper; columns: a column per paper "
            "(default: columns for up to 3 papers).",
            autocompletion=values("layout"),
        ),
    ] = None,
    connector: Connector = None,
    encoder: Encoder = None,
    llm: Annotated[str | None, typer.Option("--llm", help="e.g. Vicuna, Qwen.")] = None,
    resolution: Annotated[
        str | None, typer.Option("--resolution", help="e.g. 336, dynamic.")
    ] = None,
    json_output: Json = False,
) -> None:
    """Architecture facets side by side: vision encoder, connector, LLM, resolution.

    A facet a paper lacks is empty, never guessed. Select by facet with --connector (a term of
    the vocabulary, or a part of one: "mlp"), --encoder, --llm or --resolution (any part).

    Example: lab compare blip-2 llava flamingo    |    lab compare --connector Q-Former --format md
    """
    from mllm_lab.cli import output
    from mllm_lab.core import facets as F
    from mllm_lab.ops import compare as ops

    ws = open_lab()
    lang = current()  # the lab's, or the locale's outside a lab
    chosen = ops.check_format(format_)
    filters = {"connector": connector, "vision_encoder": encoder, "llm": llm}
    found = ops.compare(ws, keys or [], filters | {"resolution": resolution})
    if json_output:
        output.print_json(ops.comparison_records(found))
        return
    if not found.entries:
        output.info(tr("compare.none"))
        return
    table = F.compare(found.entries, ops.layout_for(len(found.entries), layout), lang)
    if chosen == "md":
        output.result(F.markdown_table(table))
    else:
        output.table(list(table.header), [list(row) for row in table.rows])
