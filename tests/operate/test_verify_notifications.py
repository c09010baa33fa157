"""`build.py verify-notifications` (mmtool.verify_notifications, issue 16 #4) against the moto server: the
single-endpoint form (params/dev.yaml, the alarms stack's `churn-dev-monitor-failed`) and a fleet
(params/staging.yaml, each endpoint's monitoring stack's `churn-staging-<key>-monitor-failed`, ENDPOINT=key).

moto implements SetAlarmState, DescribeAlarms and the SNS topic and subscriptions; it records no alarm
Action history, so the outcome of CloudWatch's publish is read from a Stubber on DescribeAlarmHistory
only (the answers AWS gives: "Successfully executed action ..." / "Failed to execute action ...").
"""

from __future__ import annotations

import pytest
import yaml

from mmtool.operate import verify_notifications as vn
from mmtool.cli import main

from .conftest import REGION, client, scratch
from .fleet_env import UPSELL_JOB_PREFIX, scratch_staging
from .monitoring_env import GapStubber

ALARM = "churn-dev-monitor-failed"


def deploy_alarms(server, *, subscribe: bool = True, prefix: str = "churn-dev",
                  alarms: tuple[str, ...] = (ALARM,)) -> str:
    """What the alarms stack leaves behind: the topic, its e-mail subscription and the failed-runs alarm (a fleet:
    `alarms` are the endpoints' monitoring stacks' alarms on the environment's topic), and Model Monitor's rules
    of the single-endpoint form or of each fleet endpoint whose alarm is in `alarms`."""
    sns = client("sns", server)
    topic = sns.create_topic(Name=f"{prefix}-alarms")["TopicArn"]
    if subscribe:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-oncall@example.com")
    for name in alarms:
        put_alarm(server, topic, name)
        if name.endswith("-monitor-failed"):
            deploy_monitor_rules(server, topic, name.removesuffix("-monitor-failed"), legacy=name == ALARM)
    return topic


def put_alarm(server, topic: str, name: str, metric: str = "TriggeredRules", rule: str | None = None) -> None:
    client("cloudwatch", server).put_metric_alarm(
        AlarmName=name, Namespace="AWS/Events", MetricName=metric, Statistic="Sum", Period=3600,
        Dimensions=[{"Name": "RuleName", "Value": rule}] if rule else [],
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", ActionsEnabled=True, AlarmActions=[topic])


# The four schedules of an endpoint, as templates/alarms.py (single endpoint: <project>-<env>-<name>) and
# templates/monitoring.py (a fleet endpoint: <project>-<env>-<key>-<code>) list them in Model Monitor's rules.
SINGLE_SCHEDULES = ("data-quality", "model-quality", "model-bias", "model-explainability")
FLEET_SCHEDULES = ("dq", "mq", "mb", "me")


def deploy_monitor_rules(server, topic: str, prefix: str, *, legacy: bool, schedules: tuple[str, ...] | None = None,
                         state: str = "ENABLED", violations: bool = True) -> None:
    """Model Monitor's rules of one endpoint and their delivery alarms (templates/notifications.py ExecutionFailedRule,
    ExecutionViolationsRule, NotificationDeliveryAlarm, ViolationsDeliveryAlarm)."""
    import json

    events = client("events", server)
    arns = [f"arn:aws:sagemaker:{REGION}:123456789012:monitoring-schedule/{prefix}-{s}"
            for s in (schedules or (SINGLE_SCHEDULES if legacy else FLEET_SCHEDULES))]
    rules = {"failed": ({"ProcessingJobStatus": ["Failed", "Stopped"]}, "notification-delivery")}
    if violations:
        rules["violations"] = ({"ProcessingJobStatus": ["Completed"],
                                "ExitMessage": [{"prefix": "CompletedWithViolations"}]}, "violations-delivery")
    for suffix, (detail, delivery) in rules.items():
        name = f"{prefix}-monitor-{suffix}" if legacy else f"{prefix}-{suffix}"
        events.put_rule(Name=name, State=state, EventPattern=json.dumps({
            "source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"],
            "detail": {"MonitoringScheduleArn": arns, **detail}}))
        events.put_targets(Rule=name, Targets=[{"Id": "AlarmTopic", "Arn": topic}])
        put_alarm(server, topic, f"{prefix}-{delivery}", "FailedInvocations", name)


