"""`build.py package --env E`: `make package`; the bundle is made by `mmtool.handoff.package`."""

from __future__ import annotations

import argparse

from mmtool.errors import UsageError
from mmtool.handoff.package import package


def cmd_package(args: argparse.Namespace, paths) -> int:
    if not args.env:
        raise UsageError("package needs an environment: --env <name> (make package ENV=<name>)")
    package(paths, args.env)
    return 0
