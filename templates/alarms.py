"""alarms: notifications about the monitors, CloudWatch alarms and the environment's dashboard.

Resources (all but the dashboard only when AlarmsEnabled is true)
  AlarmTopic            SNS topic <project>-<env>-alarms, encrypted with the project key (the foundation key
                        policy lets CloudWatch alarms and EventBridge create data keys for this topic only)
  AlarmTopicPolicy      publish only by this stack's EventBridge rules and this environment's alarms, over TLS
  Subscription1..8      e-mail, HTTPS and SQS subscriptions from the params file (fixed slots, each with a
                        condition, so every environment shares the template)
  ExecutionFailedRule   EventBridge: a monitoring execution of this environment (a processing job whose
                        MonitoringScheduleArn is one of our four schedules) ended Failed or Stopped
  ExecutionViolationsRule
                        EventBridge: one ended Completed with an ExitMessage starting CompletedWithViolations
                        (NotifyOnViolations); both send a readable message (schedule, endpoint, status,
                        reason, links to the processing job and the reports) to the topic
  FailedExecutionsAlarm AWS/Events TriggeredRules of ExecutionFailedRule: one match is one failed run
  NotificationDeliveryAlarm
                        AWS/Events FailedInvocations of ExecutionFailedRule: a failure notification could not
                        be delivered to the topic (key or topic policy)
  ViolationsDeliveryAlarm
                        (NotifyOnViolations) the same for ExecutionViolationsRule: every rule that notifies
                        has its delivery watched
  DriftAlarm1..10       data-quality drift: feature_baseline_drift_<feature> of the endpoint and the
                        data-quality schedule above the environment's threshold (fixed slots with conditions)
  Dashboard             <project>-<env>-model-monitor: execution outcomes, alarms, and the metrics of every
                        enabled monitor (always created)
Outputs
  AlarmTopicArn, DashboardName
"""

from __future__ import annotations

import json

from awacs import sns
from awacs.aws import Allow, ArnEquals, ArnLike, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import And, Equals, GetAtt, If, Join, Not, Output, Ref, Sub
from troposphere import Condition as Cond
from troposphere.cloudwatch import Alarm, Dashboard, MetricDimension
from troposphere.events import InputTransformer, Rule, Target
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from mmtool.config.params import MAX_DRIFT_ALARMS, MAX_SUBSCRIPTIONS, Params
from templates.common import StackTemplate, name
from templates.foundation import REPORTS_PREFIX
from templates.monitoring import MODEL_MONITORS, SCHEDULE_SUFFIXES

STACK = "alarms"
DEPENDS_ON = ("foundation", "endpoint")  # the key (and its policy for this topic), the endpoint's name
PROTECTED_RESOURCES: tuple[str, ...] = ()

DATA_METRICS = "aws/sagemaker/Endpoints/data-metrics"  # reference §6.4 (the SDK dashboard's spelling)
NAMESPACES = {
    "ModelQuality": "aws/sagemaker/Endpoints/model-metrics",
    "ModelBias": "aws/sagemaker/Endpoints/bias-metrics",
    "ModelExplainability": "aws/sagemaker/Endpoints/explainability-metrics",
}
FAILED_STATUSES = ["Failed", "Stopped"]  # Stopped: the run hit MaxRuntimeInSeconds (reference §8 #17)
VIOLATIONS_PREFIX = "CompletedWithViolations"
NO_VALUE = Ref("AWS::NoValue")

MESSAGE = (
    '"SageMaker Model Monitor: a monitoring run of ${ProjectName}-${EnvironmentName} ended <status>.\\n'
    "\\n"
    "Schedule: <schedule>\\n"
    "Endpoint: ${EndpointName}\\n"
    "Status: <status> <exit>\\n"
    "Reason: <reason>\\n"
    "Processing job: https://${AWS::Region}.console.aws.amazon.com/sagemaker/home?region=${AWS::Region}"
    "#/processing-jobs/<job>\\n"
    f"Reports: s3://${{BucketName}}/{REPORTS_PREFIX}/ (a folder per monitor, then endpoint, schedule, run time)\\n"
    "Dashboard: https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}"
    "#dashboards/dashboard/${ProjectName}-${EnvironmentName}-model-monitor\\n"
    'Time: <time>"'
)
INPUT_PATHS = {
    "schedule": "$.detail.MonitoringScheduleArn",
    "job": "$.detail.ProcessingJobName",
    "status": "$.detail.ProcessingJobStatus",
    "exit": "$.detail.ExitMessage",
    "reason": "$.detail.FailureReason",
    "time": "$.time",
}


