"""`build.py package --env E [--endpoint KEY]`: `make package`; the bundle is made by `mmtool.handoff.package`."""

from __future__ import annotations

import argparse

from deployer.flags import add_flag
from mmtool.errors import UsageError
from mmtool.handoff.package import package


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "endpoint", use="bundle only its stacks, for a team that deploys it into an environment whose "
             "shared stacks exist")


def cmd_package(args: argparse.Namespace, paths) -> int:
    if not args.env:
        raise UsageError("package needs an environment: --env <name> (make package ENV=<name>)")
    package(paths, args.env, endpoint=args.endpoint)
    return 0
