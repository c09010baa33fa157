"""A fleet environment's synthesis: one template per stack kind, a parameter file per endpoint, derived stack
names, SageMaker's name limits at the longest allowed names, and per-endpoint IAM scoping read from the
generated policy documents."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest

from mmtool.generate.lint import LintJob, group_jobs
from mmtool.generate.synth import dump_json, synthesize
from mmtool.config.loader import load_params, params_from_data
from tests.conftest import REPO, dev_params


@pytest.fixture(scope="module")
def staging():
    return synthesize(load_params(REPO / "params" / "staging.yaml", REPO), REPO)


def resolve(node, values: dict[str, str], fleet: bool):
    """Evaluate the intrinsic functions of a name or ARN with a stack's parameter values (Fleet: EndpointKey set)."""
    if isinstance(node, str):
        return node
    if "Fn::If" in node:
        condition, yes, no = node["Fn::If"]
        if re.fullmatch(r"Has[A-Za-z]+Revision", condition):  # the build always gives the revision
            return resolve(yes if values[condition[3:]] else no, values, fleet)
        assert condition == "Fleet", condition
        return resolve(yes if fleet else no, values, fleet)
    if "Ref" in node:
        return values[node["Ref"]]
    if "Fn::Sub" in node:
        text, local = (node["Fn::Sub"], {}) if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"]
        scope = {**values, **{k: resolve(v, values, fleet) for k, v in local.items()},
                 "AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "444455556666",
                 "Bucket.Arn": "arn:aws:s3:::bucket", "BucketName": "bucket"}
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(scope[m.group(1)]), text)
    if "Fn::GetAtt" in node:
        return f"<{'.'.join(node['Fn::GetAtt'])}>"
    raise AssertionError(f"cannot resolve {node}")


def stack(synthesis, name: str):
    return next(s for s in synthesis.stacks if s.name == name)


def test_one_template_per_stack_kind_and_a_parameter_file_per_endpoint(staging):
    manifest = synthesis_manifest(staging)
    rows = {s["name"]: (s["stack_name"], s["template"], s["parameters"], s["endpoint"], s["depends_on"])
            for s in manifest["stacks"]}
    assert rows == {
        "foundation": ("churn-staging-foundation", "foundation.template.json", "foundation.parameters.json", None, []),
        "network": ("churn-staging-network", "network.template.json", "network.parameters.json", None, ["foundation"]),
        "churn-endpoint": ("churn-staging-churn-endpoint", "endpoint.template.json", "churn-endpoint.parameters.json",
                           "churn", ["foundation", "network"]),
        "churn-monitoring": ("churn-staging-churn-monitoring", "monitoring.template.json",
                             "churn-monitoring.parameters.json", "churn", ["foundation", "network", "churn-endpoint"]),
        "upsell-endpoint": ("churn-staging-upsell-endpoint", "endpoint.template.json",
                            "upsell-endpoint.parameters.json", "upsell", ["foundation", "network"]),
        "upsell-monitoring": ("churn-staging-upsell-monitoring", "monitoring.template.json",
                              "upsell-monitoring.parameters.json", "upsell",
                              ["foundation", "network", "upsell-endpoint"]),
        # an existing endpoint: no endpoint stack; its monitoring names it
        "fraud-monitoring": ("churn-staging-fraud-monitoring", "monitoring.template.json",
                             "fraud-monitoring.parameters.json", "fraud", ["foundation", "network"]),
        "alarms": ("churn-staging-alarms", "alarms.template.json", "alarms.parameters.json", None, ["foundation"]),
    }
    assert stack(staging, "fraud-monitoring").parameters["EndpointName"] == "fraud-scoring-staging"
    assert stack(staging, "fraud-monitoring").parameters["ModelName"] == ""
    files = staging.files()
    assert sorted(f for f in files if f.endswith(".template.json")) == [
        "alarms.template.json", "endpoint.template.json", "foundation.template.json", "monitoring.template.json",
        "network.template.json"]
    # the same template as the single-endpoint environments: one artifact for every environment
    dev = synthesize(load_params(REPO / "params" / "dev.yaml", REPO), REPO).files()
    for name in ("endpoint.template.json", "monitoring.template.json", "alarms.template.json"):
        assert files[name] == dev[name], name


