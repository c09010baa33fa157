"""cfn-lint, in-process, over every generated template together with its environment's parameter file.

All templates are linted in one process (importing cfn-lint once is most of its cost) and a result
is cached under `.cache/lint/` by the content hash of template, parameters, region and cfn-lint
version, so an unchanged rebuild skips linting. Informational rules are on: zero errors, zero
warnings, zero informational findings, or the build fails.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

LINT_CONFIG = {"include_checks": ["I"]}  # every informational rule, I3011, I3510 and I3042 among them

# cfn-lint cannot resolve `AWS::SSM::Parameter::Value<...>` parameters: given a parameter file it
# treats the SSM parameter *name* as the value (and a List type as needing an array), so every
# property fed from another stack would be checked against a path. For linting, each SSM-typed
# parameter gets a value of the shape the upstream stack really writes there; every other value
# comes from the environment's parameter file unchanged.
SSM_STAND_INS: dict[str, object] = {
    "bucket-name": "churn-dev-foundation-bucket-1a2b3c4d5e6f",
    "kms-key-arn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "monitoring-role-arn": "arn:aws:iam::111122223333:role/churn-dev-monitoring",
    "monitoring-role-name": "churn-dev-monitoring",
    "vpc-id": "vpc-0123456789abcdef0",
    "subnet-ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "job-security-group-id": "sg-0123456789abcdef0",
    "endpoint-name": "churn-dev",
}


@dataclass(frozen=True)
class LintJob:
    template_path: Path  # where the template is written (for messages)
    template: bytes
    parameters_path: Path
    parameters: bytes  # CloudFormation parameter-file JSON
    region: str


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    rule: str
    message: str

    def render(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


def cfn_lint_version() -> str:
    return version("cfn-lint")


def cache_key(jobs: list[LintJob]) -> str:
    digest = hashlib.sha256()
    for part in [cfn_lint_version(), json.dumps(LINT_CONFIG, sort_keys=True)] + [
        f"{job.region}\0{hashlib.sha256(job.template).hexdigest()}\0{hashlib.sha256(job.parameters).hexdigest()}"
        for job in jobs
    ]:
        digest.update(part.encode() + b"\n")
    return digest.hexdigest()


def lint(jobs: list[LintJob], cache_dir: Path | None = None) -> list[Finding]:
    """Lint every job; return all findings (empty when clean). Clean results are cached.

    Environments share their templates, so each distinct template is linted once per region with
    the parameter files of every environment that uses it (cfn-lint checks several parameter sets
    in one pass at almost no extra cost), and cfn-lint's rules are loaded once for the whole build.
    """
    groups: dict[tuple[bytes, str], list[LintJob]] = {}
    for job in jobs:
        groups.setdefault((job.template, job.region), []).append(job)
    pending = [g for g in groups.values() if not (cache_dir and (cache_dir / cache_key(g)).exists())]
    if not pending:
        return []
    # Slow imports, only when something must be linted.
    from cfnlint.config import ConfigMixIn
    from cfnlint.context.parameters import ParameterSet
    from cfnlint.decode.decode import decode_str
    from cfnlint.runner import Runner, run_template_by_data

    rules = Runner(ConfigMixIn(**LINT_CONFIG)).rules
    findings: list[Finding] = []
    for group in pending:
        first = group[0]
        template, errors = decode_str(first.template.decode())
        matches = list(errors or [])
        if template is not None:
            data = json.loads(first.template)
            config = ConfigMixIn(
                regions=[first.region],
                parameters=[
                    ParameterSet(source=str(job.parameters_path),
                                 parameters=_parameter_values(json.loads(job.parameters), data))
                    for job in group
                ],
                **LINT_CONFIG,
            )
            matches += list(run_template_by_data(template, config, rules))
        group_findings = [
            Finding(
                file=str(match.filename) if match.filename else str(first.template_path),
                line=match.linenumber,
                rule=match.rule.id,
                message=match.message,
            )
            for match in matches
        ]
        findings.extend(group_findings)
        if not group_findings and cache_dir:
            cache_dir.mkdir(parents=True, exist_ok=True)
            (cache_dir / cache_key(group)).write_text("clean\n")
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.rule, f.message))


def _parameter_values(entries: list[dict[str, str]], template: dict) -> dict[str, object]:
    """Parameter-file entries as cfn-lint's parameter sets want them (list types as lists)."""
    declared = template.get("Parameters", {})
    values: dict[str, object] = {}
    for entry in entries:
        name, value = entry["ParameterKey"], entry["ParameterValue"]
        kind = declared.get(name, {}).get("Type", "String")
        if kind.startswith("AWS::SSM::Parameter::Value"):
            key = value.rsplit("/", 1)[-1]
            if key not in SSM_STAND_INS:
                raise KeyError(f"mmtool/lint.py: add a stand-in value for SSM key {key!r} to SSM_STAND_INS")
            values[name] = SSM_STAND_INS[key]
        elif "List" in kind:
            values[name] = value.split(",")
        else:
            values[name] = value
    return values
