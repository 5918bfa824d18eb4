"""What every subcommand shares: exit codes, error handling, common options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from grader.errors import GraderError, InputError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def one_line_errors(command: F) -> F:
    """Turn the grader's errors into a one-line message and its exit code."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GraderError as exc:
            click.echo(f"grader: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("grader: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            click.echo(f"grader: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def parse_limits(values: tuple[str, ...]) -> dict[str, str]:
    """``--limit NAME=VALUE`` options as a mapping (checked when applied)."""
    limits = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--limit takes NAME=VALUE, not {value!r}")
        limits[name.strip()] = setting.strip()
    return limits


limit_option = click.option(
    "--limit", "limits", multiple=True, metavar="NAME=VALUE",
    help="Override a limit of the assignment, e.g. --limit cell_timeout=30 --limit memory=1GiB.",
)
