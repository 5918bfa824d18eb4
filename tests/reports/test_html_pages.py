"""Feedback pages of real grades (the reference, the stub, a wrong f), opened in a real headless browser.

The grades come from the real command line (``grader check ... --json --html``
with the hidden tests and the reference), so the figures are drawn from the
worker's answers. The browser is Debian's ``chromium``: ``--dump-dom`` gives
the DOM it built from the page and ``--screenshot`` what it painted. CI
installs chromium (``.ci/run``) and sets ``GRADER_REQUIRE_BROWSER``, so
there a missing browser fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

from grader.model import grade_from_dict
from grader.reports.html import write_html
from grader.reports.text import format_points

from ..conftest import REPO
from .conftest import SCRIPT, make_hostile_grade
from .test_html import Elements

pytestmark = pytest.mark.slow

ASSIGNMENT = REPO / "assignments" / "optimization_intro"
SOLUTIONS = REPO / "solutions"
RIGHT_F = "return x * torch.cos(math.pi * x)"
WRONG_F = "return x * torch.cos(3.0 * x)"  # a wrong constant: pi -> 3
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]
WINDOW = (1000, 2600)
STUDENT_BLUE = (0x1F, 0x77, 0xB4)  # svg_plot's first colour: f's curve


def browser() -> str:
    """The chromium executable; skips where there is none, fails where CI requires one."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("GRADER_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail("chromium is required here (apt-get install -y chromium) but not installed")
    pytest.skip("chromium is not installed (apt-get install -y chromium)")


def run_browser(tmp_path: Path, *args: str) -> str:
    """Run headless chromium with a fresh profile; its stdout. The whole process group goes on a time-out."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [browser(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("chromium did not finish within 120 s")
    assert proc.returncode == 0, err[-2000:]
    return out


def dump_dom(tmp_path: Path, page: Path) -> Elements:
    return Elements(run_browser(tmp_path, "--dump-dom", page.resolve().as_uri()))


def grade_notebook(notebook: Path, out: Path) -> tuple[int, dict[str, Any], Path]:
    """``grader check`` with the hidden tests: exit code, the JSON grade, the page."""
    json_path, html_path = out / f"{notebook.stem}.json", out / f"{notebook.stem}.html"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(notebook), "--assignment", str(ASSIGNMENT),
         "--solutions", str(SOLUTIONS), "--json", str(json_path), "--html", str(html_path)],
        capture_output=True, text=True, timeout=600, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return proc.returncode, json.loads(json_path.read_text(encoding="utf-8")), html_path


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict[str, Any], Path]]:
    """The reference, the untouched stub and a notebook whose f has a wrong constant, graded."""
    out = tmp_path_factory.mktemp("pages")
    master = nbformat.read(SOLUTIONS / "optimization_intro" / "solution.ipynb", as_version=4)
    cells = [c for c in master.cells if RIGHT_F in c.source]
    assert len(cells) == 1
    cells[0].source = cells[0].source.replace(RIGHT_F, WRONG_F)
    wrong = out / "wrong.ipynb"
    nbformat.write(master, wrong)
    notebooks = {"reference": SOLUTIONS / "optimization_intro" / "solution.ipynb",
                 "stub": ASSIGNMENT / "assignment.ipynb", "wrong": wrong}
    return {name: grade_notebook(path, out) for name, path in notebooks.items()}


def series(figure: dict[str, Any]) -> dict[str, list[float | None]]:
    return {s["label"]: s["y"] for s in figure["series"]}


# ------------------------------------------------------------------ the grades' figures


def test_real_grades_carry_the_chapters_figures(graded: dict[str, tuple[int, dict[str, Any], Path]]) -> None:
    code, reference, _ = graded["reference"]
    assert code == 0 and reference["score"] == reference["max_score"] == 100
    risk, local = reference["figures"]
    assert series(risk)["f (yours)"] == series(risk)["f (reference)"]
    assert series(risk)["g (yours)"] == series(risk)["g (reference)"]
    assert sorted(round(m["x"], 2) for m in local["markers"] if m["role"] == "student") == [-0.27, 1.09]
    assert reference["timings"]["figures"] < 2.0

    code, stub, _ = graded["stub"]
    assert code == 1 and stub["score"] == 0
    assert all(s["role"] == "reference" for f in stub["figures"] for s in f["series"])
    assert any("your f is not drawn: `f` raised NotImplementedError" in n for f in stub["figures"] for n in f["notes"])

    code, wrong, _ = graded["wrong"]
    assert code == 1 and 0 < wrong["score"] < 100
    risk = wrong["figures"][0]
    assert series(risk)["f (yours)"] != series(risk)["f (reference)"]
    assert grade_from_dict(wrong).figures[0].series[1].label == "f (yours)"


def test_pages_hold_no_hidden_test_code(graded: dict[str, tuple[int, dict[str, Any], Path]]) -> None:
    """The failing pages show hidden tests' hints and safe messages, never a line of their code."""
    code = [line.strip() for path in (SOLUTIONS / "optimization_intro" / "hidden_tests").rglob("*.py")
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip().startswith(("assert ", "expected", "return ")) and len(line.strip()) > 20]
    assert len(code) > 20
    for name in ("stub", "wrong"):
        text = "".join(Elements(graded[name][2].read_text(encoding="utf-8")).text)
        assert "hidden test" in text
        leaked = [line for line in code if line in text]
        assert not leaked, (name, leaked[:3])


# ------------------------------------------------------------------ in the browser


def test_pages_render_with_their_figures(graded: dict[str, tuple[int, dict[str, Any], Path]],
                                         tmp_path: Path) -> None:
    for name, (_, grade, page) in graded.items():
        dom = dump_dom(tmp_path, page)
        text = "".join(dom.text)
        assert f"Score: {format_points(grade['score'])} / 100" in text, name
        assert len(dom.having("tr", "question-row")) == 8, name
        svgs = dom.having("svg", "figure")
        assert len(svgs) == len(grade["figures"]) == 2, name
        paths = {p["data-label"]: p["d"] for p in dom.having("path", "series")}
        assert {"f (reference)", "g (reference)"} <= set(paths), name
        assert all(d and d.startswith("M") and d.count("L") > 100 for d in paths.values()), name
        if name == "stub":
            assert "f (yours)" not in paths and "your f is not drawn" in text
        elif name == "reference":
            assert paths["f (yours)"] == paths["f (reference)"] and paths["g (yours)"] == paths["g (reference)"]
        else:
            assert paths["f (yours)"] != paths["f (reference)"]


def test_screenshot_shows_the_page_and_its_curves(graded: dict[str, tuple[int, dict[str, Any], Path]],
                                                  tmp_path: Path) -> None:
    from PIL import Image  # pillow comes with matplotlib

    page = graded["wrong"][2]
    shot = tmp_path / "wrong.png"
    run_browser(tmp_path, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", page.resolve().as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(shot) as image:
        rgb = image.convert("RGB")
    assert rgb.size == WINDOW
    pixels = np.asarray(rgb).reshape(-1, 3)
    assert (pixels != 255).any(axis=1).mean() > 0.02  # not blank
    assert len(np.unique(pixels, axis=0)) > 50
    assert (pixels == STUDENT_BLUE).all(axis=1).sum() > 200  # the student's f, painted


def test_hostile_page_runs_nothing(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    write_html(make_hostile_grade(), page)
    dom = dump_dom(tmp_path, page)
    assert not dom.having("script")
    assert SCRIPT in "".join(dom.text)
