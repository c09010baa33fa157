"""Read ``build/<env>/manifest.json`` and the files it lists into the desired state of every stack.

The manifest is the contract between the build and this engine (format_version 1). Everything is
checked here, before any AWS call: unknown keys, stack order and dependencies, that every parameter the
template declares gets a value, that the parameter file names no parameter the template lacks, that the
protected resources exist, and that every asset matches its recorded sha256. Paths are relative to the
manifest's folder.

Parameters omitted from the parameter file
    The build is the single source of truth, so an omitted parameter means "the template's Default", and
    that Default is sent explicitly (an update must not silently keep an old value, which is what
    ``UsePreviousValue`` would do). The only exception: a ``NoEcho`` parameter with no Default and no
    value in the file (a secret supplied out of band). It is sent as ``UsePreviousValue`` to an existing
    stack and is an error for a stack that does not exist yet.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import InputError

#: CloudFormation's limit for an inline TemplateBody; larger templates go through S3 (TemplateURL).
TEMPLATE_BODY_LIMIT = 51_200
#: CloudFormation's limit for a template read from S3.
TEMPLATE_URL_LIMIT = 1_000_000

_STRICT = ConfigDict(extra="forbid", frozen=True)


class StackEntry(BaseModel):
    model_config = _STRICT
    name: str = Field(description="Short stack name used in depends_on, e.g. 'foundation'.")
    stack_name: str = Field(description="CloudFormation stack name, e.g. 'churn-dev-foundation'.")
    template: str = Field(description="Template JSON file, relative to the manifest.")
    parameters: str = Field(description="Parameter file (CloudFormation list format), relative to the manifest.")
    depends_on: list[str] = Field(default_factory=list, description="Stacks that must be deployed first.")
    protected_resources: list[str] = Field(
        default_factory=list, description="Logical ids that must never be replaced or removed without --allow-replacement."
    )
    guarded_resources: dict[str, str] = Field(
        default_factory=dict, description="Logical id -> what removing or replacing it would cost: refused like a "
        "protected resource without --allow-replacement, but not named in the stack policy (a resource under a "
        "Condition, absent from some stacks)."
    )
    capabilities: list[str] = Field(default_factory=list, description="CAPABILITY_IAM / CAPABILITY_NAMED_IAM ...")
    notes: list[str] = Field(
        default_factory=list, description="What the build wants the reader of the plan to know about this stack "
        "(settings it derived, settings in words); plan prints each as a note under the stack."
    )
    endpoint: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9-]{0,19}$",
        description="The fleet endpoint this stack belongs to (its key in params), or null for the environment's "
        "shared stacks (foundation, network, alarms). Older manifests have no such field: all shared.",
    )

    @field_validator("stack_name")
    @classmethod
    def _stack_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,127}", value):
            raise ValueError(f"{value!r} is not a valid CloudFormation stack name ([A-Za-z][A-Za-z0-9-]*, <=128)")
        return value


class DeploySettings(BaseModel):
    model_config = _STRICT
    assume_role_arn: str | None = Field(default=None, description="Role assumed for every AWS call of this environment.")
    external_id: str | None = Field(default=None, description="External id for assume_role_arn.")
    cloudformation_role_arn: str | None = Field(default=None, description="Service role change sets run under.")
    termination_protection: bool = Field(default=False, description="Turn on termination protection (prod).")

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> "DeploySettings":
        if self.external_id and not self.assume_role_arn:
            raise ValueError("external_id is set but assume_role_arn is not: the external id is only used to assume a role")
        return self


class Asset(BaseModel):
    model_config = _STRICT
    file: str
    key: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class BaselineCopy(BaseModel):
    """An object outside the project bucket that the engine copies into it (SSE-KMS, project key) before the stacks
    that read it: a baseline named in params (docs/deploying.md, 'Baselines')."""

    model_config = _STRICT
    field: str = Field(description="Where params names it, e.g. monitoring.data_quality.baseline.constraints.")
    source: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$")
    key: str = Field(min_length=1, max_length=1024, pattern=r"^baselines/[^\s]+$")
    endpoint: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9-]{0,19}$")

    @property
    def source_bucket(self) -> str:
        return self.source[5:].partition("/")[0]

    @property
    def source_key(self) -> str:
        return self.source[5:].partition("/")[2]


class OutputRef(BaseModel):
    model_config = _STRICT
    stack: str
    output: str


class ManifestModel(BaseModel):
    model_config = _STRICT
    format_version: Literal[1]
    project: str
    environment: str
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")
    account_id: str | None = Field(default=None, pattern=r"^\d{12}$")
    tags: dict[str, str] = Field(default_factory=dict)
    deploy: DeploySettings = Field(default_factory=DeploySettings)
    stacks: list[StackEntry]
    assets: list[Asset] = Field(default_factory=list)
    asset_bucket: OutputRef | None = None
    asset_kms_key: OutputRef | None = None
    copies: list[BaselineCopy] = Field(default_factory=list)

    @model_validator(mode="after")
    def _graph(self) -> "ManifestModel":
        names: list[str] = []
        for entry in self.stacks:
            if entry.name in names:
                raise ValueError(f"stack name {entry.name!r} appears twice")
            for dep in entry.depends_on:
                if dep not in names:
                    raise ValueError(
                        f"stack {entry.name!r} depends on {dep!r}, which is not listed before it "
                        "(stacks are in deploy order)"
                    )
            names.append(entry.name)
        by_name = {e.name: e for e in self.stacks}
        for entry in self.stacks:  # one endpoint's stacks can be deployed or destroyed without the others
            for dep in entry.depends_on:
                other = by_name[dep].endpoint
                if other is not None and other != entry.endpoint:
                    owner = f"endpoint {entry.endpoint!r}" if entry.endpoint else "a shared stack"
                    raise ValueError(
                        f"stack {entry.name!r} ({owner}) depends on {dep!r} of endpoint {other!r}: a per-endpoint "
                        "stack may depend only on shared stacks and on its own endpoint's, a shared stack only on shared ones"
                    )
        stack_names = [e.stack_name for e in self.stacks]
        if len(set(stack_names)) != len(stack_names):
            raise ValueError("two stacks share a stack_name")
        for label, ref in (("asset_bucket", self.asset_bucket), ("asset_kms_key", self.asset_kms_key)):
            if ref is not None and ref.stack not in names:
                raise ValueError(f"{label}.stack {ref.stack!r} is not one of the stacks {names}")
        if (self.assets or self.copies) and self.asset_bucket is None:
            raise ValueError("assets are listed but asset_bucket is not set")
        for key, value in (("Project", self.project), ("Environment", self.environment)):
            if self.tags.get(key) != value:  # what proves a deployed stack is this environment's (ownership.py)
                raise ValueError(f"tags.{key} must be {value!r} (got {self.tags.get(key)!r}): every stack carries its "
                                 "environment's Project and Environment tags, which prove whose it is")
        if len(self.tags) > 50:
            raise ValueError(f"{len(self.tags)} tags: CloudFormation allows at most 50 stack tags")
        return self


@dataclass(frozen=True)
class ParamDecl:
    """One entry of the template's Parameters section, reduced to what the engine needs."""

    key: str
    type: str
    no_echo: bool
    default: str | None

    @property
    def is_ssm(self) -> bool:
        return self.type.startswith("AWS::SSM::Parameter::Value<")

    @property
    def is_list(self) -> bool:
        return self.type == "CommaDelimitedList" or self.type.startswith("List<") or "<List<" in self.type


