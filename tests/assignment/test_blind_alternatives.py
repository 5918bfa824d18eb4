"""Correct notebooks written blind, from ``ASSIGNMENT.md`` alone, each in a style of its own, get full marks.

Their authors never saw the reference or the hidden tests, so these notebooks
check that the tests grade what the contract asks, not what the reference
happens to do. ``tests/data/blind/`` holds them as style files: ``# %% NAME``
starts the cell that replaces the master's solution cell of function ``NAME``;
what comes before the first goes on top of it.

- ``torch_func``: ``torch.func`` throughout (``vmap``, ``jvp``, ``hessian``), closed forms for q8.
- ``other_algorithms``: golden-section search then Newton, forward-mode dual numbers, permutation matrices.
- ``sloppy_types``: float64 inside and casts back, lists turned into tensors, numpy scalars, float probabilities.
- ``edge_returns``: non-contiguous and still-differentiable tensors returned, shapes given as lists.
- ``subclass_containers``: a namedtuple, an ``nn.Module``'s ``state_dict()`` (an OrderedDict) and
  ``typing.NamedTuple`` returned where the contract says tuple and dict (these came back as opaque values once).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.model import Grade

from .corpus import MASTER, grade_notebook, question_scores
from .test_wrong_submissions import with_sources

pytestmark = pytest.mark.slow

BLIND = Path(__file__).resolve().parents[1] / "data" / "blind"
STYLES = sorted(path.stem for path in BLIND.glob("*.py"))


def style_sources(path: Path) -> dict[str, str]:
    """The style file's cells by function name, the lines before the first on top of it."""
    preamble, *blocks = path.read_text().split("\n# %% ")
    sources = {}
    for block in blocks:
        name, _, body = block.partition("\n")
        sources[name.strip()] = body.strip() + "\n"
    first = next(iter(sources))
    sources[first] = preamble.strip().removeprefix("# %% " + first).strip() + "\n" + sources[first]
    return sources


@pytest.fixture(scope="module")
def grades(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Grade]:
    master = nbformat.read(MASTER, as_version=4)  # type: ignore[no-untyped-call]
    folder = tmp_path_factory.mktemp("blind")
    return {style: grade_notebook(with_sources(master, style_sources(BLIND / f"{style}.py")), folder / f"{style}.ipynb")
            for style in STYLES}


def test_there_are_blind_notebooks() -> None:
    assert len(STYLES) >= 4, STYLES


@pytest.mark.parametrize("style", STYLES)
def test_a_correct_notebook_written_blind_gets_full_marks(grades: dict[str, Grade], style: str) -> None:
    g = grades[style]
    assert not g.cell_errors, g.cell_errors
    lost = {q: score for q, score in question_scores(g).items() if score[0] != score[1]}
    assert not lost, (lost, [t.message for q in g.questions for t in q.tests if t.outcome != "passed"][:5])
    assert len(g.questions) == 8
