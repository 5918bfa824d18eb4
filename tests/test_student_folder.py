"""Building the student folder from the master folder: byte identity, no leaks, the output rule, refusals."""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path

import pytest

from grader.assignment import find_solutions, load_assignment
from grader.errors import InputError
from grader.gradescope_zip import autograder_entries
from grader.student_folder import CACHE_PARTS, build_student_folder, default_out, write_build

from .conftest import REPO, TINY, TINY_SOLUTIONS

# (master notebook, the shipped student folder it builds)
SHIPPED = [
    (REPO / "solutions" / "optimization_intro" / "solution.ipynb", REPO / "assignments" / "optimization_intro"),
    (TINY_SOLUTIONS / "tiny" / "solution.ipynb", TINY),
]
IDS = ["optimization_intro", "tiny"]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (caches left out) and its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not CACHE_PARTS & set(p.relative_to(root).parts) and p.suffix != ".pyc"}


@pytest.fixture
def master(tmp_path: Path) -> Path:
    """A copy of the tiny master folder at ``tmp_path/solutions/tiny``; returns its notebook."""
    folder = tmp_path / "solutions" / "tiny"
    shutil.copytree(TINY_SOLUTIONS / "tiny", folder)
    return folder / "solution.ipynb"


def edit_master(master: Path, cell: int, source: str) -> None:
    nb = json.loads(master.read_text())
    nb["cells"][cell]["source"] = source
    master.write_text(json.dumps(nb))


# ------------------------------------------------------------------ the shipped folders are the masters built


@pytest.mark.parametrize("master_path, shipped", SHIPPED, ids=IDS)
def test_shipped_student_folder_is_the_master_built(master_path: Path, shipped: Path, tmp_path: Path) -> None:
    """Regenerating the shipped student folder changes no byte: every file, none missing, none extra."""
    out = tmp_path / "out"
    write_build(build_student_folder(master_path), out)
    built, expected = tree(out), tree(shipped)
    assert sorted(built) == sorted(expected)
    for rel in expected:
        assert built[rel] == expected[rel], f"{rel} differs from the build of {master_path}"


@pytest.mark.parametrize("master_path, shipped", SHIPPED, ids=IDS)
def test_building_twice_gives_the_same_bytes(master_path: Path, shipped: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    write_build(build_student_folder(master_path), first)
    write_build(build_student_folder(master_path), second)
    assert tree(first) == tree(second)
    again = write_build(build_student_folder(master_path), first)  # over itself: nothing to write
    assert again.written == [] and again.removed == [] and len(again.unchanged) == len(tree(first))


# ------------------------------------------------------------------ nothing secret reaches students


def secrets_of(master_path: Path) -> list[str]:
    """Lines inside solution regions, model answers and rubrics of the master, stripped."""
    secret = []
    for cell in json.loads(master_path.read_text())["cells"]:
        source = "".join(cell["source"])
        tags = cell["metadata"].get("tags", [])
        if cell["cell_type"] == "code":
            inside = False
            for line in source.splitlines():
                if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                    inside = "BEGIN" in line
                elif inside:
                    secret.append(line.strip())
        elif any(t.startswith(("answer:", "rubric:")) for t in tags):
            secret += [line.strip() for line in source.splitlines()]
    return [s for s in secret if s]


def names_of_tests(source: bytes) -> set[str]:
    return {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef) and n.name.startswith("test")}


@pytest.mark.parametrize("master_path, shipped", SHIPPED, ids=IDS)
def test_no_hidden_test_and_no_solution_line_is_built(master_path: Path, shipped: Path) -> None:
    build = build_student_folder(master_path)
    hidden = tree(master_path.parent / "hidden_tests")
    assert hidden, "the example has hidden tests"
    texts = {rel: data.decode() for rel, data in build.files.items()}
    lines = {line.strip() for text in texts.values() for line in text.splitlines()}
    for rel in [r for r in texts if r.endswith(".ipynb")]:  # the notebook's sources, not JSON-escaped
        lines |= {line.strip() for c in json.loads(texts[rel])["cells"] for line in "".join(c["source"]).splitlines()}

    secret = secrets_of(master_path)
    assert secret and not [s for s in secret if s in lines]
    assert "BEGIN SOLUTION" not in "".join(texts.values()) and "rubric:" not in "".join(texts.values())
    assert master_path.read_bytes() not in build.files.values()
    assert [r for r in build.files if r.endswith(".ipynb")] == [load_assignment(shipped).notebook.name]
    assert not set(hidden.values()) & set(build.files.values())
    public_names = set().union(*(names_of_tests(d) for r, d in build.files.items() if r.endswith(".py")))
    hidden_only = set().union(*(names_of_tests(d) for r, d in hidden.items() if r.endswith(".py"))) - public_names
    words = set(re.findall(r"\w+", "".join(texts.values())))
    assert hidden_only and not hidden_only & words


# ------------------------------------------------------------------ where a build may write


def test_default_output_is_assignments_beside_solutions(master: Path, tmp_path: Path) -> None:
    build = build_student_folder(master.parent)  # the master folder works as well as its notebook
    assert default_out(build) == (tmp_path / "assignments" / "tiny").resolve()
    with pytest.raises(InputError, match="pass --out"):
        default_out(build_student_folder(TINY_SOLUTIONS / "tiny" / "solution.ipynb"))


