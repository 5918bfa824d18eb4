"""The review sheet as one HTML page, for reading: every answer to a question together, under its rubric.

Student text and rubrics are escaped, never interpreted (a rubric is shown as
its Markdown source, an answer as typed); the page loads nothing from outside.
Scores go into the CSV sheet (:mod:`grader.reports.review_csv`), not here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from itertools import groupby
from pathlib import Path

from grader.reports.csv_cells import number_cell
from grader.reports.review import ReviewItem

# C0 controls other than tab and newline are not allowed in HTML text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
.rubric { background: #fff8e1; border-left: 4px solid #f0b400; padding: .5rem 1rem; }
.answer { border: 1px solid #ccc; border-radius: 4px; padding: .5rem 1rem; }
.rubric, .answer { white-space: pre-wrap; overflow-wrap: anywhere; }
.empty { color: #888; font-style: italic; }
.entered { color: #2e7d32; }
"""


def _text(value: str) -> str:
    return html.escape(_CONTROL.sub("\ufffd", value), quote=True)


def review_html(items: Sequence[ReviewItem], rubrics: Mapping[str, str] | None = None) -> str:
    """The review page: a section per question with its rubric, then each student's answer."""
    title = "Written answers"
    if items:
        title += f": {items[0].assignment}"
    parts = ["<!DOCTYPE html>", '<html lang="und">', "<head>", '<meta charset="utf-8">',
             f"<title>{_text(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
             f"<h1>{_text(title)}</h1>"]
    for question, group in groupby(items, key=lambda item: (item.assignment, item.question)):
        answers = list(group)
        points = number_cell(answers[0].points)
        parts.append(f'<section id="{_text(question[1])}">')
        parts.append(f"<h2>{_text(question[1])} ({points} points, {len(answers)} answers)</h2>")
        rubric = (rubrics or {}).get(question[1])
        if rubric:
            parts.append(f'<div class="rubric">{_text(rubric)}</div>')
        for item in answers:
            entered = ""
            if item.score is not None:
                entered = f' <span class="entered">{number_cell(item.score)} / {points}'
                entered += f" — {_text(item.comment)}</span>" if item.comment else "</span>"
            parts.append(f"<h3>{_text(item.student)}{entered}</h3>")
            if item.answer.strip():
                parts.append(f'<div class="answer">{_text(item.answer)}</div>')
            else:
                parts.append('<p class="empty">(no answer)</p>')
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_review_html(items: Sequence[ReviewItem], path: Path, rubrics: Mapping[str, str] | None = None) -> None:
    """Write :func:`review_html` to ``path`` as UTF-8."""
    path.write_text(review_html(items, rubrics), encoding="utf-8")
