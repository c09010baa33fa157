"""The command-line surface of the engine, for ``build.py`` to wire as subcommands.

``build.py`` (which owns the process boundary) does, per command::

    sub = subparsers.add_parser("deploy", help=...)
    sub.add_argument("--env", required=True)
    deployer.cli.add_arguments(sub, "deploy")
    ...
    # handler (deploy builds first):
    return deployer.cli.run("deploy", Path("build") / env / "manifest.json", args)

and turns :class:`deployer.errors.DeployError` (a :class:`deployer.tool_error.ToolError`, the one base of the
tool's errors) into its message on stderr and ``exc.exit_code`` (``--debug`` re-raises). The plain functions below (``plan``, ``deploy``, ...) are the same thing without argparse.
``python -m deployer <command> --manifest build/dev/manifest.json`` runs them standalone, with the same
error boundary (:func:`main`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable

from rich.console import Console

from .aws import DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, AwsClients, make_clients
from .context import DEFAULT_MAX_PARALLEL, DEFAULT_WAIT_TIMEOUT, Context, Options
from .errors import InputError
from .flags import add_flag
from .manifest import load_manifest
from .reporter import Reporter, make_console
from .tool_error import ToolError

COMMANDS = ("plan", "deploy", "destroy", "drift", "outputs", "unlock")
MAX_PARALLEL_LIMIT = 16


def _bounded(flag: str, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= high:
            raise argparse.ArgumentTypeError(f"{value}: must be 1-{high}")
        return value

    parse.__name__ = flag  # argparse names the flag's type in its message
    return parse


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the engine's flags for ``command`` to an argparse (sub)parser."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; expected one of {COMMANDS}")
    if command == "outputs":
        parser.add_argument("name", nargs="?", default=None, metavar="NAME",
                            help="print only this output's value, as it is (for $(...) in a script): its key "
                            "(BucketName), or <stack>.<key> when several stacks have it (churn-monitoring.ExecutionRoleArn)")
    if command in ("plan", "drift", "outputs"):
        add_flag(parser, "json")
    if command == "plan":
        parser.add_argument(
            "--detailed-exitcode",
            action="store_true",
            help="exit 0 when nothing would change, 2 when the plan has changes (as terraform plan "
            "-detailed-exitcode); bad input then exits 1; other codes as always (docs/deploying.md, 'Exit codes')",
        )
    if command in ("deploy", "destroy", "unlock"):
        add_flag(parser, "yes")
    if command in ("deploy", "destroy"):
        add_flag(parser, "wait-for-lock")
    if command in ("plan", "deploy"):
        parser.add_argument(
            "--allow-replacement",
            action="store_true",
            help="allow the plan to replace or remove protected resources (the bucket, the KMS key) and guarded ones "
                 "(the processing engine's schedule group)",
        )
    if command == "plan":
        parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                            help="save the plan: keep its change sets and write FILE for `deploy --plan FILE`")
    if command == "deploy":
        parser.add_argument("--plan", type=Path, default=None, metavar="FILE", dest="plan_file",
                            help="execute exactly the change sets of a plan saved with `plan --out FILE`, after "
                            "checking that nothing changed since (refused when stale)")
        parser.add_argument(
            "--continue-rollback",
            action="store_true",
            help="for a stack in UPDATE_ROLLBACK_FAILED: continue its rollback, then update it",
        )
    if command == "destroy":
        parser.add_argument(
            "--disable-termination-protection",
            action="store_true",
            help="turn termination protection off (after the confirmation) instead of refusing",
        )
    if command == "unlock":
        add_flag(parser, "endpoint", use="remove its lock (left by a run with --endpoint KEY) instead of the "
                 "environment's")
        _connection_arguments(parser)
        return
    add_flag(parser, "endpoint", use="only its stacks (default: the whole environment)")
    parser.add_argument(
        "--max-parallel",
        type=_bounded("max-parallel", MAX_PARALLEL_LIMIT),
        default=DEFAULT_MAX_PARALLEL,
        metavar="N",
        help=f"stacks worked on at the same time (default {DEFAULT_MAX_PARALLEL}, at most {MAX_PARALLEL_LIMIT})",
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=DEFAULT_WAIT_TIMEOUT,
        metavar="SECONDS",
        help=f"overall limit for waiting on CloudFormation (default {DEFAULT_WAIT_TIMEOUT:g}); nothing is cancelled when reached",
    )
    _connection_arguments(parser)


def _connection_arguments(parser: argparse.ArgumentParser) -> None:
    for name in ("skip-account-check", "profile", "endpoint-url"):
        add_flag(parser, name)
    parser.add_argument(
        "--max-attempts",
        type=_bounded("max-attempts", MAX_ATTEMPTS_LIMIT),
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"attempts per AWS call, throttling included (default {DEFAULT_MAX_ATTEMPTS}, at most {MAX_ATTEMPTS_LIMIT}; "
        "CloudFormation in adaptive retry mode)",
    )


def _context(
    manifest_path: str | Path,
    options: Options,
    *,
    json_output: bool = False,
    clients: AwsClients | None = None,
    console: Console | None = None,
    endpoint_url: str | None = None,
    profile: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ask: Callable[[str], str] | None = None,
    command: str = "deploy",
) -> Context:
    manifest = load_manifest(manifest_path)
    if options.endpoint:
        manifest = manifest.select(options.endpoint, command)
    if options.max_parallel < 1:
        raise InputError(f"--max-parallel={options.max_parallel}: must be at least 1")
    if clients is None:
        settings = manifest.settings
        clients = make_clients(
            manifest.region,
            assume_role_arn=settings.assume_role_arn,
            external_id=settings.external_id,
            profile=profile,
            endpoint_url=endpoint_url,
            max_attempts=max_attempts,
        )
    reporter = Reporter(console or make_console(stderr=json_output))
    reporter.align_labels([spec.stack_name for spec in manifest.stacks])
    return Context(manifest=manifest, clients=clients, reporter=reporter, options=options, ask=ask or input)


def _interruptible(ctx: Context, verb: str, command: Callable[[], int]) -> int:
    """Ctrl-C anywhere in a command (a prompt, a wait before any change): exit 130, cancelling nothing."""
    from .graph import interrupted

    try:
        return command()
    except KeyboardInterrupt:
        raise interrupted(ctx, verb) from None


def _options(**kwargs: Any) -> Options:
    poll = kwargs.pop("poll_interval", None)
    options = Options(**{k: v for k, v in kwargs.items() if v is not None})
    if poll is not None:
        options.poll_min = options.poll_max = poll
    return options


def plan(
    manifest_path: str | Path,
    *,
    json_output: bool = False,
    allow_replacement: bool = False,
    skip_account_check: bool = False,
    wait_timeout: float | None = None,
    poll_interval: float | None = None,
    endpoint: str | None = None,
    max_parallel: int | None = None,
    out: str | Path | None = None,
    detailed_exitcode: bool = False,
    **connection: Any,
) -> int:
    from .plan import plan_command
    from .saved_plan import plan_and_save

    options = _options(
        allow_replacement=allow_replacement, skip_account_check=skip_account_check,
        wait_timeout=wait_timeout, poll_interval=poll_interval, endpoint=endpoint, max_parallel=max_parallel,
        detailed_exitcode=detailed_exitcode,
    )
    ctx = _context(manifest_path, options, json_output=json_output, command="plan", **connection)
    if out is not None:
        return _interruptible(ctx, "plan", lambda: plan_and_save(ctx, Path(out), json_output=json_output))
    return _interruptible(ctx, "plan", lambda: plan_command(ctx, json_output=json_output))


def deploy(
    manifest_path: str | Path,
    *,
    yes: bool = False,
    allow_replacement: bool = False,
    continue_rollback: bool = False,
    skip_account_check: bool = False,
    wait_timeout: float | None = None,
    poll_interval: float | None = None,
    resume_command: str | None = None,
    show_outputs: bool = True,
    wait_for_lock: float | None = None,
    unlock_command: str | None = None,
    endpoint: str | None = None,
    max_parallel: int | None = None,
    plan_file: str | Path | None = None,
    **connection: Any,
) -> int:
    from .deploy import deploy as run_deploy

    options = _options(
        yes=yes, allow_replacement=allow_replacement, continue_rollback=continue_rollback,
        skip_account_check=skip_account_check, wait_timeout=wait_timeout, poll_interval=poll_interval,
        resume_command=resume_command, show_outputs=show_outputs, wait_for_lock=wait_for_lock,
        unlock_command=unlock_command, endpoint=endpoint, max_parallel=max_parallel,
    )
    ctx = _context(manifest_path, options, command="deploy", **connection)
    return _interruptible(ctx, "deploy", lambda: run_deploy(ctx, None if plan_file is None else Path(plan_file)))


def destroy(
    manifest_path: str | Path,
    *,
    yes: bool = False,
    disable_termination_protection: bool = False,
    skip_account_check: bool = False,
    wait_timeout: float | None = None,
    poll_interval: float | None = None,
    resume_command: str | None = None,
    wait_for_lock: float | None = None,
    unlock_command: str | None = None,
    endpoint: str | None = None,
    max_parallel: int | None = None,
    **connection: Any,
) -> int:
    from .destroy import destroy as run_destroy

    options = _options(
        yes=yes, disable_termination_protection=disable_termination_protection,
        skip_account_check=skip_account_check, wait_timeout=wait_timeout, poll_interval=poll_interval,
        resume_command=resume_command, wait_for_lock=wait_for_lock, unlock_command=unlock_command,
        endpoint=endpoint, max_parallel=max_parallel,
    )
    ctx = _context(manifest_path, options, command="destroy", **connection)
    return _interruptible(ctx, "destroy", lambda: run_destroy(ctx))


def drift(
    manifest_path: str | Path,
    *,
    json_output: bool = False,
    skip_account_check: bool = False,
    wait_timeout: float | None = None,
    poll_interval: float | None = None,
    endpoint: str | None = None,
    max_parallel: int | None = None,
    **connection: Any,
) -> int:
    from .drift import drift as run_drift

    options = _options(skip_account_check=skip_account_check, wait_timeout=wait_timeout, poll_interval=poll_interval,
                       endpoint=endpoint, max_parallel=max_parallel)
    ctx = _context(manifest_path, options, json_output=json_output, command="drift", **connection)
    return _interruptible(ctx, "drift", lambda: run_drift(ctx, json_output=json_output))


def outputs(
    manifest_path: str | Path,
    *,
    json_output: bool = False,
    name: str | None = None,
    endpoint: str | None = None,
    max_parallel: int | None = None,
    **connection: Any,
) -> int:
    """Reads only: no account check (the outputs name the account anyway)."""
    from .outputs import outputs as run_outputs

    options = _options(endpoint=endpoint, max_parallel=max_parallel)
    ctx = _context(manifest_path, options, json_output=json_output, command="outputs", **connection)
    return _interruptible(ctx, "outputs", lambda: run_outputs(ctx, json_output=json_output, name=name))


def unlock(manifest_path: str | Path, *, yes: bool = False, skip_account_check: bool = False,
           endpoint: str | None = None, **connection: Any) -> int:
    """Remove the environment's lock (or ``endpoint``'s) left by a run that died, after showing who held it and
    asking."""
    from .lock import unlock as run_unlock
    from .preflight import preflight

    ctx = _context(manifest_path, Options(yes=yes, skip_account_check=skip_account_check), **connection)

    def command() -> int:
        if endpoint is not None:  # a key the build does not have is a typo, not an unlocked endpoint
            ctx.manifest.select(endpoint, "unlock")
        preflight(ctx)
        m = ctx.manifest
        run_unlock(ctx.clients, project=m.project, environment=m.environment, yes=yes, ask=ctx.ask,
                   say=ctx.reporter.info, endpoint=endpoint)
        return 0

    return _interruptible(ctx, "unlock", command)


def run(command: str, manifest_path: str | Path, args: argparse.Namespace, *, resume_command: str | None = None,
        unlock_command: str | None = None) -> int:
    """Dispatch a parsed argparse namespace (from :func:`add_arguments`) to the command."""
    connection = {"endpoint_url": args.endpoint_url, "profile": args.profile, "max_attempts": args.max_attempts}
    if command == "unlock":  # nothing in parallel; --endpoint names an endpoint's lock
        return unlock(manifest_path, yes=args.yes, skip_account_check=args.skip_account_check,
                      endpoint=args.endpoint, **connection)
    connection.update(endpoint=args.endpoint, max_parallel=args.max_parallel)
    if command == "plan":
        return plan(manifest_path, json_output=args.json_output, allow_replacement=args.allow_replacement,
                    skip_account_check=args.skip_account_check, wait_timeout=args.wait_timeout,
                    out=getattr(args, "out", None), detailed_exitcode=args.detailed_exitcode, **connection)
    if command == "deploy":
        return deploy(manifest_path, yes=args.yes, allow_replacement=args.allow_replacement,
                      continue_rollback=args.continue_rollback, skip_account_check=args.skip_account_check,
                      wait_timeout=args.wait_timeout, resume_command=resume_command,
                      wait_for_lock=args.wait_for_lock, unlock_command=unlock_command,
                      plan_file=getattr(args, "plan_file", None), **connection)
    if command == "destroy":
        return destroy(manifest_path, yes=args.yes, disable_termination_protection=args.disable_termination_protection,
                       skip_account_check=args.skip_account_check, wait_timeout=args.wait_timeout,
                       resume_command=resume_command, wait_for_lock=args.wait_for_lock,
                       unlock_command=unlock_command, **connection)
    if command == "drift":
        return drift(manifest_path, json_output=args.json_output, skip_account_check=args.skip_account_check,
                     wait_timeout=args.wait_timeout, **connection)
    if command == "outputs":
        return outputs(manifest_path, json_output=args.json_output, name=args.name, **connection)
    raise ValueError(f"unknown command {command!r}")


def boundary(func: Callable[[], int], *, debug: bool = False) -> int:
    """The error boundary of ``python -m deployer`` (``mmtool`` has its own, ``mmtool.cli.boundary``): a
    :class:`ToolError`, the one base of the tool's errors, becomes one message and its exit code."""
    try:
        return func()
    except ToolError as exc:
        if debug:
            raise
        make_console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return exc.exit_code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployer", description="Deploy a built environment (build/<env>/manifest.json).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command)
        p.add_argument("--manifest", required=True, type=Path, help="build/<env>/manifest.json")
        add_arguments(p, command)
    args = parser.parse_args(argv)
    resume = f"python -m deployer {args.command} --manifest {args.manifest}"
    if os.environ.get("MMTOOL_RESUME_COMMAND"):
        resume = os.environ["MMTOOL_RESUME_COMMAND"]
    unlock_command = f"python -m deployer unlock --manifest {args.manifest}"
    return boundary(lambda: run(args.command, args.manifest, args, resume_command=resume, unlock_command=unlock_command),
                    debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
