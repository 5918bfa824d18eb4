"""Finding submissions: student ids from names, zips unpacked safely, one student's bad upload theirs alone."""

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
    everything = find_submissions([tmp_path / "in", tmp_path / "carol.zip", tmp_path / "class.zip",
                                   touch(tmp_path / "fred.ipynb")], tmp_path / "unpacked")
    found = everything.submissions
    assert everything.unusable == []
    assert [s.student for s in found] == ["alice", "bob", "carol", "dan", "erin", "fred"]
    assert found[1].path.name == "assignment.ipynb"
    assert all(s.path.is_file() for s in found)


def test_clashes_escapes_and_bad_zips_are_the_students_alone(tmp_path: Path) -> None:
    touch(tmp_path / "a" / "alice.ipynb")
    touch(tmp_path / "b" / "alice.ipynb")
    touch(tmp_path / "a" / "bob.ipynb")
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../../escaped.ipynb", "{}")
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as zf:
        zf.writestr("notes.txt", "no notebook here")
    found = find_submissions([tmp_path / "a", tmp_path / "b", tmp_path / "evil.zip", tmp_path / "broken.zip",
                              tmp_path / "empty.zip"], tmp_path / "u")
    assert [s.student for s in found.submissions] == ["bob"]
    why = {u.student: u.why for u in found.unusable}
    assert sorted(why) == ["alice", "broken", "empty", "evil"]
    assert why["alice"].startswith("2 notebooks") and str(tmp_path / "b" / "alice.ipynb") in why["alice"]
    assert "a path outside itself" in why["evil"] and "cannot unpack" in why["broken"]
    assert "holds no notebook" in why["empty"]
    assert not (tmp_path.parent / "escaped.ipynb").exists()


def test_refuses_what_names_no_submission(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a notebook, folder or zip"):
        find_submissions([touch(tmp_path / "notes.txt")], tmp_path / "u")
    with pytest.raises(InputError, match="no such file or folder"):
        find_submissions([tmp_path / "typo"], tmp_path / "u")
