"""alarms: notifications about the monitors, CloudWatch alarms and the environment's dashboard.

Resources (all but the dashboard only when AlarmsEnabled is true)
  AlarmTopic            SNS topic <project>-<env>-alarms, encrypted with the project key (the foundation key
                        policy lets CloudWatch alarms and EventBridge create data keys for this topic only)
  AlarmTopicPolicy      publish only by this environment's EventBridge rules (the single-endpoint form: this stack's
                        two and the processing engine's two, by exact name) and alarms, over TLS
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
  Dashboard             <project>-<env>-model-monitor (always created): the single endpoint's execution outcomes,
                        alarms and the metrics of every enabled monitor; in a fleet, an overview that finds every
                        endpoint's by search (each endpoint's own dashboard is in its monitoring stack, so this
                        template holds nothing per endpoint)
Outputs
  AlarmTopicArn, DashboardName
"""

from __future__ import annotations

import json

from awacs import sns
from awacs.aws import Allow, ArnLike, Bool, Condition, Deny, PolicyDocument, Principal, Statement, StringEquals
from troposphere import And, Equals, If, Join, Not, Output, Ref, Split, Sub
from troposphere import Condition as Cond
from troposphere.cloudwatch import Dashboard
from troposphere.sns import SubscriptionResource, Topic, TopicPolicy

from mmtool.config.monitor_kinds import KINDS, Widget, settings
from mmtool.config.params import MAX_SUBSCRIPTIONS, SELF_SERVICE_KEY_PREFIX, FleetEndpoint, Params
from templates import notifications, processing_engine
from templates.common import PREFIX, Inputs, StackTemplate, name
from templates.foundation import REPORTS_PREFIX
from templates.notifications import (COMPACT, MONITOR_FAILED_RULE, MONITOR_VIOLATIONS_RULE, PROCESSING_FAILED_RULE,
                                     PROCESSING_VIOLATIONS_RULE)
from templates.notifications import metric_widget as _metric_widget

STACK = "alarms"
DEPENDS_ON = ("foundation",)  # the key (and its policy for this topic)
PROTECTED_RESOURCES: tuple[str, ...] = ()

NO_VALUE = Ref("AWS::NoValue")


def arn_list(prefix: str, suffixes) -> Split:
    """The ARNs `<prefix><suffix>`, as one Sub split into a list: the prefix is written once (the template's size
    budget, tests/test_templates.py); CloudFormation resolves it to the same list of strings."""
    return Split(",", Sub(",".join("${P}" + suffix for suffix in suffixes), P=Sub(prefix)))


def schedule_arns() -> Split:
    """This environment's four schedules, exactly: a prefix `<project>-<env>-` would also match a project
    named `<project>-<env>` (project names may contain '-'). SageMaker ARNs are lowercase; so are our names."""
    return arn_list("arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:monitoring-schedule/"
                    "${ProjectName}-${EnvironmentName}-", [kind.name for kind in KINDS])


