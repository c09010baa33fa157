"""`make demo` (`python -m mmtool.cli.demo [--env dev]`): the whole lifecycle on a local moto server.

Builds the environment into build/<env>/ as `make build` does, builds it a second time in a temporary
folder with one change to params/<env>.yaml (the data-quality job's instance type, so its job definition
is replaced), then hands both manifests to `deployer.demo`, which deploys, deploys again (no changes),
prints the outputs, plans and deploys the change, destroys, and shows the bucket, its objects and the key
still there. Nothing is written to params/ and nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from mmtool.generate.demo_change import build_changed
from mmtool.generate.pipeline import build
from mmtool.cli.boundary import boundary
from mmtool.config.workspace import Paths
from mmtool.errors import ToolError


def main(argv: list[str] | None = None, paths: Paths | None = None, *, run_lint: bool = True) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmtool.cli.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev", help="environment to demonstrate (default dev)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    paths = paths or Paths()

    def run() -> int:
        if not (paths.params / f"{args.env}.yaml").exists():
            raise ToolError(f"no params file params/{args.env}.yaml; run `make demo` with an environment that has one")
        manifest = build(paths, [args.env], run_lint=run_lint)[0]
        with tempfile.TemporaryDirectory(prefix="mmtool-demo-") as scratch:
            changed = build_changed(paths, args.env, Path(scratch), run_lint=run_lint)
            from deployer import demo

            forwarded = ["--manifest", str(manifest), "--changed-manifest", str(changed)]
            return demo.main(forwarded + (["--debug"] if args.debug else []))

    return boundary(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
