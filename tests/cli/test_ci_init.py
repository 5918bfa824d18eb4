"""``grader ci init``: the generated GitHub workflow and GitLab job, read back with PyYAML, and bad input."""

from __future__ import annotations

import shlex
import shutil
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from grader import ci_workflows
from grader.ci_workflows import TORCH_CPU_INDEX, WorkflowOptions, default_install_spec, render
from grader.cli.main import main
from grader.errors import InputError

from ..conftest import TINY
from .test_check import assert_one_line_error

SPEC = "grader @ git+https://github.com/course/grader@v1"


def init(repo: Path, *args: str, spec: str | None = SPEC) -> Result:
    extra = ["--install-spec", spec] if spec is not None else []
    return CliRunner().invoke(main, ["ci", "init", "--out", str(repo), *extra, *args], catch_exceptions=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A student repository: the tiny assignment's manifest and public tests, and its notebook."""
    root = tmp_path / "student"
    shutil.copytree(TINY, root)
    (root / "tiny.ipynb").write_text("{}")
    return root


def run_lines(step: dict[str, Any]) -> list[list[str]]:
    """The commands of a ``run:`` block as argument lists, as bash would split them."""
    return [shlex.split(line) for line in step["run"].splitlines() if line.strip()]


def github(repo: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((repo / ".github/workflows/grader.yml").read_text())
    return document


def test_github_workflow(repo: Path) -> None:
    result = init(repo)
    assert result.exit_code == 0, result.output
    assert "checks tiny.ipynb" in result.output
    workflow = github(repo)
    # PyYAML reads the key `on` as YAML 1.1's True; GitHub reads it as "on".
    assert set(workflow[True]) == {"push", "pull_request", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["check"]
    assert job["runs-on"] == "ubuntu-latest" and job["defaults"]["run"]["shell"] == "bash"
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[1]["uses"].startswith("actions/setup-python@") and steps[1]["with"]["python-version"] == "3.11"
    torch, grader = run_lines(steps[2])
    assert torch == ["python", "-m", "pip", "install", "torch==2.13.0", "--index-url", TORCH_CPU_INDEX]
    assert grader == ["python", "-m", "pip", "install", SPEC]
    (check,) = run_lines(steps[3])
    assert check == ["grader", "check", "tiny.ipynb", "--annotations", "github", "--junit", "grader-junit.xml",
                     "--summary", "$GITHUB_STEP_SUMMARY"]
    assert '"$GITHUB_STEP_SUMMARY"' in steps[3]["run"]  # quoted for bash
    upload = steps[4]
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["if"] == "always()"
    assert upload["with"]["path"] == "grader-junit.xml"


def test_gitlab_job(repo: Path) -> None:
    result = init(repo, "--provider", "gitlab", "--torch-version", "2.12.1", "--python", "3.12")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    job = config["grader"]
    assert job["image"] == "python:3.12"
    torch, grader, check = (shlex.split(line) for line in job["script"])
    assert torch == ["python", "-m", "pip", "install", "torch==2.12.1", "--index-url", TORCH_CPU_INDEX]
    assert grader == ["python", "-m", "pip", "install", SPEC]
    assert check == ["grader", "check", "tiny.ipynb", "--junit", "grader-junit.xml", "--summary", "grader-summary.md"]
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"] == {"junit": "grader-junit.xml"}
    assert "grader-summary.md" in job["artifacts"]["paths"]


def test_refuses_to_overwrite_without_force(repo: Path) -> None:
    assert init(repo).exit_code == 0
    path = repo / ".github/workflows/grader.yml"
    path.write_text("mine")
    assert_one_line_error(init(repo), 2, "exists; pass --force")
    assert path.read_text() == "mine"
    assert init(repo, "--force").exit_code == 0 and path.read_text() != "mine"


def test_torch_from_the_configured_index(repo: Path) -> None:
    assert init(repo, "--torch-index-url", "").exit_code == 0
    assert run_lines(github(repo)["jobs"]["check"]["steps"][2])[0] == ["python", "-m", "pip", "install",
                                                                       "torch==2.13.0"]


# ------------------------------------------------------------------ which notebook


def test_manifest_names_the_notebook_among_several(repo: Path) -> None:
    (repo / "scratch.ipynb").write_text("{}")
    assert init(repo).exit_code == 0
    assert "tiny.ipynb" in github(repo)["jobs"]["check"]["steps"][3]["run"]


def test_several_notebooks_need_a_choice(repo: Path) -> None:
    (repo / "tiny.ipynb").rename(repo / "a.ipynb")
    (repo / "b.ipynb").write_text("{}")
    assert_one_line_error(init(repo), 2, "several notebooks")
    result = init(repo, "--notebook", str(repo / "b.ipynb"))
    assert result.exit_code == 0, result.output
    assert run_lines(github(repo)["jobs"]["check"]["steps"][3])[0][2] == "b.ipynb"


def test_hidden_folders_are_ignored_and_subfolders_found(tmp_path: Path) -> None:
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "hw-checkpoint.ipynb").write_text("{}")
    (tmp_path / "week 1").mkdir()
    (tmp_path / "week 1" / "it's mine.ipynb").write_text("{}")
    assert init(tmp_path).exit_code == 0
    assert run_lines(github(tmp_path)["jobs"]["check"]["steps"][3])[0][2] == "week 1/it's mine.ipynb"


def test_notebook_relative_to_the_repository(repo: Path) -> None:
    assert init(repo, "--notebook", "tiny.ipynb").exit_code == 0


@pytest.mark.parametrize("setup, args, text", [
    (lambda root: (root / "tiny.ipynb").unlink(), [], "no notebook (.ipynb) found"),
    (lambda root: None, ["--notebook", "nope.ipynb"], "no notebook at nope.ipynb"),
])
def test_missing_notebook(repo: Path, setup: Any, args: list[str], text: str) -> None:
    setup(repo)
    assert_one_line_error(init(repo, *args), 2, text)


def test_notebook_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "other.ipynb").write_text("{}")
    assert_one_line_error(init(repo, "--notebook", str(tmp_path / "other.ipynb")), 2, "not inside the repository")


def test_missing_folder(tmp_path: Path) -> None:
    assert_one_line_error(init(tmp_path / "nope"), 2, "no folder")


# ------------------------------------------------------------------ how CI installs the grader


def test_install_spec_is_required_when_it_cannot_be_guessed(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRADER_INSTALL_SPEC", raising=False)
    monkeypatch.setattr("grader.cli.ci.default_install_spec", lambda: None)
    assert_one_line_error(init(repo, spec=None), 2, "--install-spec")
    monkeypatch.setenv("GRADER_INSTALL_SPEC", "grader==1.2")
    assert init(repo, spec=None).exit_code == 0
    assert run_lines(github(repo)["jobs"]["check"]["steps"][2])[1][-1] == "grader==1.2"


@pytest.mark.parametrize("value", ["a\nrm -rf /", "${{ secrets.TOKEN }}", "x\x1b[31m"])
def test_unsafe_values_are_refused(repo: Path, value: str) -> None:
    assert_one_line_error(init(repo, spec=value), 2, "install-spec")
    assert not (repo / ".github").exists()


def test_shell_and_yaml_quoting_round_trips() -> None:
    nasty = "it's \"$(rm -rf ~)\" `x` #1: a, b & c.ipynb"
    options = WorkflowOptions(notebook=nasty, install_spec="grader @ file:///x y")
    steps = yaml.safe_load(render("github", options))["jobs"]["check"]["steps"]
    assert run_lines(steps[3])[0][2] == nasty
    assert run_lines(steps[2])[1][-1] == "grader @ file:///x y"
    script = yaml.safe_load(render("gitlab", options))["grader"]["script"]
    assert shlex.split(script[2])[2] == nasty


class _Dist:
    def __init__(self, text: str | None) -> None:
        self.text = text

    def read_text(self, name: str) -> str | None:
        return self.text


@pytest.mark.parametrize("direct_url, spec", [
    ('{"url": "https://github.com/c/grader", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}',
     "grader @ git+https://github.com/c/grader@abc123"),
    ('{"url": "https://example.org/grader-1.0.tar.gz", "archive_info": {}}', "grader @ https://example.org/grader-1.0.tar.gz"),
    ('{"url": "file:///home/me/grader", "dir_info": {"editable": true}}', None),
    ('{"url": "https://hg.example.org/g", "vcs_info": {"vcs": "hg", "commit_id": "1"}}', None),
    ("not json", None),
    (None, None),
])
def test_default_install_spec_from_pep_610(monkeypatch: pytest.MonkeyPatch, direct_url: str | None,
                                           spec: str | None) -> None:
    monkeypatch.setattr(ci_workflows.metadata, "distribution", lambda name: _Dist(direct_url))
    assert default_install_spec() == spec


def test_default_install_spec_when_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(ci_workflows.metadata, "distribution", missing)
    assert default_install_spec() is None


def test_options_refuse_empty_values() -> None:
    with pytest.raises(InputError, match="notebook must not be empty"):
        WorkflowOptions(notebook=" ", install_spec="grader")