def build(params: Params) -> StackTemplate:
    st = StackTemplate(STACK, "Model Monitor alarms: SNS notifications, execution rules, CloudWatch alarms, dashboard")
    t = st.template
    st.consume("BucketName", "foundation", "bucket-name", "Project bucket name.")
    key_arn = st.consume("KmsKeyArn", "foundation", "kms-key-arn", "Project KMS key ARN.")
    endpoint_name = st.param("EndpointName", "The single-endpoint form's endpoint; empty in a fleet.", group="Endpoints", label="Endpoint name", Default="",
                             AllowedPattern=r"^([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62})?$",
                             value=lambda i: (e := _single(i)) and e.endpoint_name(i.params))

    group = "Notifications"
    # Default true: checkov evaluates conditions with the defaults and would otherwise check nothing here.
    enabled = st.flag("AlarmsEnabled", "Create the topic, subscriptions, execution rules and alarms.", group=group,
                      label="Enabled", value=lambda i: i.params.alarms.enabled)
    violations = st.flag("NotifyOnViolations", "Also notify on runs that completed with violations.", group=group,
                         label="Notify on violations", value=lambda i: i.params.alarms.notify_on_violations)
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
                            AllowedValues=["", "email", "https", "sqs"],
                            value=lambda i, slot=slot: _subscription(i, slot, 0))
        endpoint = st.param(f"Subscription{slot}Endpoint", f"E-mail address, HTTPS URL or SQS queue ARN of target {slot}.",
                            group=group, label=f"Target {slot}", Default="", AllowedPattern=r"^[^\s,]{0,512}$",
                            value=lambda i, slot=slot: _subscription(i, slot, 1))
        t.add_condition(f"Subscription{slot}", And(Cond("Alarms"), Not(Equals(Ref(protocol), ""))))
        t.add_resource(SubscriptionResource(
            f"Subscription{slot}", Condition=f"Subscription{slot}", TopicArn=Ref(topic), Protocol=Ref(protocol),
            Endpoint=Ref(endpoint),
        ))

    # The single-endpoint form: its rules and alarms live here, as always. A fleet endpoint's live in its
    # monitoring stack (templates/monitoring.py), named <project>-<env>-<key>-...
    t.add_condition("SingleEndpoint", Not(Equals(Ref(endpoint_name), "")))
    t.add_condition("EnvironmentAlarms", And(Cond("Alarms"), Cond("SingleEndpoint")))
    t.add_condition("EnvironmentViolations", And(Cond("Violations"), Cond("SingleEndpoint")))
    notifications.add(st, notifications.Names(
        failed_rule=f"{PREFIX}-{MONITOR_FAILED_RULE}", violations_rule=f"{PREFIX}-{MONITOR_VIOLATIONS_RULE}",
        failed_alarm=f"{PREFIX}-monitor-failed", delivery_alarm=f"{PREFIX}-notification-delivery",
        violations_delivery_alarm=f"{PREFIX}-violations-delivery",
        drift_alarm=PREFIX + "-drift-${DriftAlarm{slot}Feature}", data_quality_schedule=f"{PREFIX}-data-quality",
        condition="EnvironmentAlarms", violations_condition="EnvironmentViolations", reports=REPORTS_PREFIX,
        dashboard=f"{PREFIX}-model-monitor",
    ), schedule_arns=schedule_arns(), topic_arn=Ref(topic), endpoint_name=Ref(endpoint_name), drift=_drift)
    alarm_arns = Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
                     "${ProjectName}-${EnvironmentName}-*")
    rules = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${ProjectName}-${EnvironmentName}-"
    single_rules = (MONITOR_FAILED_RULE, MONITOR_VIOLATIONS_RULE, processing_engine.FAILED_RULE,
                    processing_engine.VIOLATIONS_RULE, SELF_SERVICE_KEY_PREFIX + "*")
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
                    # The single endpoint's rules exactly: Model Monitor's two here and the processing engine's
                    # two in its monitoring stack (templates/processing_engine.py); and the Service Catalog
                    # launches' (<project>-<env>-sc-<name>-..., a key prefix no endpoint may use). A fleet's rules
                    # are in the endpoints' monitoring stacks (added and removed with them): every rule of this
                    # account named <project>-<env>-..., the same scope as the alarms below.
                    Condition=Condition(ArnLike("aws:SourceArn", If(
                        "SingleEndpoint",
                        arn_list(rules, single_rules),
                        [Sub(rules + "*")]))),
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

    for kind in KINDS:
        flag = st.flag(f"{kind.stem}Enabled", f"The {kind.label.lower()} monitor is enabled (dashboard widgets).",
                       group="Dashboard", label=f"{kind.label} monitor",
                       value=lambda i, kind=kind: bool((e := _single(i)) and settings(e.monitoring, kind).enabled))
        t.add_condition(kind.stem, Equals(Ref(flag), "true"))
    t.add_condition("FleetOverview", Equals(Ref(endpoint_name), ""))  # a fleet: each endpoint has its own dashboard
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


def _search(kind, pattern: str, stat: str) -> dict:
    # A search without a dimension schema: it finds the metrics whatever dimension set SageMaker publishes
    # them with (the docs and the SDK disagree on it: docs/monitors.md).
    return {"expression": f"SEARCH('Namespace=\"{kind.namespace}\" MonitoringSchedule=\"${{ProjectName}}-"
                          f"${{EnvironmentName}}-{kind.name}\" {pattern}', '{stat}', 3600)"}


def _widgets() -> list[tuple[str | None, dict]]:
    """(condition or None, widget) in dashboard order."""
    prefix = "${ProjectName}-${EnvironmentName}"
    fleet_text = ("# Model Monitor: " + prefix + "\n"
                  "Every endpoint, found by search. An endpoint's own dashboard: `" + prefix
                  + "-<endpoint>-model-monitor`.")
    text = ("# Model Monitor: " + prefix + "\n"
            "Endpoint **${EndpointName}**. Schedules: `" + prefix + "-" + "|".join(k.name for k in KINDS)
            + f"` (of the enabled monitors). Reports: `s3://${{BucketName}}/{REPORTS_PREFIX}/<monitor>/`.")
    widgets: list[tuple[str | None, dict]] = [
        (None, ("SingleEndpoint",
                {"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": text}},
                {"type": "text", "x": 0, "y": 0, "width": 24, "height": 3, "properties": {"markdown": fleet_text}})),
        ("EnvironmentAlarms", _metric_widget("Monitoring runs: failed or stopped, and with violations (per hour)", [
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-{MONITOR_FAILED_RULE}",
             {"stat": "Sum", "label": "failed or stopped"}],
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-{MONITOR_VIOLATIONS_RULE}",
             {"stat": "Sum", "label": "completed with violations"}],
            # the processing engine's rules (templates/notifications.py; no data without that engine)
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-{PROCESSING_FAILED_RULE}",
             {"stat": "Sum", "label": "processing: failed"}],
            ["AWS/Events", "TriggeredRules", "RuleName", f"{prefix}-{PROCESSING_VIOLATIONS_RULE}",
             {"stat": "Sum", "label": "processing: violations"}],
        ], 0, 3)),
        ("EnvironmentAlarms", {"type": "alarm", "x": 12, "y": 3, "width": 12, "height": 6, "properties": {
            "title": "Execution alarms",
            "alarms": [f"arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{prefix}-{n}"
                       for n in ("monitor-failed", "notification-delivery")]}}),
    ]
    widgets += [(kind.stem, widget) for kind, widget in _kind_widgets(
        [(kind, kind_widget) for kind in KINDS for kind_widget in kind.widgets], 9,
        lambda kind, w: [_search(kind, w.terms, w.stat)])]
    widgets += [("FleetOverview", widget) for widget in _fleet_overview()]
    return widgets