def state(server, name: str) -> str:
    return client("cloudwatch", server).describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"]


def test_forces_the_alarm_into_alarm_and_names_who_should_receive_it(aws, tmp_path, capsys):
    topic = deploy_alarms(aws)
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=scratch(tmp_path)) == 0
    alarm = client("cloudwatch", aws).describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith("make verify-notifications")
    out = capsys.readouterr().out
    assert f"forced {ALARM} into ALARM" in out
    assert f"{topic} should now deliver it to:" in out
    assert "email  ml-oncall@example.com" in out
    # engine model-monitor (dev's default): Model Monitor's rules of the alarms stack are read too
    assert ("failed or stopped monitoring executions of churn-dev-data-quality are matched by the EventBridge rule "
            "churn-dev-monitor-failed (ENABLED), which targets the topic and is watched by the alarm of the same name; "
            "the alarm churn-dev-notification-delivery says when a message cannot be delivered") in out
    assert ("monitoring executions that complete with violations of churn-dev-data-quality are matched by the "
            "EventBridge rule churn-dev-monitor-violations (ENABLED), which targets the topic; the alarm "
            "churn-dev-violations-delivery says when a message cannot be delivered") in out


ARN = f"arn:aws:sagemaker:{REGION}:123456789012:monitoring-schedule/churn-dev-data-quality"


@pytest.mark.parametrize("change, problem", [
    ({"state": "DISABLED"}, "EventBridge rule churn-dev-monitor-failed: it is DISABLED.\nNext: `make deploy ENV=dev` "
                            "(the alarms stack makes it as templates/alarms.py describes)."),
    ({"schedules": ("model-quality",)}, f"EventBridge rule churn-dev-monitor-failed: it does not match the schedules "
                                        f"{ARN}."),
    ({"prefix": "churn-other"}, "EventBridge rule churn-dev-monitor-failed not found: failed monitoring runs notify "
                                "nobody."),
    ({"violations": False}, "EventBridge rule churn-dev-monitor-violations not found: runs with violations notify "
                            "nobody.\nNext: alarms.enabled: true and alarms.notify_on_violations: true (the default), "
                            "then `make deploy ENV=dev`."),
])
def test_a_model_monitor_rule_that_notifies_nobody_is_refused(aws, tmp_path, capsys, change, problem):
    topic = deploy_alarms(aws, alarms=())
    put_alarm(aws, topic, ALARM)
    deploy_monitor_rules(aws, topic, **{"prefix": "churn-dev", "legacy": True, **change})
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=scratch(tmp_path)) == 1
    assert problem in capsys.readouterr().err


def test_a_model_monitor_rule_sent_elsewhere_is_refused(aws, tmp_path, capsys):
    topic = deploy_alarms(aws)
    elsewhere = client("sns", aws).create_topic(Name="elsewhere")["TopicArn"]
    client("events", aws).put_targets(Rule="churn-dev-monitor-violations",
                                      Targets=[{"Id": "AlarmTopic", "Arn": elsewhere}])
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=scratch(tmp_path)) == 1
    captured = capsys.readouterr()
    assert "matched by the EventBridge rule churn-dev-monitor-failed (ENABLED)" in captured.out
    assert f"EventBridge rule churn-dev-monitor-violations: it sends to {elsewhere}, not to {topic}." in captured.err


def test_without_notify_on_violations_model_monitors_violations_rule_is_not_asked_for(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, alarms=())
    put_alarm(aws, topic, ALARM)
    deploy_monitor_rules(aws, topic, "churn-dev", legacy=True, violations=False)
    paths = scratch(tmp_path, **{"alarms": {"notify_on_violations": False}})
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=paths) == 0, capsys.readouterr().err
    assert ("monitoring executions that complete with violations notify nobody: alarms.notify_on_violations is "
            "false") in capsys.readouterr().out


