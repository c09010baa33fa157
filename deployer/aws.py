"""Every AWS client the engine uses comes from here: one region (the manifest's), botocore's retry modes
(throttling and transient errors retried with backoff, at most ``max_attempts`` attempts per call), an
optional role assumed for the whole environment, and an optional endpoint override (tests and
``make demo`` point it at a local moto server).

* CloudFormation uses botocore's *adaptive* retry mode: on top of the standard mode's backoff, a client
  that was throttled once rate-limits itself (a token bucket). The one client is shared by every thread
  that deploys a stack, so a fleet's parallel deploys slow down together instead of each retrying on its
  own. The other services use the standard mode (a few calls each, no sustained rate).
* ``max_attempts`` is bounded (:data:`MAX_ATTEMPTS_LIMIT`): with backoff capped at 20 s per attempt, a
  larger budget would hide an account that is throttled for minutes behind silence.

* Credentials come from boto3's usual chain, so ``AWS_PROFILE`` works; ``profile=`` overrides it.
* ``endpoint_url=None`` leaves boto3 free to honour ``AWS_ENDPOINT_URL`` (boto3 does it natively).
* The region is always the manifest's: ``AWS_REGION``/``AWS_DEFAULT_REGION`` never redirect a deploy.
* ``cloudformation_once`` is a second CloudFormation client with automatic retries turned off. It is used
  for ExecuteChangeSet only: after a read timeout nobody knows whether CloudFormation started the
  execution, so the engine re-describes the change set before it tries again (see changesets.execute).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

from .errors import AWS_ERRORS, InputError, RefusedError, aws_error
from .stops import guard

DEFAULT_MAX_ATTEMPTS = 10
MAX_ATTEMPTS_LIMIT = 20
USER_AGENT = "mmtool-deployer"
#: Retry mode per service; every other service gets "standard".
RETRY_MODES = {"cloudformation": "adaptive"}


def client_config(max_attempts: int, *, read_timeout: float = 60.0, mode: str = "standard") -> Config:
    if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        raise InputError(f"--max-attempts={max_attempts}: must be 1-{MAX_ATTEMPTS_LIMIT} (attempts per AWS call, the first one included)")
    return Config(
        retries={"mode": mode, "total_max_attempts": max_attempts},  # attempts, first one included
        connect_timeout=10,
        read_timeout=read_timeout,
        user_agent_extra=USER_AGENT,
        max_pool_connections=20,
    )


class AwsClients:
    """The clients for one environment, each created on first use (building a client parses its service
    model: ec2's alone costs a few hundred milliseconds that a no-change deploy never needs). boto3
    clients are thread-safe, so one instance is shared by the threads that deploy stacks in parallel."""

    def __init__(
        self,
        session: boto3.session.Session,
        region: str,
        *,
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        assumed_role: str | None = None,
    ) -> None:
        self.session = session
        self.region = region
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.assumed_role = assumed_role
        self._cache: dict[tuple[str, int], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_session(
        cls,
        session: boto3.session.Session,
        region: str,
        *,
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        assumed_role: str | None = None,
    ) -> "AwsClients":
        return cls(session, region, endpoint_url=endpoint_url, max_attempts=max_attempts, assumed_role=assumed_role)

    def client(self, service: str, *, attempts: int | None = None) -> Any:
        """A client of any service (``sagemaker``, ``logs`` for baselining) with this environment's session,
        region, retry settings and endpoint override; made once, then reused. A single-attempt client
        (``cloudformation_once``) keeps the standard mode: it is never retried, so it needs no rate limiter."""
        attempts = self.max_attempts if attempts is None else attempts
        with self._lock:
            cached = self._cache.get((service, attempts))
            if cached is None:
                mode = RETRY_MODES.get(service, "standard") if attempts > 1 else "standard"
                kwargs: dict[str, Any] = {"region_name": self.region, "config": client_config(attempts, mode=mode)}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                cached = self._cache[(service, attempts)] = self.session.client(service, **kwargs)
                guard(cached)  # no call that changes the account starts once a stop signal was seen (stops.py)
            return cached

    @property
    def cloudformation(self) -> Any:
        return self.client("cloudformation")

    @property
    def cloudformation_once(self) -> Any:
        """CloudFormation without automatic retries: ExecuteChangeSet only (see changesets.execute)."""
        return self.client("cloudformation", attempts=1)

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def ssm(self) -> Any:
        return self.client("ssm")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    def __repr__(self) -> str:
        return f"AwsClients(region={self.region!r}, endpoint_url={self.endpoint_url!r}, max_attempts={self.max_attempts})"


def _assume_role_session(
    base: boto3.session.Session,
    region: str,
    role_arn: str,
    external_id: str | None,
    endpoint_url: str | None,
    max_attempts: int,
) -> boto3.session.Session:
    """A session whose credentials come from ``sts:AssumeRole`` and refresh themselves before expiry
    (a production deploy that creates an endpoint can outlive one-hour credentials)."""
    kwargs: dict[str, Any] = {"region_name": region, "config": client_config(max_attempts)}
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    sts = base.client("sts", **kwargs)
    request: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": f"mmtool-deploy-{os.getpid()}"}
    if external_id:
        request["ExternalId"] = external_id

    def fetch() -> dict[str, str]:
        try:
            creds = sts.assume_role(**request)["Credentials"]
        except AWS_ERRORS as exc:
            raise aws_error(
                exc,
                action=f"assume role {role_arn}",
                next_step="Next: check that your credentials may call sts:AssumeRole on this role, that its trust "
                "policy allows you, and the external id in params/<env>.yaml.",
            ) from exc
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    botocore_session = botocore.session.get_session()
    # botocore has no public setter for ready-made refreshable credentials; this is the documented pattern.
    botocore_session._credentials = credentials  # noqa: SLF001
    return boto3.session.Session(botocore_session=botocore_session, region_name=region)


def make_clients(
    region: str,
    *,
    assume_role_arn: str | None = None,
    external_id: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> AwsClients:
    """Clients for one environment. Nothing is called yet except, with a role, ``sts:AssumeRole``."""
    try:
        base = boto3.session.Session(profile_name=profile, region_name=region)
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="open the AWS session") from exc
    session = base
    if assume_role_arn:
        session = _assume_role_session(base, region, assume_role_arn, external_id, endpoint_url, max_attempts)
    return AwsClients.from_session(
        session, region, endpoint_url=endpoint_url, max_attempts=max_attempts, assumed_role=assume_role_arn
    )


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str


def caller_identity(clients: AwsClients) -> Identity:
    try:
        response = clients.sts.get_caller_identity()
    except AWS_ERRORS as exc:
        raise aws_error(exc, action="check the AWS account (sts:GetCallerIdentity)", nothing_changed=True) from exc
    return Identity(account=response["Account"], arn=response["Arn"])


def check_account(clients: AwsClients, expected: str | None, *, skip: bool = False) -> Identity:
    """The caller's account must be the one the params file names; checked before any change. Not against the
    local moto server of `make local-up` (deployer/local.py), which answers as an account of its own."""
    from .local import local_endpoint

    identity = caller_identity(clients)
    if expected and identity.account != expected and not skip and not local_endpoint(getattr(clients, "endpoint_url", None)):
        raise RefusedError(
            f"wrong AWS account: the credentials belong to {identity.account} ({identity.arn}), but the "
            f"environment expects {expected} (account_id in params). Nothing was changed.\n"
            "Next: switch credentials (AWS_PROFILE=... or deploy.assume_role_arn), or fix account_id in params."
        )
    return identity
