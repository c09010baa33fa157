"""The plan's processing-instance quota warning (mmtool.operate.quotas; docs/engine.md, Operating). moto 5.2.5 has no
ListServiceQuotas (moto/servicequotas answers only ListAWSDefaultServiceQuotas and GetServiceQuota, and the quota
code of a SageMaker instance type is not known in advance), so the Service Quotas answers come from botocore's
Stubber, whose responses and expected requests botocore validates against the API's model."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from mmtool.config.loader import load_params
from mmtool.operate.quotas import processing_needs, warn_low_quotas

from .conftest import REGION, scratch


def params(tmp_path, engine, **changes):
    paths = scratch(tmp_path / "repo", **{"monitoring.engine": engine, **changes})
    return load_params(paths.params / "dev.yaml", paths.root)


def quota(name, value, code):
    return {"ServiceCode": "sagemaker", "ServiceName": "Amazon SageMaker", "QuotaCode": code, "QuotaName": name,
            "Value": value, "Unit": "None", "Adjustable": True, "GlobalQuota": False}


def client_with(pages):
    client = boto3.client("service-quotas", region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stub = Stubber(client)
    token = None
    for index, page in enumerate(pages):
        expected = {"ServiceCode": "sagemaker", **({"NextToken": token} if token else {})}
        token = f"page-{index + 1}" if index + 1 < len(pages) else None
        stub.add_response("list_service_quotas", {"Quotas": page, **({"NextToken": token} if token else {})},
                          expected)
    return client, stub


def test_needs_count_each_monitor_and_double_under_both(tmp_path):
    dev = params(tmp_path, "processing")
    need = {dev.fleet()[0].monitoring.data_quality.instance_type: dev.fleet()[0].monitoring.data_quality.instance_count}
    assert processing_needs(dev) == need
    both = params(tmp_path / "b", "both")
    assert processing_needs(both) == {k: 2 * v for k, v in need.items()}
    assert processing_needs(params(tmp_path / "m", "model-monitor")) == {}


@pytest.mark.parametrize("value, warned", [(0.0, True), (1.0, True), (2.0, False)])
def test_a_quota_below_the_need_is_warned_with_the_request_command(tmp_path, value, warned):
    both = params(tmp_path, "both")  # two jobs at once
    instance = both.fleet()[0].monitoring.data_quality.instance_type
    client, stub = client_with([[quota("ml.t3.medium for processing job usage", 5.0, "L-AAAA0001")],
                                [quota(f"{instance} for processing job usage", value, "L-1A2B3C4D")]])
    lines = []
    with stub:
        warn_low_quotas(both, None, lambda: client, lines.append)
    stub.assert_no_pending_responses()
    if warned:
        [line] = lines
        assert line.startswith(f"warning: the account's quota '{instance} for processing job usage' in {REGION} is "
                               f"{value:g}, below the 2 instance(s)")
        assert ("aws service-quotas request-service-quota-increase --service-code sagemaker --quota-code L-1A2B3C4D "
                f"--desired-value 2 --region {REGION}") in line
    else:
        assert lines == []


def test_no_processing_engine_reads_nothing_and_a_failed_read_is_a_note(tmp_path):
    def refuse():
        raise AssertionError("no Service Quotas call for a model-monitor environment")

    lines = []
    warn_low_quotas(params(tmp_path, "model-monitor"), None, refuse, lines.append)
    assert lines == []
    client = boto3.client("service-quotas", region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    stub = Stubber(client)
    stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized to perform "
                          "servicequotas:ListServiceQuotas", expected_params={"ServiceCode": "sagemaker"})
    with stub:
        warn_low_quotas(params(tmp_path / "p", "processing"), None, lambda: client, lines.append)
    assert lines == ["note: could not read the processing-instance quotas (servicequotas:ListServiceQuotas, service "
                     "code sagemaker): AccessDeniedException: not authorized to perform servicequotas:ListServiceQuotas"]


def test_a_bug_in_the_quota_check_is_not_turned_into_a_note(tmp_path):
    # only a failed AWS call is a note (mmtool.operate.awsenv.aws_errors); a wrong object in its place is a bug
    # and must show, not vanish into "could not read the quotas"
    lines = []
    with pytest.raises(AttributeError):
        warn_low_quotas(params(tmp_path, "processing"), None, lambda: object(), lines.append)
    assert lines == []
