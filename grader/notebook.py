"""Reading a submitted notebook: validation, upgrade, code cells, metadata, answers.

Everything here is about the file; nothing runs. Bad files raise
:class:`~grader.errors.InputError` with a one-line message.

nbformat (with its JSON-schema validator) takes about 0.4 s to import, so an
nbformat 4 file can be read first with the standard library alone
(``validate=False``) and checked against the schema afterwards
(:func:`validate_notebook`): ``grader check`` starts the worker in between.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import InputError

MAX_NOTEBOOK_BYTES = 64 * 2**20
ANSWER_TAG = "answer:"


@dataclass(frozen=True)
class Notebook:
    """The parts of a notebook the grader uses."""

    path: Path
    code_cells: tuple[str, ...]
    cell_numbers: tuple[int, ...]
    assignment: str | None
    answers: dict[str, str]
    node: Mapping[str, Any]  # an nbformat 4 notebook: a NotebookNode, or the file's JSON before validation
    text: str


def read_notebook(path: Path, validate: bool = True) -> Notebook:
    """Read and check a notebook file, upgrading old formats to nbformat 4."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise InputError(f"{path} is not a file")
    if size > MAX_NOTEBOOK_BYTES:
        limit = MAX_NOTEBOOK_BYTES // 2**20
        raise InputError(f"{path} is {size / 2**20:.0f} MiB; notebooks over {limit} MiB are refused")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as UTF-8 text: {exc}") from None
    return parse_notebook(text, path, validate)


def parse_notebook(text: str, path: Path, validate: bool = True) -> Notebook:
    """Parse notebook JSON text (see :func:`read_notebook`)."""
    if not text.strip():
        raise InputError(f"{path} is empty, not a notebook")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{path} is not a notebook: not valid JSON ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("nbformat"), int):
        raise InputError(f"{path} is not a notebook: no 'nbformat' version in it")
    if raw["nbformat"] > 4:
        raise InputError(f"{path} uses nbformat {raw['nbformat']}, newer than this grader reads (4)")
    if raw["nbformat"] == 4 and not validate:
        try:
            return _extract(raw, path, text)
        except (AttributeError, KeyError, TypeError):
            pass  # malformed: nbformat says what is wrong
    return _extract(_validated(text, path), path, text)


def validate_notebook(notebook: Notebook) -> None:
    """Check a notebook read with ``validate=False`` against nbformat's schema; InputError if it fails."""
    _validated(notebook.text, notebook.path)


def _validated(text: str, path: Path) -> Any:
    import nbformat  # deferred: see the module's docstring

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            node = nbformat.reads(text, as_version=4)  # type: ignore[no-untyped-call]
            nbformat.validate(node)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many types for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path} is not a valid notebook: {first[:200]}") from None
    return node


def _source(cell: Mapping[str, Any]) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else str(source)


def _extract(node: Mapping[str, Any], path: Path, text: str) -> Notebook:
    code, numbers, answers = [], [], {}
    for number, cell in enumerate(node["cells"], start=1):
        if cell["cell_type"] == "code":
            code.append(_source(cell))
            numbers.append(number)
        elif cell["cell_type"] == "markdown":
            for tag in _tags(cell):
                if tag.startswith(ANSWER_TAG):
                    answers[tag[len(ANSWER_TAG):]] = _source(cell)
    meta = node["metadata"].get("grader", {})
    assignment = meta.get("assignment") if isinstance(meta, dict) else None
    return Notebook(
        path=path,
        code_cells=tuple(code),
        cell_numbers=tuple(numbers),
        assignment=assignment if isinstance(assignment, str) else None,
        answers=answers,
        node=node,
        text=text,
    )


def _tags(cell: Any) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def tagged_code(node: Mapping[str, Any], tag: str) -> list[str]:
    """The sources of the code cells that carry ``tag``, in order."""
    return [_source(c) for c in node["cells"] if c["cell_type"] == "code" and tag in _tags(c)]
