"""`make baseline ENV=e DATASET=...`: the baselining job that suggests `constraints.json` and computes
`statistics.json` for the data-quality monitor.

It is the processing job SageMaker's own baselining (`DefaultModelMonitor.suggest_baseline` of the
SageMaker Python SDK) starts, with the same analyzer image, container paths and environment variables,
run the way this project runs its monitoring jobs:

* image: the Model Monitor analyzer of the environment's region (`mmtool.config.params.image_accounts()`, no
  tag; `.com.cn` in China), the same image the monitoring schedule uses;
* in the project's private subnets with the job security group (from SSM), network isolation and
  inter-container traffic encryption; output and volume encrypted with the project KMS key; as the
  monitoring execution role (`<project>-<env>-monitoring`), which may read and write `baselines/`;
* dataset: an object (or prefix) in the project bucket, or a local file uploaded SSE-KMS to
  `s3://<bucket>/baselines/datasets/<sha256-prefix>/<name>`. Other buckets are refused: the role and the
  S3 gateway endpoint policy allow only the project bucket, so the job would fail after minutes;
* output: `s3://<bucket>/baselines/<job-name>/{statistics,constraints}.json`.

It waits (bounded by --timeout) showing the status and the elapsed time; Ctrl-C leaves the job running
and says how to check it; a failed job prints its FailureReason and the end of its log. At the end it
prints the two URIs and the lines to put in `params/<env>.yaml`.

Exit codes: 0 done (or started with --no-wait), 1 the job failed or was stopped / an AWS call failed,
2 bad input (dataset, options, credentials), 3 refused (wrong account), 4 --timeout reached (the job
keeps running), 130 Ctrl-C (the job keeps running).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

from deployer.aws_errors import S3_NOT_FOUND, error_code
from mmtool.errors import EXIT_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TIMEOUT, ToolError
from mmtool.operate.awsenv import Clients, DeployedValues, aws_errors, aws_failure, split_s3_uri, transfer_errors
from mmtool.operate.awsenv import elapsed as _elapsed
from mmtool.operate.processing_job import follow_processing_job

if TYPE_CHECKING:  # imported where used: registering the command must not load pydantic and troposphere
    from mmtool.config.params import Params, PreprocessorSettings

# Names and container paths of sagemaker-python-sdk, src/sagemaker/model_monitor/model_monitoring.py
# (DefaultModelMonitor.suggest_baseline -> _upload_and_convert_to_processing_input, _normalize_baseline_output,
# _generate_env_map; the request itself is built by processing.py ProcessingJob._get_process_args from
# ProcessingInput/ProcessingOutput with their defaults: S3Prefix, File, FullyReplicated, compression None,
# EndOfJob upload).
CONTAINER_BASE = "/opt/ml/processing"  # _CONTAINER_BASE_PATH (templates.monitoring.PROCESSING, checked by a test)
DATASET_INPUT_NAME = "baseline_dataset_input"  # _BASELINE_DATASET_INPUT_NAME
DATASET_LOCAL_PATH = f"{CONTAINER_BASE}/input/{DATASET_INPUT_NAME}"  # dataset_source: a folder, as the SDK passes it
OUTPUT_NAME = "monitoring_output"  # _DEFAULT_OUTPUT_NAME
OUTPUT_LOCAL_PATH = f"{CONTAINER_BASE}/output"  # output_path
STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
DATASETS_FOLDER = "datasets"  # under the bucket's baselines/ prefix

LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
DEFAULT_MAX_RUNTIME = 3600
PROVISIONING_ALLOWANCE = 1800  # instances and VPC interfaces take minutes before the runtime clock starts
POLL_SECONDS = 15.0
LOG_TAIL_LINES = 15


class BaselineInputError(ToolError):
    exit_code = EXIT_INPUT


class JobFailed(ToolError):
    exit_code = EXIT_FAILED


class JobStillRunning(ToolError):
    """--timeout reached or Ctrl-C: the job goes on in AWS."""


# ------------------------------------------------------------------ what the job is asked to do


@dataclass(frozen=True)
class DatasetFormat:
    kind: Literal["csv", "jsonl"]
    header: bool = False
    output_columns_position: Literal["START", "END"] = "START"

    def as_dict(self) -> dict[str, Any]:
        """The SDK's DatasetFormat.csv(header, output_columns_position) / DatasetFormat.json(lines=True)."""
        if self.kind == "jsonl":
            return {"json": {"lines": True}}
        return {"csv": {"header": self.header, "output_columns_position": self.output_columns_position}}

    def describe(self) -> str:
        if self.kind == "jsonl":
            return "JSON lines"
        return f"CSV {'with' if self.header else 'without'} header, prediction column(s) at the {self.output_columns_position.lower()}"


