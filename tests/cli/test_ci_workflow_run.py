"""The generated GitHub workflow, run as a runner runs it (a fresh venv, its ``run:`` commands in order, in
bash), then the GitLab job's script in the same environment.

What stands in for the runner: ``actions/checkout`` is the student repository
as the working folder; ``actions/setup-python`` a fresh ``python -m venv``
first on ``PATH``; ``actions/upload-artifact`` a check that its file exists.
The ``run:`` blocks are executed unchanged, each as
``bash --noprofile --norc -eo pipefail`` (the workflow says ``shell: bash``)
with the variables a runner sets. What a CI admin may set is left as this
machine has it: pip's configuration, whose find-links hold the torch CPU wheel,
so the workflow's ``--index-url`` of PyTorch's CPU builds, unreachable here,
is passed over. The grader is installed from a copy of this checkout, given
as the install spec, as an instructor would give a Git URL.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from lxml import etree

from grader.cli.main import main

from ..conftest import REPO, TINY, write_notebook
from ..github_runner import acted_on

XSD = REPO / "tests" / "data" / "junit.xsd"

HOSTILE_CELLS = [
    "import torch",
    "def add(a, b):\n    return a + b",                                    # q1 passes
    "print('::add-mask::hidden')\nprint('::error::forged from a print')",   # output never reaches the log
    "raise RuntimeError('::set-env name=PATH::/tmp/evil\\n::error title=q2::100 / 100\\n##[set-output name=s]10')",
    "import secrets\n"
    "def square(x):\n"
    "    guesses = ['::' + secrets.token_hex(16) + '::' for _ in range(200)]\n"
    "    raise ValueError('\\n'.join(['::stop-commands::mine', *guesses, '::mine::', '::error::forged', "
    "'  ::add-mask::x', '%0A::warning::escaped?']))",
    "def halve(x):\n    return x / 3  # wrong",
]


def _step_script(step: dict[str, Any]) -> str:
    return str(step["run"])


def _runner_env(workspace: Path, venv: Path, runner: Path) -> dict[str, str]:
    """The environment of a step: this machine's, a venv first on PATH, and what a runner sets."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    files = {name: runner / name.lower() for name in ("GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_OUTPUT",
                                                      "GITHUB_PATH", "GITHUB_STATE")}
    for path in files.values():
        path.touch()
    env.update({name: str(path) for name, path in files.items()})
    env.update({
        "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace), "GITHUB_WORKFLOW": "grader",
        "GITHUB_JOB": "check", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": "0" * 40, "GITHUB_REPOSITORY": "course/alice", "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64", "RUNNER_TEMP": str(runner / "temp"), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    })
    (runner / "temp").mkdir(exist_ok=True)
    return env


@pytest.mark.slow
def test_github_workflow_runs_as_on_a_runner(tmp_path: Path) -> None:
    started = time.monotonic()
    workspace = tmp_path / "alice"
    shutil.copytree(TINY, workspace)
    write_notebook(workspace / "tiny.ipynb", HOSTILE_CELLS)
    source = tmp_path / "grader-src"  # a copy: building a wheel writes build/ beside the sources
    shutil.copytree(REPO / "grader", source / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)

    result = CliRunner().invoke(main, ["ci", "init", "--out", str(workspace), "--install-spec", str(source)])
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((workspace / ".github/workflows/grader.yml").read_text())
    job = workflow["jobs"]["check"]
    assert job["defaults"]["run"]["shell"] == "bash"

    runner = tmp_path / "runner"
    runner.mkdir()
    venv = runner / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)  # actions/setup-python
    env = _runner_env(workspace, venv, runner)

    logs: list[tuple[str, int, str]] = []
    durations: list[str] = []
    for index, step in enumerate(job["steps"]):
        if "run" not in step:
            continue
        assert not logs or logs[-1][1] == 0 or step.get("if") == "always()", "a step after a failure ran"
        script = runner / f"step{index}.sh"
        script.write_text(_step_script(step))
        step_started = time.monotonic()
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
        logs.append((step["name"], proc.returncode, proc.stdout))
        durations.append(f"{step['name']}: {time.monotonic() - step_started:.0f} s")
    (_, install_code, install_log), (_, check_code, check_log) = logs
    assert install_code == 0, install_log[-3000:]

    # torch is the CPU build, and nothing of CUDA came with it.
    torch_version = subprocess.run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__)"],
                                   capture_output=True, text=True, check=True).stdout.strip()
    assert torch_version == "2.13.0+cpu"
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                               capture_output=True, text=True, check=True, env=env).stdout
    assert not re.search(r"^nvidia-", installed, re.MULTILINE), installed

    # The job fails: q2's tests fail (exit 1), not an error of the grader (2 or 3).
    assert check_code == 1, check_log[-3000:]
    assert "Traceback" not in check_log

    # What the runner acts on: the guard, then only the grader's own annotations.
    acted = acted_on(check_log.splitlines())
    assert acted[0].name == "stop-commands" and re.fullmatch("[0-9a-f]{32}", acted[0].data)
    assert acted[1].name == acted[0].data
    assert [(c.name, c.properties.get("title")) for c in acted[2:]] == [
        ("error", "Question q2: 0 / 6 points"),
        ("warning", "Errors in notebook cells"),
        ("notice", "Score 4 / 10"),
    ]
    error, warning, notice = acted[2:]
    assert error.properties["file"] == "tiny.ipynb"
    assert "test_square" in error.data.splitlines()[0] and "::stop-commands::mine" in error.data
    assert "Hint: square(x) = x * x, elementwise" in error.data
    assert warning.data.startswith("cell 4: RuntimeError: ::set-env name=PATH::/tmp/evil")
    assert "public tests only" in notice.data
    # The student's text did reach the log, inside the guard, where the runner ignored it.
    lines = check_log.splitlines()
    start, end = lines.index(f"::stop-commands::{acted[0].data}"), lines.index(f"::{acted[0].data}::")
    assert start == 0 and any("::stop-commands::mine" in line for line in lines[start:end])
    assert "forged from a print" not in check_log

    # The job summary and the JUnit report.
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary.startswith("## tiny: 4 / 10")
    assert "| q1 | 4 | 4 | ✅ passed |" in summary and "| q2 | 0 | 6 | ❌ failed |" in summary
    assert "only the public tests ran here" in summary
    junit = workspace / "grader-junit.xml"  # what actions/upload-artifact keeps
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    document = etree.parse(str(junit))
    assert schema.validate(document), schema.error_log
    root = document.getroot()
    assert root.get("tests") == "6" and root.get("failures") == "2" and root.get("errors") == "1"

    print(f"\nworkflow run: {time.monotonic() - started:.0f} s ({'; '.join(durations)})")

    # The GitLab job in the same image (the venv above): its script lines in order, as the runner does,
    # stopping at the first that fails; JUnit and the summary kept as artifacts.
    result = CliRunner().invoke(main, ["ci", "init", "--provider", "gitlab", "--out", str(workspace),
                                       "--install-spec", str(source)])
    assert result.exit_code == 0, result.output
    gitlab = yaml.safe_load((workspace / ".gitlab-ci.yml").read_text())["grader"]
    (workspace / "grader-junit.xml").unlink()
    gitlab_env = {**{k: v for k, v in env.items() if not k.startswith("GITHUB_")}, "GITLAB_CI": "true",
                  "CI_PROJECT_DIR": str(workspace), **gitlab.get("variables", {})}
    codes = []
    for line in gitlab["script"]:
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", line], cwd=workspace,
                              env=gitlab_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200)
        codes.append(proc.returncode)
        if proc.returncode:
            break
    assert codes == [0, 0, 1], proc.stdout[-3000:]  # installs, then the check fails the job (q2)
    assert not re.search(r"^::stop-commands::[0-9a-f]{32}$", proc.stdout, re.MULTILINE)  # no GitHub guard here
    for artifact in gitlab["artifacts"]["paths"]:
        assert (workspace / artifact).stat().st_size > 0, artifact
    report = etree.parse(str(workspace / gitlab["artifacts"]["reports"]["junit"]))
    assert schema.validate(report), schema.error_log
    assert report.getroot().get("failures") == "2"
