"""``grader gradescope build``: what the autograder zip holds, its scripts, its wheel, and the same bytes twice."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import grader
from grader.cli.main import main

from ..conftest import REPO, TINY, TINY_SOLUTIONS
from .test_check import assert_one_line_error

WHEEL = f"dist/grader-{grader.__version__}-py3-none-any.whl"
TOP = {"setup.sh", "run_autograder", "autograder.json", "requirements.txt", WHEEL}


def build(*args: str) -> Result:
    return CliRunner().invoke(main, ["gradescope", "build", *args], catch_exceptions=False)


def build_tiny(out: Path, assignment: Path = TINY, solutions: Path = TINY_SOLUTIONS) -> zipfile.ZipFile:
    result = build("--solutions", str(solutions), "--assignment", str(assignment), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    return zipfile.ZipFile(out)


def test_tiny_zip_holds_the_suite_the_scripts_and_the_grader(tmp_path: Path) -> None:
    names = set(build_tiny(tmp_path / "autograder.zip").namelist())
    assert names == TOP | {
        "assignments/tiny/assignment.toml",
        "assignments/tiny/tests/test_tiny.py",
        "solutions/tiny/solution.ipynb",
        "solutions/tiny/hidden_tests/test_tiny_hidden.py",
    }


def test_shipped_files_are_the_originals(tmp_path: Path) -> None:
    archive = build_tiny(tmp_path / "autograder.zip")
    assert archive.read("solutions/tiny/hidden_tests/test_tiny_hidden.py") == \
        (TINY_SOLUTIONS / "tiny/hidden_tests/test_tiny_hidden.py").read_bytes()
    assert archive.read("assignments/tiny/assignment.toml") == (TINY / "assignment.toml").read_bytes()
    config = json.loads(archive.read("autograder.json"))
    assert config == {"assignment": "assignments/tiny", "solutions": "solutions",
                      "hidden_visibility": "after_published", "grader_version": grader.__version__}


def test_caches_and_hidden_files_stay_out(tmp_path: Path) -> None:
    assignment, solutions = tmp_path / "tiny", tmp_path / "solutions"
    shutil.copytree(TINY, assignment)
    shutil.copytree(TINY_SOLUTIONS, solutions)
    for folder in (assignment / "tests", solutions / "tiny" / "hidden_tests"):
        (folder / "__pycache__").mkdir(exist_ok=True)
        (folder / "__pycache__" / "test.cpython-311.pyc").write_bytes(b"\0")
        (folder / ".ipynb_checkpoints").mkdir()
        (folder / ".ipynb_checkpoints" / "x.py").write_text("")
        (folder / ".git").mkdir()
        (folder / ".git" / "HEAD").write_text("ref")
        (folder / "stale.pyc").write_bytes(b"\0")
    (assignment / "tiny.ipynb").write_text("{}")  # the student's stub is not part of the suite
    names = set(build_tiny(tmp_path / "a.zip", assignment, solutions).namelist())
    assert names == set(build_tiny(tmp_path / "b.zip").namelist())


def test_same_bytes_when_built_again(tmp_path: Path) -> None:
    first = tmp_path / "one" / "autograder.zip"
    build_tiny(first)
    copy = tmp_path / "copy"  # other paths, other modification times: the same zip
    shutil.copytree(TINY, copy / "tiny")
    shutil.copytree(TINY_SOLUTIONS, copy / "solutions")
    second = tmp_path / "two.zip"
    build_tiny(second, copy / "tiny", copy / "solutions")
    assert first.read_bytes() == second.read_bytes()


def test_fixed_dates_and_permissions(tmp_path: Path) -> None:
    for info in build_tiny(tmp_path / "autograder.zip").infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        mode = info.external_attr >> 16
        assert mode == (0o100755 if info.filename in ("setup.sh", "run_autograder") else 0o100644), info.filename


def test_scripts_are_valid_bash_and_pin_cpu_torch_first(tmp_path: Path) -> None:
    archive = build_tiny(tmp_path / "autograder.zip")
    for script in ("setup.sh", "run_autograder"):
        path = tmp_path / script
        path.write_bytes(archive.read(script))
        proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    setup = archive.read("setup.sh").decode()
    installs = [line for line in setup.splitlines() if re.search(r"\bpip3? install\b", line)]
    assert installs, setup
    assert "torch==2.13.0" in installs[0] and "--index-url https://download.pytorch.org/whl/cpu" in installs[0]
    assert all("torch" not in line for line in installs[1:])
    assert "requirements.txt" in installs[1] and WHEEL in installs[2]
    run = archive.read("run_autograder").decode()
    assert "AUTOGRADER_ROOT:-/autograder" in run and "results.json" in run


def test_wheel_is_the_running_grader(tmp_path: Path) -> None:
    archive = build_tiny(tmp_path / "autograder.zip")
    (tmp_path / "grader.whl").write_bytes(archive.read(WHEEL))
    with zipfile.ZipFile(tmp_path / "grader.whl") as wheel_zip:
        names = set(wheel_zip.namelist())
        package = Path(grader.__file__).parent
        expected = {f"grader/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
        dist_info = f"grader-{grader.__version__}.dist-info"
        assert names == expected | {f"{dist_info}/{n}" for n in ("METADATA", "WHEEL", "RECORD", "entry_points.txt",
                                                                   "top_level.txt")}
        assert wheel_zip.read("grader/cli/main.py") == (package / "cli" / "main.py").read_bytes()
        for line in wheel_zip.read(f"{dist_info}/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if name.endswith("RECORD"):
                continue
            data = wheel_zip.read(name)
            expected_digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected_digest}" and int(size) == len(data), name
        metadata = wheel_zip.read(f"{dist_info}/METADATA").decode()
        assert f"Version: {grader.__version__}" in metadata and "Requires-Dist: torch>=2.2" in metadata
        assert "grader = grader.cli.main:run" in wheel_zip.read(f"{dist_info}/entry_points.txt").decode()
    requirements = archive.read("requirements.txt").decode().split()
    assert "pytest>=8.4" in requirements and not any("extra" in r for r in requirements)


@pytest.mark.slow
def test_wheel_installs_with_pip(tmp_path: Path) -> None:
    """setup.sh's last install, here into a folder: pip accepts the wheel and the command runs from it."""
    archive = build_tiny(tmp_path / "autograder.zip")
    (tmp_path / WHEEL).parent.mkdir()
    (tmp_path / WHEEL).write_bytes(archive.read(WHEEL))
    target = tmp_path / "package"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--target", str(target), str(tmp_path / WHEEL)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (target / "grader" / "gradescope_run.py").is_file()
    proc = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__, grader.__version__)"],
                          capture_output=True, text=True, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(target / "grader" / "__init__.py"), grader.__version__]


