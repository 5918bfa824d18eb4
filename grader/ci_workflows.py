"""CI configuration for student repositories: a GitHub Actions workflow or a GitLab CI job that runs ``grader check``.

Pure functions: :func:`render` turns :class:`WorkflowOptions` into the text of
the file, :func:`find_notebook` picks the notebook of a repository,
:func:`default_install_spec` says how the running grader was installed. The
command line (:mod:`grader.cli.ci`) writes the file.

Both variants install torch first, pinned, from PyTorch's CPU-only index: on
Linux the torch wheels of PyPI depend on CUDA libraries (gigabytes); the CPU
index has the ``+cpu`` builds (about 200 MB), which ``torch==2.13.0`` matches.
The grader comes second and finds torch already satisfied. Then ``grader check``
writes JUnit XML and a Markdown summary; on GitHub it also prints annotations
with the rest of its output guarded (see :mod:`grader.reports.github`). A job
with a failing test fails (the check exits 1): a red mark is the signal a
student acts on, and ``grader grade`` does the grading anyway.

Every value put into a file is quoted for the shell (:func:`shlex.quote`) and
for YAML (JSON strings are YAML double-quoted scalars); values holding line
breaks or control characters, or GitHub's ``${{`` expressions, are refused.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Literal

import grader
from grader.errors import InputError

Provider = Literal["github", "gitlab"]

PATHS: dict[Provider, PurePosixPath] = {
    "github": PurePosixPath(".github/workflows/grader.yml"),
    "gitlab": PurePosixPath(".gitlab-ci.yml"),
}
"""Where each provider reads its configuration, relative to the repository root."""

TORCH_VERSION = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYTHON_VERSION = "3.11"
JUNIT_FILE = "grader-junit.xml"
SUMMARY_FILE = "grader-summary.md"
"""The GitLab job's Markdown summary (an artifact; GitHub's goes to ``$GITHUB_STEP_SUMMARY``)."""

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages"}


@dataclass(frozen=True)
class WorkflowOptions:
    """What a generated CI file does: which notebook it checks and how it installs the grader."""

    notebook: str
    install_spec: str
    torch_version: str = TORCH_VERSION
    torch_index_url: str = TORCH_CPU_INDEX
    python_version: str = PYTHON_VERSION

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if _UNSAFE.search(value) or "${{" in value:
                raise InputError(f"{name.replace('_', '-')} {value!r} holds a line break, a control character "
                                 "or '${{', which a CI file cannot carry safely")
        for name in ("notebook", "install_spec", "torch_version", "python_version"):
            if not getattr(self, name).strip():
                raise InputError(f"{name.replace('_', '-')} must not be empty")


def render(provider: Provider, options: WorkflowOptions) -> str:
    """The CI file of ``provider`` for ``options``."""
    return _github(options) if provider == "github" else _gitlab(options)


def install_commands(options: WorkflowOptions) -> list[str]:
    """The shell commands that install torch (pinned, CPU build) and then the grader."""
    torch = f"python -m pip install {shlex.quote('torch==' + options.torch_version)}"
    if options.torch_index_url:
        torch += f" --index-url {shlex.quote(options.torch_index_url)}"
    return [torch, f"python -m pip install {shlex.quote(options.install_spec)}"]


def check_command(provider: Provider, options: WorkflowOptions) -> str:
    """The shell command that checks the notebook and writes the reports."""
    command = f"grader check {shlex.quote(options.notebook)}"
    if provider == "github":
        return f'{command} --annotations github --junit {JUNIT_FILE} --summary "$GITHUB_STEP_SUMMARY"'
    return f"{command} --junit {JUNIT_FILE} --summary {SUMMARY_FILE}"


def _header(options: WorkflowOptions) -> list[str]:
    """The comment that opens a generated file."""
    return [
        f"# Written by `grader ci init` (grader {grader.__version__}): checks {options.notebook} on every push.",
        "# Feedback only: the public tests run here; the hidden tests stay with the instructor, who grades",
        "# the commit pushed by the deadline with `grader grade`. A failing test fails the job.",
    ]


def _github(options: WorkflowOptions) -> str:
    """A GitHub Actions workflow."""
    install = "\n".join(f"          {line}" for line in install_commands(options))
    return "\n".join([
        *_header(options),
        "name: grader",
        "",
        "on:",
        "  push:",
        "  pull_request:",
        "  workflow_dispatch:",
        "",
        "# The job only reads the repository: a token that can write nothing.",
        "permissions:",
        "  contents: read",
        "",
        "jobs:",
        "  check:",
        "    runs-on: ubuntu-latest",
        "    timeout-minutes: 30",
        "    defaults:",
        "      run:",
        "        shell: bash",
        "    steps:",
        "      - uses: actions/checkout@v4",
        "      - uses: actions/setup-python@v5",
        "        with:",
        f"          python-version: {json.dumps(options.python_version)}",
        "      - name: Install torch (CPU build, pinned) and the grader",
        "        run: |",
        install,
        "      - name: Check the notebook",
        "        run: |",
        f"          {check_command('github', options)}",
        "      - name: Keep the JUnit report",
        "        if: always()",
        "        uses: actions/upload-artifact@v4",
        "        with:",
        "          name: grader-junit",
        f"          path: {JUNIT_FILE}",
        "          if-no-files-found: ignore",
        "",
    ])


def _gitlab(options: WorkflowOptions) -> str:
    """A GitLab CI configuration with one job."""
    script = [*install_commands(options), check_command("gitlab", options)]
    return "\n".join([
        *_header(options),
        "grader:",
        f"  image: {json.dumps('python:' + options.python_version)}",
        "  timeout: 30 minutes",
        "  variables:",
        '    PIP_DISABLE_PIP_VERSION_CHECK: "1"',
        "  script:",
        *(f"    - {json.dumps(line)}" for line in script),
        "  artifacts:",
        "    when: always",
        "    paths:",
        f"      - {JUNIT_FILE}",
        f"      - {SUMMARY_FILE}",
        "    reports:",
        f"      junit: {JUNIT_FILE}",
        "",
    ])


def find_notebook(root: Path, manifest_notebook: Path | None = None) -> str:
    """The notebook under ``root`` to check, as a POSIX path relative to ``root``.

    The only ``.ipynb`` file outside hidden folders (``.git``,
    ``.ipynb_checkpoints``, a ``.venv``); among several, the assignment
    manifest's notebook when ``manifest_notebook`` names one of them.
    """
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]  # never walked into
        found += [(Path(folder) / name).relative_to(root) for name in files
                  if name.endswith(".ipynb") and not name.startswith(".")]
    found.sort()
    if not found:
        raise InputError(f"no notebook (.ipynb) found in {root}; pass --notebook PATH")
    if len(found) == 1:
        return found[0].as_posix()
    if manifest_notebook is not None:
        named = [p for p in found if p.name == manifest_notebook.name]
        if len(named) == 1:
            return named[0].as_posix()
    listed = ", ".join(p.as_posix() for p in found[:5]) + (", ..." if len(found) > 5 else "")
    raise InputError(f"several notebooks in {root} ({listed}); pass --notebook PATH")


def relative_notebook(root: Path, notebook: Path) -> str:
    """``notebook`` (relative to ``root`` or the current folder, or absolute) as a POSIX path relative to ``root``."""
    if not notebook.is_absolute() and (root / notebook).is_file():
        notebook = root / notebook
    if not notebook.is_file():
        raise InputError(f"no notebook at {notebook}")
    try:
        return notebook.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise InputError(f"the notebook {notebook} is not inside the repository {root}") from None


def default_install_spec() -> str | None:
    """How the running grader was installed, as a requirement CI can install, or None.

    Read from the distribution's ``direct_url.json`` (PEP 610): a grader
    installed from a Git repository gives ``grader @ git+URL@COMMIT`` (the exact
    commit the instructor runs), one from an archive URL gives that URL. One
    installed from a local folder, from an index, or not installed at all
    gives None: CI could not reach the first, and an index is for the
    instructor to name.
    """
    try:
        text = metadata.distribution("grader").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        origin = json.loads(text)
        url = str(origin["url"])
    except (ValueError, KeyError, TypeError):
        return None
    if not url.startswith(("https://", "http://", "ssh://", "git@")):
        return None
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict):
        if vcs.get("vcs") != "git":
            return None
        commit = vcs.get("commit_id") or vcs.get("requested_revision")
        return f"grader @ git+{url}" + (f"@{commit}" if commit else "")
    return f"grader @ {url}"
