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
cfn-lint, with its informational rules on, already runs inside the build (`mmtool.lint`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmtool.errors import ToolError


@dataclass(frozen=True)
class Finding:
    """One thing a scanner or check refused: where, who said so, and what is wrong."""

    tool: str  # checkov | cfn-guard | mmtool
    rule: str  # CKV_AWS_18, CT.S3.PR.2, or the name of our check
    file: str
    resource: str  # logical id, or "" for the template as a whole
    message: str

    def render(self) -> str:
        return f"{self.file}: {self.resource or '(template)'}: {self.tool} {self.rule}: {self.message}"


@dataclass(frozen=True)
class Subject:
    """One template as one environment deploys it: the template and that environment's parameter values."""

    file: str  # for messages, e.g. build/dev/foundation.template.json
    stack: str
    environment: str
    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    path: Path | None = None  # the file on disk, for the scanners; None for a template only in memory
    # the same environment's parameter values of every stack (stack -> values), for the few checks whose rule
    # spans stacks (the model may drop network isolation only where the monitoring stack enables explainability)
    environment_values: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template.get("Resources") or {}


@dataclass(frozen=True)
class Skip:
    """A checkov check waived in a resource's Metadata, with the reason given there."""

    file: str
    resource: str
    check: str
    reason: str


class SecurityError(ToolError):
    """The scanners or our checks refused the generated templates."""


def load_subjects(build_dir: Path, environments: list[str], display=str) -> list[Subject]:
    """Every `<stack>.template.json` of each environment's build folder, with its parameter file's values."""
    subjects = []
    for env in environments:
        folder = build_dir / env
        templates = sorted(folder.glob("*.template.json"))
        if not templates:
            raise ToolError(f"nothing to scan in {display(folder)}/; run `make build ENV={env}` first")
        found = []
        for path in templates:
            stack = path.name.removesuffix(".template.json")
            values_file = path.with_name(f"{stack}.parameters.json")
            values = {}
            if values_file.exists():
                values = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(values_file.read_text())}
            found.append((path, stack, values))
        everything = {stack: values for _, stack, values in found}
        subjects += [Subject(str(display(path)), stack, env, json.loads(path.read_text()), values, path, everything)
                     for path, stack, values in found]
    return subjects


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
