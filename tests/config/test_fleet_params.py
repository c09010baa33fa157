"""The fleet form of params/<env>.yaml: endpoints:, defaults: and its one merge rule, the single-endpoint form
as a fleet of one, and errors that name the endpoint and the line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mmtool.config.loader import load_params
from mmtool.config.params import FleetEndpoint, merge
from mmtool.errors import ParamsError, ToolError
from tests.conftest import REPO, dev_params


def fleet_data() -> dict:
    """dev's environment sections with a fleet of two: one created, one existing."""
    data = dev_params()
    endpoint, monitoring = data.pop("endpoint"), data.pop("monitoring")
    data["defaults"] = {"data_capture": {"sampling_percentage": 30}, "monitoring": monitoring}
    data["endpoints"] = {
        "churn": {"create": {**endpoint, "data_capture": {"modes": ["Input", "Output"]}}},
        "fraud": {"existing": {"endpoint_name": "fraud-scoring-dev"},
                  "monitoring": {"data_quality": {"schedule": "daily", "instance_count": 2}}},
    }
    return data


def load(tmp_path: Path, data: dict | str, env: str = "dev"):
    path = tmp_path / "params" / f"{env}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return load_params(path, REPO)


def problems(tmp_path: Path, data: dict | str) -> list[str]:
    with pytest.raises(ParamsError) as caught:
        load(tmp_path, data)
    return [p.render() for p in caught.value.problems]


def test_the_merge_rule_mappings_merge_the_endpoint_wins_lists_and_scalars_are_replaced():
    defaults = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    assert merge(defaults, {"a": {"c": [3]}, "e": 2}) == {"a": {"b": 1, "c": [3]}, "d": 1, "e": 2}
    assert merge(defaults, {"a": None}) == {"a": None, "d": 1}  # a scalar (null) replaces a mapping whole


def test_defaults_reach_every_endpoint_unless_it_sets_its_own(tmp_path):
    params = load(tmp_path, fleet_data())
    churn, fraud = params.fleet()
    assert (churn.key, churn.legacy, fraud.key) == ("churn", False, "fraud")
    assert churn.create.data_capture.sampling_percentage == 30  # from defaults
    assert churn.create.data_capture.modes == ["Input", "Output"]  # the endpoint's own
    assert fraud.existing.data_capture.sampling_percentage == 30  # what adopt will turn on
    # fraud's data_quality mapping merged into the defaults' one: its own schedule, the defaults' instance type
    assert (fraud.monitoring.data_quality.schedule, fraud.monitoring.data_quality.instance_count) == ("daily", 2)
    assert fraud.monitoring.data_quality.instance_type == churn.monitoring.data_quality.instance_type == "ml.m5.large"


def test_fleet_endpoints_have_their_own_names_and_prefixes(tmp_path):
    params = load(tmp_path, fleet_data())
    churn, fraud = params.fleet()
    assert churn.endpoint_name(params) == "churn-dev-churn"
    assert fraud.endpoint_name(params) == "fraud-scoring-dev"  # existing: its own name
    assert (churn.capture_prefix(params), churn.reports_prefix(params), churn.ground_truth_prefix(params)) == (
        "datacapture/churn", "reports/churn", "ground-truth/churn")
    assert params.endpoint("fraud") is not None and params.endpoint("fraud").key == "fraud"
    with pytest.raises(ToolError, match="no endpoint 'nope' \\(endpoints: churn, fraud\\)"):
        params.endpoint("nope")


def test_the_single_endpoint_form_is_a_fleet_of_one_with_todays_names(tmp_path):
    params = load(tmp_path, dev_params())
    [only] = params.fleet()
    assert only == FleetEndpoint("default", True, params.legacy_endpoint, None, params.monitoring, ())
    assert (only.endpoint_name(params), only.capture_prefix(params), only.reports_prefix(params),
            only.ground_truth_prefix(params)) == ("churn-dev", "datacapture", "reports", "ground-truth")
    assert (only.stack_name(params, "monitoring"), only.manifest_name("monitoring")) == ("churn-dev-monitoring",
                                                                                         "monitoring")
    assert params.endpoint("default") == only


def test_an_error_in_an_endpoint_names_the_endpoint_and_its_line(tmp_path):
    text = yaml.safe_dump(fleet_data(), sort_keys=False).replace("schedule: daily\n", "schedule: weekly\n")
    [message] = problems(tmp_path, text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "schedule: weekly" in l)
    assert f"dev.yaml:{line}: endpoints.fraud.monitoring.data_quality.schedule=weekly: " in message


