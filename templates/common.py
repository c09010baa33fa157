"""What every stack template shares: standard parameters, derived names, cross-stack wiring, tags.

Cross-stack values flow through SSM Parameter Store: an upstream stack writes each value it offers
to `/<project>/<env>/<stack>/<key>` (`publish`), a downstream stack declares a Parameter of type
`AWS::SSM::Parameter::Value<...>` (`consume`) whose value in the environment's parameter file is
that name. CloudFormation resolves it at deploy time, so a platform team deploying with plain
`aws cloudformation deploy` and our parameter files copies nothing by hand, and unlike exports an
upstream value may change without first deleting every consumer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from troposphere import AWSObject, Output, Parameter, Ref, Sub, Tag, Tags, Template
from troposphere.ssm import Parameter as SsmParameter

from mmtool.config.params import FleetEndpoint, Params, region_partition
from templates.revisions import CreateOnly, Reach, digest, reach, value_reach

TOOL_NAME = "model-monitor-deployer"

# Names every template builds from its two standard parameters.
PREFIX = "${ProjectName}-${EnvironmentName}"


def name(suffix: str = "") -> Sub:
    """`<project>-<env>[-suffix]`, e.g. churn-prod-monitoring."""
    return Sub(PREFIX + (f"-{suffix}" if suffix else ""))


def ssm_name(stack: str, key: str, project: str | None = None, environment: str | None = None) -> str:
    """The SSM parameter name of a cross-stack value; as a `${}` pattern when no project is given."""
    return f"/{project or '${ProjectName}'}/{environment or '${EnvironmentName}'}/{stack}/{key}"


@dataclass(frozen=True)
class Import:
    """A value this stack consumes from an upstream stack through SSM."""

    parameter: str
    stack: str
    key: str
    list_value: bool = False


@dataclass(frozen=True)
class Inputs:
    """What one stack's parameter values are computed from: the environment, and for an endpoint's stacks the
    endpoint, its assets (script path or Clarify configuration -> bucket key) and its model's name."""

    params: Params
    endpoint: Optional[FleetEndpoint] = None
    assets: Mapping[str, str] = field(default_factory=dict)
    model: str = ""
    # What the values of other stacks this stack reads are made from: SSM-typed Parameter -> the digest of the
    # published value it resolves to (StackTemplate.published_digest of the upstream stack).
    imported: Mapping[str, str] = field(default_factory=dict)
    # Values of other stacks that count in every revision of this stack (the endpoint's Model: the network values
    # that decide its subnets, templates/endpoint.py MODEL_IDENTITY_UPSTREAM).
    identity: Mapping[str, str] = field(default_factory=dict)


# A Parameter's value in a stack's parameter file, from the stack's inputs; None: not in the file (the Default holds).
Value = Callable[[Inputs], Optional[str]]


