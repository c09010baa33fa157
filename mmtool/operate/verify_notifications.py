"""`make verify-notifications ENV=e [ENDPOINT=key]` (mmtool/cli/verify_notifications.py): force one alarm into ALARM
and say who should receive it (issue 16 #4).

Alarm notifications to the SSE-KMS topic fail silently when the key policy does not let CloudWatch use
the key: nothing in a deploy shows it. This proves the path on the real account:

1. reads the alarm `<project>-<env>-monitor-failed` (`--alarm` names another one of the environment);
   it must exist (alarms.enabled, alarms stack deployed) and notify a topic. A fleet endpoint's alarms are in its
   monitoring stack, named `<project>-<env>-<key>-monitor-failed` (templates/monitoring.py): `--endpoint KEY`
   chooses the endpoint, which a fleet of more than one must name (mmtool/operate/selection.py, as run-now);
2. lists the topic's subscriptions: the targets that should receive the test (a subscription still
   `PendingConfirmation` receives nothing until its owner confirms it);
3. `SetAlarmState ALARM` with a reason saying it is a test; CloudWatch sets the alarm back at its next
   evaluation (no datapoint, TreatMissingData notBreaching: OK);
4. waits up to `--wait` seconds for the alarm's Action history: "Successfully executed action" means SNS
   accepted the notification (the key and the topic policy admitted CloudWatch); "Failed to execute
   action" is printed with AWS's words and the fix. Without either the user checks the inbox.

On the processing engine (docs/engine.md): `engine: processing` forces `<prefix>-job-failed` by default (the alarm on
the failed-job rule's matches, in its monitoring stack; there is no failed-runs alarm; `--alarm schedule-dlq` forces
the dead-letter alarm), and for `processing` or `both` the engine's EventBridge rules are read
(`check_processing_rules`): the failed-job rule `<prefix>-job-failed` and, with alarms.notify_on_violations, the
"completed with violations" rule `<prefix>-job-viol`: each ENABLED, matching every job-name prefix of the endpoint,
targeting the topic the forced alarm notifies, its deliveries watched by the alarm `<rule>-delivery`. For
`model-monitor` (the default) or `both`, Model Monitor's own rules are read the same way (`check_model_monitor_rules`):
`<project>-<env>-monitor-failed` / `-monitor-violations` (a fleet endpoint's `<project>-<env>-<key>-failed` /
`-violations`), matching the endpoint's schedules by detail.MonitoringScheduleArn, watched by
`…-notification-delivery` / `…-violations-delivery` (templates/notifications.py).

Exit codes: 0 notified (or not yet confirmed, with what to check), 1 CloudWatch could not publish, the
alarm or its subscriptions are missing, or an AWS call failed; 2 bad input; 3 wrong account.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from deployer.aws_errors import error_code
from mmtool.errors import EXIT_FAILED, ToolError

DEFAULT_ALARM = "monitor-failed"  # templates/alarms.py FailedExecutionsAlarm
# The processing engine's alarms, in the endpoint's monitoring stack (templates/processing_engine.py): `job-failed`
# (ProcessingJobFailedAlarm, on the matches of the EventBridge rule of the same name: a job Failed or Stopped) and
# `schedule-dlq` (ScheduleDeadLetterAlarm: the scheduler could not start a job). The rule itself cannot be triggered by
# hand (aws.* events are AWS's own): `check_processing_rules` reads it and the job-viol rule.
# `job-failed-delivery` and `job-viol-delivery` watch the rules' deliveries to the topic. The rule suffixes' one place is
# templates/notifications.py, imported where used (troposphere is not loaded by every command line).
PROCESSING_ALARM = "job-failed"
ENGINE_ALARMS = (PROCESSING_ALARM, "schedule-dlq", "job-failed-delivery", "job-viol-delivery")
POLL_SECONDS = 5.0
REASON = ("make verify-notifications: test of the notification path (forced by hand; CloudWatch sets the alarm back "
          "at its next evaluation)")


class NotificationsFailed(ToolError):
    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class EndpointAlarm:
    """One alarm of one endpoint: its name, the stack that makes it (in words) and the command that deploys it."""
    name: str
    stack: str
    deploy: str


def default_alarm(entry: Any) -> str:
    """The alarm a plain `make verify-notifications` forces: the failed-runs alarm, or on the processing engine alone
    (which has none) its failed-job alarm."""
    return PROCESSING_ALARM if entry.monitoring.engine == "processing" else DEFAULT_ALARM


def endpoint_alarm(params: Any, entry: Any, alarm: str) -> EndpointAlarm:
    """`alarm` (without prefix, e.g. monitor-failed) of the fleet endpoint `entry`: `<project>-<env>-<alarm>` in the
    alarms stack for the single-endpoint form (as always), `<project>-<env>-<key>-<alarm>` in the endpoint's
    monitoring stack for a fleet endpoint (templates/monitoring.py, templates/notifications.py)."""
    deploy = f"make deploy ENV={params.environment}"
    if entry.legacy and alarm in ENGINE_ALARMS:
        return EndpointAlarm(f"{params.prefix}-{alarm}", f"the monitoring stack {params.prefix}-monitoring "
                             "(monitoring.engine: processing or both, alarms.enabled)", deploy)
    if entry.legacy:
        return EndpointAlarm(f"{params.prefix}-{alarm}", "the alarms stack", deploy)
    return EndpointAlarm(f"{entry.name_prefix(params)}-{alarm}",
                         f"the monitoring stack {entry.stack_name(params, 'monitoring')} (endpoints.{entry.key})",
                         f"{deploy} ENDPOINT={entry.key}")


@dataclass(frozen=True)
class Target:
    protocol: str
    endpoint: str
    confirmed: bool


def verify(cloudwatch: Any, sns: Any, alarm_name: str, *, environment: str, wait: float,
           stack: str = "the alarms stack", deploy: str | None = None,
           out: Callable[[str], None] = print, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Force `alarm_name` into ALARM and report (the module's steps). `stack` and `deploy`, for the messages: the stack
    that makes the alarm and the command that deploys it (EndpointAlarm; default the single-endpoint form's).
    Returns the SNS topics the alarm notifies."""
    from mmtool.operate.awsenv import aws_errors, aws_failure

    deploy = deploy or f"make deploy ENV={environment}"
    try:
        alarms = cloudwatch.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    except aws_errors() as exc:
        raise aws_failure(exc, f"DescribeAlarms {alarm_name}") from exc
    if not alarms:
        raise NotificationsFailed(
            f"alarm {alarm_name} not found: {stack} of {environment} is not deployed, or alarms.enabled is "
            f"false in params/{environment}.yaml.\nNext: set alarms.enabled: true with a subscription, then "
            f"`{deploy}`.")
    alarm = alarms[0]
    topics = [arn for arn in alarm.get("AlarmActions", []) if ":sns:" in arn]
    if not topics or not alarm.get("ActionsEnabled", True):
        raise NotificationsFailed(f"alarm {alarm_name} notifies no SNS topic (actions {alarm.get('AlarmActions')}, "
                                  f"enabled {alarm.get('ActionsEnabled')}); deploy {stack} again (`{deploy}`)")
    targets = {topic: subscriptions(sns, topic) for topic in topics}
    if not any(targets.values()):
        raise NotificationsFailed(
            f"{', '.join(topics)} has no subscription: the test would reach nobody.\nNext: add a target to "
            f"alarms.email, alarms.https or alarms.sqs in params/{environment}.yaml and `{deploy}`.")

    started = datetime.now(timezone.utc) - timedelta(seconds=5)
    try:
        cloudwatch.set_alarm_state(AlarmName=alarm_name, StateValue="ALARM", StateReason=REASON)
    except aws_errors() as exc:
        raise aws_failure(exc, f"SetAlarmState {alarm_name}",
                          next_step="Next: the caller needs cloudwatch:SetAlarmState on the alarm.") from exc
    out(f"forced {alarm_name} into ALARM ({REASON.split(' (')[0]}).")
    for topic, subs in targets.items():
        out(f"{topic} should now deliver it to:")
        for target in subs:
            note = "" if target.confirmed else "  (PendingConfirmation: receives nothing until its owner confirms)"
            out(f"  {target.protocol:<6} {target.endpoint}{note}")

    outcome = _wait_for_action(cloudwatch, alarm_name, started, wait, clock, sleep)
    if outcome is None:
        out(f"no action record yet after {wait:.0f} s: check that each confirmed target above received "
            f"\"ALARM: {alarm_name}\". Nothing arriving means the topic's key or policy refused CloudWatch: "
            f"`aws cloudwatch describe-alarm-history --alarm-name {alarm_name} --history-item-type Action` says why.")
        return topics
    if outcome.startswith("Failed"):
        raise NotificationsFailed(
            f"CloudWatch could not publish {alarm_name}'s notification: {outcome}\nNext: the topic's KMS key policy "
            "must let cloudwatch.amazonaws.com use the key (kms:Decrypt, kms:GenerateDataKey*; the foundation "
            "stack's key does), and the topic policy must admit this alarm. With encryption.kms_key_arn set, add "
            "that statement to your key's policy (docs/security.md).")
    out(f"CloudWatch published the notification ({outcome}): the path works; expect it at each confirmed target.")
    return topics