def synthesis_manifest(synthesis) -> dict:
    return json.loads(dump_json(synthesis.manifest()))


def test_lint_runs_once_per_stack_kind_whatever_the_number_of_endpoints(staging):
    """cfn-lint checks one template with many parameter files in one pass: its cost follows the stack kinds."""
    files = staging.files()
    jobs = [LintJob(s.template_file, files[s.template_file], s.parameters_file, files[s.parameters_file], "eu-west-1")
            for s in staging.stacks]
    groups = group_jobs(jobs)
    assert len(jobs) == 8 and len(groups) == 5
    assert sorted(j.parameters_path for j in next(g for g in groups if g[0].template_path == "monitoring.template.json")) \
        == ["churn-monitoring.parameters.json", "fraud-monitoring.parameters.json", "upsell-monitoring.parameters.json"]


def test_the_single_endpoint_form_builds_the_same_stack_names_as_before_the_fleet():
    """Nothing deployed is renamed: dev and prod keep their stack names and manifest names."""
    for env in ("dev", "prod"):
        synthesis = synthesize(load_params(REPO / "params" / f"{env}.yaml", REPO), REPO)
        assert [(s.name, s.stack_name, s.parameters_file) for s in synthesis.stacks] == [
            (kind, f"churn-{env}-{kind}", f"{kind}.parameters.json")
            for kind in ("foundation", "network", "endpoint", "monitoring", "alarms")]
        monitoring = stack(synthesis, "monitoring").parameters
        assert (monitoring["EndpointKey"], monitoring["EndpointName"], monitoring["ReportsPrefix"],
                monitoring["CapturePrefix"]) == ("", f"churn-{env}", "reports", "datacapture")
        assert stack(synthesis, "foundation").parameters["SharedMonitoringRole"] == "true"


def longest_fleet():
    """The longest names the params model allows: a 20-character project and key, a 10-character environment."""
    data = dev_params()
    endpoint, monitoring = data.pop("endpoint"), data.pop("monitoring")
    data.update(project="p" * 19 + "x", environment="e" * 10)
    key = "k" * 20
    monitoring["model_quality"] = {"enabled": True, "inference_attribute": "0", "max_runtime_seconds": 1800}
    monitoring["model_bias"] = {"enabled": True, "facets": [{"name": "age"}], "max_runtime_seconds": 1800}
    monitoring["model_explainability"] = {"enabled": True, "shap": {"baseline": [[1]]}}
    monitoring["clarify"] = {"features": ["age"]}
    data["endpoints"] = {key: {"create": endpoint, "monitoring": monitoring}}
    params = params_from_data(data, "params/eeeeeeeeee.yaml", {}, "e" * 10, REPO)
    return params, synthesize(params, REPO), key


def test_sagemaker_name_limits_hold_for_the_longest_allowed_names():
    """SageMaker names are at most 63 characters, IAM role and EventBridge rule names 64 (CloudFormation's resource schemas and botocore's sagemaker model)."""
    params, synthesis, key = longest_fleet()
    limits = {"AWS::SageMaker::Endpoint": ("EndpointName", 63), "AWS::SageMaker::Model": ("ModelName", 63),
              "AWS::SageMaker::MonitoringSchedule": ("MonitoringScheduleName", 63),
              "AWS::SageMaker::DataQualityJobDefinition": ("JobDefinitionName", 63),
              "AWS::SageMaker::ModelQualityJobDefinition": ("JobDefinitionName", 63),
              "AWS::SageMaker::ModelBiasJobDefinition": ("JobDefinitionName", 63),
              "AWS::SageMaker::ModelExplainabilityJobDefinition": ("JobDefinitionName", 63),
              "AWS::IAM::Role": ("RoleName", 64), "AWS::Events::Rule": ("Name", 64)}
    checked = set()
    for out in synthesis.stacks:
        for logical_id, resource in out.template["Resources"].items():
            if resource["Type"] not in limits:
                continue
            prop, limit = limits[resource["Type"]]
            fleet = out.endpoint is not None
            if fleet is False and resource.get("Condition") == "Fleet":
                continue
            value = resolve(resource["Properties"][prop], out.parameters, fleet)
            assert len(value) <= limit, (out.name, logical_id, value, len(value))
            checked.add(resource["Type"])
    assert checked == set(limits)
    endpoint = params.fleet()[0]
    assert len(endpoint.endpoint_name(params)) == 52
    explain = json.loads(synthesis.assets[f"assets/{key}/model-explainability/analysis_config.json"])
    assert len(explain["predictor"]["endpoint_name_prefix"]) <= 63