@dataclass
class StackTemplate:
    """A Template under construction, with the bookkeeping for Parameters and their form labels."""

    stack: str
    description: str
    template: Template = field(init=False)
    groups: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)
    values: dict[str, Value] = field(default_factory=dict)  # Parameter -> how its value is computed
    # Revision Parameter -> (the resource whose name carries it, whether upstream values count)
    revisions: dict[str, tuple[str, bool]] = field(default_factory=dict)
    published: dict[str, str] = field(default_factory=dict)  # SSM key -> logical id of the SSM Parameter writing it
    _finished: Optional[dict] = field(default=None, init=False, repr=False)  # as_dict() after finish()
    _reaches: dict[str, Reach] = field(default_factory=dict, init=False, repr=False, compare=False)  # a cache: _reach

    def __post_init__(self) -> None:
        self.template = Template(Description=self.description)
        self.template.set_version("2010-09-09")
        self.param(
            "ProjectName",
            "Project name; prefixes every resource name.",
            group="Environment",
            label="Project name",
            AllowedPattern=r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$",
            ConstraintDescription="3-20 lowercase letters, digits and '-'",
            value=lambda i: i.params.project,
        )
        self.param(
            "EnvironmentName",
            "Environment name (dev, staging, prod, ...).",
            group="Environment",
            label="Environment name",
            AllowedPattern=r"^[a-z][a-z0-9]{1,9}$",
            ConstraintDescription="2-10 lowercase letters and digits",
            value=lambda i: i.params.environment,
        )

    # -- parameters -------------------------------------------------------------------------------

    def param(self, title: str, description: str, *, group: str, label: str, type: str = "String",
              value: Value | None = None, **kwargs) -> Parameter:
        """Declare a Parameter and, with `value`, how the parameter file gets its value: declared together, a
        template and its parameter files cannot drift apart (`parameter_file`)."""
        parameter = self.template.add_parameter(Parameter(title, Type=type, Description=description, **kwargs))
        self.groups.setdefault(group, []).append(title)
        self.labels[title] = label
        if value is not None:
            self.values[title] = value
        return parameter

    def flag(self, title: str, description: str, *, group: str, label: str, default: str = "true",
             value: Callable[[Inputs], Optional[bool]] | None = None) -> Parameter:
        """A "true"/"false" Parameter; `value` gives a bool (None: not in the file)."""
        return self.param(
            title, description, group=group, label=label, Default=default, AllowedValues=["true", "false"],
            value=None if value is None else (lambda inputs: _flag(value(inputs))),
        )

    def revision(self, parameter: str, resource: AWSObject, *, upstream: bool = True) -> None:
        """`parameter` is the revision in `resource`'s name: its value is the digest of what the resource depends
        on (templates/revisions.py) with this stack's values and, with `upstream`, what the values of other stacks
        it reads are made from, so the name changes whenever anything the resource is created from does."""
        self.revisions[parameter] = (resource.title, upstream)

    def parameter_file(self, inputs: Inputs) -> dict[str, str]:
        """The values of every Parameter declared with one, for these inputs, revisions included."""
        values = {}
        for title, value in self.values.items():
            computed = value(inputs)
            if computed is not None:
                values[title] = computed
        if self.revisions:
            template = self.as_dict()
            for parameter, (logical_id, upstream) in self.revisions.items():
                what = self._reach(template, logical_id)
                counted = {**inputs.identity, **({p: inputs.imported[p] for p in what.parameters if p in inputs.imported}
                                                 if upstream else {})}
                values[parameter] = digest(what, template, values, counted)
        return values

    def _reach(self, template: dict, logical_id: str) -> Reach:
        """What `logical_id` depends on; once finished, the template no longer changes, so it is found once (not
        once per endpoint of a fleet)."""
        if self._finished is None:
            return reach(template, logical_id)
        if logical_id not in self._reaches:
            self._reaches[logical_id] = reach(template, logical_id)
        return self._reaches[logical_id]

    def published_digest(self, key: str, values: Mapping[str, str], imported: Mapping[str, str],
                         create_only: CreateOnly | None = None) -> str:
        """What the value this stack publishes under `key` is made from, as a digest: the SSM Parameter writing it,
        what decides the ids of the resources it refers to (a replaced resource has a new id; `create_only` names
        the properties that replace a resource of a type), this stack's values they read and, the same way, the
        values of other stacks they read (`imported`)."""
        template = self.as_dict()
        what = value_reach(template, template["Resources"][self.published[key]]["Properties"]["Value"], create_only)
        return digest(what, template, values, {p: imported[p] for p in what.parameters if p in imported})

    def as_dict(self) -> dict:
        """The template as a dict; after `finish()` computed once (a fleet computes every endpoint's parameter file
        from one finished template: 200 endpoints would otherwise serialize it about a thousand times)."""
        if self._finished is not None:
            return self._finished
        return self.template.to_dict()

    def consume(self, title: str, stack: str, key: str, description: str, *, list_value: bool = False) -> Parameter:
        kind = "AWS::SSM::Parameter::Value<List<String>>" if list_value else "AWS::SSM::Parameter::Value<String>"
        self.imports.append(Import(title, stack, key, list_value))
        return self.param(
            title,
            f"{description} Name of the SSM parameter written by the {stack} stack.",
            group=f"From the {stack} stack",
            label=f"{description.rstrip('.')} (SSM name)",
            type=kind,
            value=lambda i: ssm_name(stack, key, i.params.project, i.params.environment),
        )

    # -- outputs ----------------------------------------------------------------------------------

    def publish(self, title: str, key: str, value: object, description: str, *, list_value: bool = False,
                condition: str | None = None, name: object = None) -> None:
        """Write `value` to SSM for downstream stacks and show it as a stack Output. `name`: the SSM name when
        it is not the stack's standard one."""
        extra = {"Condition": condition} if condition else {}
        self.published[key] = f"{title}Parameter"
        self.template.add_resource(
            SsmParameter(
                f"{title}Parameter",
                Name=name or Sub(ssm_name(self.stack, key)),
                Type="StringList" if list_value else "String",
                Value=value,
                Description=f"{description} (written by the {self.stack} stack)",
                **extra,
            )
        )
        self.template.add_output(Output(title, Description=description, Value=value, **extra))

    # -- finishing --------------------------------------------------------------------------------

    def finish(self) -> Template:
        self.template.set_metadata(
            {
                "AWS::CloudFormation::Interface": {
                    "ParameterGroups": [
                        {"Label": {"default": group}, "Parameters": names} for group, names in self.groups.items()
                    ],
                    "ParameterLabels": {title: {"default": label} for title, label in self.labels.items()},
                }
            }
        )
        self._finished = self.template.to_dict()
        self._reaches = {}
        return self.template


