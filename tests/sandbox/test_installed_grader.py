"""The jail of a grader installed by pip (site-packages, as in CI) binds the installation whole."""

from __future__ import annotations

import json
import os
import site
import sys
from pathlib import Path

import pytest

import grader
from grader.sandbox import launch
from grader.sandbox.cgroups import WorkerCgroups


def _readonly() -> list[str]:
    config = launch.jail_config(Path("/r"), Path("/w"), sys.executable, WorkerCgroups(), disk=2**20)
    return list(json.loads(config)["readonly"])


def test_installed_grader_sees_its_site_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    packages = os.path.realpath(site.getsitepackages()[0])
    monkeypatch.setattr(grader, "__file__", os.path.join(packages, "grader", "__init__.py"))
    readonly = _readonly()
    assert any(packages == p or packages.startswith(p + "/") for p in readonly), readonly
    assert os.path.join(packages, "grader") not in readonly  # already inside a bound path


def test_checkout_stays_hidden() -> None:
    checkout = str(Path(grader.__file__).resolve().parent.parent)
    readonly = _readonly()
    assert not any(checkout == p or checkout.startswith(p + "/") for p in readonly)
    assert str(Path(grader.__file__).resolve().parent) in readonly
