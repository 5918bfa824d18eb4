"""Entry point of the worker process: ``python -m grader.worker READ_FD WRITE_FD``."""

from grader.worker.serve import main

if __name__ == "__main__":
    main()
