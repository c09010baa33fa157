"""`make baseline` with the processing engine's analyzer (mmtool.operate.analyzer_baseline): `LOCAL=1` computes the
two files here without AWS; `--engine processing` runs the analyzer as a SageMaker Processing job against the moto
server, whose CreateProcessingJob request is validated against botocore's model and whose uploaded code is run with
the job's own environment to prove the contract. Statistics are checked against pandas (an independent reference).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import botocore.session
import pandas as pd
import pytest
import yaml
from botocore.validate import ParamValidator

from mmtool.cli import main
from mmtool.operate.analyzer_baseline import engine_of, packed_analyzer

from .conftest import BUCKET, REGION, REPO, ROLE_ARN, SECURITY_GROUP, client, deploy_foundation_and_network, no_credentials, recorded, scratch
from .fleet_env import scratch_staging

CREATE = "SageMaker.CreateProcessingJob"
ROWS = b"0.3,9,45,45,42,7,5,0\n0.6,27,21,6,23,39,40,37\n0.5,12,,8,20,11,4,1\n"
STAMP = re.compile(r"baseline-\d{8}-\d{6}")
SKLEARN_EU_WEST_1 = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def run(argv: list[str], paths, capsys) -> tuple[int, str, str]:
    code = main(argv, paths)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ LOCAL=1


def test_local_baseline_writes_the_analyzers_files_under_dist_without_aws(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)  # any AWS call would fail
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train.csv"
    dataset.write_bytes(ROWS)

    code, out, err = run(["baseline", "--env", "dev", "--dataset", str(dataset), "--local"], paths, capsys)

    assert code == 0, err
    [folder] = (paths.root / "dist" / "baselines" / "dev").iterdir()
    assert STAMP.fullmatch(folder.name)
    statistics = json.loads((folder / "statistics.json").read_text())
    constraints = json.loads((folder / "constraints.json").read_text())
    # dev has no feature_names: a headerless CSV, columns _c0.._c7 as Model Monitor names them
    frame = pd.read_csv(dataset, header=None)
    assert statistics["dataset"] == {"item_count": 3}
    assert [f["name"] for f in statistics["features"]] == [f"_c{i}" for i in range(8)]
    third = statistics["features"][2]["numerical_statistics"]
    assert third["common"] == {"num_present": 2, "num_missing": 1}
    assert third["mean"] == pytest.approx(frame[2].mean()) and third["std_dev"] == pytest.approx(frame[2].std(ddof=0))
    assert [f["completeness"] for f in constraints["features"]][:3] == [1.0, 1.0, pytest.approx(2 / 3)]
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] == "Robust"
    shown = f"dist/baselines/dev/{folder.name}"
    assert f"  statistics:  {shown}/statistics.json\n" in out
    assert f"  aws s3 cp {shown}/ s3://<bucket>/baselines/{folder.name}/ --recursive --sse aws:kms" in out
    assert ("monitoring:\n  data_quality:\n    baseline:\n"
            f"      constraints: s3://<bucket>/baselines/{folder.name}/constraints.json\n"
            f"      statistics: s3://<bucket>/baselines/{folder.name}/statistics.json\n") in out
    assert f"CONSTRAINTS={shown}/constraints.json STATISTICS={shown}/statistics.json" in out


def test_the_local_baseline_is_what_the_dry_run_reads(monkeypatch, tmp_path, capsys):
    """A baseline made locally from the very rows of the capture sample has no drift, type or completeness
    violation when the dry run checks that capture against it: the two commands read each other's files."""
    no_credentials(monkeypatch)
    paths = scratch(tmp_path / "repo")
    capture = REPO / "tests" / "data" / "reference" / "capture-samples" / "capture.jsonl"
    rows = []
    for line in capture.read_text().splitlines():
        data = json.loads(line)["captureData"]
        rows.append(f"{data['endpointOutput']['data']},{data['endpointInput']['data']}")
    dataset = tmp_path / "train.csv"
    dataset.write_text("\n".join(rows) + "\n")
    assert run(["baseline", "--env", "dev", "--dataset", str(dataset), "--local", "--out", str(tmp_path / "b")],
               paths, capsys)[0] == 0
    code, out, err = run(["dry-run", "--env", "dev", "--capture", str(capture), "--constraints",
                          str(tmp_path / "b" / "constraints.json"), "--statistics", str(tmp_path / "b" / "statistics.json")],
                         paths, capsys)
    assert code == 0, out + err
    assert "Violations: none" in out and "Result: OK" in out
    assert "  _c0  0.0000" in out  # drift checked, and none


