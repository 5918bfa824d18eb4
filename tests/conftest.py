"""Shared helpers of the project's tests: tiny notebooks written on the fly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import nbformat
import pytest

DATA = Path(__file__).parent / "data"
TINY = DATA / "tiny"
TINY_SOLUTIONS = DATA / "tiny_solutions"
REPO = Path(__file__).parent.parent

TINY_CORRECT = [
    "import torch",
    "def add(a, b):\n    return a + b",
    "def square(x):\n    return x * x",
    "def halve(x):\n    return x / 2",
]


def write_notebook(path: Path, cells: Sequence[str], assignment: str | None = "tiny",
                   answers: dict[str, str] | None = None) -> Path:
    """Write a notebook with these code cells (and tagged answer cells) to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    for qid, text in (answers or {}).items():
        cell = nbformat.v4.new_markdown_cell(text)
        cell.metadata["tags"] = [f"answer:{qid}"]
        nb.cells.append(cell)
    if assignment is not None:
        nb.metadata["grader"] = {"assignment": assignment}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook(tmp_path: Path) -> Callable[..., Path]:
    """A factory: ``notebook(cells, name="nb.ipynb", ...)`` writes a tiny-assignment notebook."""

    def make(cells: Sequence[str], name: str = "submission.ipynb", **kwargs: object) -> Path:
        return write_notebook(tmp_path / name, cells, **kwargs)  # type: ignore[arg-type]

    return make
pytest_plugins = ["pytester"]
