"""Shared fixtures: a scratch copy of the repository's inputs, and one real build of every environment."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest
import yaml

from mmtool.generate.pipeline import build
from mmtool.config.workspace import Paths

REPO = Path(__file__).resolve().parent.parent


def scratch_root(tmp: Path) -> Paths:
    """A folder with params/ and scripts/ copied from the repository (the code itself is imported)."""
    for folder in ("params", "scripts"):
        shutil.copytree(REPO / folder, tmp / folder)
    return Paths(tmp)


@pytest.fixture
def scratch(tmp_path: Path) -> Paths:
    return scratch_root(tmp_path)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    """Every environment built once, linted for real (no lint cache), shared by the tests that only read.

    Under pytest-xdist the first worker to ask builds it in the session's folder, common to every worker
    (`getbasetemp().parent`, as pytest-xdist's documentation shows), under a file lock; the others wait for it
    and read the same tree, instead of each spending a cold build (about 8 CPU-seconds) on its own copy."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        paths = scratch_root(tmp_path_factory.mktemp("built"))
        build(paths, paths.environments(), out=lambda *_: None)
        return paths
    shared = tmp_path_factory.getbasetemp().parent / "built"
    with open(shared.with_name("built.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (shared / ".built").exists():  # no worker finished it yet (or one failed half-way): build afresh
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            paths = scratch_root(shared)
            build(paths, paths.environments(), out=lambda *_: None)
            (shared / ".built").touch()
    return Paths(shared)


def dev_params() -> dict:
    return yaml.safe_load((REPO / "params" / "dev.yaml").read_text())


def write_params(paths: Paths, data: dict, env: str = "dev") -> Path:
    path = paths.params / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
