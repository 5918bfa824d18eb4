"""``grader check --annotations github``: the guard holds the one-line error too (the graded case is in
test_ci_workflow_run.py)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from grader.cli.main import main

from ..github_runner import acted_on


def test_error_line_is_inside_the_guard(tmp_path: Path) -> None:
    name = tmp_path / "::add-mask::x.ipynb"
    result = CliRunner().invoke(main, ["check", str(name), "--annotations", "github"], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 3 and lines[0].startswith("::stop-commands::")
    token = lines[0].removeprefix("::stop-commands::")
    assert lines[1].startswith("grader: ") and "::add-mask::x.ipynb" in lines[1]
    assert lines[2] == f"::{token}::"
    assert [c.name for c in acted_on(lines)] == ["stop-commands", token]


def test_without_annotations_nothing_is_added(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope.ipynb")], catch_exceptions=False)
    assert result.exit_code == 2 and "::" not in result.output
