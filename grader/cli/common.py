"""What every subcommand shares: exit codes, error handling, common options."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from grader.assignment import Assignment, load_assignment, locate_assignment
from grader.errors import GraderError, InputError
from grader.gradebook import Gradebook

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
        except sqlite3.Error as exc:  # locked by another command, read-only, a disk full: what was recorded stays
            hint = " (another grader command is using it?)" if "locked" in str(exc) else ""
            click.echo(f"grader: the gradebook: {exc}{hint}", err=True)
            sys.exit(InputError.exit_code)
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            click.echo(f"grader: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


def report_path(path: Path) -> Path:
    """``path``, where a report is to be written, unless a database is there: a gradebook given as its own CSV."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError:
        return path
    if head == b"SQLite format 3\x00":
        raise InputError(f"{path} is a database (a gradebook?): write the report to another file")
    return path


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


def gradebook_option(**kwargs: Any) -> Callable[[F], F]:
    """``--gradebook PATH``: the SQLite gradebook (see :mod:`grader.gradebook`)."""
    return click.option("--gradebook", type=click.Path(path_type=Path, dir_okay=False), metavar="PATH",
                        help="The gradebook file (SQLite).", **kwargs)


assignment_choice_option = click.option(
    "--assignment", metavar="NAME_OR_DIR",
    help="Which assignment of the gradebook (default: its only one); a folder or a name found in "
         "assignments/<name> here or above also gives the manifest's question order.",
)


def choose_assignment(gradebook: Gradebook, spec: str | None) -> tuple[str, Assignment | None]:
    """The assignment to export from ``gradebook``, and its manifest when one can be found."""
    names = gradebook.assignments()
    manifest = load_assignment(Path(spec)) if spec is not None and Path(spec).is_dir() else None
    if manifest is not None:
        spec = manifest.name
    if spec is None:
        if not names:
            raise InputError(f"the gradebook {gradebook.path} has no grades yet")
        if len(names) > 1:
            raise InputError(f"the gradebook holds several assignments ({', '.join(names)}); pass --assignment")
        spec = names[0]
    if spec not in names:
        raise InputError(f"the gradebook {gradebook.path} has no grades for {spec!r}"
                         + (f" (it has {', '.join(names)})" if names else ""))
    return spec, manifest or locate_assignment(spec, Path.cwd())