@dataclass(frozen=True)
class ProcessingRule:
    """One EventBridge rule on SageMaker's processing-job state changes that notifies the topic: the processing engine's
    (templates/processing_engine.py `_failed_rule`, `_violations_rule`) or Model Monitor's (templates/notifications.py
    ExecutionFailedRule, ExecutionViolationsRule): what its pattern must match, the alarms that watch it, and the words
    of the messages about it."""
    suffix: str  # <project>-<env>[-<key>]-<suffix>
    statuses: tuple[str, ...]  # detail.ProcessingJobStatus
    exit_prefix: str | None  # detail.ExitMessage must be matched by this prefix (None: not filtered)
    runs: str  # "failed or stopped processing jobs" ... "<values>"
    lost: str  # what goes unnoticed without the rule
    enable: str  # the params fields that make the rule
    real_one: str  # how a real event is sent
    key: str = "ProcessingJobName"  # the detail field that picks the endpoint's jobs
    exact: bool = False  # its values are matched as they are (schedule ARNs), not as {"prefix": value} (job names)
    matched: str = "jobs"  # what the values are, in "it does not match the <matched> ..."
    alarm: str | None = None  # the suffix of the alarm on its TriggeredRules (None: none)
    delivery: str = ""  # the suffix of the alarm on its FailedInvocations ("": <suffix>-delivery)
    made_by: str = "monitoring stack makes it as templates/processing_engine.py describes"

    def shown(self, values: list[str]) -> str:
        """The values in the message that the rule works: job-name prefixes with "…", schedules by name."""
        return ", ".join(v.rsplit("/", 1)[-1] if self.exact else v + "…" for v in values)