def test_a_fleet_endpoint_with_feature_names_reads_the_header(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    paths = scratch_staging(tmp_path / "repo")
    staging = paths.params / "staging.yaml"
    data = yaml.safe_load(staging.read_text())
    data["endpoints"]["upsell"]["monitoring"]["data_quality"]["preprocessor"] = {"feature_names": ["tenure", "calls"]}
    staging.write_text(yaml.safe_dump(data, sort_keys=False))
    dataset = tmp_path / "upsell.csv"
    dataset.write_text("prediction,tenure,calls\n0.5,12,3\n0.25,30,\n0.75,7,1\n0.5,9,2\n")

    code, out, err = run(["baseline", "--env", "staging", "--endpoint", "upsell", "--dataset", str(dataset), "--local"],
                         paths, capsys)

    assert code == 0, err
    assert err == ""  # the header is the pre-processor's names: no warning
    [folder] = (paths.root / "dist" / "baselines" / "staging" / "upsell").iterdir()
    statistics = json.loads((folder / "statistics.json").read_text())
    assert [f["name"] for f in statistics["features"]] == ["calls", "prediction", "tenure"]  # sorted, as the analyzer
    assert statistics["features"][0]["numerical_statistics"]["common"] == {"num_present": 3, "num_missing": 1}
    assert statistics["dataset"] == {"item_count": 4}
    assert "CSV with header" in out
    assert "(replacing `baseline: null` under endpoints.upsell.monitoring.data_quality)" in out
    assert f"s3://<bucket>/baselines/upsell/{folder.name}/" in out
    assert "make dry-run ENV=staging ENDPOINT=upsell CAPTURE=" in out


@pytest.mark.parametrize(("extra", "message"), [
    (["--dataset", f"s3://{BUCKET}/baselines/x.csv"], "LOCAL=1 baselines a local file or folder (no AWS)"),
    (["--format", "jsonl"], "the processing engine's analyzer baselines CSV datasets"),
    (["--instance-type", "ml.m5.xlarge"], "--instance-type sizes the baselining job; LOCAL=1 runs no job"),
    (["--engine", "model-monitor"], "--local runs the processing engine's analyzer"),
    (["--dataset", "nowhere.csv"], "DATASET=nowhere.csv: no such file or folder"),
])
def test_local_bad_input_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys, extra, message):
    no_credentials(monkeypatch)
    dataset = tmp_path / "train.csv"
    dataset.write_bytes(ROWS)
    argv = ["baseline", "--env", "dev", "--dataset", str(dataset), "--local"] + extra
    code, _, err = run(argv, scratch(tmp_path / "repo"), capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreadable_csv_is_bad_input(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    dataset = tmp_path / "rows"
    dataset.mkdir()
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset), "--local"], scratch(tmp_path / "repo"),
                       capsys)
    assert code == 2
    assert f"DATASET={dataset}: {dataset}: no .csv file in this folder or below" in err


# ------------------------------------------------------------------ the engine


def test_the_engine_is_the_endpoints_unless_asked():
    def entry(engine=None):
        monitoring = SimpleNamespace(**({"engine": engine} if engine else {}))
        return SimpleNamespace(monitoring=monitoring)

    assert engine_of(entry(), None) == "model-monitor"  # params without the field: today's behaviour
    assert engine_of(entry("model-monitor"), None) == "model-monitor"
    assert engine_of(entry("processing"), None) == "processing"
    assert engine_of(entry("both"), None) == "model-monitor"  # both engines read Model Monitor's baseline
    assert engine_of(entry("both"), "processing") == "processing"


# ------------------------------------------------------------------ the processing job, against the moto server


def expected_request(job: str, key_arn: str, dataset_uri: str, code_uri: str) -> dict:
    """docs/engine.md's job contract for BASELINE_DATA_QUALITY, run like today's baselining job."""
    def source(name: str, uri: str, local: str) -> dict:
        return {"InputName": name, "AppManaged": False, "S3Input": {
            "S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}}

    return {
        "ProcessingJobName": job,
        "ProcessingInputs": [source("baseline_dataset", dataset_uri, "/opt/ml/processing/input/baseline_dataset"),
                             source("code", code_uri, "/opt/ml/processing/input/code")],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "monitoring_output", "AppManaged": False, "S3Output": {
            "S3Uri": f"s3://{BUCKET}/baselines/{job}", "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}], "KmsKeyId": key_arn},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                                  "VolumeSizeInGB": 20, "VolumeKmsKeyId": key_arn}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": {"ImageUri": SKLEARN_EU_WEST_1,
                             "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/analyzer.pyz", "job"]},
        "Environment": {"analysis_type": "BASELINE_DATA_QUALITY", "baseline_dataset": "/opt/ml/processing/input/baseline_dataset",
                        "dataset_header": "false", "output_path": "/opt/ml/processing/output"},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": True, "EnableNetworkIsolation": True,
                          "VpcConfig": {"SecurityGroupIds": [SECURITY_GROUP],
                                        "Subnets": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]}},
        "RoleArn": ROLE_ARN,
        "Tags": [{"Key": "Environment", "Value": "dev"}, {"Key": "ManagedBy", "Value": "model-monitor-deployer"},
                 {"Key": "Project", "Value": "churn"}, {"Key": "cost-center", "Value": "ml-platform"},
                 {"Key": "data-classification", "Value": "internal"}, {"Key": "owner", "Value": "ml-platform@example.com"}],
    }


