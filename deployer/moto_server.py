"""A local moto server in a subprocess on 127.0.0.1 (a free port), for ``make demo``, the benchmark and
the tests. It is never reachable from outside the machine and is killed when the context ends.

moto needs credentials to sign requests but checks none; :data:`FAKE_CREDENTIALS` are what the demo and
tests put in their environment so no real credentials are ever sent anywhere.

``python -m deployer.moto_server -p PORT`` runs moto's own server after :func:`patch_moto`, which fixes
places where moto 5.2.5 answers unlike AWS in a way that would make a correct deployer (or a correct
template) look wrong:

* ExecuteChangeSet never recomputes the stack's Outputs (a stack created through a change set has none),
  does not update its tags, and leaves its input parameters at their creation-time values (so moto's own
  "no changes" check compares against stale values);
* a VPC flow log delivered to an S3 prefix (``arn:aws:s3:::bucket/prefix``) crashes moto's
  AWS::EC2::FlowLog handler (it looks for a bucket named ``bucket/prefix``);
* deleting a stack leaves its AWS::EC2::VPCEndpoint and AWS::EC2::RouteTable resources behind (their
  models have no CloudFormation delete), and the route table then makes the VPC's delete fail with
  DependencyViolation, so a network stack that created its VPC could never be destroyed;
* an update change set lists no resource whose only change is a parameter value, and names no
  ``Replacement`` or ``Details``: added for resources that refer to a changed parameter, and the
  replacement is described for the types whose properties are create-only (SageMaker job definitions,
  model, endpoint configuration), so a plan on moto shows the ``±`` CloudFormation would show (only for resources
  the stack has: one whose Condition is false refers to parameters too, but CloudFormation lists no change of it).
* SageMaker UpdateEndpoint is missing (``make adopt`` calls it): added as AWS does it once the update has
  finished, the endpoint InService on the new config, its variants and Data Capture taken from it (moto keeps
  no instance counts of its own to retain, and has no Updating phase; tests that need one use a Stubber).
* moto implements the EventBridge Scheduler API but not its CloudFormation types (it skips them with a warning, so
  a processing-engine endpoint's schedules would not exist): AWS::Scheduler::ScheduleGroup and
  AWS::Scheduler::Schedule create, replace and delete moto's own scheduler resources.
* moto's CloudFormation skips AWS::CloudWatch::Alarm, AWS::SNS::Subscription and AWS::SNS::TopicPolicy with a warning
  (no alarm of a template existed): they create, update and delete moto's own alarms, subscriptions and topic policies.
* SageMaker CreateModel drops ``EnableNetworkIsolation`` (every model then describes as ``false``), so the plan's
  check that an existing endpoint's model lets Clarify call it could never see an isolated model: the flag of the
  request is kept on the model. (A Model that CloudFormation creates still reads ``false``: nothing reads it.)
* ListStackResources lists a blank entry for every resource whose Condition is false and for every resource
  of a type moto accepts without creating (SageMaker monitoring resources, bucket policies, ...): it lists the
  template's resources whose Condition is true, as CloudFormation does, each with its logical id and type
  (the physical id stays empty where moto created nothing). The plan's counts are checked against it.
* A CREATE change set lists every resource of the template, those whose Condition is false too: it lists the
  ones CloudFormation would create (the apply summary counts them).
* ListChangeSets ignores its StackName and answers every change set of the region: it answers the named
  stack's only (the next plan deletes a saved plan's change sets stack by stack).
* SageMaker CreateEndpointConfig silently replaces an existing config of the same name; AWS refuses the request
  (ValidationException "Cannot create already existing endpoint configuration"), which is what keeps ``make adopt``
  from overwriting, or being fooled by, a config planted under the name it would create: refused as AWS does.

* An action moto does not implement (SageMaker ListMonitoringSchedules, which `make status` calls, among others)
  raises inside moto and comes back as an HTTP 500 HTML page, which botocore retries for ~10-17 s and then shows
  whole: it is answered at once as an AWS-shaped error instead (HTTP 501, code ``NotImplemented``, a one-line
  message naming the action), which botocore does not retry (:func:`answer_not_implemented`).

Nothing else of moto is changed; its other gaps are listed in docs/deploying.md.

This module is demo and test infrastructure: the engine never imports it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Callable

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
MOTO_ACCOUNT = "123456789012"  # moto's default account


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def patch_moto() -> None:
    """Make moto's ExecuteChangeSet leave the stack as CloudFormation does (see the module docstring)."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if getattr(original, "_mmtool_patched", False):
        return

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        original(self, change_set_name, stack_name)
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        if change_set.tags:
            stack.tags = dict(change_set.tags)
        stack.parameters = dict(change_set.parameters)
        _tag_like_cloudformation(self, stack)

    execute_change_set._mmtool_patched = True  # type: ignore[attr-defined]
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]

    # A flow log delivered to an S3 *prefix* (arn:aws:s3:::bucket/prefix) is valid; moto looks for a bucket
    # named "bucket/prefix", reports it missing, and its CloudFormation handler then fails (IndexError).
    from moto.ec2.models.flow_logs import FlowLogsBackend

    create_flow_logs = FlowLogsBackend.create_flow_logs

    def create_flow_logs_with_prefix(self: Any, resource_type: Any, resource_ids: Any, traffic_type: Any,
                                     permission_arn: Any, destination_type: Any, destination: Any, *rest: Any) -> Any:
        if destination_type == "s3" and destination and "/" in destination.split(":", 5)[-1]:
            bucket_arn = destination.split("/", 1)[0]
            flow_logs, unsuccessful = create_flow_logs(self, resource_type, resource_ids, traffic_type,
                                                       permission_arn, destination_type, bucket_arn, *rest)
            for flow_log in flow_logs:
                flow_log.log_destination = destination
            return flow_logs, unsuccessful
        return create_flow_logs(self, resource_type, resource_ids, traffic_type, permission_arn,
                                destination_type, destination, *rest)

    FlowLogsBackend.create_flow_logs = create_flow_logs_with_prefix  # type: ignore[method-assign]
    _delete_with_stack()
    _describe_replacements()
    patch_sagemaker_update_endpoint()
    patch_sagemaker_model_isolation()
    _list_stack_resources()
    patch_sagemaker_existing_endpoint_config()
    patch_get_template_of_change_set()
    _scheduler_in_cloudformation()
    _notifications_in_cloudformation()


