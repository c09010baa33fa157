"""End to end with the real build of dev (templates from templates/, params/dev.yaml) on the moto server.

moto gaps met by the real templates: it accepts AWS::SageMaker::DataQualityJobDefinition,
AWS::SageMaker::MonitoringSchedule, AWS::S3::BucketPolicy and AWS::EC2::SecurityGroupEgress without
creating anything, and its CloudFormation never deletes AWS::EC2::VPCEndpoint resources, so destroying the
real network stack fails on moto with DependencyViolation (destroy is tested on hand-written stacks in
test_destroy.py). The templates are not changed for moto.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import scratch_root

from .conftest import CallLog, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dev_manifest(tmp_path_factory):
    from mmtool.cli import build

    paths = scratch_root(tmp_path_factory.mktemp("real-build"))
    build(paths, ["dev"], run_lint=False, out=lambda *_: None)
    return paths.build / "dev" / "manifest.json"


def test_real_dev_build_deploys_and_redeploys_without_change_sets(dev_manifest, clients, cf, s3):
    manifest = json.loads(dev_manifest.read_text())
    names = [s["stack_name"] for s in manifest["stacks"]]

    first = run("deploy", dev_manifest, clients, skip_account_check=True)

    assert first.code == 0, first.text
    assert [cf.describe_stacks(StackName=n)["Stacks"][0]["StackStatus"] for n in names] == ["CREATE_COMPLETE"] * len(names)
    outputs = {o["OutputKey"]: o["OutputValue"] for n in names for o in cf.describe_stacks(StackName=n)["Stacks"][0].get("Outputs", [])}
    for asset in manifest["assets"]:
        assert s3.head_object(Bucket=outputs["BucketName"], Key=asset["key"])["ServerSideEncryption"] == "aws:kms"
    policy = json.loads(cf.get_stack_policy(StackName=names[0])["StackPolicyBody"])
    denied = [s["Resource"] for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert denied == [f"LogicalResourceId/{r}" for r in sorted(manifest["stacks"][0]["protected_resources"])]
    assert "JobSecurityGroupId" in outputs

    log = CallLog().attach(clients)
    again = run("deploy", dev_manifest, clients, skip_account_check=True)

    assert again.code == 0, again.text
    assert "No changes." in again.out
    assert log.count("CreateChangeSet") == 0 and log.count("ExecuteChangeSet") == 0 and log.count("PutObject") == 0


def test_make_demo(dev_manifest, capsys):
    """`make demo`: its own moto server, two deploys (the second: no changes), the outputs, server stopped."""
    from deployer import demo

    code = demo.main(["--manifest", str(dev_manifest)])

    out = " ".join(capsys.readouterr().out.split())  # rich wraps at the captured terminal's 80 columns
    assert code == 0, out
    assert "so the demo deploys with --skip-account-check" in out
    assert "No changes." in out
    assert "JobSecurityGroupId" in out and "BucketName" in out
    assert "the moto server is stopped" in out


def test_plan_shows_what_the_staging_build_derived(tmp_path_factory, clients):
    """The build's notes reach the plan, under their stack, before anything exists (issue 15): the model's network
    isolation derived off for Clarify's shadow endpoint, and the bias monitor's sensitive group in words."""
    from mmtool.cli import build

    paths = scratch_root(tmp_path_factory.mktemp("staging-build"))
    build(paths, ["staging"], run_lint=False, out=lambda *_: None)

    plan = run("plan", paths.build / "staging" / "manifest.json", clients, skip_account_check=True)

    assert plan.code == 0, plan.text
    text = " ".join(plan.out.split())  # rich wraps long lines
    endpoint_at, monitoring_at = text.index("churn-staging-endpoint"), text.index("churn-staging-monitoring")
    isolation = text.index("note: model network isolation: off, derived from monitoring.model_explainability.enabled")
    group = text.index("note: model bias: sensitive group age > 64 (exclusive threshold of a continuous facet)")
    assert endpoint_at < isolation < monitoring_at < group
