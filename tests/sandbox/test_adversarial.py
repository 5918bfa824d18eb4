"""The adversarial corpus, graded by the real command line: each attack finishes, scores honestly, says what
happened and leaves no trace (no process running, nothing written outside the worker's directory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .corpus import CASES, PARTS, Case, run_case

pytestmark = pytest.mark.slow

@pytest.mark.parametrize("case", CASES, ids=[c.name.replace(" ", "_") for c in CASES])
def test_attack_is_graded_honestly_and_leaves_no_trace(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert outcome.grade is not None, f"no grade (exit {outcome.exit_code}): {outcome.stderr[-500:]}"
    assert outcome.exit_code == (1 if case.lost else 0), outcome.stderr[-500:]
    assert "Traceback" not in outcome.stderr
    want = {part: 0.0 if part in case.lost else 1.0 for part in PARTS}
    assert outcome.part_fractions == pytest.approx(want), outcome.text
    if case.says is not None:
        assert case.says in outcome.text
    assert outcome.processes_left == []
    assert outcome.files_outside == []
    assert outcome.connections == 0
    assert outcome.seconds < 120
