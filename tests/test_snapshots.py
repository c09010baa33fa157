"""Golden snapshots: the generated templates and parameter files equal the reviewed ones."""

from __future__ import annotations

import difflib

from mmtool.config.workspace import Paths
from tests.conftest import REPO
from tests.snapshots import SNAPSHOTS, expected_files


def test_generated_output_matches_the_snapshots():
    actual = expected_files(Paths(REPO))
    stored = {str(p.relative_to(SNAPSHOTS)): p.read_bytes() for p in SNAPSHOTS.rglob("*") if p.is_file()}
    assert sorted(stored) == sorted(actual), "files added or removed: run `make snapshots` and review the diff"
    for name, content in actual.items():
        if stored[name] != content:
            diff = "".join(difflib.unified_diff(stored[name].decode().splitlines(True),
                                                content.decode().splitlines(True), name, "generated", n=2))
            raise AssertionError(f"{name} differs from its snapshot (run `make snapshots`, review):\n{diff[:4000]}")
