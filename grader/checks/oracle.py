"""Exact answers computed when an assignment is authored, read when it is graded.

sympy is exact but slow: checking that a generated test function meets the
contract, or a Hessian at 50 digits, takes tens of milliseconds, and a hidden
suite asks hundreds of them on every grading run. A test module declares such
answers as an :class:`Oracle`: a function from a key (a string) to a JSON
value, and the keys the tests will ask for. The values live in a JSON file
beside the module (``test_q2.py`` -> ``test_q2.oracle.json``), written by::

    python -m grader.checks.oracle solutions/<assignment>/hidden_tests

and read at grading time. A key missing from the file is computed on the spot
(slower, never wrong). The project's tests recompute every stored value with
:func:`stale_keys`, so a file that no longer matches its function fails them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SUFFIX = ".oracle.json"


class Oracle:
    """The stored answers of one function, keyed by strings; computed when not stored."""

    def __init__(self, module_file: str, name: str, compute: Callable[[str], Any], keys: Iterable[str]) -> None:
        self.path = Path(module_file).with_suffix(SUFFIX)
        self.name = name
        self.compute = compute
        self.keys = tuple(dict.fromkeys(keys))
        self._stored = _read(self.path).get(name, {})
        self._computed: dict[str, Any] = {}

    def __call__(self, key: str) -> Any:
        """The answer for ``key``: stored, or computed once."""
        if key in self._stored:
            return self._stored[key]
        if key not in self._computed:
            self._computed[key] = _json_value(self.compute(key))
        return self._computed[key]

    @property
    def missing(self) -> list[str]:
        """Declared keys without a stored answer."""
        return [k for k in self.keys if k not in self._stored]

    def fresh_table(self) -> dict[str, Any]:
        """Every declared key's answer, computed now."""
        return {key: _json_value(self.compute(key)) for key in self.keys}


def stale_keys(oracle: Oracle) -> list[str]:
    """Keys whose stored answer is missing or differs from a fresh computation."""
    fresh = oracle.fresh_table()
    stored = _read(oracle.path).get(oracle.name, {})
    return [k for k, v in fresh.items() if stored.get(k) != v] + [k for k in stored if k not in fresh]


def oracles_of(module: types.ModuleType) -> list[Oracle]:
    """The oracles a test module declares at its top level."""
    return [v for v in vars(module).values() if isinstance(v, Oracle)]


def load_test_module(path: Path) -> types.ModuleType:
    """Import a test file by path, as pytest's importlib mode does (not registered in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"_oracle_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_oracles(folder: Path) -> list[Path]:
    """Compute and write the oracle files of every test module in ``folder``; the files written."""
    written = []
    for path in sorted(folder.glob("test_*.py")):
        found = oracles_of(load_test_module(path))
        if not found:
            continue
        target = path.with_suffix(SUFFIX)
        tables = {o.name: o.fresh_table() for o in sorted(found, key=lambda o: o.name)}
        target.write_text(json.dumps(tables, indent=1, sort_keys=True) + "\n")
        written.append(target)
    return written


def _read(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def _json_value(value: Any) -> Any:
    """``value`` as it comes back from the JSON file (tuples become lists)."""
    return json.loads(json.dumps(value))


def main(argv: list[str]) -> int:
    """``python -m grader.checks.oracle FOLDER...``: write the oracle files of each folder's tests."""
    if not argv:
        print("usage: python -m grader.checks.oracle HIDDEN_TESTS_FOLDER...", file=sys.stderr)
        return 2
    for folder in argv:
        for path in write_oracles(Path(folder)):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    # Through the package, so that the tests' Oracle is this module's class and not __main__'s.
    from grader.checks.oracle import main as package_main

    sys.exit(package_main(sys.argv[1:]))
