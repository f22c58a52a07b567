"""Notebooks from percent-format Python (`# %%` code cells, `# %% [markdown]` cells whose lines
are `# ` comments): one template gives both the .ipynb and the .py script."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from mllm_lab.messages import Msg
from mllm_lab.patterns import pattern

_MARKER = pattern(r"^# %%(?P<rest>.*)$")


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


NBFORMAT_MINOR = 5  # the v4 minor version nbformat writes


def notebook_json(source: str, metadata: Mapping[str, object]) -> str:
    """A v4 notebook as JSON text, byte for byte what nbformat.writes gives for it (tests
    compare them, and validate it against the nbformat schema), without importing nbformat
    (60 ms of jsonschema): markdown and code cells with stable ids, sources split in lines."""
    notebook_cells: list[dict[str, object]] = []
    for number, (kind, text) in enumerate(cells(source), start=1):
        cell: dict[str, object] = {
            "cell_type": kind,
            "id": f"cell-{number}",  # stable ids: the same template gives the same file
            "metadata": {},
            "source": text.splitlines(True),
        }
        if kind == "code":
            cell |= {"execution_count": None, "outputs": []}
        notebook_cells.append(cell)
    notebook = {
        "cells": notebook_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "mllm_lab": dict(metadata),
        },
        "nbformat": 4,
        "nbformat_minor": NBFORMAT_MINOR,
    }
    text = json.dumps(
        notebook, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False
    )
    return text + "\n"


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
