"""Cold `make build` of the three environments against `cdk synth` of the peer CDK app, side by side.

The peer is the seed's stacks written with the AWS CDK (`../shared/peers/cdk`: three environments, dev, staging
and prod, each one stack). It is not part of this repository: `make cdk-peer` copies it into .tools/cdk-peer/ and
installs its locked packages there (`npm ci`, about 260 MB); CDK_PEER_DIR names another folder that holds it with
its node_modules/. Without it this benchmark says so and is skipped (not a miss).

Each round runs, one after the other, our cold build (a scratch copy of params/ and scripts/, no build/, no
.cache/: every environment validated and every template and parameter file written, `build.py build` as `make build`
runs it) and the peer's `cdk synth --quiet` (its package.json's "synth" script: TypeScript type check, then the app),
neither of which lints. The ratio is taken
round by round, so a machine whose speed drifts (it is shared) moves both sides alike; the median is quoted.
CPU seconds (user + system, every process each side waited for) are printed beside the wall times: on a loaded
machine they say more than the wall. Target: ours at most 0.35x (wall).

Each round also times a cold `make lint` (the same build, then cfn-lint over every template with its parameter files
and alone: what a pipeline runs as its offline check), printed beside it with no target.

Figures: docs/performance.md (issue 23 part 8).

    python -m benchmarks cdk_compare          # or: make bench ARGS=cdk_compare
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.build import DRIVER

LINT_DRIVER = DRIVER.replace("main(['build']", "main(['lint']")

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.35
ROUNDS = 3


def peer_dir() -> Path:
    return Path(os.environ.get("CDK_PEER_DIR") or ROOT / ".tools" / "cdk-peer")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every finished (waited-for) descendant
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the command and every process it waited for)."""
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def run() -> bool:
    peer = peer_dir()
    cdk = peer / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        print(f"skipped: no CDK peer app with its packages in {peer} ({cdk} is missing); `make cdk-peer` installs "
              "it there, or set CDK_PEER_DIR to a folder that holds it")
        return True
    ours, linted, theirs = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for folder in ("params", "scripts"):
            shutil.copytree(ROOT / folder, scratch / folder)
        for _ in range(ROUNDS):
            for runs, driver in ((ours, DRIVER), (linted, LINT_DRIVER)):
                for generated in ("build", ".cache"):
                    shutil.rmtree(scratch / generated, ignore_errors=True)
                runs.append(_timed([sys.executable, "-c", driver, str(scratch)], ROOT))
            theirs.append(_timed([str(cdk), "synth", "--quiet"], peer))
    for label, runs in (("cold make build, 3 environments:  ", ours), ("cold make lint (build + cfn-lint):", linted),
                        ("cdk synth, 3 stacks:              ", theirs)):
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{label} median {statistics.median(walls):5.2f} s wall (min {min(walls):.2f}), "
              f"{statistics.median(cpus):5.2f} CPU-s")
    ratio = _ratios(ours, theirs, "make build")
    _ratios(linted, theirs, "make lint")
    return ratio <= TARGET_RATIO


def _ratios(ours: list[tuple[float, float]], theirs: list[tuple[float, float]], label: str) -> float:
    """Print the round-by-round median ratios (wall, CPU) of one of our commands to `cdk synth`; return the wall's."""
    wall = statistics.median(a[0] / b[0] for a, b in zip(ours, theirs))
    cpu = statistics.median(a[1] / b[1] for a, b in zip(ours, theirs))
    target = f"target <= {TARGET_RATIO}, wall" if label == "make build" else "no target: cdk synth lints nothing"
    print(f"{label} / cdk synth, median of {ROUNDS} rounds: {wall:.2f} wall, {cpu:.2f} CPU  ({target})")
    return wall


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
