"""Shared fixtures: a scratch copy of the repository's inputs, and one real build of every environment."""

from __future__ import annotations

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
    """Every environment built once, linted for real (no lint cache), shared by the tests that only read."""
    paths = scratch_root(tmp_path_factory.mktemp("built"))
    build(paths, paths.environments(), out=lambda *_: None)
    return paths


def dev_params() -> dict:
    return yaml.safe_load((REPO / "params" / "dev.yaml").read_text())


def write_params(paths: Paths, data: dict, env: str = "dev") -> Path:
    path = paths.params / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
