"""The public tests' failure messages stay short whatever a notebook returns.

A failing check used to put the student's whole value into its message: a
tensor of 30 million values became a list and a string of gigabytes in the
grader's process. The shape is now checked first.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import pytest
import torch

PUBLIC = Path(__file__).resolve().parents[2] / "assignments" / "optimization_intro" / "tests"


def public_module(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"public_{name}", PUBLIC / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("module, helper, args", [
    ("test_q1", "expect_close", ([0.0, 1.0], "f at the chapter's points")),
    ("test_q2", "expect_minima", ([0.5, 1.0], "local_minima(f, -1, 2)")),
])
def test_a_huge_value_fails_with_a_short_message(module: str, helper: str, args: tuple[object, ...]) -> None:
    with pytest.raises(AssertionError) as failure:
        getattr(public_module(module), helper)(torch.zeros(10**6, dtype=torch.float64), *args)
    assert len(str(failure.value)) < 120, str(failure.value)[:300]
