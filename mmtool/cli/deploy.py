"""`build.py plan|deploy|destroy|drift|outputs|unlock --env E`: the deploy engine's commands, behind our CLI.

Each builds the environment first (instant when nothing changed), then hands `build/<env>/manifest.json`
to `deployer.cli`. The engine's own errors (`DeployError`, with their exit codes) are `ToolError`s: they reach
this CLI's single error boundary like every other error. The engine (and boto3) is imported only when one
of these commands runs, so `build.py build` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from mmtool.generate.pipeline import build
from mmtool.config.workspace import environments, validate
from mmtool.errors import UsageError

COMMANDS = {
    "plan": "show what deploy would change, like terraform plan (change sets, replacements flagged)",
    "deploy": "build, plan, confirm and apply: stacks in dependency order, assets uploaded, outputs shown, "
              "baselines copied into the project bucket",
    "destroy": "delete the stacks in reverse order; the bucket and key (and all data) are kept",
    "drift": "detect drift of every stack and list the drifted resources and properties",
    "outputs": "every stack's outputs, as a table or JSON",
    "unlock": "remove the environment's deploy lock left by a run that died (shows who held it, asks first)",
}


def register(command: Callable[..., argparse.ArgumentParser], selected: str | None) -> None:
    """Add the subcommands; the engine's flags are added only for the one being run (lazy import)."""
    for name, help_text in COMMANDS.items():
        parser = command(name, help_text, run)
        if name == selected:
            from deployer import cli as engine

            engine.add_arguments(parser, name)


def resume_command(args: argparse.Namespace) -> str:
    """The command that runs this verb again, spelled the way it was called: `make deploy ENV=prod` from the
    Makefile (build.py), `mmtool deploy --env prod` from the console command a pipeline calls."""
    if getattr(args, "prog", "build.py") == "mmtool":
        return f"mmtool {args.command} --env {args.env}"
    return f"make {args.command} ENV={args.env}"


def unlock_command(args: argparse.Namespace) -> str | None:
    """`mmtool unlock --env prod` for a run of the console command; None: the engine's `make unlock ENV=prod`."""
    if getattr(args, "prog", "build.py") != "mmtool":
        return None
    endpoint = getattr(args, "endpoint", None)
    return f"mmtool unlock --env {args.env}" + (f" --endpoint {endpoint}" if endpoint else "")


def run(args: argparse.Namespace, paths) -> int:
    if not args.env:
        raise UsageError(f"{args.command} needs an environment: --env <name> (make {args.command} ENV=<name>)")
    chosen = environments(paths, args.env)  # an unknown or malformed name: refused here, with its own message
    params = validate(paths, [args.env])[args.env]
    if getattr(args, "endpoint", None) is not None:  # a key params does not have: refused with the known ones (a
        params.endpoint(args.endpoint)               # UsageError), never "not locked" or "no stacks", before a build
    build(paths, chosen, out=lambda line: print(line, file=sys.stderr))
    from deployer import cli as engine

    manifest = paths.build / args.env / "manifest.json"
    err = lambda line: print(line, file=sys.stderr)  # noqa: E731
    # baselines are used from copies the engine makes before the stacks that read them (manifest "copies")
    if args.command in ("plan", "deploy"):  # no schedule for an existing endpoint whose capture would fail it
        from mmtool.operate.adopt import check_before_plan
        from mmtool.operate.awsenv import connect

        check_before_plan(params, getattr(args, "endpoint", None),
                          lambda: connect(params, sagemaker=True, profile=getattr(args, "profile", None),
                                          endpoint_url=getattr(args, "endpoint_url", None)), err)
    if args.command in ("plan", "deploy"):  # the processing engine's jobs need processing-instance quota
        from mmtool.operate.quotas import warn_low_quotas

        warn_low_quotas(params, getattr(args, "endpoint", None),
                        lambda: _service_quotas(params, getattr(args, "profile", None),
                                                getattr(args, "endpoint_url", None)), err)
    return engine.run(args.command, manifest, args, resume_command=resume_command(args),
                      unlock_command=unlock_command(args))


def _service_quotas(params, profile, endpoint_url):
    """A Service Quotas client for the environment's account (its deploy role, as the engine assumes it)."""
    from deployer.aws import make_clients

    return make_clients(params.region, assume_role_arn=params.deploy.assume_role_arn,
                        external_id=params.deploy.external_id, profile=profile,
                        endpoint_url=endpoint_url).client("service-quotas")
