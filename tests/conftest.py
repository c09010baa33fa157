"""Shared fixtures: a scratch copy of the repository's inputs, and one real build of every environment."""

from __future__ import annotations

import fcntl
import gc
import os
import shutil
import sys
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


@pytest.fixture(autouse=True)
def _no_hypothesis_gc_callback_after_the_test():
    """Hypothesis times garbage collection with a Python callback in `gc.callbacks`, installed once and kept for the
    rest of the worker's tests. A simulated Ctrl-C or signal (tests/deployer: `_thread.interrupt_main`, `os.kill`)
    that lands while that callback runs raises inside it, where Python only prints "Exception ignored" and the
    KeyboardInterrupt the test waits for is lost (seen once in a fresh clone's run). After each test the callback is
    removed; hypothesis installs it again when its next test asks for it."""
    yield
    junkdrawer = sys.modules.get("hypothesis.internal.conjecture.junkdrawer")
    if junkdrawer is not None and getattr(junkdrawer, "_gc_initialized", False):
        gc.callbacks[:] = [c for c in gc.callbacks if getattr(c, "__module__", None) != junkdrawer.__name__]
        junkdrawer._gc_initialized = False


def dev_params() -> dict:
    return yaml.safe_load((REPO / "params" / "dev.yaml").read_text())


def write_params(paths: Paths, data: dict, env: str = "dev") -> Path:
    path = paths.params / f"{env}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