@dataclass
class StackSpec:
    """The desired state of one stack, fully loaded and checked."""

    entry: StackEntry
    template: dict[str, Any]
    template_body: str  # minified JSON, the exact text sent to CloudFormation
    template_sha256: str
    declarations: dict[str, ParamDecl]
    values: dict[str, str]  # desired value of every parameter that has one
    use_previous: list[str] = field(default_factory=list)  # NoEcho parameters without a value anywhere
    template_path: Path | None = None
    parameters_path: Path | None = None

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def stack_name(self) -> str:
        return self.entry.stack_name

    @property
    def depends_on(self) -> list[str]:
        return list(self.entry.depends_on)

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources", {})

    def retained_resources(self) -> dict[str, str]:
        """Logical id -> type of the resources CloudFormation keeps when the stack is deleted."""
        return {
            logical_id: body.get("Type", "?")
            for logical_id, body in self.resources.items()
            if body.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
        }


@dataclass
class Manifest:
    path: Path
    model: ManifestModel
    stacks: list[StackSpec]
    asset_files: dict[str, Path]  # asset key -> local path
    endpoint: str | None = None  # set by select(): ``stacks`` holds only this endpoint's stacks
    shared: list[StackSpec] = field(default_factory=list)  # select(): the shared stacks they depend on
    everything: list[StackSpec] = field(default_factory=list)  # select(): every stack of the build
    copies: list[BaselineCopy] = field(default_factory=list)  # baselines to copy in (select(): the endpoint's)

    @property
    def project(self) -> str:
        return self.model.project

    @property
    def environment(self) -> str:
        return self.model.environment

    @property
    def region(self) -> str:
        return self.model.region

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.model.tags)

    @property
    def settings(self) -> DeploySettings:
        return self.model.deploy

    def dependents(self, name: str) -> list[str]:
        return [s.name for s in self.stacks if name in s.depends_on]

    # -- fleets: one endpoint's stacks ------------------------------------------------------------
    @property
    def endpoints(self) -> list[str]:
        """The fleet's endpoint keys, in manifest order (empty for an older, all-shared manifest)."""
        return list(dict.fromkeys(e.endpoint for e in self.model.stacks if e.endpoint is not None))

    def select(self, endpoint: str, command: str) -> "Manifest":
        """The same manifest narrowed to one endpoint's stacks (``--endpoint KEY``); ``shared`` lists the
        shared stacks they depend on, directly or not, which stay out of the run. ``stack(name)`` still
        finds every stack (the asset bucket's stack, for one)."""
        known = self.endpoints
        if endpoint not in known:
            listed = ", ".join(known) if known else "none: every stack of this build is shared"
            raise InputError(
                f"{self.path}: --endpoint {endpoint}: no such endpoint in this build (known endpoints: {listed}).\n"
                f"Next: pick one of them (`make {command} ENV={self.environment} ENDPOINT=<key>`), or add "
                f"`{endpoint}` under endpoints: in params/{self.environment}.yaml and rebuild."
            )
        chosen = [s for s in self.stacks if s.entry.endpoint == endpoint]
        needed: list[str] = []
        todo = [dep for s in chosen for dep in s.depends_on]
        while todo:
            dep = todo.pop(0)
            if dep not in needed:
                needed.append(dep)
                todo.extend(self.stack(dep).depends_on)
        shared = [s for s in self.stacks if s.name in needed and s.entry.endpoint is None]
        return Manifest(path=self.path, model=self.model, stacks=chosen, asset_files=self.asset_files,
                        endpoint=endpoint, shared=shared, everything=list(self.stacks),
                        copies=[c for c in self.copies if c.endpoint == endpoint])

    def stack(self, name: str) -> StackSpec:
        for spec in self.everything or self.stacks:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: {what} not found. Next: run `make build ENV=<env>` first.") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: {what} is not valid JSON: {exc.msg}") from None


