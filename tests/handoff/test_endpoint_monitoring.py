"""The Service Catalog endpoint-monitoring product: monitoring for an existing endpoint, launched by its owner.

What a launch becomes is checked by resolving the nested stack's Parameters as CloudFormation would (the
product's Defaults and a launch's choices) and checking them against the monitoring template's own parameter
constraints, so a choice the product offers can never be one the nested template refuses."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from mmtool.build import parameter_sets
from mmtool.handoff import catalog
from templates import endpoint_monitoring as product


def template(built, env: str) -> dict:
    return json.loads((built.build / env / "endpoint-monitoring.template.json").read_text())


def resolve(node, values: dict, mappings: dict):
    """Ref, Fn::Sub (no pseudo parameters) and Fn::FindInMap with a launch's parameter values."""
    if isinstance(node, str):
        return node
    (function, argument), = node.items()
    if function == "Ref":
        return values[argument]
    if function == "Fn::Sub":
        return re.sub(r"\$\{([A-Za-z0-9]+)\}", lambda m: values[m.group(1)], argument)
    if function == "Fn::FindInMap":
        name, top, second = (resolve(a, values, mappings) for a in argument)
        return mappings[name][top][second]
    raise AssertionError(f"cannot resolve {node}")


def launch(wrapper: dict, choices: dict[str, str]) -> dict[str, str]:
    """The nested stack's parameter values for a launch with these choices (the rest at their Defaults)."""
    values = {name: spec.get("Default") for name, spec in wrapper["Parameters"].items()}
    values.update(choices)
    assert all(value is not None for value in values.values()), values  # every required choice was made
    nested = wrapper["Resources"]["Monitoring"]["Properties"]["Parameters"]
    return {name: resolve(value, values, wrapper.get("Mappings", {})) for name, value in nested.items()}


@pytest.mark.parametrize("schedule", sorted(product.SCHEDULES))
def test_every_choice_the_product_offers_is_a_value_the_monitoring_template_accepts(built, schedule):
    monitoring = json.loads((built.build / "staging" / "monitoring.template.json").read_text())
    child = launch(template(built, "staging"), {"EndpointName": "fraud-scoring-staging", "MonitorName": "fraud-v2",
                                                "Schedule": schedule, "InstanceType": "ml.c5.2xlarge"})
    entries = [{"ParameterKey": k, "ParameterValue": v} for k, v in child.items()]
    assert parameter_sets.check_values(monitoring, entries) == []
    cron, period = product.SCHEDULES[schedule]
    assert (child["DataQualityScheduleExpression"], child["DataQualityAlarmPeriod"]) == (cron, str(period))
    assert (child["EndpointKey"], child["EndpointName"], child["DataQualityEnabled"]) == \
        ("sc-fraud-v2", "fraud-scoring-staging", "true")
    assert (child["CapturePrefix"], child["ReportsPrefix"], child["BaselinesPrefix"]) == \
        ("datacapture/sc-fraud-v2", "reports/sc-fraud-v2", "baselines/sc-fraud-v2")
    assert child["BucketName"] == "/churn/staging/foundation/bucket-name"  # the environment's SSM parameters
    assert child["DataQualityInstanceType"] == "ml.c5.2xlarge"
    # only data quality, and CloudFormation names the job definitions (a changed setting replaces one cleanly)
    assert all(child[f"{m}Enabled"] == "false" for m in ("ModelQuality", "ModelBias", "ModelExplainability"))
    assert all(child[name] == "" for name in child if name.endswith("Revision"))


def test_the_nested_template_is_the_monitoring_template_make_catalog_uploads(built):
    for env in built.environments():
        published = {p.stack: p for p in catalog.product_templates(built.build / env)}
        url = template(built, env)["Resources"]["Monitoring"]["Properties"]["TemplateURL"]["Fn::Sub"]
        assert url.endswith(f"/{published['monitoring'].key}")
        assert published["monitoring"].sha256 == hashlib.sha256(
            (built.build / env / "monitoring.template.json").read_bytes()).hexdigest()
        assert "endpoint-monitoring" in published


def test_the_product_serves_its_own_environment_only(built):
    for env in built.environments():
        parameters = template(built, env)["Parameters"]
        assert parameters["EnvironmentName"]["AllowedValues"] == [env]
        assert parameters["BucketName"]["Default"] == f"/churn/{env}/foundation/bucket-name"
        assert parameters["MonitorName"]["AllowedPattern"] == "^[a-z][a-z0-9-]{0,16}$"  # sc-<name>: 20 at most


def test_the_monitor_name_cannot_reach_outside_its_prefixes(built):
    """The name is part of every prefix the job role may read: it cannot contain '/' or '*'."""
    pattern = template(built, "staging")["Parameters"]["MonitorName"]["AllowedPattern"]
    for bad in ("churn/../x", "a*", "UPPER", "-x", "a" * 18):
        assert re.fullmatch(pattern, bad) is None, bad


def test_the_product_is_a_sagemaker_studio_project_template(built):
    """Studio passes SageMakerProjectName and SageMakerProjectId to a project template and refuses one that does
    not declare them; launched from Service Catalog they are empty."""
    wrapper = template(built, "staging")
    for name in ("SageMakerProjectName", "SageMakerProjectId"):
        spec = wrapper["Parameters"][name]
        assert spec["Default"] == "" and re.fullmatch(spec["AllowedPattern"], "")
    assert re.fullmatch(wrapper["Parameters"]["SageMakerProjectId"]["AllowedPattern"], "p-abcdef123456")
    assert wrapper["Outputs"]["SageMakerProject"]["Condition"] == "StudioProject"
    child = launch(wrapper, {"EndpointName": "e", "MonitorName": "m", "SageMakerProjectName": "fraud-team",
                             "SageMakerProjectId": "p-abcdef123456"})
    assert child["EndpointKey"] == "sc-m"  # the project changes nothing of what is deployed


def _holds(node, values: dict) -> bool:
    """A rule's condition or assertion (Fn::Or, Fn::Not, Fn::Equals of Refs) with a launch's values."""
    (function, argument), = node.items()
    if function == "Fn::Or":
        return any(_holds(a, values) for a in argument)
    if function == "Fn::Not":
        return not _holds(argument[0], values)
    if function == "Fn::Equals":
        left, right = (values[a["Ref"]] if isinstance(a, dict) else a for a in argument)
        return left == right
    raise AssertionError(node)


@pytest.mark.parametrize("constraints, statistics, refused", [
    ("", "", False), ("baselines/sc-m/c.json", "baselines/sc-m/s.json", False),
    ("baselines/sc-m/c.json", "", True), ("", "baselines/sc-m/s.json", True),
])
def test_a_baseline_needs_both_files_or_the_launch_is_refused(built, constraints, statistics, refused):
    """The monitoring template silently ignores a baseline of one file: CloudFormation refuses it up front."""
    rule = template(built, "staging")["Rules"]["BaselineNeedsBothFiles"]
    values = {"BaselineConstraintsKey": constraints, "BaselineStatisticsKey": statistics}
    failed = _holds(rule["RuleCondition"], values) and not all(_holds(a["Assert"], values) for a in rule["Assertions"])
    assert failed is refused
