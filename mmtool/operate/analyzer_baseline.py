"""`make baseline` with the processing engine's analyzer (`scripts/analyzer`, docs/engine.md): locally
(`LOCAL=1`, no AWS) or as a SageMaker Processing job for an endpoint whose engine is `processing`.

* **Locally** (`run_local_baseline`): the analyzer's `baseline` over a local CSV file or folder of CSV
  files writes `statistics.json` and the suggested `constraints.json` to
  `dist/baselines/<env>/[<key>/]baseline-<UTC yyyymmdd-hhmmss>/` (or `--out`), and the command prints
  how to upload them into the project bucket and the lines to put in params. The CSV header follows the
  pre-processor's settings as for the job (`baseline.dataset_format`).
* **As a processing job** (`analyzer_job_request`): the job contract of docs/engine.md with
  `analysis_type` `BASELINE_DATA_QUALITY`: the SageMaker scikit-learn image of the region, the packed
  analyzer (`analyzer.pyz`, content-hashed under `monitoring-assets/`) and the dataset as
  ProcessingInputs, the two files as the ProcessingOutput to the endpoint's baselines prefix. It runs
  like today's baselining job (`mmtool/operate/baseline.py`): in the private subnets with the job
  security group, KMS on the output and the volume, inter-container encryption, as the endpoint's
  monitoring role (which reads `monitoring-assets/` and writes its baselines prefix). Network isolation
  stays on: a baselining run reads and writes only its ProcessingInputs and ProcessingOutput.

Standard library at import time; the analyzer and the params model are imported where used.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from deployer.aws_errors import S3_NOT_FOUND, error_code
from mmtool.operate.baseline import (
    CONSTRAINTS_FILE,
    CONTAINER_BASE,
    OUTPUT_LOCAL_PATH,
    OUTPUT_NAME,
    STATISTICS_FILE,
    BaselineInputError,
    DatasetFormat,
    Options,
    dataset_format,
    endpoint_baselines,
    output_uri,
    params_lines,
    where_in_params,
)
from mmtool.operate.awsenv import DeployedValues, aws_errors, aws_failure

if TYPE_CHECKING:
    from mmtool.config.params import Params

ENGINES = ("model-monitor", "processing")
# The analyzer's job contract (docs/engine.md, "The processing job's contract"; scripts/analyzer/job.py CONTRACT).
ANALYZER_FILE = "analyzer.pyz"
CODE_INPUT_NAME = "code"
CODE_LOCAL_PATH = f"{CONTAINER_BASE}/input/code"
ENTRYPOINT = ["python3", f"{CODE_LOCAL_PATH}/{ANALYZER_FILE}", "job"]
DATASET_INPUT_NAME = "baseline_dataset"
DATASET_LOCAL_PATH = f"{CONTAINER_BASE}/input/baseline_dataset"  # CONTRACT["baseline_dataset"]'s default
# The SageMaker scikit-learn image (SageMaker Python SDK, src/sagemaker/image_uri_config/sklearn.json, version
# 1.2-1: Python 3.9 with numpy and pandas), account per region in mmtool/config/data/sklearn-image-accounts.json.
SKLEARN_REPOSITORY = "sagemaker-scikit-learn"
SKLEARN_TAG = "1.2-1-cpu-py3"
LOCAL_FOLDER = "baselines"  # under dist/: kept by `make build`, removed by `make clean`


def engine_of(entry: Any, requested: str | None) -> str:
    """The engine that baselines: `--engine`, else the endpoint's `monitoring.engine` (`both`: Model Monitor, whose
    baseline both engines read as it is)."""
    if requested is not None:
        if requested not in ENGINES:
            raise BaselineInputError(f"--engine={requested}: must be one of {', '.join(ENGINES)}")
        return requested
    configured = getattr(entry.monitoring, "engine", "model-monitor")  # the params field of docs/engine.md
    return "processing" if configured == "processing" else "model-monitor"


def processing_image(region: str) -> str:
    from mmtool.config.params import image_accounts

    account = image_accounts("sklearn")[region]
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{SKLEARN_REPOSITORY}:{SKLEARN_TAG}"


def packed_analyzer() -> bytes:
    """The analyzer as the one-file asset of docs/engine.md (byte-identical for the same sources)."""
    from scripts.analyzer.pack import pack

    with tempfile.TemporaryDirectory(prefix="mmtool-analyzer-") as folder:
        return Path(pack(str(Path(folder) / ANALYZER_FILE))).read_bytes()


def analyzer_key(code: bytes) -> str:
    """`monitoring-assets/<20 hex of its SHA-256>/analyzer.pyz`: content-hashed like the other assets."""
    from templates.foundation import ASSETS_PREFIX

    return f"{ASSETS_PREFIX}/{hashlib.sha256(code).hexdigest()[:20]}/{ANALYZER_FILE}"


def stage_analyzer(s3: Any, deployed: DeployedValues, out: Callable[[str], None]) -> str:
    """Upload the packed analyzer (SSE-KMS, project key) unless that object is there; its S3 URI."""
    code = packed_analyzer()
    key = analyzer_key(code)
    uri = f"s3://{deployed.bucket}/{key}"
    try:
        s3.head_object(Bucket=deployed.bucket, Key=key)
        return uri
    except aws_errors() as exc:
        if error_code(exc) not in S3_NOT_FOUND:
            raise aws_failure(exc, f"check {uri} (s3:GetObject)") from exc
    out(f"uploading the analyzer ({len(code):,} bytes) to {uri} (SSE-KMS)")
    try:
        s3.put_object(Bucket=deployed.bucket, Key=key, Body=code, ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=deployed.kms_key_arn)
    except aws_errors() as exc:
        raise aws_failure(exc, f"upload the analyzer to {uri}") from exc
    return uri


def _input(name: str, uri: str, local_path: str) -> dict[str, Any]:
    return {"InputName": name, "AppManaged": False, "S3Input": {
        "S3Uri": uri, "LocalPath": local_path, "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}}


def analyzer_job_request(
    params: Params,
    deployed: DeployedValues,
    *,
    job_name: str,
    dataset_uri: str,
    header: bool,
    code_uri: str,
    instance_type: str,
    volume_size_gb: int,
    max_runtime_seconds: int,
    entry: Any = None,
) -> dict[str, Any]:
    """The CreateProcessingJob request of a BASELINE_DATA_QUALITY run (a pure function of its arguments).

    One instance: the analyzer runs on one (docs/engine.md, capacity), and two would write the same output files.
    """
    from mmtool.generate.synth import stack_tags

    return {
        "ProcessingJobName": job_name,
        "ProcessingInputs": [
            _input(DATASET_INPUT_NAME, dataset_uri, DATASET_LOCAL_PATH),
            _input(CODE_INPUT_NAME, code_uri, CODE_LOCAL_PATH),
        ],
        "ProcessingOutputConfig": {
            "Outputs": [{"OutputName": OUTPUT_NAME, "AppManaged": False, "S3Output": {
                "S3Uri": output_uri(deployed.bucket, job_name, endpoint_baselines(params, entry)),
                "LocalPath": OUTPUT_LOCAL_PATH, "S3UploadMode": "EndOfJob"}}],
            "KmsKeyId": deployed.kms_key_arn,
        },
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": instance_type,
                                                  "VolumeSizeInGB": volume_size_gb,
                                                  "VolumeKmsKeyId": deployed.kms_key_arn}},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime_seconds},
        "AppSpecification": {"ImageUri": processing_image(params.region), "ContainerEntrypoint": ENTRYPOINT},
        "Environment": {
            "analysis_type": "BASELINE_DATA_QUALITY",
            "baseline_dataset": DATASET_LOCAL_PATH,
            "dataset_header": "true" if header else "false",
            "output_path": OUTPUT_LOCAL_PATH,
        },
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,  # a baselining run touches only its inputs and output
            "VpcConfig": {"SecurityGroupIds": [deployed.job_security_group_id], "Subnets": list(deployed.subnet_ids)},
        },
        "RoleArn": deployed.monitoring_role_arn,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(stack_tags(params).items())],
    }


def processing_engine_request(clients: Any, params: Params, deployed: DeployedValues, out: Callable[[str], None], *,
                              dataset_format: DatasetFormat, instance_count: int, **request: Any) -> dict[str, Any]:
    """`baseline.run_baseline`'s `job_request` for the processing engine: stages the analyzer, then the request.
    (`instance_count` is not used: the analyzer runs on one instance.)"""
    code_uri = stage_analyzer(clients.s3, deployed, out)
    return analyzer_job_request(params, deployed, header=dataset_format.header, code_uri=code_uri, **request)


def check_engine_options(options: Options, engine: str) -> None:
    """What the processing engine's baselining cannot read, refused before any AWS call."""
    if engine == "processing" and options.format != "csv":
        raise BaselineInputError("--format jsonl: the processing engine's analyzer baselines CSV datasets; convert the "
                                 "JSON lines to CSV in the flat shape the pre-processor emits, or use --engine "
                                 "model-monitor where the account has Model Monitor")