def _pydantic_errors(path: Path, exc: ValidationError) -> InputError:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, (dict, list)) else f"={value!r}"
        lines.append(f"{path}: {where}{shown}: {err['msg']}")
    lines.append("Next: the manifest is written by `make build`; rebuild it, or fix the build if this persists.")
    return InputError("\n".join(lines))


def _declarations(path: Path, template: dict[str, Any]) -> dict[str, ParamDecl]:
    params = template.get("Parameters", {}) or {}
    if not isinstance(params, dict):
        raise InputError(f"{path}: Parameters must be an object")
    decls = {}
    for key, body in params.items():
        if not isinstance(body, dict) or "Type" not in body:
            raise InputError(f"{path}: Parameters.{key}: has no Type")
        default = body.get("Default")
        if isinstance(default, list):
            default = ",".join(str(v) for v in default)
        decls[key] = ParamDecl(
            key=key,
            type=str(body["Type"]),
            no_echo=str(body.get("NoEcho", "false")).lower() == "true",
            default=None if default is None else str(default),
        )
    return decls


def _parameter_values(path: Path, data: Any) -> dict[str, str]:
    if not isinstance(data, list):
        raise InputError(f"{path}: must be a JSON list of {{\"ParameterKey\": ..., \"ParameterValue\": ...}}")
    values: dict[str, str] = {}
    for index, item in enumerate(data):
        if not isinstance(item, dict) or set(item) - {"ParameterKey", "ParameterValue"} or "ParameterKey" not in item:
            raise InputError(f"{path}: item {index}: expected exactly ParameterKey and ParameterValue, got {item!r}")
        key = item["ParameterKey"]
        if key in values:
            raise InputError(f"{path}: ParameterKey {key!r} appears twice")
        value = item.get("ParameterValue")
        if value is None:
            raise InputError(f"{path}: {key}: ParameterValue is missing")
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        values[key] = str(value)
    return values


