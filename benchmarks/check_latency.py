"""How long ``grader check`` takes on the reference, against the floor, in one run.

The floor is what any grader must pay: a fresh ``python`` that imports torch,
numpy and sympy and runs the notebook's code cells (IPython magics dropped).
``grader check`` adds the sandboxed worker, the grader's own imports, pytest
and the public + hidden tests. The last row grades the same with
``GRADER_ISOLATION=off`` (the worker process, its rlimits and process group,
without namespaces, uid change, seccomp or cgroups): the sandbox's cost.
Timings on shared machines are noisy: runs are interleaved and the ratio of
medians is what to read.

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
    nb = nbformat.read(MASTER, as_version=4)  # type: ignore[no-untyped-call]
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        cells_file = Path(tmp) / "cells.json"
        cells_file.write_text(json.dumps(cells))
        grade_json = Path(tmp) / "grade.json"
        floor_cmd = [sys.executable, "-c", FLOOR, str(cells_file)]
        check_cmd = [sys.executable, "-m", "grader", "check", str(MASTER), "--solutions", str(REPO / "solutions"),
                     "--json", str(grade_json)]
        public_cmd = [sys.executable, "-m", "grader", "check", str(MASTER)]
        bare = {**env, "GRADER_ISOLATION": "off"}
        commands = {"floor (python + cells)": (floor_cmd, env), "grader check (public tests)": (public_cmd, env),
                    "grader check (public+hidden)": (check_cmd, env),
                    "  same, process boundary only": ([*check_cmd[:-1], str(Path(tmp) / "bare.json")], bare)}
        for command, command_env in commands.values():  # warm the file cache
            timed(command, command_env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (command, command_env) in commands.items():
                times[name].append(timed(command, command_env))
        grade = json.loads(grade_json.read_text())
        bare_grade = json.loads((Path(tmp) / "bare.json").read_text())
    floor = statistics.median(times["floor (python + cells)"])
    print(f"{'':32}{'median s':>10}{'min s':>10}{'ratio':>8}")
    for name, values in times.items():
        print(f"{name:32}{statistics.median(values):10.2f}{min(values):10.2f}{statistics.median(values) / floor:7.2f}x")
    isolated = statistics.median(times["grader check (public+hidden)"])
    print(f"sandbox overhead: all layers / process boundary only = "
          f"{isolated / statistics.median(times['  same, process boundary only']):.3f}")
    print(f"layers: {', '.join(grade['sandbox'])}")
    print(f"without isolation: {', '.join(bare_grade['sandbox'])} (score {bare_grade['score']:g})")
    tests = sum(len(q["tests"]) for q in grade["questions"])
    print(f"(score {grade['score']:g}/{grade['max_score']:g}, {len(grade['questions'])} questions, {tests} tests)")
    timings = grade.get("timings", {})
    print("inside grader check: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items() if isinstance(v, float)))
    resources = grade.get("resources", {})
    if "peak_rss_mib" in resources:
        print(f"worker peak memory (RSS): {resources['peak_rss_mib']:.0f} MiB, CPU {resources['cpu_seconds']:.2f} s")


if __name__ == "__main__":
    main()