def baselines_prefix() -> str:
    """`baselines`: the bucket prefix the monitoring role may read and write (templates/foundation.py)."""
    from templates.foundation import BASELINES_PREFIX

    return BASELINES_PREFIX


def endpoint_baselines(params: Params | None = None, entry: Any = None) -> str:
    """The baselines prefix of a fleet endpoint (`baselines/<key>`, the only one its role may write); `baselines`
    for the single-endpoint form."""
    return baselines_prefix() if entry is None or entry.legacy else entry.baselines_prefix(params)


def datasets_prefix(params: Params | None = None, entry: Any = None) -> str:
    return f"{endpoint_baselines(params, entry)}/{DATASETS_FOLDER}"


def data_quality(params: Params, entry: Any = None) -> Any:
    """The data-quality monitor settings of the endpoint (the single-endpoint form's `monitoring.data_quality`)."""
    return (entry if entry is not None else params.fleet()[0]).monitoring.data_quality


def where_in_params(entry: Any = None) -> str:
    """`monitoring.data_quality`, or `endpoints.<key>.monitoring.data_quality` for a fleet endpoint."""
    return "monitoring.data_quality" if entry is None or entry.legacy else f"endpoints.{entry.key}.monitoring.data_quality"


def analyzer_image(region: str) -> str:
    from mmtool.config.params import image_accounts
    from templates.monitoring import ANALYZER_REPOSITORY

    account = image_accounts().get(region)
    if account is None:  # a region of the scikit-learn table alone (docs/engine.md, "Regions")
        raise BaselineInputError(f"no SageMaker Model Monitor analyzer image is published for {region}: baseline with "
                                 "the processing engine's analyzer (ENGINE=processing, or LOCAL=1 on this machine)")
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{ANALYZER_REPOSITORY}"


def make_job_name(params: Params, now: datetime, entry: Any = None) -> str:
    """`<project>-<env>-baseline-<UTC yyyymmdd-hhmmss>`: at most 20+1+10+9+1+15 = 56 characters; a fleet
    endpoint's `<project>-<env>-<key>-baseline-…`, the key cut from its end to fit SageMaker's 63."""
    tail = f"-baseline-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}"
    if entry is None or entry.legacy:
        return f"{params.prefix}{tail}"
    return f"{entry.name_prefix(params)[:63 - len(tail)].rstrip('-')}{tail}"


def output_uri(bucket: str, job_name: str, prefix: str | None = None) -> str:
    return f"s3://{bucket}/{prefix or baselines_prefix()}/{job_name}"


