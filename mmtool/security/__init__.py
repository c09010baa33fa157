"""Security gates over the generated templates: checkov, cfn-guard with the AWS Control Tower rules, and
our own checks where no scanner looks. `build.py security` (`make security`) and the tests call `scan`.

What runs
  checkov      `--framework cloudformation --skip-download`, from its own virtualenv (.tools/checkov/),
               as a subprocess with JSON output. Zero failed checks. A check is waived only in the
               resource's Metadata (`checkov: skip: [{id, comment}]`) and our checks refuse a skip
               without a reason.
  cfn-guard    the binary and the Control Tower rule files of @cdklabs/cdk-validator-cfnguard
               (.tools/cfn-guard/), rule folders in `scanners.GUARD_RULE_FOLDERS`. Zero failures
               except the (stack, resource, control) triples in `scanners.GUARD_EXCEPTIONS`, each with
               its reason; an exception that no longer matches a failure is itself a finding.
  our checks   `checks.CHECKS`, one function each, run over every template with every environment's
               parameter values (the templates are environment-agnostic; some properties only mean
               something with the values an environment gives them).
cfn-lint, with its informational rules on, already runs inside the build (`mmtool.generate.lint`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmtool.errors import ToolError
from mmtool.security.findings import (
    Finding,
    SecurityError,
    Skip,
    Subject,
    load_subjects,
)

__all__ = ["Finding", "Report", "SecurityError", "Skip", "Subject", "load_subjects", "scan"]


@dataclass
class Report:
    findings: list[Finding]
    files: int
    checkov_passed: int
    checkov_skips: list[Skip]
    guard_excepted: int
    checks_run: int

    @property
    def checkov_skipped(self) -> int:
        return len(self.checkov_skips)

    def summary(self) -> str:
        return (f"security: {self.files} templates: checkov {self.checkov_passed} passed, {self.checkov_skipped} "
                f"skipped with a reason; cfn-guard (Control Tower) clean, {self.guard_excepted} documented "
                f"exception(s); our checks: {self.checks_run} run")


def scan(subjects: list[Subject], tools_root: Path) -> Report:
    """Run checkov, cfn-guard and our checks over `subjects`; every finding of all three, sorted.

    `tools_root` is the repository whose `.tools/` holds the scanners.
    """
    from mmtool.security import checks, scanners

    missing = [s.file for s in subjects if s.path is None]
    if missing:
        raise ToolError(f"internal error: the scanners read files; {missing} exist only in memory")
    files = {s.file: s.path for s in subjects}
    checkov = scanners.run_checkov(tools_root, files)
    guard = scanners.run_cfn_guard(tools_root, files, {s.file: s.stack for s in subjects})
    ours = checks.run_checks(subjects)
    findings = checkov.findings + guard.findings + guard.stale_exceptions() + ours
    return Report(
        findings=sorted(set(findings), key=lambda f: (f.file, f.resource, f.tool, f.rule, f.message)),
        files=len(files),
        checkov_passed=checkov.passed,
        checkov_skips=checkov.skips,
        guard_excepted=len(guard.used_exceptions),
        checks_run=len(checks.CHECKS),
    )
