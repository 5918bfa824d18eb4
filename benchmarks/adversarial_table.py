"""The adversarial corpus as a table: each attack, its grade, the time it took and the traces it left.

Grades every case of ``tests/sandbox/corpus.py`` with the real command line
(``grader check --solutions``, as ``tests/sandbox/test_adversarial.py`` does)
and prints one Markdown row per case: the parts it lost, what the grade says,
seconds, processes left running and files written outside the worker's
directory (both must be 0), and whether the grade was the honest one.

    python benchmarks/adversarial_table.py [--cases REGEX]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sandbox.corpus import CASES, PARTS, run_case


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="only the cases whose name matches this regular expression")
    pattern = re.compile(parser.parse_args().cases)
    print("| attack | kind | grade (add/square/halve) | what the grade says | s | processes left | files outside |"
          " honest |")
    print("|---|---|---|---|---|---|---|---|")
    dishonest = 0
    for case in CASES:
        if not pattern.search(case.name):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            outcome = run_case(case, Path(tmp))
        fractions = outcome.part_fractions
        want = {part: 0.0 if part in case.lost else 1.0 for part in PARTS}
        honest = (outcome.grade is not None and fractions == want and not outcome.processes_left
                  and not outcome.files_outside and outcome.connections == 0
                  and (case.says is None or case.says in outcome.text))
        dishonest += not honest
        says = next((line for line in outcome.text.splitlines() if case.says and case.says in line),
                    outcome.text.splitlines()[0] if outcome.text else "")
        grade = "/".join(f"{fractions.get(p, 0):.0%}" for p in PARTS) if outcome.grade else "no grade"
        print(f"| {case.name} | {case.kind} | {grade} | {says[:90].replace('|', '/')} | {outcome.seconds:.1f} |"
              f" {len(outcome.processes_left)} | {len(outcome.files_outside)} | {'yes' if honest else 'NO'} |")
    return 1 if dishonest else 0


if __name__ == "__main__":
    sys.exit(main())