def _list_stack_resources() -> None:
    """ListStackResources lists the resources CloudFormation would have created (see the module docstring)."""
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    if getattr(CloudFormationResponse.list_stack_resources, "_mmtool_patched", False):
        return

    def list_stack_resources(self: Any) -> Any:
        stack, _ = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
        resource_map = stack.resource_map
        summaries = []
        for logical_id, body in (resource_map._resource_json_map or {}).items():
            condition = body.get("Condition")
            if condition and not resource_map.lazy_condition_map[condition]:
                continue
            resource = resource_map._parsed_resources.get(logical_id)
            summaries.append({
                "ResourceStatus": "CREATE_COMPLETE", "LogicalResourceId": logical_id,
                "LastUpdatedTimestamp": stack.creation_time, "ResourceType": body.get("Type", ""),
                "PhysicalResourceId": getattr(resource, "physical_resource_id", "") or "",
            })
        return ActionResult({"StackResourceSummaries": summaries})

    list_stack_resources._mmtool_patched = True  # type: ignore[attr-defined]
    CloudFormationResponse.list_stack_resources = list_stack_resources  # type: ignore[method-assign]

    def list_change_sets(self: Any) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        return ActionResult({"Summaries": [c for c in self.cloudformation_backend.list_change_sets()
                                           if c.stack_id == stack.stack_id]})

    CloudFormationResponse.list_change_sets = list_change_sets  # type: ignore[method-assign]


def patch_sagemaker_existing_endpoint_config() -> None:
    """CreateEndpointConfig refuses a name that exists, as AWS does (see the module docstring)."""
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpointConfig
    from moto.sagemaker.responses import SageMakerResponse

    original = SageMakerResponse.create_endpoint_config
    if getattr(original, "_mmtool_patched", False):
        return

    def create_endpoint_config(self: Any) -> Any:
        name = self._get_param("EndpointConfigName")
        if name in self.sagemaker_backend.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(name, self.current_account, self.region)
            raise ValidationError(message=f'Cannot create already existing endpoint configuration "{arn}".')
        return original(self)

    create_endpoint_config._mmtool_patched = True  # type: ignore[attr-defined]
    SageMakerResponse.create_endpoint_config = create_endpoint_config  # type: ignore[method-assign]


