"""The AWS side of one environment, for the commands that call AWS outside a deploy (baseline, dry run).

* Clients come from the deploy engine's factory (`deployer.aws.make_clients`: the environment's region,
  standard retries, `deploy.assume_role_arn` from params, `AWS_ENDPOINT_URL` honoured) so every AWS call
  of the tool is made the same way.
* Errors from boto3 become an `AwsError` (a `ToolError`) that keeps AWS's words and says what to do next, with
  the engine's exit codes (2 bad input such as missing credentials, 3 refused, 1 anything else); the engine's own
  `DeployError` is a `ToolError` too and passes as it is.
* `deployed_values` reads what the foundation and network stacks published to SSM
  (`/<project>/<env>/<stack>/<key>`, see templates/common.py).

boto3, the engine, the params model and templates are imported inside the functions, so registering the
commands costs `build.py` nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mmtool.errors import EXIT_INPUT, EXIT_FAILED, ToolError

if TYPE_CHECKING:
    from mmtool.config.params import Params


class AwsError(ToolError):
    """An AWS call failed, or the environment is not in the state the command needs."""


def aws_errors() -> tuple[type[Exception], ...]:
    """What a failed AWS call raises: botocore's ClientError and BotoCoreError, an answer that does not parse
    (deployer.errors.AWS_ERRORS), and the engine's DeployError. The operate modules catch these around their calls
    (`except aws_errors() as exc:`); anything else is a bug and keeps its traceback. A function, so botocore loads
    only when an exception is being matched, not when a command is registered."""
    from deployer.errors import AWS_ERRORS, DeployError

    return (*AWS_ERRORS, DeployError)


def transfer_errors() -> tuple[type[Exception], ...]:
    """`aws_errors()` and what boto3's managed transfers (`upload_file`, `download_file`) add: their own
    S3UploadFailedError (a Boto3Error) and OSError from the local file they read or write."""
    from boto3.exceptions import Boto3Error

    return (*aws_errors(), Boto3Error, OSError)


def aws_failure(exc: BaseException, action: str, next_step: str | None = None) -> AwsError:
    """A boto3/botocore exception (or the engine's DeployError) as an AwsError with AWS's own message."""
    from deployer.errors import DeployError, aws_error

    error = exc if isinstance(exc, DeployError) else aws_error(exc, action=action, next_step=next_step)
    return AwsError(str(error), error.exit_code)


@dataclass
class Clients:
    """The clients a command uses; tests may pass any object with the same attributes."""

    region: str
    s3: Any
    ssm: Any
    sts: Any
    sagemaker: Any = None
    logs: Any = None
    cloudformation: Any = None
    scheduler: Any = None  # EventBridge Scheduler: the processing engine's schedules (docs/engine.md)


def connect(params: Params, *, sagemaker: bool = False, cloudformation: bool = False, profile: str | None = None,
            endpoint_url: str | None = None) -> Clients:
    """Clients for the environment (nothing is called yet, except sts:AssumeRole with a deploy role); `profile`
    and `endpoint_url` as the deploy engine's --profile and --endpoint-url."""
    from deployer.aws import make_clients

    # the engine's DeployError (no credentials, a deploy role it cannot assume) reaches the CLI's boundary as it is
    clients = make_clients(
        params.region,
        assume_role_arn=params.deploy.assume_role_arn,
        external_id=params.deploy.external_id,
        profile=profile,
        endpoint_url=endpoint_url,
    )
    return Clients(
        region=params.region,
        s3=clients.s3,
        ssm=clients.ssm,
        sts=clients.sts,
        sagemaker=clients.client("sagemaker") if sagemaker else None,
        logs=clients.client("logs") if sagemaker else None,
        cloudformation=clients.cloudformation if cloudformation else None,
        scheduler=clients.client("scheduler") if sagemaker else None,
    )


def credentials_available() -> bool:
    """True when boto3's credential chain finds credentials (no network call except an instance's metadata)."""
    import boto3

    from botocore.exceptions import BotoCoreError

    try:
        return boto3.session.Session().get_credentials() is not None
    except BotoCoreError:  # a broken profile (ProfileNotFound, ConfigParseError...): let the real call report it
        return True


def check_account(clients: Clients, params: Params) -> str:
    """The credentials' account; refused (exit 3) when params names another one. Returns the account id."""
    from deployer.aws import check_account as engine_check

    return engine_check(clients, params.account_id).account  # type: ignore[arg-type]  (its DeployError as it is)


@dataclass(frozen=True)
class DeployedValues:
    """What the deployed foundation and network stacks of the environment published to SSM."""

    bucket: str
    kms_key_arn: str
    monitoring_role_arn: str  # the foundation's shared role; "" in a fleet (each endpoint's stack has its own)
    subnet_ids: tuple[str, ...]
    job_security_group_id: str


DEPLOYED_KEYS = {
    "bucket": ("foundation", "bucket-name"),
    "kms_key_arn": ("foundation", "kms-key-arn"),
    "monitoring_role_arn": ("foundation", "monitoring-role-arn"),
    "subnet_ids": ("network", "subnet-ids"),
    "job_security_group_id": ("network", "job-security-group-id"),
}


def deployed_values(clients: Clients, params: Params, *, shared_role: bool | None = None) -> DeployedValues:
    """The values; without the shared monitoring role for a fleet (`shared_role` defaults to the single-endpoint
    form only), whose foundation has none (each endpoint's monitoring stack has its own): `monitoring_role_arn`
    is then empty."""
    from templates.common import ssm_name

    if shared_role is None:
        shared_role = not params.is_fleet
    names = {field: ssm_name(stack, key, params.project, params.environment) for field, (stack, key) in DEPLOYED_KEYS.items()
             if shared_role or field != "monitoring_role_arn"}
    try:
        response = clients.ssm.get_parameters(Names=sorted(names.values()))
    except aws_errors() as exc:
        raise aws_failure(exc, "read the environment's SSM parameters (ssm:GetParameters)") from exc
    found = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
    missing = [name for name in names.values() if name not in found]
    if missing:
        stacks = sorted({name.split("/")[3] for name in missing})
        raise AwsError(
            f"{params.prefix}: SSM parameter(s) {', '.join(sorted(missing))} not found in {params.region}: the "
            f"{' and '.join(stacks)} stack(s) of environment {params.environment} are not deployed in this account.\n"
            f"Next: run `make deploy ENV={params.environment}` first (or check AWS_PROFILE / the account).",
            EXIT_FAILED,
        )
    values = {field: found[name] for field, name in names.items()}
    return DeployedValues(
        bucket=values["bucket"],
        kms_key_arn=values["kms_key_arn"],
        monitoring_role_arn=values.get("monitoring_role_arn", ""),
        subnet_ids=tuple(s for s in values["subnet_ids"].split(",") if s),
        job_security_group_id=values["job_security_group_id"],
    )


def split_s3_uri(uri: str, what: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key); the key may be empty. Raises a bad-input ToolError otherwise."""
    if not uri.startswith("s3://"):
        raise AwsError(f"{what}={uri}: not an s3:// URI", EXIT_INPUT)
    bucket, _, key = uri[5:].partition("/")
    if not bucket or " " in bucket:
        raise AwsError(f"{what}={uri}: no bucket name; expected s3://<bucket>/<key>", EXIT_INPUT)
    return bucket, key


def safe_relative_path(key: str) -> PurePosixPath | None:
    """An S3 key as a relative path that cannot leave the folder it is joined to (None if it would)."""
    parts = [part for part in key.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return PurePosixPath(*parts)


def elapsed(seconds: float) -> str:
    """h:mm:ss, for the progress lines of commands that wait on SageMaker."""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
