"""Finding submissions: student ids from names, zips unpacked safely, clashes refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.errors import InputError
from grader.submissions import find_submissions


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_ids_from_files_folders_and_zips(tmp_path: Path) -> None:
    touch(tmp_path / "in" / "alice.ipynb")
    touch(tmp_path / "in" / "bob" / "optimization_intro" / "assignment.ipynb")
    touch(tmp_path / "in" / "bob" / ".ipynb_checkpoints" / "assignment-checkpoint.ipynb")
    touch(tmp_path / "in" / ".hidden" / "x.ipynb")
    single = touch(tmp_path / "carol-nb.ipynb")
    with zipfile.ZipFile(tmp_path / "carol.zip", "w") as zf:
        zf.write(single, "work/assignment.ipynb")
    with zipfile.ZipFile(tmp_path / "class.zip", "w") as zf:
        zf.write(single, "dan/assignment.ipynb")
        zf.write(single, "erin/assignment.ipynb")
    found = find_submissions([tmp_path / "in", tmp_path / "carol.zip", tmp_path / "class.zip",
                              touch(tmp_path / "fred.ipynb")], tmp_path / "unpacked")
    assert [s.student for s in found] == ["alice", "bob", "carol", "dan", "erin", "fred"]
    assert found[1].path.name == "assignment.ipynb"
    assert all(s.path.is_file() for s in found)


def test_refuses_clashes_escapes_and_strangers(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "alice.ipynb")
    touch(tmp_path / "b" / "alice.ipynb")
    with pytest.raises(InputError, match="two notebooks for student 'alice'"):
        find_submissions([tmp_path / "a", tmp_path / "b"], tmp_path / "u")
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../../escaped.ipynb", "{}")
    with pytest.raises(InputError, match="a path outside itself"):
        find_submissions([tmp_path / "evil.zip"], tmp_path / "u")
    assert not (tmp_path.parent / "escaped.ipynb").exists()
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with pytest.raises(InputError, match="cannot unpack"):
        find_submissions([tmp_path / "broken.zip"], tmp_path / "u")
    with pytest.raises(InputError, match="not a notebook, folder or zip"):
        find_submissions([touch(tmp_path / "notes.txt")], tmp_path / "u")
