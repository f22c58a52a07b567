"""`lab new experiment`: a notebook (and with --script, a script) from the template of the
experiment's kind. Apart from ops.notes, whose imports (the views, the paper lookups) a
notebook does not need: they were a fifth of the command's time on a small lab."""

from __future__ import annotations

from datetime import date
from typing import Any

from mllm_lab.core.experiments import NAMES as EXPERIMENT_KINDS
from mllm_lab.core.experiments import ExperimentKind, infer_kind, kind_named
from mllm_lab.core.slugs import check_slug, slugify, title_of
from mllm_lab.errors import InvalidValue
from mllm_lab.ops.workspace import Created, Workspace


def one_line(text: str) -> str:
    return " ".join(text.split())


def experiment_context(ws: Workspace, title: str, slug: str, created: date) -> dict[str, Any]:
    return {
        "title": one_line(title),
        "slug": slug,
        "today": created.isoformat(),
        "notebook_path": f"experiments/notebooks/{slug}.ipynb",
        "script_path": f"experiments/scripts/{slug}.py",
    }


def experiment_kind(kind: str | None, title: str) -> ExperimentKind:
    """The kind asked for with --kind, else the one the title names, else the skeleton."""
    if kind is None:
        return kind_named(infer_kind(title))
    try:
        return kind_named(kind)
    except ValueError:
        raise InvalidValue("kind", kind, EXPERIMENT_KINDS) from None


def new_experiment(
    ws: Workspace,
    title: str,
    *,
    kind: str | None = None,
    script: bool,
    slug: str | None,
    force: bool,
    dry_run: bool,
) -> Created:
    from mllm_lab.core.notebook import notebook_json  # nbformat: only for notebooks

    title = title_of(title)
    chosen = experiment_kind(kind, title)
    name = check_slug(slug) if slug else slugify(title)
    context = experiment_context(ws=ws, title=title, slug=name, created=ws.today)
    source = ws.render(chosen.template(ws.lang), context)
    meta = {"title": title, "created": ws.today.isoformat(), "slug": name, "kind": chosen.name}
    notebook = notebook_json(source, meta)
    path = context["notebook_path"]
    extra = {context["script_path"]: source} if script else {}
    with ws.transaction(dry_run=dry_run) as tx:
        tx.create(path, notebook, force=force, rename="--slug")
        for other, text in extra.items():
            tx.create(other, text, force=force, rename="--slug")
    return Created(path=path, text=notebook, outcomes=tx.outcomes, extra=extra)