def failed_rule() -> ProcessingRule:
    """The failed-job rule `<prefix>-job-failed` (templates/processing_engine.py `_failed_rule`)."""
    from templates.notifications import FAILED_STATUSES, PROCESSING_FAILED_RULE

    return ProcessingRule(PROCESSING_FAILED_RULE, tuple(FAILED_STATUSES), None, "failed or stopped processing jobs",
                          "failed processing jobs notify nobody", "alarms.enabled: true",
                          "a failing `make run-now ENGINE=processing` run sends a real one",
                          alarm=PROCESSING_FAILED_RULE)


def violations_rule() -> ProcessingRule:
    """The "completed with violations" rule `<prefix>-job-viol` (templates/processing_engine.py `_violations_rule`;
    it exists with alarms.notify_on_violations)."""
    from templates.notifications import PROCESSING_VIOLATIONS_RULE, VIOLATIONS_PREFIX

    return ProcessingRule(PROCESSING_VIOLATIONS_RULE, ("Completed",), VIOLATIONS_PREFIX,
                          "processing jobs that complete with violations", "runs with violations notify nobody",
                          "alarms.enabled: true and alarms.notify_on_violations: true (the default)",
                          "a `make run-now ENGINE=processing` run that finds violations sends a real one")


def _model_monitor_rule(legacy: bool, failed: bool) -> ProcessingRule:
    """Model Monitor's rule on the endpoint's monitoring executions (templates/notifications.py `add`): in the alarms
    stack as `<project>-<env>-monitor-failed` / `-monitor-violations` (templates/alarms.py), in a fleet endpoint's
    monitoring stack as `<project>-<env>-<key>-failed` / `-violations` (templates/monitoring.py), matched by
    detail.MonitoringScheduleArn. Their alarms: `monitor-failed` (TriggeredRules of the failed rule),
    `notification-delivery` and `violations-delivery` (FailedInvocations)."""
    from templates import notifications as n

    stack = ("alarms stack makes it as templates/alarms.py describes" if legacy else
             "monitoring stack makes it as templates/monitoring.py describes")
    common = dict(key="MonitoringScheduleArn", exact=True, matched="schedules", made_by=stack)
    if failed:
        return ProcessingRule(n.MONITOR_FAILED_RULE if legacy else n.FLEET_FAILED_RULE, tuple(n.FAILED_STATUSES), None,
                              "failed or stopped monitoring executions of", "failed monitoring runs notify nobody",
                              "alarms.enabled: true", "a failing `make run-now` run sends a real one",
                              alarm="monitor-failed", delivery="notification-delivery", **common)
    return ProcessingRule(n.MONITOR_VIOLATIONS_RULE if legacy else n.FLEET_VIOLATIONS_RULE, ("Completed",),
                          n.VIOLATIONS_PREFIX, "monitoring executions that complete with violations of",
                          "runs with violations notify nobody",
                          "alarms.enabled: true and alarms.notify_on_violations: true (the default)",
                          "a `make run-now` run that finds violations sends a real one",
                          delivery="violations-delivery", **common)


