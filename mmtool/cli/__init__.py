"""`python build.py <command> [--env E] [--debug]`: the one error boundary of the tool.

One module per verb beside this one does the argument parsing and the output; the work is done by the job
packages (`mmtool.config`, `mmtool.build`, `mmtool.operate`, `mmtool.handoff`, `mmtool.security`), which never
import `mmtool.cli`. Every user-caused failure is a `ToolError`; `main` prints its message (one line per
problem) on stderr and returns its exit code: 2 for bad input, 1 for other failures, 130 on Ctrl-C. `--debug`
re-raises so the traceback is visible.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from mmtool.config.workspace import Paths
from mmtool.errors import EXIT_INTERRUPTED, ToolError


def _parser(selected: str | None = None) -> argparse.ArgumentParser:
    # Each verb module is light: boto3, cfn-lint and the scanners load only when their command runs.
    from mmtool.cli import (
        adopt,
        baseline,
        build,
        catalog,
        compare_engines,
        cost,
        deploy,
        dry_run,
        package,
        run_now,
        security,
        status,
        verify_notifications,
    )

    parser = argparse.ArgumentParser(prog="build.py", description="SageMaker Model Monitor infrastructure as code.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str, help_text: str, handler: Callable[[argparse.Namespace, Paths], int]):
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--env", help="environment (params/<env>.yaml); default: all for build commands")
        cmd.add_argument("--debug", action="store_true", help="show tracebacks")
        cmd.set_defaults(handler=handler)
        return cmd

    command("validate", "check params/<env>.yaml", build.cmd_validate)
    command("synth", "write templates and parameter files to build/<env>/ without linting", build.cmd_synth)
    command("lint", "lint build/<env>/ with cfn-lint", build.cmd_lint)
    command("build", "validate, synthesize and lint", build.cmd_build)
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
    return parser


def main(argv: Sequence[str] | None = None, paths: Paths | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser(selected=next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
    debug = args.debug or os.environ.get("MM_DEBUG") == "1"
    try:
        return args.handler(args, paths or Paths())
    except ToolError as exc:
        if debug:
            raise
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        if debug:
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
