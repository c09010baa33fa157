"""`build.py validate|synth|lint|build [--env E]`: the offline verbs of `make build`, `make validate`, `make lint`."""

from __future__ import annotations

import argparse

from mmtool.generate.pipeline import build, lint_existing
from mmtool.config.workspace import Paths, environments, validate


def cmd_validate(args: argparse.Namespace, paths: Paths) -> int:
    envs = environments(paths, args.env)
    validate(paths, envs)
    print(f"valid: {', '.join(f'params/{e}.yaml' for e in envs)}")
    return 0


def cmd_synth(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, environments(paths, args.env), run_lint=False)
    return 0


def cmd_lint(args: argparse.Namespace, paths: Paths) -> int:
    lint_existing(paths, environments(paths, args.env))
    return 0


def cmd_build(args: argparse.Namespace, paths: Paths) -> int:
    build(paths, environments(paths, args.env))
    return 0