def test_an_error_in_a_default_points_at_the_defaults_line(tmp_path):
    data = fleet_data()
    data["defaults"]["monitoring"]["data_quality"]["max_runtime_seconds"] = 7200  # longer than hourly
    text = yaml.safe_dump(data, sort_keys=False)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "max_runtime_seconds: 7200" in l)
    found = problems(tmp_path, text)
    assert any(f"dev.yaml:{line}: endpoints.churn.monitoring.data_quality.max_runtime_seconds=7200" in m
               and "(inherited from defaults.monitoring.data_quality.max_runtime_seconds)" in m for m in found), found


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["endpoints"]["fraud"].update(create=d["endpoints"]["churn"]["create"]),
     ": set exactly one of create (we deploy the endpoint) or existing (someone else did); both are set"),
    (lambda d: d["endpoints"].update({"Fraud_2": d["endpoints"].pop("fraud")}),
     "endpoints.Fraud_2=Fraud_2: an endpoint's short name is 1-20 lowercase letters"),
    (lambda d: d["defaults"]["monitoring"]["data_quality"].update(shedule="hourly"),
     "defaults.monitoring.data_quality.shedule=shedule: unknown key"),
    (lambda d: d.update(monitoring={}), "monitoring: is the single-endpoint form; with endpoints: write it per endpoint"),
    (lambda d: d["endpoints"]["churn"].update(existing={"endpoint_name": "fraud-scoring-dev"}) or
     d["endpoints"]["churn"].pop("create"),
     "endpoints.fraud.existing.endpoint_name=fraud-scoring-dev: endpoints.churn monitors this endpoint already"),
    (lambda d: d["endpoints"]["fraud"]["existing"].update(model_name="fraud_xgb"),
     "endpoints.fraud.existing.model_name=fraud_xgb: String should match pattern"),
    (lambda d: d.setdefault("alarms", {}).update(enabled=True, email=["a@example.com"], drift=[{"feature": "x", "threshold": 0.1}]),
     "alarms.drift=1: in a fleet, drift alarms watch one endpoint's features: move them to endpoints.<key>.drift_alarms"),
    (lambda d: d.update(endpoints={}), "endpoints={}: no endpoints"),
    (lambda d: d["endpoints"]["churn"].update(drift_alarms=[{"feature": "x", "threshold": 0.1}] * 2),
     "endpoints.churn.drift_alarms=['x']: one alarm per feature; duplicated: x"),
    (lambda d: d["endpoints"]["churn"].update(drift_alarms=[{"feature": f"f{i}", "threshold": 0.1} for i in range(11)]),
     "endpoints.churn.drift_alarms=11: at most 10 drift alarms per endpoint"),
    (lambda d: d["endpoints"].update({"sc-fraud": d["endpoints"].pop("fraud")}),
     "endpoints.sc-fraud=sc-fraud: keys starting with 'sc-' are reserved for monitors launched from Service Catalog"),
])
def test_fleet_rules(tmp_path, mutate, expected):
    data = fleet_data()
    mutate(data)
    found = problems(tmp_path, data)
    assert any(expected in m for m in found), found


def explained_fraud(data: dict) -> dict:
    """fleet_data() with model explainability on for the existing endpoint fraud (features and a SHAP baseline)."""
    data["endpoints"]["fraud"]["monitoring"].update(
        clarify={"features": ["tenure", "charges"]},
        model_explainability={"enabled": True, "shap": {"baseline": [[24, 65.5]]}})
    return data


def test_explainability_of_an_existing_endpoint_needs_its_model_name_and_says_how_to_find_it(tmp_path):
    text = yaml.safe_dump(explained_fraud(fleet_data()), sort_keys=False)
    [message] = problems(tmp_path, text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "fraud-scoring-dev" in l) - 1  # existing:
    assert (f"dev.yaml:{line}: endpoints.fraud.existing.model_name=None: required with "
            "monitoring.model_explainability.enabled") in message
    assert ("aws sagemaker describe-endpoint-config --endpoint-config-name \"$(aws sagemaker describe-endpoint "
            "--endpoint-name fraud-scoring-dev --query EndpointConfigName --output text)\" --query "
            "'ProductionVariants[0].ModelName'") in message


def test_explainability_of_an_existing_endpoint_with_its_model_name_is_accepted(tmp_path):
    data = explained_fraud(fleet_data())
    data["endpoints"]["fraud"]["existing"]["model_name"] = "fraud-xgb-2026-11-02"
    fraud = load(tmp_path, data).endpoint("fraud")
    assert fraud.monitoring.model_explainability.enabled
    assert fraud.existing.model_name == "fraud-xgb-2026-11-02"
    data["endpoints"]["fraud"]["monitoring"]["model_explainability"]["enabled"] = False
    data["endpoints"]["fraud"]["existing"].pop("model_name")
    assert load(tmp_path, data).endpoint("fraud").existing.model_name is None  # optional without the monitor


def test_neither_form_says_what_to_write(tmp_path):
    data = dev_params()
    del data["endpoint"], data["monitoring"]
    [message] = problems(tmp_path, data)
    assert "endpoints: (the fleet of monitored endpoints) or endpoint: with monitoring: (a single endpoint)" in message


def test_staging_is_a_fleet_of_created_and_existing_endpoints():
    params = load_params(REPO / "params" / "staging.yaml", REPO)
    kinds = {e.key: ("create" if e.create else "existing") for e in params.fleet()}
    assert kinds == {"churn": "create", "upsell": "create", "fraud": "existing"}


def test_a_fleet_whose_model_artifacts_overflow_one_parameter_value_is_refused(tmp_path):
    """The network stack lists every created endpoint's model artifact in one parameter value (the S3 gateway
    endpoint's read list); CloudFormation takes 4,096 bytes per value: refused here, not at deploy time."""
    data = fleet_data()
    churn = data["endpoints"]["churn"]
    key = "models/" + "x" * 90
    data["endpoints"] = {f"m{i:02d}": {**churn, "create": {**churn["create"],
                                                        "model_data_url": f"s3://churn-models/{key}/{i}/model.tar.gz"}}
                         for i in range(1, 40)}
    found = problems(tmp_path, data)
    assert any("endpoints=39: the 39 created endpoints' model artifacts (create.model_data_url) make" in m
               and "more than the 4096 CloudFormation takes in one parameter value" in m for m in found), found
    data["endpoints"] = dict(list(data["endpoints"].items())[:25])  # 25 of them fit
    assert len(load(tmp_path, data).fleet()) == 25
