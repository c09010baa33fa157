"""What the alarms stack (the single-endpoint form) and each fleet endpoint's monitoring stack share: the
EventBridge rules on one endpoint's monitoring executions, the alarms on them, and the drift alarms.

Not a stack: `add(...)` puts the resources into the template it is given, under the conditions it is given,
with the names it is given (`<project>-<env>-monitor-failed` in the alarms stack, as always;
`<project>-<env>-<key>-failed` in a fleet endpoint's monitoring stack, where EventBridge's 64-character rule
names must hold a 20-character project and key).

Resources
  ExecutionFailedRule   EventBridge: a monitoring execution of the endpoint's schedules ended Failed or Stopped
  ExecutionViolationsRule
                        EventBridge: one ended Completed with an ExitMessage starting CompletedWithViolations;
                        both send a readable message (schedule, endpoint, status, reason, links) to the topic
  FailedExecutionsAlarm AWS/Events TriggeredRules of ExecutionFailedRule: one match is one failed run
  NotificationDeliveryAlarm
                        AWS/Events FailedInvocations of ExecutionFailedRule: a failure notification could not
                        be delivered to the topic (key or topic policy)
  ViolationsDeliveryAlarm
                        (violations condition) the same for ExecutionViolationsRule: every rule that notifies
                        has its delivery watched
  DriftAlarm1..10       data-quality drift: feature_baseline_drift_<feature> of the endpoint and its data-quality
                        schedule above the threshold (fixed slots with conditions)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from troposphere import And, Equals, Not, Ref, Sub
from troposphere import Condition as Cond
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.events import InputTransformer, Rule, Target

from mmtool.config.monitor_kinds import DATA_QUALITY, KINDS, Widget
from mmtool.config.params import MAX_DRIFT_ALARMS, DriftAlarm
from templates.common import Inputs, StackTemplate

# The drift alarms of a stack's endpoint: the data-quality schedule's period in seconds and the alarms, or None
# (the stack has none: their parameters keep their defaults).
Drift = Callable[[Inputs], Optional[tuple[int, Sequence[DriftAlarm]]]]

# Model Monitor's rules of the single-endpoint form, in the alarms stack: <project>-<env>-<suffix>.
MONITOR_FAILED_RULE, MONITOR_VIOLATIONS_RULE = "monitor-failed", "monitor-violations"
# The same rules of a fleet endpoint, in its monitoring stack: <project>-<env>-<key>-<suffix> (templates/monitoring.py).
FLEET_FAILED_RULE, FLEET_VIOLATIONS_RULE = "failed", "violations"
# The processing engine's rules, in the monitoring stack: <project>-<env>[-<key>]-<suffix> (templates/processing_engine.py;
# job-viol: 11 characters are left of EventBridge's 64 with a 20-character project and key).
PROCESSING_FAILED_RULE, PROCESSING_VIOLATIONS_RULE = "job-failed", "job-viol"
FAILED_STATUSES = ["Failed", "Stopped"]  # Stopped: the run hit MaxRuntimeInSeconds (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)
VIOLATIONS_PREFIX = "CompletedWithViolations"
INPUT_PATHS = {
    "schedule": "$.detail.MonitoringScheduleArn",
    "job": "$.detail.ProcessingJobName",
    "status": "$.detail.ProcessingJobStatus",
    "exit": "$.detail.ExitMessage",
    "reason": "$.detail.FailureReason",
    "time": "$.time",
}


def message(reports: str, dashboard: str) -> str:
    """The notification text (an EventBridge input template); `reports` is the reports prefix and `dashboard` the
    dashboard's name, `${}` allowed."""
    return (
        '"SageMaker Model Monitor: a monitoring run of ${ProjectName}-${EnvironmentName} ended <status>.\\n'
        "\\n"
        "Schedule: <schedule>\\n"
        "Endpoint: ${EndpointName}\\n"
        "Status: <status> <exit>\\n"
        "Reason: <reason>\\n"
        "Processing job: https://${AWS::Region}.console.aws.amazon.com/sagemaker/home?region=${AWS::Region}"
        "#/processing-jobs/<job>\\n"
        f"Reports: s3://${{BucketName}}/{reports}/ (a folder per monitor)\\n"
        "Dashboard: https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
        f"#dashboards/dashboard/{dashboard}\\n"
        'Time: <time>"'
    )


@dataclass(frozen=True)
class Names:
    """The physical names, as `Sub` patterns, and the conditions of one endpoint's notifications."""

    failed_rule: str
    violations_rule: str
    failed_alarm: str
    delivery_alarm: str
    violations_delivery_alarm: str
    drift_alarm: str  # with {slot}
    data_quality_schedule: str
    condition: str  # the rules and alarms exist
    violations_condition: str  # the violations rule exists
    reports: str  # the reports prefix in the message
    dashboard: str  # the dashboard the message links to


