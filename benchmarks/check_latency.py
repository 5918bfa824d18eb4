"""How long ``grader check`` takes on the reference, against the floor, in one run.

The floor is what any grader must pay: a fresh ``python`` that imports torch,
numpy and sympy and runs the notebook's code cells (IPython magics dropped).
``grader check`` adds the sandboxed worker, the grader's own imports, pytest
and the public + hidden tests. Timings on shared machines are noisy: runs are
interleaved and the ratio of medians is what to read.

    python benchmarks/check_latency.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
MASTER = REPO / "solutions" / "optimization_intro" / "solution.ipynb"

FLOOR = """
import sys, json
import torch, numpy, sympy
cells = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for source in cells:
    code = "\\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
    exec(compile(code, "<cell>", "exec"), namespace)
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=False, capture_output=True, env=env, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    nb = nbformat.read(MASTER, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        cells_file = Path(tmp) / "cells.json"
        cells_file.write_text(json.dumps(cells))
        grade_json = Path(tmp) / "grade.json"
        floor_cmd = [sys.executable, "-c", FLOOR, str(cells_file)]
        check_cmd = [sys.executable, "-m", "grader", "check", str(MASTER), "--solutions", str(REPO / "solutions"),
                     "--json", str(grade_json)]
        timed(floor_cmd, env)  # warm the file cache for both
        timed(check_cmd, env)
        floor, check = [], []
        for _ in range(args.runs):
            floor.append(timed(floor_cmd, env))
            check.append(timed(check_cmd, env))
        grade = json.loads(grade_json.read_text())
    print(f"{'':32}{'median s':>10}{'min s':>10}")
    print(f"{'floor (python + cells)':32}{statistics.median(floor):10.2f}{min(floor):10.2f}")
    print(f"{'grader check (public+hidden)':32}{statistics.median(check):10.2f}{min(check):10.2f}")
    print(f"ratio of medians: {statistics.median(check) / statistics.median(floor):.2f}x "
          f"(score {grade['score']:g}/{grade['max_score']:g}, {len(grade['questions'])} questions graded)")
    timings = grade.get("timings", {})
    print("inside grader check: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items() if isinstance(v, float)))
    resources = grade.get("resources", {})
    if "peak_rss_mib" in resources:
        print(f"worker peak memory (RSS): {resources['peak_rss_mib']:.0f} MiB, CPU {resources['cpu_seconds']:.2f} s")


if __name__ == "__main__":
    main()