def processing_job_request(
    params: Params,
    deployed: DeployedValues,
    *,
    job_name: str,
    dataset_uri: str,
    dataset_format: DatasetFormat,
    instance_type: str,
    instance_count: int,
    volume_size_gb: int,
    max_runtime_seconds: int,
    entry: Any = None,
) -> dict[str, Any]:
    """The CreateProcessingJob request (a pure function of its arguments)."""
    from mmtool.generate.synth import stack_tags

    return {
        "ProcessingJobName": job_name,
        "ProcessingInputs": [
            {
                "InputName": DATASET_INPUT_NAME,
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": dataset_uri,
                    "LocalPath": DATASET_LOCAL_PATH,
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3CompressionType": "None",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": OUTPUT_NAME,
                    "AppManaged": False,
                    "S3Output": {
                        "S3Uri": output_uri(deployed.bucket, job_name, endpoint_baselines(params, entry)),
                        "LocalPath": OUTPUT_LOCAL_PATH,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
            "KmsKeyId": deployed.kms_key_arn,
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": instance_count,
                "InstanceType": instance_type,
                "VolumeSizeInGB": volume_size_gb,
                "VolumeKmsKeyId": deployed.kms_key_arn,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        "AppSpecification": {"ImageUri": analyzer_image(params.region)},
        # _generate_env_map as suggest_baseline calls it: no record pre-processor (the baseline dataset is
        # already in the flat shape the pre-processor emits, https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html), and CloudWatch metrics
        # disabled ("Only supported for monitoring schedules"). json.dumps with its default separators,
        # as the SDK does.
        "Environment": {
            "dataset_format": json.dumps(dataset_format.as_dict()),
            "dataset_source": DATASET_LOCAL_PATH,
            "output_path": OUTPUT_LOCAL_PATH,
            "publish_cloudwatch_metrics": "Disabled",
        },
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,
            "VpcConfig": {
                "SecurityGroupIds": [deployed.job_security_group_id],
                "Subnets": list(deployed.subnet_ids),
            },
        },
        "RoleArn": deployed.monitoring_role_arn,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(stack_tags(params).items())],
    }


def endpoint_role_arn(params: Params, entry: Any, account: str) -> str:
    """A fleet endpoint's execution role, `<project>-<env>-<key>-monitoring` (the name its monitoring stack gives it)."""
    partition = "aws-cn" if params.region.startswith("cn-") else ("aws-us-gov" if params.region.startswith("us-gov-") else "aws")
    return f"arn:{partition}:iam::{account}:role/{entry.name_prefix(params)}-monitoring"


def params_lines(statistics_uri: str, constraints_uri: str, key: str | None = None) -> str:
    """The `baseline:` block at the indentation it has in params/<env>.yaml (under monitoring.data_quality;
    `key`: under endpoints.<key>.monitoring.data_quality)."""
    if key is not None:
        return (
            "endpoints:\n"
            f"  {key}:\n"
            "    monitoring:\n"
            "      data_quality:\n"
            "        baseline:\n"
            f"          constraints: {constraints_uri}\n"
            f"          statistics: {statistics_uri}\n"
        )
    return (
        "monitoring:\n"
        "  data_quality:\n"
        "    baseline:\n"
        f"      constraints: {constraints_uri}\n"
        f"      statistics: {statistics_uri}\n"
    )


# ------------------------------------------------------------------ options and the dataset


@dataclass
class Options:
    dataset: str
    format: Literal["csv", "jsonl"] = "csv"
    header: bool | None = None  # None: follow the pre-processor settings
    wait: bool = True
    timeout: float | None = None  # None: max runtime + PROVISIONING_ALLOWANCE
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME
    instance_type: str | None = None
    volume_size_gb: int | None = None
    endpoint: str | None = None  # the fleet endpoint's key; required for a fleet of more than one


def expected_columns(settings: PreprocessorSettings) -> list[str] | None:
    """The column names the pre-processor emits, in dataset order (None: positional keys)."""
    if not settings.feature_names:
        return None
    predictions = list(settings.prediction_names or ["prediction"])
    if settings.prediction_position == "first":
        return predictions + list(settings.feature_names)
    if settings.prediction_position == "last":
        return list(settings.feature_names) + predictions
    return list(settings.feature_names)


def dataset_format(params: Params, options: Options, warn: Callable[[str], None], entry: Any = None) -> DatasetFormat:
    """The format to announce, following the environment's pre-processor unless told otherwise.

    The pre-processor's keys must be the baseline's column names (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-pre-and-post-processing.html): positional keys
    (no feature_names) match a headerless CSV baseline (`_c0`, `_c1`, …); feature_names match a CSV
    whose header holds those names.
    """
    settings = data_quality(params, entry).preprocessor
    position: Literal["START", "END"] = "END" if settings.prediction_position == "last" else "START"
    if options.format == "jsonl":
        if options.header is not None:
            raise BaselineInputError("--header/--no-header apply to --format csv only")
        return DatasetFormat("jsonl")
    named = bool(settings.feature_names)
    header = named if options.header is None else options.header
    where = f"params/{params.environment}.yaml {where_in_params(entry)}.preprocessor"
    if header and not named:
        warn(
            f"{where} has no feature_names, so the pre-processor emits positional keys that match a headerless "
            "baseline (_c0, _c1, ...); with --header the baseline's columns are named from the header row and the "
            "monitor would report every column missing and extra. Use --no-header, or set feature_names."
        )
    if not header and named:
        warn(
            f"{where}.feature_names is set, so the monitor's columns are those names; without a header the "
            "baseline's columns are _c0, _c1, ... and would not match. Use a CSV with a header row of those names."
        )
    return DatasetFormat("csv", header, position)


def check_local_dataset(path: Path, fmt: DatasetFormat, params: Params, warn: Callable[[str], None],
                        entry: Any = None) -> None:
    """Cheap checks of the first line before a billed job reads the whole file."""
    if not path.exists():
        raise BaselineInputError(f"DATASET={path}: no such file; give a local file or an s3:// URI in the project bucket")
    if not path.is_file():
        raise BaselineInputError(f"DATASET={path}: not a file; give one dataset file (or upload a folder and pass its s3:// prefix)")
    with path.open("rb") as stream:
        head = stream.read(1 << 16)
    if not head.strip():
        raise BaselineInputError(f"DATASET={path}: the file is empty")
    lines = [line.decode("utf-8", errors="replace").strip() for line in head.lstrip(b"\xef\xbb\xbf").splitlines()[:2]]
    first = lines[0]
    if fmt.kind == "jsonl":
        try:
            document = json.loads(first)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise BaselineInputError(
                f"DATASET={path}: the first line is not a JSON object; --format jsonl expects one object per line "
                "(for a CSV file use --format csv)"
            )
        return
    if first.startswith("{"):
        raise BaselineInputError(f"DATASET={path}: the first line looks like JSON; for JSON lines use --format jsonl")
    row = next(csv.reader(io.StringIO(first)), [])
    looks_numeric = bool(row) and all(_is_number(value) for value in row)
    expected = expected_columns(data_quality(params, entry).preprocessor)
    if fmt.header and looks_numeric:
        warn(f"DATASET={path}: the first row ({first[:60]}) looks like data, not a header; if the file has no header use --no-header")
    second = next(csv.reader(io.StringIO(lines[1])), []) if len(lines) > 1 else []
    if not fmt.header and row and not any(_is_number(v) for v in row) and second and all(_is_number(v) for v in second):
        warn(f"DATASET={path}: the first row ({first[:60]}) looks like a header, but the dataset is announced without "
             "one, so it would be baselined as a row of data (and every column typed String); remove the header row, "
             "or use --header with feature_names set in params")
    if fmt.header and expected is not None and [v.strip() for v in row] != expected:
        warn(
            f"DATASET={path}: the header is {', '.join(row)}; the pre-processor of params/{params.environment}.yaml "
            f"emits {', '.join(expected)} (feature_names/prediction_names/prediction_position): the monitor matches "
            "columns by these names, so fix the header or the settings"
        )


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _readable_prefixes(params: Params, entry: Any = None) -> list[str]:
    """Prefixes of the project bucket the monitoring role may read (templates/foundation.py; a fleet endpoint's
    role: its own prefixes, templates/monitoring.py)."""
    if entry is None or entry.legacy:
        return [baselines_prefix(), params.storage.capture_prefix, params.storage.batch_capture_prefix]
    return [entry.baselines_prefix(params), entry.capture_prefix(params), entry.batch_capture_prefix(params),
            entry.ground_truth_prefix(params)]


def check_dataset_uri(uri: str, params: Params, bucket: str, entry: Any = None) -> tuple[str, str]:
    """The dataset URI must be readable by the job: the project bucket, a prefix the role may read."""
    dataset_bucket, key = split_s3_uri(uri, "DATASET")
    if dataset_bucket != bucket:
        raise BaselineInputError(
            f"DATASET={uri}: the bucket {dataset_bucket} is not the project bucket {bucket}. The baselining job runs "
            f"as the monitoring role in the project's VPC, and both the role and the VPC's S3 gateway endpoint policy "
            f"allow only the project bucket, so the job could not read it.\n"
            f"Next: copy it in (aws s3 cp {uri} s3://{bucket}/{datasets_prefix(params, entry)}/<name>) and pass that URI, or pass a "
            "local file: it is uploaded there for you."
        )
    prefixes = _readable_prefixes(params, entry)
    if not any(key.startswith(prefix + "/") and len(key) > len(prefix) + 1 for prefix in prefixes):
        raise BaselineInputError(
            f"DATASET={uri}: the monitoring role may read only {', '.join(f's3://{bucket}/{p}/' for p in prefixes)} "
            f"of the project bucket, so the job could not read this key.\n"
            f"Next: put the dataset under s3://{bucket}/{datasets_prefix(params, entry)}/, or pass a local file."
        )
    return dataset_bucket, key


def stage_dataset(clients: Clients, params: Params, deployed: DeployedValues, options: Options,
                  out: Callable[[str], None], warn: Callable[[str], None], entry: Any = None) -> str:
    """The dataset's S3 URI, after checking it exists (an S3 URI) or uploading it (a local file)."""
    if options.dataset.startswith("s3://"):
        bucket, key = check_dataset_uri(options.dataset, params, deployed.bucket, entry)
        try:
            listed = clients.s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=2).get("Contents", [])
        except aws_errors() as exc:
            raise aws_failure(exc, f"look for the dataset {options.dataset} (s3:ListBucket)") from exc
        if not listed:
            raise BaselineInputError(f"DATASET={options.dataset}: no object with this key or prefix; check the URI")
        if len(listed) > 1 and listed[0]["Key"] == key:  # keys sort the exact one first
            warn(f"DATASET={options.dataset} names an object, but other keys start with it too (e.g. "
                 f"{listed[1]['Key']}): the job reads every object under the prefix, as SageMaker's S3Prefix input does")
        return options.dataset
    path = Path(options.dataset)  # checked by check_local_dataset before any AWS call
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    name = re.sub(r"[^A-Za-z0-9._-]", "-", path.name)
    key = f"{datasets_prefix(params, entry)}/{digest.hexdigest()[:16]}/{name}"
    uri = f"s3://{deployed.bucket}/{key}"
    size = path.stat().st_size
    try:
        existing = clients.s3.head_object(Bucket=deployed.bucket, Key=key)
    except aws_errors() as exc:
        if error_code(exc) not in S3_NOT_FOUND:
            raise aws_failure(exc, f"check {uri} (s3:GetObject)") from exc
        existing = None
    if existing is not None and existing.get("ContentLength") == size:
        out(f"dataset {path} is already at {uri} (same content)")
        return uri
    out(f"uploading {path} ({size:,} bytes) to {uri} (SSE-KMS)")
    try:
        clients.s3.upload_file(
            str(path), deployed.bucket, key,
            ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": deployed.kms_key_arn},
        )
    except transfer_errors() as exc:
        raise aws_failure(exc, f"upload the dataset to {uri}") from exc
    return uri


