"""`build.py baseline` (mmtool.operate.baseline): the baselining job's request, the dataset rules and the waiting.

Against the moto server: the command as a user runs it (`mmtool.cli.main`), with the environment's
bucket, key and SSM parameters in place; the request is read back from moto's request recorder, i.e.
what the server received, and compared with a request written out by hand.

What moto 5.2.5 lacks: its processing job is `Completed` the moment it is created (FakeProcessingJob sets
the status in its constructor; StopProcessingJob is the only transition, and no state-manager model or
backend hook is reachable from outside the server process). It also keeps neither `Environment` nor
`ProcessingResources` (DescribeProcessingJob omits them), hence the recorder. The InProgress -> Failed /
Stopped sequences, the timeout and Ctrl-C are therefore driven with botocore's Stubber on the SageMaker
client only; S3, SSM, STS and CloudWatch Logs stay on the moto server.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber
from rich.console import Console

from deployer.moto_server import MOTO_ACCOUNT
from mmtool.operate import baseline
from mmtool.operate.awsenv import Clients
from mmtool.cli import main
from mmtool.errors import ToolError
from mmtool.config.loader import load_params

from .conftest import BUCKET, REGION, REPO, ROLE_ARN, SECURITY_GROUP, client, deploy_foundation_and_network, no_credentials, recorded, scratch

CREATE = "SageMaker.CreateProcessingJob"
JOB_NAME = re.compile(r"churn-dev-baseline-\d{8}-\d{6}")
DEV_TAGS = [  # params/dev.yaml's tags plus the tool's three, sorted by key
    {"Key": "Environment", "Value": "dev"},
    {"Key": "ManagedBy", "Value": "model-monitor-deployer"},
    {"Key": "Project", "Value": "churn"},
    {"Key": "cost-center", "Value": "ml-platform"},
    {"Key": "data-classification", "Value": "internal"},
    {"Key": "owner", "Value": "ml-platform@example.com"},
]


def expected_request(job: str, key_arn: str, dataset_uri: str, *, dataset_format: str, instance_type: str = "ml.m5.large",
                     volume: int = 20, max_runtime: int = 3600) -> dict:
    """The request DefaultModelMonitor.suggest_baseline sends, with this project's network, KMS, role and tags."""
    return {
        "ProcessingJobName": job,
        "ProcessingInputs": [{
            "InputName": "baseline_dataset_input",
            "AppManaged": False,
            "S3Input": {
                "S3Uri": dataset_uri,
                "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }],
        "ProcessingOutputConfig": {
            "Outputs": [{
                "OutputName": "monitoring_output",
                "AppManaged": False,
                "S3Output": {
                    "S3Uri": f"s3://{BUCKET}/baselines/{job}",
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                },
            }],
            "KmsKeyId": key_arn,
        },
        "ProcessingResources": {"ClusterConfig": {
            "InstanceCount": 1, "InstanceType": instance_type, "VolumeSizeInGB": volume, "VolumeKmsKeyId": key_arn,
        }},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime},
        # eu-west-1's account in the SDK's image table; no tag, like the SDK
        "AppSpecification": {"ImageUri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
        "Environment": {
            "dataset_format": dataset_format,
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
        },
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,
            "VpcConfig": {"SecurityGroupIds": [SECURITY_GROUP],
                          "Subnets": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]},
        },
        "RoleArn": ROLE_ARN,
        "Tags": DEV_TAGS,
    }


def run(argv: list[str], paths, capsys) -> tuple[int, str, str]:
    code = main(argv, paths)
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ against the moto server, through the CLI


def test_local_csv_is_uploaded_with_kms_and_baselined_with_the_sdk_request(aws, tmp_path, capsys):
    key_arn = deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train data.csv"
    content = b"0.3,9,45,45,42,7,5,0\n0.6,27,21,6,23,39,40,37\n"
    dataset.write_bytes(content)

    code, out, err = run(["baseline", "--env", "dev", "--dataset", str(dataset)], paths, capsys)

    assert code == 0, err
    [request] = recorded(aws, CREATE)
    job = request["ProcessingJobName"]
    assert JOB_NAME.fullmatch(job)
    # dev has no feature_names: positional keys match a headerless baseline; prediction first -> START
    key = f"baselines/datasets/{hashlib.sha256(content).hexdigest()[:16]}/train-data.csv"
    assert request == expected_request(job, key_arn, f"s3://{BUCKET}/{key}",
                                       dataset_format='{"csv": {"header": false, "output_columns_position": "START"}}')
    head = client("s3", aws).head_object(Bucket=BUCKET, Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key_arn)
    assert client("s3", aws).get_object(Bucket=BUCKET, Key=key)["Body"].read() == content
    # moto reports Completed at once (see the module docstring)
    assert client("sagemaker", aws).describe_processing_job(ProcessingJobName=job)["ProcessingJobStatus"] == "Completed"
    assert f"  statistics:  s3://{BUCKET}/baselines/{job}/statistics.json\n" in out
    assert f"  constraints: s3://{BUCKET}/baselines/{job}/constraints.json\n" in out
    lines = (
        "monitoring:\n"
        "  data_quality:\n"
        "    baseline:\n"
        f"      constraints: s3://{BUCKET}/baselines/{job}/constraints.json\n"
        f"      statistics: s3://{BUCKET}/baselines/{job}/statistics.json\n"
    )
    assert lines in out
    assert f"{job}: Completed" in err  # the progress line


def test_the_printed_lines_pasted_into_the_params_file_give_a_valid_baseline(aws, tmp_path, capsys):
    # The point of printing them: replacing `baseline: null` in params/dev.yaml with them works as is.
    deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train.csv"
    dataset.write_text("1,2\n3,4\n")
    code, out, _ = run(["baseline", "--env", "dev", "--dataset", str(dataset)], paths, capsys)
    assert code == 0
    job = JOB_NAME.search(out).group(0)
    pasted = "\n".join(out[out.index("    baseline:\n"):].splitlines()[:3]) + "\n"
    original = (REPO / "params" / "dev.yaml").read_text()
    assert original.count("    baseline: null\n") == 1
    params_file = paths.params / "dev.yaml"
    params_file.write_text(original.replace("    baseline: null\n", pasted))
    loaded = load_params(params_file, paths.root)
    assert loaded.monitoring.data_quality.baseline.constraints == f"s3://{BUCKET}/baselines/{job}/constraints.json"
    assert loaded.monitoring.data_quality.baseline.statistics == f"s3://{BUCKET}/baselines/{job}/statistics.json"


def test_s3_dataset_in_the_bucket_is_used_as_is_with_the_options(aws, tmp_path, capsys):
    key_arn = deploy_foundation_and_network(aws)
    s3 = client("s3", aws)
    s3.put_object(Bucket=BUCKET, Key="baselines/datasets/train/part-0.jsonl", Body=b'{"a": 1}\n')
    paths = scratch(tmp_path / "repo")
    uri = f"s3://{BUCKET}/baselines/datasets/train/"

    code, out, err = run(["baseline", "--env", "dev", "--dataset", uri, "--format", "jsonl", "--no-wait",
                          "--instance-type", "ml.m5.2xlarge", "--volume-size", "100", "--max-runtime", "7200"],
                         paths, capsys)

    assert code == 0, err
    [request] = recorded(aws, CREATE)
    job = request["ProcessingJobName"]
    assert request == expected_request(job, key_arn, uri, dataset_format='{"json": {"lines": true}}',
                                       instance_type="ml.m5.2xlarge", volume=100, max_runtime=7200)
    assert recorded(aws, "SageMaker.DescribeProcessingJob") == []  # --no-wait
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["baselines/datasets/train/part-0.jsonl"]
    assert "not waiting (--no-wait)" in out
    assert f"aws sagemaker describe-processing-job --processing-job-name {job} --region eu-west-1" in out
    assert f"      constraints: s3://{BUCKET}/baselines/{job}/constraints.json\n" in out


def test_an_object_whose_key_prefixes_others_is_warned_about(aws, tmp_path, capsys):
    # S3Prefix input: s3://b/k/train.csv also brings s3://b/k/train.csv.old into the job
    deploy_foundation_and_network(aws)
    s3 = client("s3", aws)
    for key in ("baselines/datasets/train.csv", "baselines/datasets/train.csv.old"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"1,2\n")
    paths = scratch(tmp_path / "repo")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", f"s3://{BUCKET}/baselines/datasets/train.csv",
                        "--no-wait"], paths, capsys)
    assert code == 0
    assert "other keys start with it too (e.g. baselines/datasets/train.csv.old)" in err
    assert len(recorded(aws, CREATE)) == 1


