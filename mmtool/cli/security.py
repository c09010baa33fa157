"""`build.py security [--env E]`: scan build/<env>/ with checkov, cfn-guard and our own checks."""

from __future__ import annotations

import argparse

from mmtool.config.workspace import REPO_ROOT, Paths, display_path, environments


def cmd_security(args: argparse.Namespace, paths: Paths) -> int:
    from mmtool.security import SecurityError, load_subjects, scan

    envs = environments(paths, args.env)
    report = scan(load_subjects(paths.build, envs, display=lambda p: display_path(p, paths)), REPO_ROOT)
    if report.findings:
        raise SecurityError("\n".join(f.render() for f in report.findings) + f"\nsecurity: {len(report.findings)} "
                            "finding(s); fix the template module, or waive a checkov check in the resource's Metadata "
                            "with its reason (docs/security.md)")
    print(report.summary())
    return 0
