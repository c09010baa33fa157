"""A lint cache warmed once, for tests of commands that build first but test something else than cfn-lint.

A command like `dry-run`, `plan` or `unlock` builds its environment before it acts; cfn-lint is most of that build's
time (about 4-9 CPU-seconds per environment). A test of such a command copies the clean results of one real, linted
build (`.cache/lint/`, docs/build.md#lint-cache) into its own scratch workspace: the build still validates,
synthesizes, writes and lints every template, only a template already found clean with the same inputs is not linted
again. The cache holds only clean results, so a template that changed (a test's own params) is linted for real, and
a finding is never hidden. Tests of the build and of the lint itself do not use it."""

from __future__ import annotations

import shutil
from pathlib import Path

from mmtool.config.workspace import Paths
from mmtool.generate.pipeline import build


def warm(paths: Paths, envs: list[str]) -> Path:
    """Build `envs` in `paths` (linted for real); return its lint cache folder, to copy with `reuse`."""
    build(paths, envs, out=lambda *_: None)
    return paths.cache / "lint"


def reuse(cache: Path, paths: Paths) -> Paths:
    """`paths` with the clean lint results of `cache` (from `warm`) copied into its own `.cache/lint/`."""
    shutil.copytree(cache, paths.cache / "lint", dirs_exist_ok=True)
    return paths
