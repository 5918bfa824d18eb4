"""Building the student notebook from the master notebook.

The master marks what students must not see:

- solution regions inside code cells, between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` lines (nbgrader's convention), become
  ``raise NotImplementedError`` at the region's indentation;
- Markdown cells tagged ``answer:<id>`` (model answers) keep their tag and get
  an empty answer prompt; cells tagged ``rubric:<id>`` are dropped;
- outputs and execution counts are cleared.

The result depends only on the master, so regenerating it changes no byte.
"""

from __future__ import annotations

import copy
import re

import nbformat

from grader.errors import InputError

BEGIN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
ANSWER_PROMPT = "*在此作答。Write your answer here.*"


class RegionError(InputError, ValueError):
    """A solution region that does not open and close properly (bad input: the command line exits 2)."""


def strip_solutions(source: str) -> str:
    """Replace every solution region of a cell's source by a stub."""
    out: list[str] = []
    indent: str | None = None
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if indent is None and begin:
            indent = begin.group(1)
            out.append(f"{indent}raise NotImplementedError")
        elif indent is not None and END.match(line):
            indent = None
        elif begin or END.match(line):
            raise RegionError(f"unbalanced solution region at: {line.strip()}")
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise RegionError("a solution region is not closed")
    return "\n".join(out)


def student_notebook(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a master notebook."""
    nb = copy.deepcopy(master)
    cells = []
    for number, cell in enumerate(nb.cells, start=1):
        tags = list(cell.get("metadata", {}).get("tags", []))
        if any(t.startswith("rubric:") for t in tags):
            continue
        if cell.cell_type == "code":
            try:
                cell.source = strip_solutions(cell.source)
            except RegionError as exc:
                name = f"cell {number}" + (f" (id {cell['id']})" if cell.get("id") else "")
                raise RegionError(f"{name}: {exc}") from None
            cell.outputs = []
            cell.execution_count = None
        elif any(t.startswith("answer:") for t in tags):
            cell.source = ANSWER_PROMPT
        tags = [t for t in tags if t != "solution"]
        if tags:
            cell.metadata["tags"] = tags
        else:
            cell.metadata.pop("tags", None)
        cells.append(cell)
    nb.cells = cells
    return nb
