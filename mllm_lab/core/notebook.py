"""Notebooks from percent-format Python (`# %%` code cells, `# %% [markdown]` cells whose lines
are `# ` comments): one template gives both the .ipynb and the .py script."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from mllm_lab.messages import Msg

_MARKER = re.compile(r"^# %%(?P<rest>.*)$")


def cells(source: str) -> list[tuple[str, str]]:
    """(cell_type, text) pairs; markdown text has its leading `# ` removed."""
    result: list[tuple[str, list[str]]] = []
    for line in source.split("\n"):
        marker = _MARKER.match(line)
        if marker:
            kind = "markdown" if "[markdown]" in marker["rest"] else "code"
            result.append((kind, []))
        elif result:
            result[-1][1].append(line)
    out = []
    for kind, lines in result:
        if kind == "markdown":
            lines = [re.sub(r"^# ?", "", line) if line.startswith("#") else line for line in lines]
        text = "\n".join(lines).strip("\n")
        if text:
            out.append((kind, text))
    return out


def notebook_json(source: str, metadata: Mapping[str, object]) -> str:
    """A v4 notebook, validated against the nbformat schema, as JSON text."""
    import nbformat  # ~100 ms: only for notebooks
    from nbformat import v4

    notebook = v4.new_notebook()
    notebook.metadata.update(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "mllm_lab": metadata,
        }
    )
    for number, (kind, text) in enumerate(cells(source), start=1):
        cell = v4.new_markdown_cell(text) if kind == "markdown" else v4.new_code_cell(text)
        cell.id = f"cell-{number}"  # stable ids: the same template gives the same file
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    result: str = nbformat.writes(notebook)
    return result + "\n"


def notebook_problem(text: str) -> tuple[int, Msg] | None:
    import nbformat  # ~100 ms: only for notebooks

    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("nbformat") != 4:
            return 1, Msg.of("notebook.format")
        nbformat.validate(nbformat.from_dict(data))
    except json.JSONDecodeError as error:
        return error.lineno, Msg.of("file.json", problem=error.msg)
    except nbformat.ValidationError as error:
        return 1, Msg.of("notebook.invalid", problem=" ".join(str(error.message).split()))
    except Exception as error:
        return 1, Msg.of("notebook.invalid", problem=" ".join(str(error).split()))
    return None