def test_a_dataset_in_another_bucket_is_refused_with_the_reason_and_the_fix(aws, tmp_path, capsys):
    deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo")
    code, out, err = run(["baseline", "--env", "dev", "--dataset", "s3://training-data/churn/train.csv"], paths, capsys)
    assert code == 2
    assert f"the bucket training-data is not the project bucket {BUCKET}" in err
    assert "S3 gateway endpoint policy allow only the project bucket" in err
    assert f"aws s3 cp s3://training-data/churn/train.csv s3://{BUCKET}/baselines/datasets/<name>" in err
    assert recorded(aws, CREATE) == []


def test_a_key_the_monitoring_role_cannot_read_is_refused(aws, tmp_path, capsys):
    deploy_foundation_and_network(aws)
    client("s3", aws).put_object(Bucket=BUCKET, Key="reports/train.csv", Body=b"1,2\n")
    paths = scratch(tmp_path / "repo")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", f"s3://{BUCKET}/reports/train.csv"], paths, capsys)
    assert code == 2
    assert f"may read only s3://{BUCKET}/baselines/, s3://{BUCKET}/datacapture/, s3://{BUCKET}/batch-capture/" in err
    assert recorded(aws, CREATE) == []


def test_a_missing_s3_dataset_is_refused_before_the_job(aws, tmp_path, capsys):
    deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", f"s3://{BUCKET}/baselines/datasets/nope.csv"],
                       paths, capsys)
    assert code == 2
    assert "no object with this key or prefix" in err
    assert recorded(aws, CREATE) == []