def _flag(value: Optional[bool]) -> Optional[str]:
    return None if value is None else str(bool(value)).lower()


def tag_parameter_name(key: str) -> str:
    """`cost-center` -> `TagCostCenter`: a CloudFormation Parameter name for a user tag's value."""
    words = re.split(r"[^A-Za-z0-9]+", key)
    return "Tag" + "".join(word[:1].upper() + word[1:] for word in words if word)


def explicit_tags(st: StackTemplate, tag_keys: list[str]) -> Tags:
    """Tags for resources that do not inherit stack tags (SageMaker monitoring types, aws-cloudformation/cloudformation-coverage-roadmap#2338).

    Values are Parameters, so environments that use the same tag keys (as they should) share one
    template; only the values in their parameter files differ.
    """
    tags = [
        Tag("Project", Ref("ProjectName")),
        Tag("Environment", Ref("EnvironmentName")),
        Tag("ManagedBy", TOOL_NAME),
    ]
    for key in sorted(tag_keys):
        title = tag_parameter_name(key)
        if title not in st.template.parameters:
            st.param(title, f"Value of the '{key}' tag.", group="Tags", label=f"Tag {key}", Default="",
                     value=lambda i, key=key: i.params.tags.get(key))
        tags.append(Tag(key, Ref(title)))
    return Tags(*tags)


def partition(region: str) -> str:
    """The region's partition (mmtool.config.params.region_partition: aws-iso-f for us-isof-*, which has images)."""
    return region_partition(region)


def s3_object_arn(uri: str, region: str) -> str:
    """s3://bucket/key -> arn:<partition>:s3:::bucket/key (for parameter values computed at build time)."""
    return f"arn:{partition(region)}:s3:::" + uri.removeprefix("s3://")


def retain(resource: AWSObject) -> AWSObject:
    """Keep a data-bearing resource (and its data) when the stack is deleted or it is replaced."""
    resource.DeletionPolicy = "Retain"
    resource.UpdateReplacePolicy = "Retain"
    return resource


def scanner_skips(*, checkov: dict[str, str] | None = None, cfn_lint: dict[str, str] | None = None) -> dict:
    """Resource Metadata that skips scanner checks on this resource only, each with its reason.

    This is the only place a scanner finding may be waived (`mmtool.security` refuses a checkov skip
    without a reason); the reasons are part of the template a reviewer reads. cfn-lint's own
    Metadata format has no reason field, so its reasons sit beside it under `cfn-lint-reasons`.
    """
    metadata: dict = {}
    if checkov:
        metadata["checkov"] = {"skip": [{"id": check, "comment": reason} for check, reason in sorted(checkov.items())]}
    if cfn_lint:
        metadata["cfn-lint"] = {"config": {"ignore_checks": sorted(cfn_lint)}}
        metadata["cfn-lint-reasons"] = dict(sorted(cfn_lint.items()))
    return metadata


def bucket_prefixes(areas, *, scoped: bool) -> list:
    """Each area of the bucket layout (mmtool/config/layout.py) as a template value: a Ref to the Parameter that
    carries it where the stack has one (a configured prefix; in a stack of one endpoint, `scoped`, every
    per-endpoint prefix), else the fixed prefix."""
    return [Ref(area.parameter) if area.parameter and (area.configurable or (scoped and area.per_endpoint))
            else area.prefix for area in areas]
