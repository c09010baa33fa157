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
        # One subject per template: a fleet's endpoints share theirs, checked with the first endpoint's values.
        pairs = dict(reversed(template_parameter_pairs(folder, templates)))
        for path, values_file in sorted(pairs.items()):
            stack = path.name.removesuffix(".template.json")
            where = str(display(path))
            values = {}
            if values_file.exists():
                values = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads(values_file.read_text())}
            subjects.append(Subject(where, stack, env, json.loads(path.read_text()), values, path))
    return subjects
