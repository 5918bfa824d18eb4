"""The Gradescope autograder zip: setup, runner, the grading suite and the grader itself.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once
(as root, on its Ubuntu base image) to build the image, then, for every
submission, ``run_autograder``, which must leave
``/autograder/results/results.json``. The zip holds:

- ``setup.sh``: Python 3.11+ in a virtual environment (Ubuntu's system Python
  refuses pip installs, PEP 668), torch pinned to the CPU build first, the
  grader's requirements, then the grader from the wheel below into a folder
  of its own (the worker's jail shows the grader package's folder; inside
  site-packages that would be every library, see :mod:`grader.sandbox.launch`);
- ``run_autograder``: runs ``grader gradescope run`` (:mod:`grader.gradescope_run`)
  and writes a results.json saying what happened if that could not;
- ``autograder.json``: which assignment, and how hidden tests are shown;
- ``requirements.txt`` and ``dist/grader-<version>-py3-none-any.whl``: the
  running grader (:mod:`grader.wheel`), so the grade matches ``grader check``;
- ``assignments/<name>/`` (manifest, public tests) and ``solutions/<name>/``
  (master notebook, hidden tests): exactly :func:`grader.digests.suite_paths`,
  without caches, bytecode or hidden files.

Entries are sorted, dated 1980-01-01 and given fixed permissions (0755 for
the two scripts, 0644 otherwise), so building twice gives the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Literal

import grader
from grader.assignment import Assignment, Solutions, check_test_syntax
from grader.digests import suite_paths
from grader.errors import InputError
from grader.wheel import build_wheel, zip_info

HiddenVisibility = Literal["after_published", "after_due_date", "hidden"]
CONFIG = "autograder.json"
# The project's torch pin (README, .ci/run): the CPU wheel, never an unpinned multi-GB CUDA build.
TORCH_VERSION = "2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
VENV = "/opt/grader-venv"
PACKAGE_DIR = "/opt/grader-package"
EXECUTABLE = frozenset({"setup.sh", "run_autograder"})
# Never shipped, wherever they appear in the suite's folders.
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git", ".venv", "venv", ".tox",
                  ".mypy_cache", ".ruff_cache"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, from /autograder/source, to build the autograder's image
# (its Ubuntu base image). Written by `grader gradescope build` (grader {version}, assignment {name}).
set -euxo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv
# The grader needs Python 3.11 or newer: Ubuntu 24.04 has 3.12; on 22.04 (3.10) take 3.11 from deadsnakes.
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    apt-get install -y -qq software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update -qq
    apt-get install -y -qq python3.11 python3.11-venv
    PYTHON=python3.11
fi
# A virtual environment of its own: Ubuntu's system Python refuses pip installs (PEP 668).
"$PYTHON" -m venv {venv}
# torch first, pinned to the CPU build: never an unpinned multi-GB CUDA build.
{venv}/bin/pip install --no-cache-dir torch=={torch} --index-url {torch_index}
{venv}/bin/pip install --no-cache-dir -r requirements.txt
# The grader that built this zip, in a folder of its own: the worker's sandbox shows the grader
# package's folder to the student's code, which must not be all of site-packages.
{venv}/bin/pip install --no-cache-dir --no-deps --target {package_dir} dist/{wheel}
PYTHONPATH={package_dir} {venv}/bin/python -m grader --version
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission, as root. It grades the notebook in
# $AUTOGRADER_ROOT/submission (default /autograder) in the grader's sandbox and writes
# $AUTOGRADER_ROOT/results/results.json, which exists whatever happens.
# AUTOGRADER_PYTHON picks another interpreter (the project's tests use their own environment).
set -u
root="${{AUTOGRADER_ROOT:-/autograder}}"
python="${{AUTOGRADER_PYTHON:-{venv}/bin/python}}"
export AUTOGRADER_ROOT="$root"
export PYTHONPATH="{package_dir}${{PYTHONPATH:+:$PYTHONPATH}}"
mkdir -p "$root/results"
rm -f "$root/results/results.json"  # an old file must not stand in for this run
cd "$root" || exit 3
"$python" -m grader gradescope run
status=$?
if [ ! -s "$root/results/results.json" ]; then
    cat > "$root/results/results.json" <<EOF
{{"score": 0, "output": "The autograder could not run (exit status $status). This is not a problem with your \
notebook: please tell the course staff.", "output_format": "text", "stdout_visibility": "hidden", "tests": []}}
EOF
fi
exit "$status"
"""


def autograder_entries(assignment: Assignment, solutions: Solutions,
                       hidden_visibility: HiddenVisibility = "after_published") -> dict[str, bytes]:
    """Every file of the zip, by its path in the zip."""
    check_test_syntax([assignment.public_tests, solutions.hidden_tests])
    wheel = build_wheel()
    fields = {"version": grader.__version__, "name": assignment.name, "venv": VENV, "torch": TORCH_VERSION,
              "torch_index": TORCH_INDEX, "package_dir": PACKAGE_DIR, "wheel": wheel.filename}
    config = {
        "assignment": f"assignments/{assignment.name}",
        "solutions": "solutions",
        "hidden_visibility": hidden_visibility,
        "grader_version": grader.__version__,
    }
    entries = {
        "setup.sh": SETUP_SH.format(**fields).encode(),
        "run_autograder": RUN_AUTOGRADER.format(**fields).encode(),
        CONFIG: (json.dumps(config, indent=2, sort_keys=True) + "\n").encode(),
        "requirements.txt": "".join(f"{r}\n" for r in wheel.requires).encode(),
        f"dist/{wheel.filename}": wheel.data,
    }
    for path in suite_paths(assignment, solutions):
        if path.is_relative_to(assignment.root):
            base, prefix = assignment.root, f"assignments/{assignment.name}"
        elif path.is_relative_to(solutions.root):
            base, prefix = solutions.root, f"solutions/{assignment.name}"
        else:
            raise InputError(f"{path} is outside the assignment's folder {assignment.root}: it cannot go in the zip")
        for file in _files(path):
            entries[f"{prefix}/{file.relative_to(base).as_posix()}"] = file.read_bytes()
    return entries


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    """``entries`` as a reproducible zip: sorted, fixed dates, 0755 for the scripts and 0644 for the rest."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(entries):
            archive.writestr(zip_info(name, executable=name in EXECUTABLE), entries[name])
    return buffer.getvalue()


def build_autograder_zip(assignment: Assignment, solutions: Solutions, out: Path,
                         hidden_visibility: HiddenVisibility = "after_published") -> list[str]:
    """Write the autograder zip of ``assignment`` to ``out``; the names of its entries."""
    entries = autograder_entries(assignment, solutions, hidden_visibility)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(zip_bytes(entries))
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror or exc}") from None
    return sorted(entries)


def _files(path: Path) -> list[Path]:
    """The files of ``path`` (a file or a folder) to ship: no caches, bytecode or hidden files."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        return []
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix not in (".pyc", ".pyo")
                  and not any(part in _SKIPPED_PARTS or part.startswith(".")
                              for part in p.relative_to(path).parts))