def _tag_like_cloudformation(backend: Any, stack: Any) -> None:
    """CloudFormation tags every resource it creates that supports tags with the stack's tags and with
    ``aws:cloudformation:stack-name``, ``stack-id`` and ``logical-id`` ("Resource tag",
    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resource-tags.html); moto
    5.2.5 puts none on S3 buckets and KMS keys. Those tags are how a deploy after a destroy finds the kept bucket
    and key (deployer/continuity.py), so they are added here for those two types."""
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends

    partition = getattr(backend, "partition", "aws")
    for logical_id, body in (stack.template_dict.get("Resources") or {}).items():
        kind = body.get("Type") if isinstance(body, dict) else None
        if kind not in ("AWS::S3::Bucket", "AWS::KMS::Key"):
            continue
        resource = stack.resource_map[logical_id]
        if resource is None:
            continue
        tags = {**dict(stack.tags or {}), "aws:cloudformation:stack-name": stack.name,
                "aws:cloudformation:stack-id": stack.stack_id, "aws:cloudformation:logical-id": logical_id}
        if kind == "AWS::S3::Bucket":
            s3 = s3_backends[backend.account_id][partition]
            current = s3.tagger.get_tag_dict_for_resource(resource.arn)
            s3.put_bucket_tagging(resource.name, {**tags, **current})
        else:
            kms_backends[backend.account_id][backend.region_name].tag_resource(resource.id, tags)


def patch_get_template_of_change_set() -> None:
    """GetTemplate with ``ChangeSetName`` returns that change set's template (CloudFormation API reference,
    GetTemplate: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html); moto
    5.2.5 ignores the parameter and returns the stack's. The engine compares a change set's template read from
    S3 with the build's (deployer/integrity.py)."""
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import ActionResult

    original = CloudFormationResponse.get_template
    if getattr(original, "_mmtool_patched", False):
        return

    def get_template(self: Any) -> Any:
        name = self._get_param("ChangeSetName")
        if not name:
            return original(self)
        return ActionResult({"TemplateBody": self.cloudformation_backend.describe_change_set(name).template})

    get_template._mmtool_patched = True  # type: ignore[attr-defined]
    CloudFormationResponse.get_template = get_template  # type: ignore[method-assign]


def patch_sagemaker_model_isolation() -> None:
    """CreateModel keeps the request's EnableNetworkIsolation, which DescribeModel then returns (see the module
    docstring)."""
    from moto.sagemaker.responses import SageMakerResponse

    original = SageMakerResponse.create_model
    if getattr(original, "_mmtool_patched", False):
        return

    def create_model(self: Any) -> Any:
        result = original(self)
        model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
        model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
        return result

    create_model._mmtool_patched = True  # type: ignore[attr-defined]
    SageMakerResponse.create_model = create_model  # type: ignore[method-assign]


def patch_sagemaker_update_endpoint() -> None:
    """UpdateEndpoint for moto's SageMaker (see the module docstring); unknown names answer as AWS does."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig
    from moto.sagemaker.responses import SageMakerResponse

    if hasattr(SageMakerResponse, "update_endpoint"):
        return

    def update_endpoint(self: Any) -> Any:
        backend = self.sagemaker_backend
        name, config_name = self._get_param("EndpointName"), self._get_param("EndpointConfigName")
        if name not in backend.endpoints:
            arn = FakeEndpoint.arn_formatter(name, self.current_account, self.region)
            raise ValidationError(message=f"Could not find endpoint '{arn}'.")
        if config_name not in backend.endpoint_configs:
            arn = FakeEndpointConfig.arn_formatter(config_name, self.current_account, self.region)
            raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
        endpoint, config = backend.endpoints[name], backend.endpoint_configs[config_name]
        endpoint.endpoint_config_name = config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.data_capture_config = config.data_capture_config
        endpoint.endpoint_status, endpoint.failure_reason = "InService", None  # as a finished update leaves it
        endpoint.last_modified_time = utcnow()
        return ActionResult({"EndpointArn": endpoint.arn})

    SageMakerResponse.update_endpoint = update_endpoint  # type: ignore[attr-defined]


# Resource types whose every property but these is create-only (CloudFormation's resource reference:
# "Update requires: Replacement"), so any other change replaces the resource. Only what the project's
# templates use; tests/deployer/test_moto_gaps.py checks the table against cfn-lint's provider schemas.
REPLACED_ON_CHANGE: dict[str, frozenset[str]] = {
    "AWS::SageMaker::DataQualityJobDefinition": frozenset(),
    "AWS::SageMaker::ModelQualityJobDefinition": frozenset(),
    "AWS::SageMaker::ModelBiasJobDefinition": frozenset(),
    "AWS::SageMaker::ModelExplainabilityJobDefinition": frozenset(),
    "AWS::SageMaker::Model": frozenset({"Tags"}),
    "AWS::SageMaker::EndpointConfig": frozenset({"Tags"}),
}
_SUB_VARIABLE = re.compile(r"\$\{([A-Za-z0-9:]+)\}")


def _references(value: Any) -> set[str]:
    """Names a template fragment refers to (``Ref`` and ``Fn::Sub`` variables)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found |= set(_SUB_VARIABLE.findall(text if isinstance(text, str) else ""))
                found |= _references(inner[1:] if isinstance(inner, list) else [])
            else:
                found |= _references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _references(inner)
    return found


