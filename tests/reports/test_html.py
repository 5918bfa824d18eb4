"""The HTML feedback page: complete, self-contained, escaped, and with its figures."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.model import Figure, Grade, Marker, QuestionResult, Series, TestResult
from grader.reports.html import grade_to_html, write_html
from grader.reports.svg_plot import figure_to_svg

from .conftest import SCRIPT


class Elements(HTMLParser):
    """Every start tag of a document with its attributes, and its text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, css: str | None = None) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and (css is None or css in (a.get("class") or "").split())]


def figure(title: str = "risk", label: str = "f") -> Figure:
    x = tuple(i / 10 for i in range(11))
    return Figure(
        title,
        x,
        (Series(f"{label} (reference)", tuple(v * v for v in x), "reference"),
         Series(f"{label} (yours)", (None, *(v * v + 0.1 for v in x[1:5]), None, *(v * v for v in x[6:])), "student")),
        (Marker(f"min of {label} (reference)", 0.0, 0.0, "reference"),),
        ("your g is not drawn: `g` raised NotImplementedError",),
        "x",
        "risk",
    )


def test_a_complete_self_contained_document(full_grade: Grade) -> None:
    page = grade_to_html(replace(full_grade, figures=(figure(),)))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    elements = Elements(page)
    assert not elements.having("script") and not elements.having("link") and not elements.having("img")
    assert not elements.having("iframe") and not elements.having("object")
    # Nothing is fetched: no URL but the SVG namespace and in-page anchors and clip paths.
    assert set(re.findall(r"(?:https?|file|data):[^\s\"')]*", page)) == {"http://www.w3.org/2000/svg"}
    (csp,) = [a for a in elements.having("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp["content"] or "")


def test_every_question_with_its_score(full_grade: Grade) -> None:
    elements = Elements(grade_to_html(full_grade))
    rows = elements.having("tr", "question-row")
    assert [r["data-question"] for r in rows] == [q.id for q in full_grade.questions]
    sections = {a["id"] for a in elements.having("section", "question")}
    assert sections == {f"q-{q.id}" for q in full_grade.questions}
    text = "".join(elements.text)
    assert "q2_hessian: 1 / 4" in text and "Score: 7.33 / 15" in text


def test_failures_with_message_and_hint(full_grade: Grade) -> None:
    text = "".join(Elements(grade_to_html(full_grade)).text)
    for test in full_grade.tests:
        if not test.passed:
            assert test.name in text
            assert test.message.splitlines()[0] in text
            if test.hint:
                assert test.hint in text
    assert "1.5 tests passed" not in text and "2 tests passed." in text


def test_cell_errors_written_answers_and_warnings(full_grade: Grade) -> None:
    page = grade_to_html(full_grade)
    text = "".join(Elements(page).text)
    assert "cell 4" in text and "NameError: name 'np' is not defined" in text
    assert "\x1b" not in page  # the coloured traceback arrives without its escapes
    assert "q5_explain" in text and "to be graded by hand (2 points)" in text
    assert "q6_reflect" in text and "(no answer found)" in text
    assert "it was cut to 100 kB" in text
    assert "Only the public tests ran here" in text


def test_identical_failures_are_said_once() -> None:
    tests = tuple(TestResult(f"test_{i}", "failed", 0.0, 0.5, "`f` raised NotImplementedError", "f(x) = x")
                  for i in range(30))
    grade = Grade("a", "s", (QuestionResult("q1", 0.0, 15.0, tests),))
    page = grade_to_html(grade)
    assert page.count("`f` raised NotImplementedError") == 1
    assert "30 tests" in page and all(f"test_{i}<" in page for i in range(30))


def test_hostile_text_is_shown_never_run(hostile_grade: Grade, hostile_strings: dict[str, str]) -> None:
    hostile = Figure(f"{SCRIPT} title", (0.0, 1.0), (Series(f'f" onload="alert(1) {SCRIPT}', (0.0, 1.0)),),
                     (Marker(f"{SCRIPT}", 0.5, 0.5),), (f"note {SCRIPT}",), f"x {SCRIPT}", f"y {SCRIPT}")
    page = grade_to_html(replace(hostile_grade, figures=(hostile,)))
    page.encode("utf-8")  # a lone surrogate would make writing the page fail
    elements = Elements(page)
    assert not elements.having("script")
    assert not [a for _, attrs in elements.tags for a in attrs if a.startswith("on")]
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = "".join(elements.text)
    assert SCRIPT in text and hostile_strings["rich_markup"] in text and hostile_strings["chinese"] in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", page)
    assert len(page) < 200_000  # the megabyte-long message is cut


def test_only_what_the_grade_holds_reaches_the_page() -> None:
    """A hidden test's safe message and hint are shown; the page adds nothing of the test itself."""
    hidden = TestResult("hidden_tests/test_q1.py::test_values[9-float64-f]", "failed", 0.0, 1.0,
                        "f(x) is wrong at 3 of 9 entries", "f(x) = x * cos(pi * x)",
                        visibility="hidden")
    grade = Grade("a", "s", (QuestionResult("q1", 0.0, 1.0, (hidden,)),), hidden_tests=True)
    text = "".join(Elements(grade_to_html(grade)).text)
    assert "wrong at 3 of 9 entries" in text and "hidden test" in text
    assert "assert" not in text and "expected" not in text.lower()


def test_figures_are_inline_svg_with_their_series() -> None:
    grade = Grade("a", "s", (), figures=(figure("risk"), figure("local", "g")))
    elements = Elements(grade_to_html(grade))
    svgs = elements.having("svg", "figure")
    assert len(svgs) == 2 and all(s["xmlns"] == "http://www.w3.org/2000/svg" for s in svgs)
    paths = elements.having("path", "series")
    assert [p["data-label"] for p in paths] == ["f (reference)", "f (yours)", "g (reference)", "g (yours)"]
    assert len(elements.having("circle", "marker")) == 2
    text = "".join(elements.text)
    assert "your g is not drawn: `g` raised NotImplementedError" in text
    assert "min of f (reference): x = 0, y = 0" in text


def test_gaps_split_the_curve_and_wild_values_stay_on_the_page() -> None:
    x = tuple(float(i) for i in range(6))
    wild = Figure("t", x, (Series("f (reference)", x, "reference"),
                           Series("f (yours)", (0.0, 1e300, None, 3.0, -1e300, 5.0), "student")))
    svg = figure_to_svg(wild, "fig")
    elements = Elements(svg)
    reference, yours = (p["d"] or "" for p in elements.having("path", "series"))
    assert yours.count("M") == 2 and reference.count("M") == 1
    # The y range follows the reference: every coordinate is a modest number, cut by the clip path.
    coordinates = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", yours)]
    assert max(abs(v) for v in coordinates) < 10_000
    assert elements.having("clippath") or "clipPath" in svg


def test_no_figures_no_section(passing_grade: Grade) -> None:
    page = grade_to_html(passing_grade)
    assert 'id="figures"' not in page and "<svg" not in page
    assert "Only the public tests ran here" not in page


def test_write_html(tmp_path: Path, hostile_grade: Grade) -> None:
    path = tmp_path / "page.html"
    write_html(hostile_grade, path)
    assert path.read_text(encoding="utf-8") == grade_to_html(hostile_grade)


@pytest.mark.parametrize("score, width", [(0.0, "0%"), (2.0, "50%"), (4.0, "100%")])
def test_score_bar(score: float, width: str) -> None:
    grade = Grade("a", "s", (QuestionResult("q1", score, 4.0, (TestResult("t", "passed", score, 4.0),)),))
    assert f'style="width: {width}"' in grade_to_html(grade)
