"""Report writers: renderings of a :class:`grader.model.Grade`, one format per module.

- :mod:`grader.reports.terminal`: the table and notes a student sees in a terminal (rich).
- :mod:`grader.reports.json_report`: the grade as JSON, readable back with
  :func:`grader.model.grade_from_dict`.
- :mod:`grader.reports.junit`: JUnit XML for CI test reporters (GitHub, GitLab, Jenkins).
- :mod:`grader.reports.markdown`: GitHub-flavoured Markdown for CI job summaries.
- :mod:`grader.reports.github`: GitHub Actions annotations, and the guard that
  keeps student text in the log from acting as workflow commands.
- :mod:`grader.reports.html`: a self-contained HTML feedback page, its figures
  drawn as inline SVG by :mod:`grader.reports.svg_plot`.

Every writer takes the grade model only, never pytest objects, and treats every
string in it as untrusted student-derived text. Submodules are not imported
here, so that importing one format does not pull in the dependencies of another.
"""
