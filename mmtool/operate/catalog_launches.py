"""Monitors launched from Service Catalog on the processing engine (the endpoint-monitoring product, docs/handoff.md):
what `make status` shows of them, apart from the endpoints of the params file.

A launch is found by what the environment owns, never by a name alone (read only, nothing is changed):

* the launch stack: a top-level CloudFormation stack (DescribeStacks, every page) of the product's template: its
  parameters `ProjectName` and `EnvironmentName` are this environment's (the product allows no other value),
  `MonitorName` and `Engine` are there, `Engine` is `processing`, and its `BucketName` parameter (an SSM parameter)
  resolved to the environment's bucket (the one `/<project>/<env>/foundation/bucket-name` names);
* its nested monitoring stack: the launch stack's resource `Monitoring` (DescribeStackResources), then that stack
  (DescribeStacks): its outputs `DataQualityProcessingScheduleName` (its own schedule resource) and
  `ProcessingJobNamePrefixes` (`dq-<16 hex of the launch's stack id>-`, the launch's output `ProcessingJobNamePrefix`);
* then as for an endpoint of the params file (mmtool.operate.processing_facts): the schedule in the environment's
  EventBridge Scheduler group `<project>-<env>`, the newest processing jobs under that prefix, the failure of the
  newest failed one and the violations of the newest one with violations. A schedule whose request names its jobs
  otherwise than the stack says is not read as the launch's (`problem`).

Only where the environment has the schedule group (`Params.has_processing_engine`): elsewhere the
product offers Model Monitor only, whose launches `make status` lists by their schedules' names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmtool.config.monitor_kinds import DATA_QUALITY, PROCESSING
from mmtool.operate.awsenv import aws_errors, aws_failure
from mmtool.operate.facts import DEFAULT_EXECUTIONS, LOG_LINES
from mmtool.operate.processing_facts import EngineSchedule, ProcessingScheduleFacts, read_processing_schedule

LAUNCH_PARAMETERS = ("ProjectName", "EnvironmentName", "MonitorName", "Engine", "EndpointName")  # the product's
NESTED = "Monitoring"  # the launch stack's nested monitoring stack (templates/endpoint_monitoring.py)
SCHEDULE_OUTPUT = "DataQualityProcessingScheduleName"  # outputs of the monitoring template (templates/processing_engine.py)
PREFIXES_OUTPUT = "ProcessingJobNamePrefixes"
PROVISIONED_PRODUCT_TAG = "aws:servicecatalog:provisionedProductArn"  # Service Catalog tags the stacks it launches


@dataclass
class LaunchFacts:
    """One launch of the endpoint-monitoring product on the processing engine."""

    stack_name: str
    stack_id: str
    stack_status: str
    monitor_name: str
    endpoint_name: str
    provisioned_product: str | None = None  # Service Catalog's tag; None for a stack created otherwise
    schedule: ProcessingScheduleFacts | None = None
    problem: str | None = None  # why its schedule was not read

    @property
    def key(self) -> str:
        """`sc-<monitor name>`: the key the launch's names carry (docs/handoff.md)."""
        from mmtool.config.params import SELF_SERVICE_KEY_PREFIX

        return f"{SELF_SERVICE_KEY_PREFIX}{self.monitor_name}"

    @staticmethod
    def key_of(stack: dict[str, Any]) -> str:
        from mmtool.config.params import SELF_SERVICE_KEY_PREFIX

        values = _values(stack, "Parameters", "ParameterKey", "ParameterValue")
        return f"{SELF_SERVICE_KEY_PREFIX}{values['MonitorName']['ParameterValue']}"


def _values(stack: dict[str, Any], field: str, key: str, value: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in stack.get(field) or [] if key in item and value in item}


def _describe_stacks(cloudformation: Any, **query: str) -> list[dict[str, Any]]:
    what = query.get("StackName", "the account's stacks")
    try:
        return [s for page in cloudformation.get_paginator("describe_stacks").paginate(**query)
                for s in page.get("Stacks", [])]
    except aws_errors() as exc:
        raise aws_failure(exc, f"read {what} (cloudformation:DescribeStacks)") from exc


