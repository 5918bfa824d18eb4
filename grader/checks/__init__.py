"""Check helpers for test authors: comparisons whose failure messages students may read.

A check raises :class:`~grader.errors.CheckFailure` with a message that says
what is wrong (shape, dtype, how many values, how far off) without stating a
hidden test's expected values; the plugin shows it even for hidden tests.
"""
