"""Grading end to end in-process: determinism and the grade's contents."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grader.grading import grade
from grader.job import prepare
from grader.limits import Limits
from grader.proxy import Submission
from grader.sandbox.session import WorkerSession

from .conftest import TINY, TINY_CORRECT, TINY_SOLUTIONS

pytestmark = pytest.mark.slow


def stable(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data, timings={}, resources={})
    for q in data["questions"]:
        for t in q["tests"]:
            t["duration"] = 0
    return data


def test_same_notebook_same_grade(notebook: Callable[..., Path]) -> None:
    cells = [*TINY_CORRECT[:2], "import random\ndef square(x):\n    return x * x + (random.random() > 0.5)",
             TINY_CORRECT[3]]
    path = notebook(cells)
    first = grade(prepare(path, str(TINY), TINY_SOLUTIONS)).to_dict()
    second = grade(prepare(path, str(TINY), TINY_SOLUTIONS)).to_dict()
    assert stable(first) == stable(second)
    assert first["hidden_tests"] and first["resources"]["peak_rss_mib"] > 50


def test_worker_seeds_every_generator() -> None:
    cells = ["import random, numpy as np, torch\nstate = (torch.rand(2), np.random.rand(), random.random())",
             "def draw():\n    return state"]
    values = []
    for _ in range(2):
        with WorkerSession(Limits()) as session:
            session.run_notebook(cells)
            values.append(Submission(session).draw())
    (t1, n1, r1), (t2, n2, r2) = values
    assert t1.tolist() == t2.tolist() and n1 == n2 and r1 == r2
