"""A region with the SageMaker scikit-learn image and no Model Monitor image (docs/engine.md, "Regions"): an
environment whose endpoints all run the processing engine builds there lint clean. Its monitoring template still has
the Model Monitor resources, each under a Condition the params make false there, which cfn-lint's E3006 reports
without evaluating (mmtool/generate/lint.py waives exactly those)."""

from __future__ import annotations

import json

import pytest

from mmtool.config.params import image_accounts
from mmtool.generate import lint
from mmtool.generate.pipeline import build
from tests.conftest import dev_params, scratch_root, write_params

PROCESSING_ONLY = sorted(set(image_accounts("sklearn")) - set(image_accounts()))
WITH_MODEL_MONITOR = sorted(image_accounts())[0]


def e3006(resource_type: str, region: str) -> dict:
    """cfn-lint's finding, as its E3006 words it."""
    return {"file": "monitoring.template.json", "line": 1, "rule": "E3006",
            "message": f"Resource type '{resource_type}' does not exist in '{region}'"}


def test_only_model_monitor_types_in_regions_without_model_monitor_are_waived():
    region = PROCESSING_ONLY[0]
    waived = lint._absent_model_monitor_type
    for resource_type in ("AWS::SageMaker::MonitoringSchedule", "AWS::SageMaker::DataQualityJobDefinition",
                          "AWS::SageMaker::ModelExplainabilityJobDefinition"):
        assert waived(e3006(resource_type, region))
        assert not waived(e3006(resource_type, WITH_MODEL_MONITOR))  # a real problem there
    assert not waived(e3006("AWS::SageMaker::Endpoint", region))  # the processing engine's own needs stay checked
    assert not waived(e3006("AWS::Scheduler::Schedule", region))
    assert not waived({**e3006("AWS::SageMaker::MonitoringSchedule", region), "rule": "E3001"})


@pytest.mark.slow
def test_a_processing_engine_environment_builds_lint_clean_where_model_monitor_is_not_published(tmp_path):
    region = PROCESSING_ONLY[0]
    data = dev_params()
    data["region"] = region
    for index, subnet in enumerate(data["network"]["create"]["private_subnets"]):
        subnet["availability_zone"] = region + "ab"[index]
    data["endpoint"]["model_image"] = data["endpoint"]["model_image"].replace("eu-west-1", region)
    data["monitoring"]["engine"] = "processing"
    paths = scratch_root(tmp_path)
    write_params(paths, data)
    build(paths, ["dev"], out=lambda *_: None)  # raises LintError on any finding
    assert (paths.build / "dev" / "manifest.json").exists()
    assert region in (paths.build / "dev" / "monitoring.template.json").read_text()  # its scikit-learn image row
    # the Service Catalog product's launches run the processing engine by default, and its description says why
    engine = json.loads((paths.build / "dev" / "endpoint-monitoring.template.json").read_text())["Parameters"]["Engine"]
    assert engine["Default"] == "processing" and f"{region} has no Model Monitor image" in engine["Description"]