def role_statements(synthesis, name: str) -> dict[str, dict]:
    out = stack(synthesis, name)
    role = out.template["Resources"]["ExecutionRole"]
    assert role["Condition"] == "Fleet"
    [policy] = role["Properties"]["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}, out.parameters


def test_an_endpoints_role_cannot_read_another_endpoints_capture(staging):
    """Read from the generated policy documents: churn's role reads churn's capture, ground truth and baselines
    and writes churn's reports; none of its object patterns matches a key of fraud's prefixes."""
    churn, churn_values = role_statements(staging, "churn-monitoring")
    fraud_values = stack(staging, "fraud-monitoring").parameters
    reads = [resolve(r, churn_values, True) for r in churn["ReadCaptureBaselinesAndAssets"]["Resource"]]
    writes = [resolve(r, churn_values, True) for r in churn["WriteReportsAndBaselines"]["Resource"]]
    assert "arn:aws:s3:::bucket/datacapture/churn/*" in reads and "arn:aws:s3:::bucket/ground-truth/churn/*" in reads
    assert writes == ["arn:aws:s3:::bucket/reports/churn/*", "arn:aws:s3:::bucket/baselines/churn/*"]
    fraud_keys = [f"arn:aws:s3:::bucket/{fraud_values[p]}/fraud-scoring-staging/AllTraffic/2026/12/01/10/x.jsonl"
                  for p in ("CapturePrefix", "GroundTruthPrefix", "BaselinesPrefix", "ReportsPrefix")]
    for pattern in reads + writes:
        for key in fraud_keys:
            assert not fnmatch.fnmatchcase(key, pattern), (pattern, key)
    listed = [resolve(p, churn_values, True) for p in churn["ListOwnPrefixes"]["Condition"]["StringLike"]["s3:prefix"]]
    assert not any(fnmatch.fnmatchcase("datacapture/fraud/x", p) for p in listed)
    # and the environment has no shared role that could
    assert stack(staging, "foundation").parameters["SharedMonitoringRole"] == "false"


def test_a_fleet_endpoints_jobs_run_under_its_own_role_and_write_its_own_reports(staging):
    out = stack(staging, "fraud-monitoring")
    job = out.template["Resources"]["DataQualityJobDefinition"]["Properties"]
    assert resolve(job["RoleArn"], out.parameters, True) == "<ExecutionRole.Arn>"
    output = job["DataQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"]
    assert resolve(output, out.parameters, True) == "s3://bucket/reports/fraud/data-quality"
    schedule = out.template["Resources"]["DataQualitySchedule"]["Properties"]["MonitoringScheduleName"]
    assert resolve(schedule, out.parameters, True) == "churn-staging-fraud-dq"
    # its rules watch exactly its four schedules
    rule = out.template["Resources"]["ExecutionFailedRule"]
    arns = [resolve(a, out.parameters, True) for a in rule["Properties"]["EventPattern"]["detail"]["MonitoringScheduleArn"]]
    assert [a.rsplit("/", 1)[1] for a in arns] == [f"churn-staging-fraud-{c}" for c in ("dq", "mq", "mb", "me")]
    assert out.parameters["AlarmsEnabled"] == "true"


def test_each_fleet_endpoint_has_its_own_dashboard_in_its_monitoring_stack(staging):
    """Issue 23 part 5: no row per endpoint in the alarms template; the dashboard comes and goes with the endpoint."""
    values = stack(staging, "alarms").parameters
    assert not [k for k in values if k.startswith("Fleet")] and "EndpointName" not in values
    out = stack(staging, "fraud-monitoring")
    dashboard = out.template["Resources"]["EndpointDashboard"]
    assert dashboard["Condition"] == "Fleet"
    assert resolve(dashboard["Properties"]["DashboardName"], out.parameters, True) == "churn-staging-fraud-model-monitor"
    body = json.loads(resolve(dashboard["Properties"]["DashboardBody"], out.parameters, True))
    text = json.dumps(body)
    for code in ("dq", "mq", "mb", "me"):
        assert f"churn-staging-fraud-{code}" in text  # its own schedules, by name
    assert "churn-staging-fraud-failed" in text and "fraud-scoring-staging" in text  # its rules, its endpoint


FRAUD_MODEL = "fraud-xgb-2026-11-28"


def explained_fraud(model_name: str = FRAUD_MODEL):
    """params/staging.yaml with model explainability on for fraud, the endpoint another tool deployed."""
    import yaml

    data = yaml.safe_load((REPO / "params" / "staging.yaml").read_text())
    fraud = data["endpoints"]["fraud"]
    fraud["existing"]["model_name"] = model_name
    fraud["monitoring"].update(clarify={"features": ["amount", "merchant_risk", "hour"]},
                               model_explainability={"enabled": True, "shap": {"baseline": [[42.0, 0.1, 12]]}})
    params = params_from_data(data, "params/staging.yaml", {}, "staging", REPO)
    return synthesize(params, REPO)


def test_an_existing_endpoints_explainability_names_its_model_and_scopes_the_role_to_it():
    """The analysis configuration's predictor and the role's DescribeModel name existing.model_name, exactly as a
    created endpoint's name its own model; the shadow endpoints are fraud's own, and no endpoint stack is made."""
    synthesis = explained_fraud()
    out = stack(synthesis, "fraud-monitoring")
    values = out.parameters
    explain = json.loads(synthesis.assets["assets/fraud/model-explainability/analysis_config.json"])
    assert explain["predictor"]["model_name"] == values["ModelName"] == FRAUD_MODEL
    assert explain["predictor"]["endpoint_name_prefix"] == "churn-staging-fraud-clarify"
    assert values["ModelExplainabilityEnabled"] == "true"
    assert values["ModelExplainabilityConfigKey"] == synthesis.asset_keys[
        "assets/fraud/model-explainability/analysis_config.json"]
    assert out.depends_on == ("foundation", "network")
    assert "fraud-endpoint" not in {s.name for s in synthesis.stacks}

    policy = out.template["Resources"]["ClarifyShadowEndpointPolicy"]
    describe, lifecycle = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [resolve(r, values, True) for r in describe["Resource"]] == [
        f"arn:aws:sagemaker:eu-west-1:444455556666:model/{FRAUD_MODEL}"]
    assert [resolve(r, values, True) for r in lifecycle["Resource"]] == [
        "arn:aws:sagemaker:eu-west-1:444455556666:endpoint-config/churn-staging-fraud-clarify*",
        "arn:aws:sagemaker:eu-west-1:444455556666:endpoint/churn-staging-fraud-clarify*"]
    # on fraud's own role <project>-<env>-fraud-monitoring, under the monitor's condition
    assert (policy["Condition"], policy["Properties"]["Roles"][0]["Fn::If"][:2]) == (
        "ModelExplainability", ["Fleet", {"Ref": "ExecutionRole"}])
    role = out.template["Resources"]["ExecutionRole"]["Properties"]["RoleName"]
    assert resolve(role, values, True) == "churn-staging-fraud-monitoring"
    assert out.notes == (f"model explainability: Clarify's shadow endpoints are made from model {FRAUD_MODEL} "
                         "(endpoints.fraud.existing.model_name), which another tool deployed; the plan checks that "
                         "endpoint fraud-scoring-staging serves it and that it runs without network isolation",)
    # the other endpoints are as they were: churn's explainability still names churn's own model
    churn = json.loads(synthesis.assets["assets/churn/model-explainability/analysis_config.json"])
    assert churn["predictor"]["model_name"].startswith("churn-staging-model-")


def test_another_model_name_gives_the_explainability_job_a_new_revision():
    """Job definitions are replaced, never updated: a new model name changes the analysis configuration's
    content-hashed key and so the job definition's revision (its name); the other monitors keep theirs."""
    first, second = (stack(explained_fraud(m), "fraud-monitoring").parameters
                     for m in (FRAUD_MODEL, "fraud-xgb-2026-12-05"))
    assert first["ModelExplainabilityConfigKey"] != second["ModelExplainabilityConfigKey"]
    assert first["ModelExplainabilityRevision"] != second["ModelExplainabilityRevision"]
    for stem in ("DataQuality", "ModelQuality", "ModelBias"):
        assert first[f"{stem}Revision"] == second[f"{stem}Revision"], stem
