"""What the security gates read (`Subject`: a template as one environment deploys it) and what they report
(`Finding`, `Skip`); the checks and scanners import these, the package's `scan` runs them."""

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