def _describe_replacements() -> None:
    """A create change set lists the resources whose Condition holds; an update change set lists what
    CloudFormation would list, and says which changes replace.

    moto's change set lists a resource only when its own template text changed (a resource whose only
    change is a parameter value is missing), and never fills ``Replacement``/``Details``. This adds the
    resources that refer to a changed parameter (``Modify``) and, for the types of
    :data:`REPLACED_ON_CHANGE`, the ``Details`` of each changed property (``RequiresRecreation``,
    ``ChangeSource``, ``CausingEntity``) and ``Replacement: True`` when one is create-only. Other types keep
    moto's answer (no ``Replacement``: the engine shows ``~``).
    """
    from moto.cloudformation.models import Change, ChangeSet
    from moto.cloudformation.parsing import ResourceMap

    original = ChangeSet.diff
    if getattr(original, "_mmtool_patched", False):
        return

    def diff(self: Any) -> list[Any]:
        changes = original(self)
        if self.change_set_type == "CREATE":  # only what CloudFormation would create: Conditions that hold
            conditions = {name: body.get("Condition") for name, body in (self.template_dict.get("Resources") or {}).items()}
            stack = self.stack  # still empty (REVIEW_IN_PROGRESS): the Conditions of the change set's own template
            resource_map = ResourceMap(stack.stack_id, stack.name, self.parameters, self.tags or {},
                                       account_id=stack.account_id, region_name=stack.region_name,
                                       template=self.template_dict, cross_stack_resources=stack.cross_stack_resources)
            try:
                resource_map.load()  # parameters and Conditions only; creates nothing
            except Exception:  # e.g. an SSM parameter it reads is missing: moto's own answer, unfiltered
                return changes
            holds = resource_map.lazy_condition_map
            return [c for c in changes if not conditions.get(c.logical_resource_id) or holds[conditions[c.logical_resource_id]]]
        if self.change_set_type != "UPDATE":
            return changes
        resource_map = self.stack.resource_map
        deployed = resource_map._resource_json_map
        wanted = self.template_dict.get("Resources") or {}
        before = resource_map.input_parameters or {}
        changed = {name for name, value in (self.parameters or {}).items() if before.get(name) != value}
        listed = {c.logical_resource_id for c in changes}
        conditions = getattr(resource_map, "lazy_condition_map", {})

        def exists(logical_id: str) -> bool:  # a resource whose Condition is false for the stack was never created
            condition = deployed[logical_id].get("Condition")
            return condition is None or bool(conditions[condition])

        for logical_id, body in wanted.items():
            if logical_id in deployed and logical_id not in listed and _references(body) & changed and exists(logical_id):
                changes.append(Change("Modify", logical_id, body["Type"]))
        for change in changes:
            updatable = REPLACED_ON_CHANGE.get(change.resource_type)
            if change.action != "Modify" or updatable is None:
                continue
            old = deployed[change.logical_resource_id].get("Properties") or {}
            new = wanted[change.logical_resource_id].get("Properties") or {}
            details = []
            for prop in sorted(set(old) | set(new)):
                causes: list[tuple[str, str | None]] = [("DirectModification", None)] if old.get(prop) != new.get(prop) else []
                causes += [("ParameterReference", p) for p in sorted(_references(new.get(prop)) & changed)]
                for source, entity in causes:
                    recreation = "Never" if prop in updatable else "Always"
                    details.append({"Target": {"Attribute": "Properties", "Name": prop, "RequiresRecreation": recreation},
                                    "Evaluation": "Static", "ChangeSource": source,
                                    **({"CausingEntity": entity} if entity else {})})
            change.scope = ["Properties"]
            change.details = details
            change.replacement = "True" if any(d["Target"]["RequiresRecreation"] == "Always" for d in details) else "False"
        return changes

    diff._mmtool_patched = True  # type: ignore[attr-defined]
    ChangeSet.diff = diff  # type: ignore[method-assign]