def test_a_topic_without_subscriptions_is_refused_before_the_alarm_is_touched(aws, tmp_path, capsys):
    deploy_alarms(aws, subscribe=False)
    assert main(["verify-notifications", "--env", "dev"], paths=scratch(tmp_path)) == 1
    assert "has no subscription" in capsys.readouterr().err
    assert client("cloudwatch", aws).describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"] != "ALARM"


def test_no_alarms_stack_says_what_to_deploy(aws, tmp_path, capsys):
    assert main(["verify-notifications", "--env", "dev"], paths=scratch(tmp_path)) == 1
    err = capsys.readouterr().err
    assert f"alarm {ALARM} not found" in err and "make deploy ENV=dev" in err


@pytest.mark.parametrize("summary, fails", [
    (f"Successfully executed action arn:aws:sns:{REGION}:123456789012:churn-dev-alarms", False),
    (f"Failed to execute action arn:aws:sns:{REGION}:123456789012:churn-dev-alarms. Received error: "
     "\"CloudWatch Alarms does not have authorization to access the SNS topic encryption key.\"", True),
])
def test_the_alarms_action_history_decides(aws, summary, fails):
    deploy_alarms(aws)
    cloudwatch, lines = client("cloudwatch", aws), []
    stub = GapStubber(cloudwatch, {"DescribeAlarmHistory"})
    stub.add_response("describe_alarm_history", {"AlarmHistoryItems": [
        {"AlarmName": ALARM, "HistoryItemType": "Action", "HistorySummary": summary}]})
    with stub:
        if fails:
            with pytest.raises(vn.NotificationsFailed) as caught:
                vn.verify(cloudwatch, client("sns", aws), ALARM, environment="dev", wait=10, out=lines.append)
            assert "encryption key" in str(caught.value) and "kms:GenerateDataKey*" in str(caught.value)
        else:
            vn.verify(cloudwatch, client("sns", aws), ALARM, environment="dev", wait=10, out=lines.append)
            assert lines[-1].startswith("CloudWatch published the notification")


def test_the_single_endpoint_form_takes_its_own_key_only(aws, tmp_path, capsys):
    deploy_alarms(aws)
    assert main(["verify-notifications", "--env", "dev", "--endpoint", "default", "--wait", "0"],
                paths=scratch(tmp_path / "a")) == 0
    assert state(aws, ALARM) == "ALARM"
    capsys.readouterr()
    assert main(["verify-notifications", "--env", "dev", "--endpoint", "churn"], paths=scratch(tmp_path / "b")) == 2
    assert capsys.readouterr().err.startswith("--endpoint churn: params/dev.yaml monitors one endpoint (no endpoints: "
                                              "section)")


# ------------------------------------------------------------------ a fleet (params/staging.yaml)

FLEET_ALARMS = tuple(f"churn-staging-{key}-monitor-failed" for key in ("churn", "upsell", "fraud"))


def test_a_fleet_endpoints_alarm_is_forced_and_no_other(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, prefix="churn-staging", alarms=FLEET_ALARMS)
    # upsell runs both engines (params/staging.yaml): its monitoring stack's failed-job rule is checked too
    deploy_job_rules(aws, topic, prefix="churn-staging-upsell", prefixes=(UPSELL_JOB_PREFIX,))
    assert main(["verify-notifications", "--env", "staging", "--endpoint", "upsell", "--wait", "0"],
                paths=scratch_staging(tmp_path)) == 0
    assert [state(aws, name) == "ALARM" for name in FLEET_ALARMS] == [False, True, False]
    out = capsys.readouterr().out
    assert "forced churn-staging-upsell-monitor-failed into ALARM" in out
    assert f"{topic} should now deliver it to:" in out and "email  ml-oncall@example.com" in out
    assert "matched by the EventBridge rule churn-staging-upsell-job-failed (ENABLED)" in out
    # and, running both engines, Model Monitor's rules of its monitoring stack
    assert ("failed or stopped monitoring executions of churn-staging-upsell-dq are matched by the EventBridge rule "
            "churn-staging-upsell-failed (ENABLED), which targets the topic and is watched by the alarm "
            "churn-staging-upsell-monitor-failed; the alarm churn-staging-upsell-notification-delivery says") in out
    assert "EventBridge rule churn-staging-upsell-violations (ENABLED)" in out
    assert (f"processing jobs that complete with violations {UPSELL_JOB_PREFIX}… are matched by the EventBridge rule "
            "churn-staging-upsell-job-viol (ENABLED), which targets the topic; the alarm "
            "churn-staging-upsell-job-viol-delivery says when a message cannot be delivered") in out


