"""Baselines in another bucket are used from copies in the project bucket (mmtool/config/baselines.py, mmtool/operate/baseline_copies.py; issue 16 #2).

Against the moto server: the deployed environment (bucket, key, SSM) and a second bucket standing for
`churn-baselines-*`, as staging and prod have it. The copy must exist at the key the build put in the
monitoring stack's parameters, encrypted with the project key (the only key the monitoring role may use);
the plan's check must name the source it cannot read and say what to grant.
"""

from __future__ import annotations

import pytest

from mmtool.config.baselines import copy_key
from mmtool.operate import baseline_copies
from mmtool.operate.baseline_copies import CopyError
from mmtool.config.workspace import validate
from templates import monitoring

from .conftest import BUCKET, REGION, client, deploy_foundation_and_network, scratch

OUTSIDE = "churn-baselines-444455556666"
DQ = {"constraints": f"s3://{OUTSIDE}/data-quality/2026-11-20/constraints.json",
      "statistics": f"s3://{OUTSIDE}/data-quality/2026-11-20/statistics.json"}
MQ = f"s3://{OUTSIDE}/model-quality/2026-11-20/constraints.json"  # staging's


def params(tmp_path, **changes):
    paths = scratch(tmp_path, **{"monitoring.data_quality.baseline": DQ, **changes})
    return validate(paths, ["dev"])["dev"]


def put_outside(server, *uris: str) -> None:
    s3 = client("s3", server)
    s3.create_bucket(Bucket=OUTSIDE, CreateBucketConfiguration={"LocationConstraint": REGION})
    for uri in uris:
        s3.put_object(Bucket=OUTSIDE, Key=uri.split("/", 3)[3], Body=f'{{"source": "{uri}"}}'.encode())


def test_deploy_copies_each_baseline_to_the_key_the_template_reads_encrypted_with_the_project_key(aws, tmp_path):
    key_arn = deploy_foundation_and_network(aws)
    put_outside(aws, DQ["constraints"], DQ["statistics"])
    p = params(tmp_path)
    lines: list[str] = []
    baseline_copies.copy_after_deploy(p, lines.append)

    values = monitoring.parameter_values(p, p.fleet()[0], {})
    s3 = client("s3", aws)
    for uri, parameter in ((DQ["constraints"], "DataQualityBaselineConstraintsKey"),
                           (DQ["statistics"], "DataQualityBaselineStatisticsKey")):
        # The job definition reads s3://${BucketName}/<this parameter>: the copy must be exactly there.
        assert values[parameter] == copy_key(uri)
        copy = s3.get_object(Bucket=BUCKET, Key=values[parameter])
        assert copy["Body"].read() == f'{{"source": "{uri}"}}'.encode()
        # Under the project key: the monitoring role can decrypt it, whatever key the source bucket uses.
        assert copy["ServerSideEncryption"] == "aws:kms"
        assert copy["SSEKMSKeyId"] == key_arn
    assert len(lines) == 2 and all("→ s3://" + BUCKET in line for line in lines)


def test_copy_keys_are_under_baselines_which_the_role_already_reads():
    # foundation's role reads and lists baselines/*; nothing else is granted for baselines any more.
    key = copy_key(MQ)
    assert key.startswith("baselines/imported/") and key.endswith("/constraints.json")
    assert copy_key(MQ) != copy_key(DQ["constraints"])  # same file name, other source: other key


def test_a_fleet_copies_every_endpoints_baselines_under_that_endpoints_own_prefix():
    """staging is a fleet: churn's and fraud's baselines are copied to baselines/<key>/imported/..., which only that
    endpoint's role reads (its BaselinesPrefix), and each copy is where that endpoint's monitoring stack reads it."""
    from mmtool.config.loader import load_params
    from tests.conftest import REPO

    staging = load_params(REPO / "params" / "staging.yaml", REPO)
    copies = baseline_copies.baseline_copies(staging)
    assert [c.field for c in copies] == [
        "endpoints.churn.monitoring.data_quality.baseline.constraints",
        "endpoints.churn.monitoring.data_quality.baseline.statistics",
        "endpoints.churn.monitoring.model_quality.baseline_constraints",
        "endpoints.fraud.monitoring.data_quality.baseline.constraints",
        "endpoints.fraud.monitoring.data_quality.baseline.statistics",
    ]
    read = set()
    for endpoint in staging.fleet():
        values = monitoring.parameter_values(staging, endpoint, {})
        keys = {v for k, v in values.items() if k.endswith(("BaselineConstraintsKey", "BaselineStatisticsKey")) and v}
        assert all(key.startswith(values["BaselinesPrefix"] + "/imported/") for key in keys), endpoint.key
        read |= keys
    assert read == {c.key for c in copies}
    assert copy_key(MQ, "baselines/churn") != copy_key(MQ)  # one source, two endpoints: two copies
    # `make deploy ENV=staging ENDPOINT=fraud` copies (and plan checks) fraud's only
    assert [c.field for c in baseline_copies._copies(staging, "fraud")] == [c.field for c in copies[3:]]


def test_a_source_that_cannot_be_copied_stops_with_what_to_grant(aws, tmp_path):
    deploy_foundation_and_network(aws)
    put_outside(aws, DQ["constraints"])  # statistics missing
    with pytest.raises(CopyError) as caught:
        baseline_copies.copy_after_deploy(params(tmp_path), lambda line: None)
    message = str(caught.value)
    assert "monitoring.data_quality.baseline.statistics=" + DQ["statistics"] in message
    assert "kms:Decrypt" in message and "make deploy" in message


def test_plan_warns_for_exactly_the_sources_it_cannot_read(aws, tmp_path):
    deploy_foundation_and_network(aws)
    put_outside(aws, DQ["constraints"])  # the statistics are missing
    lines: list[str] = []
    baseline_copies.warn_unreadable(params(tmp_path), lines.append)
    assert len(lines) == 1
    assert lines[0].startswith("! monitoring.data_quality.baseline.statistics=" + DQ["statistics"])
    assert "NoSuchKey" in lines[0] and "Next:" in lines[0]


def test_no_baselines_no_aws_calls(tmp_path, monkeypatch):
    p = params(tmp_path, **{"monitoring.data_quality.baseline": None})
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any call would fail
    baseline_copies.warn_unreadable(p, lambda line: pytest.fail(line))
    baseline_copies.copy_after_deploy(p, lambda line: pytest.fail(line))


def test_a_fleets_copies_need_no_shared_monitoring_role():
    """A fleet's foundation publishes no monitoring-role-arn (each endpoint's stack has its own role): reading
    the deployed bucket and key for the copies must not ask for it."""
    from types import SimpleNamespace

    from mmtool.config.loader import load_params
    from mmtool.operate.awsenv import deployed_values
    from tests.conftest import REPO

    staging = load_params(REPO / "params" / "staging.yaml", REPO)
    asked: list[str] = []

    def get_parameters(Names):  # noqa: N803 - boto3's spelling
        asked.extend(Names)
        return {"Parameters": [{"Name": n, "Value": "subnet-1,subnet-2" if "subnet" in n else f"<{n}>"} for n in Names]}

    values = deployed_values(SimpleNamespace(ssm=SimpleNamespace(get_parameters=get_parameters)), staging)
    assert "/churn/staging/foundation/monitoring-role-arn" not in asked and values.monitoring_role_arn == ""
    assert values.bucket == "</churn/staging/foundation/bucket-name>"
