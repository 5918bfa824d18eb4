"""The guides in docs/ run as written: every ```bash block, from a copy of the checkout's root."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

DOCS = REPO / "docs"
# What a checkout holds beside its sources: caches, environments, outputs.
UNTRACKED = (".git", ".venv", ".tox", "__pycache__", ".*_cache", "*.egg-info", "graded")
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def test_every_guide_has_commands() -> None:
    pages = sorted(DOCS.glob("*.md"))
    assert {p.name for p in pages} >= {"student.md", "instructor.md"}
    assert all(blocks(p) for p in pages if p.name in ("student.md", "instructor.md"))


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_the_guide_runs_as_written(page: str, tmp_path: Path) -> None:
    """Each page's blocks run in order, in one fresh copy of the checkout (later blocks use earlier outputs)."""
    root = tmp_path / "root"
    shutil.copytree(REPO, root, ignore=shutil.ignore_patterns(*UNTRACKED))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for number, block in enumerate(blocks(DOCS / page), 1):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{page}, block {number}:\n{block}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        assert "Traceback" not in proc.stderr, f"{page}, block {number}: {proc.stderr[-2000:]}"
