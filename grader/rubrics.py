"""The rubrics of written questions: the master notebook's Markdown cells tagged ``rubric:<id>``.

Rubrics are for the people grading by hand; :mod:`grader.authoring` drops them
from the student notebook. Several cells with the same tag are joined in
notebook order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.notebook import read_notebook

RUBRIC_TAG = "rubric:"


def read_rubrics(master: Path) -> dict[str, str]:
    """Question id -> rubric text (Markdown) of the master notebook at ``master``; InputError if unreadable."""
    node = read_notebook(master, validate=False).node
    rubrics: dict[str, list[str]] = {}
    for cell in node["cells"]:
        if cell.get("cell_type") != "markdown":
            continue
        for tag in _tags(cell):
            if tag.startswith(RUBRIC_TAG):
                rubrics.setdefault(tag[len(RUBRIC_TAG):], []).append(_source(cell))
    return {qid: "\n\n".join(parts) for qid, parts in rubrics.items()}


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)
