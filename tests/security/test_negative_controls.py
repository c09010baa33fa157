"""Negative controls: a naive variant of each template fails checkov, cfn-guard and our checks, and each of
our checks trips on the one weakness it is about. Without these a gate could pass by checking nothing."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from mmtool.security import Subject, checks, scanners
from tests.conftest import REPO
from tests.security.naive import MUTATIONS, mutated, naive_variant

STACKS = ("foundation", "network", "endpoint", "monitoring", "alarms")


@pytest.fixture(scope="module")
def naive(dev, tmp_path_factory) -> dict[str, Subject]:
    """The naive variant of each stack, written to disk for the scanners."""
    folder = tmp_path_factory.mktemp("naive")
    variants = {}
    for stack in STACKS:
        subject = naive_variant(dev[stack])
        path = folder / f"{stack}.template.json"
        path.write_text(json.dumps(subject.template, indent=1))
        variants[stack] = Subject(subject.file, stack, subject.environment, subject.template, subject.parameters, path)
    return variants


def by_file(findings) -> dict[str, set[str]]:
    rules = defaultdict(set)
    for finding in findings:
        rules[finding.file].add(finding.rule)
    return rules


def test_checkov_fails_every_naive_template(tools, naive):
    result = scanners.run_checkov(REPO, {s.file: s.path for s in naive.values()})
    failed = by_file(result.findings)
    for stack, subject in naive.items():
        assert failed[subject.file] - {"coverage", "parse"}, f"checkov passed the naive {stack} template"
    # what each naive template is known to trip (a few of many), so the run is not failing for an unrelated reason
    assert {"CKV_AWS_7", "CKV_AWS_33"} <= failed["naive/foundation.template.json"]  # rotation, '*' key principal
    assert "CKV_AWS_24" in failed["naive/network.template.json"]  # SSH from 0.0.0.0/0
    assert "CKV_AWS_62" in failed["naive/endpoint.template.json"]  # "*" on "*" (checkov has no EndpointConfig KMS check for CloudFormation: ours covers it)
    assert "CKV_AWS_158" in failed["naive/monitoring.template.json"]  # log group without KMS
    assert "CKV_AWS_26" in failed["naive/alarms.template.json"]  # SNS topic without encryption


def test_cfn_guard_fails_every_naive_template(tools, naive):
    result = scanners.run_cfn_guard(REPO, {s.file: s.path for s in naive.values()},
                                    {s.file: stack for stack, s in naive.items()})
    failed = by_file(result.findings)
    for stack, subject in naive.items():
        assert failed[subject.file], f"cfn-guard passed the naive {stack} template"
    assert {"CT.S3.PR.1", "CT.S3.PR.8", "CT.S3.PR.11", "CT.KMS.PR.1"} <= failed["naive/foundation.template.json"]
    assert {"CT.EC2.PR.3", "CT.EC2.PR.11"} <= failed["naive/network.template.json"]
    assert "CT.IAM.PR.1" in failed["naive/endpoint.template.json"]
    assert "CT.CLOUDWATCH.PR.3" in failed["naive/monitoring.template.json"]
    assert {"CT.CLOUDWATCH.PR.1", "CT.CLOUDWATCH.PR.4"} <= failed["naive/alarms.template.json"]  # alarm without actions


def test_our_checks_fail_every_naive_template_and_each_check_trips(naive):
    findings = checks.run_checks(list(naive.values()))
    failed = by_file(findings)
    for stack, subject in naive.items():
        assert failed[subject.file], f"our checks passed the naive {stack} template"
    tripped = {f.rule for f in findings}
    assert tripped == {checks.rule_name(c) for c in checks.CHECKS}, "some check never trips on the naive variants"


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m.name for m in MUTATIONS])
def test_each_weakness_is_caught_by_its_check(dev, mutation):
    """One weakness at a time: the check about it reports it, with a message naming the resource."""
    original = dev[mutation.stack]
    assert not list(mutation.check(original)), "the real template already fails this check"
    problems = list(mutation.check(mutated(original, mutation)))
    assert problems, f"{checks.rule_name(mutation.check)} did not notice: {mutation.name}"
    assert all(resource and message for resource, message in problems)


def test_every_check_has_a_negative_control():
    covered = {m.check for m in MUTATIONS}
    assert set(checks.CHECKS) <= covered, [c.__name__ for c in checks.CHECKS if c not in covered]


def test_only_the_explainability_job_may_run_without_network_isolation(dev):
    """The exception is one resource type with its reason, not a switch: the same edit on any other job
    definition is refused, and the explainability job must still say it explicitly."""
    monitoring = dev["monitoring"]
    assert not list(checks.check_job_definitions_private_and_encrypted(monitoring))
    assert set(checks.ISOLATION_EXCEPTIONS) == {"AWS::SageMaker::ModelExplainabilityJobDefinition"}
    for logical in ("DataQualityJobDefinition", "ModelQualityJobDefinition", "ModelBiasJobDefinition"):
        template = json.loads(json.dumps(monitoring.template))
        template["Resources"][logical]["Properties"]["NetworkConfig"]["EnableNetworkIsolation"] = False
        problems = list(checks.check_job_definitions_private_and_encrypted(
            Subject(monitoring.file, "monitoring", "dev", template, monitoring.parameters)))
        assert [p[0] for p in problems] == [logical], logical
    template = json.loads(json.dumps(monitoring.template))
    del template["Resources"]["ModelExplainabilityJobDefinition"]["Properties"]["NetworkConfig"]["EnableNetworkIsolation"]
    problems = list(checks.check_job_definitions_private_and_encrypted(
        Subject(monitoring.file, "monitoring", "dev", template, monitoring.parameters)))
    assert problems and "must be set explicitly" in problems[0][1]


def test_the_model_drops_network_isolation_only_where_explainability_needs_it(subjects):
    """staging's churn enables model explainability: its model runs without isolation, and the check accepts that
    for this one reason; the same value with the monitor off is refused. The check reads the same endpoint's
    monitoring values: upsell's (explainability off) would refuse churn's model."""
    staging = {(s.stack, s.endpoint): s for s in subjects if s.environment == "staging"}
    endpoint = staging[("endpoint", "churn")]
    assert endpoint.parameters["ModelNetworkIsolation"] == "false"
    upsell = staging[("endpoint", "upsell")]
    assert upsell.parameters["ModelNetworkIsolation"] == "true"
    assert upsell.environment_values["monitoring"]["ModelExplainabilityEnabled"] == "false"
    assert not list(checks.check_model_network_isolated_unless_clarify_needs_it(upsell))
    crossed = Subject(endpoint.file, "endpoint", "staging", endpoint.template, endpoint.parameters, None,
                      upsell.environment_values, "churn")
    assert [p[0] for p in checks.check_model_network_isolated_unless_clarify_needs_it(crossed)] == ["Model"]
    assert endpoint.environment_values["monitoring"]["ModelExplainabilityEnabled"] == "true"
    assert not list(checks.check_model_network_isolated_unless_clarify_needs_it(endpoint))
    off = {**endpoint.environment_values, "monitoring": {**endpoint.environment_values["monitoring"],
                                                        "ModelExplainabilityEnabled": "false"}}
    problems = list(checks.check_model_network_isolated_unless_clarify_needs_it(
        Subject(endpoint.file, "endpoint", "staging", endpoint.template, endpoint.parameters, None, off)))
    assert [p[0] for p in problems] == ["Model"]
    assert "monitoring.model_explainability" in problems[0][1]


def test_environment_values_are_checked_not_just_the_template(dev):
    """The same template is safe with dev's values and unsafe with a value that opens it up."""
    network = dev["network"]
    assert not list(checks.check_s3_gateway_endpoint_scoped(network))
    for bad in ("arn:aws:s3:::churn-models-111122223333/*", "arn:aws:s3:::churn-models-111122223333",
                "arn:aws:s3:::bucket-one/model.tar.gz,arn:aws:s3:::b?cket/x"):
        subject = Subject(network.file, "network", "dev", network.template, {**network.parameters,
                                                                             "ExternalReadObjectArns": bad})
        assert list(checks.check_s3_gateway_endpoint_scoped(subject)), bad
