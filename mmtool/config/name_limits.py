"""Every AWS name the templates compose from params values, with AWS's limit on it, so validation refuses a params
file whose composed names AWS would refuse at deploy time (or cfn-lint after the build), naming the field to shorten.

The name patterns mirror the templates' (templates/common.py `name`, templates/endpoint.py `scoped`,
templates/monitoring.py `schedule_name`, templates/notifications.py `Names`): a deliberate second copy, held equal by
tests/config/test_name_limits.py, which resolves every name of the generated templates of a longest-possible
environment and finds each one here, and reads each limit from botocore's service models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

# mmtool.config.params imports this module (its validation calls composed_names): the Params and FleetEndpoint it
# passes are typed Any here, so the two modules do not import each other.
Params = FleetEndpoint = Any

# AWS's limits (the API references; botocore's models say the same, which the test checks)
SAGEMAKER_NAME = 63  # endpoint, model, job definition, monitoring schedule
IAM_ROLE_NAME = 64
EVENTS_RULE_NAME = 64
CLOUDWATCH_ALARM_NAME = 255
CLOUDWATCH_DASHBOARD_NAME = 255
STACK_NAME = 128
SNS_TOPIC_NAME = 256
KMS_ALIAS_NAME = 256
SCHEDULER_NAME = 64  # EventBridge Scheduler schedule and schedule group
SQS_QUEUE_NAME = 80
SSM_PARAMETER_NAME = 1011  # fully qualified; /<project>/<env>/<stack>[/<key>]/<value> stays far below it

ENVIRONMENT_STACKS = ("foundation", "network", "alarms", "catalog")
REVISION = "0" * 12  # a job definition's or model's revision hash (mmtool/generate/synth.py): always 12 hex digits


@dataclass(frozen=True)
class ComposedName:
    field: str  # the params field that makes it long
    value: str  # its value
    what: str
    name: str
    limit: int

    @property
    def problem(self) -> str | None:
        if len(self.name) <= self.limit:
            return None
        shown = self.name if len(self.name) <= 70 else self.name[:67] + "..."
        return (f"makes the {self.what} {shown!r} {len(self.name)} characters long; AWS allows at most "
                f"{self.limit}: shorten it by {len(self.name) - self.limit}")


def composed_names(params: Params) -> Iterator[ComposedName]:
    prefix = params.prefix
    for stack in ENVIRONMENT_STACKS:
        yield ComposedName("project", params.project, "stack name", f"{prefix}-{stack}", STACK_NAME)
    yield ComposedName("project", params.project, "KMS alias", f"alias/{prefix}", KMS_ALIAS_NAME)
    yield ComposedName("project", params.project, "SNS topic name", f"{prefix}-alarms", SNS_TOPIC_NAME)
    yield ComposedName("project", params.project, "dashboard name", f"{prefix}-model-monitor", CLOUDWATCH_DASHBOARD_NAME)
    yield ComposedName("project", params.project, "IAM role name", f"{prefix}-catalog-launch", IAM_ROLE_NAME)
    if params.has_processing_engine:  # the foundation's schedule group
        yield ComposedName("project", params.project, "EventBridge Scheduler schedule group name", prefix, SCHEDULER_NAME)
    yield ComposedName("project", params.project, "IAM role name", f"{prefix}-monitoring", IAM_ROLE_NAME)
    yield ComposedName("project", params.project, "SageMaker model name", f"{prefix}-model-{REVISION}", SAGEMAKER_NAME)
    from mmtool.config.monitor_kinds import KINDS  # deferred: the params model imports this module
    for code in (kind.code for kind in KINDS):
        yield ComposedName("project", params.project, "SageMaker job definition name", f"{prefix}-{code}-{REVISION}", SAGEMAKER_NAME)
    for endpoint in params.fleet():
        yield from _endpoint_names(params, endpoint)


def _endpoint_names(params: Params, endpoint: FleetEndpoint) -> Iterator[ComposedName]:
    scoped = endpoint.name_prefix(params)
    at, value = ("project", params.project) if endpoint.legacy else (f"endpoints.{endpoint.key}", endpoint.key)
    for kind in ("endpoint", "monitoring"):
        yield ComposedName(at, value, "stack name", endpoint.stack_name(params, kind), STACK_NAME)
        yield ComposedName(at, value, "IAM role name", f"{scoped}-{kind}", IAM_ROLE_NAME)
    if endpoint.create:
        yield ComposedName(at, value, "SageMaker endpoint name", endpoint.endpoint_name(params), SAGEMAKER_NAME)
    from mmtool.config.monitor_kinds import KINDS, PROCESSING  # deferred: the params model imports this module
    # The schedules (templates/monitoring.py and processing_engine.py schedule_name): <name> in the single-endpoint
    # form, <code> in a fleet; the processing engine's <name>-processing and <code>-proc.
    for suffix in (kind.name if endpoint.legacy else kind.code for kind in KINDS):
        yield ComposedName(at, value, "monitoring schedule name", f"{scoped}-{suffix}", SAGEMAKER_NAME)
    rules = ("monitor-failed", "monitor-violations") if endpoint.legacy else ("failed", "violations")
    for rule in rules:
        yield ComposedName(at, value, "EventBridge rule name", f"{scoped}-{rule}", EVENTS_RULE_NAME)
    if not endpoint.legacy:  # a fleet endpoint's own dashboard, in its monitoring stack
        yield ComposedName(at, value, "dashboard name", f"{scoped}-model-monitor", CLOUDWATCH_DASHBOARD_NAME)
    for alarm in ("monitor-failed", "notification-delivery", "violations-delivery"):
        yield ComposedName(at, value, "CloudWatch alarm name", f"{scoped}-{alarm}", CLOUDWATCH_ALARM_NAME)
    if endpoint.monitoring.runs_processing:  # templates/processing_engine.py
        for suffix in (f"{kind.name}-processing" if endpoint.legacy else f"{kind.code}-proc"
                       for kind in KINDS if PROCESSING in kind.engines):
            yield ComposedName(at, value, "EventBridge Scheduler schedule name", f"{scoped}-{suffix}", SCHEDULER_NAME)
        for rule in ("job-failed", "job-viol"):
            yield ComposedName(at, value, "EventBridge rule name", f"{scoped}-{rule}", EVENTS_RULE_NAME)
        for role in ("processing", "scheduler"):
            yield ComposedName(at, value, "IAM role name", f"{scoped}-{role}", IAM_ROLE_NAME)
        yield ComposedName(at, value, "SQS queue name", f"{scoped}-schedule-dlq", SQS_QUEUE_NAME)
        if endpoint.monitoring.runs_model_monitor:  # engine: both, the engines' comparison dashboard
            yield ComposedName(at, value, "dashboard name", f"{scoped}-engines", CLOUDWATCH_DASHBOARD_NAME)
        for alarm in ("job-failed", "schedule-dlq", "job-failed-delivery", "job-viol-delivery"):
            yield ComposedName(at, value, "CloudWatch alarm name", f"{scoped}-{alarm}", CLOUDWATCH_ALARM_NAME)
    drift_at = "alarms.drift" if endpoint.legacy else f"endpoints.{endpoint.key}.drift_alarms"
    drift = params.alarms.drift if endpoint.legacy else endpoint.drift_alarms
    for index, alarm in enumerate(drift):
        yield ComposedName(f"{drift_at}[{index}].feature", alarm.feature, "CloudWatch alarm name", f"{scoped}-drift-{alarm.feature}",
                           CLOUDWATCH_ALARM_NAME)