def test_an_environment_that_is_not_deployed_says_so(aws, tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train.csv"
    dataset.write_text("1,2\n")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset)], paths, capsys)
    assert code == 1
    assert "/churn/dev/foundation/bucket-name" in err and "/churn/dev/network/subnet-ids" in err
    assert "run `make deploy ENV=dev` first" in err


def test_credentials_of_another_account_are_refused(aws, tmp_path, capsys):
    deploy_foundation_and_network(aws)
    paths = scratch(tmp_path / "repo", account_id="111122223333")
    dataset = tmp_path / "train.csv"
    dataset.write_text("1,2\n")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset)], paths, capsys)
    assert code == 3
    assert f"the credentials belong to {MOTO_ACCOUNT}" in err and "expects 111122223333" in err
    assert recorded(aws, CREATE) == []


def test_without_credentials_the_error_says_how_to_get_them(monkeypatch, tmp_path, capsys):
    no_credentials(monkeypatch)
    paths = scratch(tmp_path / "repo")
    dataset = tmp_path / "train.csv"
    dataset.write_text("1,2\n")
    code, _, err = run(["baseline", "--env", "dev", "--dataset", str(dataset)], paths, capsys)
    assert code == 2
    assert "no usable AWS credentials" in err and "AWS_PROFILE" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["baseline", "--dataset", "x.csv"], "--env is required"),
        (["baseline", "--env", "dev", "--dataset", "missing.csv"], "DATASET=missing.csv: no such file"),
        (["baseline", "--env", "dev", "--dataset", "s3://"], "no bucket name"),
        (["baseline", "--env", "dev", "--dataset", "x.csv", "--instance-type", "m5.large"], "expected an ml.* instance type"),
        (["baseline", "--env", "dev", "--dataset", "x.csv", "--timeout", "0"], "must be a positive number"),
    ],
)
def test_bad_input_exits_2_before_any_aws_call(aws, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    paths = scratch(tmp_path / "repo")
    code, _, err = run(argv, paths, capsys)
    assert code == 2
    assert message in err
    assert aws.post("/moto-api/recorder/download-recording") == b""  # not one request


def test_a_local_file_in_the_wrong_format_is_refused_before_any_aws_call(aws, tmp_path, capsys):
    paths = scratch(tmp_path / "repo")
    csv_file = tmp_path / "train.csv"
    csv_file.write_text("1,2,3\n")
    json_file = tmp_path / "train.jsonl"
    json_file.write_text('{"a": 1}\n')
    empty = tmp_path / "empty.csv"
    empty.write_text("\n")
    for argv, message in (
        (["--dataset", str(csv_file), "--format", "jsonl"], "the first line is not a JSON object"),
        (["--dataset", str(json_file)], "looks like JSON; for JSON lines use --format jsonl"),
        (["--dataset", str(empty)], "the file is empty"),
        (["--dataset", str(tmp_path)], "not a file"),
        (["--dataset", str(json_file), "--format", "jsonl", "--no-header"], "--header/--no-header apply to --format csv only"),
    ):
        code, _, err = run(["baseline", "--env", "dev", *argv], paths, capsys)
        assert (code, message in err) == (2, True), err
    assert aws.post("/moto-api/recorder/download-recording") == b""


# ------------------------------------------------------------------ the dataset format follows the pre-processor


def dev(tmp_path: Path, **changes):
    paths = scratch(tmp_path / "repo", **changes)
    return load_params(paths.params / "dev.yaml", paths.root)


def test_named_columns_mean_a_header_and_a_last_prediction_means_end(tmp_path):
    params = dev(tmp_path, **{"monitoring.data_quality.preprocessor": {
        "feature_names": ["age", "income"], "prediction_names": ["churn"], "prediction_position": "last"}})
    warnings: list[str] = []
    fmt = baseline.dataset_format(params, baseline.Options(dataset="x.csv"), warnings.append)
    assert fmt.as_dict() == {"csv": {"header": True, "output_columns_position": "END"}}
    assert warnings == []
    assert baseline.expected_columns(params.monitoring.data_quality.preprocessor) == ["age", "income", "churn"]


def test_a_header_that_does_not_match_the_pre_processor_names_is_warned_about(tmp_path):
    params = dev(tmp_path, **{"monitoring.data_quality.preprocessor": {"feature_names": ["age", "income"]}})
    dataset = tmp_path / "train.csv"
    dataset.write_text("churn,income,age\n1,2,3\n")
    warnings: list[str] = []
    fmt = baseline.dataset_format(params, baseline.Options(dataset=str(dataset)), warnings.append)
    baseline.check_local_dataset(dataset, fmt, params, warnings.append)
    assert len(warnings) == 1
    assert "the header is churn, income, age" in warnings[0]
    assert "emits prediction, age, income" in warnings[0]


def test_a_header_with_positional_keys_is_warned_about(tmp_path):
    params = dev(tmp_path)  # no feature_names
    warnings: list[str] = []
    fmt = baseline.dataset_format(params, baseline.Options(dataset="x.csv", header=True), warnings.append)
    assert fmt.header is True
    assert len(warnings) == 1 and "Use --no-header, or set feature_names" in warnings[0]
    dataset = tmp_path / "train.csv"
    dataset.write_text("0.5,1,2\n")
    baseline.check_local_dataset(dataset, fmt, params, warnings.append)
    assert "looks like data, not a header" in warnings[1]


def test_a_header_row_in_a_dataset_announced_without_one_is_warned_about(tmp_path):
    params = dev(tmp_path)  # no feature_names: no header by default
    dataset = tmp_path / "train.csv"
    dataset.write_text("churn,age,income\n1,42,1000.5\n")
    warnings: list[str] = []
    fmt = baseline.dataset_format(params, baseline.Options(dataset=str(dataset)), warnings.append)
    assert fmt.header is False and warnings == []
    baseline.check_local_dataset(dataset, fmt, params, warnings.append)
    assert len(warnings) == 1
    assert "the first row (churn,age,income) looks like a header, but the dataset is announced without one" in warnings[0]
    dataset.write_text("1,42,1000.5\n0,37,99\n")  # no header: nothing to say
    baseline.check_local_dataset(dataset, fmt, params, warnings.append)
    assert len(warnings) == 1


def test_analyzer_image_per_partition_and_the_sdk_container_paths():
    # accounts from the SDK's image table (mmtool/config/data/model-monitor-image-accounts.json)
    assert baseline.analyzer_image("eu-west-1") == "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    assert baseline.analyzer_image("cn-north-1") == "453000072557.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-model-monitor-analyzer"
    from templates.foundation import BASELINES_PREFIX
    from templates.monitoring import PROCESSING

    assert baseline.CONTAINER_BASE == PROCESSING  # the monitoring job definition uses the same base
    assert baseline.datasets_prefix() == f"{BASELINES_PREFIX}/datasets"


def test_the_job_name_fits_sagemakers_limit_for_the_longest_project_and_environment():
    longest = SimpleNamespace(prefix="p" * 20 + "-" + "e" * 10)  # project 3-20, environment 2-10 characters
    name = baseline.make_job_name(longest, datetime(2026, 11, 25, 10, 30, 5, tzinfo=timezone.utc))
    assert name == "p" * 20 + "-" + "e" * 10 + "-baseline-20261125-103005"
    assert len(name) == 56 and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)


