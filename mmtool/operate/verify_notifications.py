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
the dead-letter alarm), and for `processing` or `both` the failed-job EventBridge rule `<prefix>-job-failed` is checked
(`check_failed_job_rule`).

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
# hand (aws.* events are AWS's own): `check_failed_job_rule` reads it.
PROCESSING_ALARM = "job-failed"
ENGINE_ALARMS = (PROCESSING_ALARM, "schedule-dlq")
FAILED_JOB_RULE = "job-failed"
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


def check_failed_job_rule(events: Any, rule_name: str, prefixes: list[str], topics: list[str], *, deploy: str,
                          out: Callable[[str], None] = print) -> None:
    """The processing engine's failed-job rule: it exists and is ENABLED, matches SageMaker's processing-job state
    changes to Failed and Stopped of every job-name prefix of the endpoint's schedules, and targets a topic the alarm
    notifies (so its messages reach the same people). NotificationsFailed otherwise, with the fix."""
    import json

    from mmtool.operate.awsenv import aws_errors, aws_failure

    try:
        rule = events.describe_rule(Name=rule_name)
    except aws_errors() as exc:
        if "ResourceNotFound" in error_code(exc):
            raise NotificationsFailed(f"EventBridge rule {rule_name} not found: failed processing jobs notify nobody."
                                      f"\nNext: alarms.enabled: true, then `{deploy}`.") from None
        raise aws_failure(exc, f"DescribeRule {rule_name}") from exc
    problems = []
    if rule.get("State") != "ENABLED":
        problems.append(f"it is {rule.get('State')}")
    try:
        pattern = json.loads(rule.get("EventPattern") or "{}")
    except ValueError:
        pattern = {}
    detail = pattern.get("detail", {}) if isinstance(pattern, dict) else {}
    matched = {p.get("prefix") for p in detail.get("ProcessingJobName", []) if isinstance(p, dict)}
    if pattern.get("source") != ["aws.sagemaker"] or "SageMaker Processing Job State Change" not in pattern.get(
            "detail-type", []) or not {"Failed", "Stopped"} <= set(detail.get("ProcessingJobStatus", [])):
        problems.append("its pattern is not SageMaker's processing-job state change to Failed and Stopped")
    missing = [p for p in prefixes if p not in matched]
    if missing:
        problems.append(f"it does not match the jobs {', '.join(p + '…' for p in missing)}")
    try:
        targets = [t["Arn"] for t in events.list_targets_by_rule(Rule=rule_name).get("Targets", [])]
    except aws_errors() as exc:
        raise aws_failure(exc, f"ListTargetsByRule {rule_name}") from exc
    if not set(targets) & set(topics):
        problems.append(f"it sends to {', '.join(targets) or 'nothing'}, not to {', '.join(topics)}")
    if problems:
        raise NotificationsFailed(f"EventBridge rule {rule_name}: {'; '.join(problems)}.\nNext: `{deploy}` (the "
                                  "monitoring stack makes it as templates/processing_engine.py describes).")
    out(f"failed or stopped processing jobs {', '.join(p + '…' for p in prefixes)} are matched by the EventBridge rule "
        f"{rule_name} (ENABLED), which targets the topic and is watched by the alarm of the same name. It cannot be triggered by hand (aws.sagemaker events are AWS's own): "
        "a failing `make run-now ENGINE=processing` run sends a real one.")


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
