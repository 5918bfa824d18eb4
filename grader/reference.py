"""The reference solution, loaded from the master notebook into the grader.

The master is instructors' code, so it runs here, in the trusted process, and
tests call it directly. Only the code cells tagged ``solution`` run (the
imports and the reference functions, not the figures); IPython magics and
shell lines are dropped, since plain Python runs them.
"""

from __future__ import annotations

import types
from pathlib import Path

from grader.errors import GraderError
from grader.notebook import read_notebook, tagged_code

SOLUTION_TAG = "solution"


def load_reference(master: Path) -> types.SimpleNamespace:
    """Run the master's solution cells in a fresh namespace and return it."""
    notebook = read_notebook(master)
    namespace: dict[str, object] = {"__name__": "reference"}
    for number, source in enumerate(tagged_code(notebook.node, SOLUTION_TAG), start=1):
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            exec(compile(code, f"<{master.name} solution cell {number}>", "exec"), namespace)
        except Exception as exc:
            raise GraderError(f"the reference solution in {master} fails: {type(exc).__name__}: {exc}") from exc
    return types.SimpleNamespace(**{k: v for k, v in namespace.items() if not k.startswith("_")})