# ------------------------------------------------------------------ waiting: status sequences moto cannot produce


NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
STUB_JOB = "churn-dev-baseline-20261125-100000"


class FakeClock:
    """Time that passes only when the code sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def stubbed_sagemaker() -> tuple[object, Stubber]:
    sagemaker = boto3.client("sagemaker", region_name=REGION, endpoint_url="http://127.0.0.1:9")
    return sagemaker, Stubber(sagemaker)


def describe(status: str, **extra) -> dict:
    return {
        "ProcessingJobName": STUB_JOB,
        "ProcessingJobArn": f"arn:aws:sagemaker:{REGION}:{MOTO_ACCOUNT}:processing-job/{STUB_JOB}",
        "ProcessingJobStatus": status,
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}},
        "AppSpecification": {"ImageUri": "468650794304.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer"},
        "CreationTime": NOW,
        **extra,
    }


def console() -> Console:
    return Console(file=io.StringIO(), width=200, highlight=False, color_system=None, force_terminal=False)


def test_waiting_prints_each_status_with_the_elapsed_time_and_polls_every_15_seconds():
    sagemaker, stub = stubbed_sagemaker()
    for status in ("InProgress", "InProgress", "InProgress", "Completed"):
        stub.add_response("describe_processing_job", describe(status), {"ProcessingJobName": STUB_JOB})
    clock, screen = FakeClock(), console()
    with stub:
        description, elapsed = baseline.wait_for_job(sagemaker, STUB_JOB, REGION, timeout=3600, console=screen,
                                                     clock=clock, sleep=clock.sleep)
    stub.assert_no_pending_responses()
    assert description["ProcessingJobStatus"] == "Completed"
    assert elapsed == 45
    assert clock.sleeps == [15, 15, 15]
    assert screen.file.getvalue() == f"0:00:00  {STUB_JOB}: InProgress\n0:00:45  {STUB_JOB}: Completed\n"


def test_the_timeout_leaves_the_job_running_and_says_how_to_check_it():
    sagemaker, stub = stubbed_sagemaker()
    for _ in range(3):
        stub.add_response("describe_processing_job", describe("InProgress"), {"ProcessingJobName": STUB_JOB})
    clock = FakeClock()
    with stub, pytest.raises(ToolError) as raised:
        baseline.wait_for_job(sagemaker, STUB_JOB, REGION, timeout=20, console=console(), clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [15, 5]  # the last sleep ends at the timeout
    assert raised.value.exit_code == 4
    message = str(raised.value)
    assert f"baseline job {STUB_JOB} is still InProgress after 0:00:20 (--timeout 20 s); it keeps running" in message
    assert f"aws sagemaker describe-processing-job --processing-job-name {STUB_JOB} --region eu-west-1" in message
    assert f"aws sagemaker stop-processing-job --processing-job-name {STUB_JOB} --region eu-west-1" in message


def test_ctrl_c_leaves_the_job_running_and_says_how_to_check_it():
    sagemaker, stub = stubbed_sagemaker()
    stub.add_response("describe_processing_job", describe("InProgress"), {"ProcessingJobName": STUB_JOB})

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    with stub, pytest.raises(ToolError) as raised:
        baseline.wait_for_job(sagemaker, STUB_JOB, REGION, timeout=3600, console=console(), sleep=interrupt)
    assert raised.value.exit_code == 130
    assert f"interrupted: baseline job {STUB_JOB} keeps running in AWS (it was not stopped)" in str(raised.value)
    assert f"--processing-job-name {STUB_JOB}" in str(raised.value)


def moto_clients(server, sagemaker) -> Clients:
    return Clients(region=REGION, s3=client("s3", server), ssm=client("ssm", server), sts=client("sts", server),
                   sagemaker=sagemaker, logs=client("logs", server))


def test_a_failed_job_prints_its_failure_reason_and_the_end_of_its_log(aws, tmp_path):
    deploy_foundation_and_network(aws)
    params = dev(tmp_path)
    logs = client("logs", aws)
    logs.create_log_group(logGroupName="/aws/sagemaker/ProcessingJobs")
    stream = f"{STUB_JOB}/algo-1-1764064800"
    logs.create_log_stream(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream)
    now_ms = int(time.time() * 1000)  # CloudWatch (and moto) reject events older than 14 days
    logs.put_log_events(logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=stream, logEvents=[
        {"timestamp": now_ms + i, "message": text} for i, text in enumerate(
            ["Start analyzing", "java.lang.IllegalArgumentException: header mismatch", "Analysis failed"])])
    dataset = tmp_path / "train.csv"
    dataset.write_text("1,2\n")
    sagemaker, stub = stubbed_sagemaker()
    stub.add_response("create_processing_job", {"ProcessingJobArn": describe("InProgress")["ProcessingJobArn"]})
    stub.add_response("describe_processing_job", describe("InProgress"), {"ProcessingJobName": STUB_JOB})
    stub.add_response("describe_processing_job", describe(
        "Failed", FailureReason="AlgorithmError: Error: Encountered an error while running the analyzer",
        ExitMessage="Exit code 255"), {"ProcessingJobName": STUB_JOB})
    clock = FakeClock()
    out: list[str] = []
    with stub, pytest.raises(ToolError) as raised:
        baseline.run_baseline(params, baseline.Options(dataset=str(dataset)), moto_clients(aws, sagemaker),
                              out=out.append, console=console(), now=lambda: NOW, clock=clock, sleep=clock.sleep)
    stub.assert_no_pending_responses()
    assert raised.value.exit_code == 1
    assert str(raised.value).splitlines() == [
        f"baseline job {STUB_JOB} failed after 0:00:15",
        "FailureReason: AlgorithmError: Error: Encountered an error while running the analyzer",
        "ExitMessage: Exit code 255",
        "End of its log (/aws/sagemaker/ProcessingJobs):",
        f"  {stream}:",
        "    Start analyzing",
        "    java.lang.IllegalArgumentException: header mismatch",
        "    Analysis failed",
        f"Whole log: aws logs tail /aws/sagemaker/ProcessingJobs --log-stream-name-prefix {STUB_JOB}/ --region eu-west-1",
        "Next: fix what the reason names (dataset format: --format/--no-header; the dataset itself), "
        "then run `make baseline ENV=dev` again.",
    ]
    assert not any("constraints:" in line for line in out)  # no params lines for a failed job


def test_a_stopped_job_is_a_failure_and_a_job_without_log_says_so(aws, tmp_path):
    deploy_foundation_and_network(aws)
    client("s3", aws).put_object(Bucket=BUCKET, Key="datacapture/batch/x.csv", Body=b"1\n")
    params = dev(tmp_path)
    sagemaker, stub = stubbed_sagemaker()
    stub.add_response("create_processing_job", {"ProcessingJobArn": describe("InProgress")["ProcessingJobArn"]})
    stub.add_response("describe_processing_job", describe("Stopped"), {"ProcessingJobName": STUB_JOB})
    clock = FakeClock()
    with stub, pytest.raises(ToolError) as raised:
        baseline.run_baseline(params, baseline.Options(dataset=f"s3://{BUCKET}/datacapture/batch/x.csv"),
                              moto_clients(aws, sagemaker), out=lambda _: None, console=console(), now=lambda: NOW,
                              clock=clock, sleep=clock.sleep)
    assert raised.value.exit_code == 1
    lines = str(raised.value).splitlines()
    assert lines[0] == f"baseline job {STUB_JOB} stopped after 0:00:00"
    assert lines[1:3] == ["End of its log (/aws/sagemaker/ProcessingJobs):",
                          "  (no log group /aws/sagemaker/ProcessingJobs yet: the job wrote no log)"]


def test_model_monitor_baselining_where_its_image_is_not_published_names_the_processing_engine():
    """A region of the scikit-learn table alone (docs/engine.md, "Regions"): one line with the fix, no KeyError."""
    from mmtool.config.params import image_accounts

    region = sorted(set(image_accounts("sklearn")) - set(image_accounts()))[0]
    with pytest.raises(baseline.BaselineInputError, match=f"published for {region}: baseline with .*ENGINE=processing"):
        baseline.analyzer_image(region)
    assert baseline.analyzer_image("eu-west-1").endswith(".dkr.ecr.eu-west-1.amazonaws.com/sagemaker-model-monitor-analyzer")
