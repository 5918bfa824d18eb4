"""``grader ci init``: write the CI configuration of a student repository (see docs/ci.md).

Only parses, checks and writes; the files' text comes from :mod:`grader.ci_workflows`.
"""

from __future__ import annotations

from pathlib import Path

import click

from grader.assignment import MANIFEST, load_assignment
from grader.ci_workflows import (
    PATHS,
    PYTHON_VERSION,
    TORCH_CPU_INDEX,
    TORCH_VERSION,
    Provider,
    WorkflowOptions,
    default_install_spec,
    find_notebook,
    relative_notebook,
    render,
)
from grader.cli.common import one_line_errors
from grader.errors import InputError


@click.group()
def ci() -> None:
    """Continuous integration for student repositories: feedback on every push."""


@ci.command()
@click.option("--provider", type=click.Choice(["github", "gitlab"]), default="github", show_default=True,
              help="GitHub Actions (.github/workflows/grader.yml) or GitLab CI (.gitlab-ci.yml).")
@click.option("--notebook", type=click.Path(path_type=Path, dir_okay=False),
              help="The notebook to check (default: the only .ipynb in the repository, or the assignment's).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              help="The repository's root folder (default: the current folder).")
@click.option("--install-spec", envvar="GRADER_INSTALL_SPEC", metavar="REQUIREMENT",
              help="What the job gives `pip install` for the grader, e.g. "
                   "'grader @ git+https://github.com/COURSE/grader@v1' (default: $GRADER_INSTALL_SPEC, "
                   "else the Git commit or URL this grader was installed from).")
@click.option("--torch-version", default=TORCH_VERSION, show_default=True, help="The torch release installed first.")
@click.option("--torch-index-url", default=TORCH_CPU_INDEX, show_default=True, metavar="URL",
              help="The index torch comes from: PyTorch's CPU-only builds, never the CUDA ones; "
                   "'' for pip's configured index (a mirror on a self-hosted runner).")
@click.option("--python", "python_version", default=PYTHON_VERSION, show_default=True,
              help="The Python version of the job.")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@one_line_errors
def init(provider: Provider, notebook: Path | None, out: Path, install_spec: str | None, torch_version: str,
         torch_index_url: str, python_version: str, force: bool) -> None:
    """Write a CI workflow that runs `grader check` on the repository's notebook."""
    if not out.is_dir():
        raise InputError(f"no folder {out}")
    target = out / PATHS[provider]
    if target.exists() and not force:
        raise InputError(f"{target} exists; pass --force to overwrite it")
    if notebook is not None:
        path = relative_notebook(out, notebook)
    else:
        manifest = load_assignment(out).notebook if (out / MANIFEST).is_file() else None
        path = find_notebook(out, manifest)
    spec = install_spec or default_install_spec()
    if spec is None:
        raise InputError("say how CI installs the grader: --install-spec REQUIREMENT "
                         "(or $GRADER_INSTALL_SPEC), e.g. 'grader @ git+https://github.com/COURSE/grader@v1'")
    options = WorkflowOptions(notebook=path, install_spec=spec, torch_version=torch_version,
                              torch_index_url=torch_index_url, python_version=python_version)
    text = render(provider, options)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"wrote {target}: checks {path} on every push")
