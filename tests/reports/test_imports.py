"""The report writers import only the model, rich and the standard library."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _modules_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    script = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return set(result.stdout.split())


def test_writers_need_neither_pytest_nor_lxml() -> None:
    modules = _modules_after(
        "import grader.reports.terminal, grader.reports.json_report, "
        "grader.reports.junit, grader.reports.markdown, grader.reports.html, grader.reports.github"
    )
    assert "grader.reports.junit" in modules and "grader.reports.html" in modules
    assert not {"pytest", "_pytest", "lxml", "torch", "matplotlib"} & modules


def test_package_init_imports_no_format() -> None:
    modules = _modules_after("import grader.reports")
    assert not {m for m in modules if m.startswith("grader.reports.")}
    assert "rich" not in modules