def _scheduler_in_cloudformation() -> None:
    """AWS::Scheduler::ScheduleGroup and AWS::Scheduler::Schedule create, update and delete moto's own scheduler
    resources (moto implements the Scheduler API but not these CloudFormation types: it skips them with a warning).
    Ref is the name, as in CloudFormation; GetAtt Arn."""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.scheduler.models import scheduler_backends

    if "AWS::Scheduler::Schedule" in parsing.get_model_map():
        return

    def backend(account_id: str, region_name: str) -> Any:
        return scheduler_backends[account_id][region_name]

    class NamedWithArn:
        """What both types share: the physical id is the resource's name (CloudFormation's Ref), GetAtt Arn its ARN.
        A mixin, not a model: moto finds the models among CloudFormationModel's direct subclasses only."""

        def __init__(self, resource: Any):
            self.resource = resource

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @property
        def physical_resource_id(self) -> str:
            return self.resource.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            return self.resource.arn

    class SchedulerGroupResource(NamedWithArn, CloudFormationModel):
        # moto's model metaclass reads the service from the module name; run as a script it is "__main__"
        __module__ = "deployer.moto_server"

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::ScheduleGroup"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            props = cloudformation_json.get("Properties") or {}
            return cls(backend(account_id, region_name).create_schedule_group(props.get("Name") or resource_name,
                                                                              props.get("Tags") or []))

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str) -> None:
            backend(account_id, region_name).schedule_groups.pop(resource_name, None)

    class SchedulerScheduleResource(NamedWithArn, CloudFormationModel):
        __module__ = "deployer.moto_server"  # as above

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::Schedule"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json.get("Properties") or {}
            return cls(backend(account_id, region_name).create_schedule(
                description=p.get("Description"), end_date=p.get("EndDate"),
                flexible_time_window=p.get("FlexibleTimeWindow"), group_name=p.get("GroupName"),
                kms_key_arn=p.get("KmsKeyArn"), name=p.get("Name") or resource_name,
                schedule_expression=p.get("ScheduleExpression"),
                schedule_expression_timezone=p.get("ScheduleExpressionTimezone"), start_date=p.get("StartDate"),
                state=p.get("State"), target=p.get("Target"), action_after_completion=None))

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: Any, account_id: str, region_name: str) -> Any:
            old = original_resource.resource
            backend(account_id, region_name).delete_schedule(old.group_name, old.name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str) -> None:
            for group in backend(account_id, region_name).schedule_groups.values():
                group.schedules.pop(resource_name, None)

    # moto finds models through CloudFormationModel.__subclasses__(), which holds classes weakly: keep them alive
    _SCHEDULER_MODELS.extend([SchedulerGroupResource, SchedulerScheduleResource])
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


_SCHEDULER_MODELS: list[type] = []


