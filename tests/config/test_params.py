"""Every validation rule of params/<env>.yaml: one readable error naming file, field, value and fix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import pytest

from mmtool.cli import main
from mmtool.errors import ParamsError
from mmtool.config.loader import load_params
from mmtool.config.params import BaseModel, Params, image_accounts
from tests.conftest import dev_params, write_params

Mutation = Callable[[dict], None]


def dq(data: dict) -> dict:
    return data["monitoring"]["data_quality"]


def setter(*path: object, value: object) -> Mutation:
    def mutate(data: dict) -> None:
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[path[-1]] = value

    return mutate


def deleter(*path: str) -> Mutation:
    def mutate(data: dict) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


MQ = {"enabled": True, "probability_attribute": "0", "probability_threshold": 0.5}
BIAS = {"enabled": True, "label": "churned", "facets": [{"name": "age", "value_or_threshold": [65]}]}
ALARMS = {"enabled": True, "email": ["ml@example.com"]}


def _move_region(data: dict, region: str) -> None:
    """The whole file in another region (zones, image), so only the Clarify rule is broken."""
    for index, subnet in enumerate(data["network"]["create"]["private_subnets"]):
        subnet["availability_zone"] = region + "ab"[index]
    data["endpoint"]["model_image"] = data["endpoint"]["model_image"].replace("eu-west-1", region)


# A region the scikit-learn table has and the Model Monitor table lacks (from the tables, not typed here).
PROCESSING_ONLY = sorted(set(image_accounts("sklearn")) - set(image_accounts()))[0]


def _clarify_features(data: dict) -> None:
    data["monitoring"]["clarify"] = {"features": ["tenure", "charges", "age"]}


# (id, mutation, field named in the error, fragment of the message)
CASES = [
    # SageMaker's schedule rules (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)
    ("doc-label", setter("monitoring", "data_quality", "schedule", value="Hourly: cron(0 * ? * * *)"),
     "monitoring.data_quality.schedule", "write only cron(0 * ? * * *)"),
    ("weekly-cron", setter("monitoring", "data_quality", "schedule", value="cron(0 0 ? * MON *)"),
     "monitoring.data_quality.schedule", "weekly schedules are not supported"),
    ("monthly-cron", setter("monitoring", "data_quality", "schedule", value="cron(0 0 1 * ? *)"),
     "monitoring.data_quality.schedule", "monthly schedules are not supported"),
    ("weekly-word", setter("monitoring", "data_quality", "schedule", value="weekly"),
     "monitoring.data_quality.schedule", "weekly schedules are not supported"),
    ("minute-not-zero", setter("monitoring", "data_quality", "schedule", value="cron(30 * ? * * *)"),
     "monitoring.data_quality.schedule", "minute field must be 0"),
    ("rate", setter("monitoring", "data_quality", "schedule", value="rate(1 hour)"),
     "monitoring.data_quality.schedule", "rate() expressions are not accepted"),
    ("hour-out-of-range", setter("monitoring", "data_quality", "schedule", value="cron(0 25 ? * * *)"),
     "monitoring.data_quality.schedule", "hour 25 is out of range"),
    ("bad-interval", setter("monitoring", "data_quality", "schedule", value="cron(0 0/30 ? * * *)"),
     "monitoring.data_quality.schedule", "interval is 1-23 hours"),
    ("one-time-without-window", setter("monitoring", "data_quality", "schedule", value="now"),
     "monitoring.data_quality.analysis_window", "needs analysis_window"),
    ("window-order", setter("monitoring", "data_quality", "analysis_window", value={"start": "-PT1H", "end": "-PT3H"}),
     "monitoring.data_quality.analysis_window.start", "must be earlier than end"),
    ("window-too-long", setter("monitoring", "data_quality", "analysis_window", value={"start": "-P2D", "end": "-PT0H"}),
     "monitoring.data_quality.analysis_window.start", "at most 24"),
    ("window-format", setter("monitoring", "data_quality", "analysis_window", value={"start": "1 hour", "end": "-PT0H"}),
     "monitoring.data_quality.analysis_window.start", "-PT<hours>H"),
    # max runtime fits the schedule period
    ("runtime-hourly", setter("monitoring", "data_quality", "max_runtime_seconds", value=5400),
     "monitoring.data_quality.max_runtime_seconds", "longer than the schedule period (3600 s"),
    ("runtime-every-2h", lambda d: dq(d).update(schedule="cron(0 0/2 ? * * *)", max_runtime_seconds=7201),
     "monitoring.data_quality.max_runtime_seconds", "(7200 s"),
    ("runtime-api-max", lambda d: dq(d).update(schedule="daily", max_runtime_seconds=90000),
     "monitoring.data_quality.max_runtime_seconds", "less than or equal to 86400"),
    # capture
    ("sampling-over-100", setter("endpoint", "data_capture", "sampling_percentage", value=150),
     "endpoint.data_capture.sampling_percentage", "must be 1-100"),
    ("sampling-zero", setter("endpoint", "data_capture", "sampling_percentage", value=0),
     "endpoint.data_capture.sampling_percentage", "must be 1-100"),
    ("input-and-output", setter("endpoint", "data_capture", "modes", value=["InputAndOutput"]),
     "endpoint.data_capture.modes", "list the two modes: [Input, Output]"),
    ("capture-mode-typo", setter("endpoint", "data_capture", "modes", value=["Inputs"]),
     "endpoint.data_capture.modes", "not a capture mode"),
    ("content-type-charset", setter("endpoint", "data_capture", "csv_content_types", value=["text/csv; charset=utf-8"]),
     "endpoint.data_capture.csv_content_types", "without parameters"),
    ("capture-prefix-trailing-slash", setter("storage", "capture_prefix", value="datacapture/"),
     "storage.capture_prefix", "trailing '/'"),
    # S3 URIs
    ("model-url-not-s3", setter("endpoint", "model_data_url", value="https://example.com/model.tar.gz"),
     "endpoint.model_data_url", "expected an S3 object URI"),
    ("model-url-prefix", setter("endpoint", "model_data_url", value="s3://churn-models/xgboost/"),
     "endpoint.model_data_url", "remove the trailing '/'"),
    ("bucket-uppercase", setter("endpoint", "model_data_url", value="s3://Churn_Models/m.tar.gz"),
     "endpoint.model_data_url", "is not one S3 allows"),
    ("baseline-not-json", setter("monitoring", "data_quality", "baseline",
                                 value={"constraints": "s3://b-1/c.csv", "statistics": "s3://b-1/s.json"}),
     "monitoring.data_quality.baseline.constraints", ".json file"),
    # region and network
    ("region-without-image", setter("region", value="mars-north-1"), "region", "no Model Monitor analyzer image"),
    ("one-zone", setter("network", "create", "private_subnets", 1, "availability_zone", value="eu-west-1a"),
     "network.create.private_subnets", "at least two availability zones"),
    ("one-subnet", setter("network", "create", "private_subnets",
                          value=[{"cidr": "10.30.0.0/22", "availability_zone": "eu-west-1a"}]),
     "network.create.private_subnets", "at least 2 items"),
    ("zone-of-other-region", setter("network", "create", "private_subnets", 0, "availability_zone", value="us-east-1a"),
     "network.create.private_subnets[0].availability_zone", "not a zone of region eu-west-1"),
    ("subnet-outside-vpc", setter("network", "create", "private_subnets", 0, "cidr", value="10.99.0.0/22"),
     "network.create.private_subnets[0].cidr", "not inside vpc_cidr"),
    ("subnets-overlap", setter("network", "create", "private_subnets", 1, "cidr", value="10.30.2.0/24"),
     "network.create.private_subnets[1].cidr", "overlaps"),
    ("create-and-existing", setter("network", "existing",
                                   value={"vpc_id": "vpc-0123456789abcdef0", "subnets": [], "route_table_ids": []}),
     "network.existing.subnets", "at least 2 items"),
    ("neither-network", deleter("network", "create"), "network", "set exactly one of create"),
    # identity
    ("environment-mismatch", setter("environment", value="prod"), "environment", "the file is dev.yaml"),
    ("unquoted-account", setter("account_id", value=111122223333), "account_id", "quote the account id"),
    ("image-other-region", setter("endpoint", "model_image",
                                  value="111122223333.dkr.ecr.us-east-1.amazonaws.com/churn:1"),
     "endpoint.model_image", "pulls images only from the same region"),
    ("image-without-tag", setter("endpoint", "model_image", value="111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn"),
     "endpoint.model_image", "a tag or digest is required"),
    ("reserved-tag", setter("tags", "Project", value="x"), "tags.Project", "set by the tool itself"),
    ("external-id-without-role", setter("deploy", "external_id", value="abc"), "deploy.external_id",
     "only used with assume_role_arn"),
    ("missing-script", setter("monitoring", "data_quality", "record_preprocessor", value="scripts/nope.py"),
     "monitoring.data_quality.record_preprocessor", "no such file"),
    ("script-outside-scripts", setter("monitoring", "data_quality", "record_preprocessor", value="../etc/passwd.py"),
     "monitoring.data_quality.record_preprocessor", "under scripts/"),
    ("batch-without-format", setter("monitoring", "data_quality", "input", value={"source": "batch_transform"}),
     "monitoring.data_quality.input.dataset_format", "needs dataset_format"),
    ("wrong-type", setter("endpoint", "instance_count", value="two"), "endpoint.instance_count", "valid integer"),
    ("duplicate-feature-names", setter("monitoring", "data_quality", "preprocessor", value={"feature_names": ["a", "a"]}),
     "monitoring.data_quality.preprocessor.feature_names", "duplicate names"),
    # model quality (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)
    ("mq-hourly-runtime", setter("monitoring", "model_quality", value={**MQ, "schedule": "hourly",
                                                                      "max_runtime_seconds": 2400}),
     "monitoring.model_quality.max_runtime_seconds", "the ground-truth merge job takes the other half"),
    ("mq-threshold-not-binary", setter("monitoring", "model_quality", value={**MQ, "problem_type": "Regression",
                                                                            "inference_attribute": "0"}),
     "monitoring.model_quality.probability_threshold", "only binary classification has a probability threshold"),
    ("mq-threshold-without-attribute", setter("monitoring", "model_quality", value={
        "enabled": True, "probability_threshold": 0.5, "inference_attribute": "0"}),
     "monitoring.model_quality.probability_attribute", "probability_threshold needs probability_attribute"),
    ("mq-regression-without-inference", setter("monitoring", "model_quality", value={
        "enabled": True, "problem_type": "Regression", "probability_attribute": "0"}),
     "monitoring.model_quality.inference_attribute", "regression needs inference_attribute"),
    ("mq-nothing-to-read", setter("monitoring", "model_quality", value={"enabled": True}),
     "monitoring.model_quality.inference_attribute", "must find the prediction"),
    ("mq-one-off", setter("monitoring", "model_quality", value={**MQ, "schedule": "now"}),
     "monitoring.model_quality.schedule", "one-off (now) runs are supported for data quality only"),
    ("mq-threshold-range", setter("monitoring", "model_quality", value={**MQ, "probability_threshold": 1.5}),
     "monitoring.model_quality.probability_threshold", "less than 1"),
    ("mq-offsets-order", setter("monitoring", "model_quality", value={**MQ, "time_offsets": {"start": "-PT1H",
                                                                                              "end": "-P1D"}}),
     "monitoring.model_quality.time_offsets.start", "must be earlier than end"),
    ("ground-truth-in-capture", setter("storage", "ground_truth_prefix", value="datacapture/labels"),
     "storage.ground_truth_prefix", "lies inside storage.capture_prefix 'datacapture'"),
    # model bias and explainability (Clarify)
    ("bias-hourly-runtime", setter("monitoring", "model_bias", value={**BIAS, "schedule": "hourly",
                                                                     "max_runtime_seconds": 3600}),
     "monitoring.model_bias.max_runtime_seconds", "hourly model-bias runs get at most 1800 s"),
    ("bias-duplicate-facet", setter("monitoring", "model_bias", value={**BIAS, "facets": [{"name": "age"},
                                                                                        {"name": "age"}]}),
     "monitoring.model_bias.facets[1].name", "one facet per feature"),
    ("bias-without-facets", setter("monitoring", "model_bias", value={**BIAS, "facets": []}),
     "monitoring.model_bias.facets", "needs at least one facet"),
    ("bias-facet-not-a-header", setter("monitoring", "model_bias", value={**BIAS, "facets": [{"name": "gender"}]}),
     "monitoring.model_bias.facets[0].name", "not a feature header"),
    ("bias-group-variable-not-a-header", setter("monitoring", "model_bias", value={**BIAS, "group_variable": "zip"}),
     "monitoring.model_bias.group_variable", "not a feature header"),
    ("bias-label-is-a-feature", setter("monitoring", "model_bias", value={**BIAS, "label": "age"}),
     "monitoring.model_bias.label", "the label is also a feature header"),
    ("clarify-without-headers", lambda d: (d["monitoring"].update(model_bias=BIAS), d["monitoring"].pop("clarify")),
     "monitoring.clarify.features", "needs the feature headers"),
    ("explainability-without-baseline", setter("monitoring", "model_explainability", value={"enabled": True}),
     "monitoring.model_explainability.shap.baseline", "Kernel SHAP needs a baseline"),
    ("explainability-baseline-row-length", setter("monitoring", "model_explainability", value={
        "enabled": True, "shap": {"baseline": [[1, 2]]}}),
     "monitoring.model_explainability.shap.baseline[0]", "2 values but there are 3 features"),
    # AWS: the network isolation of both the Clarify job and the model must be off (issue 15)
    ("explainability-with-isolated-model", lambda d: (d["endpoint"].update(network_isolation=True),
                                                      d["monitoring"].update(model_explainability={
                                                          "enabled": True, "shap": {"baseline": [[1, 2, 3]]}})),
     "endpoint.network_isolation",
     "monitoring.model_explainability.enabled needs the model without network isolation"),
    ("clarify-region-without-image", lambda d: (d.update(region="il-central-1"), d["monitoring"].update(model_bias=BIAS),
                                                _move_region(d, "il-central-1")),
     "monitoring.model_bias.enabled", "no SageMaker Clarify image is published for il-central-1"),
    # a region with the scikit-learn image but no Model Monitor image: the processing engine only
    ("model-monitor-in-processing-only-region", lambda d: (d.update(region=PROCESSING_ONLY),
                                                           _move_region(d, PROCESSING_ONLY)),
     "monitoring.engine", f"no SageMaker Model Monitor analyzer image is published for {PROCESSING_ONLY}; set "
     "monitoring.engine: processing"),
    ("both-in-processing-only-region", lambda d: (d.update(region=PROCESSING_ONLY), _move_region(d, PROCESSING_ONLY),
                                                  d["monitoring"].update(engine="both")),
     "monitoring.engine", "published there"),
    # alarms
    ("alarms-without-target", setter("alarms", value={"enabled": True}), "alarms.enabled", "nobody is notified"),
    ("alarms-bad-email", setter("alarms", value={"enabled": True, "email": ["ops at example.com"]}),
     "alarms.email[0]", "not an e-mail address"),
    ("alarms-http-endpoint", setter("alarms", value={"enabled": True, "https": ["http://hooks.example.com/x"]}),
     "alarms.https[0]", "expected an https:// URL"),
    ("alarms-sqs-not-arn", setter("alarms", value={"enabled": True, "sqs": ["churn-events"]}),
     "alarms.sqs[0]", "expected an SQS queue ARN"),
    ("alarms-too-many-targets", setter("alarms", value={"enabled": True,
                                                        "email": [f"o{i}@example.com" for i in range(9)]}),
     "alarms.email", "at most 8"),
    ("drift-too-many", setter("alarms", value={**ALARMS, "drift": [{"feature": f"f{i}", "threshold": 0.1}
                                                                    for i in range(11)]}),
     "alarms.drift", "at most 10 drift alarms"),
    ("drift-unknown-feature", lambda d: (dq(d).update(preprocessor={"feature_names": ["tenure", "age"]}),
                                         d.update(alarms={**ALARMS, "drift": [{"feature": "income", "threshold": 0.1}]})),
     "alarms.drift[0].feature", "the pre-processor emits no such column"),
    ("drift-without-metrics", lambda d: (dq(d).update(publish_cloudwatch_metrics=False),
                                         d.update(alarms={**ALARMS, "drift": [{"feature": "f1", "threshold": 0.1}]})),
     "alarms.drift", "drift alarms watch the data-quality metrics"),
    ("drift-threshold-zero", setter("alarms", value={**ALARMS, "drift": [{"feature": "f1", "threshold": 0}]}),
     "alarms.drift[0].threshold", "greater than 0"),
]


@pytest.mark.parametrize("case_id,mutate,field,fragment", CASES, ids=[c[0] for c in CASES])
def test_rule_gives_one_error_naming_field_and_fix(scratch, case_id, mutate, field, fragment):
    data = dev_params()
    _clarify_features(data)  # Clarify headers for the bias/explainability cases; harmless for the others
    mutate(data)
    path = write_params(scratch, data)
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    problems = caught.value.problems
    assert [p.field for p in problems] == [field], caught.value
    assert fragment in problems[0].message, problems[0].message
    rendered = str(caught.value)
    assert rendered.startswith(f"{path}:") or rendered.startswith("params/dev.yaml:"), rendered


def test_valid_forms_are_normalised(scratch):
    """Accepted spellings become the exact expressions SageMaker takes (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-schedule-expression.html)."""
    expected = {
        "hourly": "cron(0 * ? * * *)",
        "daily": "cron(0 0 ? * * *)",
        "every 6 hours": "cron(0 0/6 ? * * *)",
        "cron(0 5 ? * * *)": "cron(0 5 ? * * *)",
        "cron(0 5/12 ? * * *)": "cron(0 5/12 ? * * *)",
        "cron(0 */8 ? * * *)": "cron(0 0/8 ? * * *)",
        "cron(0 * * * ? *)": "cron(0 * ? * * *)",
    }
    for written, expression in expected.items():
        data = dev_params()
        dq(data)["schedule"] = written
        params = load_params(write_params(scratch, data), scratch.root)
        assert params.monitoring.data_quality.parsed_schedule.expression == expression


def test_unknown_key_lists_allowed_keys_and_suggests(scratch):
    data = dev_params()
    data["endpoint"]["instance_cont"] = 2
    with pytest.raises(ParamsError) as caught:
        load_params(write_params(scratch, data), scratch.root)
    (problem,) = caught.value.problems
    assert problem.field == "endpoint.instance_cont"
    assert "did you mean 'instance_count'?" in problem.message
    assert "allowed keys here: data_capture, instance_count, instance_type," in problem.message


def test_every_problem_reported_at_once(scratch):
    data = dev_params()
    data["endpoint"]["data_capture"]["sampling_percentage"] = 101
    dq(data)["schedule"] = "weekly"
    with pytest.raises(ParamsError) as caught:
        load_params(write_params(scratch, data), scratch.root)
    assert sorted(p.field for p in caught.value.problems) == [
        "endpoint.data_capture.sampling_percentage",
        "monitoring.data_quality.schedule",
    ]


def test_errors_carry_the_yaml_line(scratch):
    path = scratch.params / "dev.yaml"
    text = path.read_text().replace("sampling_percentage: 100", "sampling_percentage: 500")
    path.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "sampling_percentage: 500" in l)
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    assert caught.value.problems[0].line == line
    assert f"dev.yaml:{line}: endpoint.data_capture.sampling_percentage=500: must be 1-100" in str(caught.value)


def test_yaml_syntax_error_gives_the_line(scratch):
    path = scratch.params / "dev.yaml"
    path.write_text("project: churn\nenvironment: dev\n  region: [eu-west-1\n")
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert "YAML syntax error" in problem.message


def test_duplicate_keys_are_refused(scratch):
    path = scratch.params / "dev.yaml"
    path.write_text(path.read_text() + "\nregion: us-east-1\n")
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    assert "duplicate key 'region'" in caught.value.problems[0].message


def test_cli_exit_code_2_no_traceback_nothing_written(scratch, capsys):
    data = dev_params()
    data["endpoint"]["data_capture"]["sampling_percentage"] = 150
    write_params(scratch, data)
    code = main(["build"], paths=scratch)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1 and "endpoint.data_capture.sampling_percentage=150: must be 1-100" in err
    assert not scratch.build.exists(), "a bad params file must not write anything under build/"


def test_debug_flag_shows_the_traceback(scratch):
    data = dev_params()
    data["region"] = "nowhere-1"
    write_params(scratch, data)
    with pytest.raises(ParamsError):
        main(["validate", "--env", "dev", "--debug"], paths=scratch)


def _models(model: type[BaseModel], seen: set) -> list[type[BaseModel]]:
    from mmtool.config.loader import _inner_model

    if model in seen:
        return []
    seen.add(model)
    found = [model]
    for field in model.model_fields.values():
        inner = _inner_model(field.annotation)
        if inner:
            found += _models(inner, seen)
    return found


def test_every_field_is_described_and_unknown_keys_forbidden():
    """The parameter reference (docs/parameters.md) is generated from these descriptions."""
    for model in _models(Params, set()):
        assert model.model_config.get("extra") == "forbid", model.__name__
        for name, field in model.model_fields.items():
            assert field.description and len(field.description) > 10, f"{model.__name__}.{name}"


def test_shipped_environments_are_valid():
    root = Path(__file__).resolve().parents[2]
    for env in ("dev", "staging", "prod"):
        params = load_params(root / "params" / f"{env}.yaml", root)
        assert params.environment == env


def test_params_model_is_immutable(scratch):
    params = load_params(scratch.params / "dev.yaml", scratch.root)
    with pytest.raises(Exception):
        params.region = "us-east-1"  # type: ignore[misc]
    assert copy.deepcopy(params) == params


def test_model_network_isolation_is_derived_from_explainability_when_unset(scratch):
    """Unset: on, except with the explainability monitor (Clarify's shadow endpoint is made from the model);
    an explicit false is kept everywhere; an explicit true with explainability is refused (CASES)."""
    def isolation(**endpoint) -> dict[bool, bool]:
        seen = {}
        for explained in (False, True):
            data = dev_params()
            _clarify_features(data)
            data["endpoint"].update(endpoint)
            if explained:
                data["monitoring"]["model_explainability"] = {"enabled": True, "shap": {"baseline": [[1, 2, 3]]}}
            seen[explained] = load_params(write_params(scratch, data), scratch.root).fleet()[0].model_network_isolation
        return seen

    assert isolation() == {False: True, True: False}
    assert isolation(network_isolation=False) == {False: False, True: False}


def test_a_processing_only_region_is_accepted_for_the_processing_engine(scratch):
    """Only the scikit-learn image is needed there; a fleet endpoint that keeps Model Monitor is named."""
    data = dev_params()
    data.update(region=PROCESSING_ONLY)
    _move_region(data, PROCESSING_ONLY)
    data["monitoring"]["engine"] = "processing"
    assert load_params(write_params(scratch, data), scratch.root).region == PROCESSING_ONLY
    assert PROCESSING_ONLY in image_accounts("sklearn") and PROCESSING_ONLY not in image_accounts()


def test_a_fleet_endpoint_keeping_model_monitor_in_a_processing_only_region_is_named(scratch):
    data = dev_params()
    data.update(region=PROCESSING_ONLY)
    _move_region(data, PROCESSING_ONLY)
    endpoint, monitoring = data.pop("endpoint"), data.pop("monitoring")
    data["defaults"] = {"data_capture": endpoint.pop("data_capture")}
    data["endpoints"] = {
        "alpha": {"create": endpoint, "monitoring": {**monitoring, "engine": "processing"}},
        "beta": {"create": {**endpoint, "model_data_url": endpoint["model_data_url"].replace("model", "beta")},
                 "monitoring": {**monitoring, "engine": "both"}},
    }
    with pytest.raises(ParamsError) as caught:
        load_params(write_params(scratch, data), scratch.root)
    assert [p.field for p in caught.value.problems] == ["endpoints.beta.monitoring.engine"], caught.value
    data["endpoints"]["beta"]["monitoring"]["engine"] = "processing"
    assert load_params(write_params(scratch, data), scratch.root).is_fleet


@pytest.mark.parametrize("field, mutate", [
    ("catalog.offer_processing_engine", setter("catalog", "offer_processing_engine", value=True)),
    ("monitoring.engine", setter("monitoring", "engine", value="both")),
])
def test_the_processing_engine_is_refused_where_the_scikit_learn_image_is_not_published(scratch, monkeypatch, field,
                                                                                        mutate):
    """The processing engine's jobs run the SageMaker scikit-learn image, whether an endpoint runs it or the catalog
    offers it to launches. Every region of today's Model Monitor table is also in the scikit-learn table, so the
    tables are narrowed here to one without eu-west-1, as a table refreshed from the SageMaker SDK could be."""
    from mmtool.config.params import environment

    def narrowed(kind: str = "model-monitor") -> dict[str, str]:
        table = image_accounts(kind)
        return {r: a for r, a in table.items() if r != "eu-west-1"} if kind == "sklearn" else table

    monkeypatch.setattr(environment, "image_accounts", narrowed)
    data = dev_params()
    load_params(write_params(scratch, data), scratch.root)  # Model Monitor only: accepted there
    mutate(data)
    path = write_params(scratch, data)
    line = next(i for i, l in enumerate(path.read_text().splitlines(), 1)
                if l.strip().startswith(field.rsplit(".", 1)[1] + ":"))
    with pytest.raises(ParamsError) as caught:
        load_params(path, scratch.root)
    assert [(p.field, p.line) for p in caught.value.problems] == [(field, line)], caught.value
    assert (f"dev.yaml:{line}: {field}=" in str(caught.value)
            and "no SageMaker scikit-learn image, which the processing engine's jobs run" in str(caught.value)
            and "eu-west-1" in str(caught.value))


def test_offering_the_processing_engine_is_accepted_where_the_image_is_published(scratch):
    data = dev_params()
    data.setdefault("catalog", {})["offer_processing_engine"] = True
    params = load_params(write_params(scratch, data), scratch.root)
    assert params.has_processing_engine and not any(e.monitoring.runs_processing for e in params.fleet())
