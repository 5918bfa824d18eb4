"""Write a grade as JSON: :meth:`Grade.to_dict`, readable back with ``grade_from_dict``.

The JSON keeps non-ASCII text as it is (``ensure_ascii=False``) so that a
Chinese error message stays readable in the file. The one thing that cannot be
kept as it is, a lone surrogate (from a student's ``"\\ud800"``), is written
as a ``\\uXXXX`` escape instead: that is still valid JSON, decodes back to the
same string, and keeps the text encodable as UTF-8, where the raw character
would make writing the file fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.model import Grade

# Surrogates can only occur inside JSON strings (everything structural in
# JSON is ASCII), where a \uXXXX escape means the same code point.
_SURROGATE = re.compile("[\ud800-\udfff]")


def grade_to_json(grade: Grade) -> str:
    """The grade as a JSON document (indented, keys in model order, UTF-8 text)."""
    text = json.dumps(grade.to_dict(), indent=2, sort_keys=False, ensure_ascii=False)
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def write_json(grade: Grade, path: Path) -> None:
    """Write :func:`grade_to_json` of ``grade`` to ``path`` as UTF-8, newline-terminated."""
    path.write_text(grade_to_json(grade) + "\n", encoding="utf-8")