def test_a_fleet_endpoints_other_alarm_takes_the_key_in_its_name(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, prefix="churn-staging", alarms=("churn-staging-fraud-notification-delivery",))
    deploy_monitor_rules(aws, topic, "churn-staging-fraud", legacy=False)
    assert main(["verify-notifications", "--env", "staging", "--endpoint", "fraud", "--alarm", "notification-delivery",
                 "--wait", "0"], paths=scratch_staging(tmp_path)) == 0
    assert state(aws, "churn-staging-fraud-notification-delivery") == "ALARM"


def test_a_fleet_of_more_than_one_needs_the_endpoint_before_any_aws_call(aws, tmp_path, capsys, monkeypatch):
    deploy_alarms(aws, prefix="churn-staging", alarms=FLEET_ALARMS)
    paths = scratch_staging(tmp_path)
    with monkeypatch.context() as nowhere:
        nowhere.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail differently
        assert main(["verify-notifications", "--env", "staging"], paths=paths) == 2
    assert capsys.readouterr().err == (
        "verify-notifications: params/staging.yaml is a fleet of 3 endpoints (churn, upsell, fraud): say which one, "
        "e.g. `make verify-notifications ENV=staging ENDPOINT=churn` (--endpoint churn)\n")
    assert main(["verify-notifications", "--env", "staging", "--endpoint", "nope"], paths=paths) == 2
    assert "has no endpoint 'nope' (endpoints: churn, upsell, fraud); fix ENDPOINT=" in capsys.readouterr().err
    assert "ALARM" not in [state(aws, name) for name in FLEET_ALARMS]


def test_a_fleet_endpoint_without_its_monitoring_stack_says_which_stack_and_command(aws, tmp_path, capsys):
    deploy_alarms(aws, prefix="churn-staging", alarms=FLEET_ALARMS[:1])
    assert main(["verify-notifications", "--env", "staging", "--endpoint", "upsell"],
                paths=scratch_staging(tmp_path)) == 1
    err = capsys.readouterr().err
    assert ("alarm churn-staging-upsell-monitor-failed not found: the monitoring stack churn-staging-upsell-monitoring "
            "(endpoints.upsell) of staging is not deployed") in err
    assert "`make deploy ENV=staging ENDPOINT=upsell`" in err


def test_a_fleet_of_one_needs_no_endpoint_and_keeps_the_key_in_the_name(aws, tmp_path, capsys):
    paths = scratch_staging(tmp_path)
    path = paths.params / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    data["endpoints"] = {"churn": data["endpoints"]["churn"]}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    deploy_alarms(aws, prefix="churn-staging", alarms=FLEET_ALARMS[:1])
    assert main(["verify-notifications", "--env", "staging", "--wait", "0"], paths=paths) == 0, capsys.readouterr().err
    assert state(aws, FLEET_ALARMS[0]) == "ALARM"


def test_the_alarm_of_each_form_is_where_the_templates_put_it(tmp_path):
    from mmtool.config.loader import load_params

    from .conftest import REPO

    dev = load_params(REPO / "params" / "dev.yaml", REPO)
    assert vn.endpoint_alarm(dev, dev.fleet()[0], "monitor-failed") == vn.EndpointAlarm(
        "churn-dev-monitor-failed", "the alarms stack", "make deploy ENV=dev")
    staging = load_params(REPO / "params" / "staging.yaml", REPO)
    fraud = [e for e in staging.fleet() if e.key == "fraud"][0]
    assert vn.endpoint_alarm(staging, fraud, "drift-00000000000000000001") == vn.EndpointAlarm(
        "churn-staging-fraud-drift-00000000000000000001",
        "the monitoring stack churn-staging-fraud-monitoring (endpoints.fraud)", "make deploy ENV=staging ENDPOINT=fraud")


