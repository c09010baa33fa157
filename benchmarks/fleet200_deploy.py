"""The first deploy, and a no-change deploy, of a generated 200-endpoint environment (tests/fleet_data.py: 40 created,
160 existing; 243 stacks) against a local moto server: what tests/deployer/test_fleet_scale.py does for 200 in a
plan and for 20 in a deploy, too long for `make test`. Reports the times; fails if the first deploy fails (the engine
waits for every stack to complete) or the second deploy changes anything. No target: moto's speed is not AWS's.

    python -m benchmarks fleet200_deploy          # or: make bench ARGS=fleet200_deploy
    python -m benchmarks.fleet200_deploy --endpoints 50
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = 200


def build(folder: Path, endpoints: int) -> Path:
    from mmtool.generate.pipeline import build as run_build
    from mmtool.config.workspace import Paths
    from tests.fleet_data import fleet_data

    (folder / "params").mkdir(parents=True)
    shutil.copytree(ROOT / "scripts", folder / "scripts")
    data = fleet_data(endpoints, quotas={"event_bus_rules": max(300, 2 * endpoints)})
    (folder / "params" / "staging.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    run_build(Paths(folder), ["staging"], run_lint=False, out=lambda *_: None)
    return folder / "build" / "staging" / "manifest.json"


def run(endpoints: int = ENDPOINTS, max_parallel: int = 4) -> bool:
    from rich.console import Console

    from benchmarks.fleet import _isolated_environment
    from deployer import cli
    from deployer.moto_server import MotoServer

    started = time.perf_counter()
    manifest = build(Path(tempfile.mkdtemp(prefix="bench-fleet200-")), endpoints)
    built = time.perf_counter() - started
    stacks = len(json.loads(manifest.read_text())["stacks"])
    saved = dict(os.environ)
    with MotoServer() as server:
        os.environ.update(_isolated_environment(server.url))
        try:
            import boto3

            from tests.fleet_data import put_baselines

            region = json.loads(manifest.read_text())["region"]
            put_baselines(boto3.client("s3", endpoint_url=server.url, region_name=region), endpoints)
            flags = dict(yes=True, skip_account_check=True, endpoint_url=server.url, max_parallel=max_parallel)
            first_out, again_out = Console(file=io.StringIO(), width=200), Console(file=io.StringIO(), width=200)
            started = time.perf_counter()
            first = cli.deploy(manifest, poll_interval=0.05, console=first_out, **flags)  # waits for every stack
            first_time = time.perf_counter() - started
            started = time.perf_counter()
            again = cli.deploy(manifest, poll_interval=0.05, console=again_out, **flags)
            again_time = time.perf_counter() - started
        finally:
            os.environ.clear()
            os.environ.update(saved)
    unchanged = again == 0 and "No changes." in again_out.file.getvalue()
    print(f"{endpoints} endpoints, {stacks} stacks: build (no lint) {built:.1f} s; first deploy {first_time:.1f} s "
          f"(exit {first}); no-change deploy {again_time:.1f} s; --max-parallel {max_parallel}")
    if first != 0:
        print(f"  the first deploy failed:\n{first_out.file.getvalue()[-3000:]}")
    elif not unchanged:
        print(f"  the second deploy was not a no-change deploy:\n{again_out.file.getvalue()[-3000:]}")
    return first == 0 and unchanged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet200_deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=ENDPOINTS)
    parser.add_argument("--max-parallel", type=int, default=4)
    args = parser.parse_args(argv)
    return 0 if run(args.endpoints, args.max_parallel) else 1


if __name__ == "__main__":
    sys.exit(main())
