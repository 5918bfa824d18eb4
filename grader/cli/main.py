"""The ``grader`` command group."""

from __future__ import annotations

import os
import signal
import sys

import click

import grader
from grader.cli.assign import assign
from grader.cli.check import check
from grader.cli.ci import ci
from grader.cli.export import export
from grader.cli.grade import grade
from grader.cli.gradescope import gradescope
from grader.cli.written import written


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="grader")
def main() -> None:
    """Grade notebook exercises with hidden pytest suites, in a sandbox."""


main.add_command(assign)
main.add_command(check)
main.add_command(ci)
main.add_command(export)
main.add_command(grade)
main.add_command(gradescope)
main.add_command(written)


def run() -> None:
    """The console script: run the command, then leave without tearing the interpreter down.

    Finalising torch's and sympy's modules takes about 0.6 s after a check.
    By the time a command returns, everything it writes has been written and
    closed, and its worker stopped: flush the standard streams and exit.

    A kill (SIGTERM, as a CI job's time-out sends) unwinds like Ctrl-C: the
    workers are stopped and their folders and control groups removed.
    """
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main(prog_name="grader")
        code: object = 0
    except SystemExit as done:
        code = done.code
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _terminated(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
