"""Tests of the JSON report: it is ``Grade.to_dict`` and reads back to an equal grade."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from grader.model import Grade, grade_from_dict
from grader.reports.json_report import grade_to_json, write_json


@pytest.mark.parametrize("name", ["full_grade", "passing_grade", "hostile_grade"])
def test_round_trips_to_an_equal_grade(
    name: str, request: pytest.FixtureRequest
) -> None:
    grade: Grade = request.getfixturevalue(name)
    assert grade_from_dict(json.loads(grade_to_json(grade))) == grade


@pytest.mark.parametrize("name", ["full_grade", "passing_grade", "hostile_grade"])
def test_to_dict_is_what_asdict_gives_plus_the_totals(name: str, request: pytest.FixtureRequest) -> None:
    grade: Grade = request.getfixturevalue(name)
    assert grade.to_dict() == {**dataclasses.asdict(grade), "score": grade.score, "max_score": grade.max_score}
    assert list(grade.to_dict()) == [*(f.name for f in dataclasses.fields(grade)), "score", "max_score"]


def test_is_to_dict_with_two_space_indent_in_model_order(full_grade: Grade) -> None:
    text = grade_to_json(full_grade)
    assert json.loads(text) == json.loads(json.dumps(full_grade.to_dict()))
    assert text.startswith(
        '{\n  "assignment": "optimization_intro",\n  "submission": "alice",'
    )
    assert '"score": 7.333334' in text and '"max_score": 15.0' in text


def test_keeps_non_ascii_text_readable(
    hostile_grade: Grade, hostile_strings: dict[str, str]
) -> None:
    assert hostile_strings["chinese"] in grade_to_json(hostile_grade)


def test_lone_surrogate_is_escaped_so_the_text_encodes(hostile_grade: Grade) -> None:
    text = grade_to_json(hostile_grade)
    text.encode("utf-8")  # would raise on a raw lone surrogate
    assert "lone \\ud800 surrogate" in text


def test_write_json_writes_utf8_with_final_newline(
    tmp_path: Path, hostile_grade: Grade
) -> None:
    path = tmp_path / "grade.json"
    write_json(hostile_grade, path)
    raw = path.read_bytes()
    assert raw.endswith(b"}\n")
    assert grade_from_dict(json.loads(raw.decode("utf-8"))) == hostile_grade
