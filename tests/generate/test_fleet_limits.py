"""A 200-endpoint environment (40 created, 160 existing), generated here from params/staging.yaml, validates, passes
the AWS limits check (mmtool/config/limits.py) with its raised EventBridge quota declared, and builds lint-clean;
each limit the check enforces refuses with the field, the count, the limit and how to raise it."""

from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest
import yaml

from mmtool.generate import limits_check
from mmtool.generate.synth import synthesize
from mmtool.config import limits
from mmtool.config.loader import params_from_data
from mmtool.errors import ToolError
from tests.conftest import REPO
from tests.fleet_data import CREATED_EVERY, ENDPOINTS, fleet_data

def load(data: dict):
    return params_from_data(data, "params/staging.yaml", None, "staging", REPO)


@pytest.fixture(scope="module")
def fleet200():
    return synthesize(load(fleet_data(quotas={"event_bus_rules": 400})), REPO)


def test_two_hundred_endpoints_validate_and_make_their_stacks(fleet200):
    names = [s.name for s in fleet200.stacks]
    assert len([n for n in names if n.endswith("-monitoring")]) == ENDPOINTS
    assert len([n for n in names if n.endswith("-endpoint")]) == ENDPOINTS // CREATED_EVERY
    # counted with each stack's own values: 3 shared + 200 monitoring + 40 endpoint stacks; two rules per endpoint
    assert limits_check.counts(fleet200.stacks) == {"stacks": 243, "ssm_parameters": 85, "iam_roles": 240,
                                                    "event_bus_rules": 400}
    limits_check.check(fleet200, "params/staging.yaml")  # within every limit with the declared quota


def test_the_default_event_bus_quota_is_refused_with_the_increase_command(fleet200):
    fleet200_default = SimpleNamespace(stacks=fleet200.stacks, params=load(fleet_data()))
    with pytest.raises(ToolError) as refused:
        limits_check.check(fleet200_default, "params/staging.yaml")
    message = str(refused.value)
    assert message.count("\n") == 0, message  # one problem, one line
    assert message.startswith("params/staging.yaml: endpoints (200 endpoints): the environment makes 400 "
                              "AWS::Events::Rule resources, more than the 300 EventBridge rules"), message
    assert "eb-quota.html" in message and "--service-code events" in message and "--desired-value 400" in message
    assert "quotas: {event_bus_rules: 400}" in message


@pytest.mark.parametrize("quota, count, words", [
    ({"stacks": 200, "event_bus_rules": 400}, 243, "243 stacks, more than the 200 CloudFormation stacks"),
    ({"iam_roles": 100, "event_bus_rules": 400}, 240, "240 AWS::IAM::Role resources, more than the 100 IAM roles"),
])
def test_stacks_and_roles_over_the_quota_are_refused(fleet200, quota, count, words):
    environment = SimpleNamespace(stacks=fleet200.stacks, params=load(fleet_data(quotas=quota)))
    with pytest.raises(ToolError) as refused:
        limits_check.check(environment, "params/staging.yaml")
    assert words in str(refused.value) and f"--desired-value {count}" in str(refused.value)


def test_ssm_parameters_over_the_standard_tier_are_refused_as_a_fixed_limit(fleet200, monkeypatch):
    """10,000 standard parameters is not adjustable: the message says so instead of a quota command. The limit is
    lowered here (85 parameters would need a 25,000-endpoint fleet)."""
    monkeypatch.setitem(limits.BY_KEY, "ssm_parameters",
                        limits.Limit("ssm_parameters", "SSM standard parameters", 50, "account and region", "src"))
    with pytest.raises(ToolError, match="85 AWS::SSM::Parameter resources, more than the 50 .* a fixed limit"):
        limits_check.check(fleet200, "params/staging.yaml")


def test_a_template_over_cloudformations_counts_is_refused():
    template = {"Parameters": {f"P{i}": {"Type": "String"} for i in range(201)},
                "Resources": {f"R{i}": {"Type": "AWS::SNS::Topic"} for i in range(501)},
                "Outputs": {f"O{i}": {"Value": "x"} for i in range(200)}}
    stack = SimpleNamespace(template_file="big.template.json", template=template)
    problems = list(limits_check.template_problems([stack]))
    assert problems == [
        "big.template.json: 201 — Parameters in one template: at most 200 (" + limits.CFN + "); the template module "
        "must move resources into another stack",
        "big.template.json: 501 — Resources in one template: at most 500 (" + limits.CFN + "); the template module "
        "must move resources into another stack",
    ]


def test_a_condition_that_is_off_is_not_counted(fleet200):
    """dev's single-endpoint alarms stack has its rules under a condition; a fleet's alarms stack has them off."""
    alarms = next(s for s in fleet200.stacks if s.name == "alarms")
    rules = [r for r in alarms.template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert rules, "the alarms template declares rules"
    assert limits_check.counts([alarms])["event_bus_rules"] == 0


def test_quotas_are_validated():
    with pytest.raises(Exception, match="quotas.event_bus_rules"):
        load(fleet_data(endpoints=2, quotas={"event_bus_rules": 0}))
    with pytest.raises(Exception, match="quotas.rules"):
        load(fleet_data(endpoints=2, quotas={"rules": 400}))


@pytest.mark.slow
def test_two_hundred_endpoints_build_lint_clean(tmp_path):
    """The real `lint` command (the build, then cfn-lint) over the generated environment in a scratch root."""
    from mmtool.cli import main
    from mmtool.config.workspace import Paths

    (tmp_path / "params").mkdir()
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    (tmp_path / "params" / "staging.yaml").write_text(
        yaml.safe_dump(fleet_data(quotas={"event_bus_rules": 400}), sort_keys=False))
    assert main(["lint"], paths=Paths(tmp_path)) == 0
    manifest = json.loads((tmp_path / "build" / "staging" / "manifest.json").read_text())
    assert len(manifest["stacks"]) == 243
