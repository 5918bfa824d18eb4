"""``python -m grader``: the command line."""

from grader.cli.main import run

if __name__ == "__main__":
    run()
