"""The ``grader`` command group."""

from __future__ import annotations

import click

import grader
from grader.cli.check import check


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(grader.__version__, prog_name="grader")
def main() -> None:
    """Grade notebook exercises with hidden pytest suites, in a sandbox."""


main.add_command(check)