def is_launch(stack: dict[str, Any], params: Any, bucket: str) -> bool:
    """A launch of this environment's endpoint-monitoring product on the processing engine."""
    values = _values(stack, "Parameters", "ParameterKey", "ParameterValue")
    if stack.get("ParentId") or not all(name in values for name in LAUNCH_PARAMETERS):
        return False
    own = (values["ProjectName"]["ParameterValue"], values["EnvironmentName"]["ParameterValue"]) == \
        (params.project, params.environment)
    # the bucket the launch runs with: AWS gives an SSM-typed parameter's value as ResolvedValue (its ParameterValue
    # is the SSM name); moto 5.2.5 gives the value as ParameterValue and no ResolvedValue
    given = values.get("BucketName", {})
    uses_bucket = given.get("ResolvedValue", given.get("ParameterValue")) == bucket
    return own and uses_bucket and values["Engine"]["ParameterValue"] == PROCESSING


def nested_stack(cloudformation: Any, launch: dict[str, Any]) -> dict[str, Any] | None:
    """The launch stack's nested monitoring stack; None when it has none (yet, or any more)."""
    try:
        resources = cloudformation.describe_stack_resources(StackName=launch["StackId"]).get("StackResources", [])
    except aws_errors() as exc:
        raise aws_failure(exc, f"read the resources of {launch['StackName']} "
                               "(cloudformation:DescribeStackResources)") from exc
    nested = [r.get("PhysicalResourceId") for r in resources
              if r.get("LogicalResourceId") == NESTED and r.get("ResourceType") == "AWS::CloudFormation::Stack"]
    if not nested or not nested[0]:
        return None
    stacks = _describe_stacks(cloudformation, StackName=nested[0])
    return stacks[0] if stacks else None


def read_launch(clients: Any, params: Any, stack: dict[str, Any], *, executions: int, log_lines: int) -> LaunchFacts:
    values = _values(stack, "Parameters", "ParameterKey", "ParameterValue")
    tags = {t["Key"]: t.get("Value", "") for t in stack.get("Tags") or [] if "Key" in t}
    launch = LaunchFacts(stack["StackName"], stack["StackId"], stack.get("StackStatus", "?"),
                         values["MonitorName"]["ParameterValue"], values["EndpointName"]["ParameterValue"],
                         tags.get(PROVISIONED_PRODUCT_TAG))
    nested = nested_stack(clients.cloudformation, stack)
    if nested is None:
        launch.problem = f"the stack {launch.stack_name} has no nested monitoring stack ({NESTED}): {launch.stack_status}"
        return launch
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in nested.get("Outputs") or [] if "OutputKey" in o}
    name = outputs.get(SCHEDULE_OUTPUT)
    code = f"{DATA_QUALITY.code}-"
    prefix = next((p for p in outputs.get(PREFIXES_OUTPUT, "").split(",") if p.startswith(code)), None)
    if not name or not prefix:
        launch.problem = (f"its monitoring stack {nested['StackName']} ({nested.get('StackStatus', '?')}) has no "
                          f"outputs {SCHEDULE_OUTPUT} and {PREFIXES_OUTPUT}")
        return launch
    where = EngineSchedule(DATA_QUALITY.key, DATA_QUALITY.stem, name, params.prefix, prefix)
    schedule = read_processing_schedule(clients, where, executions=executions, log_lines=log_lines)
    job_name = (schedule.request or {}).get("ProcessingJobName", "")
    if schedule.request is not None and not str(job_name).startswith(prefix):
        launch.problem = (f"the schedule {params.prefix}/{name} names its jobs {job_name}, not {prefix}…: it is not "
                          f"the one the stack {nested['StackName']} made")
        return launch
    launch.schedule = schedule
    return launch


def read_launches(clients: Any, params: Any, bucket: str, *, executions: int = DEFAULT_EXECUTIONS,
                  log_lines: int = LOG_LINES, key: str | None = None) -> list[LaunchFacts]:
    """The environment's processing-engine launches of the endpoint-monitoring product, by monitor name (`key`: the
    one of that key `sc-<name>` only); none where the environment has no schedule group or no CloudFormation client
    is given."""
    cloudformation = getattr(clients, "cloudformation", None)
    if cloudformation is None or not params.has_processing_engine:
        return []
    stacks = [s for s in _describe_stacks(cloudformation) if is_launch(s, params, bucket)
              and (key is None or LaunchFacts.key_of(s) == key)]
    launches = [read_launch(clients, params, s, executions=executions, log_lines=log_lines) for s in stacks]
    return sorted(launches, key=lambda launch: (launch.monitor_name, launch.stack_name))