def add(st: StackTemplate, names: Names, *, schedule_arns: object, topic_arn: object, endpoint_name: object,
        drift: Drift) -> Rule:
    """Rules, alarms and drift-alarm slots of one endpoint. Returns the failed-executions rule."""
    t = st.template
    transformer = InputTransformer(InputPathsMap=INPUT_PATHS, InputTemplate=Sub(message(names.reports, names.dashboard)))
    base_pattern = {
        # Monitoring executions are processing jobs; their state changes carry the schedule's ARN.
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
    }
    failed_rule = t.add_resource(Rule(
        "ExecutionFailedRule",
        Condition=names.condition,
        Name=Sub(names.failed_rule),
        Description=Sub("Model Monitor runs of ${ProjectName}-${EnvironmentName} that failed or were stopped"),
        State="ENABLED",
        EventPattern={**base_pattern, "detail": {"MonitoringScheduleArn": schedule_arns,
                                                 "ProcessingJobStatus": FAILED_STATUSES}},
        Targets=[Target(Id="AlarmTopic", Arn=topic_arn, InputTransformer=transformer)],
    ))
    violations_rule = t.add_resource(Rule(
        "ExecutionViolationsRule",
        Condition=names.violations_condition,
        Name=Sub(names.violations_rule),
        Description=Sub("Model Monitor runs of ${ProjectName}-${EnvironmentName} that found violations"),
        State="ENABLED",
        EventPattern={**base_pattern, "detail": {"MonitoringScheduleArn": schedule_arns,
                                                 "ProcessingJobStatus": ["Completed"],
                                                 "ExitMessage": [{"prefix": VIOLATIONS_PREFIX}]}},
        Targets=[Target(Id="AlarmTopic", Arn=topic_arn, InputTransformer=transformer)],
    ))
    notify = dict(ActionsEnabled=True, AlarmActions=[topic_arn])

    def rule_alarm(title: str, alarm_name: str, metric: str, description: str, rule: Rule = failed_rule,
                   condition: str = names.condition) -> None:
        """An alarm on one of an execution rule's EventBridge metrics, counted per hour."""
        t.add_resource(Alarm(
            title,
            Condition=condition,
            AlarmName=Sub(alarm_name),
            AlarmDescription=Sub(description),
            Namespace="AWS/Events",
            MetricName=metric,
            Dimensions=[MetricDimension(Name="RuleName", Value=Ref(rule))],
            Statistic="Sum",
            Period=3600,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            # EventBridge sends these metrics only when they are not zero: no datapoint, no failure.
            TreatMissingData="notBreaching",
            **notify,
        ))

    rule_alarm("FailedExecutionsAlarm", names.failed_alarm, "TriggeredRules",
               "A Model Monitor run of ${ProjectName}-${EnvironmentName} failed or was stopped in the "
               "last hour (each one is also notified with its reason)")
    # Every notification path is watched: a delivery failure of either rule raises an alarm.
    rule_alarm("NotificationDeliveryAlarm", names.delivery_alarm, "FailedInvocations",
               "EventBridge could not deliver a Model Monitor failed-run notification of "
               "${ProjectName}-${EnvironmentName} to the topic (key or topic policy?)")
    rule_alarm("ViolationsDeliveryAlarm", names.violations_delivery_alarm, "FailedInvocations",
               "EventBridge could not deliver a Model Monitor violations notification of "
               "${ProjectName}-${EnvironmentName} to the topic (key or topic policy?)",
               rule=violations_rule, condition=names.violations_condition)

    drift_group = "Data-quality drift alarms"
    period = st.param("DataQualityAlarmPeriod", "Drift alarms' period: the data-quality schedule's (one run, one "
                      "datapoint), at most a day.", group=drift_group, label="Period (s)",
                      type="Number", Default="3600", MinValue=60, MaxValue=86400,
                      value=lambda i: None if (d := drift(i)) is None else str(min(d[0], 86400)))
    for slot in range(1, MAX_DRIFT_ALARMS + 1):
        feature = st.param(f"DriftAlarm{slot}Feature", f"Feature of drift alarm {slot}; empty: unused.",
                           group=drift_group, label=f"Alarm {slot} feature", Default="",
                           AllowedPattern=r"^[A-Za-z0-9_.\-]{0,200}$",
                           value=lambda i, slot=slot: _slot(drift(i), slot, lambda alarm: alarm.feature))
        threshold = st.param(f"DriftAlarm{slot}Threshold", f"Drift above which alarm {slot} fires.",
                             group=drift_group, label=f"Alarm {slot} threshold", type="Number", Default="0.1",
                             MinValue=0, value=lambda i, slot=slot: _slot(drift(i), slot, lambda a: str(a.threshold)))
        t.add_condition(f"DriftAlarm{slot}", And(Cond(names.condition), Not(Equals(Ref(feature), ""))))
        t.add_resource(Alarm(
            f"DriftAlarm{slot}",
            Condition=f"DriftAlarm{slot}",
            AlarmName=Sub(names.drift_alarm.replace("{slot}", str(slot))),
            AlarmDescription=Sub(f"Baseline drift of ${{DriftAlarm{slot}Feature}} on ${{EndpointName}} above "
                                 f"${{DriftAlarm{slot}Threshold}}"),
            Namespace=DATA_QUALITY.namespace,
            MetricName=Sub(f"feature_baseline_drift_${{DriftAlarm{slot}Feature}}"),
            Dimensions=[MetricDimension(Name="Endpoint", Value=endpoint_name),
                        MetricDimension(Name="MonitoringSchedule", Value=Sub(names.data_quality_schedule))],
            Statistic="Maximum",
            Period=Ref(period),
            EvaluationPeriods=1,
            Threshold=Ref(threshold),
            ComparisonOperator="GreaterThanThreshold",
            # Runs publish one datapoint each; between runs (and while the monitor has no baseline) there is
            # none, which is not drift. Failed runs have their own alarm.
            TreatMissingData="notBreaching",
            **notify,
        ))
    return failed_rule


