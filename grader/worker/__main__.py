"""Entry point of the worker process: ``python -m grader.worker READ_FD WRITE_FD``.

The jail comes first, while the process is single-threaded and before torch
or any student code is loaded; only then is the request loop imported.
"""

from __future__ import annotations

import os
import sys

from grader.worker.jail import enter_from_env

if __name__ == "__main__":
    fds = [int(fd) for fd in sys.argv[1:3]]
    layers, failures = enter_from_env(os.environ, fds)
    for failure in failures:
        print(f"grader worker: sandbox layer not applied: {failure}", file=sys.stderr, flush=True)

    from grader.worker.serve import main

    main(fds[0], fds[1], layers)