# ------------------------------------------------------------------ waiting


def _check_commands(job_name: str, region: str) -> str:
    return (
        f"  check it:  aws sagemaker describe-processing-job --processing-job-name {job_name} --region {region} "
        "--query '[ProcessingJobStatus,FailureReason]'\n"
        f"  stop it:   aws sagemaker stop-processing-job --processing-job-name {job_name} --region {region}\n"
        f"  its log:   aws logs tail {LOG_GROUP} --log-stream-name-prefix {job_name}/ --region {region}"
    )


def wait_for_job(
    sagemaker: Any,
    job_name: str,
    region: str,
    *,
    timeout: float,
    poll_seconds: float = POLL_SECONDS,
    console: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, Any], float]:
    """Describe the job until it ends. Returns (last description, elapsed seconds).

    Prints every status change with the elapsed time; on a terminal a spinner shows the live elapsed
    time as well. Raises JobStillRunning at `timeout` (exit 4) or on Ctrl-C (exit 130).
    """
    from deployer.reporter import make_console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = console or make_console(stderr=True)
    progress = None
    if console.is_terminal:
        progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                            console=console, transient=True)
        progress.start()
        task = progress.add_task(f"baseline job {job_name}: starting")
    try:
        return follow_processing_job(
            sagemaker, job_name, timeout=timeout, poll_seconds=poll_seconds, console=console, clock=clock, sleep=sleep,
            on_status=None if progress is None else (
                lambda status: progress.update(task, description=f"baseline job {job_name}: {status}")),
            timed_out=lambda status, elapsed: JobStillRunning(
                f"baseline job {job_name} is still {status} after {_elapsed(elapsed)} (--timeout {int(timeout)} s); "
                f"it keeps running in AWS.\n{_check_commands(job_name, region)}\n"
                "When it has Completed, its files are under the output prefix printed above.",
                EXIT_TIMEOUT,
            ))
    except KeyboardInterrupt:
        raise JobStillRunning(
            f"interrupted: baseline job {job_name} keeps running in AWS (it was not stopped).\n"
            f"{_check_commands(job_name, region)}",
            EXIT_INTERRUPTED,
        ) from None
    finally:
        if progress is not None:
            progress.stop()