def minify(template: dict[str, Any]) -> str:
    """The body sent to CloudFormation: compact JSON, same content (keeps more room under 51,200 bytes)."""
    return json.dumps(template, separators=(",", ":"), ensure_ascii=False)


def load_stack(entry: StackEntry, folder: Path) -> StackSpec:
    template_path = folder / entry.template
    parameters_path = folder / entry.parameters
    template = _read_json(template_path, "template")
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise InputError(f"{template_path}: a template needs a non-empty Resources object")
    decls = _declarations(template_path, template)
    given = _parameter_values(parameters_path, _read_json(parameters_path, "parameter file"))
    unknown = sorted(set(given) - set(decls))
    if unknown:
        raise InputError(
            f"{parameters_path}: {', '.join(unknown)}: not declared in {template_path.name} "
            f"(declared: {', '.join(sorted(decls)) or 'none'}). Next: rebuild; the two files come from the same build."
        )
    values: dict[str, str] = {}
    use_previous: list[str] = []
    for key, decl in decls.items():
        if key in given:
            values[key] = given[key]
        elif decl.default is not None:
            values[key] = decl.default
        elif decl.no_echo:
            use_previous.append(key)
        else:
            raise InputError(
                f"{parameters_path}: {key}: no value, and {template_path.name} gives it no Default. "
                "Next: set it in params/<env>.yaml and rebuild."
            )
    for field, named in (("protected_resources", entry.protected_resources),
                         ("guarded_resources", list(entry.guarded_resources))):
        missing = [r for r in named if r not in template["Resources"]]
        if missing:
            raise InputError(
                f"{folder / 'manifest.json'}: stack {entry.name}: {field} {missing} are not resources of "
                f"{template_path.name}"
            )
    body = minify(template)
    size = len(body.encode("utf-8"))
    if size > TEMPLATE_URL_LIMIT:
        raise InputError(f"{template_path}: {size} bytes even minified; CloudFormation accepts at most 1,000,000")
    return StackSpec(
        entry=entry,
        template=template,
        template_body=body,
        template_sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        declarations=decls,
        values=values,
        use_previous=use_previous,
        template_path=template_path,
        parameters_path=parameters_path,
    )


def load_manifest(path: str | Path) -> Manifest:
    """Load and check everything before any AWS call; raises :class:`InputError` with file and key."""
    path = Path(path)
    data = _read_json(path, "manifest")
    try:
        model = ManifestModel.model_validate(data)
    except ValidationError as exc:
        raise _pydantic_errors(path, exc) from None
    folder = path.parent
    stacks = [load_stack(entry, folder) for entry in model.stacks]
    asset_files: dict[str, Path] = {}
    for asset in model.assets:
        file = folder / asset.file
        try:
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
        except OSError as exc:
            raise InputError(f"{path}: asset {asset.file}: cannot read {file}: {exc}") from None
        if digest != asset.sha256:
            raise InputError(
                f"{path}: asset {asset.file}: sha256 is {digest}, the manifest says {asset.sha256}. "
                "Next: rebuild (`make build`); never edit build/ by hand."
            )
        asset_files[asset.key] = file
    return Manifest(path=path, model=model, stacks=stacks, asset_files=asset_files, copies=list(model.copies))
