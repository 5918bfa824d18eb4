"""Finding submissions: student ids from names, zips unpacked safely, one student's bad upload theirs alone."""

from __future__ import annotations

import os
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


def test_zips_that_cannot_be_read_are_the_students_alone(tmp_path: Path) -> None:
    """An encrypted zip and one whose name claims UTF-8 but is not raised out of the whole run (exit 3)."""
    encrypted = tmp_path / "jack.zip"
    with zipfile.ZipFile(encrypted, "w") as zf:
        zf.writestr("a.ipynb", "{}")
    data = bytearray(encrypted.read_bytes())
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # set the "encrypted" flag in both headers
        at = data.find(header)
        flag = at + (6 if header == b"PK\x03\x04" else 8)
        data[flag] |= 1
    encrypted.write_bytes(bytes(data))
    mislabelled = tmp_path / "kim.zip"
    with zipfile.ZipFile(mislabelled, "w") as zf:
        zf.writestr(zipfile.ZipInfo("Müll.ipynb"), "{}")  # not ASCII: flagged "the name is UTF-8"
    mislabelled.write_bytes(mislabelled.read_bytes().replace("Müll".encode(), b"M\xfc\xfcll"))  # and now it is not
    found = find_submissions([encrypted, mislabelled, touch(tmp_path / "gina.ipynb")], tmp_path / "u")
    assert [s.student for s in found.submissions] == ["gina"]
    why = {u.student: u.why for u in found.unusable}
    assert sorted(why) == ["jack", "kim"] and all(w.startswith("cannot unpack") for w in why.values()), why


def test_a_name_that_is_not_utf8_reads_as_latin1(tmp_path: Path) -> None:
    """An old unzip leaves an LMS's Latin-1 names as bytes; they made every line about the student fail to print."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / os.fsdecode(b"M\xfcller.ipynb")).write_text("{}")
    (found,) = find_submissions([folder], tmp_path / "u").submissions
    assert found.student == "Müller" and found.path.is_file()


def test_zips_in_a_folder_are_read_and_read_afresh(tmp_path: Path) -> None:
    """A folder of uploads: zips in it were skipped without a word; a resubmitted zip's old files stayed."""
    single = touch(tmp_path / "nb.ipynb")
    folder = tmp_path / "in"
    (folder / "dave").mkdir(parents=True)
    with zipfile.ZipFile(folder / "carol.zip", "w") as zf:
        zf.write(single, "work/v1.ipynb")
    with zipfile.ZipFile(folder / "dave" / "upload.zip", "w") as zf:
        zf.write(single, "assignment.ipynb")
    out = folder / "graded"  # an output folder inside the submissions' one
    found = find_submissions([folder], out / "unpacked")
    names = [(s.student, s.path.name) for s in found.submissions]
    assert names == [("carol", "v1.ipynb"), ("dave", "assignment.ipynb")]
    with zipfile.ZipFile(folder / "carol.zip", "w") as zf:  # carol resubmits, under another name
        zf.write(single, "work/v2.ipynb")
    again = find_submissions([folder], out / "unpacked")
    names = [(s.student, s.path.name) for s in again.submissions]
    assert names == [("carol", "v2.ipynb"), ("dave", "assignment.ipynb")]
    assert again.unusable == []