def log_tail(logs: Any, job_name: str, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of each log stream of the job (one per instance), best effort."""
    try:
        streams = logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=f"{job_name}/").get("logStreams", [])
    except aws_errors() as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return [f"(no log group {LOG_GROUP} yet: the job wrote no log)"]
        return [f"(could not read the job's log: {exc})"]
    if not streams:
        return [f"(no log stream {job_name}/... in {LOG_GROUP}: the job wrote no log)"]
    result: list[str] = []
    for stream in sorted(streams, key=lambda s: s["logStreamName"])[:4]:
        name = stream["logStreamName"]
        try:
            events = logs.get_log_events(logGroupName=LOG_GROUP, logStreamName=name, limit=lines,
                                         startFromHead=False).get("events", [])
        except aws_errors() as exc:
            result.append(f"{name}: (could not read: {exc})")
            continue
        result.append(f"{name}:")
        result.extend(f"  {event['message'].rstrip()}" for event in events)
    return result


# ------------------------------------------------------------------ the command


def model_monitor_request(clients: Clients, params: Params, deployed: DeployedValues, out: Callable[[str], None],
                          **request: Any) -> dict[str, Any]:
    """The job of the `model-monitor` engine: Model Monitor's analyzer (`processing_job_request`). The processing
    engine's is `mmtool.operate.analyzer_baseline.processing_engine_request` (same arguments)."""
    return processing_job_request(params, deployed, **request)


def run_baseline(
    params: Params,
    options: Options,
    clients: Clients,
    *,
    out: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    console: Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: float = POLL_SECONDS,
    job_request: Callable[..., dict[str, Any]] = model_monitor_request,
    hold: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> dict[str, Any]:
    """Stage the dataset, start the job, wait for it (unless options.wait is False) and print the result.
    ``hold`` (the deploy lock) is held from the first AWS call that needs the inputs checked until the job started.

    `job_request(clients, params, deployed, out, **arguments)` gives the CreateProcessingJob request: the engine's
    analyzer (`model_monitor_request` by default). Returns the job's last description (with --no-wait: its name and
    InProgress).
    """
    from mmtool.operate.awsenv import check_account, deployed_values
    from mmtool.operate.selection import select_endpoint

    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    entry = select_endpoint(params, options.endpoint, "baseline")
    fleet_entry = None if entry.legacy else entry  # None: the single-endpoint form, exactly as before
    dq = entry.monitoring.data_quality
    if options.max_runtime_seconds < 1 or options.max_runtime_seconds > 432000:
        raise BaselineInputError(f"--max-runtime={options.max_runtime_seconds}: must be 1-432000 seconds (SageMaker's limit, 5 days)")
    fmt = dataset_format(params, options, warn, fleet_entry)
    if options.dataset.startswith("s3://"):
        split_s3_uri(options.dataset, "DATASET")  # before any AWS call
    else:
        check_local_dataset(Path(options.dataset), fmt, params, warn, fleet_entry)
    with hold():  # the deploy lock from here to the job's start (mmtool/operate/locking.py)
        account = check_account(clients, params)
        deployed = deployed_values(clients, params, shared_role=fleet_entry is None)
        if fleet_entry is not None:  # the endpoint's own role (templates/monitoring.py), which may write its baselines
            deployed = replace(deployed, monitoring_role_arn=endpoint_role_arn(params, fleet_entry, account))
        dataset_uri = stage_dataset(clients, params, deployed, options, out, warn, fleet_entry)
        job_name = make_job_name(params, now(), fleet_entry)
        request = job_request(
            clients,
            params,
            deployed,
            out,
            job_name=job_name,
            dataset_uri=dataset_uri,
            dataset_format=fmt,
            instance_type=options.instance_type or dq.instance_type,
            instance_count=dq.instance_count,  # the job security group allows intra-cluster traffic only for this count
            volume_size_gb=options.volume_size_gb or dq.volume_size_gb,
            max_runtime_seconds=options.max_runtime_seconds,
            entry=fleet_entry,
        )
        prefix = output_uri(deployed.bucket, job_name, endpoint_baselines(params, fleet_entry))
        where = where_in_params(fleet_entry)
        key = None if fleet_entry is None else fleet_entry.key
        statistics_uri, constraints_uri = f"{prefix}/{STATISTICS_FILE}", f"{prefix}/{CONSTRAINTS_FILE}"
        try:
            clients.sagemaker.create_processing_job(**request)
        except aws_errors() as exc:
            raise aws_failure(
                exc, f"start the baselining job {job_name} (sagemaker:CreateProcessingJob)",
                next_step="Next: check that your credentials may call sagemaker:CreateProcessingJob and iam:PassRole on "
                f"{deployed.monitoring_role_arn}, and the instance type ({request['ProcessingResources']['ClusterConfig']['InstanceType']}).",
            ) from exc
    cluster = request["ProcessingResources"]["ClusterConfig"]
    out(f"started baseline job {job_name} in {params.region}: {fmt.describe()}, "
        f"{cluster['InstanceCount']} x {cluster['InstanceType']}, max runtime {_elapsed(options.max_runtime_seconds)}")
    out(f"  dataset: {dataset_uri}")
    out(f"  output:  {prefix}/")
    if not options.wait:
        out(f"not waiting (--no-wait).\n{_check_commands(job_name, params.region)}")
        out(f"When it has Completed, put these lines in params/{params.environment}.yaml "
            f"(replacing `baseline: null` under {where}):\n")
        out(params_lines(statistics_uri, constraints_uri, key))
        return {"ProcessingJobName": job_name, "ProcessingJobStatus": "InProgress"}
    timeout = options.timeout if options.timeout is not None else options.max_runtime_seconds + PROVISIONING_ALLOWANCE
    description, elapsed = wait_for_job(clients.sagemaker, job_name, params.region, timeout=timeout,
                                        poll_seconds=poll_seconds, console=console, clock=clock, sleep=sleep)
    status = description.get("ProcessingJobStatus")
    if status != "Completed":
        details = [f"baseline job {job_name} {status.lower() if status else 'ended'} after {_elapsed(elapsed)}"]
        if description.get("FailureReason"):
            details.append(f"FailureReason: {description['FailureReason']}")
        if description.get("ExitMessage"):
            details.append(f"ExitMessage: {description['ExitMessage']}")
        if clients.logs is not None:
            details.append(f"End of its log ({LOG_GROUP}):")
            details.extend(f"  {line}" for line in log_tail(clients.logs, job_name))
        details.append(f"Whole log: aws logs tail {LOG_GROUP} --log-stream-name-prefix {job_name}/ --region {params.region}")
        if status == "Failed":
            details.append("Next: fix what the reason names (dataset format: --format/--no-header; the dataset itself), "
                           f"then run `make baseline ENV={params.environment}` again.")
        raise JobFailed("\n".join(details))
    out(f"baseline job {job_name} completed in {_elapsed(elapsed)}")
    out(f"  statistics:  {statistics_uri}")
    out(f"  constraints: {constraints_uri}")
    out(f"Review constraints.json (suggested constraints can be too strict; edit before use), then put these lines "
        f"in params/{params.environment}.yaml (replacing `baseline: null` under {where}) and run "
        f"`make deploy ENV={params.environment}{'' if key is None else f' ENDPOINT={key}'}`:\n")
    out(params_lines(statistics_uri, constraints_uri, key))
    return description