# ------------------------------------------------------------------ LOCAL=1


def local_folder(root: Path, params: Params, entry: Any, now: datetime) -> Path:
    """dist/baselines/<env>/[<key>/]baseline-<UTC yyyymmdd-hhmmss>"""
    folder = root / "dist" / LOCAL_FOLDER / params.environment
    if entry is not None and not entry.legacy:
        folder = folder / entry.key
    return folder / f"baseline-{now.astimezone(timezone.utc):%Y%m%d-%H%M%S}"


def run_local_baseline(
    params: Params,
    options: Options,
    root: Path,
    *,
    out_dir: str | None = None,
    out: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The analyzer's baseline of a local dataset, no AWS. Returns (folder, statistics, constraints)."""
    from mmtool.operate.selection import select_endpoint
    from scripts.analyzer import run as analyzer
    from scripts.analyzer.errors import InputError

    warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))
    entry = select_endpoint(params, options.endpoint, "baseline")
    fleet_entry = None if entry.legacy else entry
    if options.dataset.startswith("s3://"):
        raise BaselineInputError(f"DATASET={options.dataset}: LOCAL=1 baselines a local file or folder (no AWS); "
                                 "download it first (aws s3 cp), or drop LOCAL=1 to baseline it in the project's VPC")
    check_engine_options(options, "processing")
    for flag, value in (("--instance-type", options.instance_type), ("--volume-size", options.volume_size_gb)):
        if value is not None:
            raise BaselineInputError(f"{flag} sizes the baselining job; LOCAL=1 runs no job: drop one of them")
    fmt: DatasetFormat = dataset_format(params, options, warn, fleet_entry)
    dataset = Path(options.dataset)
    if not dataset.exists():
        raise BaselineInputError(f"DATASET={dataset}: no such file or folder")
    if dataset.is_file():
        from mmtool.operate.baseline import check_local_dataset

        check_local_dataset(dataset, fmt, params, warn, fleet_entry)
    folder = Path(out_dir) if out_dir else local_folder(root, params, entry, now())
    try:
        statistics, constraints = analyzer.baseline(str(dataset), str(folder), fmt.header)
    except InputError as exc:
        raise BaselineInputError(f"DATASET={dataset}: {exc}") from None
    key = None if fleet_entry is None else fleet_entry.key
    prefix = endpoint_baselines(params, fleet_entry)
    shown = _shown(folder, root)
    out(f"local baseline of {dataset} ({fmt.describe()}): {statistics['dataset']['item_count']} rows, "
        f"{len(statistics['features'])} columns, by the processing engine's analyzer (no AWS)")
    out(f"  statistics:  {shown / STATISTICS_FILE}")
    out(f"  constraints: {shown / CONSTRAINTS_FILE}")
    target = f"s3://<bucket>/{prefix}/{folder.name}"
    ending = "" if key is None else f" ENDPOINT={key}"
    out(f"Review constraints.json (suggested constraints can be too strict; edit before use); check it against "
        f"captured data:\n  make dry-run ENV={params.environment}{ending} CAPTURE=<capture> "
        f"CONSTRAINTS={shown / CONSTRAINTS_FILE} STATISTICS={shown / STATISTICS_FILE}")
    out(f"Then upload both files into the project bucket, encrypted with the project key (<bucket> and <key arn>: "
        f"BucketName and KmsKeyArn of `make outputs ENV={params.environment}`):\n"
        f"  aws s3 cp {shown}/ {target}/ --recursive --sse aws:kms --sse-kms-key-id <key arn>\n"
        f"put these lines in params/{params.environment}.yaml (replacing `baseline: null` under "
        f"{where_in_params(fleet_entry)}) and run `make deploy ENV={params.environment}{ending}`:\n")
    out(params_lines(f"{target}/{STATISTICS_FILE}", f"{target}/{CONSTRAINTS_FILE}", key))
    return folder, statistics, constraints


def _shown(folder: Path, root: Path) -> Path:
    try:
        return folder.resolve().relative_to(root.resolve())
    except ValueError:
        return folder
