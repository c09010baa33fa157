"""`make demo` (`python -m mmtool.demo [--env dev]`): the whole lifecycle on a local moto server.

Builds the environment into build/<env>/ as `make build` does, builds it a second time in a temporary
folder with one change to params/<env>.yaml (the data-quality job's instance type, so its job definition
is replaced), then hands both manifests to `deployer.demo`, which deploys, deploys again (no changes),
prints the outputs, plans and deploys the change, destroys, and shows the bucket, its objects and the key
still there. Nothing is written to params/ and nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

from mmtool.cli import Paths, build
from mmtool.errors import ToolError

# The change the demo makes: the data-quality job's instance type (every property of a SageMaker job
# definition is create-only, so CloudFormation replaces it).
CHANGED_SETTING = ("monitoring", "data_quality", "instance_type")
OTHER_INSTANCE_TYPE = {"ml.m5.large": "ml.m5.xlarge"}  # anything else becomes ml.m5.large


def changed_params(text: str, source: str) -> tuple[str, str, str]:
    """params/<env>.yaml text with the data-quality instance type changed; returns (text, before, after)."""
    data = yaml.safe_load(text)
    section = data
    try:
        for key in CHANGED_SETTING[:-1]:
            section = section[key]
    except (KeyError, TypeError):
        raise ToolError(f"{source}: {'.'.join(CHANGED_SETTING[:-1])} is missing; the demo changes "
                        f"{'.'.join(CHANGED_SETTING)}, so the environment needs a data-quality monitor") from None
    before = section.get(CHANGED_SETTING[-1]) or "ml.m5.xlarge"  # the params model's default
    after = OTHER_INSTANCE_TYPE.get(before, "ml.m5.large")
    section[CHANGED_SETTING[-1]] = after
    return yaml.safe_dump(data, sort_keys=False), before, after


def build_changed(paths: Paths, env: str, scratch: Path, *, run_lint: bool = True, out=print) -> Path:
    """Build `env` with the demo's change into `scratch` (params/ and scripts/ copied); return its manifest."""
    source = paths.params / f"{env}.yaml"
    text, before, after = changed_params(source.read_text(), f"params/{env}.yaml")
    (scratch / "params").mkdir(parents=True)
    (scratch / "params" / f"{env}.yaml").write_text(text)
    shutil.copytree(paths.root / "scripts", scratch / "scripts")
    manifest = build(Paths(scratch), [env], run_lint=run_lint, out=lambda *_: None)[0]
    out(f"{env} with {'.'.join(CHANGED_SETTING)} {before} -> {after}: {manifest.parent}/ "
        f"({'lint clean' if run_lint else 'not linted'}; built from a copy of params/{env}.yaml)")
    return manifest


def main(argv: list[str] | None = None, paths: Paths | None = None, *, run_lint: bool = True) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmtool.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="dev", help="environment to demonstrate (default dev)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    paths = paths or Paths()
    try:
        if not (paths.params / f"{args.env}.yaml").exists():
            raise ToolError(f"no params file params/{args.env}.yaml; run `make demo` with an environment that has one")
        manifest = build(paths, [args.env], run_lint=run_lint)[0]
        with tempfile.TemporaryDirectory(prefix="mmtool-demo-") as scratch:
            changed = build_changed(paths, args.env, Path(scratch), run_lint=run_lint)
            from deployer import demo

            forwarded = ["--manifest", str(manifest), "--changed-manifest", str(changed)]
            return demo.main(forwarded + (["--debug"] if args.debug else []))
    except ToolError as exc:
        if args.debug:
            raise
        print(str(exc), file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