def test_optimization_intro_zip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real assignment, found by name from the repository root: its hidden tests and reference, nothing else."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "autograder.zip"
    result = build("--solutions", "solutions", "--out", str(out))  # the solutions folder's only assignment
    assert result.exit_code == 0, result.output
    names = set(zipfile.ZipFile(out).namelist())

    def shipped(folder: Path, prefix: str) -> set[str]:
        return {f"{prefix}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}

    assignment, solutions = REPO / "assignments/optimization_intro", REPO / "solutions/optimization_intro"
    expected = TOP | {"assignments/optimization_intro/assignment.toml"}
    expected |= shipped(assignment / "tests", "assignments/optimization_intro/tests")
    expected |= {"solutions/optimization_intro/solution.ipynb"}  # the master folder's manifest and tests: not needed
    expected |= shipped(solutions / "hidden_tests", "solutions/optimization_intro/hidden_tests")
    assert names == expected
    assert "solutions/optimization_intro/solution.ipynb" in names
    assert "solutions/optimization_intro/hidden_tests/test_q7.py" in names
    assert "assignments/optimization_intro/assignment.ipynb" not in names
    assert not [n for n in names if re.search(r"(^|/)(\.venv|\.git|__pycache__|\.pytest_cache)(/|$)|\.pyc$", n)]


def test_hidden_visibility_option(tmp_path: Path) -> None:
    out = tmp_path / "autograder.zip"
    result = build("--solutions", str(TINY_SOLUTIONS), "--assignment", str(TINY), "--out", str(out),
                   "--hidden-visibility", "after_due_date")
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(out).read("autograder.json"))["hidden_visibility"] == "after_due_date"


# ------------------------------------------------------------------ bad input


def test_solutions_required() -> None:
    result = build()
    assert result.exit_code == 2 and "--solutions" in result.output


def test_assignment_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(build("--solutions", str(TINY_SOLUTIONS), "--out", str(tmp_path / "a.zip")), 2,
                          "assignment 'tiny' not found")
    assert not (tmp_path / "a.zip").exists()


def test_several_assignments_need_the_option(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "solution.ipynb").write_text("{}")
    assert_one_line_error(build("--solutions", str(tmp_path)), 2, "holds 2 assignments' solutions (a, b)")


def test_no_solutions_for_the_assignment(tmp_path: Path) -> None:
    assert_one_line_error(build("--solutions", str(tmp_path), "--assignment", str(TINY)), 2, "no solutions for 'tiny'")


def test_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    assert_one_line_error(build("--solutions", str(TINY_SOLUTIONS), "--assignment", str(TINY), "--out",
                                str(tmp_path / "file" / "a.zip")), 2, "cannot write")
