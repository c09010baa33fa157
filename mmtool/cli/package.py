"""`build.py package --env E [--endpoint KEY]`: `make package`; the bundle is made by `mmtool.handoff.package`."""

from __future__ import annotations

import argparse

from mmtool.errors import UsageError
from mmtool.handoff.package import package


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", metavar="KEY", help="a fleet: bundle only this endpoint's stacks (its key under "
                        "endpoints:), for a team that deploys it into an environment whose shared stacks exist")


def cmd_package(args: argparse.Namespace, paths) -> int:
    if not args.env:
        raise UsageError("package needs an environment: --env <name> (make package ENV=<name>)")
    package(paths, args.env, endpoint=args.endpoint)
    return 0
