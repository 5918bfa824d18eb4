"""Write a grade as one self-contained HTML feedback page.

The page holds the score per question, each failing test with its message
and hint, the notebook's cell errors, the written answers' status and the
grade's figures as inline SVG (:mod:`grader.reports.svg_plot`). It needs
nothing else: the CSS is inline, there is no JavaScript and no external
resource, so it opens the same from a file, an e-mail or a CI artifact.

Every string from the grade is treated as untrusted student-derived text:
ANSI escapes and control characters are removed and ``& < > " '`` become
entities, so a ``<script>`` in a message is shown, never run. As a second
line of defence the page carries a Content-Security-Policy that allows no
script and no outside resource at all. The page shows only what the grade
holds, which for hidden tests is the hint and the safe message, never test
code or expected values.
"""

from __future__ import annotations

from pathlib import Path

from grader.model import CellError, Figure, Grade, QuestionResult, TestResult, WrittenAnswer
from grader.reports.svg_plot import clean, figure_to_svg
from grader.reports.text import format_points

MESSAGE_LIMIT = 20_000
"""Characters of a message, traceback or written answer kept on the page."""

CSP = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", sans-serif;
       margin: 2rem auto; max-width: 56rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2rem; }
.total { font-size: 1.25rem; font-weight: 600; }
.note { background: #fff8e1; border-left: 4px solid #f0ad4e; padding: .4rem .8rem; }
table { border-collapse: collapse; margin: .8rem 0; }
th, td { border: 1px solid #ddd; padding: .3rem .7rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #1a7f37; } .partial { color: #9a6700; } .failed { color: #cf222e; } .none { color: #777; }
.bar { display: inline-block; width: 6rem; height: .6rem; background: #eee; border-radius: .3rem;
       vertical-align: middle; }
.bar span { display: block; height: 100%; background: #2da44e; border-radius: .3rem; }
.test { border-left: 4px solid #cf222e; padding: .3rem .8rem; margin: .6rem 0; background: #fff5f5; }
.test.outcome-skipped { border-left-color: #999; background: #f6f6f6; }
.test .name { font-family: ui-monospace, monospace; font-weight: 600; }
.hint { background: #eef7ee; padding: .2rem .5rem; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f8fa; padding: .5rem; max-height: 20rem;
      overflow: auto; font-size: .85rem; margin: .3rem 0; }
figure { margin: 1rem 0; } figcaption { font-weight: 600; margin-bottom: .3rem; }
svg.figure { max-width: 100%; height: auto; font: 11px sans-serif; }
svg .tick, svg .legend { fill: #333; } svg .axis-label { fill: #333; font-size: 12px; }
.figure-notes { color: #9a6700; }
details ul { font-family: ui-monospace, monospace; font-size: .85rem; }
footer { color: #777; font-size: .8rem; margin-top: 2rem; }
"""


def grade_to_html(grade: Grade) -> str:
    """The grade as a complete HTML document."""
    title = f"{clean(grade.assignment, 200)}: {format_points(grade.score)} / {format_points(grade.max_score)}"
    body = [f"<h1>{clean(grade.assignment, 200)}</h1>"]
    if grade.submission:
        body.append(f'<p class="submission">Submission: <strong>{clean(grade.submission, 200)}</strong></p>')
    body.append(f'<p class="total" id="total">Score: {format_points(grade.score)} / '
                f"{format_points(grade.max_score)}{_pending(grade)}</p>")
    if not grade.hidden_tests:
        body.append('<p class="note">Only the public tests ran here; '
                    "your final grade also includes hidden tests.</p>")
    body += _summary_table(grade)
    if grade.figures:
        body.append('<section id="figures"><h2>Figures</h2>')
        body.append("<p>Your functions (thin lines) over the reference's (wide pale bands, when the reference "
                    "was available): a correct function lies inside its band. Rings mark the reference's "
                    "minima, dots yours.</p>")
        body += [_figure(figure, number) for number, figure in enumerate(grade.figures, start=1)]
        body.append("</section>")
    body += _questions(grade)
    if grade.cell_errors:
        body.append('<section id="cell-errors"><h2>Errors in notebook cells</h2>')
        body += [_cell_error(error) for error in grade.cell_errors]
        body.append("</section>")
    if grade.written:
        body.append('<section id="written"><h2>Written answers</h2><ul>')
        body += [_written(answer) for answer in grade.written]
        body.append("</ul></section>")
    if grade.warnings:
        body.append('<section id="warnings"><h2>Warnings</h2><ul>')
        body += [f"<li>{clean(w, MESSAGE_LIMIT)}</li>" for w in grade.warnings]
        body.append("</ul></section>")
    if grade.grader_version:
        body.append(f"<footer>grader {clean(grade.grader_version, 50)}</footer>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
        "",
    ])


def write_html(grade: Grade, path: Path) -> None:
    """Write :func:`grade_to_html` of ``grade`` to ``path`` as UTF-8."""
    path.write_text(grade_to_html(grade), encoding="utf-8")


def _pending(grade: Grade) -> str:
    pending = sum(w.points for w in grade.written if w.score is None)
    if not pending:
        return ""
    return f' <span class="none">(autograded; {format_points(pending)} more points for written answers, ' \
           "graded by hand)</span>"


def _status(question: QuestionResult) -> tuple[str, str]:
    """The status class and word of one question."""
    if not question.tests:
        return "none", "no tests"
    if not question.failed_tests:
        return "passed", "passed"
    if question.score > 0:
        return "partial", "partial"
    return "failed", "failed"


def _summary_table(grade: Grade) -> list[str]:
    rows = ['<table id="questions"><thead><tr><th>Question</th><th>Points</th><th></th><th>Status</th>'
            "<th>Tests passed</th></tr></thead><tbody>"]
    for question in grade.questions:
        css, word = _status(question)
        share = question.score / question.max_score if question.max_score > 0 else 0.0
        passed = sum(t.passed for t in question.tests)
        qid = clean(question.id, 100)
        rows.append(
            f'<tr class="question-row" data-question="{qid}"><td><a href="#q-{qid}">{qid}</a></td>'
            f'<td class="num">{format_points(question.score)} / {format_points(question.max_score)}</td>'
            f'<td><span class="bar"><span style="width: {max(0.0, min(1.0, share)) * 100:.0f}%"></span></span></td>'
            f'<td class="{css}">{word}</td><td class="num">{passed}/{len(question.tests)}</td></tr>'
        )
    rows.append(f'<tr><th>Total</th><td class="num"><strong>{format_points(grade.score)} / '
                f"{format_points(grade.max_score)}</strong></td><td></td><td></td><td></td></tr>")
    rows.append("</tbody></table>")
    return rows


def _questions(grade: Grade) -> list[str]:
    out = ['<section id="details"><h2>Questions</h2>']
    for question in grade.questions:
        css, word = _status(question)
        qid = clean(question.id, 100)
        out.append(f'<section class="question" id="q-{qid}"><h3>{qid}: '
                   f"{format_points(question.score)} / {format_points(question.max_score)} "
                   f'<span class="{css}">{word}</span></h3>')
        failed = question.failed_tests
        passed = len(question.tests) - len(failed)
        if passed:
            out.append(f"<p>{passed} test{'s' if passed != 1 else ''} passed.</p>")
        out += [_failure(tests) for tests in _grouped(failed)]
        out.append("</section>")
    out.append("</section>")
    return out


def _grouped(tests: tuple[TestResult, ...]) -> list[list[TestResult]]:
    """Failing tests with the same outcome, message and hint together, in order of first failure.

    A missing or broken function fails dozens of tests with one message; the
    page says it once and lists the tests it failed.
    """
    groups: dict[tuple[str, str, str], list[TestResult]] = {}
    for test in tests:
        groups.setdefault((test.outcome, test.message, test.hint), []).append(test)
    return list(groups.values())


def _failure(tests: list[TestResult]) -> str:
    """One failure (message and hint) and the tests that failed with it."""
    first = tests[0]
    outcome = "" if first.outcome == "failed" else f" ({first.outcome})"
    lost = format_points(sum(t.max_points - t.points for t in tests))
    message = clean(first.message, MESSAGE_LIMIT).strip() or f"test {first.outcome} without a message"
    if len(tests) == 1:
        hidden = " hidden test" if first.visibility == "hidden" else ""
        head = f'<span class="name">{clean(first.name, 300)}</span>{outcome}{hidden}'
    else:
        head = f'<span class="name">{len(tests)} tests</span>{outcome}'
    parts = [f'<div class="test outcome-{first.outcome}"><div>{head}: {lost} points lost</div>',
             f'<pre class="message">{message}</pre>']
    if first.hint.strip():
        parts.append(f'<p class="hint"><strong>Hint:</strong> {clean(first.hint, MESSAGE_LIMIT)}</p>')
    if len(tests) > 1:
        names = "".join(f"<li>{clean(t.name, 300)}{' (hidden)' if t.visibility == 'hidden' else ''}</li>"
                        for t in tests)
        parts.append(f'<details><summary>The {len(tests)} tests</summary><ul class="test-names">{names}</ul>'
                     "</details>")
    parts.append("</div>")
    return "".join(parts)


def _figure(figure: Figure, number: int) -> str:
    parts = [f'<figure id="figure-{number}"><figcaption>{clean(figure.title, 300)}</figcaption>',
             figure_to_svg(figure, f"figure-{number}-svg")]
    if figure.markers:
        items = "".join(f"<li>{clean(m.label, 200)}: x = {m.x:.5g}, y = {m.y:.5g}</li>" for m in figure.markers)
        parts.append(f'<ul class="markers">{items}</ul>')
    if figure.notes:
        items = "".join(f"<li>{clean(n, 1000)}</li>" for n in figure.notes)
        parts.append(f'<ul class="figure-notes">{items}</ul>')
    parts.append("</figure>")
    return "\n".join(parts)


def _cell_error(error: CellError) -> str:
    summary = clean(error.ename, 200) or "Error"
    if error.evalue.strip():
        summary += f": {clean(error.evalue, 2000)}"
    out = (f'<div class="test outcome-error cell-error"><div><span class="name">cell {error.cell}</span>: '
           f"{summary}</div>")
    if error.traceback.strip():
        out += f"<details><summary>Traceback</summary><pre>{clean(error.traceback, MESSAGE_LIMIT)}</pre></details>"
    return out + "</div>"


def _written(answer: WrittenAnswer) -> str:
    unit = "point" if format_points(answer.points) == "1" else "points"
    if answer.score is None:
        status = f"to be graded by hand ({format_points(answer.points)} {unit})"
    else:
        status = f"graded by hand: {format_points(answer.score)} / {format_points(answer.points)}"
    item = f'<li class="written"><strong>{clean(answer.id, 100)}</strong>: {status}'
    if answer.text.strip():
        item += f"<details><summary>Your answer</summary><pre>{clean(answer.text, MESSAGE_LIMIT)}</pre></details>"
    else:
        item += ' <span class="partial">(no answer found)</span>'
    return item + "</li>"