def _notifications_in_cloudformation() -> None:
    """AWS::CloudWatch::Alarm, AWS::SNS::Subscription and AWS::SNS::TopicPolicy create, update and delete moto's own
    alarms, subscriptions and topic policies (moto implements the APIs but not these CloudFormation types: it skips
    them with a warning, so no alarm of a template would exist). Ref: the alarm's name, the subscription's ARN, an id
    (as in CloudFormation); only the properties the templates set (a metric alarm on one metric: no Metrics)."""
    import json

    from moto.cloudformation import parsing
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.sns.models import sns_backends

    if "AWS::CloudWatch::Alarm" in parsing.get_model_map():
        return

    class ReplacedOnUpdate:
        """An update deletes the resource and creates it from the new properties (a new name replaces it, the same
        name is overwritten). A mixin: moto finds only direct subclasses of CloudFormationModel."""

        @classmethod
        def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                            cloudformation_json: Any, account_id: str, region_name: str) -> Any:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(  # type: ignore[attr-defined]
                new_resource_name, cloudformation_json, account_id, region_name)

    class AlarmResource(ReplacedOnUpdate, CloudFormationModel):
        __module__ = "deployer.moto_server"  # as the Scheduler models

        def __init__(self, account_id: str, region_name: str, name: str):
            self.account_id, self.region_name, self.name = account_id, region_name, name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "AlarmName"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> Any:
            return cloudwatch_backends[self.account_id][self.region_name].alarms[self.name].alarm_arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json.get("Properties") or {}
            name = p.get("AlarmName") or resource_name
            cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=name, namespace=p.get("Namespace"), metric_name=p.get("MetricName"),
                comparison_operator=p.get("ComparisonOperator"), evaluation_periods=int(p["EvaluationPeriods"]),
                period=int(p["Period"]) if "Period" in p else None, threshold=float(p["Threshold"]),
                statistic=p.get("Statistic"), description=p.get("AlarmDescription"),
                dimensions=p.get("Dimensions") or [], alarm_actions=p.get("AlarmActions") or [],
                datapoints_to_alarm=int(p["DatapointsToAlarm"]) if "DatapointsToAlarm" in p else None,
                extended_statistic=p.get("ExtendedStatistic"), ok_actions=p.get("OKActions") or [],
                insufficient_data_actions=p.get("InsufficientDataActions") or [], unit=p.get("Unit"),
                actions_enabled=str(p.get("ActionsEnabled", True)).lower() == "true",
                treat_missing_data=p.get("TreatMissingData"))
            return cls(account_id, region_name, name)

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    class SubscriptionResource(ReplacedOnUpdate, CloudFormationModel):
        __module__ = "deployer.moto_server"

        def __init__(self, arn: str):
            self.arn = arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::Subscription"

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json.get("Properties") or {}
            return cls(sns_backends[account_id][region_name].subscribe(p["TopicArn"], p["Endpoint"],
                                                                       p["Protocol"]).arn)

        def delete(self, account_id: str, region_name: str) -> None:
            sns_backends[account_id][region_name].unsubscribe(self.arn)

    class TopicPolicyResource(ReplacedOnUpdate, CloudFormationModel):
        __module__ = "deployer.moto_server"

        def __init__(self, name: str, topics: list[str]):
            self.name, self.topics = name, topics

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SNS::TopicPolicy"

        @property
        def physical_resource_id(self) -> str:
            return self.name

        @classmethod
        def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: Any, account_id: str,
                                            region_name: str, **kwargs: Any) -> Any:
            p = cloudformation_json.get("Properties") or {}
            backend = sns_backends[account_id][region_name]
            for topic in p["Topics"]:
                backend.set_topic_attribute(topic, "policy", json.dumps(p["PolicyDocument"]))
            return cls(resource_name, list(p["Topics"]))

        def delete(self, account_id: str, region_name: str) -> None:
            """The topics that still exist get moto's default policy back (AWS's, when the topic policy is gone)."""
            backend = sns_backends[account_id][region_name]
            for arn in self.topics:
                topic = backend.topics.get(arn)
                if topic is not None:
                    topic._policy_json = topic._create_default_topic_policy(region_name, account_id, topic.name)

    _SCHEDULER_MODELS.extend([AlarmResource, SubscriptionResource, TopicPolicyResource])  # kept alive, as above
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _delete_with_stack() -> None:
    """Deleting a stack deletes its AWS::EC2::VPCEndpoint and AWS::EC2::RouteTable resources, as in AWS.

    moto's models of the two have no CloudFormation delete, so they outlive their stack; the route table
    left behind makes moto refuse to delete the VPC (DependencyViolation), so the real network stack could
    never be destroyed. moto's delete loop ignores dependency order (it retries what failed until nothing
    moves), so the endpoint's delete skips route tables that are gone already, and the route table's
    refuses while subnets are still associated (moto's own check) and is tried again.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.vpcs import VPCEndPoint
    from moto.ec2.utils import generate_route_id

    def delete_endpoint(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        endpoint = backend.vpc_end_points.get(resource_name)
        if endpoint is None or endpoint.state == "deleted":
            return
        prefix_list = endpoint.destination_prefix_list_id  # the gateway endpoint's route, when moto made one
        endpoint.route_table_ids = [
            rt for rt in endpoint.route_table_ids or []
            if prefix_list and rt in backend.route_tables
            and generate_route_id(rt, prefix_list) in backend.route_tables[rt]._routes
        ]
        backend.delete_vpc_endpoints([resource_name])  # state "deleted", its interfaces and routes removed

    def delete_route_table(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        if resource_name in backend.route_tables:
            backend.delete_route_table(resource_name)

    VPCEndPoint.delete_from_cloudformation_json = classmethod(delete_endpoint)  # type: ignore[method-assign,assignment]
    RouteTable.delete_from_cloudformation_json = classmethod(delete_route_table)  # type: ignore[method-assign,assignment]


NOT_IMPLEMENTED = "NotImplemented"


def answer_not_implemented(app: Callable[..., Any]) -> Callable[..., Any]:
    """WSGI wrapper: moto's NotImplementedError becomes an error response in the protocol of the request (JSON
    for the JSON protocols, XML otherwise) with HTTP 501, which botocore neither retries nor fails to parse."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return app(environ, start_response)
        except NotImplementedError as exc:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            action = target.rpartition(".")[2] or str(exc)
            message = (f"the local moto server does not implement {action} (moto's words: {exc}); "
                       "this needs AWS, or a fix in deployer/moto_server.py")
            if target or "json" in environ.get("CONTENT_TYPE", ""):
                import json

                body = json.dumps({"__type": NOT_IMPLEMENTED, "message": message}).encode()
                content_type = "application/x-amz-json-1.1"
            else:
                from xml.sax.saxutils import escape

                body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{NOT_IMPLEMENTED}</Code>"
                        f"<Message>{escape(message)}</Message></Error></ErrorResponse>").encode()
                content_type = "text/xml"
            start_response("501 Not Implemented", [("Content-Type", content_type), ("x-amzn-ErrorType", NOT_IMPLEMENTED),
                                                   ("Content-Length", str(len(body)))])
            return [body]

    return wsgi


