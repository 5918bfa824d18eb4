"""Oracles: answers stored when an assignment is authored, recomputed here to prove them current."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from grader.checks.oracle import Oracle, load_test_module, oracles_of, stale_keys, write_oracles
from tests.conftest import REPO

TEST_FOLDERS = sorted([*REPO.glob("solutions/*/hidden_tests"), *REPO.glob("assignments/*/tests")])
MODULE = textwrap.dedent('''
    from grader.checks.oracle import Oracle

    calls = []

    def square(key):
        calls.append(key)
        return {"square": int(key) ** 2, "pair": (int(key), -int(key))}

    SQUARES = Oracle(__file__, "squares", square, ["1", "2", "3"])
''')


@pytest.fixture
def module_file(tmp_path: Path) -> Path:
    path = tmp_path / "test_sample.py"
    path.write_text(MODULE)
    return path


def test_written_answers_are_read_without_computing(module_file: Path) -> None:
    assert write_oracles(module_file.parent) == [module_file.with_suffix(".oracle.json")]
    module = load_test_module(module_file)
    assert module.SQUARES("2") == {"square": 4, "pair": [2, -2]}
    assert module.calls == []
    assert module.SQUARES.missing == []
    assert stale_keys(module.SQUARES) == []


def test_a_missing_answer_is_computed_once_and_reported(module_file: Path) -> None:
    module = load_test_module(module_file)
    assert module.SQUARES.missing == ["1", "2", "3"]
    assert module.SQUARES("3") == module.SQUARES("3") == {"square": 9, "pair": [3, -3]}
    assert module.calls == ["3"]
    assert stale_keys(module.SQUARES) == ["1", "2", "3"]


def test_a_changed_answer_or_an_extra_key_is_stale(module_file: Path) -> None:
    write_oracles(module_file.parent)
    stored = module_file.with_suffix(".oracle.json")
    tables = json.loads(stored.read_text())
    tables["squares"]["2"]["square"] = 5
    tables["squares"]["7"] = {}
    stored.write_text(json.dumps(tables))
    assert stale_keys(oracles_of(load_test_module(module_file))[0]) == ["2", "7"]


def test_keys_are_declared_once(tmp_path: Path) -> None:
    oracle = Oracle(str(tmp_path / "test_x.py"), "x", str, ["a", "b", "a"])
    assert oracle.keys == ("a", "b")


@pytest.mark.slow
@pytest.mark.parametrize("folder", TEST_FOLDERS, ids=[f"{f.parent.parent.name}/{f.parent.name}" for f in TEST_FOLDERS])
def test_shipped_oracles_are_current(folder: Path) -> None:
    """Every stored answer equals sympy's answer computed now, and every declared key is stored."""
    checked = 0
    for path in sorted(folder.glob("test_*.py")):
        for oracle in oracles_of(load_test_module(path)):
            assert oracle.missing == [], f"{path.name}: run python -m grader.checks.oracle {folder}"
            assert stale_keys(oracle) == [], f"{path.name}: run python -m grader.checks.oracle {folder}"
            checked += 1
    assert checked >= 1
