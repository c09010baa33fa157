"""The processing engine deployed on the moto server (docs/engine.md): dev moved to `engine: processing` deploys,
its schedule exists in the environment's group with the target the template describes, and the request that
schedule sends, with its context attributes filled in as EventBridge Scheduler fills them, creates a processing job
in moto's SageMaker. moto's CloudFormation lacks the AWS::Scheduler types, alarms and subscriptions: deployer/moto_server.py adds them."""

from __future__ import annotations

import json
import re
import uuid

import boto3
import pytest

from deployer.moto_server import MOTO_ACCOUNT
from tests.cfn_values import Resolver
from tests.conftest import dev_params, scratch_root, write_params

from .conftest import run
from .envs import REGION

pytestmark = pytest.mark.slow


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's ArnLike: each of the six colon-separated parts matched on its own, `*` and `?` wildcards
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN)."""
    parts, given = pattern.split(":", 5), arn.split(":", 5)
    return len(parts) == len(given) == 6 and all(
        re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p), g, re.DOTALL)
        for p, g in zip(parts, given))


@pytest.fixture(scope="module")
def processing_manifest(tmp_path_factory):
    from mmtool.generate.pipeline import build

    paths = scratch_root(tmp_path_factory.mktemp("processing-build"))
    data = dev_params()
    data["monitoring"]["engine"] = "processing"
    data["alarms"] = {"enabled": True, "email": ["ml-platform@example.com"], "notify_on_violations": True}
    write_params(paths, data)
    build(paths, ["dev"], run_lint=False, out=lambda *_: None)
    return paths.build / "dev" / "manifest.json"


def test_a_processing_engine_environment_deploys_and_its_schedule_starts_a_job(processing_manifest, clients, cf, aws):
    manifest = json.loads(processing_manifest.read_text())
    deployed = run("deploy", processing_manifest, clients, skip_account_check=True)
    assert deployed.code == 0, deployed.text
    assert {cf.describe_stacks(StackName=s["stack_name"])["Stacks"][0]["StackStatus"]
            for s in manifest["stacks"]} == {"CREATE_COMPLETE"}

    scheduler = boto3.client("scheduler", region_name=REGION, endpoint_url=aws.url)
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url=aws.url)
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default", "churn-dev"]
    schedule = scheduler.get_schedule(Name="churn-dev-data-quality-processing", GroupName="churn-dev")
    assert schedule["ScheduleExpression"] == "cron(0 * ? * * *)" and schedule["ScheduleExpressionTimezone"] == "UTC"
    target = schedule["Target"]
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
    assert target["RoleArn"].endswith(":role/churn-dev-scheduler")
    assert target["DeadLetterConfig"]["Arn"].endswith(":churn-dev-schedule-dlq")

    execution = str(uuid.uuid4())
    request = json.loads(target["Input"].replace("<aws.scheduler.execution-id>", execution)
                         .replace("<aws.scheduler.scheduled-time>", "2026-12-06T10:00:00Z"))
    sagemaker.create_processing_job(**request)
    job = sagemaker.describe_processing_job(ProcessingJobName=request["ProcessingJobName"])
    assert job["ProcessingJobName"].endswith(execution) and job["RoleArn"].endswith(":role/churn-dev-processing")

    resources = {r.get("LogicalResourceId") for r in cf.describe_stack_resources(
        StackName="churn-dev-monitoring")["StackResources"]}
    assert {"DataQualityProcessingSchedule", "SchedulerRole", "ProcessingJobRole"} <= resources

    # Notifications (the single-endpoint form): every rule that targets the topic, as deployed, is admitted by the
    # topic policy, the processing engine's failed and violations rules among them. The policy is read from the built
    # template, resolved with the values this deploy used (tests/cfn_values.py).
    events = boto3.client("events", region_name=REGION, endpoint_url=aws.url)
    sns = boto3.client("sns", region_name=REGION, endpoint_url=aws.url)
    [topic] = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":churn-dev-alarms")]
    notifying = {rule["Name"]: rule["Arn"] for rule in events.list_rules(NamePrefix="churn-dev-")["Rules"]
                 if [t["Arn"] for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]] == [topic]}
    assert sorted(notifying) == ["churn-dev-job-failed", "churn-dev-job-viol", "churn-dev-monitor-failed",
                                 "churn-dev-monitor-violations"]
    build = processing_manifest.parent
    template = json.loads((build / "alarms.template.json").read_text())
    values = {p["ParameterKey"]: p["ParameterValue"] for p in json.loads((build / "alarms.parameters.json").read_text())}
    resolver = Resolver(template, values, REGION, MOTO_ACCOUNT)
    statements = template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [publish] = [s for s in statements if s.get("Sid") == "ExecutionRulesPublish"]
    admitted = resolver.resolve(publish["Condition"])["ArnLike"]["aws:SourceArn"]
    assert all(arn.startswith(f"arn:aws:events:{REGION}:{MOTO_ACCOUNT}:rule/") for arn in notifying.values())
    assert all(any(arn_like(pattern, arn) for pattern in admitted) for arn in notifying.values()), admitted
    other = notifying["churn-dev-job-failed"].replace("churn-dev-job-failed", "churn-dev-other")
    assert not any(arn_like(pattern, other) for pattern in admitted)  # a rule the environment does not own

    # `make verify-notifications` on what CloudFormation created (deployer/moto_server.py adds moto's missing
    # AWS::CloudWatch::Alarm and AWS::SNS::Subscription): the forced alarm, its subscription and both rules with
    # their delivery alarms pass (mmtool/operate/verify_notifications.py); a disabled rule fails.
    from mmtool.config.loader import load_params
    from mmtool.operate import verify_notifications as vn
    from mmtool.operate.processing_facts import engine_schedules

    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws.url)
    root = processing_manifest.parents[2]
    params = load_params(root / "params" / "dev.yaml", root)
    prefixes = [w.job_prefix for w in engine_schedules(params, params.fleet()[0])]
    lines: list[str] = []
    topics = vn.verify(cloudwatch, sns, "churn-dev-job-failed", environment="dev", wait=0, out=lines.append,
                       sleep=lambda _: None)
    assert topics == [topic] and "  email  ml-platform@example.com" in lines
    lines.clear()
    vn.check_processing_rules(events, cloudwatch, "churn-dev", prefixes, topics, notify_on_violations=True,
                              environment="dev", deploy="make deploy", out=lines.append)
    assert [line.split(" (ENABLED)")[0] for line in lines] == [
        f"failed or stopped processing jobs {prefixes[0]}… are matched by the EventBridge rule churn-dev-job-failed",
        f"processing jobs that complete with violations {prefixes[0]}… are matched by the EventBridge rule "
        "churn-dev-job-viol"]
    assert all("-delivery says when a message cannot be delivered" in line for line in lines)
    events.disable_rule(Name="churn-dev-job-viol")
    with pytest.raises(vn.NotificationsFailed, match="churn-dev-job-viol: it is DISABLED"):
        vn.check_processing_rules(events, cloudwatch, "churn-dev", prefixes, topics, notify_on_violations=True,
                                  environment="dev", deploy="make deploy", out=lines.append)

    # Model Monitor's rules of the alarms stack (templates/notifications.py), as the verb reads them for engine
    # model-monitor or both: ENABLED, on the endpoint's schedule ARNs, with their delivery alarms; a rule sent
    # to another topic fails.
    lines.clear()
    arns = vn.model_monitor_schedule_arns(params, params.fleet()[0], MOTO_ACCOUNT)
    assert arns == [f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:monitoring-schedule/churn-dev-data-quality"]
    vn.check_model_monitor_rules(events, cloudwatch, "churn-dev", True, arns, topics, notify_on_violations=True,
                                 environment="dev", deploy="make deploy", out=lines.append)
    assert [line.split(" (ENABLED)")[0] for line in lines] == [
        "failed or stopped monitoring executions of churn-dev-data-quality are matched by the EventBridge rule "
        "churn-dev-monitor-failed",
        "monitoring executions that complete with violations of churn-dev-data-quality are matched by the EventBridge "
        "rule churn-dev-monitor-violations"]
    assert "the alarm churn-dev-notification-delivery says when a message cannot be delivered" in lines[0]
    assert "the alarm churn-dev-violations-delivery says when a message cannot be delivered" in lines[1]
    elsewhere = sns.create_topic(Name="elsewhere")["TopicArn"]
    events.put_targets(Rule="churn-dev-monitor-failed", Targets=[{"Id": "AlarmTopic", "Arn": elsewhere}])
    with pytest.raises(vn.NotificationsFailed, match=f"churn-dev-monitor-failed: it sends to {elsewhere}, not to"):
        vn.check_model_monitor_rules(events, cloudwatch, "churn-dev", True, arns, topics, notify_on_violations=True,
                                     environment="dev", deploy="make deploy", out=lines.append)
    events.put_targets(Rule="churn-dev-monitor-failed", Targets=[{"Id": "AlarmTopic", "Arn": topic}])
    sns.delete_topic(TopicArn=elsewhere)

    destroyed = run("destroy", processing_manifest, clients, skip_account_check=True)
    assert destroyed.code == 0, destroyed.text
    assert [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]] == ["default"]
    assert cloudwatch.describe_alarms()["MetricAlarms"] == [] and sns.list_subscriptions()["Subscriptions"] == []


def test_a_fleet_endpoint_on_both_engines_passes_verify_notifications_model_monitor_rules(tmp_path, clients, aws):
    """staging's upsell runs both engines (params/staging.yaml): its monitoring stack, deployed by CloudFormation,
    has Model Monitor's rules `<project>-<env>-<key>-failed` / `-violations` on its schedule ARNs, which the verb's
    check passes; disabled, it fails."""
    import yaml

    from mmtool.config.loader import load_params
    from mmtool.generate.pipeline import build
    from mmtool.operate import verify_notifications as vn

    paths = scratch_root(tmp_path)
    data = yaml.safe_load((paths.params / "staging.yaml").read_text())
    data["account_id"] = MOTO_ACCOUNT
    data["alarms"]["sqs"] = []  # another account's queue: moto's SNS cannot subscribe it
    data["endpoints"] = {"upsell": data["endpoints"]["upsell"]}  # the others import baselines from another account
    write_params(paths, data, "staging")
    build(paths, ["staging"], run_lint=False, out=lambda *_: None)
    manifest = paths.build / "staging" / "manifest.json"
    deployed = run("deploy", manifest, clients, skip_account_check=True)
    assert deployed.code == 0, deployed.text

    params = load_params(paths.params / "staging.yaml", paths.root)
    [upsell] = [e for e in params.fleet() if e.key == "upsell"]
    assert upsell.monitoring.engine == "both"
    events = boto3.client("events", region_name=REGION, endpoint_url=aws.url)
    sns = boto3.client("sns", region_name=REGION, endpoint_url=aws.url)
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=aws.url)
    topics = vn.verify(cloudwatch, sns, "churn-staging-upsell-monitor-failed", environment="staging", wait=0,
                       out=lambda _: None, sleep=lambda _: None)
    arns = vn.model_monitor_schedule_arns(params, upsell, MOTO_ACCOUNT)
    assert f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:monitoring-schedule/churn-staging-upsell-dq" in arns
    lines: list[str] = []
    vn.check_model_monitor_rules(events, cloudwatch, "churn-staging-upsell", False, arns, topics,
                                 notify_on_violations=True, environment="staging", deploy="make deploy",
                                 out=lines.append)
    assert [line.split(" are matched by ")[1].split(" (ENABLED)")[0] for line in lines] == [
        "the EventBridge rule churn-staging-upsell-failed", "the EventBridge rule churn-staging-upsell-violations"]
    assert "watched by the alarm churn-staging-upsell-monitor-failed" in lines[0]
    events.disable_rule(Name="churn-staging-upsell-failed")
    with pytest.raises(vn.NotificationsFailed, match="churn-staging-upsell-failed: it is DISABLED"):
        vn.check_model_monitor_rules(events, cloudwatch, "churn-staging-upsell", False, arns, topics,
                                     notify_on_violations=True, environment="staging", deploy="make deploy")
