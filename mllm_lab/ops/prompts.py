"""`lab prompt KIND [TARGET]`: the seed's six prompts with every placeholder filled from the
lab (the paper's facts, related notes, the week's work, the note list), logged in Prompt_log.md."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mllm_lab.errors import InvalidValue
from mllm_lab.messages import tr

if TYPE_CHECKING:
    from mllm_lab.models import Week
    from mllm_lab.ops.workspace import Workspace

# The prompt's facts are gathered in ops.prompt_context, imported only to make a prompt: one
# kept in the result cache (and its log line) needs none of the core.

KINDS = ("init", "paper", "concept", "experiment", "weekly", "review")
PROMPT_LOG = "Prompt_log.md"


def render_prompt(
    ws: Workspace,
    kind: str,
    target: str | None,
    *,
    week: Week | None = None,
    category: str | None = None,
) -> str:
    """The prompt's text; kept while nothing it is made from changed (the lab's files and
    templates, today, the options)."""
    if kind not in KINDS:
        raise InvalidValue("prompt", kind, KINDS)
    options = [kind, target, week.name if week else None, category, ws.templates_stamp()]
    text: str = ws.cached(
        "prompt", lambda: _render(ws, kind, target, week=week, category=category), *options
    )
    return text


def _render(
    ws: Workspace, kind: str, target: str | None, *, week: Week | None, category: str | None
) -> str:
    from mllm_lab.ops.prompt_context import render

    return render(ws, kind, target, week=week, category=category)


def log_prompt(ws: Workspace, kind: str, target: str | None) -> None:
    """Append one row (time, kind, target) to Prompt_log.md, creating it if needed."""
    from mllm_lab.core.markdown import escape_cell

    with ws.transaction(views=False) as tx:
        old = tx.read(PROMPT_LOG) or tr("prompt.log_header", ws.lang)
        if old and not old.endswith("\n"):
            old += "\n"
        stamp = datetime.now().strftime("%H:%M")
        row = f"| {ws.today.isoformat()} {stamp} | {kind} | {escape_cell(target or '')} |\n"
        tx.write(PROMPT_LOG, old + row)
