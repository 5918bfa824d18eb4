"""grader: a pytest-based auto-grader for notebook exercises.

Student code runs only in a sandboxed worker process; the tests, the reference
solution and the score stay in the grader's process. See README.md.
"""

__version__ = "0.1.0"