def monitor_failed_rule(legacy: bool) -> ProcessingRule:
    """Model Monitor's failed-runs rule (templates/notifications.py ExecutionFailedRule)."""
    return _model_monitor_rule(legacy, failed=True)


def monitor_violations_rule(legacy: bool) -> ProcessingRule:
    """Model Monitor's "completed with violations" rule (templates/notifications.py ExecutionViolationsRule; with
    alarms.notify_on_violations)."""
    return _model_monitor_rule(legacy, failed=False)


def model_monitor_schedule_arns(params: Any, entry: Any, account: str) -> list[str]:
    """The ARNs of the endpoint's enabled Model Monitor schedules, as the rules list them: `<project>-<env>-<name>`
    (templates/alarms.py `schedule_arns`), a fleet endpoint's `<project>-<env>-<key>-<code>`
    (templates/monitoring.py)."""
    from deployer.intrinsics import partition_of
    from mmtool.config.monitor_kinds import KINDS

    partition = partition_of(params.region)[0]
    return [f"arn:{partition}:sagemaker:{params.region}:{account}:monitoring-schedule/{entry.name_prefix(params)}-"
            f"{kind.name if entry.legacy else kind.code}" for kind in KINDS
            if getattr(entry.monitoring, kind.key).enabled]


def check_processing_rules(events: Any, cloudwatch: Any, name_prefix: str, prefixes: list[str], topics: list[str], *,
                           notify_on_violations: bool, environment: str, deploy: str,
                           out: Callable[[str], None] = print) -> None:
    """The processing engine's rules of one endpoint (`<name_prefix>-job-failed`, and with `notify_on_violations`
    `<name_prefix>-job-viol`), each by `check_processing_rule`; without it, one line says runs with violations
    notify nobody by choice."""
    check_rules(events, cloudwatch, (failed_rule(), violations_rule()), name_prefix, prefixes, topics,
                notify_on_violations=notify_on_violations, environment=environment, deploy=deploy, out=out)


def check_model_monitor_rules(events: Any, cloudwatch: Any, name_prefix: str, legacy: bool, schedule_arns: list[str],
                              topics: list[str], *, notify_on_violations: bool, environment: str, deploy: str,
                              out: Callable[[str], None] = print) -> None:
    """Model Monitor's rules of one endpoint (`monitor_failed_rule`, with `notify_on_violations`
    `monitor_violations_rule`) on `schedule_arns` (`model_monitor_schedule_arns`), as `check_processing_rules`."""
    check_rules(events, cloudwatch, (monitor_failed_rule(legacy), monitor_violations_rule(legacy)), name_prefix,
                schedule_arns, topics, notify_on_violations=notify_on_violations, environment=environment,
                deploy=deploy, out=out)