def test_the_processing_engine_baselines_with_the_analyzer_as_a_processing_job(aws, tmp_path, capsys):
    key_arn = deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train.csv"
    dataset.write_bytes(ROWS)

    code, out, err = run(["baseline", "--env", "dev", "--dataset", str(dataset), "--engine", "processing"], paths, capsys)

    assert code == 0, err
    [request] = recorded(aws, CREATE)
    job = request["ProcessingJobName"]
    assert re.fullmatch(r"churn-dev-baseline-\d{8}-\d{6}", job)
    code_bytes = packed_analyzer()
    code_key = f"monitoring-assets/{hashlib.sha256(code_bytes).hexdigest()[:20]}/analyzer.pyz"
    dataset_key = f"baselines/datasets/{hashlib.sha256(ROWS).hexdigest()[:16]}/train.csv"
    assert request == expected_request(job, key_arn, f"s3://{BUCKET}/{dataset_key}", f"s3://{BUCKET}/{code_key}")
    # the request is one botocore's SageMaker model accepts, and the name fits SageMaker's pattern
    model = botocore.session.get_session().get_service_model("sagemaker")
    report = ParamValidator().validate(request, model.operation_model("CreateProcessingJob").input_shape)
    assert not report.has_errors(), report.generate_report()
    assert re.fullmatch(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", job)
    s3 = client("s3", aws)
    head = s3.head_object(Bucket=BUCKET, Key=code_key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    uploaded = s3.get_object(Bucket=BUCKET, Key=code_key)["Body"].read()
    assert uploaded == code_bytes
    assert f"uploading the analyzer ({len(code_bytes):,} bytes) to s3://{BUCKET}/{code_key} (SSE-KMS)" in out
    assert f"  constraints: s3://{BUCKET}/baselines/{job}/constraints.json\n" in out

    # the uploaded code, run with the job's environment on the dataset's local copy, writes the two files
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "analyzer.pyz").write_bytes(uploaded)
    environment = dict(request["Environment"], baseline_dataset=str(dataset), output_path=str(tmp_path / "output"))
    done = subprocess.run([sys.executable, str(tmp_path / "code" / "analyzer.pyz"), "job"], cwd=tmp_path,
                          env={"PATH": os.environ["PATH"], **environment}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Completed: baseline of 3 rows, 8 columns" in done.stdout
    assert json.loads((tmp_path / "output" / "statistics.json").read_text())["dataset"] == {"item_count": 3}
    assert (tmp_path / "output" / "constraints.json").exists()

    # a second run finds the analyzer already there
    assert run(["baseline", "--env", "dev", "--dataset", str(dataset), "--engine", "processing", "--no-wait"],
               paths, capsys)[0] == 0
    assert "uploading the analyzer" not in capsys.readouterr().out


def test_the_processing_engine_refuses_json_lines_before_any_aws_call(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    dataset = tmp_path / "train.jsonl"
    dataset.write_text('{"a": 1}\n')
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset), "--format", "jsonl", "--engine",
                        "processing"], scratch(tmp_path / "repo"), capsys)
    assert code == 2
    assert "the processing engine's analyzer baselines CSV datasets" in err


def test_the_model_monitor_engine_is_still_the_default(aws, tmp_path, capsys):
    deploy_foundation_and_network(aws)
    dataset = tmp_path / "train.csv"
    dataset.write_bytes(ROWS)
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset), "--no-wait"], scratch(tmp_path / "repo"),
                       capsys)
    assert code == 0, err
    [request] = recorded(aws, CREATE)
    assert request["AppSpecification"]["ImageUri"].endswith("/sagemaker-model-monitor-analyzer")
    assert REGION in request["AppSpecification"]["ImageUri"]
