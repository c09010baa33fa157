"""`build.py catalog --env E`: arguments of `make catalog`; the publishing is `mmtool.handoff.catalog`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deployer.flags import add_flag
from mmtool.generate.pipeline import build
from mmtool.config.workspace import environments, validate
from mmtool.errors import UsageError
from mmtool.handoff.catalog import publish
from mmtool.handoff.package import git_version


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flag(parser, "yes", use="the catalog stack is deployed without asking")
    for name in ("endpoint-url", "profile", "skip-account-check", "wait-for-lock"):
        add_flag(parser, name)
    add_flag(parser, "endpoint", hidden=True)  # refused with the reason, below


def cmd_catalog(args: argparse.Namespace, paths) -> int:

    if not args.env:
        raise UsageError("catalog needs an environment: --env <name> (make catalog ENV=<name>)")
    if args.endpoint:
        raise UsageError(f"catalog --endpoint {args.endpoint}: the products are one per stack kind, shared by every "
                         "endpoint of the environment (each endpoint is a launch of the endpoint and monitoring "
                         f"products); leave ENDPOINT= out: make catalog ENV={args.env}. For one endpoint's templates "
                         f"and parameter files: make package ENV={args.env} ENDPOINT={args.endpoint}")
    build(paths, environments(paths, args.env), out=lambda line: print(line, file=sys.stderr))
    retention = validate(paths, [args.env])[args.env].catalog.version_retention
    build_dir = paths.build / args.env
    manifest = json.loads((build_dir / "manifest.json").read_text())
    from deployer import cli as engine
    from deployer.aws import check_account, make_clients
    from deployer.lock import hold

    settings = manifest["deploy"]
    clients = make_clients(manifest["region"], assume_role_arn=settings["assume_role_arn"],
                           external_id=settings["external_id"], profile=args.profile,
                           endpoint_url=args.endpoint_url)
    identity = check_account(clients, manifest["account_id"], skip=args.skip_account_check)

    def engine_deploy(catalog_manifest: Path) -> int:
        return engine.deploy(catalog_manifest, yes=args.yes, skip_account_check=args.skip_account_check,
                             resume_command=f"make catalog ENV={args.env}", show_outputs=False, clients=clients)

    # the environment's lock (deployer/lock.py) for the uploads, the catalog stack and the versions; the
    # deploy of the catalog stack inside runs under it
    with hold(clients, project=manifest["project"], environment=manifest["environment"], who=identity.arn,
              operation="catalog", wait_seconds=args.wait_for_lock, say=lambda line: print(line, file=sys.stderr)):
        publish(build_dir, clients=clients, engine_deploy=engine_deploy, version=git_version(paths.root),
                retention=retention)
    return 0
