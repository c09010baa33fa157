"""A no-change deploy of a 25-endpoint fleet vs a 1-endpoint environment against a local moto server.

Both environments are deployed once (untimed), then each no-change deploy is timed: as a user runs it
(a fresh `python -m deployer deploy --yes` process, the figure the target applies to) and the engine
alone (in-process, after start-up and imports). Target: the fleet in at most 5x the time of one endpoint.

By default the two manifests are written by hand (tests/deployer/envs.fleet_env: per endpoint an endpoint
stack and a monitoring stack, one template per stack kind, the shared foundation/network/alarms
stacks). A real build's manifests can be given instead, e.g. once the build produces fleets:

    python -m benchmarks fleet                        # or: make bench ARGS=fleet
    python -m benchmarks.fleet --runs 5 --max-parallel 8
    python -m benchmarks.fleet --fleet build/staging/manifest.json --single build/dev/manifest.json
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 5.0
ENDPOINTS = 25
RUNS = 3


def hand_written(root: Path, endpoints: int) -> Path:
    from tests.deployer.envs import fleet_env

    keys = ["churn"] if endpoints == 1 else [f"model-{i:02d}" for i in range(1, endpoints + 1)]
    return fleet_env(root, keys).manifest_path


def _isolated_environment(url: str) -> dict[str, str]:
    """Fake credentials, no profile or metadata service: nothing can reach AWS. moto reads a TemplateURL
    from its own S3 only when the host is localhost (templates over 51,200 bytes of a real build)."""
    from deployer.moto_server import FAKE_CREDENTIALS

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(FAKE_CREDENTIALS)
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_ENDPOINT_URL=url.replace("127.0.0.1", "localhost"))
    return env


def measure(server, manifest: Path, runs: int, max_parallel: int) -> dict[str, object]:
    """Deploy ``manifest`` once, then time ``runs`` no-change deploys, fresh processes and in-process."""
    from rich.console import Console

    from deployer import cli
    from deployer.manifest import load_manifest

    server.reset()
    env = _isolated_environment(server.url)
    saved = dict(os.environ)
    os.environ.update(env)
    quiet = Console(file=io.StringIO())
    flags = dict(yes=True, skip_account_check=True, endpoint_url=server.url, max_parallel=max_parallel)
    try:
        code = cli.deploy(manifest, poll_interval=0.05, console=quiet, **flags)
        if code != 0:
            raise RuntimeError(f"first deploy of {manifest} failed:\n{quiet.file.getvalue()[-3000:]}")
        command = [sys.executable, "-m", "deployer", "deploy", "--manifest", str(manifest), "--yes",
                   "--skip-account-check", "--endpoint-url", server.url, "--max-parallel", str(max_parallel)]
        fresh, engine = [], []
        for _ in range(runs):
            started = time.perf_counter()
            result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            fresh.append(time.perf_counter() - started)
            if result.returncode != 0 or "No changes." not in result.stdout:
                raise RuntimeError(f"no-change deploy of {manifest} did not find 'No changes.':\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
            started = time.perf_counter()
            cli.deploy(manifest, console=Console(file=io.StringIO()), **flags)
            engine.append(time.perf_counter() - started)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    loaded = load_manifest(manifest)
    return {"stacks": len(loaded.stacks), "endpoints": len(loaded.endpoints) or 1,
            "fresh": statistics.median(fresh), "engine": statistics.median(engine), "fresh_runs": fresh}


def run(runs: int = RUNS, *, fleet: Path | None = None, single: Path | None = None, max_parallel: int = 4) -> bool:
    from deployer.moto_server import MotoServer

    folder = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    fleet = fleet or hand_written(folder / "fleet", ENDPOINTS)
    single = single or hand_written(folder / "single", 1)
    with MotoServer() as server:
        one = measure(server, single, runs, max_parallel)
        many = measure(server, fleet, runs, max_parallel)
    ratio = many["fresh"] / one["fresh"]
    print(f"no-change deploy against moto, median of {runs} runs, --max-parallel {max_parallel}")
    for label, figures in (("1 endpoint", one), (f"{many['endpoints']} endpoints", many)):
        print(f"  {label:>12} ({figures['stacks']:>2} stacks): {figures['fresh']:5.2f} s as a fresh process "
              f"(runs {', '.join(f'{t:.2f}' for t in figures['fresh_runs'])}), engine alone {figures['engine']:5.2f} s")
    print(f"  engine alone: {many['engine'] / one['engine']:.1f}x for {many['stacks'] / one['stacks']:.1f}x the stacks")
    met = ratio <= TARGET_RATIO
    print(f"  ratio: {ratio:.2f} (target <= {TARGET_RATIO:g}): {'met' if met else 'MISSED'}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--max-parallel", type=int, default=4)
    parser.add_argument("--fleet", type=Path, help="a real build's fleet manifest (default: a hand-written 25-endpoint one)")
    parser.add_argument("--single", type=Path, help="a real build's 1-endpoint manifest (default: hand-written)")
    args = parser.parse_args(argv)
    return 0 if run(args.runs, fleet=args.fleet, single=args.single, max_parallel=args.max_parallel) else 1


if __name__ == "__main__":
    sys.exit(main())
