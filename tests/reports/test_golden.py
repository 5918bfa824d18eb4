"""Each format's rendering of one full example grade, compared with a golden file.

On a mismatch the test writes what the code produces now next to a diff; if
the change is intended, copy that file over the golden one as the failure
message says, and read the diff in review.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from grader.model import Grade
from grader.reports.html import grade_to_html
from grader.reports.json_report import grade_to_json
from grader.reports.junit import grade_to_junit
from grader.reports.markdown import grade_to_markdown
from grader.reports.terminal import render_terminal

GOLDEN = Path(__file__).parent / "golden"


def _terminal(grade: Grade) -> bytes:
    console = Console(record=True, width=100, file=io.StringIO())
    render_terminal(grade, console)
    # Rich pads lines with spaces; editors and pre-commit hooks strip them.
    lines = console.export_text().splitlines()
    return "".join(f"{line.rstrip()}\n" for line in lines).encode("utf-8")


RENDERERS: dict[str, Callable[[Grade], bytes]] = {
    "full.txt": _terminal,
    "full.json": lambda grade: (grade_to_json(grade) + "\n").encode("utf-8"),
    "full.xml": grade_to_junit,
    "full.md": lambda grade: grade_to_markdown(grade).encode("utf-8"),
    "full.html": lambda grade: grade_to_html(grade).encode("utf-8"),
}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_matches_golden_file(name: str, full_grade: Grade, tmp_path: Path) -> None:
    actual = RENDERERS[name](full_grade)
    golden = GOLDEN / name
    expected = golden.read_bytes() if golden.exists() else b""
    if actual != expected:
        fresh = tmp_path / name
        fresh.write_bytes(actual)
        diff = "".join(
            difflib.unified_diff(
                expected.decode("utf-8").splitlines(keepends=True),
                actual.decode("utf-8").splitlines(keepends=True),
                str(golden),
                str(fresh),
            )
        )
        pytest.fail(
            f"{name} differs from its golden file. If the change is intended, run\n"
            f"    cp {fresh} {golden}\n"
            f"and review the diff:\n{diff}"
        )