def test_previous_build_is_replaced_and_stray_files_refused_unless_pruned(master: Path, tmp_path: Path) -> None:
    out = tmp_path / "student"
    write_build(build_student_folder(master), out)
    (out / "tiny.ipynb").write_text("edited by hand")
    (out / "tests" / "test_old.py").write_text("def test_old(): pass\n")
    (out / "tests" / "__pycache__").mkdir()
    (out / "tests" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    with pytest.raises(InputError, match=r"does not write: tests/test_old\.py; .*--prune"):
        write_build(build_student_folder(master), out)
    assert (out / "tiny.ipynb").read_text() == "edited by hand"  # a refused build writes nothing
    done = write_build(build_student_folder(master), out, prune=True)
    assert done.written == ["tiny.ipynb"] and done.removed == ["tests/test_old.py"]
    assert tree(out) == tree(TINY)


def test_foreign_or_overlapping_output_is_refused(master: Path, tmp_path: Path) -> None:
    build = build_student_folder(master)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a previous build of 'tiny'"):
        write_build(build, foreign)
    (foreign / "assignment.toml").write_text('name = "other"\n')
    with pytest.raises(InputError, match="not a previous build"):
        write_build(build, foreign)
    for out in (master.parent, master.parent / "student", master.parent.parent):
        with pytest.raises(InputError, match="overlaps the master folder"):
            write_build(build, out)
    (tmp_path / "file").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        write_build(build, tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert sorted(write_build(build, empty).written) == sorted(tree(TINY))


# ------------------------------------------------------------------ masters that are refused


def test_missing_master_or_manifest(master: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no master notebook"):
        build_student_folder(tmp_path / "nope.ipynb")
    (master.parent / "assignment.toml").unlink()
    with pytest.raises(InputError, match="no manifest"):
        build_student_folder(master)


def test_unbalanced_region_names_the_cell(master: Path) -> None:
    edit_master(master, 2, "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n")
    with pytest.raises(InputError, match=r"cell 3 \(id cell-2\): a solution region is not closed"):
        build_student_folder(master)


@pytest.mark.parametrize("manifest, text", [
    ('name = "other"\n', "master folder is 'tiny'"),
    ('name = "tiny"\nnotebook = "../tiny.ipynb"\n', "'notebook' must be a file name"),
    ('name = "tiny"\ntests = "hidden_tests"\n', "overlaps hidden_tests/"),
    ('name = "tiny"\ntests = "../tiny/hidden_tests"\n', "must be a folder inside the master folder"),
    ('name = "tiny"\ntests = "missing"\n', "no public tests"),
    ('name = \n', "not valid TOML"),
    # What the grader refuses when a student checks: refused before the folder goes out.
    ('name = "tiny"\nnotebook = "tiny.ipynb"\n[questions.q1]\npoints = "10"\n', "needs a non-negative 'points'"),
    ('name = "tiny"\nnotebook = "tiny.ipynb"\n[questions.q1]\npoints = 1e400\n', "needs a non-negative 'points'"),
    ('name = "tiny"\nnotebook = "tiny.ipynb"\n[limits]\nmemory = "lots"\n', "limit 'memory'"),
])
def test_bad_manifest(master: Path, manifest: str, text: str) -> None:
    (master.parent / "assignment.toml").write_text(manifest)
    with pytest.raises(InputError, match=text):
        build_student_folder(master)


def test_master_of_another_assignment(master: Path) -> None:
    nb = json.loads(master.read_text())
    nb["metadata"]["grader"]["assignment"] = "other"
    master.write_text(json.dumps(nb))
    with pytest.raises(InputError, match="says it is assignment 'other'"):
        build_student_folder(master)


def test_hidden_tests_in_the_public_folder_are_refused(master: Path) -> None:
    folder = master.parent
    hidden = folder / "hidden_tests" / "test_tiny_hidden.py"
    shutil.copy(hidden, folder / "tests" / "test_copy.py")
    with pytest.raises(InputError, match=r"test_copy\.py is a copy of hidden_tests/test_tiny_hidden\.py"):
        build_student_folder(master)
    # one hidden test pasted among public ones, reformatted and redecorated: still found
    (folder / "tests" / "test_copy.py").write_text(
        "import pytest\n\n@pytest.mark.question('q1')\ndef test_add_negative(submission, reference):\n"
        "    assert submission.add(-7, 3) == reference.add( -7, 3 )\n")
    with pytest.raises(InputError, match=r"test_copy\.py::test_add_negative is the hidden test"):
        build_student_folder(master)
    (folder / "tests" / "test_copy.py").unlink()
    shutil.copy(master, folder / "tests" / "data.ipynb")
    with pytest.raises(InputError, match=r"is a copy of solution\.ipynb"):
        build_student_folder(master)
    (folder / "tests" / "data.ipynb").unlink()
    (folder / "tests" / "link.py").symlink_to(hidden)
    with pytest.raises(InputError, match="symbolic link"):
        build_student_folder(master)


@pytest.mark.parametrize("folder", ["tests", "hidden_tests"])
def test_a_test_that_is_not_python_is_refused(master: Path, folder: str) -> None:
    """A syntax error in a shipped test failed every student's check; assign and gradescope build said 'ok'."""
    broken = master.parent / folder / "test_broken.py"
    broken.write_text("def test_x(:\n    pass\n")
    with pytest.raises(InputError, match=r"test_broken.py:1: .*the tests must be valid Python"):
        build_student_folder(master)
    assignment = load_assignment(master.parent)
    with pytest.raises(InputError, match="the tests must be valid Python"):
        autograder_entries(assignment, find_solutions(master.parent.parent, assignment))
