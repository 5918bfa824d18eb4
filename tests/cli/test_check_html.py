"""``grader check --html``: the feedback page with the manifest's figures, from a real worker."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from grader.cli.main import main

from ..conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS

Notebook = Callable[..., Path]

FIGURES = """
[[figures]]
title = "square and halve"
functions = ["square", "halve"]
interval = [-1.0, 1.0]
points = 41
minima = "global"
"""


def check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.fixture
def tiny_with_figures(tmp_path: Path) -> Path:
    """A copy of the tiny assignment whose manifest asks for a figure."""
    root = tmp_path / "tiny"
    shutil.copytree(TINY, root)
    with (root / "assignment.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(FIGURES)
    return root


@pytest.mark.slow
def test_html_page_with_figures_over_the_reference(notebook: Notebook, tiny_with_figures: Path,
                                                   tmp_path: Path) -> None:
    page, data = tmp_path / "out" / "page.html", tmp_path / "out" / "grade.json"
    result = check(str(notebook(TINY_CORRECT)), "--assignment", str(tiny_with_figures),
                   "--solutions", str(TINY_SOLUTIONS), "--html", str(page), "--json", str(data))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 1
    (figure,) = json.loads(data.read_text())["figures"]
    labels = [s["label"] for s in figure["series"]]
    assert labels == ["square (reference)", "square (yours)", "halve (reference)", "halve (yours)"]
    assert figure["series"][0]["y"] == figure["series"][1]["y"]
    assert {m["label"]: round(m["x"], 6) for m in figure["markers"]}["min of square (yours)"] == 0.0
    for label in labels:
        assert f'data-label="{label}"' in html


@pytest.mark.slow
def test_a_hanging_function_costs_one_time_out_and_no_grade(notebook: Notebook, tiny_with_figures: Path,
                                                            tmp_path: Path) -> None:
    cells = [*TINY_CORRECT[:2], "def square(x):\n    while True:\n        pass", TINY_CORRECT[3]]
    page, data = tmp_path / "page.html", tmp_path / "grade.json"
    result = check(str(notebook(cells)), "--assignment", str(tiny_with_figures), "--html", str(page),
                   "--json", str(data))
    assert result.exit_code == 1, result.output
    grade = json.loads(data.read_text())
    (figure,) = grade["figures"]
    assert [s["label"] for s in figure["series"]] == ["halve (yours)"]  # no reference without --solutions
    assert figure["notes"] == ["your square is not drawn: `square` did not return within the call time limit (2 s)"]
    assert grade["score"] == 7  # q1 (4) and halve's 3 points: the figure changed nothing
    assert "your square is not drawn" in page.read_text(encoding="utf-8")


def test_unwritable_html_path_is_an_input_error(notebook: Notebook, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = check(str(notebook(TINY_CORRECT)), "--assignment", str(TINY), "--html", str(blocker / "page.html"))
    assert result.exit_code == 2 and "cannot write" in result.output
