"""The package's shape: every module imports alone, dependencies point one way, lint is clean."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import grader

from .conftest import REPO

MODULES = sorted(m.name for m in pkgutil.walk_packages(grader.__path__, "grader.") if not m.name.endswith("__main__"))

# What each layer may import from the package (DESIGN.md: notebook -> worker ->
# proxy -> tests -> grade model -> reports; nothing reaches back up).
FORBIDDEN = {
    "grader.model": ["grader."],
    "grader.errors": ["grader."],
    "grader.limits": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading"],
    "grader.codec": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.model"],
    "grader.worker.serve": ["grader.plugin", "grader.grading", "grader.model", "grader.reference", "grader.reports",
                            "grader.assignment", "grader.checks", "grader.specs", "grader.cli"],
    "grader.sandbox.session": ["grader.plugin", "grader.grading", "grader.model", "grader.reference",
                               "grader.reports", "grader.cli"],
    "grader.plugin": ["grader.grading", "grader.reports", "grader.cli", "grader.worker"],
    "grader.grading": ["grader.reports", "grader.cli", "grader.worker"],
    "grader.reports.terminal": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker"],
    "grader.reports.junit": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker"],
    # the gradebook and the exports: above the model, below the CLI, never touching the grading machinery
    "grader.digests": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                       "grader.gradebook", "grader.cli"],
    "grader.gradebook": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                         "grader.cli"],
    "grader.reports.csv_export": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker",
                                  "grader.gradebook", "grader.cli"],
    "grader.reports.review_csv": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker",
                                  "grader.gradebook", "grader.cli"],
    "grader.reports.review_html": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker",
                                   "grader.gradebook", "grader.cli"],
    "grader.reports.gradescope": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker",
                                  "grader.gradebook", "grader.cli"],
    "grader.rubrics": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                       "grader.cli"],
    "grader.written_import": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.cli"],
    "grader.reports.html": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker", "grader.figures"],
    # batch grading: the zygote's two sides stay apart from the grading; the slots sit below the CLI
    "grader.sandbox.zygote": ["grader.plugin", "grader.grading", "grader.reports", "grader.cli", "grader.worker"],
    "grader.worker.zygote": ["grader.plugin", "grader.grading", "grader.model", "grader.reference", "grader.reports",
                             "grader.assignment", "grader.checks", "grader.specs", "grader.cli", "grader.sandbox"],
    "grader.slots": ["grader.reports", "grader.cli"],
    # Dask's pool: the slots on a cluster; below the CLI, and it grades only through grader.slots
    "grader.cluster": ["grader.reports", "grader.cli", "grader.gradebook", "grader.plugin", "grader.grading"],
    "grader.submissions": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                           "grader.cli"],
    "grader.figures": ["grader.grading", "grader.plugin", "grader.reports", "grader.cli", "grader.worker"],
    # Gradescope: the zip is files only (never the grading machinery); the runner grades below the CLI
    "grader.wheel": ["grader.assignment", "grader.sandbox", "grader.worker", "grader.plugin", "grader.grading",
                     "grader.reports", "grader.cli"],
    "grader.gradescope_zip": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading",
                              "grader.reports", "grader.gradebook", "grader.cli"],
    "grader.gradescope_run": ["grader.cli", "grader.worker", "grader.gradebook"],
    # authoring: files in, files out; nothing runs, nothing is graded
    "grader.authoring": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                         "grader.gradebook", "grader.cli"],
    "grader.student_folder": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                              "grader.gradebook", "grader.cli"],
    # CI for student repositories: the files' text from plain options; the annotations from the grade model only
    "grader.ci_workflows": ["grader.sandbox", "grader.worker", "grader.plugin", "grader.grading", "grader.reports",
                            "grader.gradebook", "grader.cli"],
    "grader.reports.github": ["grader.grading", "grader.plugin", "grader.sandbox", "grader.worker", "grader.cli"],
}


def imported_by(module: str) -> list[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout))


@pytest.mark.slow
def test_every_module_imports_alone_in_a_fresh_process() -> None:
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)"
    for module in MODULES:
        proc = subprocess.run([sys.executable, "-c", code, module], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{module}: {proc.stderr[-500:]}"


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_dependencies_point_one_way(module: str) -> None:
    loaded = [m for m in imported_by(module) if m.startswith("grader.") and m != module]
    for prefix in FORBIDDEN[module]:
        bad = [m for m in loaded if m.startswith(prefix) and not module.startswith(m)]
        assert not bad, f"{module} imports {bad}"


@pytest.mark.slow
@pytest.mark.parametrize("module", ["grader.sandbox.launch", "grader.sandbox.zygote", "grader.job", "grader.cli.main",
                                    "grader.cli.assign", "grader.gradebook", "grader.slots", "grader.submissions",
                                    "grader.gradescope_zip", "grader.gradescope_run", "grader.cli.gradescope",
                                    "grader.cli.ci", "grader.ci_workflows", "grader.reports.github"])
def test_light_modules_do_not_import_torch(module: str) -> None:
    """The CLI starts the worker before torch is imported here; these must stay light."""
    loaded = imported_by(module)
    assert "torch" not in loaded and "pytest" not in loaded and "sympy" not in loaded and "nbformat" not in loaded


@pytest.mark.slow
@pytest.mark.parametrize("module", ["grader.cli.main", "grader.cli.grade", "grader.slots"])
def test_dask_is_imported_only_for_dask(module: str) -> None:
    """``distributed`` is an optional dependency: only ``grader grade --dask`` imports it (grader.cluster)."""
    loaded = imported_by(module)
    assert "distributed" not in loaded and "dask" not in loaded


def test_no_module_is_too_long() -> None:
    for path in (REPO / "grader").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 600, path


@pytest.mark.slow
def test_ruff() -> None:
    proc = subprocess.run(["ruff", "check", "grader", "tests", "benchmarks"], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.slow
def test_mypy() -> None:
    proc = subprocess.run(["mypy"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
