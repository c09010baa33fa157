"""What the security gates read (`Subject`: a template as one environment deploys it) and what they report
(`Finding`, `Skip`); the checks and scanners import these, the package's `scan` runs them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmtool.config.workspace import template_parameter_pairs
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
    # (in a fleet: the shared stacks' values and those of this subject's endpoint, keyed by stack kind)
    environment_values: dict[str, dict[str, str]] = field(default_factory=dict)
    endpoint: str | None = None  # the fleet endpoint whose parameter file gave `parameters`; None: a shared stack
    values_file: str = ""  # that parameter file's name, e.g. churn-monitoring.parameters.json

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
        # One subject per template and parameter file: a fleet's endpoints share a template and each is checked
        # with its own values; the checks spanning stacks see the shared stacks' values and that endpoint's.
        owners = _endpoint_of_parameter_files(folder)
        found = []
        for path, values_file in template_parameter_pairs(folder, templates):
            stack = path.name.removesuffix(".template.json")
            values = {}
            if values_file.exists():
                values = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(values_file.read_text())}
            found.append((path, stack, values, owners.get(values_file.name), values_file.name))
        for path, stack, values, endpoint, values_name in found:
            everything = {other: v for _, other, v, owner, _ in found if owner is None or owner == endpoint}
            subjects.append(Subject(str(display(path)), stack, env, json.loads(path.read_text()), values, path,
                                    everything, endpoint, values_name))
    return subjects


def _endpoint_of_parameter_files(folder: Path) -> dict[str, str | None]:
    """Parameter file name -> the fleet endpoint of its stack in the manifest (None for shared stacks)."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        return {}
    return {s["parameters"]: s.get("endpoint") for s in json.loads(manifest.read_text())["stacks"]}
