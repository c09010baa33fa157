"""`make baseline` and `make dry-run` with ENDPOINT=key for a fleet (params/staging.yaml), against the moto server:
the endpoint's data-quality settings, its baselines prefix and its own execution role; ENDPOINT= required for a
fleet of more than one."""

from __future__ import annotations

import hashlib

from mmtool.cli import main

from .conftest import recorded
from .fleet_env import BUCKET, deploy_foundation, scratch_staging

CREATE = "SageMaker.CreateProcessingJob"


def test_baseline_of_a_fleet_endpoint_writes_under_its_prefix_as_its_role(aws, tmp_path, capsys):
    deploy_foundation(aws)
    paths = scratch_staging(tmp_path / "repo")
    dataset = tmp_path / "upsell.csv"
    content = b"0.3,9,45\n0.6,27,21\n"
    dataset.write_bytes(content)

    code = main(["baseline", "--env", "staging", "--endpoint", "upsell", "--dataset", str(dataset), "--no-wait"], paths)
    out, err = capsys.readouterr()

    assert code == 0, err
    [request] = recorded(aws, CREATE)
    job = request["ProcessingJobName"]
    assert job.startswith("churn-staging-upsell-baseline-") and len(job) <= 63
    key = f"baselines/upsell/datasets/{hashlib.sha256(content).hexdigest()[:16]}/upsell.csv"
    assert request["ProcessingInputs"][0]["S3Input"]["S3Uri"] == f"s3://{BUCKET}/{key}"
    assert request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] == f"s3://{BUCKET}/baselines/upsell/{job}"
    assert request["RoleArn"] == "arn:aws:iam::123456789012:role/churn-staging-upsell-monitoring"
    # upsell's data-quality settings: the defaults' instance type and volume (staging's defaults.monitoring)
    assert request["ProcessingResources"]["ClusterConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert request["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"] == 30
    assert "(replacing `baseline: null` under endpoints.upsell.monitoring.data_quality)" in out
    assert ("endpoints:\n  upsell:\n    monitoring:\n      data_quality:\n        baseline:\n"
            f"          constraints: s3://{BUCKET}/baselines/upsell/{job}/constraints.json\n") in out


def test_baseline_of_a_fleet_needs_the_endpoint(aws, tmp_path, capsys):
    dataset = tmp_path / "x.csv"
    dataset.write_bytes(b"1,2\n")
    code = main(["baseline", "--env", "staging", "--dataset", str(dataset)], scratch_staging(tmp_path / "repo"))
    assert code == 2
    assert capsys.readouterr().err.startswith("baseline: params/staging.yaml is a fleet of 3 endpoints (churn, upsell, "
                                              "fraud): say which one, e.g. `make baseline ENV=staging ENDPOINT=churn`")


def test_a_dataset_under_another_endpoints_prefix_is_refused(aws, tmp_path, capsys):
    deploy_foundation(aws)
    code = main(["baseline", "--env", "staging", "--endpoint", "upsell", "--dataset",
                 f"s3://{BUCKET}/baselines/churn/datasets/x.csv"], scratch_staging(tmp_path / "repo"))
    err = capsys.readouterr().err
    assert code == 2
    assert f"the monitoring role may read only s3://{BUCKET}/baselines/upsell/" in err


def test_dry_run_of_a_fleet_endpoint_runs_its_own_pre_processor(tmp_path, capsys):
    from .test_dry_run_cli import CAPTURE, CONSTRAINTS, STATISTICS

    paths = scratch_staging(tmp_path / "repo")
    code = main(["dry-run", "--env", "staging", "--endpoint", "upsell", "--capture", str(CAPTURE), "--constraints",
                 str(CONSTRAINTS), "--statistics", str(STATISTICS)], paths)
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "Records: 44 read" in out
    # upsell's pre-processor has the default settings: the capture sample's 8 columns against the 6 of the
    # reference baseline, checked by the analyzer: 6 drifted columns and 2 extra ones (test_dryrun has the figures)
    assert "Violations (8):" in out
    assert out.count("\n  baseline_drift_check ") == 6 and out.count("\n  extra_column_check ") == 2
    assert (paths.build / "staging" / "assets" / "upsell" / "record_preprocessor.py").exists()

    assert main(["dry-run", "--env", "staging", "--capture", str(CAPTURE)], paths) == 2
    assert "dry-run: params/staging.yaml is a fleet of 3 endpoints" in capsys.readouterr().err