def serve(argv: list[str] | None = None, *, wrap: Callable[[Any], Any] | None = None) -> None:
    """Run moto's server (patched) in this process: ``-H host -p port``."""
    import argparse
    import signal

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m deployer.moto_server")
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as `python -m moto.server` does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    patch_moto()
    app: Any = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as `python -m moto.server` does: server-side tracebacks go to the log
    app = answer_not_implemented(app)
    if wrap is not None:
        app = wrap(app)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


def answering(url: str) -> bool:
    """True when a moto server answers at ``url`` (its small config document: data.json grows with the state)."""
    try:
        with urllib.request.urlopen(f"{url}/moto-api/config", timeout=2):
            return True
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def start_detached(log_path: Path, *, startup_timeout: float = 30.0) -> tuple[int, str]:
    """A server that outlives this process, in a session of its own (``make local-up``): (its pid, its URL).
    Stop it with ``os.kill(pid, SIGTERM)``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "deployer.moto_server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**os.environ, **FAKE_CREDENTIALS}, cwd=Path(__file__).resolve().parent.parent,
        )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited with {process.returncode}; see {log_path}")
        if answering(url):
            return process.pid, url
        time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"moto server did not answer on {url} within {startup_timeout:g} s; see {log_path}")


class MotoServer:
    """``with MotoServer() as server: ... server.url``"""

    def __init__(self, *, command: list[str] | None = None, env: dict[str, str] | None = None, startup_timeout: float = 30.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._command = command or [sys.executable, "-m", "deployer.moto_server"]
        self._env = env or {}
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="moto-server-", suffix=".log", delete=False)
        self.log_path = Path(self._log.name)

    def start(self) -> "MotoServer":
        env = {**os.environ, **FAKE_CREDENTIALS, **self._env}
        self._process = subprocess.Popen(
            [*self._command, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.url} within {self._startup_timeout}s")

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def post(self, path: str, body: bytes = b"") -> bytes:
        request = urllib.request.Request(f"{self.url}{path}", method="POST", data=body)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        try:
            self.log_path.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    serve()