def schedule_arns() -> list[Sub]:
    """This environment's four schedules, exactly: a prefix `<project>-<env>-` would also match a project
    named `<project>-<env>` (project names may contain '-'). SageMaker ARNs are lowercase; so are our names."""
    return [Sub("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:monitoring-schedule/"
                f"${{ProjectName}}-${{EnvironmentName}}-{suffix}") for suffix in SCHEDULE_SUFFIXES]


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor alarms: SNS notifications, execution rules, CloudWatch alarms, dashboard")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    endpoint_name = st.consume("EndpointName", "endpoint", "endpoint-name", "Monitored endpoint name.")

    group = "Notifications"
    # Default true: checkov evaluates conditions with the defaults and would otherwise check nothing here.
    enabled = st.flag("AlarmsEnabled", "Create the topic, subscriptions, execution rules and alarms.", group=group,
                      label="Enabled")
    violations = st.flag("NotifyOnViolations", "Also notify on runs that completed with violations.", group=group,
                         label="Notify on violations")
    t.add_condition("Alarms", Equals(Ref(enabled), "true"))
    t.add_condition("Violations", And(Cond("Alarms"), Equals(Ref(violations), "true")))

    topic = t.add_resource(Topic(
        "AlarmTopic",
        Condition="Alarms",
        TopicName=name("alarms"),
        DisplayName=Sub("Model Monitor ${ProjectName}-${EnvironmentName}"),
        KmsMasterKeyId=Ref(key_arn),
    ))
    for slot in range(1, MAX_SUBSCRIPTIONS + 1):
        protocol = st.param(f"Subscription{slot}Protocol", f"Protocol of notification target {slot}; empty: unused.",
                            group=group, label=f"Target {slot} protocol", Default="",
                            AllowedValues=["", "email", "https", "sqs"])
        endpoint = st.param(f"Subscription{slot}Endpoint", f"E-mail address, HTTPS URL or SQS queue ARN of target {slot}.",
                            group=group, label=f"Target {slot}", Default="", AllowedPattern=r"^[^\s,]{0,512}$")
        t.add_condition(f"Subscription{slot}", And(Cond("Alarms"), Not(Equals(Ref(protocol), ""))))
        t.add_resource(SubscriptionResource(
            f"Subscription{slot}", Condition=f"Subscription{slot}", TopicArn=Ref(topic), Protocol=Ref(protocol),
            Endpoint=Ref(endpoint),
        ))

    message = InputTransformer(InputPathsMap=INPUT_PATHS, InputTemplate=Sub(MESSAGE))
    base_pattern = {
        # Monitoring executions are processing jobs; their state changes carry the schedule's ARN.
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Processing Job State Change"],
    }
    failed_rule = t.add_resource(Rule(
        "ExecutionFailedRule",
        Condition="Alarms",
        Name=name("monitor-failed"),
        Description=Sub("Model Monitor runs of ${ProjectName}-${EnvironmentName} that failed or were stopped"),
        State="ENABLED",
        EventPattern={**base_pattern, "detail": {"MonitoringScheduleArn": schedule_arns(),
                                                 "ProcessingJobStatus": FAILED_STATUSES}},
        Targets=[Target(Id="AlarmTopic", Arn=Ref(topic), InputTransformer=message)],
    ))
    violations_rule = t.add_resource(Rule(
        "ExecutionViolationsRule",
        Condition="Violations",
        Name=name("monitor-violations"),
        Description=Sub("Model Monitor runs of ${ProjectName}-${EnvironmentName} that found violations"),
        State="ENABLED",
        EventPattern={**base_pattern, "detail": {"MonitoringScheduleArn": schedule_arns(),
                                                 "ProcessingJobStatus": ["Completed"],
                                                 "ExitMessage": [{"prefix": VIOLATIONS_PREFIX}]}},
        Targets=[Target(Id="AlarmTopic", Arn=Ref(topic), InputTransformer=message)],
    ))
    alarm_arns = Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
                     "${ProjectName}-${EnvironmentName}-*")
    t.add_resource(TopicPolicy(
        "AlarmTopicPolicy",
        Condition="Alarms",
        Topics=[Ref(topic)],
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[
                Statement(
                    Sid="ExecutionRulesPublish",
                    Effect=Allow,
                    Principal=Principal("Service", "events.amazonaws.com"),
                    Action=[sns.Publish],
                    Resource=[Ref(topic)],
                    Condition=Condition(ArnEquals("aws:SourceArn", [
                        GetAtt(failed_rule, "Arn"),
                        Sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
                            "${ProjectName}-${EnvironmentName}-monitor-violations"),
                    ])),
                ),
                Statement(
                    Sid="EnvironmentAlarmsPublish",
                    Effect=Allow,
                    Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                    Action=[sns.Publish],
                    Resource=[Ref(topic)],
                    Condition=Condition([StringEquals("aws:SourceAccount", Ref("AWS::AccountId")),
                                         ArnLike("aws:SourceArn", alarm_arns)]),
                ),
                Statement(
                    Sid="DenyPublishWithoutTls",
                    Effect=Deny,
                    Principal=Principal("*"),
                    Action=[sns.Publish],
                    Resource=[Ref(topic)],
                    Condition=Condition(Bool("aws:SecureTransport", "false")),
                ),
            ],
        ),
    ))

    notify = dict(ActionsEnabled=True, AlarmActions=[Ref(topic)])

    def rule_alarm(title: str, suffix: str, metric: str, description: str, rule: Rule = failed_rule,
                   condition: str = "Alarms") -> None:
        """An alarm on one of an execution rule's EventBridge metrics, counted per hour."""
        t.add_resource(Alarm(
            title,
            Condition=condition,
            AlarmName=name(suffix),
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

    rule_alarm("FailedExecutionsAlarm", "monitor-failed", "TriggeredRules",
               "A Model Monitor run of ${ProjectName}-${EnvironmentName} failed or was stopped in the "
               "last hour (each one is also notified with its reason)")
    # Every notification path is watched: a delivery failure of either rule raises an alarm.
    rule_alarm("NotificationDeliveryAlarm", "notification-delivery", "FailedInvocations",
               "EventBridge could not deliver a Model Monitor failed-run notification of "
               "${ProjectName}-${EnvironmentName} to the topic (key or topic policy?)")
    rule_alarm("ViolationsDeliveryAlarm", "violations-delivery", "FailedInvocations",
               "EventBridge could not deliver a Model Monitor violations notification of "
               "${ProjectName}-${EnvironmentName} to the topic (key or topic policy?)",
               rule=violations_rule, condition="Violations")

    drift_group = "Data-quality drift alarms"
    period = st.param("DataQualityAlarmPeriod", "Period of the drift alarms: the data-quality schedule's period "
                      "(one run, one datapoint), at most a day.", group=drift_group, label="Period (s)",
                      type="Number", Default="3600", MinValue=60, MaxValue=86400)
    for slot in range(1, MAX_DRIFT_ALARMS + 1):
        feature = st.param(f"DriftAlarm{slot}Feature", f"Feature of drift alarm {slot}; empty: unused.",
                           group=drift_group, label=f"Alarm {slot} feature", Default="",
                           AllowedPattern=r"^[A-Za-z0-9_.\-]{0,200}$")
        threshold = st.param(f"DriftAlarm{slot}Threshold", f"Drift distance above which alarm {slot} fires.",
                             group=drift_group, label=f"Alarm {slot} threshold", type="Number", Default="0.1",
                             MinValue=0)
        t.add_condition(f"DriftAlarm{slot}", And(Cond("Alarms"), Not(Equals(Ref(feature), ""))))
        t.add_resource(Alarm(
            f"DriftAlarm{slot}",
            Condition=f"DriftAlarm{slot}",
            AlarmName=name(f"drift-${{DriftAlarm{slot}Feature}}"),
            AlarmDescription=Sub(f"Data drift of feature ${{DriftAlarm{slot}Feature}} on ${{EndpointName}} above "
                                 f"${{DriftAlarm{slot}Threshold}} (baseline distance, data-quality monitor)"),
            Namespace=DATA_METRICS,
            MetricName=Sub(f"feature_baseline_drift_${{DriftAlarm{slot}Feature}}"),
            Dimensions=[MetricDimension(Name="Endpoint", Value=Ref(endpoint_name)),
                        MetricDimension(Name="MonitoringSchedule", Value=name("data-quality"))],
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

    flags = {}
    for _key, stem, _code, _suffix, label in (("data_quality", "DataQuality", "dq", "data-quality", "Data quality"),
                                              *MODEL_MONITORS):
        flags[stem] = st.flag(f"{stem}Enabled", f"The {label.lower()} monitor is enabled (dashboard widgets).",
                              group="Dashboard", label=f"{label} monitor")
        t.add_condition(stem, Equals(Ref(flags[stem]), "true"))
    dashboard = t.add_resource(Dashboard(
        "Dashboard",
        DashboardName=name("model-monitor"),
        DashboardBody=dashboard_body(),
    ))

    t.add_output(Output("AlarmTopicArn", Condition="Alarms", Value=Ref(topic),
                        Description="SNS topic of this environment's Model Monitor notifications"))
    t.add_output(Output("DashboardName", Value=Ref(dashboard), Description="CloudWatch dashboard of the monitors"))
    return st


# --- dashboard ------------------------------------------------------------------------------------


def _search(namespace: str, schedule: str, pattern: str, stat: str) -> dict:
    # A search without a dimension schema: it finds the metrics whatever dimension set SageMaker publishes
    # them with (the docs and the SDK disagree on it, reference §6.4).
    return {"expression": f"SEARCH('Namespace=\"{namespace}\" MonitoringSchedule=\"${{ProjectName}}-"
                          f"${{EnvironmentName}}-{schedule}\" {pattern}', '{stat}', 3600)"}


def _metric_widget(title: str, metrics: list, x: int, y: int, width: int = 12) -> dict:
    return {"type": "metric", "x": x, "y": y, "width": width, "height": 6,
            "properties": {"title": title, "region": "${AWS::Region}", "view": "timeSeries", "stacked": False,
                           "period": 3600, "metrics": [[m] if isinstance(m, dict) else m for m in metrics]}}


def _widgets() -> list[tuple[str | None, dict]]:
    """(condition or None, widget) in dashboard order."""
    prefix = "${ProjectName}-${EnvironmentName}"
    text = ("# Model Monitor: " + prefix + "\n"
            "Endpoint **${EndpointName}**. Schedules: " + ", ".join(f"`{prefix}-{s}`" for s in SCHEDULE_SUFFIXES)
            + f" (disabled monitors have none). Reports: `s3://${{BucketName}}/{REPORTS_PREFIX}/<monitor>/`. "
            "Execution outcomes and alarms appear when notifications are enabled (alarms.enabled).")
    widgets: list[tuple[str | None, dict]] = [
        (None, {"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": text}}),
        ("Alarms", _metric_widget("Monitoring runs: failed or stopped, and with violations (per hour)", [
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-monitor-failed",
             {"stat": "Sum", "label": "failed or stopped"}],
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-monitor-violations",
             {"stat": "Sum", "label": "completed with violations"}],
        ], 0, 3)),
        ("Alarms", {"type": "alarm", "x": 12, "y": 3, "width": 12, "height": 6, "properties": {
            "title": "Execution alarms",
            "alarms": [f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{prefix}-{n}"
                       for n in ("monitor-failed", "notification-delivery")]}}),
        ("DataQuality", _metric_widget("Data quality: baseline drift per feature (max)", [
            _search(DATA_METRICS, "data-quality", "%^feature_baseline_drift_.*%", "Maximum")], 0, 9)),
        ("DataQuality", _metric_widget("Data quality: completeness per feature", [
            _search(DATA_METRICS, "data-quality", "%^feature_completeness_.*%", "Average")], 12, 9)),
        ("ModelQuality", _metric_widget("Model quality metrics", [
            _search(NAMESPACES["ModelQuality"], "model-quality", "", "Average")], 0, 15)),
        ("ModelBias", _metric_widget("Model bias metrics (post-training)", [
            _search(NAMESPACES["ModelBias"], "model-bias", "%^bias_metric_.*%", "Average")], 12, 15)),
        ("ModelExplainability", _metric_widget("Feature attribution (global SHAP)", [
            _search(NAMESPACES["ModelExplainability"], "model-explainability", "", "Average")], 0, 21, 24)),
    ]
    return widgets


def dashboard_body() -> Join:
    """The dashboard JSON, with the widgets of disabled parts left out through conditions.

    Every optional widget carries its own leading comma and becomes "" when its condition is false, so the
    body is valid JSON in every environment without AWS::NoValue inside Fn::Join.
    """
    parts: list = ['{"widgets":[']
    for index, (condition, widget) in enumerate(_widgets()):
        body = ("," if index else "") + json.dumps(widget, sort_keys=True)
        parts.append(Sub(body) if condition is None else If(condition, Sub(body), ""))
    parts.append("]}")
    return Join("", parts)


def parameter_values(params: Params) -> dict[str, str]:
    alarms, monitoring = params.alarms, params.monitoring
    values = {
        "AlarmsEnabled": str(alarms.enabled).lower(),
        "NotifyOnViolations": str(alarms.notify_on_violations).lower(),
        "DataQualityAlarmPeriod": str(min(monitoring.data_quality.parsed_schedule.period_seconds, 86400)),
        "DataQualityEnabled": str(monitoring.data_quality.enabled).lower(),
    }
    for key, stem, *_ in MODEL_MONITORS:
        values[f"{stem}Enabled"] = str(getattr(monitoring, key).enabled).lower()
    for slot, (protocol, endpoint) in enumerate(alarms.subscriptions, start=1):
        values[f"Subscription{slot}Protocol"] = protocol
        values[f"Subscription{slot}Endpoint"] = endpoint
    for slot, drift in enumerate(alarms.drift, start=1):
        values[f"DriftAlarm{slot}Feature"] = drift.feature
        values[f"DriftAlarm{slot}Threshold"] = str(drift.threshold)
    return values