def _slot(drift: Optional[tuple[int, Sequence[DriftAlarm]]], slot: int,
          value: Callable[[DriftAlarm], str]) -> Optional[str]:
    """The value of drift-alarm slot `slot` (from 1), or None when the slot is unused."""
    if drift is None or slot > len(drift[1]):
        return None
    return value(drift[1][slot - 1])


# --- dashboards ----------------------------------------------------------------------------------

COMPACT = {"sort_keys": True, "separators": (",", ":")}  # dashboard bodies: JSON without spaces (template size)


def metric_widget(title: str, metrics: list, x: int, y: int, width: int = 12) -> dict:
    # A time series, not stacked: the widget's defaults (CloudWatch dashboard body structure,
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html).
    return {"type": "metric", "x": x, "y": y, "width": width, "height": 6,
            "properties": {"title": title, "region": "${AWS::Region}", "period": 3600,
                           "metrics": [[m] if isinstance(m, dict) else m for m in metrics]}}


def endpoint_dashboard(st: StackTemplate, scoped: str, condition: str) -> Dashboard:
    """A fleet endpoint's own dashboard `<scoped>-model-monitor`, in its monitoring stack (added and removed with
    the endpoint, so no template holds a slot per endpoint): its runs that failed or found violations, its alarms,
    its data drift and the metrics of its model monitors. A search finds nothing for a disabled monitor; schedules
    are `<scoped>-<code>` (templates/monitoring.py `schedule_name`)."""
    header = {"type": "text", "x": 0, "y": 0, "width": 24, "height": 2, "properties": {"markdown": (
        f"# Model Monitor: {scoped}\n"
        "Endpoint **${EndpointName}**. Schedules: " + ", ".join(f"`{scoped}-{k.code}`" for k in KINDS)
        + " (disabled monitors have none). Reports: `s3://${BucketName}/${ReportsPrefix}/<monitor>/`.")}}
    runs = metric_widget("Monitoring runs: failed or stopped, and with violations (per hour)", [
        ["AWS/Events", "TriggeredRules", "RuleName", f"{scoped}-failed", {"stat": "Sum", "label": "failed or stopped"}],
        ["AWS/Events", "TriggeredRules", "RuleName", f"{scoped}-violations",
         {"stat": "Sum", "label": "completed with violations"}],
        # the processing engine's rules (an endpoint without that engine has none: no data)
        ["AWS/Events", "TriggeredRules", "RuleName", f"{scoped}-{PROCESSING_FAILED_RULE}",
         {"stat": "Sum", "label": "processing engine: failed or stopped"}],
        ["AWS/Events", "TriggeredRules", "RuleName", f"{scoped}-{PROCESSING_VIOLATIONS_RULE}",
         {"stat": "Sum", "label": "processing engine: with violations"}],
    ], 0, 2)
    alarms = {"type": "alarm", "x": 12, "y": 2, "width": 12, "height": 6, "properties": {
        "title": "Execution alarms",
        "alarms": [f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{scoped}-{n}"
                   for n in ("monitor-failed", "notification-delivery")]}}
    # As the environment's overview (templates/alarms.py): a kind with an overview graph of its own gets its first
    # graph (mmtool/config/monitor_kinds.py `widgets`), then one graph of every other kind's metrics.
    graphs = [(kind, kind.widgets[0]) for kind in KINDS if kind.overview is not None]
    schedules = " OR ".join(f'MonitoringSchedule=\"{scoped}-{kind.code}\"' for kind in KINDS if kind.overview is None)
    graphs.append((None, Widget("Model quality, bias and attribution")))
    widgets, x, y = [header, runs, alarms], 0, 8
    for kind, graph in graphs:
        if x + graph.width > 24:
            x, y = 0, y + 6
        search = (f"Namespace=\"{kind.namespace}\" MonitoringSchedule=\"{scoped}-{kind.code}\" {graph.terms}"
                  if kind else f"({schedules})")
        widgets.append(metric_widget(graph.title, [{"expression": f"SEARCH('{search}', '{graph.stat}', 3600)"}], x, y,
                                     graph.width))
        x += graph.width
    body = json.dumps({"widgets": widgets}, **COMPACT)
    return st.template.add_resource(Dashboard(
        "EndpointDashboard", Condition=condition, DashboardName=Sub(f"{scoped}-model-monitor"), DashboardBody=Sub(body),
    ))
