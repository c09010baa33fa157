"""`build.py validate|build|lint [--env E]`: the offline verbs of `make validate`, `make build`, `make lint`.

`build` validates and synthesizes, like `cdk synth`; `lint` builds the same way and lints every template with
cfn-lint: the offline gate for a pipeline. plan, deploy, package, catalog and dry-run build and lint first.
"""

from __future__ import annotations

import argparse

from mmtool.config.workspace import Paths, environments, validate
from mmtool.generate.pipeline import build

NOT_LINTED = ("not linted: `make lint` builds and runs cfn-lint, the offline check for a pipeline "
              "(plan, deploy, package and catalog lint before they act)")


def cmd_validate(args: argparse.Namespace, paths: Paths) -> int:
    envs = environments(paths, args.env)
    validate(paths, envs)
    print(f"valid: {', '.join(f'params/{e}.yaml' for e in envs)}")
    return 0


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, environments(paths, args.env), run_lint=False)
    print(NOT_LINTED)
    return 0


def cmd_lint(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, environments(paths, args.env))
    return 0