def check_rules(events: Any, cloudwatch: Any, rules: tuple[ProcessingRule, ProcessingRule], name_prefix: str,
                values: list[str], topics: list[str], *, notify_on_violations: bool, environment: str, deploy: str,
                out: Callable[[str], None] = print) -> None:
    """A failed rule and a violations rule of one endpoint, each by `check_processing_rule`; without
    `notify_on_violations`, one line says runs with violations notify nobody by choice."""
    failed, spec = rules
    check_processing_rule(events, failed, f"{name_prefix}-{failed.suffix}", values, topics, deploy=deploy,
                          cloudwatch=cloudwatch, out=out)
    if notify_on_violations:
        check_processing_rule(events, spec, f"{name_prefix}-{spec.suffix}", values, topics, deploy=deploy,
                              cloudwatch=cloudwatch, out=out)
    else:
        out(f"{spec.runs.removesuffix(' of')} notify nobody: alarms.notify_on_violations is false in "
            f"params/{environment}.yaml (no rule "
            f"{name_prefix}-{spec.suffix}); set it to true and `{deploy}` to be told.")


def check_processing_rule(events: Any, spec: ProcessingRule, rule_name: str, prefixes: list[str], topics: list[str],
                          *, deploy: str, cloudwatch: Any = None, out: Callable[[str], None] = print) -> None:
    """One rule: it exists and is ENABLED, matches SageMaker's processing-job state changes to `spec.statuses` (and
    the ExitMessage prefix `spec.exit_prefix`) of every one of `prefixes` in detail.`spec.key` (the job-name prefixes
    of the endpoint's schedules, or with `spec.exact` its schedule ARNs), and targets a topic the alarm notifies (so
    its messages reach the same people); with `cloudwatch`, the alarm `<rule>-delivery` (`spec.delivery`) watches the
    rule's FailedInvocations and notifies that topic too (templates/processing_engine.py `_delivery_alarm`,
    templates/notifications.py). NotificationsFailed otherwise, with the fix."""
    import json

    from mmtool.operate.awsenv import aws_errors, aws_failure

    try:
        rule = events.describe_rule(Name=rule_name)
    except aws_errors() as exc:
        if "ResourceNotFound" in error_code(exc):
            raise NotificationsFailed(f"EventBridge rule {rule_name} not found: {spec.lost}."
                                      f"\nNext: {spec.enable}, then `{deploy}`.") from None
        raise aws_failure(exc, f"DescribeRule {rule_name}") from exc
    problems = []
    if rule.get("State") != "ENABLED":
        problems.append(f"it is {rule.get('State')}")
    try:
        pattern = json.loads(rule.get("EventPattern") or "{}")
    except ValueError:
        pattern = {}
    pattern = pattern if isinstance(pattern, dict) else {}
    detail = pattern.get("detail", {}) if isinstance(pattern.get("detail"), dict) else {}
    matched = {p if spec.exact else p.get("prefix") for p in detail.get(spec.key, [])
               if isinstance(p, str if spec.exact else dict)}
    exits = {p.get("prefix") for p in detail.get("ExitMessage", []) if isinstance(p, dict)}
    statuses = " and ".join(spec.statuses)
    if pattern.get("source") != ["aws.sagemaker"] or "SageMaker Processing Job State Change" not in pattern.get(
            "detail-type", []) or not set(spec.statuses) <= set(detail.get("ProcessingJobStatus", [])) or (
            spec.exit_prefix is not None and exits != {spec.exit_prefix}):
        exit_words = "" if spec.exit_prefix is None else f" with an ExitMessage starting {spec.exit_prefix}"
        problems.append(f"its pattern is not SageMaker's processing-job state change to {statuses}{exit_words}")
    missing = [p for p in prefixes if p not in matched]
    if missing:
        problems.append(f"it does not match the {spec.matched} "
                        f"{', '.join(missing) if spec.exact else spec.shown(missing)}")
    try:
        targets = [t["Arn"] for t in events.list_targets_by_rule(Rule=rule_name).get("Targets", [])]
    except aws_errors() as exc:
        raise aws_failure(exc, f"ListTargetsByRule {rule_name}") from exc
    if not set(targets) & set(topics):
        problems.append(f"it sends to {', '.join(targets) or 'nothing'}, not to {', '.join(topics)}")
    stem = rule_name.removesuffix(spec.suffix)
    delivery = f"{stem}{spec.delivery}" if spec.delivery else f"{rule_name}-delivery"
    if cloudwatch is not None:
        problems += _delivery_problems(cloudwatch, delivery, rule_name, topics)
    if problems:
        raise NotificationsFailed(f"EventBridge rule {rule_name}: {'; '.join(problems)}.\nNext: `{deploy}` (the "
                                  f"{spec.made_by}).")
    alarm = f"{stem}{spec.alarm}"
    watched = ("" if spec.alarm is None else " and is watched by the alarm of the same name" if alarm == rule_name
               else f" and is watched by the alarm {alarm}")
    watched += f"; the alarm {delivery} says when a message cannot be delivered" if cloudwatch is not None else ""
    out(f"{spec.runs} {spec.shown(prefixes)} are matched by the EventBridge rule {rule_name} "
        f"(ENABLED), which targets the topic{watched}. It cannot be triggered by hand (aws.sagemaker events are "
        f"AWS's own): {spec.real_one}.")


