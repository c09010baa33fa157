"""Cold `make build` of a 200-endpoint environment against a 1-endpoint one. Target: at most 1.5x.

Both environments are params/staging.yaml with its `endpoints:` replaced by the generated fleet of
tests/fleet_data.py: every fifth endpoint a copy of its first created endpoint (every monitor on, so the largest
monitoring parameter file) with its own model artifact, the others copies of its existing endpoint, e000..e199
(40 created, 160 existing; the raised EventBridge quota declared), or e000 (created) alone.
Each figure is the best of several runs of the real command line in a scratch folder with no build/ and
no .cache/, the two environments built in turn in each round. The target is on `make build`; `make lint` (the build, then cfn-lint) is timed the same way with no
target: what keeps its ratio low is mmtool.generate.parameter_sets (cfn-lint sees one parameter file per lint
class, and every file's values are checked against the template).

    python -m benchmarks fleet_build          # or: make bench ARGS=fleet_build
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.build import DRIVER

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.5
ENDPOINTS = 200
RUNS = 5


def scratch_environment(folder: Path, endpoints: int) -> Path:
    """A scratch repository root whose only environment is staging with ``endpoints`` copies of one endpoint."""
    from tests.fleet_data import fleet_data

    (folder / "params").mkdir(parents=True)
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    data = fleet_data(endpoints, quotas={"event_bus_rules": max(300, 2 * endpoints)})
    (folder / "params" / "staging.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


LINT_DRIVER = DRIVER.replace("main(['build']", "main(['lint']")


def _cold(folder: Path, driver: str) -> float:
    for generated in ("build", ".cache"):
        shutil.rmtree(folder / generated, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", driver, str(folder)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cold_builds(one: Path, fleet: Path, runs: int = RUNS, driver: str = DRIVER) -> tuple[float, float]:
    """(best one-endpoint time, best fleet time) over `runs` rounds, the two taken in turn in each round: whatever
    the machine does meanwhile (its file system still writing back the last round's deleted build, here) falls on
    both alike."""
    pairs = [(_cold(one, driver), _cold(fleet, driver)) for _ in range(runs)]
    return min(p[0] for p in pairs), min(p[1] for p in pairs)


def run(endpoints: int = ENDPOINTS, runs: int = RUNS) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        one_folder = scratch_environment(Path(tmp) / "one", 1)
        fleet_folder = scratch_environment(Path(tmp) / "fleet", endpoints)
        one, fleet = cold_builds(one_folder, fleet_folder, runs)
        one_linted, fleet_linted = cold_builds(one_folder, fleet_folder, min(runs, 3), LINT_DRIVER)
    ratio = fleet / one
    print(f"cold make build, 1 endpoint:    {one:5.2f} s  (best of {runs})")
    print(f"cold make build, {endpoints} endpoints: {fleet:5.2f} s  (ratio {ratio:.2f}, target <= {TARGET_RATIO})")
    print(f"cold make lint, 1 endpoint:     {one_linted:5.2f} s")
    print(f"cold make lint, {endpoints} endpoints:  {fleet_linted:5.2f} s  (ratio {fleet_linted / one_linted:.2f}, "
          "no target)")
    return ratio <= TARGET_RATIO


if __name__ == "__main__":
    # python -m benchmarks.fleet_build [endpoints [runs]]
    sys.exit(0 if run(*(int(a) for a in sys.argv[1:3])) else 1)
