"""checkov and cfn-guard as subprocesses over template files, their JSON turned into `Finding`s.

Both tools live under `.tools/` (installed by `make security-tools`; pinned in requirements-security.txt
and tools/cfn-guard/package-lock.json). A missing tool is an error naming the command that installs
it, never a silent skip.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmtool.errors import ToolError
from mmtool.security.findings import Finding, Skip

INSTALL_HINT = "run `make security-tools` (installs the pinned scanners into .tools/)"

CHECKOV = Path(".tools/checkov/bin/checkov")
GUARD_PACKAGE = Path(".tools/cfn-guard/node_modules/@cdklabs/cdk-validator-cfnguard")
GUARD_MANIFEST = Path("tools/cfn-guard/package.json")

# Control Tower rule folders of the package that concern what our stacks create: S3, KMS, IAM, EC2
# (security groups, subnets, VPC), CloudWatch (alarms, log groups) and SageMaker. Rules for resource
# types a template does not have report SKIP. The package (0.0.62) ships no SNS rules; "sns" is
# picked up as soon as a version does, and our own check covers topic encryption meanwhile.
GUARD_RULE_FOLDERS = ("s3", "keymanagementservice", "identityandaccessmanagement", "ec2", "cloudwatch", "sagemaker")
GUARD_OPTIONAL_FOLDERS = ("sns",)

# Control Tower controls that do not fit a resource, with the reason. Keyed by (stack, logical id,
# control id): an exception covers that one resource only, and one that matches no failure any more
# is reported so the list cannot rot. These controls are "elective" in Control Tower.
GUARD_EXCEPTIONS: dict[tuple[str, str, str], str] = {
    ("foundation", "Bucket", "CT.S3.PR.9"):
        "Object Lock (WORM) contradicts the bucket's purpose: captured inference data must be deletable on "
        "schedule (CaptureRetentionDays lifecycle expiry) and on request; integrity is covered by versioning, "
        "owner-enforced objects, the TLS-only policy and prefix-scoped write permissions",
    ("foundation", "AccessLogsBucket", "CT.S3.PR.9"):
        "S3 refuses Object Lock buckets as server access log destinations",
    ("foundation", "AccessLogsBucket", "CT.S3.PR.2"):
        "this bucket is the server access log destination; S3 advises not to log a log destination "
        "(every delivery would be logged again)",
    ("foundation", "AccessLogsBucket", "CT.S3.PR.10"):
        "S3 server access log delivery supports only SSE-S3 (AES256) destination buckets; the logs hold "
        "request metadata, not model data, and the bucket is private, TLS-only and versioned",
}


def _tool(root: Path, relative: Path, what: str) -> Path:
    path = root / relative
    if not path.exists():
        raise ToolError(f"{what} is not installed ({relative} is missing); {INSTALL_HINT}")
    return path


def checkov_executable(root: Path) -> Path:
    return _tool(root, CHECKOV, "checkov")


def guard_package(root: Path) -> Path:
    package = _tool(root, GUARD_PACKAGE, "@cdklabs/cdk-validator-cfnguard")
    expected = json.loads((root / GUARD_MANIFEST).read_text())["dependencies"]["@cdklabs/cdk-validator-cfnguard"]
    installed = json.loads((package / "package.json").read_text())["version"]
    if installed != expected:
        raise ToolError(f"@cdklabs/cdk-validator-cfnguard {installed} is installed but {GUARD_MANIFEST} pins "
                        f"{expected}; {INSTALL_HINT}")
    return package


def guard_binary(package: Path) -> Path:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "AMD64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine())
    binary = package / "bin" / str(system) / str(machine) / "cfn-guard"
    if not binary.exists():
        raise ToolError(f"the cfn-guard package has no binary for {platform.system()} {platform.machine()} ({binary})")
    return binary


def guard_rule_folders(package: Path) -> list[Path]:
    base = package / "rules" / "control-tower" / "cfn-guard"
    missing = [f for f in GUARD_RULE_FOLDERS if not (base / f).is_dir()]
    if missing:
        raise ToolError(f"the Control Tower rules in {base} have no folder {', '.join(missing)}; the package layout "
                        "changed: update GUARD_RULE_FOLDERS in mmtool/security/scanners.py")
    return [base / f for f in GUARD_RULE_FOLDERS + GUARD_OPTIONAL_FOLDERS if (base / f).is_dir()]


def _run(command: list[str], what: str, ok_codes: tuple[int, ...]) -> subprocess.CompletedProcess:
    env = {**os.environ, "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in ok_codes:
        tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise ToolError(f"{what} failed with exit code {result.returncode}: " + " | ".join(tail))
    return result


# --- checkov ------------------------------------------------------------------------------------


@dataclass
class CheckovResult:
    findings: list[Finding]
    passed: int
    skips: list[Skip]


def run_checkov(root: Path, files: dict[str, Path]) -> CheckovResult:
    """One checkov run over `files` (display name -> path). Failed checks and parse errors are findings."""
    command = [str(checkov_executable(root)), "--framework", "cloudformation", "--skip-download", "--output", "json",
               "--compact"]
    for path in files.values():
        command += ["--file", str(path)]
    result = _run(command, "checkov", (0, 1))
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise ToolError(f"checkov printed no JSON report: {result.stdout[:300]!r} {result.stderr[-300:]!r}") from None
    reports = report if isinstance(report, list) else [report]
    by_path = {str(path.resolve()): name for name, path in files.items()}
    findings: list[Finding] = []
    passed = 0
    skips: list[Skip] = []
    seen_files: set[str] = set()
    for part in reports:
        if part.get("check_type") not in (None, "cloudformation"):
            continue
        results = part.get("results", {})
        for check in results.get("failed_checks", []):
            name = _checkov_file(check, by_path)
            seen_files.add(name)
            findings.append(Finding("checkov", check["check_id"], name, check["resource"].split(".", 1)[-1],
                                    check.get("check_name", "")))
        for check in results.get("passed_checks", []):
            seen_files.add(_checkov_file(check, by_path))
            passed += 1
        for check in results.get("skipped_checks", []):
            name = _checkov_file(check, by_path)
            seen_files.add(name)
            skips.append(Skip(name, check["resource"].split(".", 1)[-1], check["check_id"],
                              (check.get("check_result") or {}).get("suppress_comment", "")))
        for error in results.get("parsing_errors", []) + part.get("summary", {}).get("parsing_errors_list", []):
            findings.append(Finding("checkov", "parse", by_path.get(str(Path(error).resolve()), error), "",
                                    "checkov could not parse this template"))
    for name, path in files.items():
        if name not in seen_files and not only_nested_stacks(path):
            findings.append(Finding("checkov", "coverage", name, "", "checkov ran no check on this template "
                                    "(not recognised as CloudFormation?); a scan that checks nothing proves nothing"))
    return CheckovResult(findings, passed, skips)


def only_nested_stacks(path: Path) -> bool:
    """A template whose resources are all nested stacks (the endpoint-monitoring product): checkov has no check
    for AWS::CloudFormation::Stack, and what it nests is a template of the build, scanned on its own."""
    try:
        resources = json.loads(path.read_text()).get("Resources", {})
    except (OSError, json.JSONDecodeError):
        return False
    return bool(resources) and all(r.get("Type") == "AWS::CloudFormation::Stack" for r in resources.values())


def _checkov_file(check: dict[str, Any], by_path: dict[str, str]) -> str:
    absolute = check.get("file_abs_path") or check.get("file_path", "")
    return by_path.get(str(Path(absolute).resolve()), absolute)


# --- cfn-guard ----------------------------------------------------------------------------------


_CONTROL_ID = re.compile(r"\[(CT\.[A-Z0-9\-]+\.PR\.\d+)\]")
_RESOURCE_PATH = re.compile(r"^/Resources/([^/\[]+)")


@dataclass
class GuardResult:
    findings: list[Finding]
    used_exceptions: set[tuple[str, str, str]] = field(default_factory=set)
    exceptions: dict[tuple[str, str, str], str] = field(default_factory=dict)
    stacks: set[str] = field(default_factory=set)

    def stale_exceptions(self) -> list[Finding]:
        """Exceptions for stacks that were scanned but that matched no failure: remove them."""
        return [
            Finding("cfn-guard", control, "mmtool/security/scanners.py", resource,
                    f"GUARD_EXCEPTIONS entry for the {stack} stack matches no failure any more; remove it")
            for (stack, resource, control) in sorted(self.exceptions)
            if stack in self.stacks and (stack, resource, control) not in self.used_exceptions
        ]


def run_cfn_guard(root: Path, files: dict[str, Path], stacks: dict[str, str],
                  exceptions: dict[tuple[str, str, str], str] | None = None) -> GuardResult:
    """cfn-guard over `files` with the Control Tower rules; failures not in `exceptions` are findings."""
    exceptions = GUARD_EXCEPTIONS if exceptions is None else exceptions
    package = guard_package(root)
    command = [str(guard_binary(package)), "validate", "--structured", "--output-format", "json",
               "--show-summary", "none"]
    for folder in guard_rule_folders(package):
        command += ["--rules", str(folder)]
    for path in files.values():
        command += ["--data", str(path)]
    result = _run(command, "cfn-guard", (0, 19))  # 19: some rule failed
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise ToolError(f"cfn-guard printed no JSON report: {result.stdout[:300]!r} {result.stderr[-300:]!r}") from None
    by_path = {str(path.resolve()): name for name, path in files.items()}
    outcome = GuardResult([], exceptions=dict(exceptions), stacks=set(stacks.values()))
    reported = set()
    for entry in report:
        name = by_path.get(str(Path(entry["name"]).resolve()), entry["name"])
        reported.add(name)
        stack = stacks.get(name, "")
        for failure in entry.get("not_compliant", []):
            rule = failure.get("Rule", {})
            controls, resources = set(), set()
            _collect(rule, controls, resources)
            message = rule.get("name", "")
            for control in sorted(controls) or [rule.get("name", "?")]:
                for resource in sorted(resources) or [""]:
                    key = (stack, resource, control)
                    if key in exceptions:
                        outcome.used_exceptions.add(key)
                    else:
                        outcome.findings.append(Finding("cfn-guard", control, name, resource, message))
    for name in files:
        if name not in reported:
            outcome.findings.append(Finding("cfn-guard", "coverage", name, "", "cfn-guard did not report on this file"))
    return outcome


def _collect(node: Any, controls: set[str], resources: set[str]) -> None:
    """Control ids from the rules' messages and logical ids from the paths anywhere under a failed rule."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "custom_message" and isinstance(value, str):
                controls.update(_CONTROL_ID.findall(value))
            elif key == "path" and isinstance(value, str):
                match = _RESOURCE_PATH.match(value)
                if match:
                    resources.add(match.group(1))
            else:
                _collect(value, controls, resources)
    elif isinstance(node, list):
        for item in node:
            _collect(item, controls, resources)
