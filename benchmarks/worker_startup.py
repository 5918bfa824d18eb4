"""What the worker's isolation layers cost at start-up: spawn to ``ready`` frame, jailed vs not.

Runs are interleaved (jailed, plain, jailed, ...) so that the machine's noise
hits both alike; the ratio of medians is what to read. The time includes the
worker's import of torch, numpy and IPython, which dominates.

    python benchmarks/worker_startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

from grader import codec
from grader.limits import Limits
from grader.sandbox.launch import spawn_worker


def time_to_ready(isolate: bool) -> tuple[float, list[str]]:
    """Seconds from spawn to the ready frame, and the layers the worker reported."""
    start = time.perf_counter()
    worker = spawn_worker(Limits().to_env(), isolate=isolate)
    try:
        frame = codec.FrameReader(worker.from_worker).read(time.monotonic() + 120)
        elapsed = time.perf_counter() - start
        assert frame is not None, worker.startup_log()
        reply = codec.unpack(*frame)
        return elapsed, list(reply["sandbox"])
    finally:
        worker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    times: dict[bool, list[float]] = {True: [], False: []}
    layers: dict[bool, list[str]] = {}
    time_to_ready(True)  # warm the page cache
    for _ in range(runs):
        for isolate in (True, False):
            elapsed, layers[isolate] = time_to_ready(isolate)
            times[isolate].append(elapsed)
    for isolate in (True, False):
        values = times[isolate]
        print(f"{'jailed' if isolate else 'plain '}: median {statistics.median(values) * 1000:7.1f} ms, "
              f"min {min(values) * 1000:7.1f} ms, max {max(values) * 1000:7.1f} ms")
        print(f"        layers: {', '.join(layers[isolate])}")
    ratio = statistics.median(times[True]) / statistics.median(times[False])
    overhead = statistics.median(times[True]) - statistics.median(times[False])
    print(f"ratio of medians: {ratio:.3f} (jailed - plain: {overhead * 1000:+.1f} ms over {runs} runs each)")


if __name__ == "__main__":
    main()
