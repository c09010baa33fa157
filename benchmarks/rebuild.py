"""Change one value in a params file, rebuild: the edit-and-rebuild loop. Target: at most 2 s each.

In a scratch copy of params/ and scripts/: a cold build of the three environments, then, one after another,
four one-value edits (dev's capture sampling, prod's data-quality volume size, dev's schedule, a prod drift
alarm's threshold), each timed as the real command line, all environments (the two untouched ones are skipped by
their fingerprint): `build.py build` as `make build` runs it, then the same edits with `build.py lint` (the build and
cfn-lint, as a pipeline's check runs it). The first edit runs right after the cold build; each edit is then undone
and the rebuild timed again (with `lint`, its lint result is already cached: "warm"). Best of RUNS rounds; the
target is on both commands.

    python -m benchmarks rebuild          # or: make bench ARGS=rebuild
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.build import DRIVER

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 2.0
RUNS = 2
# (what, params file, the text as it is, the text after the edit): one value each
EDITS = [
    ("dev: capture sampling", "dev.yaml", "sampling_percentage: 100", "sampling_percentage: 50"),
    ("prod: volume size", "prod.yaml", "volume_size_gb: 30", "volume_size_gb: 80"),
    ("dev: schedule", "dev.yaml", "schedule: hourly", "schedule: daily"),
    ("prod: drift threshold", "prod.yaml", 'feature: "00000000000000000001", threshold: 0.15',
     'feature: "00000000000000000001", threshold: 0.25'),
]


DRIVERS = {"build": DRIVER, "lint": DRIVER.replace("main(['build']", "main(['lint']")}


def _build(scratch: Path, driver: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", driver, str(scratch)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise SystemExit(f"benchmarks/rebuild.py: {path.name} no longer has exactly one {old!r}; update EDITS")
    path.write_text(text.replace(old, new))


def measure(verb: str = "build") -> dict[str, list[float]]:
    """{edit label: [seconds per round]} of `build.py <verb>`; labels end in ' (undone)' for the rebuild after undoing
    an edit."""
    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for folder in ("params", "scripts"):
            shutil.copytree(ROOT / folder, scratch / folder)
        for _ in range(RUNS):
            for generated in ("build", ".cache"):
                shutil.rmtree(scratch / generated, ignore_errors=True)
            _build(scratch, DRIVERS[verb])  # cold
            for label, file, old, new in EDITS:
                _edit(scratch / "params" / file, old, new)
                figures.setdefault(f"{verb}: {label}", []).append(_build(scratch, DRIVERS[verb]))
                _edit(scratch / "params" / file, new, old)
                figures.setdefault(f"{verb}: {label} (undone)", []).append(_build(scratch, DRIVERS[verb]))
    return figures


def run() -> bool:
    figures = {**measure("build"), **measure("lint")}
    firsts = {f"{verb}: {EDITS[0][0]}" for verb in DRIVERS}
    for label, seconds in figures.items():
        note = "  (right after a cold build)" if label in firsts else ""
        print(f"{label:38s} {min(seconds):5.2f} s{note}")
    worst = max(min(seconds) for seconds in figures.values())
    print(f"slowest: {worst:.2f} s (target <= {TARGET_SECONDS} s)")
    return worst <= TARGET_SECONDS


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