def _fleet_overview() -> list[dict]:
    """A fleet's environment dashboard: every endpoint's runs, drift and model metrics, found by search on the
    environment's names (`<project>-<env>-...`: the rules and schedules of every fleet endpoint), so the template
    holds nothing per endpoint. A search shows at most 500 time series (docs/monitors.md)."""
    prefix = "${ProjectName}-${EnvironmentName}"
    runs = _metric_widget("Runs: failed or stopped, with violations", [
        {"expression": f"SEARCH('{{AWS/Events,RuleName}} MetricName=\"TriggeredRules\" RuleName={prefix}', 'Sum', "
                       "3600)"}], 0, 3, 24)
    # A kind with an overview graph of its own, then one graph of every other kind's metrics.
    own = [(kind, kind.overview) for kind in KINDS if kind.overview is not None]
    namespaces = " OR ".join(f'Namespace=\"{kind.namespace}\"' for kind in KINDS if kind.overview is None)
    return [runs] + [widget for _, widget in _kind_widgets(
        own + [(None, Widget("Model quality, bias, attribution"))], 9,
        lambda kind, w: [{"expression": (
            f"SEARCH('Namespace=\"{kind.namespace}\" MonitoringSchedule={prefix} {w.terms}', '{w.stat}', 3600)"
            if kind else f"SEARCH('({namespaces}) MonitoringSchedule={prefix}', '{w.stat}', 3600)")}])]


def _kind_widgets(graphs: list, y: int, metrics) -> list[tuple]:
    """(kind, metric widget) for each (kind, Widget) of `graphs`, laid out left to right in rows of 24 columns from
    row `y`; `metrics(kind, widget)` is the widget's metrics."""
    placed, x = [], 0
    for kind, widget in graphs:
        if x + widget.width > 24:
            x, y = 0, y + 6
        placed.append((kind, _metric_widget(widget.title, metrics(kind, widget), x, y, widget.width)))
        x += widget.width
    return placed


def dashboard_body() -> Join:
    """The dashboard JSON, with the widgets of disabled parts left out through conditions.

    Every optional widget carries its own leading comma and becomes "" when its condition is false, so the
    body is valid JSON in every environment without AWS::NoValue inside Fn::Join; neighbours under one
    condition share one Fn::If.
    """
    parts: list = ['{"widgets":[']
    groups: list[tuple[str, list[dict]]] = []
    for condition, widget in _widgets():
        if condition is None:  # the first widget: one of two, always there (the others' leading commas need it)
            choice, single, fleet = widget
            parts.append(If(choice, Sub(json.dumps(single, **COMPACT)), Sub(json.dumps(fleet, **COMPACT))))
        elif groups and groups[-1][0] == condition:
            groups[-1][1].append(widget)
        else:
            groups.append((condition, [widget]))
    for condition, widgets in groups:
        parts.append(If(condition, Sub("".join("," + json.dumps(w, **COMPACT) for w in widgets)), ""))
    parts.append("]}")
    return Join("", parts)


def _single(i: Inputs) -> FleetEndpoint | None:
    """The single-endpoint form's endpoint; None in a fleet."""
    return None if i.params.is_fleet else i.params.fleet()[0]


def _subscription(i: Inputs, slot: int, part: int) -> str | None:
    subscriptions = i.params.alarms.subscriptions
    return subscriptions[slot - 1][part] if slot <= len(subscriptions) else None


def _drift(i: Inputs):
    """The single endpoint's drift alarms (a fleet endpoint's are in its monitoring stack)."""
    single = _single(i)
    if single is None:
        return 3600, ()
    return single.monitoring.data_quality.parsed_schedule.period_seconds, i.params.alarms.drift