# ------------------------------------------------------------------ the processing engine (docs/engine.md)

# docs/engine.md: dq-<16 hex of sha256("<project>/<env>/<key>")>- (the single-endpoint form's key is empty)
DQ_PREFIX = f"dq-{__import__('hashlib').sha256(b'churn/dev/').hexdigest()[:16]}-"


def deploy_job_rule(server, topic: str, *, prefixes=(DQ_PREFIX,), target: str | None = None,
                    name: str = "churn-dev-job-failed", violations: bool = False, delivery: bool = True,
                    exit_prefix: str = "CompletedWithViolations") -> None:
    """What the monitoring stack's ProcessingJobFailedRule (or with `violations` ProcessingJobViolationsRule) and its
    delivery alarm `<name>-delivery` are (templates/processing_engine.py)."""
    import json

    events = client("events", server)
    detail = ({"ProcessingJobStatus": ["Completed"], "ExitMessage": [{"prefix": exit_prefix}]} if violations
              else {"ProcessingJobStatus": ["Failed", "Stopped"]})
    events.put_rule(Name=name, State="ENABLED", EventPattern=json.dumps({
        "source": ["aws.sagemaker"], "detail-type": ["SageMaker Processing Job State Change"],
        "detail": {"ProcessingJobName": [{"prefix": p} for p in prefixes], **detail}}))
    events.put_targets(Rule=name, Targets=[{"Id": "AlarmTopic", "Arn": target or topic}])
    if delivery:
        client("cloudwatch", server).put_metric_alarm(
            AlarmName=f"{name}-delivery", Namespace="AWS/Events", MetricName="FailedInvocations",
            Dimensions=[{"Name": "RuleName", "Value": name}], Statistic="Sum", Period=3600, EvaluationPeriods=1,
            Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="notBreaching",
            ActionsEnabled=True, AlarmActions=[topic])


def deploy_job_rules(server, topic: str, *, prefix: str = "churn-dev", prefixes=(DQ_PREFIX,)) -> None:
    """Both processing-engine rules of an endpoint whose monitoring stack has alarms.notify_on_violations."""
    deploy_job_rule(server, topic, name=f"{prefix}-job-failed", prefixes=prefixes)
    deploy_job_rule(server, topic, name=f"{prefix}-job-viol", prefixes=prefixes, violations=True)


def test_processing_engine_forces_the_failed_job_alarm_and_checks_its_rule(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, alarms=("churn-dev-job-failed", "churn-dev-schedule-dlq"))
    deploy_job_rules(aws, topic)
    paths = scratch(tmp_path, **{"monitoring.engine": "processing"})
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=paths) == 0
    assert [state(aws, name) for name in ("churn-dev-job-failed", "churn-dev-schedule-dlq")] == ["ALARM", "OK"]
    out = capsys.readouterr().out
    assert f"failed or stopped processing jobs {DQ_PREFIX}… are matched by the EventBridge rule churn-dev-job-failed " \
           "(ENABLED), which targets the topic and is watched by the alarm of the same name; the alarm " \
           "churn-dev-job-failed-delivery says when a message cannot be delivered" in out
    assert f"processing jobs that complete with violations {DQ_PREFIX}… are matched by the EventBridge rule " \
           "churn-dev-job-viol (ENABLED)" in out
    capsys.readouterr()
    assert main(["verify-notifications", "--env", "dev", "--wait", "0", "--alarm", "schedule-dlq"], paths=paths) == 0
    assert state(aws, "churn-dev-schedule-dlq") == "ALARM"


