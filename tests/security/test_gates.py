"""The real output passes every gate: checkov, cfn-guard with the Control Tower rules, our own checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmtool.errors import ToolError
from mmtool.security import checks, scanners
from tests.conftest import REPO

STACKS = ("foundation", "network", "endpoint", "monitoring", "alarms")


def test_every_template_of_every_environment_passes_every_gate(report, subjects):
    # every stack's template, the catalog stack's (templates/catalog.py) and the endpoint-monitoring product's
    # (templates/endpoint_monitoring.py), in each of the 3 environments
    assert report.files == len({s.file for s in subjects}) == 3 * (len(STACKS) + 2)
    # our checks see a fleet's shared template once per endpoint, with that endpoint's values: staging's churn and
    # upsell have an endpoint stack each, and churn, upsell and fraud a monitoring stack
    staging = sorted((s.stack, s.endpoint) for s in subjects if s.environment == "staging" and s.endpoint)
    assert staging == [("endpoint", "churn"), ("endpoint", "upsell"), ("monitoring", "churn"),
                       ("monitoring", "fraud"), ("monitoring", "upsell")]
    assert not report.findings, "\n".join(f.render() for f in report.findings)
    # the scans ran for real: checkov passed checks on the templates, every exception was needed
    assert report.checkov_passed > 100
    assert report.guard_excepted == len(scanners.GUARD_EXCEPTIONS)
    assert report.checks_run == len(checks.CHECKS)


def test_checkov_skips_are_the_reviewed_ones_and_say_why(report):
    """A new skip is a decision: it shows up here (and in the template's Metadata) for review."""
    skips = {(Path(s.file).name, s.resource, s.check) for s in report.checkov_skips}
    assert skips == {(f"{stack}.template.json", resource, check)
                     for stack, resource, check in [
                         ("foundation", "AccessLogsBucket", "CKV_AWS_18"),
                         ("foundation", "MonitoringRoleVpcAccess", "CKV_AWS_109"),
                         ("foundation", "MonitoringRoleVpcAccess", "CKV_AWS_111"),
                         # a fleet endpoint's own execution role (templates/monitoring.py), same reason
                         ("monitoring", "ExecutionRoleVpcAccess", "CKV_AWS_109"),
                         ("monitoring", "ExecutionRoleVpcAccess", "CKV_AWS_111"),
                         # the processing engine's job role (templates/processing_engine.py), same reason
                         ("monitoring", "ProcessingJobRoleVpcAccess", "CKV_AWS_109"),
                         ("monitoring", "ProcessingJobRoleVpcAccess", "CKV_AWS_111"),
                         ("endpoint", "EndpointRoleVpcAccess", "CKV_AWS_109"),
                         ("endpoint", "EndpointRoleVpcAccess", "CKV_AWS_111"),
                         # the Service Catalog launch role: write/permissions-management rights scoped to the
                         # project's names, and the few actions AWS offers no resource for (templates/catalog.py)
                         ("catalog", "LaunchRoleResourcesPolicy", "CKV_AWS_109"),
                         ("catalog", "LaunchRoleResourcesPolicy", "CKV_AWS_111"),
                         ("catalog", "LaunchRoleUnscopedPolicy", "CKV_AWS_108"),
                         ("catalog", "LaunchRoleUnscopedPolicy", "CKV_AWS_109"),
                         ("catalog", "LaunchRoleUnscopedPolicy", "CKV_AWS_111"),
                     ]}
    assert all(len(s.reason) >= checks.MIN_SKIP_REASON for s in report.checkov_skips)


def test_guard_exceptions_each_have_a_reason():
    for (stack, resource, control), reason in scanners.GUARD_EXCEPTIONS.items():
        assert stack in STACKS and control.startswith("CT.") and len(reason) > 40, (stack, resource, control)


def test_guard_runs_the_rule_folders_of_our_services(tools):
    folders = [f.name for f in scanners.guard_rule_folders(scanners.guard_package(REPO))]
    assert folders[:6] == ["s3", "keymanagementservice", "identityandaccessmanagement", "ec2", "cloudwatch",
                           "sagemaker"]
    for folder in scanners.guard_rule_folders(scanners.guard_package(REPO)):
        assert list(folder.glob("ct-*.guard")), folder


def test_a_stale_guard_exception_is_a_finding(tools, dev, tmp_path):
    """An exception that matches no failure any more must be removed, not kept as a blanket waiver."""
    subject = dev["network"]
    extra = {("network", "Vpc", "CT.EC2.PR.99"): "a made-up exception"}
    result = scanners.run_cfn_guard(REPO, {subject.file: subject.path}, {subject.file: "network"}, extra)
    assert not result.findings
    stale = result.stale_exceptions()
    assert [(f.resource, f.rule) for f in stale] == [("Vpc", "CT.EC2.PR.99")]


def test_missing_tools_are_an_error_naming_the_install_command(tmp_path):
    with pytest.raises(ToolError, match=r"checkov is not installed .*`make security-tools`"):
        scanners.checkov_executable(tmp_path)
    with pytest.raises(ToolError, match=r"cdk-validator-cfnguard is not installed .*`make security-tools`"):
        scanners.guard_package(tmp_path)


def test_installed_guard_package_is_the_pinned_one(tools):
    pinned = json.loads((REPO / "tools/cfn-guard/package-lock.json").read_text())
    installed = json.loads((scanners.guard_package(REPO) / "package.json").read_text())
    assert installed["version"] == pinned["packages"]["node_modules/@cdklabs/cdk-validator-cfnguard"]["version"]


def test_wildcard_allowlist_gives_a_reason_for_every_action():
    for action, reason in checks.WILDCARD_ALLOWED.items():
        assert ":" in action and "*" not in action and len(reason) > 20, action


def test_cli_security_command_reports_and_exits(built, tools, capsys):
    from mmtool.cli import main

    assert main(["security", "--env", "dev"], paths=built) == 0
    # every stack's template, the catalog stack's (templates/catalog.py) and the endpoint-monitoring product's
    assert f"security: {len(STACKS) + 2} templates" in capsys.readouterr().out
