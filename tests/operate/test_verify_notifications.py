"""`build.py verify-notifications` (mmtool.verify_notifications, issue 16 #4) against the moto server.

moto implements SetAlarmState, DescribeAlarms and the SNS topic and subscriptions; it records no alarm
Action history, so the outcome of CloudWatch's publish is read from a Stubber on DescribeAlarmHistory
only (the answers AWS gives: "Successfully executed action ..." / "Failed to execute action ...").
"""

from __future__ import annotations

import pytest

from mmtool.operate import verify_notifications as vn
from mmtool.cli import main

from .conftest import REGION, client, scratch
from .monitoring_env import GapStubber

ALARM = "churn-dev-monitor-failed"


def deploy_alarms(server, *, subscribe: bool = True) -> str:
    """What the alarms stack leaves behind: the topic, its e-mail subscription and the failed-runs alarm."""
    sns = client("sns", server)
    topic = sns.create_topic(Name="churn-dev-alarms")["TopicArn"]
    if subscribe:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-oncall@example.com")
    client("cloudwatch", server).put_metric_alarm(
        AlarmName=ALARM, Namespace="AWS/Events", MetricName="TriggeredRules", Statistic="Sum", Period=3600,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching", ActionsEnabled=True, AlarmActions=[topic])
    return topic


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
