"""`mmtool <command> [--env E] [--debug]` (the console command pyproject.toml installs into .venv/bin; `python
build.py <command>` is the same): the one error boundary of the tool (`mmtool.cli.boundary`).

One module per verb beside this one does the argument parsing and the output; the work is done by the job
packages (`mmtool.config`, `mmtool.generate`, `mmtool.operate`, `mmtool.handoff`, `mmtool.security`), which never
import `mmtool.cli`. Every user-caused failure is a `ToolError` (`deployer.tool_error`: the one base of the tool's
errors and the engine's); `main` prints its message (one line per
problem) on stderr and returns its exit code from the tool's one table (`deployer.exit_codes`: 2 for bad input,
1 for other failures, 130 on Ctrl-C, the engine's own codes for its verbs). `--debug` re-raises so the traceback
is visible. `plan --detailed-exitcode` reserves 2 for "the plan has changes": bad input exits 1 then.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from mmtool.config.workspace import Paths
from mmtool.cli.boundary import boundary
from mmtool.errors import EXIT_FAILED, EXIT_INPUT

PROGS = ("mmtool", "build.py")  # the console command, and the script the Makefile runs
DETAILED_EXITCODE = "--detailed-exitcode"


def _parser(selected: str | None = None, prog: str = "build.py") -> argparse.ArgumentParser:
    # Each verb module is light: boto3, cfn-lint and the scanners load only when their command runs.
    from mmtool.cli import (
        adopt,
        baseline,
        build,
        catalog,
        compare_engines,
        completion,
        cost,
        deploy,
        dry_run,
        package,
        run_now,
        security,
        status,
        verify_notifications,
    )

    parser = argparse.ArgumentParser(prog=prog, description="SageMaker Model Monitor infrastructure as code. "
                                     f"`{prog} <command> --help` shows a command's flags; exit codes: docs/deploying.md.")
    parser.add_argument("--version", action=_Version, help="the version and the commit this copy runs from, then exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace, Paths], int]):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--env", help="environment (params/<env>.yaml); default: all for build commands")
        cmd.add_argument("--debug", action="store_true", help="show tracebacks")
        cmd.set_defaults(handler=handler)
        return cmd

    command("validate", "check params/<env>.yaml", build.cmd_validate)
    command("build", "validate, then write templates and parameter files to build/<env>/ (no cfn-lint)",
            build.cmd_build)
    command("lint", "build, then lint every template with cfn-lint with its parameter files and alone",
            build.cmd_lint)
    deploy.register(command, selected)
    command("security", "scan build/<env>/ with checkov, cfn-guard (Control Tower rules) and our own checks",
            security.cmd_security)
    baseline.add_arguments(command("baseline", "start the baselining job: statistics.json and constraints.json "
                                   "from a dataset (ENV required)", baseline.cmd_baseline))
    dry_run.add_arguments(command("dry-run", "run the environment's pre-processor over captured data and "
                                  "check it against the baseline (ENV required)", dry_run.cmd_dry_run))
    status.add_arguments(command("status", "monitoring schedules, last runs, failures explained with the fix, "
                                 "Data Capture files (ENV required)", status.cmd_status))
    run_now.add_arguments(command("run-now", "one monitoring run now over recent capture data, then its outcome "
                                  "(ENV required)", run_now.cmd_run_now))
    verify_notifications.add_arguments(command("verify-notifications", "force one alarm into ALARM and show which "
                                               "subscriptions should receive it (ENV required)",
                                               verify_notifications.cmd_verify_notifications))
    compare_engines.add_arguments(command("compare-engines", "the last data-quality run of both engines of an "
                                          "endpoint with monitoring.engine: both, side by side (ENV required)",
                                          compare_engines.cmd_compare_engines))
    adopt.add_arguments(command("adopt", "turn Data Capture on, into this project's bucket, for an endpoint "
                                "another tool deployed (endpoints.<key>.existing), and print the owner's "
                                "snippets (ENV and --endpoint required)", adopt.cmd_adopt))
    package.add_arguments(command("package", "the hand-off bundle dist/<project>-<version>-<env>[-<key>].zip: "
                                  "templates, parameter files, assets, DEPLOY.md, parameter reference, lint report, "
                                  "diagram, SHA256SUMS (ENV required)", package.cmd_package))
    catalog.add_arguments(command("catalog", "publish the templates as AWS Service Catalog products: upload, "
                                  "catalog stack, tag options, versions (ENV required)", catalog.cmd_catalog))
    cost.add_cost_arguments(command("cost", "the monthly estimate of an environment: per endpoint and monitor, per "
                                    "environment, every price with its source and date (ENV required)",
                                    cost.cmd_cost))
    cost.add_prices_arguments(command("prices", "rebuild the dated price snapshot mmtool/cost/data/prices.json from "
                                      "AWS Price List offer files (--offers DIR) or the Price List API "
                                      "(--live-prices)", cost.cmd_prices))
    completion.add_arguments(command("completion", "print a bash (or zsh) completion script: "
                                     f"source <({prog} completion)", completion.cmd_completion))
    parser.set_defaults(make_parser=_parser)  # the completion script is written from the parsers themselves
    return parser


class _Version(argparse.Action):
    """`--version`, asking git only when the flag is given."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from mmtool.version import version_line

        print(version_line(parser.prog))
        parser.exit()


def program_name() -> str:
    """How the tool was called: `mmtool` (the console command), else `build.py` (the Makefile's spelling)."""
    name = os.path.basename(sys.argv[0] if sys.argv else "")
    return name if name in PROGS else "build.py"


def main(argv: Sequence[str] | None = None, paths: Paths | None = None, *, prog: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["lint"]:
        return _main(argv, paths, prog)
    from mmtool.generate import lint  # light: cfn-lint itself loads in the process prestart forks

    lint.prestart(paths or Paths())  # a cold lint's critical path is that process loading cfn-lint (docs/performance.md)
    try:
        return _main(argv, paths, prog)
    finally:
        lint.stop_prestarted()  # when the build did not take it


def _main(argv: list[str], paths: Paths | None, prog: str | None) -> int:
    prog = prog or program_name()
    detailed = DETAILED_EXITCODE in argv
    try:
        args = _parser(selected=next((a for a in argv if not a.startswith("-")), None), prog=prog).parse_args(argv)
    except SystemExit as exc:  # argparse's own usage error exits 2: under --detailed-exitcode that means changes
        if detailed and exc.code == EXIT_INPUT:
            return EXIT_FAILED
        raise
    args.prog = prog
    paths = paths or Paths()

    def run() -> int:
        from mmtool.cli import local

        if args.command in local.AWS_COMMANDS:  # `make local-up`'s server, while it is up
            local.activate(paths, lambda line: print(line, file=sys.stderr))
        return args.handler(args, paths)

    return boundary(run, debug=args.debug, detailed=detailed)

