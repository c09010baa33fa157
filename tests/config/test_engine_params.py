"""monitoring.engine: model-monitor (the default), processing or both; what the processing engine cannot run is
refused at validation with the field and the reason (docs/engine.md)."""

from __future__ import annotations

import pytest

from tests.config.test_fleet_params import fleet_data, load, problems
from tests.conftest import dev_params


def test_the_engine_defaults_to_model_monitor_so_nothing_deployed_changes(tmp_path):
    [endpoint] = load(tmp_path, dev_params()).fleet()
    assert endpoint.monitoring.engine == "model-monitor"
    assert endpoint.monitoring.runs_model_monitor and not endpoint.monitoring.runs_processing


def test_a_fleet_endpoint_inherits_the_engine_from_defaults_and_may_set_its_own(tmp_path):
    data = fleet_data()
    data["defaults"]["monitoring"]["engine"] = "processing"
    data["endpoints"]["fraud"]["monitoring"]["engine"] = "both"
    engines = {e.key: e.monitoring.engine for e in load(tmp_path, data).fleet()}
    assert engines == {"churn": "processing", "fraud": "both"}


def test_the_single_endpoint_form_sets_it_under_monitoring(tmp_path):
    data = dev_params()
    data["monitoring"]["engine"] = "both"
    [endpoint] = load(tmp_path, data).fleet()
    assert endpoint.monitoring.runs_model_monitor and endpoint.monitoring.runs_processing


@pytest.mark.parametrize("engine", ["processing", "both"])
@pytest.mark.parametrize("monitor, settings", [
    ("model_bias", {"enabled": True, "facets": [{"name": "age"}]}),
    ("model_explainability", {"enabled": True, "shap": {"baseline": [[1]]}}),
])
def test_clarify_monitors_are_refused_with_the_processing_engine_and_the_reason(tmp_path, engine, monitor, settings):
    data = dev_params()
    data["monitoring"].update(engine=engine, clarify={"features": ["age"]}, **{monitor: settings})
    found = problems(tmp_path, data)
    assert any(f"monitoring.{monitor}.enabled=True: engine {engine}: " in m and "SageMaker Clarify" in m
               and "2026-07-30" in m for m in found), found


def test_a_clarify_monitor_refused_in_a_fleet_names_the_endpoint(tmp_path):
    data = fleet_data()
    data["endpoints"]["fraud"]["monitoring"].update(
        engine="processing", clarify={"features": ["age"]}, model_bias={"enabled": True, "facets": [{"name": "age"}]})
    found = problems(tmp_path, data)
    assert any("endpoints.fraud.monitoring.model_bias.enabled=True: engine processing" in m for m in found), found


@pytest.mark.parametrize("data_quality, field, says", [
    ({"schedule": "now", "analysis_window": {"start": "-PT2H", "end": "-PT0H"}}, "data_quality.schedule=now",
     "make run-now"),
    ({"input": {"source": "batch_transform", "dataset_format": "csv"}}, "data_quality.input.source=batch_transform",
     "Data Capture only"),
    ({"post_analytics_processor": "scripts/post_analytics.py"},
     "data_quality.post_analytics_processor=scripts/post_analytics.py", "no post-analytics processor"),
])
def test_what_the_processing_engine_cannot_run_is_refused(tmp_path, data_quality, field, says):
    data = dev_params()
    data["monitoring"]["engine"] = "processing"
    data["monitoring"]["data_quality"].update(data_quality)
    found = problems(tmp_path, data)
    assert any(f"monitoring.{field}: engine processing: " in m and says in m for m in found), found


def test_an_unknown_engine_is_refused(tmp_path):
    data = dev_params()
    data["monitoring"]["engine"] = "sagemaker"
    found = problems(tmp_path, data)
    assert any("monitoring.engine=sagemaker" in m for m in found), found


def test_a_model_quality_attribute_that_would_break_the_jobs_json_request_is_refused(tmp_path):
    data = dev_params()
    data["monitoring"].update(engine="processing", model_quality={
        "enabled": True, "inference_attribute": '$["label"]', "time_offsets": {"start": "-P1D", "end": "-PT0H"}})
    found = problems(tmp_path, data)
    assert any("monitoring.model_quality.inference_attribute=$[\"label\"]: engine processing:" in m
               and "single quotes" in m for m in found), found
    data["monitoring"]["model_quality"]["inference_attribute"] = "$['label']"
    assert load(tmp_path, data).fleet()[0].monitoring.model_quality.inference_attribute == "$['label']"