@pytest.mark.parametrize("rule, problem", [
    ({"prefixes": ("dq-0000000000000000-",)}, f"it does not match the jobs {DQ_PREFIX}…"),
    ({"target": "arn:aws:sns:eu-west-1:123456789012:elsewhere"}, "it sends to arn:aws:sns:eu-west-1:123456789012:elsewhere"),
    ({"delivery": False}, "no alarm churn-dev-job-failed-delivery says when its messages cannot be delivered"),
    (None, "EventBridge rule churn-dev-job-failed not found"),
])
def test_a_failed_job_rule_that_notifies_nobody_is_refused(aws, tmp_path, capsys, rule, problem):
    topic = deploy_alarms(aws, alarms=(ALARM, "churn-dev-schedule-dlq"))
    if rule is not None:
        deploy_job_rule(aws, topic, **rule)
    deploy_job_rule(aws, topic, name="churn-dev-job-viol", violations=True)
    paths = scratch(tmp_path, **{"monitoring.engine": "both"})  # both: the failed-runs alarm, and the rules
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=paths) == 1
    assert state(aws, ALARM) == "ALARM"
    assert problem in capsys.readouterr().err


# The "completed with violations" rule (alarms.notify_on_violations), as the failed-job rule.
@pytest.mark.parametrize("rule, problem", [
    ({"prefixes": ("dq-0000000000000000-",)}, f"EventBridge rule churn-dev-job-viol: it does not match the jobs "
                                              f"{DQ_PREFIX}…"),
    ({"exit_prefix": "Completed"}, "its pattern is not SageMaker's processing-job state change to Completed with an "
                                   "ExitMessage starting CompletedWithViolations"),
    ({"target": "arn:aws:sns:eu-west-1:123456789012:elsewhere"}, "it sends to arn:aws:sns:eu-west-1:123456789012:elsewhere"),
    ({"delivery": False}, "no alarm churn-dev-job-viol-delivery says when its messages cannot be delivered"),
    (None, "EventBridge rule churn-dev-job-viol not found: runs with violations notify nobody.\nNext: alarms.enabled: "
           "true and alarms.notify_on_violations: true (the default), then `make deploy ENV=dev`."),
])
def test_a_violations_rule_that_notifies_nobody_is_refused(aws, tmp_path, capsys, rule, problem):
    topic = deploy_alarms(aws, alarms=("churn-dev-job-failed",))
    deploy_job_rule(aws, topic)
    if rule is not None:
        deploy_job_rule(aws, topic, name="churn-dev-job-viol", violations=True, **rule)
    paths = scratch(tmp_path, **{"monitoring.engine": "processing"})
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=paths) == 1
    captured = capsys.readouterr()
    assert "matched by the EventBridge rule churn-dev-job-failed (ENABLED)" in captured.out  # the failed-job rule is fine
    assert problem in captured.err


def test_without_notify_on_violations_the_violations_rule_is_not_asked_for(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, alarms=("churn-dev-job-failed",))
    deploy_job_rule(aws, topic)  # no job-viol rule: the monitoring stack makes none
    paths = scratch(tmp_path, **{"monitoring.engine": "processing", "alarms": {"notify_on_violations": False}})
    assert main(["verify-notifications", "--env", "dev", "--wait", "0"], paths=paths) == 0, capsys.readouterr().err
    assert ("processing jobs that complete with violations notify nobody: alarms.notify_on_violations is false in "
            "params/dev.yaml (no rule churn-dev-job-viol); set it to true and `make deploy ENV=dev` to be told."
            ) in capsys.readouterr().out


def test_a_fleet_endpoints_violations_rule_takes_the_key_in_its_name(aws, tmp_path, capsys):
    topic = deploy_alarms(aws, prefix="churn-staging", alarms=FLEET_ALARMS)
    deploy_job_rule(aws, topic, name="churn-staging-upsell-job-failed", prefixes=(UPSELL_JOB_PREFIX,))
    deploy_job_rule(aws, topic, name="churn-dev-job-viol", prefixes=(UPSELL_JOB_PREFIX,), violations=True)  # not its
    assert main(["verify-notifications", "--env", "staging", "--endpoint", "upsell", "--wait", "0"],
                paths=scratch_staging(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "EventBridge rule churn-staging-upsell-job-viol not found: runs with violations notify nobody." in err
    assert "then `make deploy ENV=staging ENDPOINT=upsell`." in err