def _delivery_problems(cloudwatch: Any, name: str, rule_name: str, topics: list[str]) -> list[str]:
    """What is wrong with the alarm `name` on the rule's FailedInvocations (nothing: [])."""
    from mmtool.operate.awsenv import aws_errors, aws_failure

    try:
        alarms = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"]
    except aws_errors() as exc:
        raise aws_failure(exc, f"DescribeAlarms {name}") from exc
    if not alarms:
        return [f"no alarm {name} says when its messages cannot be delivered"]
    alarm = alarms[0]
    problems = []
    dimensions = {(d.get("Name"), d.get("Value")) for d in alarm.get("Dimensions", [])}
    if (alarm.get("Namespace"), alarm.get("MetricName")) != ("AWS/Events", "FailedInvocations") or (
            "RuleName", rule_name) not in dimensions:
        problems.append(f"the alarm {name} does not watch its AWS/Events FailedInvocations")
    if not set(alarm.get("AlarmActions", [])) & set(topics) or not alarm.get("ActionsEnabled", True):
        disabled = "" if alarm.get("ActionsEnabled", True) else " (its actions are disabled)"
        problems.append(f"the alarm {name} notifies {', '.join(alarm.get('AlarmActions', [])) or 'nothing'}, "
                        f"not {', '.join(topics)}{disabled}")
    return problems


def subscriptions(sns: Any, topic: str) -> list[Target]:
    from mmtool.operate.awsenv import aws_errors, aws_failure

    found, token = [], None
    try:
        while True:
            page = sns.list_subscriptions_by_topic(TopicArn=topic, **({"NextToken": token} if token else {}))
            for sub in page.get("Subscriptions", []):
                arn = sub.get("SubscriptionArn", "")
                found.append(Target(sub.get("Protocol", "?"), sub.get("Endpoint", "?"),
                                    confirmed=arn.startswith("arn:")))
            token = page.get("NextToken")
            if not token:
                return found
    except aws_errors() as exc:
        raise aws_failure(exc, f"ListSubscriptionsByTopic {topic}") from exc


def _wait_for_action(cloudwatch: Any, alarm_name: str, since: datetime, wait: float,
                     clock: Callable[[], float], sleep: Callable[[float], None]) -> str | None:
    """The summary of the first Action history item after `since`, or None within `wait` seconds."""
    from mmtool.operate.awsenv import aws_errors

    deadline = clock() + wait
    while True:
        try:
            items = cloudwatch.describe_alarm_history(AlarmName=alarm_name, HistoryItemType="Action",
                                                      StartDate=since, ScanBy="TimestampAscending")["AlarmHistoryItems"]
        except aws_errors():  # history is a convenience: the user can still check the inbox
            items = []
        for item in items:
            summary = item.get("HistorySummary", "")
            if summary.startswith(("Successfully executed action", "Failed to execute action")):
                return summary
        if clock() >= deadline:
            return None
        sleep(min(POLL_SECONDS, max(0.0, deadline - clock())))
